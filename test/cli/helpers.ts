/**
 * Shared by the CLI tests: the built `appsigning` command run as a child process (as a user runs
 * it), and stores filled by the resources' own providers (real key generation, real sealing, the
 * Apple sandbox for iOS), in both modes: a folder with a passphrase, and S3 + KMS on moto.
 */
import { execFile, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Vault } from "../../provider/store";
import type { Bundle, StoreConfig } from "../../provider/store";
import type { RunningSandbox } from "../../sandbox";
import { kmsKeyUrl, newBucket, newKmsKey, s3StoreUrl } from "../harness/aws";

export const REPO = path.resolve(__dirname, "../..");
export const MAIN = path.join(REPO, "dist/provider/cli/main.js");
export const STORE_PASSPHRASE = "cli-test store passphrase";
export const BACKUP_PASSPHRASE = "cli-test backup passphrase, kept apart";

function newestSource(dir: string): number {
  let newest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (e.name.endsWith(".ts")) newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
  return newest;
}

const sleepSync = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * Builds dist/ with tsc unless it is newer than every source (npm test builds first). Jest runs
 * test files in two workers: a lock folder keeps them from building over each other.
 */
export function ensureBuilt(): void {
  // Once per jest run (the moto endpoint is unique to a run): a later rebuild, because someone
  // edited a source meanwhile, would rewrite dist/ under a CLI another worker is running.
  const run = crypto.createHash("sha256").update(process.env.APPSIGNING_TEST_AWS_ENDPOINT ?? String(process.ppid)).digest("hex").slice(0, 12);
  const stamp = path.join(os.tmpdir(), `appsigning-cli-test-built-${run}`);
  if (fs.existsSync(stamp) && fs.existsSync(MAIN)) return;
  const fresh = () => fs.existsSync(MAIN) && fs.statSync(MAIN).mtimeMs > Math.max(newestSource(path.join(REPO, "provider")), newestSource(path.join(REPO, "sandbox")));
  if (fresh()) {
    fs.writeFileSync(stamp, "");
    return;
  }
  const lock = path.join(os.tmpdir(), "appsigning-cli-test-build.lock");
  const deadline = Date.now() + 300_000;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch {
      const st = fs.statSync(lock, { throwIfNoEntry: false });
      if (st && Date.now() - st.mtimeMs > 300_000) fs.rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`another build holds ${lock}`);
      sleepSync(250);
    }
  }
  try {
    if (fresh() || fs.existsSync(stamp)) return;
    const r = spawnSync(process.execPath, [path.join(REPO, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json"], { cwd: REPO, encoding: "utf8" });
    // tsc emits even with type errors elsewhere in the tree; the CLI itself must have been built.
    if (!fs.existsSync(MAIN)) throw new Error(`tsc did not build ${MAIN}:\n${r.stdout}\n${r.stderr}`);
    fs.writeFileSync(stamp, "");
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout then stderr: everything the user sees. */
  output: string;
}

/** The environment of a user's shell, without anything appsigning reads unless a test sets it. */
function baseEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith("APPSIGNING_") && k !== "APPSIGNING_TEST_AWS_ENDPOINT") delete env[k];
  delete env.NO_COLOR;
  delete env.FORCE_COLOR;
  return env;
}

/** Runs `node dist/provider/cli/main.js ...args` as a child process. */
export function runCli(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { env: { ...baseEnv(), ...opts.env }, cwd: opts.cwd ?? REPO, maxBuffer: 16 * 1024 * 1024, timeout: 240_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, stdout, stderr, output: `${stdout}\n${stderr}` });
    });
  });
}

/** A store in one of the two modes, with the CLI flags and environment that reach it. */
export interface TestStore {
  mode: "file" | "s3";
  config: StoreConfig;
  /** --store and --kms. */
  flags: string[];
  /** Only --store: for commands that need no key. */
  storeFlag: string[];
  env: NodeJS.ProcessEnv;
  vault(): Vault;
  dir?: string;
  bucket?: string;
}

export function tempDir(prefix = "appsigning-cli-"): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A new, empty store. A folder store's passphrase is APPSIGNING_PASSPHRASE in this process too. */
export async function newStore(mode: "file" | "s3", kmsAlias?: string): Promise<TestStore> {
  process.env.APPSIGNING_PASSPHRASE = STORE_PASSPHRASE;
  if (mode === "file") {
    const dir = tempDir("appsigning-cli-store-");
    const config = { url: `file://${dir}/store`, kms: "passphrase" };
    return { mode, config, flags: ["--store", config.url], storeFlag: ["--store", config.url], env: { APPSIGNING_PASSPHRASE: STORE_PASSPHRASE }, vault: () => Vault.open(config), dir };
  }
  const bucket = await newBucket();
  const alias = kmsAlias ?? (await newKmsKey()).alias;
  const config = { url: s3StoreUrl(bucket, "signing"), kms: kmsKeyUrl(alias) };
  return { mode, config, flags: ["--store", config.url, "--kms", config.kms], storeFlag: ["--store", config.url], env: {}, vault: () => Vault.open(config), bucket };
}

export function newP8(): string {
  return crypto.generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
}

/** Provider objects as the Pulumi engine would call them: check, then create. */
interface DynamicProvider {
  check(olds: unknown, news: unknown): Promise<{ inputs: unknown; failures?: unknown[] }>;
  create(inputs: unknown): Promise<{ id: string; outs: Record<string, unknown> }>;
}

