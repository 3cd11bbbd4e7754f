/**
 * What a user whose AWS identity lacks a permission sees: a StoreAccessDenied that names the store
 * field, the service and what to grant, with no secret in it, and nothing half-written.
 *
 * The shared moto server enforces no IAM, so this file starts its own and turns on moto's request
 * authorization (POST /moto-api/reset-auth) once the bucket, key and IAM users exist. moto matches
 * a KMS statement's Resource against "*" and does not evaluate conditions, so the policies here use
 * "Resource": "*" for KMS and no conditions (the real ones are in examples/aws). moto answers a
 * denied KMS call in a body the SDK cannot parse as KMS's JSON error, so KMS denials are not
 * exercised here: only S3's, and credentials AWS does not recognize. (moto also rejects the SDK's
 * signature of a ListObjectsV2 with a prefix once authorization is on, so nothing here lists.)
 */
import { execFileSync } from "child_process";
import { StoreAccessDenied } from "../../provider/errors";
import { Vault } from "../../provider/store";
import type { BlobIdentity } from "../../provider/store";
import { kmsKeyUrl, newBucket, newKmsKey, s3StoreUrl } from "../harness/aws";
import { startMoto } from "../harness/moto";
import type { MotoServer } from "../harness/moto";

const SECRET = "upload-key-material-that-must-not-leak";
const id: BlobIdentity = { name: "android/com.acme.app/upload", kind: "android-keystore", scope: "com.acme.app" };

let moto: MotoServer;
let store: { url: string; kms: string };
const users: Record<string, { accessKeyId: string; secretAccessKey: string }> = {};
const saved = { ...process.env };

function aws(args: string[]): unknown {
  const out = execFileSync("aws", [...args, "--endpoint-url", moto.endpoint, "--output", "json"], {
    env: { ...process.env, AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test", AWS_DEFAULT_REGION: "us-east-1", AWS_PAGER: "" },
  }).toString();
  return out.trim() ? JSON.parse(out) : undefined;
}

function createUser(name: string, statements: Array<{ Action: string[]; Resource: string }>): void {
  aws(["iam", "create-user", "--user-name", name]);
  const policy = { Version: "2012-10-17", Statement: statements.map((s) => ({ Effect: "Allow", ...s })) };
  aws(["iam", "put-user-policy", "--user-name", name, "--policy-name", "store", "--policy-document", JSON.stringify(policy)]);
  const key = aws(["iam", "create-access-key", "--user-name", name]) as { AccessKey: { AccessKeyId: string; SecretAccessKey: string } };
  users[name] = { accessKeyId: key.AccessKey.AccessKeyId, secretAccessKey: key.AccessKey.SecretAccessKey };
}

/** A vault whose AWS clients sign as `user` (clients read the credentials when they are built). */
function vaultAs(user: string): Vault {
  process.env.AWS_ACCESS_KEY_ID = users[user].accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = users[user].secretAccessKey;
  return Vault.open(store);
}

beforeAll(async () => {
  moto = await startMoto();
  process.env.APPSIGNING_TEST_AWS_ENDPOINT = moto.endpoint;
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test", AWS_REGION: "us-east-1" });
  const bucket = await newBucket();
  const key = await newKmsKey();
  store = { url: s3StoreUrl(bucket), kms: kmsKeyUrl(key.arn) };
  // One credential sealed while authorization is still off.
  await Vault.open(store).put(id, { keystore: SECRET }, { expect: "absent" });
  const objects = `arn:aws:s3:::${bucket}/*`;
  const read = ["s3:GetObject", "s3:GetObjectVersion"];
  const list = { Action: ["s3:ListBucket", "s3:ListBucketVersions", "s3:GetBucketVersioning"], Resource: `arn:aws:s3:::${bucket}` };
  createUser("ci-reader", [list, { Action: read, Resource: objects }, { Action: ["kms:Decrypt"], Resource: "*" }]);
  createUser("no-get", [list, { Action: ["s3:PutObject"], Resource: objects }, { Action: ["kms:GenerateDataKey", "kms:Decrypt"], Resource: "*" }]);
  createUser("no-put", [list, { Action: read, Resource: objects }, { Action: ["kms:GenerateDataKey", "kms:Decrypt"], Resource: "*" }]);
  const res = await fetch(`${moto.endpoint}/moto-api/reset-auth`, { method: "POST", body: "0" });
  expect(res.status).toBe(200);
}, 120_000);

afterAll(async () => {
  process.env = saved;
  await moto?.stop();
});

function expectClean(err: unknown): void {
  const text = `${(err as Error).message}\n${(err as StoreAccessDenied).remedy ?? ""}\n${(err as Error).stack}`;
  expect(text).not.toContain(SECRET);
  for (const u of Object.values(users)) expect(text).not.toContain(u.secretAccessKey);
}

test("a read-only CI identity reads and opens credentials", async () => {
  const vault = vaultAs("ci-reader");
  expect((await vault.head(id.name))?.state).toBe("active");
  expect((await vault.get(id)).bundle.keystore).toBe(SECRET);
});

test("a write S3 refuses names the bucket and the permissions, and leaves the stored credential as it was", async () => {
  const vault = vaultAs("no-put");
  const before = await vault.head(id.name);
  const err = await vault.put(id, { keystore: "replacement" }, { expect: { etag: before!.etag } }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(StoreAccessDenied);
  expect((err as StoreAccessDenied).field).toBe("store.url");
  expect((err as Error).message).toMatch(/Access denied by S3 while writing credentials\/android\/com\.acme\.app\/upload\.asb in s3:\/\//);
  expect((err as StoreAccessDenied).remedy).toMatch(/s3:PutObject/);
  expectClean(err);
  const after = await vault.head(id.name);
  expect(after?.version).toBe(before!.version);
  expect((await vault.get(id)).bundle.keystore).toBe(SECRET);
});

test("a read S3 refuses is told apart from a missing credential", async () => {
  const err = await vaultAs("no-get").get(id).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(StoreAccessDenied);
  expect((err as Error).message).toMatch(/Access denied by S3 while reading credentials\/android\/com\.acme\.app\/upload\.asb/);
  expect((err as StoreAccessDenied).remedy).toMatch(/s3:GetObject/);
  expectClean(err);
});

test("credentials AWS does not recognize are named as such, not as a missing permission", async () => {
  process.env.AWS_ACCESS_KEY_ID = "AKIAEXAMPLEUNKNOWN01";
  process.env.AWS_SECRET_ACCESS_KEY = "not-a-real-secret-access-key-0000000000";
  const err = await Vault.open(store).get(id).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(StoreAccessDenied);
  expect((err as Error).message).toMatch(/AWS did not accept the credentials in use \(InvalidAccessKeyId\) while reading/);
  expect((err as StoreAccessDenied).remedy).toMatch(/AWS_PROFILE, AWS_ACCESS_KEY_ID/);
  expect(`${(err as Error).message}${(err as Error).stack}`).not.toContain("not-a-real-secret-access-key");
  expectClean(err);
});
