/**
 * `appsigning list`: every credential in the store, from the sealed headers alone. It needs read
 * access to the store and no key, so a CI job that may not decrypt anything can still see what
 * expires when.
 */
import { Command } from "commander";
import { EXIT_OK, runCommand, wholeNumber } from "./context";
import type { Context, ExitCode } from "./context";
import { renderTable } from "./output";
import type { Cell } from "./output";
import { describeExpiry, summarize } from "./summary";
import type { CredentialSummary } from "./summary";

export interface ListOptions {
  json?: boolean;
  prefix?: string;
  kind?: string;
  retired?: boolean;
  wide?: boolean;
  warnDays: number;
}

const shortFingerprint = (v: string) => (v.length > 23 ? `${v.slice(0, 23)}…` : v);

export async function listCredentials(ctx: Context, opts: ListOptions): Promise<ExitCode> {
  const vault = ctx.vault({ keys: false });
  const progress = ctx.progress("reading headers");
  let listed;
  try {
    listed = await vault.list(opts.prefix ?? "");
  } finally {
    progress.finish();
  }
  const now = new Date();
  const rows = listed
    .filter((l) => opts.retired !== false || l.state !== "retired")
    .filter((l) => !opts.kind || l.kind === opts.kind || l.kind.includes(opts.kind))
    .map((l) => ({ summary: summarize(l, now), meta: l.meta }));

  if (opts.json) {
    const out = rows.map(({ summary, meta }) => ({ ...summary, meta }));
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return EXIT_OK;
  }
  if (rows.length === 0) {
    ctx.note(`No credentials in ${vault.location}${opts.prefix ? ` under "${opts.prefix}"` : ""}.`);
    return EXIT_OK;
  }
  const s = ctx.out;
  const expiryCell = (c: CredentialSummary): Cell => {
    const text = describeExpiry(c);
    if (c.state === "retired" || c.daysLeft === undefined) return { text };
    if (c.expired) return { text, style: s.red };
    if (c.daysLeft <= opts.warnDays) return { text, style: s.yellow };
    return { text };
  };
  const stateCell = (c: CredentialSummary): Cell =>
    c.state === "pending" ? { text: c.state, style: s.yellow } : c.state === "retired" ? { text: c.state, style: s.dim } : { text: c.state };
  const table = renderTable(
    ["KIND", "NAME", "TEAM/APP", "APPLE ID/ALIAS", "FINGERPRINT", "EXPIRES", "STATE"],
    rows.map(({ summary: c }) => [
      c.label,
      c.name,
      c.scope,
      c.appleIdOrAlias ?? "-",
      c.fingerprint ? (opts.wide ? c.fingerprint.value : shortFingerprint(c.fingerprint.value)) : "-",
      expiryCell(c),
      stateCell(c),
    ]),
    s,
  );
  process.stdout.write(table);
  const expired = rows.filter((r) => r.summary.state !== "retired" && r.summary.expired).length;
  const soon = rows.filter((r) => r.summary.state !== "retired" && !r.summary.expired && (r.summary.daysLeft ?? Infinity) <= opts.warnDays).length;
  const tail = [`${rows.length} credential${rows.length === 1 ? "" : "s"} in ${vault.location}`];
  if (expired) tail.push(s.red(`${expired} expired`));
  if (soon) tail.push(s.yellow(`${soon} expiring within ${opts.warnDays} days`));
  ctx.note(tail.join(", "));
  return EXIT_OK;
}

export function listCommand(): Command {
  return new Command("list")
    .description("Show every credential in the store: kind, name, team/app, Apple ID or alias, fingerprint, expiry, state. Reads headers only: needs no key.")
    .option("--json", "print a JSON array (full fingerprints and the recorded metadata) instead of a table")
    .option("--prefix <prefix>", "only names starting with this, e.g. ios/ABCDE12345/ or android/")
    .option("--kind <kind>", "only this kind, e.g. ios-distribution-certificate, android-keystore (or part of it: profile)")
    .option("--no-retired", "hide retired names (deleted by pulumi; earlier versions stay readable)")
    .option("--wide", "show whole fingerprints in the table")
    .option("--warn-days <days>", "highlight expiry within this many days", wholeNumber("--warn-days", 0, 36500), 30)
    .addHelpText(
      "after",
      `
Fingerprints: SHA-1 of a distribution certificate (as Keychain Access shows it), SHA-256 of a
keystore's certificate (as Play Console shows it), SHA-256 of a push key's public key.

Examples:
  $ appsigning list --store s3://acme-signing/prod?region=eu-west-1
  $ APPSIGNING_STORE=file://~/.appsigning/store appsigning list --kind profile
  $ appsigning list --json | jq '.[] | select(.daysLeft < 30) | .name'`,
    )
    .action((opts: ListOptions, cmd: Command) => runCommand(cmd, (ctx) => listCredentials(ctx, opts)));
}
