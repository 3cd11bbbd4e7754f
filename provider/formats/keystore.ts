/**
 * Android keystores: generate one (PKCS12 by default, JKS on request) or open an existing one and say
 * precisely what is wrong with it. What Gradle's signingConfig, apksigner and Play Console need:
 * the file, alias, passwords, and the upload certificate with its fingerprints.
 *
 * Google Play's validity rule (ends after 2033-10-22) is a platform rule and lives in
 * provider/rules/android-validity.ts; callers apply it to `resolveNotAfter(...)` before generating.
 */
import { generateKeyPair, generateKeyPairSync, KeyObject, randomBytes } from "crypto";
import { promisify } from "util";
import { InvalidCredentialInput } from "../errors";
import { isJceks, isJks, readJks, recoverJksKey, writeJks } from "./jks";
import { buildPkcs12, looksLikePkcs12, parsePkcs12 } from "./pkcs12";
import {
  certificateFacts,
  certificateMatchesKey,
  createSelfSignedCertificate,
  DistinguishedName,
  Fingerprints,
  publicKeyFacts,
  validateDistinguishedName,
} from "./x509";

export type KeystoreFormat = "PKCS12" | "JKS";
export type AndroidKeySize = 2048 | 4096;

const generateKeyPairAsync = promisify(generateKeyPair);

/** keytool's and the Android docs' `-validity 10000` (about 27 years): meets Play's "25 years or more". */
export const DEFAULT_VALIDITY_DAYS = 10000;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface GenerateKeystoreInput {
  alias: string;
  dname: DistinguishedName;
  /** RSA modulus bits; 2048 is what Play's upload-key reset template asks for. Default 2048. */
  keySize?: AndroidKeySize;
  /** Validity in calendar years from now; give this or notAfter, not both. Default: 10000 days. */
  validityYears?: number;
  notAfter?: Date | string;
  /** Default PKCS12. */
  format?: KeystoreFormat;
  /** Random (32 hex chars) when absent. Printable ASCII, at least 6 characters (keytool's minimum). */
  storePassword?: string;
  /**
   * Only JKS may have a different one. When absent: PKCS12 uses storePassword; JKS uses storePassword if that
   * was given (as keytool does), otherwise its own random password.
   */
  keyPassword?: string;
  /** The clock, for tests; now when absent. */
  now?: Date;
}

export interface KeystoreCertificate {
  /** The upload certificate as `keytool -export -rfc` gives it: what Play Console asks for. */
  certificatePem: string;
  certificateDer: Buffer;
  fingerprints: Fingerprints;
  subject: string;
  serialNumber: string;
  notBefore: string;
  notAfter: string;
  keyAlgorithm: string;
  keySize: number;
}

export interface GeneratedKeystore extends KeystoreCertificate {
  file: Buffer;
  format: KeystoreFormat;
  alias: string;
  storePassword: string;
  keyPassword: string;
}

export interface OpenKeystoreOptions {
  storePassword: string;
  alias: string;
  /** Defaults to the store password (keytool's behaviour when -keypass is not given). */
  keyPassword?: string;
  /** The format the user says the file is; checked against the bytes when given. */
  format?: KeystoreFormat;
}

export interface OpenedKeystore extends KeystoreCertificate {
  format: KeystoreFormat;
  /** The entry's alias as stored in the file (matching is case-insensitive, as in keytool). */
  alias: string;
  /** Every alias in the file. */
  aliases: string[];
  privateKey: KeyObject;
  /** The entry's chain as DER, its own certificate first. */
  chain: Buffer[];
}

export interface WriteKeystoreInput {
  format: KeystoreFormat;
  alias: string;
  privateKey: KeyObject;
  certificates: Buffer[];
  storePassword: string;
  /** Must equal storePassword for PKCS12. Defaults to storePassword. */
  keyPassword?: string;
  /** JKS entry date; now when absent. */
  date?: Date;
}

