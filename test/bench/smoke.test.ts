/**
 * The benchmark keeps working: `npm run bench` at N = 1, one run, with its JSON written to a
 * temporary folder. Counts are asserted, never times (speed is the benchmark's business).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const root = path.resolve(__dirname, "../..");
type Calls = Record<string, number>;

test("a one-app benchmark deploys the fleet, compares it with the floor and writes its figures", () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "bench-smoke-"));
  try {
    const run = spawnSync(process.execPath, [path.join(root, "dist/bench/run.js"), "--sizes", "1", "--repeat", "1", "--out", out, "--label", "smoke"], {
      cwd: root,
      env: { ...process.env, APPSIGNING_CALL_LOG: "" },
      encoding: "utf8",
      timeout: 300_000,
    });
    if (run.status !== 0) throw new Error(`npm run bench exited ${run.status}:\n${run.stderr.slice(-3000)}`);
    expect(run.stdout).toMatch(/== Fleet up vs floor/);
    expect(run.stdout).toMatch(/== Growth|== Refresh calls, N=1/);
    const doc = JSON.parse(fs.readFileSync(path.join(out, "latest.json"), "utf8"));
    expect(doc.machine.cores).toBe(os.cpus().length);
    expect(doc.versions.pulumiCli).toMatch(/^v3\./);
    const [size] = doc.sizes as Array<{
      n: number;
      resources: number;
      floor: { calls: Calls; wallMs: number };
      fleetUp: { calls: Calls; wallMs: number; provider: { peakRssKb: number }; servers: { sandboxMs: number; motoMs: number } };
      noopPreview: { calls: Calls };
      noopUp: { calls: Calls };
      refresh: { calls: Calls };
      ratio: number;
    }>;
    expect([size.n, size.resources]).toEqual([1, 5]);
    // The creates are the floor's: one Apple create per credential, one data key and one put each.
    for (const k of ["apple:POST /v1/certificates", "apple:POST /v1/profiles", "apple:POST /v1/bundleIds", "kms:GenerateDataKey", "s3:PutObject"]) {
      expect(size.fleetUp.calls[k]).toBeGreaterThanOrEqual(size.floor.calls[k]);
    }
    expect([size.fleetUp.calls["apple:POST /v1/certificates"], size.fleetUp.calls["apple:POST /v1/profiles"]]).toEqual([1, 2]);
    expect(size.fleetUp.provider.peakRssKb).toBeGreaterThan(0);
    // The servers' CPU is read from this process and from /proc/<moto pid>/stat.
    expect(size.fleetUp.servers.sandboxMs).toBeGreaterThan(0);
    expect(size.fleetUp.servers.motoMs).toBeGreaterThan(0);
    expect(size.ratio).toBeCloseTo(size.fleetUp.wallMs / size.floor.wallMs, 5);
    // No network in diff; refresh reads each blob's metadata once and each Apple object once.
    expect(size.noopPreview.calls).toEqual({});
    expect(size.noopUp.calls).toEqual({});
    expect(size.refresh.calls["s3:HeadObject"]).toBe(5);
    expect(size.refresh.calls["apple:GET /v1/profiles/{id}"]).toBe(2);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
