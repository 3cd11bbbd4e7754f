import { startMoto } from "./moto";

/** Starts the S3/KMS server once for the whole run; workers inherit its endpoint. */
export default async function globalSetup(): Promise<void> {
  // `npm install <pkg>` prunes the self-link that lets provider closures load us by package name.
  require("../../scripts/link-self.js");
  const moto = await startMoto();
  (globalThis as { __moto?: unknown }).__moto = moto;
  process.env.APPSIGNING_TEST_AWS_ENDPOINT = moto.endpoint;
  // Dummy credentials: moto accepts any, and no test may reach a real AWS account.
  process.env.AWS_ACCESS_KEY_ID = "test";
  process.env.AWS_SECRET_ACCESS_KEY = "test";
  process.env.AWS_REGION = "us-east-1";
  delete process.env.AWS_PROFILE;
  // The pinned AWS SDK runs on Node 20; its notice about releases from 2027 on is noise in test output.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
}