/** Generates an RSA key and self-signed SHA256withRSA certificate in a new keystore. */
export function generateKeystore(input: GenerateKeystoreInput): GeneratedKeystore {
  const plan = planKeystore(input);
  // Native key generation: forge's pure-JS RSA is far slower, above all at 4096 bits.
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: plan.keySize, publicExponent: 0x10001 });
  return buildKeystore(input, plan, privateKey);
}

/**
 * generateKeystore, with the RSA key made on libuv's thread pool: the event loop goes on serving
 * other work meanwhile (a provider process creating many keystores at once uses every core).
 */
export async function generateKeystoreAsync(input: GenerateKeystoreInput): Promise<GeneratedKeystore> {
  const plan = planKeystore(input);
  const { privateKey } = await generateKeyPairAsync("rsa", { modulusLength: plan.keySize, publicExponent: 0x10001 });
  return buildKeystore(input, plan, privateKey);
}

interface KeystorePlan {
  format: KeystoreFormat;
  keySize: AndroidKeySize;
  now: Date;
  notAfter: Date;
  storePassword: string;
  keyPassword: string;
}

/** Checks the input and settles everything but the key. */
function planKeystore(input: GenerateKeystoreInput): KeystorePlan {
  const format = input.format ?? "PKCS12";
  if (format !== "PKCS12" && format !== "JKS") {
    throw new InvalidCredentialInput(`The keystore format "${String(format)}" is not supported.`, {
      field: "format",
      remedy: 'Use "PKCS12" (the default, and Java\'s default since JDK 9) or "JKS".',
    });
  }
  validateAlias(input.alias);
  validateDistinguishedName(input.dname);
  const keySize = input.keySize ?? 2048;
  if (keySize !== 2048 && keySize !== 4096) {
    throw new InvalidCredentialInput(`The key size ${String(keySize)} is not supported.`, {
      field: "keySize",
      remedy: "Use 2048 (what Play's upload-key template asks for) or 4096.",
    });
  }
  const now = input.now ?? new Date();
  const notAfter = resolveNotAfter(input, now);
  const { storePassword, keyPassword } = resolvePasswords(format, input.storePassword, input.keyPassword);
  return { format, keySize, now, notAfter, storePassword, keyPassword };
}

function buildKeystore(input: GenerateKeystoreInput, plan: KeystorePlan, privateKey: KeyObject): GeneratedKeystore {
  const { format, now, notAfter, storePassword, keyPassword } = plan;
  const certificateDer = createSelfSignedCertificate({ privateKey, subject: input.dname, notBefore: now, notAfter });
  const file = writeKeystore({ format, alias: input.alias, privateKey, certificates: [certificateDer], storePassword, keyPassword, date: now });
  return { file, format, alias: input.alias, storePassword, keyPassword, ...describeCertificate(certificateDer) };
}

/** Writes a keystore from key material (generated, or opened from another keystore). */
export function writeKeystore(input: WriteKeystoreInput): Buffer {
  if (input.format !== "PKCS12" && input.format !== "JKS") {
    throw new InvalidCredentialInput(`The keystore format "${String(input.format)}" is not supported.`, { field: "format" });
  }
  const keyPassword = input.keyPassword ?? input.storePassword;
  validateAlias(input.alias);
  if (input.certificates.length === 0 || !certificateMatchesKey(input.certificates[0], input.privateKey)) {
    throw new InvalidCredentialInput("The certificate does not belong to the private key.", { field: "certificates" });
  }
  if (input.format === "PKCS12") {
    if (keyPassword !== input.storePassword) throw pkcs12OnePassword();
    // friendlyName is the alias Java, keytool and Gradle see (without it Java names the entry "1").
    return buildPkcs12({
      privateKey: input.privateKey,
      certificates: input.certificates,
      password: input.storePassword,
      friendlyName: input.alias,
      algorithm: "aes256",
    });
  }
  return writeJks({
    alias: input.alias,
    privateKey: input.privateKey,
    certificates: input.certificates,
    storePassword: input.storePassword,
    keyPassword,
    date: input.date,
  });
}

