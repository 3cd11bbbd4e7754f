/**
 * The floor: only the work a fleet's credentials cannot do without, with the project's own clients
 * and format code, no Pulumi. Run by bench/run.ts as a child process (like Pulumi's provider
 * process), configured by the JSON in BENCH_FLOOR_CONFIG; prints its result as JSON on stdout.
 *
 * Per credential: its key generation (or, for the imported push key, its validation), one KMS data
 * key and one S3 put (one sealed blob), and one Apple create. What the platform adds once and the
 * fleet cannot skip either: one bundle ID registration per app (a profile needs one) and one device
 * list (an ad hoc profile names its devices). Work runs concurrently, at most `parallel` credentials
 * at a time (Pulumi's default parallelism), in the order the dependencies allow: profiles wait for
 * the certificate and their app's bundle ID.
 */
import * as crypto from "crypto";
import { createAppleClient, createBundleId, createCertificate, createProfile, listDevices } from "../provider/apple";
import type { CallCounts } from "../provider/apple";
import { createCsr, generateRsaKeyPairAsync } from "../provider/formats/csr";
import { generateKeystoreAsync } from "../provider/formats/keystore";
import { parseP8 } from "../provider/formats/p8";
import { buildIdentityP12 } from "../provider/formats/signing-identity";
import { certificateFacts } from "../provider/formats/x509";
import { Vault } from "../provider/store";
import { callCounts } from "../provider/store/aws-clients";

export interface FloorConfig {
  store: { url: string; kms: string };
  apple: { issuerId: string; keyId: string; privateKeyPem: string; teamId: string; baseUrl: string };
  apnsKeyId: string;
  apnsP8: string;
  bundleIds: string[];
  parallel: number;
}

export interface FloorResult {
  workMs: number;
  credentials: number;
  /** "apple:POST /v1/profiles", "kms:GenerateDataKey", "s3:PutObject": calls made, every attempt counted. */
  calls: Record<string, number>;
  maxRssKb: number;
  /** CPU time of the floor process (user + system), ms. */
  cpuMs: number;
}

/** At most `limit` tasks at a time. */
function pool(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: Array<() => void> = [];
  return async (task) => {
    if (running >= limit) await new Promise<void>((r) => waiting.push(r));
    running++;
    try {
      return await task();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}

async function floor(cfg: FloorConfig): Promise<FloorResult> {
  const started = Date.now();
  const vault = Vault.open(cfg.store);
  const appleCalls: CallCounts = {};
  const apple = createAppleClient({ ...cfg.apple, privateKey: cfg.apple.privateKeyPem, calls: appleCalls });
  const team = cfg.apple.teamId;
  const run = pool(cfg.parallel);
  const blob = (kind: string, name: string, scope = team) => ({ name: `floor/${kind}/${name}`, kind, scope });

  const certificate = run(async () => {
    const { privateKeyPem } = await generateRsaKeyPairAsync();
    const csrPem = createCsr(privateKeyPem, { commonName: "appsigning floor" });
    const cert = await createCertificate(apple, { certificateType: "DISTRIBUTION", csrPem });
    const facts = certificateFacts(Buffer.from(cert.certificateContent, "base64"), { what: "distribution certificate" });
    const { p12, password } = buildIdentityP12({ privateKey: crypto.createPrivateKey(privateKeyPem), certificate: facts }, cert.name || "distribution");
    await vault.put(blob("ios-distribution-certificate", "dist"), { privateKey: privateKeyPem, csr: csrPem, certificate: facts.der, p12, p12Password: password }, { expect: "absent" });
    return cert;
  });
  const push = run(async () => {
    parseP8(cfg.apnsP8, "p8");
    await vault.put(blob("ios-push-key", "apns"), { p8: cfg.apnsP8, keyId: cfg.apnsKeyId, teamId: team }, { expect: "absent" });
  });
  const devices = run(() => listDevices(apple, { platform: "IOS", status: "ENABLED" }));
  const apps = cfg.bundleIds.map(async (identifier, i) => {
    const n = String(i + 1).padStart(3, "0");
    const keystore = run(async () => {
      const g = await generateKeystoreAsync({ alias: "upload", dname: { cn: identifier, o: "Bench", c: "US" } });
      await vault.put(blob("android-keystore", n, identifier), { keystore: g.file, storePassword: g.storePassword, keyPassword: g.keyPassword, alias: g.alias }, { expect: "absent" });
    });
    const bundle = run(() => createBundleId(apple, { identifier, name: identifier.replace(/[^A-Za-z0-9 ]/g, " "), platform: "IOS" }));
    const profile = async (type: "IOS_APP_STORE" | "IOS_APP_ADHOC") => {
      const [cert, b, devs] = await Promise.all([certificate, bundle, devices]);
      return run(async () => {
        const p = await createProfile(apple, {
          name: `${identifier} ${type} floor`,
          profileType: type,
          bundleIdId: b.id,
          certificateIds: [cert.id],
          deviceIds: type === "IOS_APP_ADHOC" ? devs.map((d) => d.id) : [],
        });
        await vault.put(blob("ios-provisioning-profile", `${type}-${n}`, `${team}.${identifier}`), { mobileprovision: Buffer.from(p.profileContent, "base64") }, { expect: "absent" });
      });
    };
    await Promise.all([keystore, profile("IOS_APP_STORE"), profile("IOS_APP_ADHOC")]);
  });
  await Promise.all([certificate, push, devices, ...apps]);
  const workMs = Date.now() - started;

  const calls: Record<string, number> = { ...callCounts };
  for (const [endpoint, count] of Object.entries(appleCalls)) calls[`apple:${endpoint}`] = count;
  const usage = process.resourceUsage();
  return { workMs, credentials: 2 + 3 * cfg.bundleIds.length, calls, maxRssKb: usage.maxRSS, cpuMs: Math.round((usage.userCPUTime + usage.systemCPUTime) / 1000) };
}

if (require.main === module) {
  const cfg = JSON.parse(process.env.BENCH_FLOOR_CONFIG ?? "null") as FloorConfig | null;
  if (!cfg) {
    process.stderr.write("bench/floor.ts is run by bench/run.ts (npm run bench), which sets BENCH_FLOOR_CONFIG\n");
    process.exit(2);
  }
  floor(cfg).then(
    (result) => process.stdout.write(JSON.stringify(result) + "\n"),
    (err) => {
      process.stderr.write(`floor failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