async function checkAndCreate(modulePath: string, news: Record<string, unknown>): Promise<Record<string, unknown>> {
  const provider = (require(modulePath) as { provider: DynamicProvider }).provider;
  const checked = await provider.check({}, news);
  if (checked.failures && checked.failures.length > 0) throw new Error(`check failed: ${JSON.stringify(checked.failures)}`);
  return (await provider.create(checked.inputs)).outs;
}

export interface Filled {
  teamId: string;
  names: {
    upload: string;
    appSigning: string;
    certificate: string;
    profile: string;
    pushKey: string;
    apiKey: string;
  };
  certificateId: string;
  serialNumber: string;
  profileId: string;
  profileUuid: string;
  pushKeyId: string;
  uploadSha256: string;
}

const OWNER = "acme-app/prod";

/** An Android upload keystore (PKCS12) and a legacy app-signing keystore (JKS), as android.Keystore makes them. */
export async function fillAndroid(store: StoreConfig): Promise<{ upload: string; appSigning: string; uploadSha256: string }> {
  const base = { store, applicationId: "com.acme.app", dname: { cn: "Acme", o: "Acme Inc", c: "US" }, keySize: 2048, allowReplace: false, allowDelete: false, exposeSecrets: false };
  const upload = await checkAndCreate("../../provider/resources/android/keystore", { ...base, role: "upload", alias: "upload", format: "PKCS12", name: `${OWNER}/upload`, owner: `${OWNER}/upload` });
  const appSigning = await checkAndCreate("../../provider/resources/android/keystore", { ...base, role: "app-signing", alias: "app-signing", format: "JKS", name: `${OWNER}/app-signing`, owner: `${OWNER}/app-signing` });
  return { upload: String(upload.vaultName), appSigning: String(appSigning.vaultName), uploadSha256: String(upload.sha256Fingerprint) };
}

/** A distribution certificate, an App Store profile made with it, and a push key, through the sandbox. */
export async function fillIos(store: StoreConfig, sandbox: RunningSandbox) {
  const key = sandbox.apiKey;
  const apple = { issuerId: key.issuerId, keyId: key.keyId, privateKey: key.privateKeyPem, teamId: key.teamId, baseUrl: sandbox.url };
  const cert = await checkAndCreate("../../provider/resources/ios/distribution-certificate", {
    store, apple, certificateType: "DISTRIBUTION", renewBeforeDays: 30, revokeOnDelete: false, certificateLimit: 2, name: `${OWNER}/dist`, owner: `${OWNER}/dist`,
  });
  const profile = await checkAndCreate("../../provider/resources/ios/provisioning-profile", {
    store, apple, bundleId: "com.acme.app", type: "IOS_APP_STORE", certificate: cert.ref, devices: [], createBundleId: true, renewBeforeDays: 30, deleteOnDelete: false,
    name: `${OWNER}/appstore`, owner: `${OWNER}/appstore`,
  });
  const push = await checkAndCreate("../../provider/resources/ios/push-key", {
    store, teamId: key.teamId, keyId: "APNS123456", p8: newP8(), allowReplace: false, allowDelete: false, name: `${OWNER}/apns`, owner: `${OWNER}/apns`,
  });
  return {
    teamId: key.teamId,
    certificate: String(cert.vaultName),
    profile: String(profile.vaultName),
    pushKey: String(push.vaultName),
    apiKey: `apple/${key.teamId}/api-keys/${key.keyId}`,
    certificateId: String(cert.certificateId),
    serialNumber: String(cert.serialNumber),
    profileId: String(profile.profileId),
    profileUuid: String(profile.uuid),
    pushKeyId: "APNS123456",
  };
}

export async function fillAll(store: StoreConfig, sandbox: RunningSandbox): Promise<Filled> {
  const android = await fillAndroid(store);
  const ios = await fillIos(store, sandbox);
  return {
    teamId: ios.teamId,
    names: { upload: android.upload, appSigning: android.appSigning, certificate: ios.certificate, profile: ios.profile, pushKey: ios.pushKey, apiKey: ios.apiKey },
    certificateId: ios.certificateId,
    serialNumber: ios.serialNumber,
    profileId: ios.profileId,
    profileUuid: ios.profileUuid,
    pushKeyId: ios.pushKeyId,
    uploadSha256: android.uploadSha256,
  };
}

/**
 * Every secret value in a store, as text a command could leak: passwords, and the base64 lines of
 * private keys, .p12s and keystores.
 */
export async function secretsOf(vault: Vault): Promise<string[]> {
  const out: string[] = [];
  const add = (b: Bundle, part: string) => {
    const v = b[part];
    if (v === undefined) return;
    if (Buffer.isBuffer(v)) {
      out.push(v.toString("base64").slice(0, 40), v.toString("hex").slice(0, 40));
    } else if (v.includes("-----BEGIN")) {
      out.push(...v.split("\n").filter((line) => /^[A-Za-z0-9+/=]{40,}$/.test(line)));
    } else {
      out.push(v);
    }
  };
  for (const l of await vault.list()) {
    if (l.state === "retired") continue;
    const { bundle } = await vault.get({ name: l.name, kind: l.kind, scope: l.scope });
    for (const part of ["p12Password", "storePassword", "keyPassword", "privateKey", "p8", "p12", "keystore"]) add(bundle, part);
  }
  return out.filter((s) => s.length >= 8);
}

export function expectNoSecret(text: string, secrets: string[]): void {
  const leaked = secrets.filter((s) => text.includes(s));
  // The values are not printed: a failing test must not leak them either.
  expect(leaked.length).toBe(0);
}

export function mode(file: string): number {
  return fs.statSync(file).mode & 0o777;
}
