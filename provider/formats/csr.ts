/**
 * Key pairs and certificate signing requests for Apple certificates.
 *
 * Apple signs a CSR made from an RSA 2048 key (what fastlane and EAS submit; Keychain Access's Certificate
 * Assistant makes the same). Key generation uses Node's native crypto (fast, constant-time); the CSR itself is
 * built with node-forge, since Node cannot write one.
 */
import * as crypto from "crypto";
import forge from "node-forge";
import { InvalidCredentialInput } from "../errors";

export interface RsaKeyPair {
  /** PKCS#8 PEM. Secret: never log it or put it in Pulumi state. */
  privateKeyPem: string;
  /** SPKI PEM. */
  publicKeyPem: string;
}

export interface CsrSubject {
  commonName: string;
  emailAddress?: string;
  /** Two-letter country code. */
  country?: string;
}

/** A fresh RSA 2048 key pair (Node's native generator). */
export function generateRsaKeyPair(): RsaKeyPair {
  const { privateKey, publicKey } = crypto.generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicExponent: 0x10001,
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}

/** generateRsaKeyPair, made on libuv's thread pool so the event loop goes on serving other work. */
export function generateRsaKeyPairAsync(): Promise<RsaKeyPair> {
  return new Promise((resolve, reject) =>
    crypto.generateKeyPair(
      "rsa",
      { modulusLength: 2048, publicExponent: 0x10001, privateKeyEncoding: { type: "pkcs8", format: "pem" }, publicKeyEncoding: { type: "spki", format: "pem" } },
      (err, publicKey, privateKey) => (err ? reject(err) : resolve({ privateKeyPem: privateKey, publicKeyPem: publicKey })),
    ),
  );
}

/** A PEM CSR for `privateKeyPem`, signed with SHA-256, with the subject Keychain Access would write. */
export function createCsr(privateKeyPem: string, subject: CsrSubject): string {
  // forge reads PKCS#1 or PKCS#8 PEM only through its own parser; go through Node to accept both.
  const pkcs1 = crypto.createPrivateKey(privateKeyPem).export({ type: "pkcs1", format: "pem" }).toString();
  const privateKey = forge.pki.privateKeyFromPem(pkcs1) as forge.pki.rsa.PrivateKey;
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.rsa.setPublicKey(privateKey.n, privateKey.e);
  const attrs: forge.pki.CertificateField[] = [];
  if (subject.emailAddress) attrs.push({ name: "emailAddress", value: subject.emailAddress });
  attrs.push({ name: "commonName", value: subject.commonName });
  if (subject.country) attrs.push({ name: "countryName", value: subject.country });
  csr.setSubject(attrs);
  csr.sign(privateKey, forge.md.sha256.create());
  return forge.pki.certificationRequestToPem(csr);
}

/**
 * Reads a CSR given as PEM text or as the bare base64 of its DER (both are accepted by Apple's `csrContent`).
 * Returns the forge object after checking its self-signature.
 */
export function parseCsr(csr: string, field = "csrContent"): forge.pki.CertificateSigningRequest {
  const text = (csr ?? "").trim();
  const pem = text.startsWith("-----BEGIN")
    ? text
    : `-----BEGIN CERTIFICATE REQUEST-----\n${text.replace(/\s+/g, "").replace(/(.{64})/g, "$1\n")}\n-----END CERTIFICATE REQUEST-----`;
  let parsed: forge.pki.CertificateSigningRequest;
  try {
    parsed = forge.pki.certificationRequestFromPem(pem);
  } catch (cause) {
    throw new InvalidCredentialInput(`The ${field} is not a PKCS#10 certificate signing request.`, { field, cause });
  }
  if (!parsed.verify()) {
    throw new InvalidCredentialInput(`The ${field} signature does not verify: the request was altered or signed with another key.`, { field });
  }
  return parsed;
}

/** SPKI DER of the public key inside a CSR (PEM or bare base64). */
export function csrPublicKeyDer(csr: string): Buffer {
  const parsed = parseCsr(csr);
  const pem = forge.pki.publicKeyToPem(parsed.publicKey as forge.pki.rsa.PublicKey);
  return crypto.createPublicKey(pem).export({ type: "spki", format: "der" });
}

/** SHA-256 (hex) of a public key's SPKI DER: the identity used to match a CSR, its key and its certificate. */
export function publicKeyFingerprint(key: crypto.KeyObject | Buffer): string {
  const der = Buffer.isBuffer(key) ? key : key.export({ type: "spki", format: "der" });
  return crypto.createHash("sha256").update(der).digest("hex");
}

/** Fingerprint of the public key in a CSR. */
export function csrPublicKeyFingerprint(csr: string): string {
  return publicKeyFingerprint(csrPublicKeyDer(csr));
}

/** Fingerprint of the public key in an X.509 certificate (DER or base64 of DER, as Apple's `certificateContent`). */
export function certificatePublicKeyFingerprint(certificate: Buffer | string): string {
  const der = Buffer.isBuffer(certificate) ? certificate : Buffer.from(certificate, "base64");
  return publicKeyFingerprint(new crypto.X509Certificate(der).publicKey);
}
