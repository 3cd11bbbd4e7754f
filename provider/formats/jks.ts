/**
 * Java KeyStore (JKS), the Sun JDK's proprietary format (sun.security.provider.JavaKeyStore):
 *
 *   magic 0xFEEDFEED | version 2 | entry count | entries | SHA-1(password UTF-16BE | "Mighty Aphrodite" | all before)
 *   private-key entry: tag 1 | alias (Java modified UTF-8) | date (ms) | EncryptedPrivateKeyInfo | chain
 *   trusted-cert entry: tag 2 | alias | date | certificate
 *
 * No maintained npm package writes JKS, so the writer is here (proven by keytool and apksigner in the tests).
 * Reading goes through jks-js (an independent, maintained reader) after a structural walk of our own that
 * tells a truncated file from a wrong password, which jks-js reports alike.
 */
import { createHash, createPrivateKey, KeyObject, randomBytes } from "crypto";
import * as forge from "node-forge";
import { InvalidCredentialInput } from "../errors";

/** JKS files start with 0xFEEDFEED; JCEKS (a different, unsupported format) with 0xCECECECE. */
export const JKS_MAGIC = 0xfeedfeed;
export const JCEKS_MAGIC = 0xcececece;
const JKS_VERSION_2 = 2;
const TAG_PRIVATE_KEY = 1;
const TAG_TRUSTED_CERT = 2;
/** Sun's proprietary key protector (SHA-1 keystream XOR), the only one JKS uses: 1.3.6.1.4.1.42.2.17.1.1. */
export const SUN_KEY_PROTECTOR_OID = "1.3.6.1.4.1.42.2.17.1.1";
const INTEGRITY_WHITENER = Buffer.from("Mighty Aphrodite", "utf8");
const SHA1_LENGTH = 20;

export interface WriteJksInput {
  alias: string;
  privateKey: KeyObject;
  /** DER certificates: the key's own first, then its chain. */
  certificates: Buffer[];
  storePassword: string;
  keyPassword: string;
  /** The entry's creation date; now when absent. */
  date?: Date;
}

export interface JksEntry {
  alias: string;
  type: "PrivateKeyEntry" | "trustedCertEntry";
  date: Date;
  /** DER: the chain for a private-key entry (own certificate first), the one certificate for a trusted entry. */
  certificates: Buffer[];
  /** The key as stored (Sun-protected EncryptedPrivateKeyInfo), for private-key entries. */
  protectedKey?: Buffer;
}

export interface ReadJksOptions {
  storePassword: string;
  /** What the file is, for messages. */
  what?: string;
  /** Input fields blamed per failure; defaults: file "keystore", store password "storePassword", key password "keyPassword". */
  fields?: { file?: string; storePassword?: string; keyPassword?: string };
}

/** Writes a JKS with one private-key entry, as `keytool -genkeypair -storetype JKS` would. */
export function writeJks(input: WriteJksInput): Buffer {
  if (input.certificates.length === 0) {
    throw new InvalidCredentialInput("A JKS private-key entry needs the key's certificate.", { field: "certificates" });
  }
  const out: Buffer[] = [];
  out.push(u32(JKS_MAGIC), u32(JKS_VERSION_2), u32(1));
  out.push(u32(TAG_PRIVATE_KEY), javaUtf(input.alias, "alias"), u64((input.date ?? new Date()).getTime()));
  const protectedKey = protectKey(input.privateKey, input.keyPassword);
  out.push(u32(protectedKey.length), protectedKey);
  out.push(u32(input.certificates.length));
  for (const der of input.certificates) {
    out.push(javaUtf("X.509", "certificate type"), u32(der.length), der);
  }
  const body = Buffer.concat(out);
  return Buffer.concat([body, integrityDigest(input.storePassword, body)]);
}

/** True when the file starts with the JKS magic number. */
export function isJks(file: Buffer): boolean {
  return file.length >= 4 && file.readUInt32BE(0) === JKS_MAGIC;
}

/** True when the file starts with the JCEKS magic number (readable by keytool, not by us). */
export function isJceks(file: Buffer): boolean {
  return file.length >= 4 && file.readUInt32BE(0) === JCEKS_MAGIC;
}

/**
 * Opens a JKS with its store password and lists its entries. Failures are InvalidCredentialInput:
 * truncated, not a JKS / corrupted, wrong store password; each with its own message.
 */
