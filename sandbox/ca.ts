/**
 * The sandbox's test PKI: a root CA standing in for "Apple Root CA", an intermediate standing in for "Apple
 * Worldwide Developer Relations Certification Authority" (G3) that signs developer certificates, and a profile
 * signing certificate standing in for "Apple iPhone OS Provisioning Profile Signing". Every name is marked
 * [SANDBOX] so nothing it issues can be mistaken for Apple's.
 */
import * as crypto from "crypto";
import forge from "node-forge";

export interface CaMaterial {
  rootCertPem: string;
  rootKeyPem: string;
  wwdrCertPem: string;
  wwdrKeyPem: string;
  profileSignerCertPem: string;
  profileSignerKeyPem: string;
}

type Attr = forge.pki.CertificateField;

const APPLE_INC: Attr[] = [
  { name: "organizationName", value: "Apple Inc." },
  { name: "countryName", value: "US" },
];

/** Leaf subject layout of Apple's developer certificates: UID, CN, OU (team ID), O (team name), C
 *  (e.g. "UID=2BUA8C4S2C, CN=Developer ID Application: AgileBits Inc. (2BUA8C4S2C), OU=2BUA8C4S2C, O=AgileBits Inc., C=US",
 *  chris2511/xca#217). */
const CN_PREFIX: Record<string, string> = {
  IOS_DEVELOPMENT: "iPhone Developer",
  IOS_DISTRIBUTION: "iPhone Distribution",
  MAC_APP_DEVELOPMENT: "Mac Developer",
  MAC_APP_DISTRIBUTION: "3rd Party Mac Developer Application",
  MAC_INSTALLER_DISTRIBUTION: "3rd Party Mac Developer Installer",
  DEVELOPER_ID_APPLICATION: "Developer ID Application",
  DEVELOPER_ID_KEXT: "Developer ID Application",
  DEVELOPMENT: "Apple Development",
  DISTRIBUTION: "Apple Distribution",
};

/** Apple's display names of certificate types, as in its 409 text ("You already have a current iOS Distribution ..."). */
export const TYPE_DISPLAY: Record<string, string> = {
  IOS_DEVELOPMENT: "iOS Development",
  IOS_DISTRIBUTION: "iOS Distribution",
  MAC_APP_DEVELOPMENT: "Mac Development",
  MAC_APP_DISTRIBUTION: "Mac App Distribution",
  MAC_INSTALLER_DISTRIBUTION: "Mac Installer Distribution",
  DEVELOPER_ID_APPLICATION: "Developer ID Application",
  DEVELOPER_ID_KEXT: "Developer ID Kext",
  DEVELOPMENT: "Development",
  DISTRIBUTION: "Distribution",
};

function rsaKey(): { pem: string; forgeKey: forge.pki.rsa.PrivateKey } {
  const pem = crypto
    .generateKeyPairSync("rsa", { modulusLength: 2048 })
    .privateKey.export({ type: "pkcs1", format: "pem" })
    .toString();
  return { pem, forgeKey: forge.pki.privateKeyFromPem(pem) as forge.pki.rsa.PrivateKey };
}

/** 8 random bytes, positive, no leading zero byte: the size of Apple's serials (e.g. 15E943630D8FF74E). */
export function randomSerialHex(): string {
  const b = crypto.randomBytes(8);
  b[0] = (b[0] & 0x7f) | 0x10;
  return b.toString("hex").toUpperCase();
}

function publicOf(key: forge.pki.rsa.PrivateKey): forge.pki.rsa.PublicKey {
  return forge.pki.rsa.setPublicKey(key.n, key.e);
}

function makeCa(
  subject: Attr[],
  issuer: { cert: forge.pki.Certificate; key: forge.pki.rsa.PrivateKey } | undefined,
  key: forge.pki.rsa.PrivateKey,
  pathLen: number | undefined,
  years: number,
): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicOf(key);
  cert.serialNumber = randomSerialHex();
  // CA validity runs on real time (minus a day of slack), so `openssl verify` accepts what the sandbox issues.
  cert.validity.notBefore = new Date(Date.now() - 86_400_000);
  cert.validity.notAfter = new Date(Date.now() + years * 365 * 86_400_000);
  cert.setSubject(subject);
  cert.setIssuer(issuer ? issuer.cert.subject.attributes : subject);
  const exts: object[] = [
    { name: "basicConstraints", cA: true, critical: true, ...(pathLen !== undefined ? { pathLenConstraint: pathLen } : {}) },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
    { name: "subjectKeyIdentifier" },
  ];
  if (issuer) exts.push({ name: "authorityKeyIdentifier", keyIdentifier: issuer.cert.generateSubjectKeyIdentifier().getBytes() });
  cert.setExtensions(exts);
  cert.sign(issuer ? issuer.key : key, forge.md.sha256.create());
  return cert;
}

