/**
 * ios.DistributionCertificate's provider `check` (and the App Store Connect access every iOS
 * resource checks), called as the Pulumi engine calls it. The .p12 files are made as a developer
 * makes them: a key and CSR from openssl, the certificate from the sandbox's Apple CA (WWDR), the
 * .p12 from `openssl pkcs12 -export`. Nothing may reach the store, and no secret any reason.
 */
import * as fs from "fs";
import * as path from "path";
import * as forge from "node-forge";
import { provider as certificateProvider } from "../../provider/resources/ios/distribution-certificate";
import { provider as profileProvider } from "../../provider/resources/ios/provisioning-profile";
import { UNKNOWN } from "../../provider/rules/unknown";
import { createCaMaterial, issueDeveloperCertificate } from "../../sandbox/ca";
import type { CaMaterial } from "../../sandbox/ca";
import { describeWithTools, makeTempDir, openssl } from "../support/tools";
import { expectNoSecretIn, expectStoreUntouched, freshStore, runCheck, secretChunks } from "./check-support";
import type { FreshStore } from "./check-support";

jest.setTimeout(120_000);

const TEAM = "ABCDE12345";
const P12_PASSWORD = "p12-export-pw-3310";
const DAY = 86_400_000;

interface Apple {
  issuerId: string;
  keyId: string;
  privateKey: string;
  teamId: string;
  baseUrl?: string;
}

