/**
 * Runs real Pulumi programs with the real `pulumi` CLI (built by scripts/pulumi-cli.sh), each
 * stack in its own temp PULUMI_HOME and file:// backend, passphrase secrets, no network. Programs
 * run as the CLI's child processes, never inside jest (pulumi/pulumi#3799).
 */
import { execFile, execFileSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export const REPO = path.resolve(__dirname, "../..");
export const STACK_PASSPHRASE = "e2e-stack-passphrase";

let cachedBin: string | undefined;

/** The folder holding `pulumi`, its language host and the dynamic-provider launcher. */
export function pulumiBinDir(): string {
  if (process.env.APPSIGNING_PULUMI_BIN) return path.dirname(process.env.APPSIGNING_PULUMI_BIN);
  if (!cachedBin) {
    const out = execFileSync("bash", [path.join(REPO, "scripts/pulumi-cli.sh"), "--print-path"], {
      stdio: ["ignore", "pipe", "inherit"],
    })
      .toString()
      .trim()
      .split("\n");
    cachedBin = out[out.length - 1];
    process.env.APPSIGNING_PULUMI_BIN = cachedBin;
  }
  return path.dirname(cachedBin);
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout + stderr, for assertions on what a user would see. */
  output: string;
}

/** Fails with what Pulumi printed, so a failing run explains itself. */
export function expectSuccess(r: RunResult): void {
  if (r.code !== 0) throw new Error(`pulumi exited ${r.code}:\n${r.output.slice(-8000)}`);
}

export class PulumiStack {
  readonly home: string;
  readonly env: NodeJS.ProcessEnv;

  private constructor(
    readonly programDir: string,
    readonly stack: string,
    readonly tmp: string,
    extraEnv: NodeJS.ProcessEnv,
  ) {
    this.home = path.join(tmp, "home");
    const bin = pulumiBinDir();
    this.env = {
      ...process.env,
      ...extraEnv,
      PATH: `${bin}:${process.env.PATH}`,
      PULUMI_HOME: this.home,
      PULUMI_BACKEND_URL: `file://${path.join(tmp, "state")}`,
      PULUMI_CONFIG_PASSPHRASE: STACK_PASSPHRASE,
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
      PULUMI_SKIP_CONFIRMATIONS: "true",
      PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "false",
      NO_COLOR: "1",
      // The pinned AWS SDK runs on Node 20; its notice about future releases is noise in test output.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    };
  }

  /** A new stack of the program in `programDir` (a folder with Pulumi.yaml). */
  static async create(programDir: string, opts: { stack?: string; env?: NodeJS.ProcessEnv; config?: Record<string, string> } = {}): Promise<PulumiStack> {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-e2e-"));
    fs.mkdirSync(path.join(tmp, "state"));
    fs.mkdirSync(path.join(tmp, "home"));
    // A unique stack name: its config file lives in the program folder, shared by every test.
    const name = `${opts.stack ?? "e2e"}-${crypto.randomBytes(3).toString("hex")}`;
    const s = new PulumiStack(programDir, name, tmp, opts.env ?? {});
    await s.must(["stack", "init", s.stack, "--non-interactive"]);
    for (const [k, v] of Object.entries(opts.config ?? {})) await s.setConfig(k, v);
    return s;
  }

  run(args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {}): Promise<RunResult> {
    return new Promise((resolve) => {
      const child = execFile(
        path.join(pulumiBinDir(), "pulumi"),
        // Global flags first: a value after "--" must stay last.
        ["--cwd", this.programDir, ...(args[0] === "stack" && args[1] === "init" ? [] : ["--stack", this.stack]), ...args],
        { env: { ...this.env, ...opts.env }, maxBuffer: 64 * 1024 * 1024, timeout: opts.timeoutMs ?? 300_000 },
        (err, stdout, stderr) => {
          const code = err ? ((err as { code?: number }).code ?? 1) : 0;
          resolve({ code: typeof code === "number" ? code : 1, stdout, stderr, output: `${stdout}\n${stderr}` });
        },
      );
      child.stdin?.end(opts.input ?? "");
    });
  }

  async must(args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<RunResult> {
    const r = await this.run(args, opts);
    if (r.code !== 0) throw new Error(`pulumi ${args.join(" ")} failed (${r.code}):\n${r.output.slice(-6000)}`);
    return r;
  }

  /** Secret values go through stdin, so they appear in no argument list or failure message. */
  setConfig(key: string, value: string, secret = false): Promise<RunResult> {
    if (secret) return this.must(["config", "set", key, "--secret"], { input: value });
    return this.must(["config", "set", key, "--plaintext", "--", value]);
  }

  up(extra: string[] = [], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
    return this.run(["up", "--yes", "--skip-preview", "--non-interactive", ...extra], opts);
  }
  preview(extra: string[] = [], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
    return this.run(["preview", "--non-interactive", "--diff", ...extra], opts);
  }
  refresh(extra: string[] = []): Promise<RunResult> {
    return this.run(["refresh", "--yes", "--non-interactive", "--skip-preview", ...extra]);
  }
  destroy(extra: string[] = []): Promise<RunResult> {
    return this.run(["destroy", "--yes", "--non-interactive", "--skip-preview", ...extra]);
  }

  /** `pulumi preview --json`: the planned operation per resource name ("same", "create", "replace", ...). */
  async plan(extra: string[] = []): Promise<{ code: number; ops: Record<string, string[]>; output: string }> {
    const r = await this.run(["preview", "--non-interactive", "--json", ...extra]);
    const ops: Record<string, string[]> = {};
    try {
      const doc = JSON.parse(r.stdout) as { steps?: Array<{ op: string; urn: string }> };
      for (const step of doc.steps ?? []) {
        const name = step.urn.split("::").pop()!;
        (ops[name] ??= []).push(step.op);
      }
    } catch {
      /* not JSON: a failure before planning; the output says why */
    }
    return { code: r.code, ops, output: r.output };
  }

  async urn(name: string): Promise<string> {
    const res = await this.resources();
    const found = res.find((r) => r.urn.endsWith(`::${name}`));
    if (!found) throw new Error(`no resource named ${name} in the stack`);
    return found.urn;
  }

  async outputs(): Promise<Record<string, unknown>> {
    return JSON.parse((await this.must(["stack", "output", "--json"])).stdout);
  }

  /** The whole state, secrets decrypted: what an attacker with the stack passphrase would see. */
  async exportWithSecrets(): Promise<string> {
    return (await this.must(["stack", "export", "--show-secrets"])).stdout;
  }

  async resources(): Promise<Array<{ urn: string; type: string; outputs?: Record<string, unknown> }>> {
    const state = JSON.parse((await this.must(["stack", "export"])).stdout);
    return state.deployment.resources ?? [];
  }

  async dispose(): Promise<void> {
    fs.rmSync(this.tmp, { recursive: true, force: true });
    fs.rmSync(path.join(this.programDir, `Pulumi.${this.stack}.yaml`), { force: true });
  }
}
