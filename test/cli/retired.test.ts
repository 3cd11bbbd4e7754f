/**
 * Names pulumi has deleted stay in the store as tombstones, their versions readable: list shows
 * them as retired, verify and backup skip them, fetch points at the earlier versions and writes
 * one with --blob-version.
 */
import * as fs from "fs";
import * as path from "path";
import { keytoolListVerbose } from "../support/tools";
import { ensureBuilt, fillAndroid, newStore, runCli, tempDir } from "./helpers";

jest.setTimeout(300_000);

test("a retired keystore: listed as retired, skipped by verify and backup, fetched by its earlier version", async () => {
  ensureBuilt();
  const store = await newStore("file");
  const work = tempDir();
  const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli([...store.flags, ...args], { env: { ...store.env, ...env }, cwd: work });
  try {
    const { upload } = await fillAndroid(store.config);
    const vault = store.vault();
    const live = await vault.head(upload);
    const env = { APPSIGNING_BACKUP_PASSPHRASE: "a backup passphrase here" };
    expect((await cli(["backup", "--out", path.join(work, "before")], env)).code).toBe(0);
    await vault.retire({ name: upload, kind: "android-keystore", scope: "com.acme.app" }, { reason: "deleted by pulumi" });

    const listed = await cli(["list"]);
    expect(listed.stdout).toMatch(new RegExp(`^android keystore +${upload} +com\\.acme\\.app +- +- +- +retired$`, "m"));
    expect((await cli(["list", "--no-retired"])).stdout).not.toContain(upload);

    const verified = await cli(["verify", "--no-apple"]);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(/1 credential checked in .* \(1 retired skipped\): all good/);

    const refused = await cli(["fetch", "upload"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`error: "${upload}" is retired in ${store.config.url} (deleted by pulumi)`);
    expect(refused.stderr).toContain(`-> Fetch an earlier version with --blob-version: ${live!.version} (`);
    const old = await cli(["fetch", "upload", "--blob-version", live!.version]);
    expect(old.code).toBe(0);
    const props = fs.readFileSync(path.join(work, "upload.keystore.properties"), "utf8");
    await keytoolListVerbose(path.join(work, "upload.p12"), /storePassword=(.*)/.exec(props)![1], "PKCS12");

    const backup = await cli(["backup", "--out", path.join(work, "after")], env);
    expect(backup.code).toBe(0);
    expect(backup.stdout).toMatch(/1 credential from .* \(1 retired name skipped\)/);

    // Restoring the earlier backup puts the keystore back over its tombstone (its versions are kept)
    // and leaves the live one alone.
    const restored = await cli(["restore", "--from", path.join(work, "before")], env);
    expect(restored.code).toBe(0);
    expect(restored.stdout).toMatch(new RegExp(`^restored {2}${upload} \\(over a retired name; its earlier versions are kept\\)$`, "m"));
    expect(restored.stdout).toMatch(/^skipped {2}.*app-signing: already in /m);
    expect((await vault.head(upload))?.state).toBe("active");
    expect((await vault.versions(upload)).length).toBe(3);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
    if (store.dir) fs.rmSync(store.dir, { recursive: true, force: true });
  }
});