/** The format the bytes are in: JKS by its magic number, PKCS12 by its DER start; undefined otherwise. */
export function detectKeystoreFormat(file: Buffer): KeystoreFormat | undefined {
  if (isJks(file)) return "JKS";
  if (looksLikePkcs12(file)) return "PKCS12";
  return undefined;
}

/**
 * Opens a keystore and checks, in order: it is a keystore and complete; the store password opens it;
 * the alias exists; the entry holds a private key with its certificate; the key password decrypts the key.
 * Each failure is an InvalidCredentialInput naming the field at fault. Nothing is written anywhere.
 */
export function openKeystore(file: Buffer, options: OpenKeystoreOptions): OpenedKeystore {
  if (!Buffer.isBuffer(file)) {
    throw new InvalidCredentialInput("The keystore must be given as bytes.", { field: "keystore" });
  }
  const detected = detectKeystoreFormat(file);
  if (detected === undefined) throw notAKeystore(file);
  if (options.format !== undefined && options.format !== detected) {
    throw new InvalidCredentialInput(`The keystore is ${detected}, not ${options.format} as its format input says.`, {
      field: "format",
      remedy: `Set format to "${detected}" (Gradle's storeType must match too).`,
    });
  }
  const keyPassword = options.keyPassword ?? options.storePassword;
  return detected === "JKS"
    ? openJks(file, options.storePassword, options.alias, keyPassword, options.keyPassword !== undefined)
    : openPkcs12(file, options.storePassword, options.alias, keyPassword);
}

/** notAfter from the inputs: an explicit date, or now + validityYears, or now + 10000 days. */
export function resolveNotAfter(input: Pick<GenerateKeystoreInput, "validityYears" | "notAfter">, now: Date): Date {
  if (input.validityYears !== undefined && input.notAfter !== undefined) {
    throw new InvalidCredentialInput("Give validityYears or notAfter, not both.", { field: "notAfter" });
  }
  if (input.notAfter !== undefined) {
    const date = input.notAfter instanceof Date ? new Date(input.notAfter.getTime()) : new Date(input.notAfter);
    if (Number.isNaN(date.getTime())) {
      throw new InvalidCredentialInput(`notAfter "${String(input.notAfter)}" is not a date.`, {
        field: "notAfter",
        remedy: 'Use an ISO date such as "2055-01-01T00:00:00Z".',
      });
    }
    if (date.getTime() <= now.getTime()) {
      throw new InvalidCredentialInput(`notAfter ${date.toISOString()} is not in the future.`, { field: "notAfter" });
    }
    return date;
  }
  if (input.validityYears !== undefined) {
    const years = input.validityYears;
    if (typeof years !== "number" || !Number.isInteger(years) || years < 1 || years > 1000) {
      throw new InvalidCredentialInput(`validityYears must be a whole number of years from 1 to 1000 (got ${String(years)}).`, {
        field: "validityYears",
      });
    }
    const end = new Date(now.getTime());
    end.setUTCFullYear(end.getUTCFullYear() + years);
    return end;
  }
  return new Date(now.getTime() + DEFAULT_VALIDITY_DAYS * DAY_MS);
}

/** 32 hex characters from 16 random bytes, as EAS generates keystore secrets. */
export function randomKeystorePassword(): string {
  return randomBytes(16).toString("hex");
}

// ---------------------------------------------------------------------------------------------------

function openJks(file: Buffer, storePassword: string, alias: string, keyPassword: string, keyPasswordGiven: boolean): OpenedKeystore {
  const entries = readJks(file, { storePassword, what: "JKS keystore" });
  const aliases = entries.map((e) => e.alias);
  const entry = entries.find((e) => sameAlias(e.alias, alias));
  if (!entry) throw aliasMissing(alias, aliases);
  if (entry.type !== "PrivateKeyEntry") throw notAKeyEntry(entry.alias);
  if (entry.certificates.length === 0) throw noCertificate(entry.alias);
  let privateKey: KeyObject;
  try {
    privateKey = recoverJksKey(entry, keyPassword, { what: "JKS keystore" });
  } catch (e) {
    if (keyPasswordGiven || !(e instanceof InvalidCredentialInput) || e.field !== "keyPassword") throw e;
    throw new InvalidCredentialInput(
      `The JKS keystore opened, but the key of entry "${entry.alias}" is not protected by the store password, and no keyPassword was given.`,
      { field: "keyPassword", cause: e, remedy: "Give keyPassword: JKS keys can have their own password (keytool -keypass)." },
    );
  }
  return opened("JKS", entry.alias, aliases, privateKey, entry.certificates);
}

