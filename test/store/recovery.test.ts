/**
 * The README promises that a sealed blob opens with the AWS CLI and openssl alone. This runs the
 * documented script on blobs from both modes.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { Vault } from "../../provider/store";
import { kmsKeyUrl, motoEndpoint, newBucket, newKmsKey, s3, s3StoreUrl } from "../harness/aws";

const script = path.resolve(__dirname, "../../scripts/recover-blob.sh");
const id = { name: "ios/ABCDE12345/certificates/dist", kind: "ios-distribution-certificate", scope: "ABCDE12345" };
const bundle = { p12Password: "not-a-real-password", p12: Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9]) };

function decode(json: string): Record<string, string | Buffer> {
  const parts = JSON.parse(json) as Record<string, { t: string; v: string }>;
  return Object.fromEntries(Object.entries(parts).map(([k, p]) => [k, p.t === "b" ? Buffer.from(p.v, "base64") : p.v]));
}

test("a passphrase-sealed blob opens with openssl alone", async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "recover-"));
  try {
    process.env.APPSIGNING_PASSPHRASE = "recovery test passphrase";
    const ref = await Vault.open({ url: `file://${tmp}`, kms: "passphrase" }).put(id, bundle, { expect: "absent" });
    const file = path.join(tmp, ".versions/credentials", `${id.name}.asb`, ref.version);
    const out = execFileSync("bash", [script, file], { env: process.env }).toString();
    expect(decode(out)).toEqual(bundle);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test("a KMS-sealed blob opens with the AWS CLI and openssl alone", async () => {
  const bucket = await newBucket();
  const key = await newKmsKey();
  await Vault.open({ url: s3StoreUrl(bucket), kms: kmsKeyUrl(key.alias) }).put(id, bundle, { expect: "absent" });
  const obj = await s3().send(new GetObjectCommand({ Bucket: bucket, Key: `signing/credentials/${id.name}.asb` }));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "recover-"));
  try {
    const file = path.join(tmp, "blob.asb");
    fs.writeFileSync(file, Buffer.from(await obj.Body!.transformToByteArray()));
    const out = execFileSync("bash", [script, file], {
      env: { ...process.env, AWS_ENDPOINT_URL: motoEndpoint(), AWS_DEFAULT_REGION: "us-east-1" },
    }).toString();
    expect(decode(out)).toEqual(bundle);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
