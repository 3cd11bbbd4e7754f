/**
 * PKCS#12 (.p12 / .pfx) build and parse with node-forge (1.4.3: carries the 2025-2026 PKCS#12 MAC and ASN.1
 * fixes, CVE-2025-12816 among them). One password protects the MAC, the key bag and any encrypted cert bags.
 */
import { createPrivateKey, KeyObject } from "crypto";
import * as forge from "node-forge";
import { InvalidCredentialInput } from "../errors";

/**
 * - `aes256`: PBES2 AES-256-CBC, PBKDF2 hmacWithSHA256, 10000 iterations; Java 17 keytool and apksigner read it
 *   (the Android keystore choice).
 * - `3des`: pbeWithSHAAnd3-KeyTripleDES-CBC with a SHA-1 MAC, what macOS keychains / SecPKCS12Import accept
 *   (the iOS .p12 choice; forge README §PKCS#12).
 */
export type Pkcs12Algorithm = "aes256" | "3des";

export interface BuildPkcs12Input {
  privateKey: KeyObject;
  /** DER certificates, the key's own certificate first, then its chain. */
  certificates: Buffer[];
  password: string;
  /** Becomes the alias in Java (without it Java lists the entry as "1"). */
  friendlyName?: string;
  algorithm: Pkcs12Algorithm;
}

export interface Pkcs12KeyBag {
  privateKey: KeyObject;
  friendlyName?: string;
  localKeyIdHex?: string;
}

export interface Pkcs12CertBag {
  der: Buffer;
  friendlyName?: string;
  localKeyIdHex?: string;
}

export interface Pkcs12Contents {
  keys: Pkcs12KeyBag[];
  certificates: Pkcs12CertBag[];
}

export interface ParsePkcs12Options {
  password: string;
  /** What the file is, for messages: "keystore", "distribution certificate .p12". */
  what?: string;
  /** How messages name the password: "password" (default), "store password". */
  passwordLabel?: string;
  /** Input fields blamed per failure; defaults: file "p12", password "password", keyPassword = password field. */
  fields?: { file?: string; password?: string; keyPassword?: string };
}

const ALGORITHM_OPTIONS: Record<Pkcs12Algorithm, Record<string, unknown>> = {
  aes256: { algorithm: "aes256", prfAlgorithm: "sha256", count: 10000, saltSize: 16 },
  "3des": { algorithm: "3des", count: 2048, saltSize: 8 },
};

/** Builds a password-protected PKCS#12 holding one RSA private key and its certificate chain. */
export function buildPkcs12(input: BuildPkcs12Input): Buffer {
  if (input.privateKey.asymmetricKeyType !== "rsa") {
    // forge's toPkcs12Asn1 only wraps RSA keys (pki.wrapRsaPrivateKey).
    throw new InvalidCredentialInput(
      `A PKCS#12 can only be written here for an RSA key (this key is ${input.privateKey.asymmetricKeyType ?? "unknown"}).`,
      { field: "privateKey", remedy: "Write a JKS keystore instead, or convert with keytool -importkeystore." },
    );
  }
  if (input.certificates.length === 0) {
    throw new InvalidCredentialInput("A PKCS#12 needs the key's certificate.", { field: "certificates" });
  }
  const forgeKey = forge.pki.privateKeyFromPem(input.privateKey.export({ type: "pkcs8", format: "pem" }) as string);
  const chain = input.certificates.map((der) => forgeCertificateExact(der));
  const options: Record<string, unknown> = { ...ALGORITHM_OPTIONS[input.algorithm] };
  if (input.friendlyName !== undefined) options.friendlyName = input.friendlyName;
  const asn1 = withNativePbkdf2(() => forge.pkcs12.toPkcs12Asn1(forgeKey, chain, input.password, options));
  return Buffer.from(forge.asn1.toDer(asn1).getBytes(), "binary");
}

/**
 * Parses and decrypts a PKCS#12. Failures are InvalidCredentialInput with distinct messages:
 * empty, truncated, not a PKCS#12 (or corrupted), wrong password (MAC), key bag under another password.
 */
