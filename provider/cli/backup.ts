/**
 * `appsigning backup --out DIR`: every live credential, with its metadata, into a new folder sealed
 * with APPSIGNING_BACKUP_PASSPHRASE, so a team keeps an offline copy of keys that cannot be
 * recreated (Expo's app-signing documentation urges one). Nothing in the source store changes.
 */
import * as fs from "fs";
import * as path from "path";
import { Command } from "commander";
import { EXIT_OK, EXIT_PROBLEMS, UsageError, oneLine, runCommand } from "./context";
import type { Context, ExitCode } from "./context";
import { BACKUP_PASSPHRASE_ENV, MANIFEST_ID, openBackupVault } from "./backup-vault";
import type { BackupManifest } from "./backup-vault";
import { mapLimit } from "./output";

export interface BackupOptions {
  out: string;
  prefix?: string;
}

export async function backupStore(ctx: Context, opts: BackupOptions): Promise<ExitCode> {
  const dir = path.resolve(opts.out);
  if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0) {
    throw new UsageError(`${opts.out} is not empty: a backup goes into a new (or empty) folder, so no earlier backup is mixed in or overwritten`, "backup");
  }
  const backup = openBackupVault(dir, "backup");
  const source = ctx.vault();
  const all = await source.list(opts.prefix ?? "");
  const live = all.filter((l) => l.state !== "retired");
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });

  const progress = ctx.progress("backing up", live.length);
  const failed: Array<{ name: string; problem: string; remedy?: string }> = [];
  const done: BackupManifest["credentials"] = [];
  try {
    const results = await mapLimit(live, 4, async (l) => {
      progress.step(l.name);
      try {
        const id = { name: l.name, kind: l.kind, scope: l.scope };
        const { bundle, header } = await source.get(id);
        await backup.put(id, bundle, { expect: "absent", state: header.state, meta: header.meta });
        return { name: l.name, kind: l.kind, scope: l.scope, state: header.state, meta: header.meta, sealedAt: header.sealedAt, version: l.version };
      } catch (err) {
        failed.push({ name: l.name, ...oneLine(err) });
        return undefined;
      } finally {
        progress.tick();
      }
    });
    for (const r of results) if (r) done.push(r);
    const manifest: BackupManifest = {
      format: "appsigning-backup",
      v: 1,
      createdAt: new Date().toISOString(),
      source: source.location,
      credentials: done,
      skipped: all.filter((l) => l.state === "retired").map((l) => ({ name: l.name, reason: "retired (no content)" })),
    };
    await backup.put(MANIFEST_ID, { manifest: JSON.stringify(manifest) }, {
      expect: "absent",
      meta: { format: "appsigning-backup", createdAt: manifest.createdAt, source: source.location, count: done.length },
    });
  } finally {
    progress.finish();
  }

  for (const c of done) process.stdout.write(`backed up  ${c.name}\n`);
  for (const f of failed) process.stdout.write(`${ctx.out.red("FAILED")}     ${f.name}: ${f.problem}${f.remedy ? ` -> ${f.remedy}` : ""}\n`);
  const retired = all.length - live.length;
  process.stdout.write(
    `${done.length} credential${done.length === 1 ? "" : "s"} from ${source.location} sealed into ${dir} with ${BACKUP_PASSPHRASE_ENV}` +
      `${retired ? ` (${retired} retired name${retired === 1 ? "" : "s"} skipped)` : ""}${failed.length ? `; ${ctx.out.red(`${failed.length} failed`)}` : ""}\n`,
  );
  ctx.note(ctx.err.dim(`Keep the passphrase apart from the folder. Restore with: appsigning restore --from ${opts.out} --store <url>`));
  return failed.length ? EXIT_PROBLEMS : EXIT_OK;
}

export function backupCommand(): Command {
  return new Command("backup")
    .description(`Export every credential with its metadata into a new folder, sealed with ${BACKUP_PASSPHRASE_ENV}: an offline copy.`)
    .requiredOption("--out <dir>", "a new or empty folder")
    .option("--prefix <prefix>", "only names starting with this")
    .addHelpText(
      "after",
      `
The folder is itself an appsigning folder store (one sealed file per credential under
credentials/, plus a manifest), sealed with a key derived from ${BACKUP_PASSPHRASE_ENV} (scrypt).
List it with \`appsigning list --store file://DIR\`; open one file without appsigning with
scripts/recover-blob.sh (APPSIGNING_PASSPHRASE set to the backup passphrase).
Retired names are skipped (they hold no content; their versions stay in the store).

Examples:
  $ export ${BACKUP_PASSPHRASE_ENV}='a long passphrase kept in the team vault'
  $ appsigning backup --store s3://acme-signing/prod?region=eu-west-1 --kms awskms://alias/app-signing --out ./signing-backup-$(date +%F)
  $ appsigning backup --out /media/usb/signing --prefix android/`,
    )
    .action((opts: BackupOptions, cmd: Command) => runCommand(cmd, (ctx) => backupStore(ctx, opts)));
}
