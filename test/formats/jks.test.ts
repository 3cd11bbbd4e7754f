import { generateKeyPairSync } from "crypto";
import { readFileSync, writeFileSync } from "fs";
import { join } from "path";
import { isJks, JKS_MAGIC, readJks, recoverJksKey, writeJks } from "../../provider/formats/jks";
import { certificateFacts, certificateMatchesKey, createSelfSignedCertificate, toPem } from "../../provider/formats/x509";
import {
  describeWithTools,
  keytool,
  keytoolGenerate,
  keytoolListVerbose,
  keytoolSha256Fingerprints,
  run,
  ToolFailed,
  withTempDir,
} from "../support/tools";
import { inputFailure } from "../support/errors";

const STORE_PASSWORD = "jks-store-password";
const KEY_PASSWORD = "jks-key-password";
const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const certificate = createSelfSignedCertificate({
  privateKey,
  subject: { cn: "JKS Test", o: "Appsigning", c: "US" },
  notBefore: new Date("2026-11-28T00:00:00Z"),
  notAfter: new Date("2054-04-15T00:00:00Z"),
});
const created = new Date("2026-11-28T12:34:56.789Z");
const jks = writeJks({ alias: "upload", privateKey, certificates: [certificate], storePassword: STORE_PASSWORD, keyPassword: KEY_PASSWORD, date: created });

const failure = inputFailure;

describe("the JKS writer and reader", () => {
  it("writes magic 0xFEEDFEED, version 2 and one entry", () => {
    expect(jks.readUInt32BE(0)).toBe(JKS_MAGIC);
    expect(jks.readUInt32BE(4)).toBe(2);
    expect(jks.readUInt32BE(8)).toBe(1);
    expect(isJks(jks)).toBe(true);
  });

  it("reads back through jks-js: alias, date, exact certificate, and the key with its own password", () => {
    const [entry, ...rest] = readJks(jks, { storePassword: STORE_PASSWORD });
    expect(rest).toHaveLength(0);
    expect(entry.alias).toBe("upload");
    expect(entry.type).toBe("PrivateKeyEntry");
    expect(entry.date.getTime()).toBe(created.getTime());
    expect(entry.certificates[0].equals(certificate)).toBe(true);
    const key = recoverJksKey(entry, KEY_PASSWORD);
    expect(certificateMatchesKey(certificate, key)).toBe(true);
  });

  it("is also readable by jks-js's own toPem, independently of our walk", () => {
    const jksJs = require("jks-js") as typeof import("jks-js");
    const pem = jksJs.toPem(jks, STORE_PASSWORD, KEY_PASSWORD);
    expect(Object.keys(pem)).toEqual(["upload"]);
    expect(certificateFacts(pem.upload.cert as string).fingerprints).toEqual(certificateFacts(certificate).fingerprints);
  });

  it("says 'wrong store password' when the integrity hash does not match", () => {
    const e = failure(() => readJks(jks, { storePassword: "wrong-store-password" }));
    expect(e.field).toBe("storePassword");
    expect(e.message).toMatch(/wrong store password \(integrity check failed\)/);
    expect(e.message).not.toContain("wrong-store-password");
  });

  it("says 'wrong key password' when the key does not decrypt, naming the entry", () => {
    const [entry] = readJks(jks, { storePassword: STORE_PASSWORD });
    const e = failure(() => recoverJksKey(entry, STORE_PASSWORD));
    expect(e.field).toBe("keyPassword");
    expect(e.message).toMatch(/key of entry "upload" did not decrypt with the key password given: wrong key password/);
  });

  it.each([3, 12, 40, 200, 0.5, -1])("says 'truncated' for the file cut at %p", (cut) => {
    const length = cut === -1 ? jks.length - 1 : cut < 1 ? Math.floor(jks.length * cut) : cut;
    const e = failure(() => readJks(jks.subarray(0, length), { storePassword: STORE_PASSWORD }));
    expect(e.field).toBe("keystore");
    expect(e.message).toMatch(/is truncated/);
  });

  it("says 'not a JKS' for other bytes, JCEKS and trailing garbage, each differently", () => {
    const jceks = Buffer.from(jks);
    jceks.writeUInt32BE(0xcececece, 0);
    const messages = [
      failure(() => readJks(Buffer.from("PK\u0003\u0004 a zip file, not a keystore"), { storePassword: STORE_PASSWORD })).message,
      failure(() => readJks(jceks, { storePassword: STORE_PASSWORD })).message,
      failure(() => readJks(Buffer.concat([jks, Buffer.from([1, 2, 3])]), { storePassword: STORE_PASSWORD })).message,
      failure(() => readJks(Buffer.alloc(0), { storePassword: STORE_PASSWORD })).message,
    ];
    expect(messages[0]).toMatch(/not a JKS keystore: it does not start with the JKS magic number 0xFEEDFEED/);
    expect(messages[1]).toMatch(/JCEKS keystore, which is not supported/);
    expect(messages[2]).toMatch(/3 unexpected bytes follow its integrity hash/);
    expect(messages[3]).toMatch(/the file is empty/);
  });
});

