/**
 * android.Keystore's provider `check`, called as the Pulumi engine calls it: imported keystores made
 * by keytool itself are validated at preview with a precise failure on the property at fault, no
 * secret in any reason, and nothing written to the store; a good one then seals byte for byte.
 */
import * as fs from "fs";
import * as path from "path";
import { provider } from "../../provider/resources/android/keystore";
import { Vault } from "../../provider/store";
import { describeWithTools, keytool, keytoolGenerate, keytoolListVerbose, keytoolSha256Fingerprints, makeTempDir } from "../support/tools";
import type { StoreType } from "../support/tools";
import { expectNoSecretIn, expectStoreUntouched, freshStore, runCheck, secretChunks } from "./check-support";
import type { Failure, FreshStore } from "./check-support";

jest.setTimeout(120_000);

const STORE_PASSWORD = "legacy-store-pw-5521";
const KEY_PASSWORD = "legacy-key-pw-9034";
const WRONG = "not-the-password-77";

interface KeystoreInputs {
  store: { url: string; kms: string };
  role: string;
  alias: string;
  dname?: Record<string, string>;
  keySize?: number;
  validityYears?: number;
  format?: string;
  import?: { keystore: string; storePassword: string; keyPassword?: string };
  name: string;
  owner: string;
  allowReplace: boolean;
  allowDelete: boolean;
  exposeSecrets: boolean;
}

/** The inputs the Keystore class sends for `new Keystore("legacy", { store, role: "app-signing", alias, import })`. */
function importInputs(store: FreshStore, imp: KeystoreInputs["import"], extra: Partial<KeystoreInputs> = {}): KeystoreInputs {
  return {
    store: store.store,
    role: "app-signing",
    alias: "legacy",
    dname: { cn: "legacy" },
    keySize: 2048,
    import: imp,
    name: "acme/prod/legacy",
    owner: "acme/prod/legacy",
    allowReplace: false,
    allowDelete: false,
    exposeSecrets: false,
    ...extra,
  };
}

/** The inputs the class sends for a generated upload keystore. */
function generateInputs(store: FreshStore, extra: Partial<KeystoreInputs> = {}): KeystoreInputs {
  return {
    store: store.store,
    role: "upload",
    alias: "upload",
    dname: { cn: "Acme Upload", o: "Acme Inc", c: "US" },
    keySize: 2048,
    format: "PKCS12",
    name: "acme/prod/upload",
    owner: "acme/prod/upload",
    allowReplace: false,
    allowDelete: false,
    exposeSecrets: false,
    ...extra,
  };
}

const b64 = (file: string) => fs.readFileSync(file).toString("base64");

