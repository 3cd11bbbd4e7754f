/**
 * How the command is reached and how it talks: `npx appsigning` after installing the package,
 * `npm run appsigning --` in the repository, `--help` with examples for every command, exit 2 and
 * a pointer to --help for a wrong command line, clear errors for a store it cannot use.
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ensureBuilt, REPO, runCli, tempDir } from "./helpers";

jest.setTimeout(300_000);

beforeAll(() => ensureBuilt());

function sh(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024, timeout: 240_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 1) : 0, stdout, stderr });
    });
  });
}

test("every command has --help with examples", async () => {
  const top = await runCli(["--help"]);
  expect(top.code).toBe(0);
  for (const c of ["list", "fetch", "verify", "backup", "restore"]) expect(top.stdout).toMatch(new RegExp(`^  ${c} `, "m"));
  expect(top.stdout).toMatch(/Exit codes: 0 all good; 1 a problem was found or an operation failed; 2 the command line is wrong\./);
  for (const c of ["list", "fetch", "verify", "backup", "restore"]) {
    const r = await runCli([c, "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Usage: appsigning ${c} `));
    expect(r.stdout).toMatch(new RegExp(`Examples:\\n {2}\\$ (export|appsigning ${c})`));
    // The global options are shown with each command.
    expect(r.stdout).toMatch(/Global Options:[\s\S]*--store <url>/);
  }
  const viaHelp = await runCli(["help", "fetch"]);
  expect(viaHelp.stdout).toMatch(/expo fetch:android:upload-cert +-> +appsigning fetch <name> --certificate-only/);
});

test("a wrong command line exits 2 with the reason and a pointer to --help", async () => {
  const none = await runCli([]);
  expect(none.code).toBe(2);
  expect(none.stderr).toMatch(/Usage: appsigning/);
  const unknown = await runCli(["lsit"]);
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toMatch(/error: unknown command 'lsit'\n\(Did you mean list\?\)/);
  const noStore = await runCli(["list"]);
  expect(noStore.code).toBe(2);
  expect(noStore.stderr).toBe("error: No store given: pass --store s3://bucket/prefix?region=... or --store file://dir, or set APPSIGNING_STORE\n(see appsigning list --help)\n");
  const badUrl = await runCli(["--store", "ftp://x", "list"]);
  expect(badUrl.code).toBe(2);
  expect(badUrl.stderr).toMatch(/error: --store "ftp:\/\/x" is neither an s3:\/\/ nor a file:\/\/ URL/);
  const s3NoKms = await runCli(["--store", "s3://some-bucket/p?region=us-east-1", "verify"]);
  expect(s3NoKms.code).toBe(2);
  expect(s3NoKms.stderr).toMatch(/give its KMS key with --kms awskms:\/\/\.\.\. \(or APPSIGNING_KMS\)/);
  const missingArg = await runCli(["--store", "file:///tmp", "fetch"]);
  expect(missingArg.code).toBe(2);
  expect(missingArg.stderr).toMatch(/error: missing required argument 'name'/);
});

test("a store it cannot use is a clear error with exit 1; APPSIGNING_STORE works as --store", async () => {
  const dir = tempDir();
  try {
    // An empty or absent folder store lists nothing.
    const empty = await runCli(["list"], { env: { APPSIGNING_STORE: `file://${dir}/none` } });
    expect(empty.code).toBe(0);
    expect(empty.stderr).toMatch(/No credentials in file:\/\//);
    // A passphrase store without its passphrase.
    process.env.APPSIGNING_PASSPHRASE = "a passphrase for this test";
    const { Vault } = await import("../../provider/store");
    await Vault.open({ url: `file://${dir}/s`, kms: "passphrase" }).put({ name: "a/b", kind: "android-keystore", scope: "x" }, { keystore: Buffer.from("k") }, { expect: "absent" });
    const r = await runCli(["verify", "--no-apple"], { env: { APPSIGNING_STORE: `file://${dir}/s` } });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^PROBLEM {2}a\/b: The store uses passphrase keys but APPSIGNING_PASSPHRASE is not set -> Export APPSIGNING_PASSPHRASE/m);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("`npm run appsigning --` works in the repository, and `npx appsigning` after `npm install pulumi-appsigning`", async () => {
  const version = (JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")) as { version: string }).version;
  const run = await sh("npm", ["run", "-s", "appsigning", "--", "--version"], REPO);
  expect(run.stdout.trim()).toBe(version);

  const dir = tempDir("appsigning-install-");
  try {
    const packed = await sh("npm", ["pack", "--ignore-scripts", "--pack-destination", dir], REPO);
    expect(packed.code).toBe(0);
    const tgz = fs.readdirSync(dir).find((f) => f.endsWith(".tgz"))!;
    fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "user-project", version: "1.0.0", private: true }));
    const installed = await sh("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts", `./${tgz}`], dir);
    expect(installed.stderr).not.toMatch(/ERR!/);
    expect(installed.code).toBe(0);
    const npx = await sh("npx", ["--no-install", "appsigning", "--version"], dir);
    expect(npx.stdout.trim()).toBe(version);
    const help = await sh("npx", ["--no-install", "appsigning", "list", "--help"], dir);
    expect(help.stdout).toMatch(/^Usage: appsigning list/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
