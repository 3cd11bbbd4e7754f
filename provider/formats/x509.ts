/**
 * X.509 certificate facts and self-signed certificate creation.
 *
 * Facts (fingerprints, validity, subject, serial, key size) come from Node's `X509Certificate`, which gives
 * byte-identical fingerprints to keytool and apksigner. Certificates are built with node-forge (Node cannot
 * create certificates) and signed with Node's native RSA. Shared by the Android keystore and iOS code.
 */
import { createHash, createPublicKey, KeyObject, randomBytes, sign as nodeSign, X509Certificate } from "crypto";
import * as forge from "node-forge";
import { InvalidCredentialInput } from "../errors";

/** Colon-separated upper-case hex, the form Play Console, Firebase and keytool show. */
export interface Fingerprints {
  sha1: string;
  sha256: string;
  md5: string;
}

/** A distinguished name as keytool's `-dname` takes it (`CN=, OU=, O=, L=, ST=, C=`). */
export interface DistinguishedName {
  cn: string;
  ou?: string;
  o?: string;
  l?: string;
  st?: string;
  c?: string;
}

export interface PublicKeyFacts {
  /** Node's `asymmetricKeyType`: "rsa", "ec", "dsa", "ed25519", ... */
  algorithm: string;
  /** Modulus bits for RSA/DSA, curve bits for EC (P-256 -> 256). */
  size: number;
}

export interface CertificateFacts {
  der: Buffer;
  /** `keytool -export -rfc` form: one CERTIFICATE block, 64-character base64 lines, LF endings. */
  pem: string;
  fingerprints: Fingerprints;
  /** Most specific first, as keytool prints it: "CN=Acme, O=Acme Inc, C=FR". */
  subject: string;
  issuer: string;
  /** Upper-case hex without leading zeros, as App Store Connect reports serials. */
  serialNumber: string;
  notBefore: string;
  notAfter: string;
  publicKey: PublicKeyFacts;
  selfSigned: boolean;
}

