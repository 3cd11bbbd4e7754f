/**
 * The `appsigning` command against stores filled by the resources' own providers, in both modes
 * (a folder with a passphrase; S3 + KMS on moto): list, fetch (the files open with openssl and
 * keytool), verify, backup and restore. Run as a user runs it: a child process, its stdout,
 * stderr, exit code and files.
 */
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { startSandbox } from "../../sandbox";
import type { RunningSandbox } from "../../sandbox";
import { keytoolListVerbose, keytoolSha256Fingerprints, openssl } from "../support/tools";
import { BACKUP_PASSPHRASE, ensureBuilt, expectNoSecret, fillAll, MAIN, mode, newStore, REPO, runCli, secretsOf, tempDir } from "./helpers";
import type { Filled, TestStore } from "./helpers";
import { PKCS8_PEM_BEGIN } from "../../provider/formats/p8";

jest.setTimeout(300_000);

/**
 * scripts/recover-blob.sh on one file. The script can die of SIGPIPE (exit 141) on blobs of a few
 * KB: `tail -c +N | head -c LEN` under `set -o pipefail` (reported to its owner); only that exit is
 * tried again.
 */
function recoverBlob(file: string, passphrase: string): string {
  for (let attempt = 1; ; attempt++) {
    const r = spawnSync("bash", [path.join(REPO, "scripts/recover-blob.sh"), file], { env: { ...process.env, APPSIGNING_PASSPHRASE: passphrase } });
    if (r.status === 0) return r.stdout.toString();
    if (r.status !== 141 || attempt >= 10) throw new Error(`recover-blob.sh exited ${r.status}: ${r.stderr.toString()}`);
  }
}

