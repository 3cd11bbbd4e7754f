/**
 * android.PlayAppSigningOptIn: enrols an app that is still signed with its own (legacy) app-signing
 * key in Google Play App Signing, as Expo classic's `expo opt-in-google-play-signing` did. It
 *   1. imports the legacy app-signing keystore as is, sealed in the vault byte for byte, guarded
 *      against replacement and deletion (the backup of a key that can never be changed);
 *   2. creates a new upload keystore;
 *   3. outputs the upload certificate PEM, to register in Play Console;
 *   4. prepares the "Export and upload a key from Java keystore" step: the exact `pepk` command line
 *      (keystore path, alias, Play Console's encryption key) and the steps around it.
 * PEPK is Google's closed-source tool and its format is known only from error traces: the user runs
 * Google's jar on the keystore that `appsigning fetch` writes; nothing here imitates its encryption
 * (reference/android-and-storage.md §2).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { InvalidCredentialInput } from "../../errors";
import type { KeystoreFormat } from "../../formats/keystore";
import { pepkInstructions } from "../../formats/pepk";
import type { PepkInstructions } from "../../formats/pepk";
import type { DistinguishedName } from "../../formats/x509";
import type { StoreConfig } from "../../store";
import { Keystore } from "./keystore";
import type { KeystoreImport } from "./keystore";

export interface PlayAppSigningOptInArgs {
  store: pulumi.Input<StoreConfig>;
  /** Android application ID; both keystores are bound to it in the vault. */
  applicationId?: pulumi.Input<string>;
  /** The legacy app-signing keystore, exactly as the app has been signed with it. Imported, never regenerated. */
  appSigning: {
    import: pulumi.Input<KeystoreImport>;
    /** The key's alias in that keystore. */
    alias: pulumi.Input<string>;
    /** Checked against the file when given; the file's own format otherwise. */
    format?: pulumi.Input<KeystoreFormat>;
    /** Name in the vault. Default: "<project>/<stack>/<name>-app-signing". */
    name?: pulumi.Input<string>;
    /** Off by default: this key can never be changed for the app's current users. */
    allowReplace?: boolean;
    allowDelete?: boolean;
  };
  /** The new upload keystore (generated). */
  upload?: {
    alias?: pulumi.Input<string>;
    dname?: pulumi.Input<DistinguishedName>;
    keySize?: pulumi.Input<2048 | 4096>;
    validityYears?: pulumi.Input<number>;
    format?: pulumi.Input<KeystoreFormat>;
    /** Name in the vault. Default: "<project>/<stack>/<name>-upload". */
    name?: pulumi.Input<string>;
  };
  /**
   * Play Console's `encryption_public_key.pem` (current consoles), as text. Give this or
   * encryptionKeyHex: the one the console's "Export and upload a key from Java keystore" page shows.
   */
  encryptionPublicKeyPem?: pulumi.Input<string>;
  /** Older consoles: the 136 hexadecimal characters after `--encryptionkey=` in the console's command. */
  encryptionKeyHex?: pulumi.Input<string>;
  /**
   * The folder the steps fetch the keystore into (`appsigning fetch <name> --out <exportDir>`) and
   * where pepk then reads and writes; relative to where the user runs them. Default "play-app-signing".
   */
  exportDir?: string;
  /** Where pepk.jar is saved. Default "pepk.jar". */
  pepkJarPath?: string;
}

export interface KeystoreFingerprints {
  sha1: string;
  sha256: string;
  md5: string;
}

/** The PEPK step: what to run, and the steps around it, in order. */
export interface PepkExport {
  /** `rsa-aes` (encryptionPublicKeyPem) or `legacy-hex` (encryptionKeyHex). */
  scheme: PepkInstructions["scheme"];
  /** The pepk command, as one POSIX shell line; pepk prompts for the passwords. */
  command: string;
  argv: string[];
  /** The fetch that writes the keystore where the command reads it. */
  fetchCommand: string;
  keystorePath: string;
  alias: string;
  outputPath: string;
  /** Where the command expects Play Console's encryption_public_key.pem (rsa-aes only). */
  encryptionKeyPath?: string;
  /** Numbered steps, from fetching the keystore to deleting the local copies. */
  steps: string[];
}

