/** Shared setup for the iOS end-to-end tests: a sandbox, a moto-backed store, and quickstart stacks. */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { createAppleClient, registerDevice } from "../../provider/apple";
import { startSandbox } from "../../sandbox";
import type { RunningSandbox } from "../../sandbox";
import { kmsKeyUrl, newBucket, newKmsKey, s3StoreUrl } from "../harness/aws";
import { PulumiStack, REPO } from "../harness/pulumi";

export const QUICKSTART = path.join(REPO, "examples/quickstart");

export function newP8(): string {
  return crypto.generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
}

export interface IosWorld {
  sandbox: RunningSandbox;
  store: { url: string; kms: string };
  apnsP8: string;
}

export async function newWorld(): Promise<IosWorld> {
  const sandbox = await startSandbox();
  const client = createAppleClient({ ...sandbox.apiKey, privateKey: sandbox.apiKey.privateKeyPem, baseUrl: sandbox.url });
  await registerDevice(client, { name: "QA iPhone", udid: "00008030-001A2B3C4D5E6F70", platform: "IOS" });
  const bucket = await newBucket();
  const key = await newKmsKey();
  return { sandbox, store: { url: s3StoreUrl(bucket, "ios"), kms: kmsKeyUrl(key.alias) }, apnsP8: newP8() };
}

export async function quickstartStack(world: IosWorld, stack = "e2e", extra: Record<string, string> = {}): Promise<PulumiStack> {
  const { sandbox, store } = world;
  const s = await PulumiStack.create(QUICKSTART, {
    stack,
    config: {
      storeUrl: store.url,
      storeKms: store.kms,
      appleIssuerId: sandbox.apiKey.issuerId,
      appleKeyId: sandbox.apiKey.keyId,
      appleTeamId: sandbox.apiKey.teamId,
      appleBaseUrl: sandbox.url,
      bundleId: "com.acme.app",
      apnsKeyId: "APNS123456",
      revokeOnDelete: "true",
      ...extra,
    },
  });
  await setKeyFile(s, "applePrivateKeyFile", sandbox.apiKey.privateKeyPem);
  await setKeyFile(s, "apnsP8File", world.apnsP8);
  return s;
}

/** Writes a key file (mode 0600) in the stack's temp folder and points the config at it. */
export async function setKeyFile(s: PulumiStack, key: string, pem: string): Promise<void> {
  const file = path.join(s.tmp, `${key}-${crypto.randomBytes(3).toString("hex")}.p8`);
  fs.writeFileSync(file, pem, { mode: 0o600 });
  await s.setConfig(key, file);
}

export interface SandboxState {
  certificates: Array<{ id: string; teamId: string; serialNumber: string; state: string; certificateType: string }>;
  profiles: Array<{ id: string; name: string; profileType: string; profileState: string; certificateIds: string[] }>;
}

export async function sandboxState(world: IosWorld): Promise<SandboxState> {
  return (await world.sandbox.admin.state()) as unknown as SandboxState;
}

export const liveCertificates = (s: SandboxState) => s.certificates.filter((c) => c.state === "ACTIVE");
