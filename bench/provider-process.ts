/**
 * Samples the processes of one benchmark phase from /proc while it runs: above all Pulumi's
 * dynamic-provider process (`node .../@pulumi/pulumi/cmd/dynamic-provider ...`, started by the CLI
 * through pulumi-resource-pulumi-nodejs), whose peak memory (VmHWM in /proc/<pid>/status) the
 * benchmark reports; and the CPU time of each kind of process (engine, program, provider), which
 * shows where a phase spends its time. Every process of the phase inherits the CLI's environment,
 * so a marker variable set for the phase tells them apart from other deployments on the machine.
 */
import * as fs from "fs";

export type ProcessKind = "engine" | "language-host" | "program" | "provider" | "other";

export interface ProviderSample {
  pids: number[];
  /** Highest VmHWM seen among provider processes (their peak resident set size), kB. */
  peakRssKb: number;
  /** utime + stime of the provider process(es) at their last sample, ms. */
  cpuMs: number;
  /** The same, per kind of process of the phase, ms. */
  cpuMsByKind: Record<ProcessKind, number>;
  /** When a provider process was first and last seen, ms from the start of sampling (the CLI's start). */
  providerSeenMs?: [number, number];
}

const CLK_TCK = 100;

function read(file: string): string | undefined {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

/** What a process of the phase is, by its command line; undefined while a launcher has not exec'd yet. */
function kindOf(pid: number): ProcessKind | undefined {
  const argv = (read(`/proc/${pid}/cmdline`) ?? "").split("\0");
  const [exe = "", first = ""] = argv;
  if (/(^|\/)pulumi$/.test(exe)) return "engine";
  if (/(^|\/)node$/.test(exe)) {
    // The launcher's `node -e "...require.resolve('@pulumi/pulumi/cmd/dynamic-provider')"` is not the provider.
    if (first === "-e") return "other";
    if (/cmd[/\\]dynamic-provider/.test(first)) return "provider";
    if (/pulumi-language-nodejs/.test(first)) return "language-host";
    if (argv.some((a) => /cmd[/\\]run([/\\]|$)/.test(a))) return "program";
    return "other";
  }
  if (/(^|\/)(sh|bash|dash)$/.test(exe)) return undefined;
  return "other";
}

/** utime + stime of a process, ms; undefined once it is gone. */
export function cpuMsOf(pid: number): number | undefined {
  const stat = read(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(rest[11]) + Number(rest[12])) * 1000) / CLK_TCK;
}

/** Samples every `intervalMs` until stopped. `marker` is "NAME=value" from the phase's environment. */
export function sampleProvider(marker: string, intervalMs = 100): { stop(): ProviderSample } {
  const kinds = new Map<number, ProcessKind>();
  const rejected = new Set<number>();
  const cpu = new Map<number, number>();
  let peakRssKb = 0;
  const started = Date.now();
  let seen: [number, number] | undefined;
  const tick = () => {
    for (const entry of fs.readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      const pid = Number(entry);
      if (rejected.has(pid)) continue;
      if (!kinds.has(pid)) {
        const environ = read(`/proc/${pid}/environ`);
        if (environ === undefined) continue;
        if (!environ.split("\0").includes(marker)) {
          rejected.add(pid);
          continue;
        }
        // A shell launcher, or a fork that has not exec'd yet: looked at again on the next tick.
        const kind = kindOf(pid);
        if (!kind) continue;
        kinds.set(pid, kind);
      }
      if (kinds.get(pid) === "provider") {
        const at = Date.now() - started;
        seen = seen ? [seen[0], at] : [at, at];
        const status = read(`/proc/${pid}/status`);
        const hwm = status && /VmHWM:\s+(\d+)\s+kB/.exec(status);
        if (hwm) peakRssKb = Math.max(peakRssKb, Number(hwm[1]));
      }
      const ms = cpuMsOf(pid);
      if (ms !== undefined) cpu.set(pid, ms);
    }
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      tick();
      const cpuMsByKind: Record<ProcessKind, number> = { engine: 0, "language-host": 0, program: 0, provider: 0, other: 0 };
      for (const [pid, ms] of cpu) cpuMsByKind[kinds.get(pid)!] += ms;
      const providers = [...kinds].filter(([, k]) => k === "provider").map(([pid]) => pid);
      return { pids: providers, peakRssKb, cpuMs: cpuMsByKind.provider, cpuMsByKind, providerSeenMs: seen };
    },
  };
}
