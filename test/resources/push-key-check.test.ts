/**
 * ios.PushKey's provider `check`, called as the Pulumi engine calls it, on keys made by openssl:
 * a bad .p8 or a malformed ID fails preview on the field at fault; a good .p8 leaves the checked
 * inputs holding only its digest; nothing is written to the store.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { PKCS8_PEM_END } from "../../provider/formats/p8";
import { provider } from "../../provider/resources/ios/push-key";
import { UNKNOWN } from "../../provider/rules/unknown";
import { describeWithTools, makeTempDir, openssl } from "../support/tools";
import { expectNoSecretIn, expectStoreUntouched, freshStore, runCheck, secretChunks } from "./check-support";
import type { FreshStore } from "./check-support";

interface PushKeyInputs {
  store: { url: string; kms: string };
  teamId: string;
  keyId: string;
  p8: string;
  allowReplace: boolean;
  allowDelete: boolean;
  name: string;
  owner: string;
}

describeWithTools(["openssl"], "ios.PushKey check", () => {
  let tmp: { dir: string; cleanup: () => void };
  const keys: Record<"p256" | "p384" | "rsa" | "sec1", string> = { p256: "", p384: "", rsa: "", sec1: "" };

  beforeAll(async () => {
    tmp = makeTempDir("appsigning-p8-");
    const make = async (name: string, args: string[]) => {
      const file = path.join(tmp.dir, name);
      await openssl([...args, "-out", file]);
      return fs.readFileSync(file, "utf8");
    };
    // What Apple hands out: PKCS#8 PEM, EC P-256. And what people paste by mistake.
    keys.p256 = await make("AuthKey_KEY1234567.p8", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]);
    keys.p384 = await make("p384.p8", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"]);
    keys.rsa = await make("rsa.p8", ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]);
    keys.sec1 = await make("sec1.pem", ["ecparam", "-genkey", "-name", "prime256v1", "-noout"]);
  });
  afterAll(() => tmp.cleanup());

  let s: FreshStore;
  beforeEach(() => {
    s = freshStore();
  });
  afterEach(() => s.cleanup());

  const inputs = (extra: Partial<PushKeyInputs> = {}): PushKeyInputs => ({
    store: s.store,
    teamId: "ABCDE12345",
    keyId: "KEY1234567",
    p8: keys.p256,
    allowReplace: false,
    allowDelete: false,
    name: "acme/prod/apns",
    owner: "acme/prod/apns",
    ...extra,
  });
  const allSecrets = () => Object.values(keys).flatMap((k) => secretChunks(k));

  test("a good .p8 passes, and the checked inputs hold its sha256 digest, nowhere the key", async () => {
    const { inputs: checked, failures } = await runCheck(provider, inputs());
    expect(failures).toEqual([]);
    expect(checked.p8).toBe(`sha256:${crypto.createHash("sha256").update(keys.p256, "utf8").digest("hex")}`);
    const json = JSON.stringify(checked);
    expect(json).not.toContain("PRIVATE KEY");
    for (const chunk of secretChunks(keys.p256, 16)) expect(json).not.toContain(chunk);
    await expectStoreUntouched(s);
  });

  const badKeys: Array<[string, () => string, RegExp]> = [
    ["the key's base64 without its PEM lines", () => keys.p256.replace(/-----[A-Z ]+-----/g, "").trim(), /not a PKCS#8 PEM private key .*bare or double base64/],
    ["an SEC1 \"EC PRIVATE KEY\" PEM", () => keys.sec1, /not a PKCS#8 PEM private key/],
    ["an RSA key", () => keys.rsa, /The p8 is a rsa key; Apple \.p8 keys are EC P-256/],
    ["a P-384 key", () => keys.p384, /The p8 is an EC key on secp384r1; Apple \.p8 keys are EC P-256/],
    ["a .p8 cut short", () => `${keys.p256.slice(0, 60)}\n${PKCS8_PEM_END}\n`, /not a readable PKCS#8 private key/],
  ];
  for (const [what, p8, reason] of badKeys) {
    test(`refused at check: ${what} -> p8`, async () => {
      const { inputs: checked, failures } = await runCheck(provider, inputs({ p8: p8() }));
      expect(failures).toEqual([{ property: "p8", reason: expect.stringMatching(reason) }]);
      expectNoSecretIn(failures, allSecrets());
      expect(JSON.stringify(checked)).not.toContain(p8().slice(0, 40));
      await expectStoreUntouched(s);
    });
  }

  test("a malformed key ID fails once, on keyId (not again on p8)", async () => {
    const { failures } = await runCheck(provider, inputs({ keyId: "key-1" }));
    expect(failures).toEqual([{ property: "keyId", reason: expect.stringMatching(/The keyId "key-1" is not an Apple key ID \(10 upper-case letters or digits\)/) }]);
    await expectStoreUntouched(s);
  });

  test("a malformed team ID fails once, on teamId (not again on p8)", async () => {
    const { failures } = await runCheck(provider, inputs({ teamId: "abcde12345" }));
    expect(failures).toEqual([{ property: "teamId", reason: expect.stringMatching(/The teamId "abcde12345" is not an Apple team ID/) }]);
    await expectStoreUntouched(s);
  });

  test("a bad ID and a bad key are two failures, each on its own field", async () => {
    const { failures } = await runCheck(provider, inputs({ teamId: "TEAM", p8: keys.rsa }));
    expect(failures.map((f) => f.property).sort()).toEqual(["p8", "teamId"]);
    expectNoSecretIn(failures, allSecrets());
  });

  test("while the team ID is unknown (preview), the .p8 is still checked alone and only its digest is kept", async () => {
    const good = await runCheck(provider, inputs({ teamId: UNKNOWN }));
    expect(good.failures).toEqual([]);
    expect(good.inputs.teamId).toBe(UNKNOWN);
    expect(good.inputs.p8).toMatch(/^sha256:[0-9a-f]{64}$/);
    const bad = await runCheck(provider, inputs({ keyId: UNKNOWN, p8: keys.p384 }));
    expect(bad.failures.map((f) => f.property)).toEqual(["p8"]);
    expect(JSON.stringify(bad.inputs)).not.toContain("PRIVATE KEY");
  });

  test("an unknown .p8 (preview) is kept as unknown: neither checked nor digested", async () => {
    const { inputs: checked, failures } = await runCheck(provider, inputs({ p8: UNKNOWN }));
    expect(failures).toEqual([]);
    expect(checked.p8).toBe(UNKNOWN);
  });
});
