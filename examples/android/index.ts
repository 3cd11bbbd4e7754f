/**
 * One Android app: the upload key (what you sign uploads with) and, for an app that predates Play
 * App Signing, its legacy app-signing key, guarded against replacement and deletion.
 *
 *   pulumi config set storeUrl s3://acme-signing/prod?region=eu-west-1
 *   pulumi config set storeKms awskms://alias/app-signing?region=eu-west-1
 */
import * as pulumi from "@pulumi/pulumi";
import * as signing from "pulumi-appsigning";

const cfg = new pulumi.Config();
const store = { url: cfg.require("storeUrl"), kms: cfg.require("storeKms") };
const applicationId = cfg.get("applicationId") ?? "com.acme.app";

const upload = new signing.android.Keystore("upload", {
  store,
  applicationId,
  role: "upload",
  dname: { cn: "Acme Upload", o: "Acme Inc", c: "US" },
  keySize: (cfg.getNumber("uploadKeySize") ?? 2048) as 2048 | 4096,
});

const appSigning = new signing.android.Keystore("app-signing", {
  store,
  applicationId,
  role: "app-signing",
  format: "JKS",
  dname: { cn: "Acme", o: "Acme Inc", c: "US" },
  keySize: (cfg.getNumber("appSigningKeySize") ?? 2048) as 2048 | 4096,
  allowReplace: cfg.getBoolean("allowReplace") ?? false,
  allowDelete: cfg.getBoolean("allowDelete") ?? false,
});

/** What Play Console asks for when you register (or reset) the upload key. */
export const uploadCertificatePem = upload.certificatePem;
export const uploadSha256 = upload.sha256Fingerprint;
export const uploadVault = { name: upload.vaultName, version: upload.vaultVersion };
export const appSigningSha256 = appSigning.sha256Fingerprint;
export const appSigningVault = { name: appSigning.vaultName, version: appSigning.vaultVersion };
