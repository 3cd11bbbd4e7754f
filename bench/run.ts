/**
 * `npm run bench`: the provider under the real `pulumi` CLI, against the App Store Connect sandbox
 * and moto S3/KMS on loopback, for fleets of N apps (default N = 1, 10, 50). Per size:
 *
 *   1. floor      bench/floor.ts: only the unavoidable work for the same fleet, same clients, no Pulumi
 *   2. fleet up   the generated program (bench/fleet-program.ts) from empty to deployed
 *   3. no-op preview and no-op up on the deployed fleet
 *   4. refresh
 *   5. Pulumi alone: `up` of the same shape with a do-nothing dynamic provider (Pulumi's own share)
 *
 * Calls are counted by the project's own instrumentation: APPSIGNING_CALL_LOG (one line per AWS SDK
 * call made through provider/store/aws-clients.ts and per Apple request made by the client), which
 * Pulumi's provider process inherits, and the sandbox's own request log as a cross-check. Peak
 * memory is the provider process's VmHWM. Results: tables on stdout, JSON under bench/results/.
 *
 *   npm run bench                           sizes 1, 10, 50
 *   npm run bench -- --sizes 1,10           other sizes
 *   npm run bench -- --label after          a label stored in the JSON (e.g. before/after a change)
 *   npm run bench -- --parallel 16          pulumi --parallel (default: the CLI's own, 4 x cores)
 *   npm run bench -- --repeat 5             runs per size of the floor, fleet up and Pulumi alone, alternating
 *                                           (default 3); each is reported by its median run
 *   npm run bench -- --out DIR              write the JSON there instead of bench/results/
 *   npm run bench -- --keep                 keep the deployed stacks (their state folders are printed)
 *   npm run bench -- --program js           how Pulumi gets the generated programs: ts (default) TypeScript
 *                                           through ts-node, transpile only; ts-checked also type-checked on
 *                                           every run (Pulumi's default); js compiled ahead
 *   npm run bench -- --cpu-prof DIR         V8 CPU profiles of fleet up's program and provider processes
 */
