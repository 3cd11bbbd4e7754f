import { generateKeyPairSync, X509Certificate } from "crypto";
import { writeFileSync } from "fs";
import { join } from "path";
import { InvalidCredentialInput } from "../../provider/errors";
import {
  certificateFacts,
  certificateMatchesKey,
  createSelfSignedCertificate,
  fingerprintsOf,
  formatDistinguishedName,
  pemToDer,
  randomSerialHex,
  toPem,
  validateDistinguishedName,
} from "../../provider/formats/x509";
import { describeWithTools, openssl, run, withTempDir } from "../support/tools";

const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const notBefore = new Date("2026-11-28T10:00:00Z");
const notAfter = new Date("2054-04-15T10:00:00Z");
const subject = { cn: "Acme", ou: "Mobile", o: "Müller & Söhne", l: "Paris", st: "IDF", c: "fr" };
const der = createSelfSignedCertificate({ privateKey, subject, notBefore, notAfter });

describe("certificate facts", () => {
  it("reports validity, subject most-specific-first as keytool prints it, key size and self-signature", () => {
    const facts = certificateFacts(der);
    expect(facts.notBefore).toBe("2026-11-28T10:00:00.000Z");
    expect(facts.notAfter).toBe("2054-04-15T10:00:00.000Z");
    expect(facts.subject).toBe("CN=Acme, OU=Mobile, O=Müller & Söhne, L=Paris, ST=IDF, C=FR");
    expect(facts.issuer).toBe(facts.subject);
    expect(facts.publicKey).toEqual({ algorithm: "rsa", size: 2048 });
    expect(facts.selfSigned).toBe(true);
  });

  it("gives the same facts for DER bytes, PEM text and PEM bytes", () => {
    const pem = toPem(der);
    expect(certificateFacts(pem)).toEqual(certificateFacts(der));
    expect(certificateFacts(Buffer.from(pem))).toEqual(certificateFacts(der));
  });

  it("writes PEM as keytool -export -rfc does: one CERTIFICATE block in 64-character lines", () => {
    const pem = certificateFacts(der).pem;
    const lines = pem.trimEnd().split("\n");
    expect(lines[0]).toBe("-----BEGIN CERTIFICATE-----");
    expect(lines[lines.length - 1]).toBe("-----END CERTIFICATE-----");
    const body = lines.slice(1, -1);
    expect(body.slice(0, -1).every((l) => l.length === 64)).toBe(true);
    expect(body[body.length - 1].length).toBeLessThanOrEqual(64);
    expect(pemToDer(pem)?.equals(der)).toBe(true);
  });

  it("formats fingerprints in upper case with colons, hashing the DER (not the PEM)", () => {
    const fp = fingerprintsOf(der);
    const x509 = new X509Certificate(der);
    expect(fp.sha1).toBe(x509.fingerprint);
    expect(fp.sha256).toBe(x509.fingerprint256);
    expect(fp.sha256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(fp.md5).toMatch(/^([0-9A-F]{2}:){15}[0-9A-F]{2}$/);
  });

  it("tells a matching private key from another one", () => {
    const other = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
    expect(certificateMatchesKey(der, privateKey)).toBe(true);
    expect(certificateMatchesKey(der, other)).toBe(false);
    expect(certificateMatchesKey(der, ec)).toBe(false);
  });

  it("refuses input that is not a certificate, naming what it is instead", () => {
    const keyPem = privateKey.export({ type: "pkcs8", format: "pem" }) as string;
    expect(() => certificateFacts(keyPem)).toThrow(/PEM "PRIVATE KEY" block, not a CERTIFICATE/);
    expect(() => certificateFacts(Buffer.from("not a certificate at all"))).toThrow(InvalidCredentialInput);
    try {
      certificateFacts(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01]), { field: "certificatePem", what: "upload certificate" });
      throw new Error("expected a failure");
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidCredentialInput);
      expect((e as InvalidCredentialInput).field).toBe("certificatePem");
      expect((e as Error).message).toMatch(/upload certificate is not a valid X\.509 certificate/);
    }
  });
});