describe.each(["file", "s3"] as const)("appsigning on a %s store", (storeMode) => {
  let sandbox: RunningSandbox;
  let store: TestStore;
  let filled: Filled;
  let secrets: string[];
  let work: string;

  beforeAll(async () => {
    ensureBuilt();
    sandbox = await startSandbox();
    store = await newStore(storeMode);
    filled = await fillAll(store.config, sandbox);
    secrets = await secretsOf(store.vault());
    expect(secrets.length).toBeGreaterThan(5);
  });
  afterAll(async () => {
    await sandbox?.stop();
    if (store?.dir) fs.rmSync(store.dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    work = tempDir("appsigning-cli-out-");
  });
  afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

  const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli([...store.flags, ...args], { env: { ...store.env, ...env }, cwd: work });

  test("list shows kind, name, team/app, Apple ID or alias, fingerprint, expiry and state of every credential, from headers alone, with no secret", async () => {
    // No key given at all (S3: no --kms; folder: no passphrase): list reads headers only.
    const r = await runCli(["list", ...store.storeFlag], { cwd: work });
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^KIND\s+NAME\s+TEAM\/APP\s+APPLE ID\/ALIAS\s+FINGERPRINT\s+EXPIRES\s+STATE$/);
    // Aligned: every row's NAME starts in the header's NAME column.
    const nameCol = lines[0].indexOf("NAME");
    for (const line of lines.slice(1)) expect(line[nameCol - 1]).toBe(" ");
    const row = (name: string) => lines.find((l) => l.includes(` ${name} `)) ?? "";
    expect(row(filled.names.certificate)).toMatch(new RegExp(`^ios certificate .* ${filled.teamId} +${filled.certificateId} +[0-9A-F:]{23}… +\\d{4}-\\d\\d-\\d\\d \\(36\\d days left\\) +active$`));
    expect(row(filled.names.profile)).toMatch(new RegExp(`^ios profile \\(IOS_APP_STORE\\) .* ${filled.teamId}\\.com\\.acme\\.app +${filled.profileId} +- +\\d{4}-\\d\\d-\\d\\d \\(36\\d days left\\) +active$`));
    expect(row(filled.names.pushKey)).toMatch(new RegExp(`^ios push key .* ${filled.teamId} +${filled.pushKeyId} +[0-9A-F:]{23}… +never +active$`));
    expect(row(filled.names.apiKey)).toMatch(/^asc api key .* never +active$/);
    expect(row(filled.names.upload)).toMatch(new RegExp(`^android keystore \\(upload\\) .* com\\.acme\\.app +upload +${filled.uploadSha256.slice(0, 23)}… +\\d{4}-\\d\\d-\\d\\d \\(\\d+ days left\\) +active$`));
    expect(row(filled.names.appSigning)).toMatch(/^android keystore \(app-signing\) .* com\.acme\.app +app-signing +/);
    expect(r.stderr).toMatch(/6 credentials in /);
    // Not a terminal: no colour codes.
    expect(r.output).not.toContain("\x1b[");
    expectNoSecret(r.output, secrets);
  });

  test("list colours expiry on a terminal (soon: yellow), and never with NO_COLOR or --no-color", async () => {
    // `script` runs the command on a pseudo-terminal, as in an interactive shell.
    const onTty = (args: string[], env: NodeJS.ProcessEnv = {}) => {
      const quoted = [process.execPath, MAIN, ...store.flags, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
      return execFileSync("script", ["-qec", quoted, "/dev/null"], { env: { ...process.env, ...store.env, ...env, NO_COLOR: env.NO_COLOR ?? "" } }).toString();
    };
    const coloured = onTty(["list", "--warn-days", "400"]);
    const yellow = "\x1b[33m";
    expect(coloured).toMatch(new RegExp(`${yellow.replace("[", "\\[")}\\d{4}-\\d\\d-\\d\\d \\(36\\d days left\\)`));
    expect(coloured).not.toMatch(new RegExp(`${yellow.replace("[", "\\[")}\\d{4}-\\d\\d-\\d\\d \\(9\\d{3} days left\\)`));
    expect(onTty(["list", "--warn-days", "400"], { NO_COLOR: "1" })).not.toContain("\x1b[");
    expect(onTty(["--no-color", "list", "--warn-days", "400"])).not.toContain("\x1b[");
  });

  test("list --json prints an array of objects with full fingerprints and expiry", async () => {
    const r = await cli(["list", "--json"]);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    expect(rows).toHaveLength(6);
    const upload = rows.find((x) => x.name === filled.names.upload)!;
    expect(upload).toMatchObject({ kind: "android-keystore", scope: "com.acme.app", state: "active", appleIdOrAlias: "upload", fingerprint: { algorithm: "SHA-256", value: filled.uploadSha256 }, expired: false });
    expect(upload.daysLeft).toBeGreaterThan(9000);
    const cert = rows.find((x) => x.name === filled.names.certificate)!;
    expect(cert).toMatchObject({ kind: "ios-distribution-certificate", appleIdOrAlias: filled.certificateId, state: "active" });
    expect(typeof cert.expiresAt).toBe("string");
    expectNoSecret(r.output, secrets);
  });

  test("fetch of a distribution certificate writes a 0600 .p12 and its 0600 password file; openssl opens it", async () => {
    const r = await cli(["fetch", "dist", "--out", "."]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/wrote dist\.p12 \(0600\)/);
    const p12 = path.join(work, "dist.p12");
    const pw = path.join(work, "dist.p12.password");
    expect(mode(p12)).toBe(0o600);
    expect(mode(pw)).toBe(0o600);
    const password = fs.readFileSync(pw, "utf8").trim();
    // A 3DES/SHA-1 .p12 (what every keychain imports) opens without -legacy.
    const out = await openssl(["pkcs12", "-in", p12, "-passin", "env:P12_PASS", "-nodes"], { env: { P12_PASS: password } });
    expect(out).toContain(PKCS8_PEM_BEGIN);
    expect(out).toContain("-----BEGIN CERTIFICATE-----");
    const cert = await openssl(["pkcs12", "-in", p12, "-passin", "env:P12_PASS", "-nokeys", "-clcerts"], { env: { P12_PASS: password } });
    fs.writeFileSync(path.join(work, "c.pem"), cert);
    const serial = await openssl(["x509", "-in", path.join(work, "c.pem"), "-noout", "-serial"]);
    expect(serial.trim().replace(/^serial=0*/, "")).toBe(filled.serialNumber);
  });

  test("fetch of a profile writes a .mobileprovision that openssl cms opens; a push key writes AuthKey_<ID>.p8", async () => {
    const r = await cli(["fetch", "appstore"]);
    expect(r.code).toBe(0);
    const file = path.join(work, "appstore.mobileprovision");
    expect(mode(file)).toBe(0o600);
    const plist = await openssl(["cms", "-verify", "-noverify", "-inform", "DER", "-in", file]);
    expect(plist).toContain(filled.profileUuid);
    expect(plist).toContain("<key>ExpirationDate</key>");

    const p = await cli(["fetch", filled.names.pushKey]);
    expect(p.code).toBe(0);
    const p8 = path.join(work, `AuthKey_${filled.pushKeyId}.p8`);
    expect(mode(p8)).toBe(0o600);
    const text = await openssl(["pkey", "-in", p8, "-noout", "-text"]);
    expect(text).toMatch(/prime256v1|P-256/);
  });

  test("fetch of a keystore writes it with keystore.properties and the upload certificate; keytool and openssl open them", async () => {
    const r = await cli(["fetch", "upload"]);
    expect(r.code).toBe(0);
    for (const f of ["upload.p12", "upload.keystore.properties", "upload_certificate.pem"]) expect(mode(path.join(work, f))).toBe(0o600);
    const props = Object.fromEntries(
      fs.readFileSync(path.join(work, "upload.keystore.properties"), "utf8").trim().split("\n").map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
    );
    expect(props).toMatchObject({ storeFile: "upload.p12", storeType: "pkcs12", keyAlias: "upload" });
    const listing = await keytoolListVerbose(path.join(work, "upload.p12"), props.storePassword, "PKCS12");
    expect(keytoolSha256Fingerprints(listing)).toContain(filled.uploadSha256);
    const fp = await openssl(["x509", "-in", path.join(work, "upload_certificate.pem"), "-noout", "-fingerprint", "-sha256"]);
    expect(fp.trim()).toBe(`sha256 Fingerprint=${filled.uploadSha256}`);

    const jks = await cli(["fetch", "app-signing"]);
    expect(jks.code).toBe(0);
    const jprops = fs.readFileSync(path.join(work, "app-signing.keystore.properties"), "utf8");
    const storePassword = /storePassword=(.*)/.exec(jprops)![1];
    const jlisting = await keytoolListVerbose(path.join(work, "app-signing.jks"), storePassword, "JKS");
    expect(jlisting).toMatch(/Alias name: app-signing/);
    expect(fs.existsSync(path.join(work, "app-signing_certificate.pem"))).toBe(true);
  });

  test("fetch refuses to overwrite without --force, changes nothing, and replaces with --force", async () => {
    expect((await cli(["fetch", "upload"])).code).toBe(0);
    fs.writeFileSync(path.join(work, "upload.p12"), "mine");
    fs.chmodSync(path.join(work, "upload.p12"), 0o644);
    const refused = await cli(["fetch", "upload"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/error: not overwriting upload\.p12, upload\.keystore\.properties, upload_certificate\.pem/);
    expect(refused.stderr).toMatch(/--force/);
    expect(fs.readFileSync(path.join(work, "upload.p12"), "utf8")).toBe("mine");
    const forced = await cli(["fetch", "upload", "--force"]);
    expect(forced.code).toBe(0);
    expect(fs.readFileSync(path.join(work, "upload.p12")).length).toBeGreaterThan(1000);
    expect(mode(path.join(work, "upload.p12"))).toBe(0o600);
  });

  test("fetch --show-passwords prints the passwords on stdout and writes no password file", async () => {
    const r = await cli(["fetch", "upload", "--show-passwords"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^keyAlias=upload\nstorePassword=\S+\nkeyPassword=\S+\n$/);
    expect(fs.existsSync(path.join(work, "upload.keystore.properties"))).toBe(false);
    const storePassword = /storePassword=(\S+)/.exec(r.stdout)![1];
    await keytoolListVerbose(path.join(work, "upload.p12"), storePassword, "PKCS12");
    const c = await cli(["fetch", "dist", "--show-passwords"]);
    expect(c.stdout).toMatch(/^p12Password=\S+\n$/);
    expect(fs.existsSync(path.join(work, "dist.p12.password"))).toBe(false);
  });

  test("fetch --certificate-only writes the upload certificate with no key access (expo fetch:android:upload-cert)", async () => {
    const r = await runCli(["fetch", "upload", "--certificate-only", ...store.storeFlag], { cwd: work });
    expect(r.code).toBe(0);
    expect(fs.readdirSync(work)).toEqual(["upload_certificate.pem"]);
    const fp = await openssl(["x509", "-in", path.join(work, "upload_certificate.pem"), "-noout", "-fingerprint", "-sha256"]);
    expect(fp).toContain(filled.uploadSha256);
  });

  test("fetch of an unknown name says so, with the way out", async () => {
    const missing = await cli(["fetch", "nope"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/error: No credential named "nope" in .*\n {2}-> `appsigning list` shows the names/);
  });

  test("verify opens and parses every credential, asks Apple, and passes a healthy store with exit 0 and no secret", async () => {
    const r = await cli(["verify", "--apple-base-url", sandbox.url]);
    expect(r.stdout).not.toMatch(/PROBLEM/);
    expect(r.code).toBe(0);
    for (const name of Object.values(filled.names)) expect(r.stdout).toMatch(new RegExp(`^ok +${name.replace(/[.]/g, "\\.")} `, "m"));
    expect(r.stdout).toMatch(new RegExp(`ok +${filled.names.certificate} +ios certificate, valid until \\d{4}-\\d\\d-\\d\\d, current at Apple`));
    expect(r.stdout).toMatch(/6 credentials checked in .*: all good/);
    expectNoSecret(r.output, secrets);
  });

  test("backup seals every credential into a folder store with its own passphrase; restore brings them back create-only", async () => {
    const dir = path.join(work, "backup");
    const noPass = await cli(["backup", "--out", dir]);
    expect(noPass.code).toBe(2);
    expect(noPass.stderr).toMatch(/APPSIGNING_BACKUP_PASSPHRASE is not set/);

    const b = await cli(["backup", "--out", dir], { APPSIGNING_BACKUP_PASSPHRASE: BACKUP_PASSPHRASE });
    expect(b.code).toBe(0);
    expect(b.stdout).toMatch(/6 credentials from .* sealed into .* with APPSIGNING_BACKUP_PASSPHRASE/);
    expectNoSecret(b.output, secrets);
    // One sealed file per credential plus the manifest, and no plaintext secret in any byte.
    const files = execFileSync("find", [path.join(dir, "credentials"), "-name", "*.asb"]).toString().trim().split("\n");
    expect(files).toHaveLength(7);
    const raw = execFileSync("find", [dir, "-type", "f", "-exec", "cat", "{}", "+"]).toString("latin1");
    expectNoSecret(raw, secrets);
    // The backup is a folder store: list reads it, and recover-blob.sh opens a blob with the backup passphrase.
    const listed = await runCli(["list", "--store", `file://${dir}`, "--json"]);
    expect((JSON.parse(listed.stdout) as Array<{ name: string }>).map((x) => x.name)).toEqual(expect.arrayContaining(Object.values(filled.names)));
    // The name is a symlink to its current version file (the script reads the file itself).
    const blob = fs.realpathSync(path.join(dir, "credentials", `${filled.names.upload}.asb`));
    const recovered = JSON.parse(recoverBlob(blob, BACKUP_PASSPHRASE));
    const original = await store.vault().get({ name: filled.names.upload, kind: "android-keystore", scope: "com.acme.app" });
    expect(recovered.storePassword.v).toBe(original.bundle.storePassword);

    // A second backup into the same folder is refused.
    expect((await cli(["backup", "--out", dir], { APPSIGNING_BACKUP_PASSPHRASE: BACKUP_PASSPHRASE })).code).toBe(2);

    // Restore into a new, empty store of the same mode: dry run first, then for real.
    const target = await newStore(storeMode, storeMode === "s3" ? /alias\/[^?]+/.exec(store.config.kms)![0] : undefined);
    const tcli = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli([...target.flags, ...args], { env: { ...target.env, ...env }, cwd: work });
    const wrong = await tcli(["restore", "--from", dir], { APPSIGNING_BACKUP_PASSPHRASE: "not the backup passphrase" });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/APPSIGNING_BACKUP_PASSPHRASE does not open the backup/);
    const dry = await tcli(["restore", "--from", dir, "--dry-run"], { APPSIGNING_BACKUP_PASSPHRASE: BACKUP_PASSPHRASE });
    expect(dry.code).toBe(0);
    expect(dry.stdout.match(/^would restore {2}/gm)).toHaveLength(6);
    expect(dry.stdout).toMatch(/6 would be restored, 0 skipped.*\(dry run: nothing written\)/);
    expect(await target.vault().list()).toHaveLength(0);

    const restored = await tcli(["restore", "--from", dir], { APPSIGNING_BACKUP_PASSPHRASE: BACKUP_PASSPHRASE });
    expect(restored.code).toBe(0);
    expect(restored.stdout.match(/^restored {2}/gm)).toHaveLength(6);
    expectNoSecret(restored.output, secrets);
    const source = store.vault();
    const copy = target.vault();
    for (const l of await source.list()) {
      const id = { name: l.name, kind: l.kind, scope: l.scope };
      const [a, c] = await Promise.all([source.get(id), copy.get(id)]);
      expect(c.header.meta).toEqual(a.header.meta);
      expect(c.header.state).toBe(a.header.state);
      for (const [part, value] of Object.entries(a.bundle)) expect(Buffer.compare(Buffer.from(c.bundle[part] as Buffer | string), Buffer.from(value as Buffer | string))).toBe(0);
    }
    // The restored store verifies, and a second restore skips every name: nothing is overwritten.
    expect((await tcli(["verify", "--apple-base-url", sandbox.url])).code).toBe(0);
    const again = await tcli(["restore", "--from", dir], { APPSIGNING_BACKUP_PASSPHRASE: BACKUP_PASSPHRASE });
    expect(again.code).toBe(0);
    expect(again.stdout.match(/^skipped {2}.*: already in .*; not overwritten$/gm)).toHaveLength(6);
    expect(again.stdout).toMatch(/0 restored, 6 skipped/);
    if (target.dir) fs.rmSync(target.dir, { recursive: true, force: true });
  });
});