import { spawn, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { createAppleClient, registerDevice } from "../provider/apple";
import { startSandbox } from "../sandbox";
import type { RequestLogEntry, RunningSandbox } from "../sandbox";
import { kmsKeyUrl, newBucket, newKmsKey, s3StoreUrl } from "../test/harness/aws";
import { startMoto } from "../test/harness/moto";
import { PulumiStack, pulumiBinDir } from "../test/harness/pulumi";
import { fleetBundleIds, fleetResourceCount, writeFleetProgram } from "./fleet-program";
import type { ProgramLanguage } from "./fleet-program";
import type { FloorConfig, FloorResult } from "./floor";
import { cpuMsOf, sampleProvider } from "./provider-process";
import type { ProviderSample } from "./provider-process";
import { fmt, growthTable, kindRows, printTable } from "./report";

/** The repository (this file runs from dist/bench/). */
const REPO = path.resolve(__dirname, "../..");
const WORK = path.join(REPO, "bench/.work");
const DEFAULT_RESULTS = path.join(REPO, "bench/results");
const DEVICE_UDID = "00008030-001A2B3C4D5E6F70";
const RUN_TIMEOUT_MS = 30 * 60_000;

interface Options {
  sizes: number[];
  label?: string;
  parallel?: number;
  keep: boolean;
  /** Where the JSON goes (default bench/results/). */
  out: string;
  /** Runs of the floor, fleet up and Pulumi alone per size (alternating); the median of each is reported. */
  repeat: number;
  /** How Pulumi gets the generated programs (see ProgramLanguage in fleet-program.ts). */
  program: ProgramLanguage;
  /** Write V8 CPU profiles of fleet up's node processes into this folder (for finding where time goes). */
  cpuProf?: string;
}

export type Calls = Record<string, number>;

/** What every timed run records, the floor's and the CLI's alike. */
interface RunRecord {
  wallMs: number;
  /** Calls made, by "apple:METHOD /path", "kms:Op", "s3:Op" (the provider's: APPSIGNING_CALL_LOG). */
  calls: Calls;
  /** Requests the sandbox logged for the run's team, by "METHOD /route". */
  sandboxRequests: Calls;
  /** The machine's 1-minute load average before and after: other work on a shared machine skews wall times. */
  loadAvg: [number, number];
  /** When the sandbox saw the team's Apple requests, by "METHOD /route": [first, last] in ms from the run's start. */
  timeline: Record<string, [number, number]>;
  /** CPU spent meanwhile by the Apple sandbox (this process) and moto. */
  servers: ServerCpu;
}

export interface PhaseResult extends RunRecord {
  provider: ProviderSample;
}

export interface SizeResult {
  n: number;
  resources: number;
  floor: RunRecord & { workMs: number; credentials: number; maxRssKb: number; cpuMs: number };
  fleetUp: PhaseResult;
  ratio: number;
  noopPreview: PhaseResult;
  noopUp: PhaseResult;
  refresh: PhaseResult;
  /** Pulumi's own cost for the same shape: `up` of a program whose dynamic provider does nothing. */
  pulumiOnlyUp: PhaseResult;
  /** Mean characters of state (inputs + outputs) per fleet resource; the baseline stores as many. */
  stateCharsPerResource: number;
  /** Wall times of every repetition; the figures above are those of the median run of each. */
  runs: { floorWallMs: number[]; fleetUpWallMs: number[]; pulumiOnlyWallMs: number[] };
}

function parseOptions(argv: string[]): Options {
  const opts: Options = { sizes: [1, 10, 50], keep: false, program: "ts", repeat: 3, out: DEFAULT_RESULTS };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split("=", 2);
    const value = () => inline ?? argv[++i];
    if (flag === "--sizes") opts.sizes = value().split(",").map((s) => Number(s.trim()));
    else if (flag === "--label") opts.label = value();
    else if (flag === "--parallel") opts.parallel = Number(value());
    else if (flag === "--keep") opts.keep = true;
    else if (flag === "--repeat") opts.repeat = Number(value());
    else if (flag === "--out") opts.out = path.resolve(value());
    else if (flag === "--program") {
      const v = value();
      if (v !== "js" && v !== "ts" && v !== "ts-checked") throw new Error("--program takes js, ts or ts-checked");
      opts.program = v;
    }
    else if (flag === "--cpu-prof") opts.cpuProf = path.resolve(value());
    else if (flag === "--help" || flag === "-h") {
      process.stdout.write("usage: npm run bench -- [--sizes 1,10,50] [--label NAME] [--parallel N] [--repeat K] [--out DIR] [--keep] [--program js|ts|ts-checked] [--cpu-prof DIR]\n");
      process.exit(0);
    } else throw new Error(`unknown option ${argv[i]} (see --help)`);
  }
  if (opts.sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 500)) throw new Error("--sizes takes whole numbers from 1 to 500, separated by commas");
  if (!Number.isInteger(opts.repeat) || opts.repeat < 1 || opts.repeat > 9) throw new Error("--repeat takes a whole number from 1 to 9");
  return opts;
}

const log = (line: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

/** CPU time (ms) of the processes that serve both the floor and the fleet: this process (the Apple sandbox runs in it) and moto. */
interface ServerCpu {
  sandboxMs: number;
  motoMs: number;
}

let motoPid: number | undefined;

function serverCpu(): ServerCpu {
  const own = process.cpuUsage();
  return { sandboxMs: Math.round((own.user + own.system) / 1000), motoMs: (motoPid && cpuMsOf(motoPid)) || 0 };
}

const cpuSince = (a: ServerCpu): ServerCpu => {
  const b = serverCpu();
  return { sandboxMs: b.sandboxMs - a.sandboxMs, motoMs: b.motoMs - a.motoMs };
};

function countLines(file: string): Calls {
  const out: Calls = {};
  if (!fs.existsSync(file)) return out;
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    if (line.trim()) out[line.trim()] = (out[line.trim()] ?? 0) + 1;
  }
  return out;
}

