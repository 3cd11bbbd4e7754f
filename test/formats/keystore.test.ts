import { readdirSync, readFileSync, writeFileSync } from "fs";
import { join } from "path";
import { InvalidCredentialInput } from "../../provider/errors";
import {
  detectKeystoreFormat,
  generateKeystore,
  KeystoreFormat,
  openKeystore,
  OpenKeystoreOptions,
  writeKeystore,
} from "../../provider/formats/keystore";
import { certificateFacts, pemToDer } from "../../provider/formats/x509";
import { minimalUnsignedApk } from "../support/apk";
import {
  describeWithTools,
  keytool,
  keytoolGenerate,
  keytoolListVerbose,
  keytoolSha256Fingerprints,
  run,
  signAndVerifyApk,
  toApksignerHex,
  withTempDir,
} from "../support/tools";
import { inputFailure } from "../support/errors";

const failure = inputFailure;

const dname = { cn: "Acme Upload", ou: "Mobile", o: "Acme Inc", c: "US" };

describe("generating a keystore", () => {
  it("defaults to PKCS12, RSA 2048, 10000 days, and one random 32-hex password for store and key", () => {
    const now = new Date("2026-11-28T00:00:00Z");
    const ks = generateKeystore({ alias: "upload", dname, now });
    expect(ks.format).toBe("PKCS12");
    expect(ks.keySize).toBe(2048);
    expect(ks.keyAlgorithm).toBe("rsa");
    expect(ks.storePassword).toMatch(/^[0-9a-f]{32}$/);
    expect(ks.keyPassword).toBe(ks.storePassword);
    expect(ks.notBefore).toBe("2026-11-28T00:00:00.000Z");
    expect(ks.notAfter).toBe(new Date(now.getTime() + 10000 * 86400e3).toISOString());
    expect(detectKeystoreFormat(ks.file)).toBe("PKCS12");
  });

  it("gives JKS separate random store and key passwords", () => {
    const ks = generateKeystore({ alias: "upload", dname, format: "JKS" });
    expect(ks.format).toBe("JKS");
    expect(ks.storePassword).toMatch(/^[0-9a-f]{32}$/);
    expect(ks.keyPassword).toMatch(/^[0-9a-f]{32}$/);
    expect(ks.keyPassword).not.toBe(ks.storePassword);
    expect(detectKeystoreFormat(ks.file)).toBe("JKS");
  });

  it("gives a JKS key the store password when only the store password is given, as keytool does", () => {
    const ks = generateKeystore({ alias: "upload", dname, format: "JKS", storePassword: "chosen-store-password" });
    expect(ks.keyPassword).toBe("chosen-store-password");
    expect(openKeystore(ks.file, { storePassword: "chosen-store-password", alias: "upload" }).alias).toBe("upload");
  });

  it("outputs the certificate PEM with the fingerprints, subject and validity of that certificate", () => {
    const ks = generateKeystore({ alias: "upload", dname, validityYears: 30, now: new Date("2026-01-01T00:00:00Z") });
    const facts = certificateFacts(ks.certificatePem);
    expect(ks.fingerprints).toEqual(facts.fingerprints);
    expect(ks.certificateDer.equals(facts.der)).toBe(true);
    expect(ks.subject).toBe("CN=Acme Upload, OU=Mobile, O=Acme Inc, C=US");
    expect(ks.notAfter).toBe("2056-01-01T00:00:00.000Z");
    expect(facts.selfSigned).toBe(true);
  });

  it("opens again with its own passwords and gives the same certificate", () => {
    for (const format of ["PKCS12", "JKS"] as const) {
      const ks = generateKeystore({ alias: "upload", dname, format });
      const opened = openKeystore(ks.file, { storePassword: ks.storePassword, keyPassword: ks.keyPassword, alias: "upload" });
      expect(opened.format).toBe(format);
      expect(opened.fingerprints).toEqual(ks.fingerprints);
      expect(opened.certificatePem).toBe(ks.certificatePem);
    }
  });

  it("refuses a PKCS12 key password different from the store password, naming keyPassword", () => {
    const e = failure(() => generateKeystore({ alias: "upload", dname, storePassword: "store-secret", keyPassword: "key-secret" }));
    expect(e.field).toBe("keyPassword");
    expect(e.message).toMatch(/PKCS12 keystore cannot have a key password different from its store password/);
    expect(e.message).not.toMatch(/store-secret|key-secret/);
  });

  it.each<[string, Parameters<typeof generateKeystore>[0], string]>([
    ["an unknown format", { alias: "a", dname, format: "BKS" as KeystoreFormat }, "format"],
    ["a 1024-bit key", { alias: "a", dname, keySize: 1024 as 2048 }, "keySize"],
    ["an empty alias", { alias: " ", dname }, "alias"],
    ["no common name", { alias: "a", dname: { cn: "" } }, "dname.cn"],
    ["a three-letter country", { alias: "a", dname: { cn: "Acme", c: "USA" } }, "dname.c"],
    ["both validityYears and notAfter", { alias: "a", dname, validityYears: 30, notAfter: "2060-01-01" }, "notAfter"],
    ["a notAfter that is not a date", { alias: "a", dname, notAfter: "soon" }, "notAfter"],
    ["a notAfter in the past", { alias: "a", dname, notAfter: "2001-01-01" }, "notAfter"],
    ["a fractional validityYears", { alias: "a", dname, validityYears: 25.5 }, "validityYears"],
    ["a 5-character store password", { alias: "a", dname, storePassword: "abcde" }, "storePassword"],
    ["a non-ASCII key password", { alias: "a", dname, format: "JKS", keyPassword: "mot-de-passé" }, "keyPassword"],
  ])("refuses %s, naming the field", (_what, input, field) => {
    expect(failure(() => generateKeystore(input)).field).toBe(field);
  });

  it("writes a keystore from existing material only when the certificate belongs to the key", () => {
    const a = generateKeystore({ alias: "a", dname });
    const b = openKeystore(generateKeystore({ alias: "b", dname, storePassword: "b-password" }).file, { storePassword: "b-password", alias: "b" });
    const e = failure(() =>
      writeKeystore({ format: "JKS", alias: "x", privateKey: b.privateKey, certificates: [a.certificateDer], storePassword: "x-password" }),
    );
    expect(e.field).toBe("certificates");
  });
});

