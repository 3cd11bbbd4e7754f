/**
 * examples/aws, the production setup, against moto S3 + KMS (a key given by ARN, as in AWS) and
 * the Apple sandbox: preview plans the credentials; up seals them in the bucket; the read-only CI
 * policy it outputs names exactly the prefix and key used.
 */
import * as fs from "fs";
import * as path from "path";
import { newP8 } from "./ios-helpers";
import { startSandbox } from "../../sandbox";
import { Vault } from "../../provider/store";
import { motoEndpoint, newBucket, newKmsKey } from "../harness/aws";
import { expectSuccess, PulumiStack, REPO } from "../harness/pulumi";

jest.setTimeout(600_000);

interface Policy {
  Statement: Array<{ Action: string[]; Resource: string | string[] }>;
}

test("the AWS example previews and deploys against S3 + KMS, and its CI policy only reads", async () => {
  const sandbox = await startSandbox();
  const bucket = await newBucket();
  const key = await newKmsKey();
  const stack = await PulumiStack.create(path.join(REPO, "examples/aws"), {
    config: {
      bucket,
      prefix: "prod",
      region: "us-east-1",
      kmsKeyArn: key.arn,
      awsEndpoint: motoEndpoint(),
      appleIssuerId: sandbox.apiKey.issuerId,
      appleKeyId: sandbox.apiKey.keyId,
      appleTeamId: sandbox.apiKey.teamId,
      appleBaseUrl: sandbox.url,
      apnsKeyId: "APNS654321",
    },
  });
  try {
    const ascKey = path.join(stack.tmp, "asc.p8");
    const apnsKey = path.join(stack.tmp, "apns.p8");
    fs.writeFileSync(ascKey, sandbox.apiKey.privateKeyPem, { mode: 0o600 });
    fs.writeFileSync(apnsKey, newP8(), { mode: 0o600 });
    await stack.setConfig("applePrivateKeyFile", ascKey);
    await stack.setConfig("apnsP8File", apnsKey);

    const plan = await stack.plan();
    expect(plan.code).toBe(0);
    for (const name of ["dist", "appstore", "apns", "upload"]) expect(plan.ops[name]).toEqual(["create"]);

    expectSuccess(await stack.up());
    const outs = (await stack.outputs()) as { storeUrl: string; ciReadOnlyPolicy: Policy };
    const vault = Vault.open({ url: outs.storeUrl, kms: `awskms:///${key.arn}?region=us-east-1&endpoint=${encodeURIComponent(motoEndpoint())}` });
    const names = (await vault.list()).map((c) => c.name);
    expect(names.filter((n) => n.startsWith("ios/") || n.startsWith("android/"))).toHaveLength(4);

    const actions = outs.ciReadOnlyPolicy.Statement.flatMap((s) => s.Action);
    expect(actions).toEqual(expect.arrayContaining(["s3:GetObject", "kms:Decrypt"]));
    expect(actions.filter((a) => /Put|Delete|GenerateDataKey/.test(a))).toEqual([]);
    expect(JSON.stringify(outs.ciReadOnlyPolicy)).toContain(`${bucket}/prod/credentials/*`);
    expect(JSON.stringify(outs.ciReadOnlyPolicy)).toContain(key.arn);
  } finally {
    await stack.dispose();
    await sandbox.stop();
  }
});