function openPkcs12(file: Buffer, storePassword: string, alias: string, keyPassword: string): OpenedKeystore {
  const contents = parsePkcs12(file, {
    password: storePassword,
    what: "keystore",
    passwordLabel: "store password",
    fields: { file: "keystore", password: "storePassword", keyPassword: "keyPassword" },
  });

  // Java's PKCS12KeyStore: a key bag is an entry named by its friendlyName (or "1", "2"... without one),
  // paired with the certificate that has the same localKeyId; certificates alone are trusted entries.
  const keyEntries = contents.keys.map((key, i) => ({ ...key, alias: key.friendlyName ?? String(i + 1) }));
  const pairedIds = new Set(keyEntries.map((k) => k.localKeyIdHex).filter((id): id is string => id !== undefined));
  const trustedAliases = contents.certificates
    .filter((c) => c.friendlyName !== undefined && (c.localKeyIdHex === undefined || !pairedIds.has(c.localKeyIdHex)))
    .map((c) => c.friendlyName as string);
  const aliases = [...keyEntries.map((k) => k.alias), ...trustedAliases];

  const entry = keyEntries.find((k) => sameAlias(k.alias, alias));
  if (!entry) {
    const trusted = trustedAliases.find((a) => sameAlias(a, alias));
    if (trusted !== undefined) throw notAKeyEntry(trusted);
    throw aliasMissing(alias, aliases);
  }
  // PKCS#12 has one password for store and key (keytool ignores -keypass, apksigner fails "Wrong password?").
  if (keyPassword !== storePassword) {
    throw new InvalidCredentialInput(
      `The key password is wrong for entry "${entry.alias}": in a PKCS12 keystore the key is protected by the store password.`,
      {
        field: "keyPassword",
        remedy: "Leave keyPassword out or set it equal to storePassword (PKCS12 keeps one password for store and key).",
      },
    );
  }
  const own =
    contents.certificates.find((c) => entry.localKeyIdHex !== undefined && c.localKeyIdHex === entry.localKeyIdHex) ??
    contents.certificates.find((c) => certificateMatchesKey(c.der, entry.privateKey));
  if (!own) throw noCertificate(entry.alias);
  const rest = contents.certificates.filter((c) => c !== own).map((c) => c.der);
  return opened("PKCS12", entry.alias, aliases, entry.privateKey, [own.der, ...rest]);
}

function opened(format: KeystoreFormat, alias: string, aliases: string[], privateKey: KeyObject, chain: Buffer[]): OpenedKeystore {
  if (!certificateMatchesKey(chain[0], privateKey)) {
    throw new InvalidCredentialInput(`The certificate of entry "${alias}" does not belong to its private key.`, {
      field: "keystore",
      remedy: "The keystore is inconsistent; export the key and its own certificate again (keytool -importkeystore).",
    });
  }
  return { format, alias, aliases, privateKey, chain, ...describeCertificate(chain[0], privateKey) };
}

function describeCertificate(der: Buffer, privateKey?: KeyObject): KeystoreCertificate {
  const facts = certificateFacts(der, { field: "keystore", what: "keystore's certificate" });
  const key = privateKey ? publicKeyFacts(privateKey) : facts.publicKey;
  return {
    certificatePem: facts.pem,
    certificateDer: facts.der,
    fingerprints: facts.fingerprints,
    subject: facts.subject,
    serialNumber: facts.serialNumber,
    notBefore: facts.notBefore,
    notAfter: facts.notAfter,
    keyAlgorithm: key.algorithm,
    keySize: key.size,
  };
}

