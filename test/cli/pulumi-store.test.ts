/**
 * The command on a store filled by a real `pulumi up` of examples/android (the real pulumi CLI,
 * the program run by its Node.js language host), in S3 + KMS (moto) and in a folder with a
 * passphrase: list, fetch (keytool and openssl open the files), verify, backup and restore.
 */
import * as fs from "fs";
import * as path from "path";
import { PulumiStack, REPO as HARNESS_REPO } from "../harness/pulumi";
import { keytoolListVerbose, keytoolSha256Fingerprints, openssl } from "../support/tools";
import { BACKUP_PASSPHRASE, ensureBuilt, expectNoSecret, newStore, runCli, secretsOf, tempDir } from "./helpers";

jest.setTimeout(900_000);

const ANDROID = path.join(HARNESS_REPO, "examples/android");

test.each(["s3", "file"] as const)("on a %s store filled by `pulumi up` of examples/android: list, fetch, verify, backup, restore", async (storeMode) => {
  ensureBuilt();
  const store = await newStore(storeMode);
  const stack = await PulumiStack.create(ANDROID, { stack: `cli-${storeMode}`, env: store.env, config: { storeUrl: store.config.url, storeKms: store.config.kms } });
  // The harness makes the stack name unique; the keystores are named after it.
  const stackName = stack.stack;
  const work = tempDir("appsigning-cli-pulumi-");
  const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli([...store.flags, ...args], { env: { ...store.env, ...env }, cwd: work });
  try {
    const up = await stack.up();
    expect(up.output).not.toMatch(/error:/);
    expect(up.code).toBe(0);
    const outs = (await stack.outputs()) as { uploadCertificatePem: string; uploadSha256: string; appSigningSha256: string };
    const secrets = await secretsOf(store.vault());
    const upload = `android/keystores/appsigning-android/${stackName}/upload`;
    const appSigning = `android/keystores/appsigning-android/${stackName}/app-signing`;

    // list: from headers alone (no key), both keystores with their fingerprints and owners.
    const listed = await runCli(["list", "--json", ...store.storeFlag], { cwd: work });
    expect(listed.code).toBe(0);
    const rows = JSON.parse(listed.stdout) as Array<{ name: string; owner: string; fingerprint: { value: string } }>;
    expect(rows.map((r) => r.name).sort()).toEqual([appSigning, upload]);
    expect(rows.find((r) => r.name === upload)).toMatchObject({ owner: `appsigning-android/${stackName}/upload`, fingerprint: { value: outs.uploadSha256 } });
    const table = await cli(["list"]);
    expect(table.stdout).toMatch(new RegExp(`^android keystore \\(upload\\) +${upload} +com\\.acme\\.app +upload +${outs.uploadSha256.slice(0, 23)}…`, "m"));
    expectNoSecret(table.output + listed.output, secrets);

    // fetch: the keystore opens in keytool; the upload certificate is the stack's output.
    const fetched = await cli(["fetch", "upload"]);
    expect(fetched.code).toBe(0);
    const props = fs.readFileSync(path.join(work, "upload.keystore.properties"), "utf8");
    const listing = await keytoolListVerbose(path.join(work, "upload.p12"), /storePassword=(.*)/.exec(props)![1], "PKCS12");
    expect(keytoolSha256Fingerprints(listing)).toContain(outs.uploadSha256);
    expect(fs.readFileSync(path.join(work, "upload_certificate.pem"), "utf8")).toBe(outs.uploadCertificatePem);
    expect(await openssl(["x509", "-in", path.join(work, "upload_certificate.pem"), "-noout", "-fingerprint", "-sha256"])).toContain(outs.uploadSha256);
    const jks = await cli(["fetch", "app-signing", "--show-passwords"]);
    expect(jks.code).toBe(0);
    const jlisting = await keytoolListVerbose(path.join(work, "app-signing.jks"), /storePassword=(\S+)/.exec(jks.stdout)![1], "JKS");
    expect(keytoolSha256Fingerprints(jlisting)).toContain(outs.appSigningSha256);

    // verify: all good.
    const verified = await cli(["verify", "--no-apple"]);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(/2 credentials checked in .*: all good/);
    expectNoSecret(verified.output, secrets);

    // backup, then restore into a folder store: the copy verifies.
    const backup = path.join(work, "backup");
    expect((await cli(["backup", "--out", backup], { APPSIGNING_BACKUP_PASSPHRASE: BACKUP_PASSPHRASE })).code).toBe(0);
    const copyDir = tempDir("appsigning-cli-copy-");
    try {
      const copyUrl = `file://${copyDir}/store`;
      const env = { APPSIGNING_PASSPHRASE: "restored copy passphrase", APPSIGNING_BACKUP_PASSPHRASE: BACKUP_PASSPHRASE };
      const restored = await runCli(["--store", copyUrl, "restore", "--from", backup], { env, cwd: work });
      expect(restored.stdout).toMatch(/2 restored, 0 skipped/);
      const copyVerified = await runCli(["--store", copyUrl, "verify", "--no-apple"], { env, cwd: work });
      expect(copyVerified.code).toBe(0);
    } finally {
      fs.rmSync(copyDir, { recursive: true, force: true });
    }
  } finally {
    await stack.dispose();
    fs.rmSync(work, { recursive: true, force: true });
    if (store.dir) fs.rmSync(store.dir, { recursive: true, force: true });
  }
});