/** The folder `appsigning fetch` writes into and pepk works in, unless exportDir is given. */
export const DEFAULT_EXPORT_DIR = "play-app-signing";
/** The name Play Console gives the encryption key download. */
const ENCRYPTION_KEY_FILE = "encryption_public_key.pem";
/** Paths that need no shell quoting, so the command stays a plain copyable line. */
const SAFE_PATH = /^[A-Za-z0-9_\-.,:/@=+%]+$/;

export interface OptInExportInput {
  /** The app-signing keystore's name in the vault (its `vaultName` output). */
  appSigningVaultName: string;
  /** The alias as stored in the keystore (its `alias` output). */
  alias: string;
  format: KeystoreFormat;
  appSigningSha256: string;
  uploadVaultName: string;
  uploadSha256: string;
  encryptionPublicKeyPem?: string;
  encryptionKeyHex?: string;
  exportDir?: string;
  pepkJarPath?: string;
}

/**
 * The pepk command and steps for the opt-in. The keystore path is the file `appsigning fetch
 * <vault name> --out <exportDir>` writes (`<last part of the name>.jks` or `.p12`, with the
 * passwords pepk asks for in `<last part>.keystore.properties` beside it). Pure but for a private
 * temporary copy of the encryption key (see withKeyFile).
 */
export function optInExport(input: OptInExportInput): PepkExport {
  const exportDir = (input.exportDir ?? DEFAULT_EXPORT_DIR).replace(/\/+$/, "");
  if (!SAFE_PATH.test(exportDir)) {
    throw new InvalidCredentialInput(`exportDir ${JSON.stringify(exportDir)} must be a path of letters, digits and _-.,:/@=+% only.`, {
      field: "exportDir",
      remedy: 'Use a simple relative folder such as "play-app-signing": the pepk command is meant to be copied as is.',
    });
  }
  const base = input.appSigningVaultName.split("/").pop() || "app-signing";
  const keystorePath = `${exportDir}/${base}.${input.format === "JKS" ? "jks" : "p12"}`;
  const propertiesPath = `${exportDir}/${base}.keystore.properties`;
  const outputPath = `${exportDir}/pepk-output.zip`;
  const encryptionKeyPath = input.encryptionPublicKeyPem !== undefined ? `${exportDir}/${ENCRYPTION_KEY_FILE}` : undefined;
  const fetchCommand = `mkdir -p ${exportDir} && appsigning fetch ${shellWord(input.appSigningVaultName)} --out ${exportDir}`;

  const pepk = withKeyFile(input.encryptionPublicKeyPem, encryptionKeyPath, (keyFile) =>
    pepkInstructions({
      keystorePath,
      alias: input.alias,
      outputPath,
      encryptionKeyPath: keyFile,
      encryptionKeyHex: input.encryptionKeyHex,
      pepkJarPath: input.pepkJarPath,
      certificateSha256: input.appSigningSha256,
    }),
  );

  const register =
    "Register the new upload key: where Play Console asks for an upload key certificate, upload the upload certificate " +
    `(output uploadCertificatePem saved as upload_certificate.pem; SHA-256 ${input.uploadSha256}). ` +
    `From then on sign uploads with the upload keystore (appsigning fetch ${shellWord(input.uploadVaultName)}); ` +
    "the app-signing keystore stays sealed in the store, untouched, as the backup of the key Google now holds.";
  const steps: string[] = [];
  for (const step of pepk.steps.map((s) => s.replace(/^\d+\.\s+/, ""))) {
    if (step.startsWith("Write the app-signing keystore")) {
      steps.push(`${step} Run:\n   ${fetchCommand}\n   It also writes ${propertiesPath}: storePassword and keyPassword there are what pepk asks for.`);
    } else if (step.startsWith("Delete ")) {
      // Registering the upload key belongs before the clean-up, on the same console page.
      steps.push(register, step.replace(` and ${outputPath} from this machine:`, `, ${outputPath} and ${propertiesPath} from this machine:`));
    } else {
      steps.push(step);
    }
  }
  // Should pepkInstructions word its steps differently, neither the fetch nor the upload key is lost.
  if (!steps.some((s) => s.includes(fetchCommand))) steps.unshift(`Fetch the app-signing keystore to ${keystorePath}:\n   ${fetchCommand}`);
  if (!steps.includes(register)) steps.push(register);
  return {
    scheme: pepk.scheme,
    command: pepk.command,
    argv: pepk.argv,
    fetchCommand,
    keystorePath,
    alias: input.alias,
    outputPath,
    ...(encryptionKeyPath !== undefined ? { encryptionKeyPath } : {}),
    steps: steps.map((s, i) => `${i + 1}. ${s}`),
  };
}

