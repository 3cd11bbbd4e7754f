/**
 * `appsigning restore --from DIR`: puts every credential of a backup into the store, create-only.
 * A name that already holds a live credential is reported and skipped, never overwritten; a
 * retired name (a tombstone) is restored over, its earlier versions kept. `--dry-run` opens every
 * blob of the backup and says what would happen, writing nothing.
 */
import * as fs from "fs";
import * as path from "path";
import { Command } from "commander";
import { WriteConflict } from "../errors";
import { EXIT_OK, EXIT_PROBLEMS, UsageError, oneLine, runCommand } from "./context";
import type { Context, ExitCode } from "./context";
import { BACKUP_PASSPHRASE_ENV, openBackupVault, readManifest } from "./backup-vault";
import { mapLimit } from "./output";

export interface RestoreOptions {
  from: string;
  dryRun?: boolean;
  prefix?: string;
}

type Outcome =
  | { name: string; result: "restored" | "would restore"; overRetired: boolean }
  | { name: string; result: "skipped"; reason: string }
  | { name: string; result: "failed"; problem: string; remedy?: string };

export async function restoreStore(ctx: Context, opts: RestoreOptions): Promise<ExitCode> {
  const dir = path.resolve(opts.from);
  if (!fs.existsSync(dir)) throw new UsageError(`--from ${opts.from} does not exist`, "restore");
  const backup = openBackupVault(dir, "restore");
  const target = ctx.vault();
  const manifest = await readManifest(backup, dir);
  const entries = manifest.credentials.filter((c) => !opts.prefix || c.name.startsWith(opts.prefix));

  const progress = ctx.progress(opts.dryRun ? "checking" : "restoring", entries.length);
  let outcomes: Outcome[];
  try {
    outcomes = await mapLimit(entries, 4, async (c): Promise<Outcome> => {
      progress.step(c.name);
      try {
        const id = { name: c.name, kind: c.kind, scope: c.scope };
        // Opened even in a dry run: a dry run proves the backup is readable with this passphrase.
        const { bundle, header } = await backup.get(id);
        const head = await target.head(c.name);
        if (head && head.state !== "retired") {
          return { name: c.name, result: "skipped", reason: `already in ${target.location} (${head.state}, sealed ${head.sealedAt}); not overwritten` };
        }
        if (opts.dryRun) return { name: c.name, result: "would restore", overRetired: head !== undefined };
        try {
          await target.put(id, bundle, { expect: head ? { etag: head.etag } : "absent", state: header.state, meta: header.meta });
        } catch (err) {
          if (err instanceof WriteConflict) return { name: c.name, result: "skipped", reason: "another writer created it meanwhile; not overwritten" };
          throw err;
        }
        return { name: c.name, result: "restored", overRetired: head !== undefined };
      } catch (err) {
        return { name: c.name, result: "failed", ...oneLine(err) };
      } finally {
        progress.tick();
      }
    });
  } finally {
    progress.finish();
  }

  const s = ctx.out;
  for (const o of outcomes) {
    if (o.result === "skipped") {
      process.stdout.write(`${s.yellow("skipped")}  ${o.name}: ${o.reason}\n`);
    } else if (o.result === "failed") {
      process.stdout.write(`${s.red("FAILED")}   ${o.name}: ${o.problem}${o.remedy ? ` -> ${o.remedy}` : ""}\n`);
    } else {
      process.stdout.write(`${s.green(o.result)}  ${o.name}${o.overRetired ? s.dim(" (over a retired name; its earlier versions are kept)") : ""}\n`);
    }
  }
  const count = (r: Outcome["result"]) => outcomes.filter((o) => o.result === r).length;
  const written = opts.dryRun ? `${count("would restore")} would be restored` : `${count("restored")} restored`;
  const failed = count("failed");
  process.stdout.write(
    `${written}, ${count("skipped")} skipped${failed ? `, ${s.red(`${failed} failed`)}` : ""}: backup of ${manifest.source} made ${manifest.createdAt} -> ${target.location}` +
      `${opts.dryRun ? " (dry run: nothing written)" : ""}\n`,
  );
  return failed ? EXIT_PROBLEMS : EXIT_OK;
}

export function restoreCommand(): Command {
  return new Command("restore")
    .description("Import a backup into the store, create-only: names that already exist are reported and skipped, never overwritten.")
    .requiredOption("--from <dir>", "the folder `appsigning backup` wrote")
    .option("--dry-run", "open every credential of the backup and report what would happen; write nothing")
    .option("--prefix <prefix>", "only names starting with this")
    .addHelpText(
      "after",
      `
Needs ${BACKUP_PASSPHRASE_ENV} (the backup's) and the store's own key (--kms, or
APPSIGNING_PASSPHRASE for a passphrase store). Each credential keeps its name, kind, team or app,
state and metadata, so the stacks that own them find them as before.

Examples:
  $ appsigning restore --from ./signing-backup-2025-06-01 --store s3://acme-signing/prod?region=eu-west-1 --kms awskms://alias/app-signing --dry-run
  $ appsigning restore --from /media/usb/signing --store file://~/.appsigning/store`,
    )
    .action((opts: RestoreOptions, cmd: Command) => runCommand(cmd, (ctx) => restoreStore(ctx, opts)));
}