export interface CertificateInputOptions {
  /** The input field blamed when the input is not a certificate. */
  field?: string;
  /** What the certificate is, for messages ("upload certificate", "distribution certificate"). */
  what?: string;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/;

/** PEM encoding with 64-character lines and LF endings, as RFC 7468 and `keytool -export -rfc` write it. */
export function toPem(der: Buffer, label = "CERTIFICATE"): string {
  const lines = der.toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/** The DER inside the first PEM block with that label; undefined when there is none. */
export function pemToDer(pem: string, label = "CERTIFICATE"): Buffer | undefined {
  const re = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`);
  const match = re.exec(pem);
  if (!match) return undefined;
  const body = match[1].replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body)) return undefined;
  return Buffer.from(body, "base64");
}

/** Colon-separated upper-case hex of a digest: "AB:CD:...". */
export function formatFingerprint(digest: Buffer): string {
  return (digest.toString("hex").toUpperCase().match(/../g) ?? []).join(":");
}

/** SHA-1, SHA-256 and MD5 over the DER certificate (consoles hash the DER, never the PEM text). */
export function fingerprintsOf(der: Buffer): Fingerprints {
  return {
    sha1: formatFingerprint(createHash("sha1").update(der).digest()),
    sha256: formatFingerprint(createHash("sha256").update(der).digest()),
    md5: formatFingerprint(createHash("md5").update(der).digest()),
  };
}

/** Parses a certificate given as DER bytes, or PEM text/bytes; throws InvalidCredentialInput otherwise. */
export function parseCertificate(input: Buffer | string, options: CertificateInputOptions = {}): X509Certificate {
  const what = options.what ?? "certificate";
  const field = options.field ?? "certificate";
  let der: Buffer | undefined;
  const asText = typeof input === "string" ? input : looksLikePem(input) ? input.toString("latin1") : undefined;
  if (asText !== undefined) {
    der = pemToDer(asText, "CERTIFICATE");
    if (!der) {
      const other = PEM_BLOCK.exec(asText);
      throw new InvalidCredentialInput(
        other
          ? `The ${what} is a PEM "${other[1]}" block, not a CERTIFICATE.`
          : `The ${what} is text without a PEM CERTIFICATE block.`,
        { field, remedy: "Give the certificate as DER or as PEM (-----BEGIN CERTIFICATE-----)." },
      );
    }
  } else {
    der = input as Buffer;
  }
  try {
    return new X509Certificate(der);
  } catch (cause) {
    throw new InvalidCredentialInput(`The ${what} is not a valid X.509 certificate.`, {
      field,
      cause,
      remedy: "Give the certificate as DER or as PEM (-----BEGIN CERTIFICATE-----).",
    });
  }
}

/** Everything a console or a resource output shows about a certificate. */
export function certificateFacts(input: Buffer | string | X509Certificate, options: CertificateInputOptions = {}): CertificateFacts {
  const cert = input instanceof X509Certificate ? input : parseCertificate(input, options);
  const der = cert.raw;
  return {
    der,
    pem: toPem(der),
    fingerprints: fingerprintsOf(der),
    subject: keytoolName(cert.subject),
    issuer: keytoolName(cert.issuer),
    serialNumber: normalizeSerial(cert.serialNumber),
    notBefore: parseOpenSslTime(cert.validFrom).toISOString(),
    notAfter: parseOpenSslTime(cert.validTo).toISOString(),
    publicKey: publicKeyFacts(cert.publicKey),
    selfSigned: cert.checkIssued(cert) && cert.verify(cert.publicKey),
  };
}

/** True when the private key is the one whose public half the certificate carries. */
export function certificateMatchesKey(cert: Buffer | string | X509Certificate, privateKey: KeyObject): boolean {
  const x509 = cert instanceof X509Certificate ? cert : parseCertificate(cert);
  try {
    return x509.checkPrivateKey(privateKey);
  } catch {
    return false; // different key types make OpenSSL raise instead of answering false
  }
}

/** Algorithm and size of a public or private key. */
export function publicKeyFacts(key: KeyObject): PublicKeyFacts {
  const algorithm = key.asymmetricKeyType ?? "unknown";
  const details = key.asymmetricKeyDetails ?? {};
  if (details.modulusLength) return { algorithm, size: details.modulusLength };
  const curveBits: Record<string, number> = { prime256v1: 256, secp384r1: 384, secp521r1: 521, secp256k1: 256 };
  if (details.namedCurve) return { algorithm, size: curveBits[details.namedCurve] ?? 0 };
  const fixed: Record<string, number> = { ed25519: 256, ed448: 456, x25519: 256, x448: 448 };
  return { algorithm, size: fixed[algorithm] ?? 0 };
}

/**
 * A positive, non-zero, minimally encoded 16-byte serial: top bit cleared so DER does not read it as
 * negative (forge issue #349, RFC 5280 §4.1.2.2), first byte non-zero so the INTEGER stays minimal.
 */
export function randomSerialHex(): string {
  const bytes = randomBytes(16);
  bytes[0] &= 0x7f;
  if (bytes[0] === 0) bytes[0] = 0x40;
  return bytes.toString("hex");
}

/** Checks a distinguished name the way keytool and X.520 constrain it; throws with the field at fault. */
export function validateDistinguishedName(dname: DistinguishedName, fieldPrefix = "dname"): void {
  if (typeof dname !== "object" || dname === null) {
    throw new InvalidCredentialInput("The distinguished name is missing.", {
      field: fieldPrefix,
      remedy: 'Give at least { cn: "Your Company" }.',
    });
  }
  if (typeof dname.cn !== "string" || dname.cn.trim() === "") {
    throw new InvalidCredentialInput("The distinguished name has no common name (cn).", {
      field: `${fieldPrefix}.cn`,
      remedy: 'Give a common name, usually the company or developer name: { cn: "Acme" }.',
    });
  }
  for (const key of ["cn", "ou", "o", "l", "st", "c"] as const) {
    const value = dname[key];
    if (value === undefined) continue;
    if (typeof value !== "string" || hasControlCharacter(value) || value.length > 128) {
      throw new InvalidCredentialInput(`The distinguished name's ${key} must be text of at most 128 printable characters.`, {
        field: `${fieldPrefix}.${key}`,
      });
    }
  }
  // X.520 countryName is a two-letter ISO 3166 code in a PrintableString.
  if (dname.c !== undefined && !/^[A-Za-z]{2}$/.test(dname.c)) {
    throw new InvalidCredentialInput(`The distinguished name's country (c) "${dname.c}" is not a two-letter ISO 3166 code.`, {
      field: `${fieldPrefix}.c`,
      remedy: 'Use a code such as "US", "FR" or "DE", or leave c out.',
    });
  }
}

/** keytool's rendering of a name: "CN=Acme, OU=Mobile, O=Acme Inc, L=Paris, ST=IDF, C=FR". */
export function formatDistinguishedName(dname: DistinguishedName): string {
  const parts: string[] = [];
  for (const [key, label] of DN_ORDER_MOST_SPECIFIC_FIRST) {
    const value = dname[key];
    if (value !== undefined && value !== "") parts.push(`${label}=${escapeRdnValue(value)}`);
  }
  return parts.join(", ");
}

export interface SelfSignedCertificateInput {
  privateKey: KeyObject;
  subject: DistinguishedName;
  notBefore: Date;
  notAfter: Date;
  /** Hex; random 16 bytes (see randomSerialHex) when absent. */
  serialNumberHex?: string;
}

/**
 * A self-signed SHA256withRSA v3 certificate with a SubjectKeyIdentifier, as `keytool -genkeypair` makes
 * (JDK 17). forge writes notAfter as GeneralizedTime from 2050 on (RFC 5280 §4.1.2.5). Returns DER.
 */