describeWithTools(["keytool"], "JKS files checked with keytool", () => {
  it("keytool -list -v opens our JKS with the store password and shows our certificate", async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, "ours.jks");
      writeFileSync(path, jks);
      const listing = await keytoolListVerbose(path, STORE_PASSWORD, "JKS");
      expect(listing).toMatch(/Keystore type: JKS/);
      expect(listing).toMatch(/Alias name: upload/);
      expect(listing).toMatch(/Entry type: PrivateKeyEntry/);
      expect(listing).toMatch(/Owner: CN=JKS Test, O=Appsigning, C=US/);
      expect(keytoolSha256Fingerprints(listing)).toEqual([certificateFacts(certificate).fingerprints.sha256]);
    });
  });

  it("keytool refuses our JKS with a wrong store password (our integrity hash is the one Java checks)", async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, "ours.jks");
      writeFileSync(path, jks);
      const error = await keytoolListVerbose(path, "wrong-store-password", "JKS").catch((e: ToolFailed) => e);
      expect(error).toBeInstanceOf(ToolFailed);
      expect((error as ToolFailed).message).toMatch(/Keystore was tampered with, or password was incorrect/);
    });
  });

  it("keytool recovers our key with the key password and only with it (Sun key protector)", async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, "ours.jks");
      writeFileSync(path, jks);
      const convert = (keyPassword: string, out: string) =>
        keytool(
          [
            "-importkeystore", "-noprompt",
            "-srckeystore", path, "-srcstoretype", "JKS", "-srcalias", "upload",
            "-srcstorepass:env", "APPSIGNING_TEST_SP", "-srckeypass:env", "APPSIGNING_TEST_KP",
            "-destkeystore", join(dir, out), "-deststoretype", "PKCS12", "-deststorepass:env", "APPSIGNING_TEST_SP",
          ],
          { env: { APPSIGNING_TEST_SP: STORE_PASSWORD, APPSIGNING_TEST_KP: keyPassword } },
        );
      await convert(KEY_PASSWORD, "converted.p12");
      const wrong = await convert("wrong-key-password", "never.p12").catch((e: ToolFailed) => e);
      expect(wrong).toBeInstanceOf(ToolFailed);
      expect((wrong as ToolFailed).message).toMatch(/Cannot recover key/);
      const listing = await keytoolListVerbose(join(dir, "converted.p12"), STORE_PASSWORD, "PKCS12");
      expect(keytoolSha256Fingerprints(listing)).toEqual([certificateFacts(certificate).fingerprints.sha256]);
    });
  });

  it("reads a keytool-made JKS with separate store and key passwords", async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, "keytool.jks");
      await keytoolGenerate({ path, storeType: "JKS", alias: "release", storePassword: STORE_PASSWORD, keyPassword: KEY_PASSWORD });
      const derPath = join(dir, "cert.der");
      await keytool(["-exportcert", "-keystore", path, "-storepass:env", "APPSIGNING_TEST_SP", "-alias", "release", "-file", derPath], {
        env: { APPSIGNING_TEST_SP: STORE_PASSWORD },
      });
      const [entry] = readJks(readFileSync(path), { storePassword: STORE_PASSWORD });
      expect(entry.alias).toBe("release");
      expect(entry.certificates[0].equals(readFileSync(derPath))).toBe(true);
      expect(certificateMatchesKey(entry.certificates[0], recoverJksKey(entry, KEY_PASSWORD))).toBe(true);
    });
  });

  it("lists a trusted-certificate entry as such", async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, "trust.jks");
      const certPath = join(dir, "ca.pem");
      writeFileSync(certPath, toPem(certificate));
      await run("keytool", ["-importcert", "-noprompt", "-keystore", path, "-storetype", "JKS", "-alias", "ca", "-file", certPath, "-storepass:env", "APPSIGNING_TEST_SP"], {
        env: { APPSIGNING_TEST_SP: STORE_PASSWORD },
      });
      const entries = readJks(readFileSync(path), { storePassword: STORE_PASSWORD });
      expect(entries.map((e) => [e.alias, e.type])).toEqual([["ca", "trustedCertEntry"]]);
      expect(entries[0].certificates[0].equals(certificate)).toBe(true);
    });
  });
});