describeWithTools(["keytool", "apksigner"], "generated keystores with keytool and apksigner", () => {
  const cases: Array<[KeystoreFormat, 2048 | 4096]> = [
    ["PKCS12", 2048],
    ["JKS", 2048],
    ["PKCS12", 4096],
    ["JKS", 4096],
  ];

  it.each(cases)(
    "a generated %s keystore with a %i-bit key lists in keytool and signs an APK that apksigner verifies with our SHA-256",
    async (format, keySize) => {
      const ks = generateKeystore({ alias: "upload", dname, keySize, format });
      await withTempDir(async (dir) => {
        const path = join(dir, format === "JKS" ? "upload.jks" : "upload.p12");
        writeFileSync(path, ks.file);

        const listing = await keytoolListVerbose(path, ks.storePassword, format);
        expect(listing).toMatch(new RegExp(`Keystore type: ${format}`));
        expect(listing).toMatch(/Alias name: upload/);
        expect(listing).toMatch(/Entry type: PrivateKeyEntry/);
        expect(listing).toMatch(/Owner: CN=Acme Upload, OU=Mobile, O=Acme Inc, C=US/);
        expect(listing).toMatch(/Signature algorithm name: SHA256withRSA/);
        expect(listing).toMatch(new RegExp(`Subject Public Key Algorithm: ${keySize}-bit RSA key`));
        expect(keytoolSha256Fingerprints(listing)).toEqual([ks.fingerprints.sha256]);

        // What Play Console asks for: `keytool -export -rfc` gives the same certificate as our output.
        const exported = await keytool(["-exportcert", "-rfc", "-keystore", path, "-alias", "upload", "-storepass:env", "APPSIGNING_TEST_SP"], {
          env: { APPSIGNING_TEST_SP: ks.storePassword },
        });
        expect(pemToDer(exported)?.equals(pemToDer(ks.certificatePem) as Buffer)).toBe(true);

        const verified = await signAndVerifyApk({
          dir,
          keystorePath: path,
          alias: ks.alias,
          storePassword: ks.storePassword,
          keyPassword: ks.keyPassword,
          storeType: format,
        });
        expect(verified.signerSha256).toBe(toApksignerHex(ks.fingerprints.sha256));
        expect(verified.output).toContain(`Signer #1 certificate SHA-1 digest: ${toApksignerHex(ks.fingerprints.sha1)}`);
        expect(verified.output).toContain(`Signer #1 certificate MD5 digest: ${toApksignerHex(ks.fingerprints.md5)}`);
        expect(verified.output).toContain(`Signer #1 key size (bits): ${keySize}`);
        expect(verified.schemes).toEqual(expect.arrayContaining(["v1 scheme", "v2 scheme", "v3 scheme"]));
      });
    },
  );

  it("apksigner refuses a generated JKS when given the store password as key password (the passwords really differ)", async () => {
    const ks = generateKeystore({ alias: "upload", dname, format: "JKS" });
    await withTempDir(async (dir) => {
      const path = join(dir, "upload.jks");
      writeFileSync(path, ks.file);
      await expect(
        signAndVerifyApk({ dir, keystorePath: path, alias: "upload", storePassword: ks.storePassword, keyPassword: ks.storePassword, storeType: "JKS" }),
      ).rejects.toThrow(/apksigner/);
    });
  });
});

