/**
 * The quickstart: one iOS app and one Android app.
 *
 * iOS: a distribution certificate, an App Store profile and an ad hoc profile made with it, and the
 * team's APNs push key (imported: Apple's API cannot create push keys). Android: the upload keystore.
 * Everything secret is sealed in the store; the stack's state keeps fingerprints, IDs and dates.
 *
 * Stack config (`pulumi config set`):
 *   storeUrl, storeKms                 e.g. file:///abs/store + passphrase, or s3://... + awskms://...
 *   appleIssuerId, appleKeyId          the App Store Connect API key
 *   applePrivateKeyFile                path of its AuthKey_<KEYID>.p8
 *   appleTeamId                        the team
 *   appleBaseUrl                       optional: the local sandbox's URL instead of Apple's
 *   bundleId                           e.g. com.acme.app
 *   adhocDevices                       "all", or UDIDs separated by commas
 *   apnsKeyId, apnsP8File              the push key and the path of its .p8
 *   androidApplicationId               e.g. com.acme.app
 *
 * The .p8 files are read from disk (or a CI secret mount), not put in stack config: Pulumi hands a
 * dynamic provider the whole stack config and records it in the state of its default provider, so
 * a key in config would end up in state (encrypted, but there). Read this way, it reaches our
 * resources as a secret input, which they swap for a digest before anything is stored.
 */
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import * as signing from "pulumi-appsigning";

const cfg = new pulumi.Config();
const store = { url: cfg.require("storeUrl"), kms: cfg.require("storeKms") };
const teamId = cfg.require("appleTeamId");
const apple = {
  issuerId: cfg.require("appleIssuerId"),
  keyId: cfg.require("appleKeyId"),
  privateKey: pulumi.secret(fs.readFileSync(cfg.require("applePrivateKeyFile"), "utf8")),
  teamId,
  baseUrl: cfg.get("appleBaseUrl"),
};
const bundleId = cfg.get("bundleId") ?? "com.acme.app";
const adhoc = cfg.get("adhocDevices") ?? "all";

const certificate = new signing.ios.DistributionCertificate("dist", {
  store,
  apple,
  certificateType: (cfg.get("certificateType") as signing.ios.DistributionCertificateType | undefined) ?? "DISTRIBUTION",
  renewBeforeDays: cfg.getNumber("renewBeforeDays") ?? 30,
  revokeOnDelete: cfg.getBoolean("revokeOnDelete") ?? false,
});

const appStore = new signing.ios.ProvisioningProfile("appstore", {
  store,
  apple,
  bundleId,
  type: "IOS_APP_STORE",
  certificate,
  renewBeforeDays: cfg.getNumber("renewBeforeDays") ?? 30,
});

const adHoc = new signing.ios.ProvisioningProfile("adhoc", {
  store,
  apple,
  bundleId,
  type: "IOS_APP_ADHOC",
  certificate,
  devices: adhoc === "all" ? "all" : adhoc.split(",").map((u) => u.trim()),
  renewBeforeDays: cfg.getNumber("renewBeforeDays") ?? 30,
});

const push = new signing.ios.PushKey("apns", {
  store,
  teamId,
  keyId: cfg.require("apnsKeyId"),
  p8: pulumi.secret(fs.readFileSync(cfg.require("apnsP8File"), "utf8")),
  allowReplace: cfg.getBoolean("allowPushKeyReplace") ?? false,
  allowDelete: cfg.getBoolean("allowPushKeyDelete") ?? false,
});

const upload = new signing.android.Keystore("upload", {
  store,
  applicationId: cfg.get("androidApplicationId") ?? bundleId,
  role: "upload",
  dname: { cn: cfg.get("androidCertificateName") ?? "Acme", o: "Acme", c: "US" },
});

export const ios = {
  certificateId: certificate.certificateId,
  certificateSerial: certificate.serialNumber,
  certificateExpires: certificate.expiresAt,
  appStoreProfile: { id: appStore.profileId, uuid: appStore.uuid, name: appStore.appleName, expires: appStore.expiresAt },
  adHocProfile: { id: adHoc.profileId, uuid: adHoc.uuid, devices: adHoc.devicesCount, expires: adHoc.expiresAt },
  pushKey: { keyId: push.keyId, fingerprint: push.publicKeyFingerprint },
};
export const android = {
  uploadCertificatePem: upload.certificatePem,
  sha1: upload.sha1Fingerprint,
  sha256: upload.sha256Fingerprint,
};
