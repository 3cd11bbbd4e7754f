/**
 * The production setup: the same credentials as the quickstart, sealed with an AWS KMS key in a
 * versioned S3 bucket, plus the IAM policy a CI job needs to *read* them (no writes, no Apple).
 *
 * The bucket and key are pre-existing here (created once, by a platform team or another stack):
 *
 *   aws s3api create-bucket --bucket acme-signing --create-bucket-configuration LocationConstraint=eu-west-1
 *   aws s3api put-bucket-versioning --bucket acme-signing --versioning-configuration Status=Enabled
 *   aws kms create-key --description "app signing"          # then: aws kms create-alias --alias-name alias/app-signing ...
 *
 *   pulumi config set bucket acme-signing
 *   pulumi config set prefix prod
 *   pulumi config set region eu-west-1
 *   pulumi config set kmsKeyArn arn:aws:kms:eu-west-1:111122223333:key/...
 *   pulumi config set appleIssuerId ...; pulumi config set appleKeyId ...; pulumi config set appleTeamId ...
 *   pulumi config set applePrivateKeyFile /run/secrets/AuthKey_XXXXXXXXXX.p8
 *   pulumi config set apnsKeyId ...; pulumi config set apnsP8File /run/secrets/AuthKey_YYYYYYYYYY.p8
 *
 * Keys are read from files (a CI secret mount), not stack config: Pulumi copies a stack's whole
 * config into the state of its dynamic-provider resource.
 */
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import * as signing from "pulumi-appsigning";

const cfg = new pulumi.Config();
const bucket = cfg.require("bucket");
const prefix = cfg.get("prefix") ?? "prod";
const region = cfg.require("region");
const kmsKeyArn = cfg.require("kmsKeyArn");
/** Only for S3/KMS-compatible test servers; leave unset against AWS. */
const endpoint = cfg.get("awsEndpoint");
const q = `region=${region}${endpoint ? `&endpoint=${encodeURIComponent(endpoint)}` : ""}`;

const store = { url: `s3://${bucket}/${prefix}?${q}`, kms: `awskms:///${kmsKeyArn}?${q}` };
const teamId = cfg.require("appleTeamId");
const apple = {
  issuerId: cfg.require("appleIssuerId"),
  keyId: cfg.require("appleKeyId"),
  privateKey: pulumi.secret(fs.readFileSync(cfg.require("applePrivateKeyFile"), "utf8")),
  teamId,
  baseUrl: cfg.get("appleBaseUrl"),
};
const bundleId = cfg.get("bundleId") ?? "com.acme.app";

const certificate = new signing.ios.DistributionCertificate("dist", { store, apple, revokeOnDelete: true });
new signing.ios.ProvisioningProfile("appstore", { store, apple, bundleId, type: "IOS_APP_STORE", certificate });
new signing.ios.PushKey("apns", {
  store,
  teamId,
  keyId: cfg.require("apnsKeyId"),
  p8: pulumi.secret(fs.readFileSync(cfg.require("apnsP8File"), "utf8")),
});
const upload = new signing.android.Keystore("upload", { store, applicationId: bundleId, dname: { cn: "Acme Upload", o: "Acme Inc" } });

/**
 * What a CI job needs to fetch credentials (`appsigning fetch`): list and read objects under the
 * prefix (with their versions), and decrypt with the key — only for blobs whose encryption context
 * says they belong to this store's apps. No PutObject, no GenerateDataKey: it cannot change anything.
 */
export const ciReadOnlyPolicy = {
  Version: "2012-10-17",
  Statement: [
    {
      Sid: "ListCredentials",
      Effect: "Allow",
      Action: ["s3:ListBucket", "s3:ListBucketVersions"],
      Resource: `arn:aws:s3:::${bucket}`,
      Condition: { StringLike: { "s3:prefix": [`${prefix}/credentials/*`] } },
    },
    {
      Sid: "ReadCredentials",
      Effect: "Allow",
      Action: ["s3:GetObject", "s3:GetObjectVersion"],
      Resource: `arn:aws:s3:::${bucket}/${prefix}/credentials/*`,
    },
    {
      Sid: "OpenCredentials",
      Effect: "Allow",
      Action: ["kms:Decrypt"],
      Resource: kmsKeyArn,
      // The encryption context binds each blob to its kind and team/app (see the README's format).
      Condition: { "ForAnyValue:StringEquals": { "kms:EncryptionContextKeys": ["appsigning:name"] } },
    },
  ],
};

/** What the deploying identity (this stack) needs on top: writes, data keys, leases. */
export const deployerPolicy = {
  Version: "2012-10-17",
  Statement: [
    {
      Effect: "Allow",
      Action: ["s3:ListBucket", "s3:ListBucketVersions", "s3:GetBucketVersioning"],
      Resource: `arn:aws:s3:::${bucket}`,
    },
    {
      Effect: "Allow",
      Action: ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject"],
      Resource: [`arn:aws:s3:::${bucket}/${prefix}/credentials/*`, `arn:aws:s3:::${bucket}/${prefix}/.leases/*`, `arn:aws:s3:::${bucket}/${prefix}/.archive/*`],
    },
    { Effect: "Allow", Action: ["kms:GenerateDataKey", "kms:Decrypt"], Resource: kmsKeyArn },
  ],
};

export const storeUrl = store.url;
export const certificateId = certificate.certificateId;
export const uploadCertificatePem = upload.certificatePem;