export function readJks(file: Buffer, options: ReadJksOptions): JksEntry[] {
  const what = options.what ?? "keystore";
  const fileField = options.fields?.file ?? "keystore";
  const passwordField = options.fields?.storePassword ?? "storePassword";

  const bodyLength = walkStructure(file, what, fileField);
  const body = file.subarray(0, bodyLength);
  if (!integrityDigest(options.storePassword, body).equals(file.subarray(bodyLength))) {
    // keytool says "Keystore was tampered with, or password was incorrect"; the structure is intact, so the password is the likely cause.
    throw new InvalidCredentialInput(`The ${what} did not open with the store password given: wrong store password (integrity check failed).`, {
      field: passwordField,
      remedy: "Check the store password (keytool -list -keystore FILE asks for it); the file itself is a well-formed JKS.",
    });
  }

  const jks = require("jks-js") as typeof import("jks-js");
  let parsed: ReturnType<typeof jks.parseJks>;
  try {
    parsed = jks.parseJks(file, options.storePassword);
  } catch (cause) {
    throw new InvalidCredentialInput(`The ${what} is a JKS that jks-js cannot read: it is corrupted.`, { field: fileField, cause });
  }
  return parsed.map((entry): JksEntry => {
    if ("protectedPrivateKey" in entry) {
      return {
        alias: entry.alias,
        type: "PrivateKeyEntry",
        date: entry.date,
        certificates: entry.chain.map((c) => Buffer.from(c.value)),
        protectedKey: Buffer.from(entry.protectedPrivateKey),
      };
    }
    return { alias: entry.alias, type: "trustedCertEntry", date: entry.date, certificates: [Buffer.from(entry.cert.value)] };
  });
}

/** Recovers a private-key entry's key with its key password (jks-js's Sun key protector). */
export function recoverJksKey(entry: JksEntry, keyPassword: string, options: Omit<ReadJksOptions, "storePassword"> = {}): KeyObject {
  const what = options.what ?? "keystore";
  const keyField = options.fields?.keyPassword ?? "keyPassword";
  if (!entry.protectedKey) {
    throw new InvalidCredentialInput(`The ${what} entry "${entry.alias}" holds a trusted certificate, not a private key.`, {
      field: "alias",
    });
  }
  const jks = require("jks-js") as typeof import("jks-js");
  let pem: string;
  try {
    pem = jks.decrypt(entry.protectedKey, keyPassword);
  } catch (cause) {
    const message = cause instanceof Error ? cause.message : String(cause);
    if (/Cannot recover key/.test(message)) {
      throw new InvalidCredentialInput(
        `The ${what} opened, but the key of entry "${entry.alias}" did not decrypt with the key password given: wrong key password.`,
        {
          field: keyField,
          cause,
          remedy: "Check the key password; in JKS it may differ from the store password (keytool -keypass).",
        },
      );
    }
    throw new InvalidCredentialInput(`The key of entry "${entry.alias}" in the ${what} uses a protection jks-js cannot read.`, {
      field: options.fields?.file ?? "keystore",
      cause,
      remedy: "Convert the keystore with keytool -importkeystore -deststoretype PKCS12 and import that.",
    });
  }
  return createPrivateKey(pem);
}

// ---------------------------------------------------------------------------------------------------

/** Sun KeyProtector.protect: salt | key XOR SHA-1 keystream(password, salt) | SHA-1(password | key). */
function protectKey(privateKey: KeyObject, keyPassword: string): Buffer {
  const plain = privateKey.export({ type: "pkcs8", format: "der" });
  const password = utf16be(keyPassword);
  const salt = randomBytes(SHA1_LENGTH);
  const stream: Buffer[] = [];
  let block = salt;
  for (let produced = 0; produced < plain.length; produced += SHA1_LENGTH) {
    block = createHash("sha1").update(password).update(block).digest();
    stream.push(block);
  }
  const keystream = Buffer.concat(stream);
  const encrypted = Buffer.alloc(plain.length);
  for (let i = 0; i < plain.length; i++) encrypted[i] = plain[i] ^ keystream[i];
  const check = createHash("sha1").update(password).update(plain).digest();
  const protectedBytes = Buffer.concat([salt, encrypted, check]);
  plain.fill(0);

  const { asn1 } = forge;
  const info = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(SUN_KEY_PROTECTOR_OID).getBytes()),
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, ""),
    ]),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, protectedBytes.toString("binary")),
  ]);
  return Buffer.from(asn1.toDer(info).getBytes(), "binary");
}

