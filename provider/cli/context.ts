/**
 * What every `appsigning` command shares: the store named by flags or the environment, how output
 * looks, and how failures end the process. Exit codes: 0 all good, 1 a problem was found (or an
 * operation failed), 2 the command line was wrong.
 */
import { InvalidArgumentError } from "commander";
import type { Command } from "commander";
import { AppsigningError } from "../errors";
import { Vault, parseBlobUrl, parseKeyUrl } from "../store";
import type { KeyWrapper } from "../store/envelope";
import { FileBlobs } from "../store/file-blobs";
import { S3Blobs } from "../store/s3-blobs";
import { Progress, stylesFor } from "./output";
import type { Styles } from "./output";

export const EXIT_OK = 0;
export const EXIT_PROBLEMS = 1;
export const EXIT_USAGE = 2;

/** The options every command takes (from the root command). */
export interface GlobalOptions {
  store?: string;
  kms?: string;
  /** false with --no-color. */
  color?: boolean;
  /** false with --no-progress. */
  progress?: boolean;
}

/** The command line is wrong: exit 2, with a pointer to --help. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
    this.name = "UsageError";
  }
}

/** A command's result: the exit code. Output is written as the command goes. */
export type ExitCode = typeof EXIT_OK | typeof EXIT_PROBLEMS | typeof EXIT_USAGE;

export interface Context {
  options: GlobalOptions;
  /** The store URL, as given (for messages: it carries no secret). */
  storeUrl: string;
  /** Styles for stdout. */
  out: Styles;
  /** Styles for stderr. */
  err: Styles;
  /** Opens the store. `keys: false` for commands that read only headers (list), so a CI job with read access to the bucket and no KMS key can run them. */
  vault(opts?: { keys?: boolean }): Vault;
  progress(label: string, total?: number): Progress;
  /** A line on stderr: notes, what was written, hints. */
  note(line: string): void;
}

/** A key wrapper for header-only commands: using it means a command needed --kms after all. */
class NoKeys implements KeyWrapper {
  readonly description = "none";
  constructor(private readonly storeUrl: string) {}
  private fail(): never {
    throw new UsageError(`This needs the key of ${this.storeUrl}: give --kms (or APPSIGNING_KMS)`);
  }
  async newDataKey(): Promise<never> {
    this.fail();
  }
  async unwrap(): Promise<never> {
    this.fail();
  }
}

function resolveStore(options: GlobalOptions): { url: string; kms: string | undefined } {
  const url = options.store ?? process.env.APPSIGNING_STORE;
  if (!url) {
    throw new UsageError("No store given: pass --store s3://bucket/prefix?region=... or --store file://dir, or set APPSIGNING_STORE");
  }
  let kms = options.kms ?? process.env.APPSIGNING_KMS;
  // A folder store on one machine defaults to the passphrase key (APPSIGNING_PASSPHRASE), as the
  // provider's embedded default does; an S3 store must name its KMS key.
  if (!kms && url.startsWith("file://")) kms = "passphrase";
  return { url, kms };
}

export function createContext(options: GlobalOptions): Context {
  const { url, kms } = resolveStore(options);
  // Checked now so a bad URL is a clear usage error before anything else happens.
  const blobLoc = wrapUsage(() => parseBlobUrl(url, "--store"));
  if (kms) wrapUsage(() => parseKeyUrl(kms, "--kms"));
  const colors = options.color !== false;
  return {
    options,
    storeUrl: url,
    out: stylesFor(process.stdout, colors),
    err: stylesFor(process.stderr, colors),
    vault: ({ keys = true } = {}) => {
      if (kms) return Vault.open({ url, kms });
      if (keys) throw new UsageError(`The store ${url} is in S3: give its KMS key with --kms awskms://... (or APPSIGNING_KMS)`);
      const blobs = blobLoc.kind === "s3" ? new S3Blobs(blobLoc) : new FileBlobs(blobLoc.dir);
      return new Vault(blobs, new NoKeys(url));
    },
    progress: (label, total) => new Progress(label, total, process.stderr, options.progress !== false),
    note: (line) => void process.stderr.write(`${line}\n`),
  };
}

function wrapUsage<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof AppsigningError) throw new UsageError(err.message);
    throw err;
  }
}

/** One line of text for a failure: the message's first line, and its remedy after an arrow. */
export function oneLine(err: unknown): { problem: string; remedy?: string } {
  if (err instanceof AppsigningError) {
    const problem = err.message.split("\n")[0];
    return { problem, remedy: err.remedy };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { problem: message.split("\n")[0] };
}

/** Prints a failure the way every command does, and returns the exit code for it. */
export function reportError(err: unknown, commandName?: string, storeUrl?: string): ExitCode {
  const styles = stylesFor(process.stderr);
  if (err instanceof UsageError) {
    const help = `appsigning ${err.command ?? commandName ?? ""}`.trim() + " --help";
    process.stderr.write(`${styles.red("error:")} ${err.message}\n(see ${help})\n`);
    return EXIT_USAGE;
  }
  if (err instanceof AppsigningError) {
    // The message already names what is wrong and the remedy ("\n  -> ..."), and never secret bytes.
    process.stderr.write(`${styles.red("error:")} ${err.message}\n`);
    return EXIT_PROBLEMS;
  }
  const e = err as Error & { code?: string };
  let message = e?.message ?? String(err);
  const network = ["ECONNREFUSED", "ENOTFOUND", "ETIMEDOUT", "EAI_AGAIN", "ECONNRESET", "EHOSTUNREACH"];
  if (e?.code && network.includes(e.code)) {
    message = `cannot reach ${storeUrl ?? "the store"}: ${message}\n  -> Check the host, region and endpoint in the URL, and the network.`;
  } else if (e?.name === "CredentialsProviderError") {
    message = `no AWS credentials for ${storeUrl ?? "the store"}: ${message}\n  -> Set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, as for the AWS CLI.`;
  }
  process.stderr.write(`${styles.red("error:")} ${message}\n`);
  if (process.env.APPSIGNING_DEBUG && e?.stack) process.stderr.write(`${e.stack}\n`);
  return EXIT_PROBLEMS;
}

/** Whole days from `now` to `date` (negative when past). */
export function daysUntil(date: string, now: Date): number {
  return Math.floor((Date.parse(date) - now.getTime()) / 86_400_000);
}

/** Parses a whole number option (commander gives strings). */
export function wholeNumber(name: string, min: number, max: number): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}.`);
    }
    return n;
  };
}

/**
 * Runs a command's action with a context built from the global options, prints any failure, and
 * sets the exit code. Errors never escape as stack traces.
 */
export async function runCommand(cmd: Command, action: (ctx: Context) => Promise<ExitCode>): Promise<void> {
  let storeUrl: string | undefined;
  try {
    const ctx = createContext(cmd.optsWithGlobals() as GlobalOptions);
    storeUrl = ctx.storeUrl;
    process.exitCode = await action(ctx);
  } catch (err) {
    process.exitCode = reportError(err, cmd.name(), storeUrl);
  }
}