function sandboxCounts(entries: RequestLogEntry[], teamId: string): Calls {
  const out: Calls = {};
  for (const e of entries) {
    if (e.teamId !== teamId) continue;
    const key = `${e.method} ${e.route}`;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

function sandboxTimeline(entries: RequestLogEntry[], teamId: string, startedMs: number): Record<string, [number, number]> {
  const out: Record<string, [number, number]> = {};
  for (const e of entries) {
    if (e.teamId !== teamId) continue;
    const key = `${e.method} ${e.route}`;
    const t = Date.parse(e.at) - startedMs;
    const span = out[key];
    out[key] = span ? [Math.min(span[0], t), Math.max(span[1], t)] : [t, t];
  }
  return out;
}

function versions(): Record<string, string> {
  const pkg = (name: string) => {
    try {
      return (JSON.parse(fs.readFileSync(path.join(REPO, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;
    } catch {
      return "?";
    }
  };
  const cli = spawnSync(path.join(pulumiBinDir(), "pulumi"), ["version"], { env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "true" } }).stdout?.toString().trim();
  const moto = spawnSync(process.env.MOTO_PYTHON ?? "python3", ["-c", "import moto; print(moto.__version__)"]).stdout?.toString().trim();
  return {
    appsigning: (JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")) as { version: string }).version,
    node: process.version,
    pulumiCli: cli || "?",
    pulumiSdk: pkg("@pulumi/pulumi"),
    awsSdkS3: pkg("@aws-sdk/client-s3"),
    awsSdkKms: pkg("@aws-sdk/client-kms"),
    nodeForge: pkg("node-forge"),
    typescript: pkg("typescript"),
    tsNode: pkg("ts-node"),
    moto: moto || "?",
  };
}

function machine() {
  return {
    cores: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? "?",
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
  };
}

async function registerBenchDevice(sandbox: RunningSandbox, teamId: string): Promise<void> {
  const team = sandbox.teams.find((t) => t.teamId === teamId)!;
  const client = createAppleClient({ ...team.apiKey, privateKey: team.apiKey.privateKeyPem, baseUrl: sandbox.url });
  await registerDevice(client, { name: "Bench iPhone", udid: DEVICE_UDID, platform: "IOS" });
}

function newP8(): string {
  return crypto.generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
}

/** Runs the floor script as a child process, as Pulumi runs its provider. */
async function runFloor(cfg: FloorConfig): Promise<{ wallMs: number; result: FloorResult }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(REPO, "dist/bench/floor.js")], {
      env: { ...process.env, BENCH_FLOOR_CONFIG: JSON.stringify(cfg), APPSIGNING_CALL_LOG: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d.toString()));
    child.stderr.on("data", (d) => (err += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`floor exited ${code}: ${err.slice(-4000)}`));
      const last = out.trim().split("\n").pop() ?? "";
      resolve({ wallMs: Date.now() - started, result: JSON.parse(last) as FloorResult });
    });
  });
}