describeWithTools(["keytool"], "android.Keystore check, on keystores made by keytool", () => {
  let tmp: { dir: string; cleanup: () => void };
  let jks: string;
  let p12: string;
  let twoAliases: string;
  let shortLived: string;
  let bigKey: string;
  let certPem: string;

  beforeAll(async () => {
    tmp = makeTempDir("appsigning-ks-check-");
    const at = (name: string) => path.join(tmp.dir, name);
    jks = at("legacy.jks");
    p12 = at("legacy.p12");
    twoAliases = at("two.jks");
    shortLived = at("short.p12");
    bigKey = at("big.jks");
    certPem = at("legacy-cert.pem");
    // A legacy JKS as older Android Studio / keytool made them: its key has its own password.
    await keytoolGenerate({ path: jks, storeType: "JKS", alias: "legacy", storePassword: STORE_PASSWORD, keyPassword: KEY_PASSWORD });
    await keytoolGenerate({ path: p12, storeType: "PKCS12", alias: "legacy", storePassword: STORE_PASSWORD });
    // keytool asks for a JKS key password unless given one; these keys share the store password.
    await keytoolGenerate({ path: twoAliases, storeType: "JKS", alias: "release", storePassword: STORE_PASSWORD, keyPassword: STORE_PASSWORD });
    await keytoolGenerate({ path: twoAliases, storeType: "JKS", alias: "debug", storePassword: STORE_PASSWORD, keyPassword: STORE_PASSWORD });
    await keytoolGenerate({ path: shortLived, storeType: "PKCS12", alias: "legacy", storePassword: STORE_PASSWORD, validityDays: 365 });
    await keytoolGenerate({ path: bigKey, storeType: "JKS", alias: "Legacy", storePassword: STORE_PASSWORD, keyPassword: STORE_PASSWORD, keySize: 4096 });
    // What users mistake for the keystore: the exported certificate.
    await keytool(["-exportcert", "-rfc", "-keystore", p12, "-alias", "legacy", "-file", certPem, "-storepass:env", "SP"], { env: { SP: STORE_PASSWORD } });
  });
  afterAll(() => tmp.cleanup());

  let s: FreshStore;
  beforeEach(() => {
    s = freshStore();
  });
  afterEach(() => s.cleanup());

  const secrets = () => [STORE_PASSWORD, KEY_PASSWORD, WRONG, ...secretChunks(b64(jks)).slice(0, 8), ...secretChunks(b64(p12)).slice(0, 8)];

  for (const [format, file, keyPassword] of [
    ["JKS", () => jks, KEY_PASSWORD],
    ["PKCS12", () => p12, undefined],
  ] as Array<[StoreType, () => string, string | undefined]>) {
    test(`a ${format} made by keytool passes check without a format input; create seals that very file, with keytool's fingerprint`, async () => {
      const original = fs.readFileSync(file());
      const news = importInputs(s, { keystore: original.toString("base64"), storePassword: STORE_PASSWORD, ...(keyPassword ? { keyPassword } : {}) });
      const { inputs, failures } = await runCheck(provider, news);
      expect(failures).toEqual([]);
      // The checked inputs (what the engine keeps) hold digests, never the file or a password.
      const json = JSON.stringify(inputs);
      expect(inputs.import!.keystore).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(inputs.import!.storePassword).toMatch(/^sha256:[0-9a-f]{64}$/);
      for (const secret of secrets()) expect(json).not.toContain(secret);
      await expectStoreUntouched(s);

      const created = await provider.create!(inputs);
      const outs = created.outs as Record<string, unknown>;
      const listed = keytoolSha256Fingerprints(await keytoolListVerbose(file(), STORE_PASSWORD, format));
      expect(listed).toHaveLength(1);
      expect(outs.sha256Fingerprint).toBe(listed[0]);
      expect(outs.format).toBe(format);
      expect(outs.alias).toBe("legacy");

      // The sealed bundle is the input file, byte for byte, and keytool reads the same key from it.
      const sealed = await Vault.open(s.store).get({ name: String(outs.vaultName), kind: "android-keystore", scope: "android" });
      expect(Buffer.compare(sealed.bundle.keystore as Buffer, original)).toBe(0);
      const copy = path.join(tmp.dir, `roundtrip-${format}`);
      fs.writeFileSync(copy, sealed.bundle.keystore as Buffer);
      expect(keytoolSha256Fingerprints(await keytoolListVerbose(copy, String(sealed.bundle.storePassword), format))).toEqual(listed);
      expect(sealed.bundle.keyPassword).toBe(keyPassword ?? STORE_PASSWORD);
    });
  }

  test("an imported 4096-bit key given with a differently cased alias shows no change on the next run (no spurious, guarded replacement)", async () => {
    const news = importInputs(s, { keystore: b64(bigKey), storePassword: STORE_PASSWORD }, { alias: "LEGACY" });
    const first = await runCheck(provider, news);
    expect(first.failures).toEqual([]);
    const created = await provider.create!(first.inputs);
    expect((created.outs as Record<string, unknown>).keySize).toBe(4096);
    expect((created.outs as Record<string, unknown>).alias).toBe("legacy");
    const again = await runCheck(provider, news, first.inputs);
    const diff = await provider.diff!(created.id, created.outs, again.inputs);
    expect(diff.changes).toBe(false);
    expect(diff.replaces ?? []).toEqual([]);
  });

  interface BadCase {
    name: string;
    news: () => KeystoreInputs;
    property: string;
    reason: RegExp;
  }
  const cases: BadCase[] = [
    {
      name: "a wrong store password (JKS)",
      news: () => importInputs(s, { keystore: b64(jks), storePassword: WRONG, keyPassword: KEY_PASSWORD }),
      property: "import.storePassword",
      reason: /did not open with the store password given: wrong store password/,
    },
    {
      name: "a wrong store password (PKCS12)",
      news: () => importInputs(s, { keystore: b64(p12), storePassword: WRONG }),
      property: "import.storePassword",
      reason: /wrong store password/,
    },
    {
      name: "a wrong key password (JKS)",
      news: () => importInputs(s, { keystore: b64(jks), storePassword: STORE_PASSWORD, keyPassword: WRONG }),
      property: "import.keyPassword",
      reason: /key of entry "legacy" did not decrypt with the key password given: wrong key password/,
    },
    {
      name: "no key password for a JKS key that has its own",
      news: () => importInputs(s, { keystore: b64(jks), storePassword: STORE_PASSWORD }),
      property: "import.keyPassword",
      reason: /not protected by the store password, and no keyPassword was given/,
    },
    {
      name: "a key password different from the store password (PKCS12)",
      news: () => importInputs(s, { keystore: b64(p12), storePassword: STORE_PASSWORD, keyPassword: WRONG }),
      property: "import.keyPassword",
      reason: /in a PKCS12 keystore the key is protected by the store password/,
    },
    {
      name: "an alias the keystore does not have (the message lists those present)",
      news: () => importInputs(s, { keystore: b64(twoAliases), storePassword: STORE_PASSWORD }, { alias: "upload" }),
      property: "alias",
      reason: /no entry with alias "upload"\. Aliases present: "(release|debug)", "(release|debug)"\./,
    },
    {
      name: "a truncated JKS",
      news: () => importInputs(s, { keystore: fs.readFileSync(jks).subarray(0, 700).toString("base64"), storePassword: STORE_PASSWORD, keyPassword: KEY_PASSWORD }),
      property: "import.keystore",
      reason: /is truncated/,
    },
    {
      name: "a truncated PKCS12",
      news: () => importInputs(s, { keystore: fs.readFileSync(p12).subarray(0, 1000).toString("base64"), storePassword: STORE_PASSWORD }),
      property: "import.keystore",
      reason: /is truncated: it holds 1000 of the \d+ bytes its header announces/,
    },
    {
      name: "the exported certificate PEM instead of the keystore",
      news: () => importInputs(s, { keystore: b64(certPem), storePassword: STORE_PASSWORD }),
      property: "import.keystore",
      reason: /is not a keystore: it is PEM text/,
    },
    {
      name: "bytes that are no keystore at all",
      news: () => importInputs(s, { keystore: Buffer.from("PK\u0003\u0004 an apk, not a keystore").toString("base64"), storePassword: STORE_PASSWORD }),
      property: "import.keystore",
      reason: /is not a keystore: it is neither JKS \(magic 0xFEEDFEED\) nor PKCS12/,
    },
    {
      name: "a keystore that is not base64",
      news: () => importInputs(s, { keystore: "C:\\keys\\legacy.jks", storePassword: STORE_PASSWORD }),
      property: "import.keystore",
      reason: /import\.keystore is not base64/,
    },
    {
      name: "a keystore whose certificate ends before Play's 22 October 2033",
      news: () => importInputs(s, { keystore: b64(shortLived), storePassword: STORE_PASSWORD }),
      property: "import.keystore",
      reason: /Google Play requires the signing key's validity to end after 22 October 2033[^\n]*\n {2}-> The validity is signed into the keystore's certificate and cannot be extended/,
    },
    {
      name: "a format input that contradicts the file",
      news: () => importInputs(s, { keystore: b64(jks), storePassword: STORE_PASSWORD, keyPassword: KEY_PASSWORD }, { format: "PKCS12" }),
      property: "format",
      reason: /The keystore is JKS, not PKCS12 as its format input says/,
    },
  ];

  for (const c of cases) {
    test(`import refused at check: ${c.name} -> ${c.property}`, async () => {
      const { inputs, failures } = await runCheck(provider, c.news());
      expect(failures).toHaveLength(1);
      expect(failures[0].property).toBe(c.property);
      expect(failures[0].reason).toMatch(c.reason);
      // Every failure says what to do about it.
      expect(failures[0].reason).toMatch(/\n {2}-> \S/);
      expectNoSecretIn(failures, secrets());
      // Even a refused input leaves no secret in the inputs the engine sees.
      const json = JSON.stringify(inputs);
      for (const secret of [STORE_PASSWORD, KEY_PASSWORD, WRONG]) expect(json).not.toContain(secret);
      await expectStoreUntouched(s);
    });
  }

  test("the failures are distinct: each bad input has its own property or reason", async () => {
    const seen = new Set<string>();
    for (const c of cases) {
      const { failures } = await runCheck(provider, c.news());
      seen.add(`${failures[0].property}|${failures[0].reason.split("\n")[0].replace(/\d+/g, "N")}`);
    }
    expect(seen.size).toBe(cases.length);
  });
});

