/**
 * The Apple file formats the client and the sandbox rely on: .p8 keys and ES256 JWTs, CSRs, XML plists and
 * .mobileprovision CMS files. Cross-checked with the openssl binary where it can speak for Apple.
 */
import { execFileSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { TokenSigner } from "../../provider/apple";
import { InvalidCredentialInput } from "../../provider/errors";
import { createCsr, csrPublicKeyFingerprint, generateRsaKeyPair, parseCsr, publicKeyFingerprint } from "../../provider/formats/csr";
import { mobileprovisionContent, parseMobileprovision, parsePlist, writePlist, type PlistDict } from "../../provider/formats/mobileprovision";
import {
  decodeJwt,
  es256Sign,
  parseP8,
  PKCS8_PEM_BEGIN,
  PKCS8_PEM_END,
  signApnsProviderToken,
  validateIssuerId,
  validateKeyId,
  validateTeamId,
} from "../../provider/formats/p8";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "appsigning-formats-test-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function p8(curve = "prime256v1"): string {
  return crypto.generateKeyPairSync("ec", { namedCurve: curve }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
}

function field(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidCredentialInput);
    expect((err as Error).message).not.toMatch(/[A-Za-z0-9+/]{40,}/); // no key material in messages
    return (err as InvalidCredentialInput).field;
  }
  return undefined;
}

