/**
 * Runs the real Android/Java/OpenSSL tools (keytool, apksigner, openssl) for tests.
 * Passwords go through environment variables (`-storepass:env`, `--ks-pass env:`, `-passin env:`), never argv,
 * and any secret value is masked in error messages, so a failing assertion cannot print one.
 */
import { execFile, execFileSync } from "child_process";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { minimalUnsignedApk } from "./apk";

export interface RunOptions {
  /** Extra environment: put passwords here and refer to them by name in the arguments. */
  env?: Record<string, string>;
  /** Values to mask in error output besides the env values. */
  secrets?: string[];
  timeoutMs?: number;
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

export class ToolFailed extends Error {
  constructor(
    message: string,
    readonly exitCode: number | null,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(message);
    this.name = "ToolFailed";
  }
}

/** Runs a tool; resolves with its output, rejects with ToolFailed (secrets masked) on a non-zero exit. */
export function run(tool: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  const secrets = [...Object.values(options.env ?? {}), ...(options.secrets ?? [])].filter((s) => s.length > 0);
  const mask = (text: string) => secrets.reduce((t, s) => t.split(s).join("***"), text);
  return new Promise((resolve, reject) => {
    execFile(
      tool,
      args,
      { env: { ...process.env, ...options.env }, timeout: options.timeoutMs ?? 90_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          const code = typeof error.code === "number" ? error.code : null;
          const shownArgs = mask(args.join(" "));
          reject(
            new ToolFailed(
              `${tool} ${shownArgs} failed (exit ${code ?? error.signal ?? "?"}):\n${mask(`${stdout}\n${stderr}`).trim()}`,
              code,
              mask(stdout),
              mask(stderr),
            ),
          );
          return;
        }
        resolve({ stdout, stderr });
      },
    );
  });
}

export async function keytool(args: string[], options: RunOptions = {}): Promise<string> {
  return (await run("keytool", args, options)).stdout;
}

export async function apksigner(args: string[], options: RunOptions = {}): Promise<string> {
  return (await run("apksigner", args, options)).stdout;
}

export async function openssl(args: string[], options: RunOptions = {}): Promise<string> {
  return (await run("openssl", args, options)).stdout;
}

/** True when the program is on PATH. */
export function hasTool(name: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/**
 * `describe` for tests that need real tools. A missing tool fails the tests, saying which Debian
 * packages to install (scripts/setup.sh installs them): a silent skip would hide a broken setup.
 */
export function describeWithTools(tools: string[], name: string, body: () => void): void {
  const missing = tools.filter((t) => !hasTool(t));
  describe(name, () => {
    if (missing.length > 0) {
      test(`needs ${missing.join(", ")}`, () => {
        throw new Error(`${missing.join(", ")} not installed: apt-get install apksigner openjdk-17-jdk-headless openssl (or run scripts/setup.sh)`);
      });
      return;
    }
    body();
  });
}

/** A fresh temporary directory for one test; remove it with the returned cleanup (call it in finally/afterEach). */
export function makeTempDir(prefix = "appsigning-test-"): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs `fn` with a temporary directory that is removed afterwards, whatever happens. */
export async function withTempDir<T>(fn: (dir: string) => Promise<T> | T): Promise<T> {
  const { dir, cleanup } = makeTempDir();
  try {
    return await fn(dir);
  } finally {
    cleanup();
  }
}

/** "AB:CD:..." (console form) -> "abcd..." (apksigner's form). */
export function toApksignerHex(consoleFingerprint: string): string {
  return consoleFingerprint.replace(/:/g, "").toLowerCase();
}

export type StoreType = "PKCS12" | "JKS";

export interface KeytoolKeystoreInput {
  path: string;
  storeType: StoreType;
  alias: string;
  storePassword: string;
  /** JKS only; keytool ignores -keypass for PKCS12. */
  keyPassword?: string;
  keySize?: number;
  dname?: string;
  validityDays?: number;
}

/** Makes a keystore with keytool itself (`-genkeypair`), as users and EAS do. */
export async function keytoolGenerate(input: KeytoolKeystoreInput): Promise<void> {
  const env: Record<string, string> = { APPSIGNING_TEST_SP: input.storePassword };
  const args = [
    "-genkeypair", "-noprompt",
    "-keystore", input.path, "-storetype", input.storeType,
    "-alias", input.alias,
    "-keyalg", "RSA", "-keysize", String(input.keySize ?? 2048), "-sigalg", "SHA256withRSA",
    "-validity", String(input.validityDays ?? 10000),
    "-dname", input.dname ?? "CN=Keytool Fixture, O=Appsigning Tests, C=US",
    "-storepass:env", "APPSIGNING_TEST_SP",
  ];
  if (input.keyPassword !== undefined) {
    env.APPSIGNING_TEST_KP = input.keyPassword;
    args.push("-keypass:env", "APPSIGNING_TEST_KP");
  }
  await keytool(args, { env });
}

/** `keytool -list -v` with the store password; returns its output. */
export async function keytoolListVerbose(path: string, storePassword: string, storeType?: StoreType): Promise<string> {
  const args = ["-list", "-v", "-keystore", path, "-storepass:env", "APPSIGNING_TEST_SP"];
  if (storeType) args.push("-storetype", storeType);
  return keytool(args, { env: { APPSIGNING_TEST_SP: storePassword } });
}

/** The "SHA256: AB:CD..." fingerprint lines of `keytool -list -v` / `-printcert`. */
export function keytoolSha256Fingerprints(listing: string): string[] {
  return [...listing.matchAll(/^\s*SHA256: ([0-9A-F:]+)\s*$/gm)].map((m) => m[1]);
}

export interface SignApkInput {
  dir: string;
  keystorePath: string;
  alias: string;
  storePassword: string;
  keyPassword: string;
  storeType?: StoreType;
}

export interface VerifiedApk {
  /** apksigner's "Signer #1 certificate SHA-256 digest", lowercase hex without colons. */
  signerSha256: string;
  schemes: string[];
  output: string;
}

/** Signs the minimal APK with `apksigner sign`, then checks it with `apksigner verify --print-certs`. */
export async function signAndVerifyApk(input: SignApkInput): Promise<VerifiedApk> {
  const unsigned = join(input.dir, "unsigned.apk");
  const signed = join(input.dir, "signed.apk");
  writeFileSync(unsigned, minimalUnsignedApk());
  const env = { APPSIGNING_TEST_KS_PASS: input.storePassword, APPSIGNING_TEST_KEY_PASS: input.keyPassword };
  const signArgs = [
    "sign",
    "--ks", input.keystorePath,
    "--ks-key-alias", input.alias,
    "--ks-pass", "env:APPSIGNING_TEST_KS_PASS",
    "--key-pass", "env:APPSIGNING_TEST_KEY_PASS",
    "--v4-signing-enabled", "false",
    "--in", unsigned,
    "--out", signed,
  ];
  if (input.storeType) signArgs.splice(1, 0, "--ks-type", input.storeType);
  await apksigner(signArgs, { env });
  const output = await apksigner(["verify", "--verbose", "--print-certs", signed]);
  if (!/^Verifies$/m.test(output)) throw new Error(`apksigner verify did not say "Verifies":\n${output}`);
  const digest = /^Signer #1 certificate SHA-256 digest: ([0-9a-f]+)$/m.exec(output);
  if (!digest) throw new Error(`apksigner verify printed no signer SHA-256:\n${output}`);
  const schemes = [...output.matchAll(/^Verified using (v[\d.]+ scheme)[^:]*: true$/gm)].map((m) => m[1]);
  return { signerSha256: digest[1], schemes, output };
}
