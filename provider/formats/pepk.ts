/**
 * Instructions for Google's PEPK tool ("Play Encrypt Private Key"), which Play Console's
 * "Export and upload a key from Java keystore" step asks for when an app enrols with its own app-signing key.
 *
 * PEPK is closed source and its current scheme (RSA-OAEP + AES key wrap, `--rsa-aes-encryption`) is known
 * only from error traces: we never imitate it. We write out the exact command and the steps; the user runs
 * Google's jar, which prompts for the passwords (so they never appear on a command line).
 */
import { createPublicKey } from "crypto";
import { readFileSync } from "fs";
import { InvalidCredentialInput } from "../errors";

export interface PepkInput {
  /** Where the app-signing keystore has been (or will be) written. */
  keystorePath: string;
  alias: string;
  /** The file PEPK writes and Play Console takes ("Upload generated ZIP"). */
  outputPath: string;
  /** Current consoles: the `encryption_public_key.pem` downloaded from the console (an RSA public key). */
  encryptionKeyPath?: string;
  /** Older consoles: the 136-hex-character key shown in the `--encryptionkey=` command. */
  encryptionKeyHex?: string;
  /** Where pepk.jar was saved; "pepk.jar" (current directory) by default. */
  pepkJarPath?: string;
  /** The certificate's SHA-256 fingerprint, for the user to compare with what Play Console shows afterwards. */
  certificateSha256?: string;
}

export interface PepkInstructions {
  /** `rsa-aes`: `--rsa-aes-encryption --encryption-key-path=`; `legacy-hex`: `--encryptionkey=<hex>`. */
  scheme: "rsa-aes" | "legacy-hex";
  /** The program and its arguments, unquoted, for execFile. */
  argv: string[];
  /** The same as one POSIX shell line, quoted where needed. */
  command: string;
  /** Numbered steps, in order. */
  steps: string[];
}

/** A P-256 key as older Play Consoles print it: 4-byte key id + 64-byte uncompressed point = 68 bytes. */
const LEGACY_KEY_HEX = /^[0-9a-fA-F]{136}$/;

/** Builds the pepk command line (the form is chosen by which encryption key input is given) and the steps. */
export function pepkInstructions(input: PepkInput): PepkInstructions {
  requireText(input.keystorePath, "keystorePath");
  requireText(input.alias, "alias");
  requireText(input.outputPath, "outputPath");
  const hasPath = input.encryptionKeyPath !== undefined;
  const hasHex = input.encryptionKeyHex !== undefined;
  if (hasPath === hasHex) {
    throw new InvalidCredentialInput("Give exactly one of encryptionKeyPath (current Play Console) and encryptionKeyHex (older consoles).", {
      field: hasPath ? "encryptionKeyHex" : "encryptionKeyPath",
      remedy:
        'Play Console\'s "Export and upload a key from Java keystore" page offers either encryption_public_key.pem to download ' +
        "or, on older consoles, a command with --encryptionkey=<hex>.",
    });
  }

  const jar = input.pepkJarPath ?? "pepk.jar";
  const argv = ["java", "-jar", jar, `--keystore=${input.keystorePath}`, `--alias=${input.alias}`, `--output=${input.outputPath}`, "--include-cert"];
  let scheme: PepkInstructions["scheme"];
  if (hasPath) {
    validateRsaPublicKeyFile(input.encryptionKeyPath as string);
    scheme = "rsa-aes";
    argv.push("--rsa-aes-encryption", `--encryption-key-path=${input.encryptionKeyPath}`);
  } else {
    const hex = (input.encryptionKeyHex as string).trim();
    if (!LEGACY_KEY_HEX.test(hex)) {
      throw new InvalidCredentialInput(
        `encryptionKeyHex must be the 136 hexadecimal characters Play Console shows (got ${hex.length} characters${/^[0-9a-fA-F]*$/.test(hex) ? "" : ", not all hexadecimal"}).`,
        { field: "encryptionKeyHex", remedy: "Copy the value after --encryptionkey= from the console's command, without spaces." },
      );
    }
    scheme = "legacy-hex";
    argv.push(`--encryptionkey=${hex.toLowerCase()}`);
  }
  const command = argv.map(shellQuote).join(" ");

  const steps = [
    'In Play Console, open the app, then App integrity > Play app signing, and choose "Use a different key" > ' +
      '"Export and upload a key from Java keystore".',
    hasPath
      ? `Download the PEPK tool (pepk.jar) and the encryption public key from that page; save them as ${jar} and ${input.encryptionKeyPath}.`
      : `Download the PEPK tool (pepk.jar) from that page and save it as ${jar}; the encryption key is the one in the command below.`,
    `Write the app-signing keystore (alias "${input.alias}") to ${input.keystorePath}.`,
    `With Java 8 or newer, run:\n   ${command}\n   pepk asks for the keystore password, then the key password (for a PKCS12 keystore both are the store password).`,
    `Upload ${input.outputPath} on the same Play Console page ("Upload generated ZIP") and save.` +
      (input.certificateSha256 ? ` Play Console then shows the app signing key's SHA-256 fingerprint; it must be ${input.certificateSha256}.` : ""),
    `Delete ${input.keystorePath} and ${input.outputPath} from this machine: the keystore stays in the store, and Google keeps the key from now on.`,
  ].map((text, i) => `${i + 1}. ${text}`);

  return { scheme, argv, command, steps };
}

// ---------------------------------------------------------------------------------------------------

function validateRsaPublicKeyFile(path: string): void {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (cause) {
    throw new InvalidCredentialInput(`The encryption key file ${path} cannot be read.`, {
      field: "encryptionKeyPath",
      cause,
      remedy: 'Download encryption_public_key.pem from Play Console\'s "Export and upload a key from Java keystore" page.',
    });
  }
  const label = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(text)?.[1];
  if (label !== "PUBLIC KEY" && label !== "RSA PUBLIC KEY") {
    throw new InvalidCredentialInput(
      label
        ? `The encryption key file ${path} holds a PEM "${label}", not the RSA public key Play Console provides.`
        : `The encryption key file ${path} is not a PEM public key.`,
      { field: "encryptionKeyPath", remedy: "Use the encryption_public_key.pem file downloaded from Play Console, unchanged." },
    );
  }
  let type: string | undefined;
  try {
    type = createPublicKey(text).asymmetricKeyType;
  } catch (cause) {
    throw new InvalidCredentialInput(`The encryption key file ${path} is a damaged PEM public key.`, {
      field: "encryptionKeyPath",
      cause,
      remedy: "Download encryption_public_key.pem from Play Console again.",
    });
  }
  if (type !== "rsa") {
    throw new InvalidCredentialInput(`The encryption key file ${path} holds an ${type ?? "unknown"} public key; Play Console's is RSA.`, {
      field: "encryptionKeyPath",
      remedy: "Use the encryption_public_key.pem file downloaded from Play Console, unchanged.",
    });
  }
}

function requireText(value: string, field: string): void {
  if (typeof value !== "string" || value.trim() === "" || hasControlCharacter(value)) {
    throw new InvalidCredentialInput(`${field} must be a non-empty single line of text.`, { field });
  }
}

/** POSIX shell quoting: bare when safe, otherwise single quotes with embedded quotes escaped. */
function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_\-.,:/@=+%]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** True when the text holds a C0 control character or DEL (newlines, NUL...). */
function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}