/** JOSE r||s to the DER ECDSA-Sig-Value openssl expects. */
function joseToDer(sig: Buffer): Buffer {
  const int = (b: Buffer) => {
    let i = 0;
    while (i < b.length - 1 && b[i] === 0) i++;
    let v = b.subarray(i);
    if (v[0] & 0x80) v = Buffer.concat([Buffer.from([0]), v]);
    return Buffer.concat([Buffer.from([0x02, v.length]), v]);
  };
  const body = Buffer.concat([int(sig.subarray(0, 32)), int(sig.subarray(32))]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}

describe(".p8 keys and ES256 tokens", () => {
  test("accepts a PKCS#8 EC P-256 key and refuses anything else, naming the field", () => {
    expect(parseP8(p8()).asymmetricKeyType).toBe("ec");
    const sec1 = crypto.generateKeyPairSync("ec", { namedCurve: "prime256v1" }).privateKey.export({ type: "sec1", format: "pem" }).toString();
    for (const bad of ["", "hello", p8("secp384r1"), generateRsaKeyPair().privateKeyPem, sec1, `${PKCS8_PEM_BEGIN}\n!!!\n${PKCS8_PEM_END}`]) {
      expect(field(() => parseP8(bad, "p8"))).toBe("p8");
    }
  });

  test("validates key IDs, team IDs and issuer IDs", () => {
    expect(field(() => validateKeyId("ABCDE12345"))).toBeUndefined();
    expect(field(() => validateKeyId("ABCDE1234"))).toBe("keyId");
    expect(field(() => validateTeamId("abcde12345"))).toBe("teamId");
    expect(field(() => validateIssuerId(crypto.randomUUID()))).toBeUndefined();
    expect(field(() => validateIssuerId("69a6de8d"))).toBe("issuerId");
  });

  test("signs in JOSE r||s form, which openssl verifies once converted to DER", () => {
    const pem = p8();
    const key = parseP8(pem);
    const sig = es256Sign("payload", key);
    expect(sig).toHaveLength(64);
    const pub = path.join(tmp, "pub.pem");
    const data = path.join(tmp, "data.txt");
    const sigFile = path.join(tmp, "sig.der");
    fs.writeFileSync(pub, crypto.createPublicKey(key).export({ type: "spki", format: "pem" }));
    fs.writeFileSync(data, "payload");
    fs.writeFileSync(sigFile, joseToDer(sig));
    expect(execFileSync("openssl", ["dgst", "-sha256", "-verify", pub, "-signature", sigFile, data]).toString()).toMatch(/Verified OK/);
  });

  test("App Store Connect tokens carry Apple's header and claims, with a lifetime under 20 minutes", () => {
    const signer = new TokenSigner({ issuerId: "69a6de8d-e294-47e3-e053-5b8c7c11a4d1", keyId: "ABCDE12345", privateKey: p8() });
    const jwt = decodeJwt(signer.token())!;
    expect(jwt.header).toEqual({ kid: "ABCDE12345", typ: "JWT", alg: "ES256" });
    expect(jwt.payload).toMatchObject({ iss: "69a6de8d-e294-47e3-e053-5b8c7c11a4d1", aud: "appstoreconnect-v1" });
    const { iat, exp } = jwt.payload as { iat: number; exp: number };
    expect(exp - iat).toBeGreaterThan(10 * 60);
    expect(exp - iat).toBeLessThan(20 * 60);
    expect(signer.token()).toBe(signer.token());
  });

  test("APNs provider tokens name the team as issuer and the key in the header", () => {
    const jwt = decodeJwt(signApnsProviderToken({ teamId: "TEAM123456", keyId: "KEY1234567", p8: p8(), now: new Date(1_700_000_000_000) }))!;
    expect(jwt.header).toEqual({ kid: "KEY1234567", alg: "ES256" });
    expect(jwt.payload).toEqual({ iss: "TEAM123456", iat: 1_700_000_000 });
  });
});

describe("certificate signing requests", () => {
  test("makes an RSA 2048 CSR that openssl verifies, with the subject asked for", () => {
    const keys = generateRsaKeyPair();
    const csr = createCsr(keys.privateKeyPem, { commonName: "Acme CI", emailAddress: "ci@acme.test", country: "US" });
    const file = path.join(tmp, "req.pem");
    fs.writeFileSync(file, csr);
    const out = execFileSync("openssl", ["req", "-in", file, "-noout", "-verify", "-subject", "-nameopt", "RFC2253"], { stdio: "pipe" }).toString();
    expect(out).toMatch(/C=US,CN=Acme CI,emailAddress=ci@acme.test/);
    expect(crypto.createPublicKey(keys.publicKeyPem).asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(csrPublicKeyFingerprint(csr)).toBe(publicKeyFingerprint(crypto.createPublicKey(keys.publicKeyPem)));
    // Apple's csrContent may be the bare base64 body.
    const bare = csr.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
    expect(parseCsr(bare).verify()).toBe(true);
    expect(field(() => parseCsr("MIIB"))).toBe("csrContent");
  });
});

describe("property lists", () => {
  test("writes and reads back every type Apple uses in profiles", () => {
    const value: PlistDict = {
      Name: "A & B <profile>",
      Version: 1,
      Ratio: 1.5,
      Yes: true,
      No: false,
      When: new Date("2026-03-04T05:06:07Z"),
      Blob: Buffer.from([0, 1, 2, 250]),
      Empty: [],
      EmptyDict: {},
      Nested: { List: ["x", { Deep: [1, 2] }] },
    };
    const xml = writePlist(value);
    expect(xml).toContain('<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN"');
    expect(xml).toContain("<date>2026-03-04T05:06:07Z</date>");
    expect(parsePlist(xml)).toEqual(value);
  });

  test("reads Apple's layout with comments, entities and self-closing elements, and names malformed input", () => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<!-- a comment -->
<dict>
\t<key>get-task-allow</key>
\t<false/>
\t<key>Name</key>
\t<string>Caf&#233; &amp; co</string>
\t<key>Empty</key>
\t<string/>
\t<key>Data</key>
\t<data>
\tAAEC
\t</data>
</dict>
</plist>`;
    expect(parsePlist(xml)).toEqual({ "get-task-allow": false, Name: "Café & co", Empty: "", Data: Buffer.from([0, 1, 2]) });
    expect(field(() => parsePlist("<plist><dict><key>a</key></dict></plist>", "profile"))).toBe("profile");
    expect(field(() => parsePlist("<html/>"))).toBe("plist");
  });
});

describe(".mobileprovision files", () => {
  test("reads the typed fields from a CMS file that openssl signed", () => {
    const cert = generateSelfSigned();
    const plist: PlistDict = {
      AppIDName: "Acme",
      ApplicationIdentifierPrefix: ["TEAM123456"],
      CreationDate: new Date("2026-01-01T00:00:00Z"),
      Platform: ["iOS"],
      DeveloperCertificates: [cert.der],
      Entitlements: { "application-identifier": "TEAM123456.com.acme.app", "get-task-allow": false },
      ExpirationDate: new Date("2027-01-01T00:00:00Z"),
      Name: "Acme Store",
      TeamIdentifier: ["TEAM123456"],
      TeamName: "Acme",
      UUID: "0f0e0d0c-1111-2222-3333-444455556666",
      Version: 1,
    };
    const xmlFile = path.join(tmp, "p.plist");
    const out = path.join(tmp, "p.mobileprovision");
    fs.writeFileSync(xmlFile, writePlist(plist));
    execFileSync("openssl", ["cms", "-sign", "-nodetach", "-binary", "-outform", "DER", "-in", xmlFile, "-signer", cert.certFile, "-inkey", cert.keyFile, "-out", out], { stdio: "pipe" });
    const parsed = parseMobileprovision(fs.readFileSync(out));
    expect(parsed).toMatchObject({
      uuid: "0f0e0d0c-1111-2222-3333-444455556666",
      name: "Acme Store",
      teamIdentifier: "TEAM123456",
      teamName: "Acme",
      appIdName: "Acme",
      applicationIdentifier: "TEAM123456.com.acme.app",
      bundleId: "com.acme.app",
      platform: ["iOS"],
      provisionedDevices: [],
      provisionsAllDevices: false,
    });
    expect(parsed.expirationDate.toISOString()).toBe("2027-01-01T00:00:00.000Z");
    expect(parsed.creationDate.toISOString()).toBe("2026-01-01T00:00:00.000Z");
    expect(parsed.developerCertificates[0].equals(cert.der)).toBe(true);
    expect(parsed.entitlements["get-task-allow"]).toBe(false);
  });

  test("refuses bytes that are not a CMS message, naming the field", () => {
    expect(field(() => mobileprovisionContent(Buffer.from("<plist/>"), "profileFile"))).toBe("profileFile");
  });
});

function generateSelfSigned(): { der: Buffer; certFile: string; keyFile: string } {
  const keyFile = path.join(tmp, "signer.key");
  const certFile = path.join(tmp, "signer.pem");
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", keyFile, "-out", certFile, "-subj", "/CN=Test Signer", "-days", "2"], { stdio: "pipe" });
  const der = Buffer.from(new crypto.X509Certificate(fs.readFileSync(certFile)).raw);
  return { der, certFile, keyFile };
}
