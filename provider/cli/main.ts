#!/usr/bin/env node
/**
 * The `appsigning` command: list, fetch, verify, backup and restore the credentials in a store,
 * without Pulumi. `npx appsigning` after `npm install pulumi-appsigning`; `npm run appsigning --`
 * inside this repository.
 */
import * as fs from "fs";
import * as path from "path";
import { Command, CommanderError } from "commander";
import { backupCommand } from "./backup";
import { EXIT_OK, EXIT_USAGE, reportError } from "./context";
import { fetchCommand } from "./fetch";
import { listCommand } from "./list";
import { restoreCommand } from "./restore";
import { verifyCommand } from "./verify";

function packageVersion(): string {
  // provider/cli (sources under ts-jest) or dist/provider/cli (built): the package.json above.
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const file = path.join(dir, "package.json");
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, "utf8")) as { name?: string; version?: string };
      if (pkg.name === "pulumi-appsigning") return pkg.version ?? "0.0.0";
    }
  }
  return "0.0.0";
}

export function buildProgram(): Command {
  const program = new Command("appsigning")
    .description("Read and check the app-signing credentials a pulumi-appsigning store holds, without Pulumi.")
    .version(packageVersion(), "-V, --version", "print the version")
    .option("--store <url>", "the store: s3://bucket/prefix?region=... or file://dir (default: APPSIGNING_STORE)")
    .option("--kms <url>", 'its key: awskms://alias/name?region=... or "passphrase" (default: APPSIGNING_KMS; "passphrase" for file:// stores)')
    .option("--no-color", "no colours (also NO_COLOR=1; colours are only used on a terminal)")
    .option("--no-progress", "no progress lines on stderr")
    .addHelpText(
      "after",
      `
Environment:
  APPSIGNING_STORE, APPSIGNING_KMS   the store and its key, when --store/--kms are not given
  APPSIGNING_PASSPHRASE              the passphrase of a passphrase store
  APPSIGNING_BACKUP_PASSPHRASE       the passphrase of a backup (backup, restore)
  AWS_*                              credentials and region for S3 and KMS, as for the AWS CLI

Exit codes: 0 all good; 1 a problem was found or an operation failed; 2 the command line is wrong.

Examples:
  $ export APPSIGNING_STORE='s3://acme-signing/prod?region=eu-west-1' APPSIGNING_KMS='awskms://alias/app-signing?region=eu-west-1'
  $ appsigning list
  $ appsigning fetch dist --out ./signing
  $ appsigning verify --warn-days 45
  $ appsigning backup --out ./signing-backup`,
    );
  for (const cmd of [listCommand(), fetchCommand(), verifyCommand(), backupCommand(), restoreCommand()]) program.addCommand(cmd);
  for (const cmd of [program, ...program.commands]) {
    cmd.exitOverride().configureHelp({ showGlobalOptions: true }).showHelpAfterError(`(see appsigning ${cmd === program ? "" : `${cmd.name()} `}--help)`);
  }
  return program;
}

export async function main(argv: string[]): Promise<void> {
  // `appsigning list | head`: a reader that stops early is not an error.
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(process.exitCode ?? EXIT_OK);
    throw err;
  });
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and --version end with 0; anything commander rejects is a usage error.
      process.exitCode = err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
      return;
    }
    process.exitCode = reportError(err);
  }
}

if (require.main === module) {
  // The AWS SDK's notice about its future Node.js releases would open every S3 command's output;
  // AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=false brings it back.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  void main(process.argv);
}
