/** Tables for `npm run bench`: plain text, aligned columns. */
import type { SizeResult } from "./run";

export const fmt = {
  s: (ms: number) => `${(ms / 1000).toFixed(1)} s`,
  mb: (kb: number) => (kb > 0 ? `${Math.round(kb / 1024)} MB` : "-"),
};

export function printTable(headers: string[], rows: Array<Array<string | number>>): void {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => "  " + r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  process.stdout.write(line(headers) + "\n");
  process.stdout.write("  " + widths.map((w) => "-".repeat(w)).join("  ") + "\n");
  for (const r of cells.slice(1)) process.stdout.write(line(r) + "\n");
}

const ORDER = ["apple:", "kms:", "s3:"];
const rank = (k: string) => ORDER.findIndex((p) => k.startsWith(p));

/** One row per call kind (Apple by endpoint, KMS and S3 by operation), then a total. */
export function kindRows(floor: Record<string, number>, fleet: Record<string, number>, credentials: number, resources: number): string[][] {
  const kinds = [...new Set([...Object.keys(floor), ...Object.keys(fleet)])].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const rows = kinds.map((k) => [k, String(floor[k] ?? 0), String(fleet[k] ?? 0), ((floor[k] ?? 0) / credentials).toFixed(2), ((fleet[k] ?? 0) / resources).toFixed(2)]);
  const sum = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0);
  rows.push(["total", String(sum(floor)), String(sum(fleet)), (sum(floor) / credentials).toFixed(2), (sum(fleet) / resources).toFixed(2)]);
  return rows;
}

/** Growth from one size to the next: marginal cost per added resource and the exponent of time in resources. */
export function growthTable(results: SizeResult[]): string[][] {
  const total = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0);
  return results.map((r, i) => {
    const prev = i > 0 ? results[i - 1] : undefined;
    const dRes = prev ? r.resources - prev.resources : 0;
    const marginal = (a: number, b: number) => (prev && dRes > 0 ? ((a - b) / 1000 / dRes).toFixed(2) : "-");
    const k = prev && dRes > 0 ? (Math.log(r.fleetUp.wallMs / prev.fleetUp.wallMs) / Math.log(r.resources / prev.resources)).toFixed(2) : "-";
    const calls = total(r.fleetUp.calls);
    const floorCalls = total(r.floor.calls);
    const marginalCalls = (now: number, before: number) => (prev && dRes > 0 ? ((now - before) / dRes).toFixed(2) : "-");
    return [
      String(r.n),
      String(r.resources),
      fmt.s(r.fleetUp.wallMs),
      marginal(r.fleetUp.wallMs, prev?.fleetUp.wallMs ?? 0),
      k,
      String(calls),
      (calls / r.resources).toFixed(2),
      marginalCalls(calls, prev ? total(prev.fleetUp.calls) : 0),
      marginalCalls(floorCalls, prev ? total(prev.floor.calls) : 0),
      fmt.s(r.refresh.wallMs),
      marginal(r.refresh.wallMs, prev?.refresh.wallMs ?? 0),
      fmt.s(r.noopPreview.wallMs),
      fmt.s(r.floor.wallMs),
      `${r.ratio.toFixed(2)}x`,
      fmt.s(r.pulumiOnlyUp.wallMs),
      marginal(r.pulumiOnlyUp.wallMs, prev?.pulumiOnlyUp.wallMs ?? 0),
    ];
  });
}