export function createCaMaterial(): CaMaterial {
  const root = rsaKey();
  const rootCert = makeCa(
    [{ name: "commonName", value: "[SANDBOX] Apple Root CA" }, { name: "organizationalUnitName", value: "Apple Certification Authority" }, ...APPLE_INC],
    undefined,
    root.forgeKey,
    undefined,
    30,
  );
  const wwdr = rsaKey();
  const wwdrCert = makeCa(
    [
      { name: "commonName", value: "[SANDBOX] Apple Worldwide Developer Relations Certification Authority" },
      { name: "organizationalUnitName", value: "G3" },
      ...APPLE_INC,
    ],
    { cert: rootCert, key: root.forgeKey },
    wwdr.forgeKey,
    0,
    25,
  );
  const signer = rsaKey();
  const signerCert = forge.pki.createCertificate();
  signerCert.publicKey = publicOf(signer.forgeKey);
  signerCert.serialNumber = randomSerialHex();
  signerCert.validity.notBefore = new Date(Date.now() - 86_400_000);
  signerCert.validity.notAfter = new Date(Date.now() + 20 * 365 * 86_400_000);
  signerCert.setSubject([{ name: "commonName", value: "[SANDBOX] Apple iPhone OS Provisioning Profile Signing" }, ...APPLE_INC]);
  signerCert.setIssuer(rootCert.subject.attributes);
  signerCert.setExtensions([
    { name: "basicConstraints", cA: false, critical: true },
    { name: "keyUsage", digitalSignature: true, critical: true },
    { name: "subjectKeyIdentifier" },
    { name: "authorityKeyIdentifier", keyIdentifier: rootCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  signerCert.sign(root.forgeKey, forge.md.sha256.create());
  return {
    rootCertPem: forge.pki.certificateToPem(rootCert),
    rootKeyPem: root.pem,
    wwdrCertPem: forge.pki.certificateToPem(wwdrCert),
    wwdrKeyPem: wwdr.pem,
    profileSignerCertPem: forge.pki.certificateToPem(signerCert),
    profileSignerKeyPem: signer.pem,
  };
}

export interface IssuedCertificate {
  der: Buffer;
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  commonName: string;
}

/**
 * Signs a developer certificate for the CSR's public key, with Apple's subject layout and a one-year validity
 * starting at the sandbox's `now`.
 */
export function issueDeveloperCertificate(
  ca: CaMaterial,
  input: { csr: forge.pki.CertificateSigningRequest; certificateType: string; teamId: string; teamName: string; now: Date },
): IssuedCertificate {
  const wwdrCert = forge.pki.certificateFromPem(ca.wwdrCertPem);
  const wwdrKey = forge.pki.privateKeyFromPem(ca.wwdrKeyPem) as forge.pki.rsa.PrivateKey;
  const cert = forge.pki.createCertificate();
  cert.publicKey = input.csr.publicKey as forge.pki.rsa.PublicKey;
  cert.serialNumber = randomSerialHex();
  const notBefore = new Date(input.now.getTime());
  notBefore.setUTCMilliseconds(0);
  const notAfter = new Date(notBefore.getTime());
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + 1); // Apple: certificates are valid for one year.
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = notAfter;
  const commonName = `${CN_PREFIX[input.certificateType] ?? "Apple Development"}: ${input.teamName} (${input.teamId})`;
  // forge takes the ASN.1 string type in valueTagClass (its typings say Class).
  const UTF8 = forge.asn1.Type.UTF8 as unknown as forge.asn1.Class;
  cert.setSubject([
    { type: "0.9.2342.19200300.100.1.1", value: input.teamId }, // UID
    { name: "commonName", value: commonName, valueTagClass: UTF8 },
    { name: "organizationalUnitName", value: input.teamId },
    { name: "organizationName", value: input.teamName, valueTagClass: UTF8 },
    { name: "countryName", value: "US" },
  ]);
  cert.setIssuer(wwdrCert.subject.attributes);
  cert.setExtensions([
    { name: "basicConstraints", cA: false, critical: true },
    { name: "keyUsage", digitalSignature: true, critical: true },
    { name: "extKeyUsage", codeSigning: true, critical: true },
    { name: "subjectKeyIdentifier" },
    { name: "authorityKeyIdentifier", keyIdentifier: wwdrCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(wwdrKey, forge.md.sha256.create());
  const der = Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), "binary");
  return { der, serialNumber: cert.serialNumber.toUpperCase(), notBefore, notAfter, commonName };
}