describeWithTools(["openssl"], "ios.DistributionCertificate check", () => {
  let tmp: { dir: string; cleanup: () => void };
  let ca: CaMaterial;
  let ascKey: string;
  const p12: Record<"current" | "development" | "expired", string> = { current: "", development: "", expired: "" };

  /** A key and CSR by openssl, a certificate by the sandbox's WWDR, a .p12 by openssl. Base64. */
  async function identity(name: string, certificateType: string, issuedAt: Date): Promise<string> {
    const at = (f: string) => path.join(tmp.dir, `${name}.${f}`);
    await openssl(["req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", at("key"), "-out", at("csr"), "-subj", `/emailAddress=dev@acme.test/CN=${name}/C=US`]);
    const csr = forge.pki.certificationRequestFromPem(fs.readFileSync(at("csr"), "utf8"));
    const issued = issueDeveloperCertificate(ca, { csr, certificateType, teamId: TEAM, teamName: "Acme Inc", now: issuedAt });
    fs.writeFileSync(at("cer"), issued.der);
    await openssl(["x509", "-inform", "DER", "-in", at("cer"), "-out", at("pem")]);
    await openssl(["pkcs12", "-export", "-inkey", at("key"), "-in", at("pem"), "-name", name, "-out", at("p12"), "-passout", "env:P12PW"], { env: { P12PW: P12_PASSWORD } });
    return fs.readFileSync(at("p12")).toString("base64");
  }

  beforeAll(async () => {
    tmp = makeTempDir("appsigning-p12-");
    ca = createCaMaterial();
    p12.current = await identity("current", "DISTRIBUTION", new Date(Date.now() - 10 * DAY));
    p12.development = await identity("development", "DEVELOPMENT", new Date(Date.now() - 10 * DAY));
    // Apple certificates last one year: issued two years ago, it has expired.
    p12.expired = await identity("expired", "DISTRIBUTION", new Date(Date.now() - 730 * DAY));
    const asc = path.join(tmp.dir, "AuthKey_ASC1234567.p8");
    await openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", asc]);
    ascKey = fs.readFileSync(asc, "utf8");
  });
  afterAll(() => tmp.cleanup());

  let s: FreshStore;
  beforeEach(() => {
    s = freshStore();
  });
  afterEach(() => s.cleanup());

  const apple = (extra: Partial<Apple> = {}): Apple => ({ issuerId: "69a6de70-03db-47e3-e053-5b8c7c11a4d1", keyId: "ASC1234567", privateKey: ascKey, teamId: TEAM, ...extra });
  const certificateInputs = (extra: Record<string, unknown> = {}) => ({
    store: s.store,
    apple: apple(),
    certificateType: "DISTRIBUTION",
    renewBeforeDays: 30,
    revokeOnDelete: false,
    certificateLimit: 2,
    name: "acme/prod/dist",
    owner: "acme/prod/dist",
    ...extra,
  });
  const secrets = () => [P12_PASSWORD, "wrong-p12-pw", ...secretChunks(ascKey), ...Object.values(p12).flatMap((b) => secretChunks(b).slice(0, 6))];

  test("a current Apple Distribution .p12 passes; the checked inputs hold digests of the .p12, its password and the API key", async () => {
    const { inputs, failures } = await runCheck(certificateProvider, certificateInputs({ import: { p12: p12.current, password: P12_PASSWORD } }));
    expect(failures).toEqual([]);
    const checked = inputs as ReturnType<typeof certificateInputs> & { import: { p12: string; password: string } };
    expect(checked.import.p12).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(checked.import.password).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(checked.apple.privateKey).toMatch(/^sha256:[0-9a-f]{64}$/);
    const json = JSON.stringify(inputs);
    for (const secret of secrets()) expect(json).not.toContain(secret);
    await expectStoreUntouched(s);
  });

  const bad: Array<[string, () => Record<string, unknown>, string, RegExp]> = [
    ["a development certificate", () => ({ import: { p12: p12.development, password: P12_PASSWORD } }), "import.p12", /certificate "Apple Development: Acme Inc \(ABCDE12345\)" is not a distribution certificate/],
    ["an expired distribution certificate", () => ({ import: { p12: p12.expired, password: P12_PASSWORD } }), "import.p12", /The \.p12's certificate \(serial [0-9A-F]+\) expired on \d{4}-\d{2}-\d{2}/],
    ["a wrong .p12 password", () => ({ import: { p12: p12.current, password: "wrong-p12-pw" } }), "import.password", /did not open with the password given: wrong password/],
    ["a file that is not a .p12", () => ({ import: { p12: Buffer.from(ascKey).toString("base64"), password: P12_PASSWORD } }), "import.p12", /is not a readable PKCS#12/],
  ];
  for (const [what, extra, property, reason] of bad) {
    test(`import refused at check: ${what} -> ${property}`, async () => {
      const { inputs, failures } = await runCheck(certificateProvider, certificateInputs(extra()));
      expect(failures).toEqual([{ property, reason: expect.stringMatching(reason) }]);
      expectNoSecretIn(failures, secrets());
      expect(JSON.stringify(inputs)).not.toContain(P12_PASSWORD);
      await expectStoreUntouched(s);
    });
  }

  const badApple: Array<[string, Partial<Apple>, string, RegExp]> = [
    ["an issuer ID that is not a UUID", { issuerId: "69a6de70-03db-47e3" }, "apple.issuerId", /The apple\.issuerId "69a6de70-03db-47e3" is not an App Store Connect issuer ID \(a UUID\)/],
    ["a key ID of the wrong shape", { keyId: "asc-key" }, "apple.keyId", /The apple\.keyId "asc-key" is not an Apple key ID/],
    ["a team ID of the wrong shape", { teamId: "ACME" }, "apple.teamId", /The apple\.teamId "ACME" is not an Apple team ID/],
    ["a .p8 that is the key's bare base64", { privateKey: "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg" }, "apple.privateKey", /apple\.privateKey is not a PKCS#8 PEM private key/],
    ["a base URL that is not http(s)", { baseUrl: "api.appstoreconnect.apple.com" }, "apple.baseUrl", /is not an http\(s\) URL/],
  ];
  for (const [what, appleExtra, property, reason] of badApple) {
    test(`apple access refused at check: ${what} -> ${property}`, async () => {
      const { failures } = await runCheck(certificateProvider, certificateInputs({ apple: apple(appleExtra) }));
      expect(failures).toEqual([{ property, reason: expect.stringMatching(reason) }]);
      expectNoSecretIn(failures, secrets());
      await expectStoreUntouched(s);
    });
  }

  test("the API key must be an EC P-256 .p8: an RSA key is refused on apple.privateKey", async () => {
    const rsa = path.join(tmp.dir, "rsa.pem");
    await openssl(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", rsa]);
    const rsaPem = fs.readFileSync(rsa, "utf8");
    const { failures } = await runCheck(certificateProvider, certificateInputs({ apple: apple({ privateKey: rsaPem }) }));
    expect(failures).toEqual([{ property: "apple.privateKey", reason: expect.stringMatching(/is a rsa key; Apple \.p8 keys are EC P-256/) }]);
    expectNoSecretIn(failures, secretChunks(rsaPem));
  });

  test("every bad field at once: one failure per field, no secret anywhere", async () => {
    const { failures } = await runCheck(
      certificateProvider,
      certificateInputs({
        apple: apple({ issuerId: "nope", keyId: "nope", teamId: "nope", privateKey: "nope" }),
        certificateType: "DEVELOPMENT",
        renewBeforeDays: -1,
        certificateLimit: 0,
        import: { p12: p12.current, password: "wrong-p12-pw" },
      }),
    );
    expect(failures.map((f) => f.property).sort()).toEqual(
      ["apple.issuerId", "apple.keyId", "apple.privateKey", "apple.teamId", "certificateLimit", "certificateType", "import.password", "renewBeforeDays"].sort(),
    );
    expectNoSecretIn(failures, secrets());
    await expectStoreUntouched(s);
  });

  test("a missing apple input is refused on apple", async () => {
    const { failures } = await runCheck(certificateProvider, certificateInputs({ apple: undefined }));
    expect(failures).toEqual([{ property: "apple", reason: expect.stringMatching(/apple is required/) }]);
  });

  test("a .p12 given while its password is unknown (preview) is not checked yet, but is already only a digest", async () => {
    const { inputs, failures } = await runCheck(certificateProvider, certificateInputs({ import: { p12: p12.current, password: UNKNOWN } }));
    expect(failures).toEqual([]);
    const checked = inputs as unknown as { import: { p12: string; password: string } };
    expect(checked.import.p12).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(checked.import.password).toBe(UNKNOWN);
  });

  test("ios.ProvisioningProfile checks the same apple access, and its own fields", async () => {
    const { failures } = await runCheck(profileProvider, {
      store: s.store,
      apple: apple({ issuerId: "not-a-uuid" }),
      bundleId: "com.acme/app",
      type: "IOS_APP_ADHOC",
      certificate: { certificateId: "CERT1", serialNumber: "0A1B" },
      devices: [],
      createBundleId: true,
      renewBeforeDays: 30,
      deleteOnDelete: false,
      name: "acme/prod/adhoc",
      owner: "acme/prod/adhoc",
    });
    expect(failures.map((f) => f.property).sort()).toEqual(["apple.issuerId", "bundleId", "devices"]);
    expect(failures.find((f) => f.property === "devices")?.reason).toMatch(/IOS_APP_ADHOC profile needs devices/);
    await expectStoreUntouched(s);
  });
});