describe("android.Keystore check, generated keystores", () => {
  let s: FreshStore;
  beforeEach(() => {
    s = freshStore();
  });
  afterEach(() => s.cleanup());

  test("validityYears that ends before 22 October 2033 is refused with Play's rule", async () => {
    const { failures } = await runCheck(provider, generateInputs(s, { validityYears: 5 }));
    expect(failures).toEqual([
      {
        property: "validityYears",
        reason: expect.stringMatching(/^The certificate's validity ends on \d{4}-\d{2}-\d{2}, but Google Play requires the signing key's validity to end after 22 October 2033/),
      },
    ]);
    await expectStoreUntouched(s);
  });

  test("25 years, and the default (10000 days), pass", async () => {
    expect((await runCheck(provider, generateInputs(s, { validityYears: 25 }))).failures).toEqual([]);
    expect((await runCheck(provider, generateInputs(s))).failures).toEqual([]);
    await expectStoreUntouched(s);
  });

  test("a bad keySize, format and role are each refused on their own property", async () => {
    const { failures } = await runCheck(provider, generateInputs(s, { keySize: 1024, format: "BKS", role: "release" }));
    const byProperty = Object.fromEntries(failures.map((f: Failure) => [f.property, f.reason]));
    expect(Object.keys(byProperty).sort()).toEqual(["format", "keySize", "role"]);
    expect(byProperty.keySize).toMatch(/keySize must be 2048 or 4096 \(got 1024\)/);
    expect(byProperty.format).toMatch(/format must be "PKCS12" or "JKS" \(got "BKS"\)/);
    expect(byProperty.role).toMatch(/role must be "upload" or "app-signing" \(got "release"\)/);
    await expectStoreUntouched(s);
  });

  test("validityYears that is not a whole number of years is refused", async () => {
    const { failures } = await runCheck(provider, generateInputs(s, { validityYears: 27.5 }));
    expect(failures).toEqual([{ property: "validityYears", reason: expect.stringMatching(/whole number of years/) }]);
  });

  test("a store URL that cannot be understood is refused on store", async () => {
    const { failures } = await runCheck(provider, { ...generateInputs(s), store: { url: "ftp://nowhere", kms: "passphrase" } });
    expect(failures.map((f) => f.property)).toEqual(["store"]);
    await expectStoreUntouched(s);
  });
});
