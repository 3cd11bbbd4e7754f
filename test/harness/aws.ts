/** Test helpers on the moto server: a fresh bucket (versioned or not) and a fresh KMS key. */
import { CreateBucketCommand, PutBucketVersioningCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateAliasCommand, CreateKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import * as crypto from "crypto";

export function motoEndpoint(): string {
  const endpoint = process.env.APPSIGNING_TEST_AWS_ENDPOINT;
  if (!endpoint) throw new Error("the moto server is not running (jest globalSetup starts it; see test/harness/global-setup.ts)");
  return endpoint;
}

const common = () => ({
  region: "us-east-1",
  endpoint: motoEndpoint(),
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
});

export function s3(): S3Client {
  return new S3Client({ ...common(), forcePathStyle: true, requestChecksumCalculation: "WHEN_REQUIRED", responseChecksumValidation: "WHEN_REQUIRED" });
}

export function kms(): KMSClient {
  return new KMSClient(common());
}

export async function newBucket(opts: { versioning?: boolean } = {}): Promise<string> {
  const bucket = `t-${crypto.randomBytes(6).toString("hex")}`;
  const client = s3();
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  if (opts.versioning !== false) {
    await client.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: "Enabled" } }));
  }
  return bucket;
}

export async function newKmsKey(): Promise<{ keyId: string; arn: string; alias: string }> {
  const client = kms();
  const out = await client.send(new CreateKeyCommand({ Description: "appsigning test" }));
  const alias = `alias/t-${crypto.randomBytes(4).toString("hex")}`;
  await client.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: out.KeyMetadata!.KeyId! }));
  return { keyId: out.KeyMetadata!.KeyId!, arn: out.KeyMetadata!.Arn!, alias };
}

/** Store URLs for the vault pointed at moto. */
export function s3StoreUrl(bucket: string, prefix = "signing"): string {
  return `s3://${bucket}/${prefix}?region=us-east-1&endpoint=${encodeURIComponent(motoEndpoint())}`;
}
export function kmsKeyUrl(key: string): string {
  return `awskms://${key}?region=us-east-1&endpoint=${encodeURIComponent(motoEndpoint())}`;
}