async function phase(stack: PulumiStack, sandbox: RunningSandbox, team: string, name: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<PhaseResult> {
  const callLog = path.join(stack.tmp, `calls-${name}.log`);
  fs.rmSync(callLog, { force: true });
  const marker = `APPSIGNING_BENCH_PHASE=${crypto.randomBytes(6).toString("hex")}-${name}`;
  await sandbox.admin.clearRequests();
  const sampler = sampleProvider(marker);
  const load0 = os.loadavg()[0];
  const cpu0 = serverCpu();
  const started = Date.now();
  const r = await stack.run(args, { env: { ...extraEnv, APPSIGNING_CALL_LOG: callLog, APPSIGNING_BENCH_PHASE: marker.split("=")[1] }, timeoutMs: RUN_TIMEOUT_MS });
  const wallMs = Date.now() - started;
  const servers = cpuSince(cpu0);
  const provider = sampler.stop();
  if (r.code !== 0) throw new Error(`pulumi ${args.join(" ")} (${name}) exited ${r.code}:\n${r.output.slice(-6000)}`);
  const entries = await sandbox.admin.requests();
  return {
    wallMs,
    calls: countLines(callLog),
    sandboxRequests: sandboxCounts(entries, team),
    provider,
    loadAvg: [load0, os.loadavg()[0]],
    timeline: sandboxTimeline(entries, team, started),
    servers,
  };
}

/** `pulumi up` of the baseline program: the same resources and dependencies, a provider that does nothing. */
async function pulumiOnly(n: number, sandbox: RunningSandbox, opts: Options, payloadChars: number): Promise<PhaseResult> {
  const dir = path.join(WORK, `baseline-${n}`);
  fs.rmSync(dir, { recursive: true, force: true });
  const config = { store: { url: "", kms: "" }, apple: { issuerId: "", keyId: "", teamId: "", baseUrl: "", privateKeyFile: "" }, apnsKeyId: "", apnsP8File: "", bundleIds: fleetBundleIds(n), payloadChars };
  writeFleetProgram(dir, config, "baseline", opts.program);
  const stack = await PulumiStack.create(dir, { stack: `baseline${n}` });
  try {
    const par = opts.parallel ? ["--parallel", String(opts.parallel)] : [];
    return await phase(stack, sandbox, "-", "baseline-up", ["up", "--yes", "--skip-preview", "--non-interactive", ...par]);
  } finally {
    await stack.dispose();
  }
}

/** Mean JSON size of the fleet resources' inputs plus outputs in the deployed stack's state. */
async function stateCharsPerResource(stack: PulumiStack): Promise<number> {
  const r = await stack.run(["stack", "export"], { timeoutMs: RUN_TIMEOUT_MS });
  if (r.code !== 0) throw new Error(`pulumi stack export exited ${r.code}:\n${r.output.slice(-4000)}`);
  const doc = JSON.parse(r.stdout) as { deployment: { resources: Array<{ type: string; inputs?: unknown; outputs?: unknown }> } };
  const ours = doc.deployment.resources.filter((res) => res.type.startsWith("pulumi-nodejs:dynamic/"));
  const chars = ours.reduce((sum, res) => sum + JSON.stringify(res.inputs ?? {}).length + JSON.stringify(res.outputs ?? {}).length, 0);
  return Math.round(chars / Math.max(1, ours.length));
}

// Each run has its own Apple team and its own bundle identifiers (com.bench1.app001, com.floor2.app001, ...):
// Apple gives an identifier to one team only.

/** Team ids for the repetitions of one size: FLEET00001, FLEET00002, ... (Apple team ids have 10 characters). */
const teamIds = (prefix: string, count: number) => Array.from({ length: count }, (_, r) => `${prefix}${String(r + 1).padStart(10 - prefix.length, "0")}`);

/** The run whose wall time is the median (the lower middle one for an even count). */
function medianRun<T extends { wallMs: number }>(runs: T[]): T {
  return [...runs].sort((a, b) => a.wallMs - b.wallMs)[Math.floor((runs.length - 1) / 2)];
}

async function runSize(n: number, opts: Options): Promise<SizeResult> {
  const fleetTeams = teamIds("FLEET", opts.repeat);
  const floorTeams = teamIds("FLOOR", opts.repeat);
  const sandbox = await startSandbox({
    teams: [...fleetTeams.map((teamId) => ({ teamId, teamName: "Bench fleet" })), ...floorTeams.map((teamId) => ({ teamId, teamName: "Bench floor" }))],
    rateLimitPerHour: 1_000_000,
  });
  const parallel = opts.parallel ?? 4 * os.cpus().length;
  const par = opts.parallel ? ["--parallel", String(opts.parallel)] : [];
  const store = async () => ({ url: s3StoreUrl(await newBucket(), "signing"), kms: kmsKeyUrl((await newKmsKey()).alias) });
  const apnsP8 = newP8();
  const kept: PulumiStack[] = [];
  try {
    for (const team of [...fleetTeams, ...floorTeams]) await registerBenchDevice(sandbox, team);

    const floorOnce = async (r: number): Promise<SizeResult["floor"]> => {
      const teamId = floorTeams[r];
      const floorTeam = sandbox.teams.find((t) => t.teamId === teamId)!;
      const cfg: FloorConfig = { store: await store(), apple: { ...floorTeam.apiKey, baseUrl: sandbox.url }, apnsKeyId: "APNS000001", apnsP8, bundleIds: fleetBundleIds(n, `com.floor${r + 1}`), parallel };
      await sandbox.admin.clearRequests();
      const load0 = os.loadavg()[0];
      const started = Date.now();
      const cpu0 = serverCpu();
      const floor = await runFloor(cfg);
      const servers = cpuSince(cpu0);
      const load1 = os.loadavg()[0];
      const entries = await sandbox.admin.requests();
      const { result } = floor;
      return {
        wallMs: floor.wallMs,
        workMs: result.workMs,
        credentials: result.credentials,
        calls: result.calls,
        sandboxRequests: sandboxCounts(entries, teamId),
        maxRssKb: result.maxRssKb,
        cpuMs: result.cpuMs,
        loadAvg: [load0, load1],
        timeline: sandboxTimeline(entries, teamId, started),
        servers,
      };
    };

    /** A fresh stack, store and team: fleet up from empty. The stack is returned deployed. */
    const fleetUpOnce = async (r: number): Promise<{ stack: PulumiStack; keys: string; fleetUp: PhaseResult }> => {
      const teamId = fleetTeams[r];
      const dir = path.join(WORK, `fleet-${n}-${r + 1}`);
      fs.rmSync(dir, { recursive: true, force: true });
      const keys = path.join(dir, "keys");
      fs.mkdirSync(keys, { recursive: true, mode: 0o700 });
      const fleetTeam = sandbox.teams.find((t) => t.teamId === teamId)!;
      const ascKeyFile = path.join(keys, `AuthKey_${fleetTeam.apiKey.keyId}.p8`);
      const apnsFile = path.join(keys, "AuthKey_APNS000001.p8");
      fs.writeFileSync(ascKeyFile, fleetTeam.apiKey.privateKeyPem, { mode: 0o600 });
      fs.writeFileSync(apnsFile, apnsP8, { mode: 0o600 });
      const apple = { issuerId: fleetTeam.apiKey.issuerId, keyId: fleetTeam.apiKey.keyId, teamId, baseUrl: sandbox.url, privateKeyFile: ascKeyFile };
      writeFleetProgram(dir, { store: await store(), apple, apnsKeyId: "APNS000001", apnsP8File: apnsFile, bundleIds: fleetBundleIds(n, `com.bench${r + 1}`) }, "fleet", opts.program);
      const stack = await PulumiStack.create(dir, { stack: `bench${n}` });
      const prof = opts.cpuProf && r === 0 ? { NODE_OPTIONS: `--require ${path.join(__dirname, "cpu-profile-hook.js")}`, BENCH_PROF_DIR: path.join(opts.cpuProf, `fleet-${n}`) } : {};
      const fleetUp = await phase(stack, sandbox, teamId, "up", ["up", "--yes", "--skip-preview", "--non-interactive", ...par], prof);
      return { stack, keys, fleetUp };
    };

    const dispose = async (stack: PulumiStack, keys: string) => {
      if (opts.keep) {
        kept.push(stack);
        return;
      }
      await stack.dispose();
      // The sandbox's keys die with it; no key file outlives the run.
      fs.rmSync(keys, { recursive: true, force: true });
    };

    // Floor and fleet up alternate, so that a change in the machine's load touches both alike.
    const floors: Array<SizeResult["floor"]> = [];
    const fleetUps: PhaseResult[] = [];
    const alone: PhaseResult[] = [];
    let deployed: { noopPreview: PhaseResult; noopUp: PhaseResult; refresh: PhaseResult; stateChars: number } | undefined;
    for (let r = 0; r < opts.repeat; r++) {
      const rep = opts.repeat > 1 ? ` (run ${r + 1} of ${opts.repeat})` : "";
      log(`N=${n}: floor${rep}`);
      floors.push(await floorOnce(r));
      log(`N=${n}: floor ${fmt.s(floors[r].wallMs)}; fleet up (${fleetResourceCount(n)} resources)${rep}`);
      const { stack, keys, fleetUp } = await fleetUpOnce(r);
      fleetUps.push(fleetUp);
      try {
        log(`N=${n}: fleet up ${fmt.s(fleetUp.wallMs)}`);
        if (!deployed) {
          // 3-4. On the first deployed fleet: no-op preview, no-op up, refresh.
          const noopPreview = await phase(stack, sandbox, fleetTeams[r], "preview", ["preview", "--non-interactive", "--expect-no-changes", ...par]);
          log(`N=${n}: no-op preview ${fmt.s(noopPreview.wallMs)}`);
          const noopUp = await phase(stack, sandbox, fleetTeams[r], "noop-up", ["up", "--yes", "--skip-preview", "--non-interactive", "--expect-no-changes", ...par]);
          log(`N=${n}: no-op up ${fmt.s(noopUp.wallMs)}`);
          const refresh = await phase(stack, sandbox, fleetTeams[r], "refresh", ["refresh", "--yes", "--skip-preview", "--non-interactive", ...par]);
          log(`N=${n}: refresh ${fmt.s(refresh.wallMs)}`);
          deployed = { noopPreview, noopUp, refresh, stateChars: await stateCharsPerResource(stack) };
        }
      } finally {
        await dispose(stack, keys);
      }
      // 5. Pulumi's own share, with as much state per resource as the fleet keeps.
      alone.push(await pulumiOnly(n, sandbox, opts, Math.round(deployed.stateChars / 2)));
      log(`N=${n}: Pulumi alone ${fmt.s(alone[r].wallMs)} (a do-nothing provider, same shape, ${deployed.stateChars} characters of state per resource)`);
    }
    const floor = medianRun(floors);
    const fleetUp = medianRun(fleetUps);
    return {
      n,
      resources: fleetResourceCount(n),
      floor,
      fleetUp,
      ratio: fleetUp.wallMs / floor.wallMs,
      noopPreview: deployed!.noopPreview,
      noopUp: deployed!.noopUp,
      refresh: deployed!.refresh,
      pulumiOnlyUp: medianRun(alone),
      stateCharsPerResource: deployed!.stateChars,
      runs: { floorWallMs: floors.map((f) => f.wallMs), fleetUpWallMs: fleetUps.map((f) => f.wallMs), pulumiOnlyWallMs: alone.map((a) => a.wallMs) },
    };
  } finally {
    for (const stack of kept) log(`kept the stack: PULUMI_HOME=${stack.home} backend file://${path.join(stack.tmp, "state")} stack ${stack.stack}`);
    await sandbox.stop();
  }
}

/** " (min-max)" of repeated runs, empty for a single run. */
const spread = (walls: number[]) => (walls.length > 1 ? ` (${(Math.min(...walls) / 1000).toFixed(1)}-${(Math.max(...walls) / 1000).toFixed(1)})` : "");

function report(results: SizeResult[]): void {
  const out = process.stdout;
  out.write(
    "\n== Fleet up vs floor (wall time: median of the runs, (fastest-slowest); ratio = median fleet up / median floor; provider = Pulumi's dynamic-provider process; " +
      "Pulumi alone = the same shape with a do-nothing provider)\n",
  );
  printTable(
    ["N", "resources", "floor", "fleet up", "ratio", "provider peak RSS", "provider CPU", "floor peak RSS", "Pulumi alone"],
    results.map((r) => [
      r.n,
      r.resources,
      `${fmt.s(r.floor.wallMs)}${spread(r.runs.floorWallMs)}`,
      `${fmt.s(r.fleetUp.wallMs)}${spread(r.runs.fleetUpWallMs)}`,
      `${r.ratio.toFixed(2)}x`,
      fmt.mb(r.fleetUp.provider.peakRssKb),
      fmt.s(r.fleetUp.provider.cpuMs),
      fmt.mb(r.floor.maxRssKb),
      `${fmt.s(r.pulumiOnlyUp.wallMs)}${spread(r.runs.pulumiOnlyWallMs)}`,
    ]),
  );
  out.write(
    "\n== Where the CPU goes (s): fleet up by process, then the floor script; sandbox = the Apple sandbox (this process), moto = S3/KMS; all = the run's total, on " +
      `${os.cpus().length} cores; all / cores = the shortest fleet up this CPU work allows on this machine; provider up at = when the provider process started, after the CLI and program\n`,
  );
  printTable(
    ["N", "engine", "program", "provider", "lang host", "other", "sandbox", "moto", "all", "all / cores", "floor", "sandbox", "moto", "all", "provider up at", "load avg floor", "load avg up"],
    results.map((r) => {
      const c = r.fleetUp.provider.cpuMsByKind;
      const la = (l: [number, number]) => `${l[0].toFixed(1)}-${l[1].toFixed(1)}`;
      const seen = r.fleetUp.provider.providerSeenMs;
      const fleetAll = Object.values(c).reduce((a, b) => a + b, 0) + r.fleetUp.servers.sandboxMs + r.fleetUp.servers.motoMs;
      const floorAll = r.floor.cpuMs + r.floor.servers.sandboxMs + r.floor.servers.motoMs;
      return [
        r.n,
        fmt.s(c.engine),
        fmt.s(c.program),
        fmt.s(c.provider),
        fmt.s(c["language-host"]),
        fmt.s(c.other),
        fmt.s(r.fleetUp.servers.sandboxMs),
        fmt.s(r.fleetUp.servers.motoMs),
        fmt.s(fleetAll),
        `${fmt.s(fleetAll / os.cpus().length)} (${(fleetAll / os.cpus().length / r.floor.wallMs).toFixed(2)}x floor)`,
        fmt.s(r.floor.cpuMs),
        fmt.s(r.floor.servers.sandboxMs),
        fmt.s(r.floor.servers.motoMs),
        fmt.s(floorAll),
        seen ? fmt.s(seen[0]) : "-",
        la(r.floor.loadAvg),
        la(r.fleetUp.loadAvg),
      ];
    }),
  );
  out.write("\n== When Apple saw the creates (s from the start of the floor / of `pulumi up`; first-last)\n");
  const span = (t: Record<string, [number, number]>, k: string) => (t[k] ? `${fmt.s(t[k][0])}-${fmt.s(t[k][1])}` : "-");
  printTable(
    ["N", "run", "POST certificates", "POST bundleIds", "POST profiles", "end"],
    results.flatMap((r) => [
      [r.n, "floor", span(r.floor.timeline, "POST /v1/certificates"), span(r.floor.timeline, "POST /v1/bundleIds"), span(r.floor.timeline, "POST /v1/profiles"), fmt.s(r.floor.wallMs)],
      [r.n, "fleet up", span(r.fleetUp.timeline, "POST /v1/certificates"), span(r.fleetUp.timeline, "POST /v1/bundleIds"), span(r.fleetUp.timeline, "POST /v1/profiles"), fmt.s(r.fleetUp.wallMs)],
    ]),
  );
  for (const r of results) {
    out.write(`\n== Calls per created resource, N=${r.n} (fleet: ${r.resources} resources; floor: ${r.floor.credentials} credentials)\n`);
    printTable(["call", "floor", "fleet up", "floor / cred", "fleet / res"], kindRows(r.floor.calls, r.fleetUp.calls, r.floor.credentials, r.resources));
    const sb = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0);
    out.write(`   cross-check, Apple requests in the sandbox's own log: floor ${sb(r.floor.sandboxRequests)}, fleet up ${sb(r.fleetUp.sandboxRequests)}\n`);
  }
  out.write("\n== No-op preview, no-op up, refresh on the deployed fleet (calls = provider network calls)\n");
  const total = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0);
  const of = (c: Record<string, number>, prefix: string) => Object.entries(c).filter(([k]) => k.startsWith(prefix)).reduce((a, [, v]) => a + v, 0);
  printTable(
    ["N", "preview", "calls", "no-op up", "calls", "refresh", "calls", "apple/res", "s3/res", "kms/res"],
    results.map((r) => [
      r.n,
      fmt.s(r.noopPreview.wallMs),
      total(r.noopPreview.calls),
      fmt.s(r.noopUp.wallMs),
      total(r.noopUp.calls),
      fmt.s(r.refresh.wallMs),
      total(r.refresh.calls),
      (of(r.refresh.calls, "apple:") / r.resources).toFixed(2),
      (of(r.refresh.calls, "s3:") / r.resources).toFixed(2),
      (of(r.refresh.calls, "kms:") / r.resources).toFixed(2),
    ]),
  );
  for (const r of results) {
    out.write(`\n== Refresh calls, N=${r.n} (${r.resources} resources: ${2 * r.n + 1} with an Apple object, ${r.n + 1} without)\n`);
    printTable(["call", "total", "per resource"], Object.entries(r.refresh.calls).sort().map(([k, v]) => [k, v, (v / r.resources).toFixed(2)]));
  }
  if (results.length > 1) {
    out.write("\n== Growth (marginal = extra time or calls per extra resource from the previous size; exponent k in time ~ resources^k)\n");
    printTable(["N", "resources", "fleet up", "marginal s/res", "k", "calls", "calls/res", "marginal calls/res", "floor: marginal calls/res", "refresh", "marginal s/res", "preview", "floor", "ratio", "Pulumi alone", "marginal s/res"], growthTable(results));
  }
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  require("../../scripts/link-self.js");
  fs.mkdirSync(WORK, { recursive: true });
  fs.mkdirSync(opts.out, { recursive: true });
  // moto accepts any credentials; no benchmark call may reach a real AWS account.
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    AWS_REGION: "us-east-1",
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  });
  delete process.env.AWS_PROFILE;
  delete process.env.APPSIGNING_CALL_LOG;
  // The CLI at the version of @pulumi/pulumi (built once, then cached); the harness takes it from here.
  const cli = spawnSync("bash", [path.join(REPO, "scripts/pulumi-cli.sh"), "--print-path"], { stdio: ["ignore", "pipe", "inherit"] });
  if (cli.status !== 0) throw new Error("scripts/pulumi-cli.sh could not provide the pulumi CLI");
  process.env.APPSIGNING_PULUMI_BIN = cli.stdout.toString().trim().split("\n").pop();
  const started = Date.now();
  const moto = await startMoto();
  motoPid = moto.process.pid;
  process.env.APPSIGNING_TEST_AWS_ENDPOINT = moto.endpoint;
  const results: SizeResult[] = [];
  try {
    for (const n of opts.sizes) results.push(await runSize(n, opts));
  } finally {
    await moto.stop();
  }
  report(results);
  const doc = {
    label: opts.label,
    startedAt: new Date(started).toISOString(),
    totalMs: Date.now() - started,
    machine: machine(),
    versions: versions(),
    pulumiParallel: opts.parallel ?? `CLI default (4 x ${os.cpus().length} cores)`,
    repeat: opts.repeat,
    program: opts.program,
    sizes: results,
  };
  const file = path.join(opts.out, `bench-${doc.startedAt.replace(/[:.]/g, "-")}${opts.label ? `-${opts.label.replace(/[^A-Za-z0-9_-]/g, "_")}` : ""}.json`);
  fs.writeFileSync(file, JSON.stringify(doc, null, 2) + "\n");
  fs.writeFileSync(path.join(opts.out, "latest.json"), JSON.stringify(doc, null, 2) + "\n");
  process.stdout.write(`\n${doc.machine.cores} cores (${doc.machine.cpuModel}); ${Object.entries(doc.versions).map(([k, v]) => `${k} ${v}`).join(", ")}\n`);
  process.stdout.write(`whole run ${fmt.s(doc.totalMs)}; results in ${file} (and latest.json beside it)\n`);
}

main().catch((err) => {
  process.stderr.write(`\nbench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