/** The keyed integrity hash JavaKeyStore appends: SHA-1 over password (UTF-16BE), "Mighty Aphrodite", body. */
function integrityDigest(storePassword: string, body: Buffer): Buffer {
  return createHash("sha1").update(utf16be(storePassword)).update(INTEGRITY_WHITENER).update(body).digest();
}

/**
 * Walks the JKS layout without decrypting anything; returns the body length (everything before the
 * 20-byte integrity hash). Running out of bytes anywhere means the file was cut short.
 */
function walkStructure(file: Buffer, what: string, field: string): number {
  const notJks = (why: string) =>
    new InvalidCredentialInput(`The ${what} is not a JKS keystore: ${why}.`, {
      field,
      remedy: "Give the keystore file itself (.jks/.keystore/.p12), not a certificate, a PEM file or another file.",
    });
  const cut = () =>
    new InvalidCredentialInput(`The ${what} is truncated: its JKS structure ends early (${file.length} bytes).`, {
      field,
      remedy: "The file was cut short (an interrupted copy or download, or a size limit); give the complete file.",
    });
  if (file.length < 4) {
    const magic = Buffer.alloc(4);
    magic.writeUInt32BE(JKS_MAGIC);
    if (file.length > 0 && magic.subarray(0, file.length).equals(file)) throw cut();
    throw notJks(file.length === 0 ? "the file is empty" : "it is too short to be a keystore");
  }
  if (isJceks(file)) {
    throw new InvalidCredentialInput(`The ${what} is a JCEKS keystore, which is not supported.`, {
      field,
      remedy: "Convert it: keytool -importkeystore -srckeystore in.jceks -srcstoretype JCEKS -destkeystore out.p12 -deststoretype PKCS12.",
    });
  }
  if (!isJks(file)) throw notJks("it does not start with the JKS magic number 0xFEEDFEED");

  let offset = 4;
  const need = (n: number) => {
    if (offset + n > file.length) throw cut();
  };
  const readU32 = () => {
    need(4);
    const v = file.readUInt32BE(offset);
    offset += 4;
    return v;
  };
  const skip = (n: number) => {
    need(n);
    offset += n;
  };
  const skipUtf = () => {
    need(2);
    const n = file.readUInt16BE(offset);
    offset += 2;
    skip(n);
  };

  const version = readU32();
  if (version !== 1 && version !== 2) throw notJks(`its version ${version} is neither 1 nor 2`);
  const count = readU32();
  for (let i = 0; i < count; i++) {
    const tag = readU32();
    skipUtf(); // alias
    skip(8); // date
    if (tag === TAG_PRIVATE_KEY) {
      skip(readU32()); // protected key
      const chain = readU32();
      for (let c = 0; c < chain; c++) {
        if (version === 2) skipUtf(); // certificate type
        skip(readU32());
      }
    } else if (tag === TAG_TRUSTED_CERT) {
      if (version === 2) skipUtf();
      skip(readU32());
    } else {
      throw notJks(`entry ${i + 1} has an unknown tag ${tag} (the file is corrupted)`);
    }
  }
  need(SHA1_LENGTH);
  if (file.length > offset + SHA1_LENGTH) {
    throw notJks(`${file.length - offset - SHA1_LENGTH} unexpected bytes follow its integrity hash (the file is corrupted)`);
  }
  return offset;
}

/** Java's char[] as bytes: each UTF-16 code unit big-endian (what keytool hashes). */
function utf16be(text: string): Buffer {
  const out = Buffer.alloc(text.length * 2);
  for (let i = 0; i < text.length; i++) out.writeUInt16BE(text.charCodeAt(i), i * 2);
  return out;
}

/** DataOutputStream.writeUTF: 2-byte length, then Java's modified UTF-8 (NUL as C0 80, surrogates one by one). */
function javaUtf(text: string, what: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x01 && c <= 0x7f) bytes.push(c);
    else if (c <= 0x7ff) bytes.push(0xc0 | (c >> 6), 0x80 | (c & 0x3f));
    else bytes.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
  }
  if (bytes.length > 0xffff) {
    throw new InvalidCredentialInput(`The ${what} is too long for a JKS (at most 65535 bytes).`, { field: what });
  }
  const length = Buffer.alloc(2);
  length.writeUInt16BE(bytes.length);
  return Buffer.concat([length, Buffer.from(bytes)]);
}

function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value >>> 0);
  return b;
}

function u64(value: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt(value));
  return b;
}