export function parsePkcs12(file: Buffer, options: ParsePkcs12Options): Pkcs12Contents {
  const what = options.what ?? "PKCS#12 file";
  const fileField = options.fields?.file ?? "p12";
  const passwordField = options.fields?.password ?? "password";
  const keyPasswordField = options.fields?.keyPassword ?? passwordField;
  const passwordLabel = options.passwordLabel ?? "password";

  checkOuterDer(file, what, fileField);

  let asn1: forge.asn1.Asn1;
  try {
    // @types/node-forge declares only the boolean form; forge 1.4 takes these options (strict DER, no trailing bytes).
    const fromDer = forge.asn1.fromDer as unknown as (bytes: forge.util.ByteStringBuffer, options: object) => forge.asn1.Asn1;
    asn1 = fromDer(forge.util.createBuffer(file.toString("binary")), { strict: true, parseAllBytes: true });
  } catch (cause) {
    const message = cause instanceof Error ? cause.message : String(cause);
    // Reached only for BER indefinite-length files (older Bouncy Castle and Windows exports), whose end the header does not announce.
    if (file[1] === 0x80 && /Too few bytes/.test(message)) throw truncated(what, fileField, file.length, undefined);
    throw notPkcs12(what, fileField, "its DER structure is corrupted", cause);
  }

  let pfx: forge.pkcs12.Pkcs12Pfx;
  const rawCertificates = new WeakMap<forge.pki.Certificate, Buffer>();
  try {
    pfx = withNativePbkdf2(() => withRawCertificateCapture(rawCertificates, () => forge.pkcs12.pkcs12FromAsn1(asn1, true, options.password)));
  } catch (cause) {
    const message = cause instanceof Error ? cause.message : String(cause);
    if (/MAC could not be verified/.test(message) || /Failed to decrypt PKCS#12 SafeContents/.test(message)) {
      throw new InvalidCredentialInput(`The ${what} did not open with the ${passwordLabel} given: wrong ${passwordLabel} (integrity check failed).`, {
        field: passwordField,
        cause,
        remedy: `Check the ${passwordLabel}; the file itself is a well-formed PKCS#12.`,
      });
    }
    // Without a MAC (rare, `openssl pkcs12 -nomac`) nothing checks the password before the key bag does.
    const hasMac = Array.isArray(asn1.value) && asn1.value.length > 2;
    if (/Unable to decrypt PKCS#8 ShroudedKeyBag/.test(message) && !hasMac) {
      throw new InvalidCredentialInput(`The ${what}'s private key did not decrypt with the ${passwordLabel} given: wrong ${passwordLabel}.`, {
        field: passwordField,
        cause,
        remedy: `Check the ${passwordLabel}; this file has no integrity MAC, so only the key could tell.`,
      });
    }
    if (/Unable to decrypt PKCS#8 ShroudedKeyBag/.test(message)) {
      throw new InvalidCredentialInput(
        `The ${what} opened with the ${passwordLabel}, but its private key is protected by a different password.`,
        {
          field: keyPasswordField,
          cause,
          remedy:
            "PKCS#12 keeps one password for store and key (keytool ignores -keypass for PKCS12); re-export the key with " +
            "keytool -importkeystore so both passwords are the same.",
        },
      );
    }
    if (/not an PKCS#12 PFX|version other than 3|password integrity mode|not an OCTET STRING/.test(message)) {
      throw notPkcs12(what, fileField, "it is DER but not a PKCS#12 PFX (version 3, password integrity)", cause);
    }
    throw notPkcs12(what, fileField, "its contents are corrupted or use an unsupported algorithm", cause);
  }

  const contents: Pkcs12Contents = { keys: [], certificates: [] };
  for (const safeContents of pfx.safeContents) {
    for (const bag of safeContents.safeBags) {
      const friendlyName = bag.attributes?.friendlyName?.[0] as string | undefined;
      const localKeyId = bag.attributes?.localKeyId?.[0] as string | undefined;
      const localKeyIdHex = localKeyId !== undefined ? forge.util.bytesToHex(localKeyId) : undefined;
      const anyBag = bag as unknown as { key?: forge.pki.PrivateKey | null; cert?: forge.pki.Certificate | null; asn1?: forge.asn1.Asn1 };
      if (bag.type === forge.pki.oids.pkcs8ShroudedKeyBag || bag.type === forge.pki.oids.keyBag) {
        const privateKey = anyBag.key
          ? createPrivateKey(forge.pki.privateKeyToPem(anyBag.key))
          : createPrivateKey({ key: derOf(anyBag.asn1), format: "der", type: "pkcs8" });
        contents.keys.push({ privateKey, friendlyName, localKeyIdHex });
      } else if (bag.type === forge.pki.oids.certBag) {
        const der = anyBag.cert ? (rawCertificates.get(anyBag.cert) ?? derOf(forge.pki.certificateToAsn1(anyBag.cert))) : derOf(anyBag.asn1);
        contents.certificates.push({ der, friendlyName, localKeyIdHex });
      }
    }
  }
  return contents;
}

/** True when the bytes start like a DER SEQUENCE (what every PKCS#12 starts with). */
export function looksLikePkcs12(file: Buffer): boolean {
  return file.length >= 2 && file[0] === 0x30;
}

// ---------------------------------------------------------------------------------------------------

function notPkcs12(what: string, field: string, why: string, cause?: unknown): InvalidCredentialInput {
  return new InvalidCredentialInput(`The ${what} is not a readable PKCS#12: ${why}.`, {
    field,
    cause,
    remedy: "Give the binary .p12/.pfx/keystore file itself, not a certificate, a PEM file or a copy cut short.",
  });
}