/**
 * pepkInstructions checks the encryption key by reading the file its command names. Here the key is
 * an input (text), so it is checked from a private temporary copy, and the instructions then name
 * the file where the user keeps it (`shown`). The copy is removed at once; it is a public key.
 */
function withKeyFile(pem: string | undefined, shown: string | undefined, build: (keyFile: string | undefined) => PepkInstructions): PepkInstructions {
  if (pem === undefined || shown === undefined) return build(undefined);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "appsigning-pepk-"));
  const keyFile = path.join(dir, ENCRYPTION_KEY_FILE);
  const swap = (text: string) => text.split(keyFile).join(shown);
  try {
    fs.writeFileSync(keyFile, pem, { mode: 0o600 });
    const out = build(keyFile);
    return { ...out, argv: out.argv.map(swap), command: swap(out.command), steps: out.steps.map(swap) };
  } catch (err) {
    if (!(err instanceof InvalidCredentialInput)) throw err;
    throw new InvalidCredentialInput(err.message.split(`file ${keyFile}`).join("given as encryptionPublicKeyPem").split(keyFile).join(shown), {
      field: err.field === "encryptionKeyPath" ? "encryptionPublicKeyPem" : err.field,
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Validates the encryption key input (and exportDir) alone, before the keystores exist. */
function checkEncryptionKey(pem: string | undefined, hex: string | undefined, exportDir: string | undefined): void {
  optInExport({
    appSigningVaultName: "android/keystores/app-signing",
    alias: "app-signing",
    format: "JKS",
    appSigningSha256: "",
    uploadVaultName: "android/keystores/upload",
    uploadSha256: "",
    encryptionPublicKeyPem: pem,
    encryptionKeyHex: hex,
    exportDir,
  });
}

function shellWord(text: string): string {
  return SAFE_PATH.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

function fingerprintsOf(ks: Keystore): pulumi.Output<KeystoreFingerprints> {
  return pulumi.all([ks.sha1Fingerprint, ks.sha256Fingerprint, ks.md5Fingerprint]).apply(([sha1, sha256, md5]) => ({ sha1, sha256, md5 }));
}

export class PlayAppSigningOptIn extends pulumi.ComponentResource {
  /** The legacy app-signing keystore, sealed as given; guarded (and protected) by default. */
  readonly appSigningKeystore: Keystore;
  /** The new upload keystore. */
  readonly uploadKeystore: Keystore;
  /** What Play Console asks for to register the upload key (`keytool -export -rfc` form). */
  readonly uploadCertificatePem: pulumi.Output<string>;
  readonly uploadFingerprints: pulumi.Output<KeystoreFingerprints>;
  /** The legacy key's fingerprints: Play Console shows the same SHA-256 once it holds the key. */
  readonly appSigningFingerprints: pulumi.Output<KeystoreFingerprints>;
  /** The pepk command and the opt-in steps. */
  readonly pepk: pulumi.Output<PepkExport>;

  constructor(name: string, args: PlayAppSigningOptInArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("appsigning:android:PlayAppSigningOptIn", name, {}, opts);
    if ((args.encryptionPublicKeyPem === undefined) === (args.encryptionKeyHex === undefined)) {
      throw new InvalidCredentialInput(`android.PlayAppSigningOptIn ${name}: give exactly one of encryptionPublicKeyPem and encryptionKeyHex`, {
        field: args.encryptionPublicKeyPem === undefined ? "encryptionPublicKeyPem" : "encryptionKeyHex",
        remedy:
          'Play Console > the app > App integrity > Play app signing > "Export and upload a key from Java keystore" offers ' +
          "encryption_public_key.pem to download (encryptionPublicKeyPem), or on older consoles a command with --encryptionkey=<hex> (encryptionKeyHex).",
      });
    }
    if (!args.appSigning?.import || args.appSigning.alias === undefined) {
      throw new InvalidCredentialInput(`android.PlayAppSigningOptIn ${name}: appSigning needs import { keystore, storePassword, keyPassword? } and alias`, {
        field: "appSigning",
        remedy: "Give the app's current signing keystore (base64, as a secret), its passwords and the key's alias.",
      });
    }

    // The encryption key is checked before anything else: the keystores take their store through
    // the check, so a bad key fails preview (when the key is known) and creates nothing.
    const store = pulumi.unsecret(
      pulumi.all([args.store, args.encryptionPublicKeyPem, args.encryptionKeyHex]).apply(([config, pem, hex]) => {
        try {
          checkEncryptionKey(pem, hex, args.exportDir);
        } catch (err) {
          if (!(err instanceof InvalidCredentialInput)) throw err;
          throw new InvalidCredentialInput(`android.PlayAppSigningOptIn ${name}: ${err.message}`, { field: err.field, cause: err });
        }
        return config;
      }),
    );
    const child = { parent: this };
    this.appSigningKeystore = new Keystore(
      `${name}-app-signing`,
      {
        store,
        applicationId: args.applicationId,
        role: "app-signing",
        import: args.appSigning.import,
        alias: args.appSigning.alias,
        format: args.appSigning.format,
        name: args.appSigning.name,
        allowReplace: args.appSigning.allowReplace ?? false,
        allowDelete: args.appSigning.allowDelete ?? false,
      },
      child,
    );
    const upload = args.upload ?? {};
    this.uploadKeystore = new Keystore(
      `${name}-upload`,
      {
        store,
        applicationId: args.applicationId,
        role: "upload",
        alias: upload.alias,
        dname: upload.dname,
        keySize: upload.keySize,
        validityYears: upload.validityYears,
        format: upload.format,
        name: upload.name,
      },
      child,
    );

    this.uploadCertificatePem = this.uploadKeystore.certificatePem;
    this.uploadFingerprints = fingerprintsOf(this.uploadKeystore);
    this.appSigningFingerprints = fingerprintsOf(this.appSigningKeystore);
    const app = this.appSigningKeystore;
    this.pepk = pulumi
      .all([app.vaultName, app.alias, app.format, app.sha256Fingerprint, this.uploadKeystore.vaultName, this.uploadKeystore.sha256Fingerprint, args.encryptionPublicKeyPem, args.encryptionKeyHex])
      .apply(([appSigningVaultName, alias, format, appSigningSha256, uploadVaultName, uploadSha256, encryptionPublicKeyPem, encryptionKeyHex]) =>
        optInExport({
          appSigningVaultName,
          alias,
          format,
          appSigningSha256,
          uploadVaultName,
          uploadSha256,
          encryptionPublicKeyPem,
          encryptionKeyHex,
          exportDir: args.exportDir,
          pepkJarPath: args.pepkJarPath,
        }),
      );

    this.registerOutputs({
      uploadCertificatePem: this.uploadCertificatePem,
      uploadFingerprints: this.uploadFingerprints,
      appSigningFingerprints: this.appSigningFingerprints,
      pepk: this.pepk,
    });
  }
}