function resolvePasswords(format: KeystoreFormat, storeInput?: string, keyInput?: string): { storePassword: string; keyPassword: string } {
  if (storeInput !== undefined) validatePassword(storeInput, "storePassword");
  if (keyInput !== undefined) validatePassword(keyInput, "keyPassword");
  const storePassword = storeInput ?? randomKeystorePassword();
  if (format === "PKCS12") {
    if (keyInput !== undefined && keyInput !== storePassword) throw pkcs12OnePassword();
    return { storePassword, keyPassword: storePassword };
  }
  // keytool's rule when only -storepass is given: the key gets the store password; with nothing given, two secrets (as EAS).
  return { storePassword, keyPassword: keyInput ?? storeInput ?? randomKeystorePassword() };
}

function validatePassword(value: string, field: string): void {
  // keytool refuses passwords under 6 characters; non-ASCII passwords derive different keys in Java and forge.
  if (typeof value !== "string" || value.length < 6 || !/^[\x20-\x7e]+$/.test(value)) {
    throw new InvalidCredentialInput(`The ${field} must be at least 6 printable ASCII characters.`, {
      field,
      remedy: "keytool refuses shorter passwords; leave it out to get a random 32-character one.",
    });
  }
}

function validateAlias(alias: string): void {
  if (typeof alias !== "string" || alias.trim() === "" || alias.length > 255 || hasControlCharacter(alias)) {
    throw new InvalidCredentialInput("The alias must be 1 to 255 printable characters.", {
      field: "alias",
      remedy: 'Use a short name such as "upload" (Gradle\'s keyAlias).',
    });
  }
}

/** keytool compares aliases case-insensitively (JavaKeyStore and PKCS12KeyStore lower-case them, Locale.ENGLISH). */
function sameAlias(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

function pkcs12OnePassword(): InvalidCredentialInput {
  return new InvalidCredentialInput("A PKCS12 keystore cannot have a key password different from its store password.", {
    field: "keyPassword",
    remedy: 'Leave keyPassword out (it then equals storePassword), or use format "JKS" for separate passwords.',
  });
}

function aliasMissing(alias: string, aliases: string[]): InvalidCredentialInput {
  const present = aliases.length ? aliases.map((a) => `"${a}"`).join(", ") : "none";
  return new InvalidCredentialInput(`The keystore has no entry with alias "${alias}". Aliases present: ${present}.`, {
    field: "alias",
    remedy: "Set alias to one of the aliases present (keytool -list shows them; case does not matter).",
  });
}

function notAKeyEntry(alias: string): InvalidCredentialInput {
  return new InvalidCredentialInput(`The keystore entry "${alias}" holds only a trusted certificate, no private key.`, {
    field: "alias",
    remedy: "Choose the alias of a PrivateKeyEntry (keytool -list shows the entry types).",
  });
}

function noCertificate(alias: string): InvalidCredentialInput {
  return new InvalidCredentialInput(`The keystore entry "${alias}" has a private key but no certificate for it.`, {
    field: "keystore",
    remedy: "Export the key together with its certificate (keytool -importkeystore keeps both).",
  });
}

function notAKeystore(file: Buffer): InvalidCredentialInput {
  if (isJceks(file)) {
    return new InvalidCredentialInput("The keystore is JCEKS, which is not supported.", {
      field: "keystore",
      remedy: "Convert it: keytool -importkeystore -srckeystore in.jceks -srcstoretype JCEKS -destkeystore out.p12 -deststoretype PKCS12.",
    });
  }
  const head = file.subarray(0, 64).toString("latin1");
  const why =
    file.length === 0
      ? "the file is empty"
      : head.includes("-----BEGIN ")
        ? "it is PEM text (a certificate or key), not a keystore"
        : "it is neither JKS (magic 0xFEEDFEED) nor PKCS12 (DER)";
  return new InvalidCredentialInput(`The file given as keystore is not a keystore: ${why}.`, {
    field: "keystore",
    remedy: "Give the keystore file itself (.jks, .keystore, .p12 or .pfx).",
  });
}

/** True when the text holds a C0 control character or DEL (newlines, NUL...). */
function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}