describe("self-signed certificates", () => {
  it("use a positive, minimally encoded 16-byte serial with the top bit cleared", () => {
    for (let i = 0; i < 500; i++) {
      const serial = randomSerialHex();
      expect(serial).toMatch(/^[0-7][0-9a-f]{31}$/);
      expect(serial.startsWith("00")).toBe(false);
    }
    const facts = certificateFacts(der);
    expect(facts.serialNumber).toMatch(/^[0-7][0-9A-F]{31}$/);
    expect(facts.serialNumber.startsWith("00")).toBe(false);
  });

  it("verify with their own public key and are not CA certificates", () => {
    const x509 = new X509Certificate(der);
    expect(x509.verify(x509.publicKey)).toBe(true);
    expect(x509.ca).toBe(false);
  });

  it("refuse a validity that ends before it starts, and non-RSA keys", () => {
    expect(() => createSelfSignedCertificate({ privateKey, subject, notBefore: notAfter, notAfter: notBefore })).toThrow(/end after it starts/);
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
    expect(() => createSelfSignedCertificate({ privateKey: ec, subject, notBefore, notAfter })).toThrow(/Only RSA keys/);
  });
});

describe("distinguished names", () => {
  it("render as keytool's Owner line", () => {
    expect(formatDistinguishedName({ cn: "Acme", o: "Acme Inc", c: "US" })).toBe("CN=Acme, O=Acme Inc, C=US");
    expect(formatDistinguishedName({ cn: "Doe, John" })).toBe("CN=Doe\\, John");
  });

  it("need a common name and a two-letter country", () => {
    const field = (f: () => void) => {
      try {
        f();
      } catch (e) {
        return (e as InvalidCredentialInput).field;
      }
      return undefined;
    };
    expect(field(() => validateDistinguishedName({ cn: "" }))).toBe("dname.cn");
    expect(field(() => validateDistinguishedName({ cn: "Acme", c: "USA" }))).toBe("dname.c");
    expect(field(() => validateDistinguishedName({ cn: "Acme", o: "bad\nname" }))).toBe("dname.o");
    expect(field(() => validateDistinguishedName({ cn: "Acme", c: "de" }))).toBeUndefined();
  });
});

describeWithTools(["openssl"], "certificates checked with OpenSSL", () => {
  it("have the fingerprints openssl computes", async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, "cert.pem");
      writeFileSync(path, certificateFacts(der).pem);
      const facts = certificateFacts(der);
      for (const [alg, ours] of [["-sha1", facts.fingerprints.sha1], ["-sha256", facts.fingerprints.sha256], ["-md5", facts.fingerprints.md5]] as const) {
        const out = await openssl(["x509", "-in", path, "-noout", "-fingerprint", alg]);
        expect(out.trim().split("=")[1]).toBe(ours);
      }
    });
  });

  it("encode notAfter from 2050 as GeneralizedTime, PrintableString where possible and UTF8String otherwise", async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, "cert.der");
      writeFileSync(path, der);
      const out = await openssl(["asn1parse", "-inform", "DER", "-in", path]);
      expect(out).toMatch(/UTCTIME\s+:261128100000Z/);
      expect(out).toMatch(/GENERALIZEDTIME\s+:20540415100000Z/);
      expect(out).toMatch(/PRINTABLESTRING\s+:FR/);
      expect(out).toMatch(/PRINTABLESTRING\s+:Acme/);
      expect(out).toMatch(/UTF8STRING\s+:M/);
      expect(out).toMatch(/sha256WithRSAEncryption/);
      expect(out).toMatch(/X509v3 Subject Key Identifier/);
    });
  });

  it("verify as self-signed and show a positive serial", async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, "cert.pem");
      writeFileSync(path, toPem(der));
      const verify = await run("openssl", ["verify", "-CAfile", path, "-check_ss_sig", path]);
      expect(verify.stdout).toMatch(/OK/);
      const serial = await openssl(["x509", "-in", path, "-noout", "-serial"]);
      expect(serial.trim()).toBe(`serial=${certificateFacts(der).serialNumber}`);
    });
  });
});