export function createSelfSignedCertificate(input: SelfSignedCertificateInput): Buffer {
  const { privateKey } = input;
  if (privateKey.asymmetricKeyType !== "rsa") {
    throw new InvalidCredentialInput(
      `Only RSA keys can make these certificates (got ${privateKey.asymmetricKeyType ?? "an unknown key type"}).`,
      { field: "privateKey" },
    );
  }
  if (!(input.notAfter.getTime() > input.notBefore.getTime())) {
    throw new InvalidCredentialInput("The certificate's validity must end after it starts.", { field: "notAfter" });
  }
  if (input.notAfter.getUTCFullYear() > 9999) {
    throw new InvalidCredentialInput("The certificate's validity cannot end after the year 9999 (X.509 GeneralizedTime).", {
      field: "notAfter",
    });
  }
  validateDistinguishedName(input.subject);

  const publicPem = createPublicKey(privateKey).export({ type: "spki", format: "pem" }) as string;
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicPem);
  cert.serialNumber = input.serialNumberHex ?? randomSerialHex();
  cert.validity.notBefore = wholeSeconds(input.notBefore);
  cert.validity.notAfter = wholeSeconds(input.notAfter);
  const attrs = forgeNameAttributes(input.subject);
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.setExtensions([{ name: "subjectKeyIdentifier" }]);

  // Same steps as forge's cert.sign(), with the RSA operation done natively (forge's is pure JS and slow).
  cert.md = forge.md.sha256.create();
  cert.signatureOid = cert.siginfo.algorithmOid = forge.pki.oids.sha256WithRSAEncryption;
  // getTBSCertificate exists in forge 1.4 but is missing from @types/node-forge.
  const pki = forge.pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 };
  cert.tbsCertificate = pki.getTBSCertificate(cert);
  const tbs = Buffer.from(forge.asn1.toDer(cert.tbsCertificate).getBytes(), "binary");
  cert.signature = nodeSign("sha256", tbs, privateKey).toString("binary");
  return Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), "binary");
}

// ---------------------------------------------------------------------------------------------------

const DN_ORDER_MOST_SPECIFIC_FIRST: ReadonlyArray<readonly [keyof DistinguishedName, string, string]> = [
  ["cn", "CN", "commonName"],
  ["ou", "OU", "organizationalUnitName"],
  ["o", "O", "organizationName"],
  ["l", "L", "localityName"],
  ["st", "ST", "stateOrProvinceName"],
  ["c", "C", "countryName"],
];

/** PrintableString's alphabet (X.680 §41.4); anything else goes in a UTF8String, as keytool does. */
const PRINTABLE_STRING = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

function forgeNameAttributes(dname: DistinguishedName): forge.pki.CertificateField[] {
  // DER order is least specific first (C ... CN); keytool and RFC 2253 print it reversed ("CN=..., C=...").
  const attrs: forge.pki.CertificateField[] = [];
  for (const [key, , name] of [...DN_ORDER_MOST_SPECIFIC_FIRST].reverse()) {
    const value = dname[key];
    if (value === undefined || value === "") continue;
    const asCountry = key === "c" ? value.toUpperCase() : value;
    attrs.push({
      name,
      value: asCountry,
      valueTagClass: (key === "c" || PRINTABLE_STRING.test(value)
        ? forge.asn1.Type.PRINTABLESTRING
        : forge.asn1.Type.UTF8) as unknown as forge.asn1.Class,
    });
  }
  return attrs;
}

function escapeRdnValue(value: string): string {
  return value.replace(/([,+"\\<>;=])/g, "\\$1").replace(/^([ #])/, "\\$1").replace(/ $/, "\\ ");
}

/** Node prints names one RDN per line in DER order (C first); keytool prints them reversed on one line. */
function keytoolName(nodeName: string): string {
  return nodeName.split("\n").filter(Boolean).reverse().join(", ");
}

function normalizeSerial(hex: string): string {
  const upper = hex.toUpperCase();
  const stripped = upper.replace(/^(00)+/, "");
  return stripped === "" ? "0" : stripped;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** Node 20's `validFrom`/`validTo` are OpenSSL strings ("Apr 16 01:59:56 2054 GMT"); `validToDate` is Node 22+. */
function parseOpenSslTime(text: string): Date {
  const m = /^([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (\d{4}) GMT$/.exec(text.trim());
  const month = m ? MONTHS.indexOf(m[1]) : -1;
  if (!m || month < 0) {
    const fallback = new Date(text);
    if (Number.isNaN(fallback.getTime())) throw new Error(`Unrecognised certificate time "${text}"`);
    return fallback;
  }
  return new Date(Date.UTC(Number(m[6]), month, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])));
}

function wholeSeconds(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

function looksLikePem(bytes: Buffer): boolean {
  return bytes.subarray(0, 64).toString("latin1").includes("-----BEGIN ");
}

/** True when the text holds a C0 control character or DEL (newlines, NUL...). */
function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}
