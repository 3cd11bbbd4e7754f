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
 *   pulumi config set --secret legacyKeystore "$(base64 -w0 legacy.jks)"
 *   pulumi config set --secret legacyStorePassword
 *   pulumi config set --secret legacyKeyPassword          # JKS only, when the key has its own password
 *   pulumi config set legacyAlias my-key-alias
 *   pulumi config set encryptionPublicKeyFile ./encryption_public_key.pem   # from Play Console
 *   #   (older consoles: pulumi config set encryptionKeyHex <the 136 hex characters after --encryptionkey=>)
 *   pulumi up
 *   pulumi stack output uploadCertificatePem > upload_certificate.pem
 *   pulumi stack output pepkSteps --json
 */
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import * as signing from "pulumi-appsigning";

const cfg = new pulumi.Config();
const store = { url: cfg.require("storeUrl"), kms: cfg.require("storeKms") };
const keyFile = cfg.get("encryptionPublicKeyFile");

const optIn = new signing.android.PlayAppSigningOptIn("optin", {
  store,
  applicationId: cfg.get("applicationId") ?? "com.acme.app",
  appSigning: {
    import: {
      keystore: cfg.requireSecret("legacyKeystore"),
      storePassword: cfg.requireSecret("legacyStorePassword"),
      keyPassword: cfg.getSecret("legacyKeyPassword"),
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