/** Classifies the outer DER header: a declared length beyond the end of the file means it was cut short. */
function checkOuterDer(file: Buffer, what: string, field: string): void {
  if (file.length === 0) {
    throw notPkcs12(what, field, "the file is empty");
  }
  if (file[0] !== 0x30) {
    throw notPkcs12(what, field, "it does not start with a DER SEQUENCE");
  }
  if (file.length < 2) throw truncated(what, field, file.length, undefined);
  const first = file[1];
  let length: number;
  let headerLength: number;
  if (first < 0x80) {
    length = first;
    headerLength = 2;
  } else {
    const n = first & 0x7f;
    if (n === 0) return; // BER indefinite length: no announced size to check against; the parser finds a cut end
    if (n > 4) throw notPkcs12(what, field, "its outer length is not a valid DER length");
    if (file.length < 2 + n) throw truncated(what, field, file.length, undefined);
    length = file.readUIntBE(2, n);
    headerLength = 2 + n;
  }
  const expected = headerLength + length;
  if (file.length < expected) throw truncated(what, field, file.length, expected);
  if (file.length > expected) {
    throw notPkcs12(what, field, `${file.length - expected} unexpected bytes follow the end of its DER structure`);
  }
}

function truncated(what: string, field: string, actual: number, expected: number | undefined): InvalidCredentialInput {
  const size = expected !== undefined ? `${actual} of the ${expected} bytes its header announces` : `only ${actual} bytes`;
  return new InvalidCredentialInput(`The ${what} is truncated: it holds ${size}.`, {
    field,
    remedy: "The file was cut short (an interrupted copy or download, or a size limit); give the complete file.",
  });
}

/**
 * forge keeps only the parsed certificate of a cert bag and would re-encode it (rebuilding the signature
 * AlgorithmIdentifier); capture the DER of the ASN.1 it parsed so fingerprints are those of the stored bytes.
 * forge's parser is synchronous, so the wrapper is in place only for this one call.
 */
function withRawCertificateCapture<T>(into: WeakMap<forge.pki.Certificate, Buffer>, parse: () => T): T {
  const pki = forge.pki as unknown as { certificateFromAsn1: (obj: forge.asn1.Asn1, computeHash?: boolean) => forge.pki.Certificate };
  const original = pki.certificateFromAsn1;
  pki.certificateFromAsn1 = (obj, computeHash) => {
    const cert = original(obj, computeHash);
    into.set(cert, derOf(obj));
    return cert;
  };
  try {
    return parse();
  } finally {
    pki.certificateFromAsn1 = original;
  }
}

type Pbkdf2 = (p: string, s: string, c: number, dkLen: number, md?: unknown, callback?: unknown) => string;
const NATIVE_PRFS = new Set(["sha1", "sha256", "sha384", "sha512"]);

/**
 * forge runs PBKDF2 in pure JavaScript whenever the PRF comes as a digest object, which its PKCS#8
 * and PBES2 code always passes (10000 rounds of HMAC-SHA256 for the aes256 profile: ~40 ms of
 * blocked event loop per keystore); given the digest's name, forge itself takes Node's native
 * crypto.pbkdf2Sync. Same derivation, same bytes. Synchronous like the call it wraps.
 */
function withNativePbkdf2<T>(fn: () => T): T {
  const pkcs5 = forge.pkcs5 as unknown as { pbkdf2: Pbkdf2 };
  const original = pkcs5.pbkdf2;
  pkcs5.pbkdf2 = (p, s, c, dkLen, md, callback) => {
    const name = md && typeof md === "object" ? (md as { algorithm?: string }).algorithm : undefined;
    return original(p, s, c, dkLen, name && NATIVE_PRFS.has(name) ? name : md, callback);
  };
  try {
    return fn();
  } finally {
    pkcs5.pbkdf2 = original;
  }
}

function derOf(asn1: forge.asn1.Asn1 | undefined): Buffer {
  if (!asn1) throw new Error("PKCS#12 bag without content");
  return Buffer.from(forge.asn1.toDer(asn1).getBytes(), "binary");
}

/**
 * forge re-encodes certificates when it writes them; refuse one it would not reproduce byte for byte,
 * because a changed encoding changes the fingerprint Play Console or Apple knows the certificate by.
 */
function forgeCertificateExact(der: Buffer): forge.pki.Certificate {
  let cert: forge.pki.Certificate | undefined;
  try {
    cert = forge.pki.certificateFromAsn1(forge.asn1.fromDer(forge.util.createBuffer(der.toString("binary"))));
  } catch {
    cert = undefined; // forge reads only certificates with RSA public keys
  }
  if (!cert || !derOf(forge.pki.certificateToAsn1(cert)).equals(der)) {
    throw new InvalidCredentialInput("The certificate cannot be re-encoded byte for byte into a PKCS#12 by node-forge.", {
      field: "certificates",
      remedy: "Write a JKS keystore (certificates are kept as they are), or convert with keytool -importkeystore.",
    });
  }
  return cert;
}
