/**
 * The single place where AWS clients are built: endpoint and path-style handling for local
 * servers, retry policy, and call counting. Clients are built per vault, never captured by a
 * Pulumi provider closure.
 */
import * as fs from "fs";
import type { KMSClient } from "@aws-sdk/client-kms";
import type { S3Client } from "@aws-sdk/client-s3";

/** Calls made through clients built here, by "service:Operation". Read by tests and the benchmark. */
export const callCounts: Record<string, number> = {};

function countCalls(client: S3Client | KMSClient, service: string): void {
  const logFile = process.env.APPSIGNING_CALL_LOG;
  // The two clients' middleware stacks have different type parameters; the counter is generic.
  (client.middlewareStack as S3Client["middlewareStack"]).add(
    (next, context) => async (args) => {
      const op = `${service}:${String(context.commandName ?? "unknown").replace(/Command$/, "")}`;
      callCounts[op] = (callCounts[op] ?? 0) + 1;
      // One line per call, so a benchmark can count calls made inside Pulumi's provider process.
      if (logFile) fs.appendFileSync(logFile, `${op}\n`);
      return next(args);
    },
    { step: "initialize", name: "appsigningCallCounter" },
  );
}

interface Endpoint {
  region?: string;
  endpoint?: string;
}

function common(e: Endpoint) {
  return {
    region: e.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? "us-east-1",
    ...(e.endpoint ? { endpoint: e.endpoint } : {}),
    // Standard retry mode: exponential back-off with jitter on throttling and 5xx, 3 attempts.
    maxAttempts: 4,
  };
}

export function makeS3Client(e: Endpoint): S3Client {
  const { S3Client } = require("@aws-sdk/client-s3") as typeof import("@aws-sdk/client-s3");
  const client = new S3Client({
    ...common(e),
    // A custom endpoint (moto, MinIO) has no virtual-host DNS for buckets.
    forcePathStyle: Boolean(e.endpoint),
    // Checksums only where the API requires them: S3-compatible servers differ on the newer defaults.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
  countCalls(client, "s3");
  return client;
}

export function makeKmsClient(e: Endpoint): KMSClient {
  const { KMSClient } = require("@aws-sdk/client-kms") as typeof import("@aws-sdk/client-kms");
  const client = new KMSClient(common(e));
  countCalls(client, "kms");
  return client;
}
