import { generateKeyPairSync } from "crypto";
import { readFileSync, writeFileSync } from "fs";
import { join } from "path";
import * as forge from "node-forge";
import { buildPkcs12, parsePkcs12 } from "../../provider/formats/pkcs12";
import { certificateMatchesKey, createSelfSignedCertificate, toPem } from "../../provider/formats/x509";
import { describeWithTools, keytool, keytoolGenerate, keytoolListVerbose, run, withTempDir } from "../support/tools";
import { inputFailure } from "../support/errors";

const PASSWORD = "p12-test-password";
const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const certificate = createSelfSignedCertificate({
  privateKey,
  subject: { cn: "PKCS12 Test", c: "US" },
  notBefore: new Date(),
  notAfter: new Date(Date.now() + 30 * 365 * 86400e3),
});
const aes = buildPkcs12({ privateKey, certificates: [certificate], password: PASSWORD, friendlyName: "upload", algorithm: "aes256" });
const tripleDes = buildPkcs12({ privateKey, certificates: [certificate], password: PASSWORD, friendlyName: "ios dist", algorithm: "3des" });

function forgeKey(): forge.pki.rsa.PrivateKey {
  return forge.pki.privateKeyFromPem(privateKey.export({ type: "pkcs8", format: "pem" }) as string);
}

function forgeCert(): forge.pki.Certificate {
  return forge.pki.certificateFromAsn1(forge.asn1.fromDer(certificate.toString("binary")));
}

/**
 * A PKCS#12 whose MAC uses one password and whose key bag another (Java's KeyStore API can make these):
 * forge writes the key bag without a MAC, then the MacData (RFC 7292 §4, HMAC-SHA1, PKCS#12 KDF id 3) is added.
 */
function pkcs12WithSeparateKeyPassword(macPassword: string, keyPassword: string): Buffer {
  const { asn1 } = forge;
  const pfx = forge.pkcs12.toPkcs12Asn1(forgeKey(), forgeCert(), keyPassword, { algorithm: "aes256", useMac: false });
  const authSafe = (pfx.value as forge.asn1.Asn1[])[1];
  const data = ((authSafe.value as forge.asn1.Asn1[])[1].value as forge.asn1.Asn1[])[0].value as string;
  const salt = forge.random.getBytesSync(8);
  const iterations = 2048;
  const p12 = forge.pkcs12 as unknown as {
    generateKey(password: string, salt: forge.util.ByteStringBuffer, id: number, iter: number, n: number): forge.util.ByteStringBuffer;
  };
  const macKey = p12.generateKey(macPassword, forge.util.createBuffer(salt), 3, iterations, 20);
  const hmac = forge.hmac.create();
  hmac.start("sha1", macKey.getBytes());
  hmac.update(data);
  const macData = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
        asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(forge.pki.oids.sha1).getBytes()),
        asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, ""),
      ]),
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, hmac.digest().getBytes()),
    ]),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, salt),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, asn1.integerToDer(iterations).getBytes()),
  ]);
  (pfx.value as forge.asn1.Asn1[]).push(macData);
  return Buffer.from(asn1.toDer(pfx).getBytes(), "binary");
}

/** The certificate with its outer signatureAlgorithm written without the (optional) NULL parameters. */
function withoutSignatureAlgorithmNull(der: Buffer): Buffer {
  const cert = forge.asn1.fromDer(der.toString("binary"));
  const [tbs, , signature] = cert.value as forge.asn1.Asn1[];
  const { asn1 } = forge;
  const sigAlg = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(forge.pki.oids.sha256WithRSAEncryption).getBytes()),
  ]);
  const rebuilt = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [tbs, sigAlg, signature]);
  return Buffer.from(asn1.toDer(rebuilt).getBytes(), "binary");
}

const failure = inputFailure;