describeWithTools(["keytool", "apksigner"], "importing keystores made by keytool", () => {
  const STORE = "fixture-store-pass";
  const KEY = "fixture-key-pass";

  async function fixture(dir: string, storeType: KeystoreFormat, alias = "release"): Promise<{ path: string; sha256: string; bytes: Buffer }> {
    const path = join(dir, storeType === "JKS" ? "fixture.jks" : "fixture.p12");
    await keytoolGenerate({ path, storeType, alias, storePassword: STORE, keyPassword: storeType === "JKS" ? KEY : undefined });
    const [sha256] = keytoolSha256Fingerprints(await keytoolListVerbose(path, STORE, storeType));
    return { path, sha256, bytes: readFileSync(path) };
  }

  it.each<[KeystoreFormat, KeystoreFormat]>([
    ["JKS", "PKCS12"],
    ["PKCS12", "JKS"],
  ])("a keytool %s imports with keytool's fingerprint and round-trips through %s to a keystore keytool and apksigner accept", async (source, target) => {
    await withTempDir(async (dir) => {
      const { bytes, sha256 } = await fixture(dir, source);
      const keyPassword = source === "JKS" ? KEY : STORE;
      const opened = openKeystore(bytes, { storePassword: STORE, keyPassword, alias: "RELEASE", format: source });
      expect(opened.format).toBe(source);
      expect(opened.alias).toBe("release");
      expect(opened.aliases).toEqual(["release"]);
      expect(opened.fingerprints.sha256).toBe(sha256);
      expect(opened.keySize).toBe(2048);
      expect(opened.subject).toBe("CN=Keytool Fixture, O=Appsigning Tests, C=US");

      const newStore = "round-trip-store";
      const newKey = target === "JKS" ? "round-trip-key" : newStore;
      const file = writeKeystore({ format: target, alias: opened.alias, privateKey: opened.privateKey, certificates: opened.chain, storePassword: newStore, keyPassword: newKey });
      const path = join(dir, target === "JKS" ? "round-trip.jks" : "round-trip.p12");
      writeFileSync(path, file);
      expect(keytoolSha256Fingerprints(await keytoolListVerbose(path, newStore, target))).toEqual([sha256]);
      const verified = await signAndVerifyApk({ dir, keystorePath: path, alias: "release", storePassword: newStore, keyPassword: newKey, storeType: target });
      expect(verified.signerSha256).toBe(toApksignerHex(sha256));
      expect(openKeystore(file, { storePassword: newStore, keyPassword: newKey, alias: "release" }).fingerprints.sha256).toBe(sha256);
    });
  });

  it("each failure is a distinct, clear error on its own field, with no secret in it and nothing written", async () => {
    await withTempDir(async (dir) => {
      const jks = await fixture(dir, "JKS");
      const p12 = await fixture(dir, "PKCS12");
      writeFileSync(join(dir, "app.apk"), minimalUnsignedApk());
      const before = readdirSync(dir).sort();
      const pem = Buffer.from(certificateFacts(openKeystore(p12.bytes, { storePassword: STORE, alias: "release" }).certificateDer).pem);

      const attempt = (file: Buffer, options: Partial<OpenKeystoreOptions>) =>
        failure(() => openKeystore(file, { storePassword: STORE, alias: "release", ...options }));
      const cases: Array<[string, InvalidCredentialInput, string, RegExp]> = [
        ["JKS wrong store password", attempt(jks.bytes, { storePassword: "not-the-store-pass", keyPassword: KEY }), "storePassword", /wrong store password/],
        ["PKCS12 wrong store password", attempt(p12.bytes, { storePassword: "not-the-store-pass" }), "storePassword", /wrong store password/],
        ["JKS wrong key password", attempt(jks.bytes, { keyPassword: "not-the-key-pass" }), "keyPassword", /wrong key password/],
        ["PKCS12 wrong key password", attempt(p12.bytes, { keyPassword: "not-the-key-pass" }), "keyPassword", /key password is wrong/],
        ["JKS key password left out", attempt(jks.bytes, {}), "keyPassword", /not protected by the store password, and no keyPassword was given/],
        ["JKS missing alias", attempt(jks.bytes, { alias: "upload", keyPassword: KEY }), "alias", /no entry with alias "upload". Aliases present: "release"/],
        ["PKCS12 missing alias", attempt(p12.bytes, { alias: "upload" }), "alias", /no entry with alias "upload". Aliases present: "release"/],
        ["JKS truncated", attempt(jks.bytes.subarray(0, jks.bytes.length - 300), { keyPassword: KEY }), "keystore", /JKS keystore is truncated/],
        ["PKCS12 truncated", attempt(p12.bytes.subarray(0, p12.bytes.length - 300), {}), "keystore", /keystore is truncated: it holds/],
        ["an APK", attempt(readFileSync(join(dir, "app.apk")), {}), "keystore", /not a keystore: it is neither JKS/],
        ["a PEM certificate", attempt(pem, {}), "keystore", /not a keystore: it is PEM text/],
        ["an empty file", attempt(Buffer.alloc(0), {}), "keystore", /not a keystore: the file is empty/],
        ["a DER certificate", attempt(pemToDer(pem.toString()) as Buffer, {}), "keystore", /not a readable PKCS#12: it is DER but not a PKCS#12 PFX/],
        ["a format mismatch", attempt(p12.bytes, { format: "JKS" }), "format", /keystore is PKCS12, not JKS/],
      ];
      for (const [what, error, field, message] of cases) {
        expect([what, error.field]).toEqual([what, field]);
        expect([what, error.message]).toEqual([what, expect.stringMatching(message)]);
        for (const secret of [STORE, KEY, "not-the-store-pass", "not-the-key-pass"]) {
          expect([what, error.message.includes(secret)]).toEqual([what, false]);
        }
      }
      // Within one format (and among the not-a-keystore cases) no two failures read alike.
      for (const group of [/^JKS /, /^PKCS12 /, /^(an?|a format) /]) {
        const messages = cases.filter(([what]) => group.test(what)).map(([, e]) => e.message);
        expect(new Set(messages).size).toBe(messages.length);
      }
      expect(readdirSync(dir).sort()).toEqual(before);
    });
  });

  it("says an alias that names a trusted certificate holds no private key", async () => {
    await withTempDir(async (dir) => {
      const { path } = await fixture(dir, "JKS");
      const certPath = join(dir, "other.pem");
      writeFileSync(certPath, generateKeystore({ alias: "x", dname }).certificatePem);
      await run("keytool", ["-importcert", "-noprompt", "-keystore", path, "-alias", "partner-ca", "-file", certPath, "-storepass:env", "APPSIGNING_TEST_SP"], {
        env: { APPSIGNING_TEST_SP: STORE },
      });
      const file = readFileSync(path);
      const e = failure(() => openKeystore(file, { storePassword: STORE, keyPassword: KEY, alias: "partner-ca" }));
      expect(e.field).toBe("alias");
      expect(e.message).toMatch(/"partner-ca" holds only a trusted certificate, no private key/);
      const missing = failure(() => openKeystore(file, { storePassword: STORE, keyPassword: KEY, alias: "nope" }));
      expect(missing.message).toMatch(/Aliases present: (("release", "partner-ca")|("partner-ca", "release"))/);
    });
  });
});
