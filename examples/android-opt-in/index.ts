/**
 * Google Play App Signing opt-in, for an app still signed with its own (legacy) app-signing key:
 * what Expo classic's `expo opt-in-google-play-signing` did, declared once.
 *
 * - The legacy keystore is imported as is and sealed in the store (its backup), guarded against
 *   replacement and deletion.
 * - A new upload keystore is generated; its certificate is an output, to register in Play Console.
 * - The output `pepkSteps` walks through Play Console's "Export and upload a key from Java keystore":
 *   `appsigning fetch` writes the legacy keystore, Google's own pepk.jar encrypts it with the key
 *   Play Console gives (the exact command is the output `pepkCommand`), and the zip goes to the console.
 *
 *   pulumi config set storeUrl s3://acme-signing/prod?region=eu-west-1
 *   pulumi config set storeKms awskms://alias/app-signing?region=eu-west-1
 *   pulumi config set applicationId com.acme.app
 *   pulumi config set legacyKeystoreFile ./legacy.jks
 *   export LEGACY_STORE_PASSWORD=...                       # from your password manager or CI secrets
 *   export LEGACY_KEY_PASSWORD=...                         # JKS only, when the key has its own password
 *   pulumi config set legacyAlias my-key-alias
 *   pulumi config set encryptionPublicKeyFile ./encryption_public_key.pem   # from Play Console
 *   #   (older consoles: pulumi config set encryptionKeyHex <the 136 hex characters after --encryptionkey=>)
 *   pulumi up
 *   pulumi stack output uploadCertificatePem > upload_certificate.pem
 *   pulumi stack output pepkSteps --json
 *
 * The keystore and its passwords come from a file and the environment, not stack config: Pulumi
 * copies a stack's whole config into the state of its dynamic-provider resource, so secrets there
 * would sit in state (encrypted). Read here, they reach the Keystore as secret inputs, which keep
 * only digests in state; after `pulumi up` the keystore's home is the store.
 */
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import * as signing from "pulumi-appsigning";

function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`Set ${name} (the legacy keystore's password) in the environment before pulumi up.`);
  return value;
}

const cfg = new pulumi.Config();
const store = { url: cfg.require("storeUrl"), kms: cfg.require("storeKms") };
const keyFile = cfg.get("encryptionPublicKeyFile");

const optIn = new signing.android.PlayAppSigningOptIn("optin", {
  store,
  applicationId: cfg.get("applicationId") ?? "com.acme.app",
  appSigning: {
    import: {
      keystore: pulumi.secret(fs.readFileSync(cfg.require("legacyKeystoreFile")).toString("base64")),
      storePassword: pulumi.secret(requireEnv("LEGACY_STORE_PASSWORD")),
      keyPassword: process.env.LEGACY_KEY_PASSWORD ? pulumi.secret(process.env.LEGACY_KEY_PASSWORD) : undefined,
    },
    alias: cfg.require("legacyAlias"),
    allowDelete: cfg.getBoolean("allowDelete") ?? false,
  },
  upload: { dname: { cn: "Acme Upload", o: "Acme Inc", c: "US" } },
  // Play Console's encryption_public_key.pem is a public key: plain config is fine.
  encryptionPublicKeyPem: keyFile !== undefined ? fs.readFileSync(keyFile, "utf8") : undefined,
  encryptionKeyHex: cfg.get("encryptionKeyHex"),
});

/** Register this in Play Console as the upload key certificate. */
export const uploadCertificatePem = optIn.uploadCertificatePem;
export const uploadFingerprints = optIn.uploadFingerprints;
/** Play Console shows this SHA-256 as the app signing key once it holds the key. */
export const appSigningFingerprints = optIn.appSigningFingerprints;
export const pepkCommand = optIn.pepk.command;
export const pepkSteps = optIn.pepk.steps;
export const pepk = optIn.pepk;
export const appSigningVault = { name: optIn.appSigningKeystore.vaultName, version: optIn.appSigningKeystore.vaultVersion };
export const uploadVault = { name: optIn.uploadKeystore.vaultName, version: optIn.uploadKeystore.vaultVersion };