describe("PKCS#12 build and parse", () => {
  it("round-trips the key, the exact certificate bytes and the friendlyName", () => {
    for (const file of [aes, tripleDes]) {
      const contents = parsePkcs12(file, { password: PASSWORD });
      expect(contents.keys).toHaveLength(1);
      expect(contents.certificates).toHaveLength(1);
      expect(contents.certificates[0].der.equals(certificate)).toBe(true);
      expect(certificateMatchesKey(certificate, contents.keys[0].privateKey)).toBe(true);
      expect(contents.keys[0].localKeyIdHex).toBe(contents.certificates[0].localKeyIdHex);
    }
    expect(parsePkcs12(aes, { password: PASSWORD }).keys[0].friendlyName).toBe("upload");
    expect(parsePkcs12(tripleDes, { password: PASSWORD }).certificates[0].friendlyName).toBe("ios dist");
  });

  it("says 'wrong password' when the MAC does not verify, blaming the password field", () => {
    const e = failure(() => parsePkcs12(aes, { password: "not-the-password", fields: { password: "p12Password" } }));
    expect(e.field).toBe("p12Password");
    expect(e.message).toMatch(/wrong password \(integrity check failed\)/);
    expect(e.message).not.toContain("not-the-password");
  });

  it("says 'truncated' for a file cut short, with the sizes", () => {
    const e = failure(() => parsePkcs12(aes.subarray(0, aes.length - 100), { password: PASSWORD }));
    expect(e.field).toBe("p12");
    expect(e.message).toMatch(/is truncated: it holds \d+ of the \d+ bytes/);
    expect(failure(() => parsePkcs12(aes.subarray(0, 1), { password: PASSWORD })).message).toMatch(/truncated/);
  });

  it("reads a BER file with an indefinite outer length, and still calls a cut copy of it truncated", () => {
    const headerLength = 2 + (aes[1] & 0x7f);
    const ber = Buffer.concat([Buffer.from([0x30, 0x80]), aes.subarray(headerLength), Buffer.from([0, 0])]);
    expect(parsePkcs12(ber, { password: PASSWORD }).certificates[0].der.equals(certificate)).toBe(true);
    expect(failure(() => parsePkcs12(ber.subarray(0, ber.length - 200), { password: PASSWORD })).message).toMatch(/is truncated/);
  });

  it("says 'not a readable PKCS#12' for a DER certificate, PEM text, other bytes and an empty file, each differently", () => {
    const messages = [
      failure(() => parsePkcs12(certificate, { password: PASSWORD })).message,
      failure(() => parsePkcs12(Buffer.from(toPem(certificate)), { password: PASSWORD })).message,
      failure(() => parsePkcs12(Buffer.concat([aes, Buffer.from([0, 0])]), { password: PASSWORD })).message,
      failure(() => parsePkcs12(Buffer.alloc(0), { password: PASSWORD })).message,
    ];
    expect(messages[0]).toMatch(/not a readable PKCS#12: it is DER but not a PKCS#12 PFX/);
    expect(messages[1]).toMatch(/not a readable PKCS#12: it does not start with a DER SEQUENCE/);
    expect(messages[2]).toMatch(/2 unexpected bytes follow/);
    expect(messages[3]).toMatch(/the file is empty/);
    expect(new Set(messages).size).toBe(messages.length);
  });

  it("tells a key bag under another password (MAC fine) from a wrong password", () => {
    const file = pkcs12WithSeparateKeyPassword("mac-password", "other-key-password");
    const e = failure(() => parsePkcs12(file, { password: "mac-password", fields: { keyPassword: "keyPassword" } }));
    expect(e.field).toBe("keyPassword");
    expect(e.message).toMatch(/opened with the password, but its private key is protected by a different password/);
    expect(failure(() => parsePkcs12(file, { password: "wrong-password" })).message).toMatch(/wrong password \(integrity check failed\)/);
  });

  it("says 'wrong password' for a file without a MAC whose key does not decrypt", () => {
    const noMac = Buffer.from(forge.asn1.toDer(forge.pkcs12.toPkcs12Asn1(forgeKey(), forgeCert(), "key-password", { algorithm: "aes256", useMac: false })).getBytes(), "binary");
    const e = failure(() => parsePkcs12(noMac, { password: PASSWORD }));
    expect(e.field).toBe("password");
    expect(e.message).toMatch(/private key did not decrypt with the password given: wrong password/);
  });

  it("refuses to write a non-RSA key, which forge cannot wrap", () => {
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
    expect(() => buildPkcs12({ privateKey: ec, certificates: [certificate], password: PASSWORD, algorithm: "aes256" })).toThrow(/only be written here for an RSA key/);
  });
});

describeWithTools(["keytool", "openssl"], "PKCS#12 files checked with keytool and OpenSSL", () => {
  it("aes256 uses PBES2 AES-256-CBC with PBKDF2-HMAC-SHA256 at 10000 iterations, and keytool lists the friendlyName as alias", async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, "aes.p12");
      writeFileSync(path, aes);
      const info = await run("openssl", ["pkcs12", "-info", "-in", path, "-noout", "-passin", "env:APPSIGNING_TEST_P"], { env: { APPSIGNING_TEST_P: PASSWORD } });
      const text = info.stdout + info.stderr;
      expect(text).toMatch(/Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration 10000, PRF hmacWithSHA256/);
      const listing = await keytoolListVerbose(path, PASSWORD, "PKCS12");
      expect(listing).toMatch(/Alias name: upload/);
      expect(listing).toMatch(/Entry type: PrivateKeyEntry/);
    });
  });

  it("3des uses pbeWithSHA1And3-KeyTripleDES-CBC and a SHA-1 MAC (what macOS keychains import), and keytool reads it", async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, "3des.p12");
      writeFileSync(path, tripleDes);
      const info = await run("openssl", ["pkcs12", "-info", "-in", path, "-noout", "-passin", "env:APPSIGNING_TEST_P"], { env: { APPSIGNING_TEST_P: PASSWORD } });
      const text = info.stdout + info.stderr;
      expect(text).toMatch(/MAC: sha1/);
      expect(text).toMatch(/Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC/);
      expect(await keytoolListVerbose(path, PASSWORD, "PKCS12")).toMatch(/Alias name: ios dist/);
    });
  });

  it("parses a keytool-made PKCS12 (SHA-256 MAC, encrypted certificate bag) to the certificate keytool exports", async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, "keytool.p12");
      await keytoolGenerate({ path, storeType: "PKCS12", alias: "upload", storePassword: PASSWORD });
      const derPath = join(dir, "cert.der");
      await keytool(["-exportcert", "-keystore", path, "-storepass:env", "APPSIGNING_TEST_SP", "-alias", "upload", "-file", derPath], {
        env: { APPSIGNING_TEST_SP: PASSWORD },
      });
      const contents = parsePkcs12(readFileSync(path), { password: PASSWORD });
      expect(contents.certificates[0].der.equals(readFileSync(derPath))).toBe(true);
      expect(contents.keys[0].friendlyName).toBe("upload");
      expect(certificateMatchesKey(contents.certificates[0].der, contents.keys[0].privateKey)).toBe(true);
    });
  });

  it("keeps a certificate's exact bytes even where forge would re-encode it (no NULL in the signature algorithm)", async () => {
    const unusual = withoutSignatureAlgorithmNull(certificate);
    expect(unusual.length).toBe(certificate.length - 2);
    expect(() => buildPkcs12({ privateKey, certificates: [unusual], password: PASSWORD, algorithm: "aes256" })).toThrow(/cannot be re-encoded byte for byte/);
    await withTempDir(async (dir) => {
      const keyPath = join(dir, "key.pem");
      const certPath = join(dir, "cert.pem");
      const p12Path = join(dir, "unusual.p12");
      writeFileSync(keyPath, privateKey.export({ type: "pkcs8", format: "pem" }));
      writeFileSync(certPath, toPem(unusual));
      await run("openssl", ["pkcs12", "-export", "-inkey", keyPath, "-in", certPath, "-out", p12Path, "-passout", "env:APPSIGNING_TEST_P"], {
        env: { APPSIGNING_TEST_P: PASSWORD },
      });
      expect(parsePkcs12(readFileSync(p12Path), { password: PASSWORD }).certificates[0].der.equals(unusual)).toBe(true);
    });
  });

  it("parses an OpenSSL 3 `pkcs12 -export` file (AES-256, SHA-256 MAC)", async () => {
    await withTempDir(async (dir) => {
      const keyPath = join(dir, "key.pem");
      const certPath = join(dir, "cert.pem");
      const p12Path = join(dir, "openssl.p12");
      writeFileSync(keyPath, privateKey.export({ type: "pkcs8", format: "pem" }));
      writeFileSync(certPath, toPem(certificate));
      await run("openssl", ["pkcs12", "-export", "-inkey", keyPath, "-in", certPath, "-name", "from openssl", "-out", p12Path, "-passout", "env:APPSIGNING_TEST_P"], {
        env: { APPSIGNING_TEST_P: PASSWORD },
      });
      const contents = parsePkcs12(readFileSync(p12Path), { password: PASSWORD });
      expect(contents.certificates[0].der.equals(certificate)).toBe(true);
      expect(contents.keys[0].friendlyName).toBe("from openssl");
    });
  });
});
