/**
 * `appsigning verify` finds what is wrong in a store, one line per problem with its remedy, and
 * exits 1: a certificate revoked at Apple (and the profile it invalidates), an expired profile, a
 * tampered blob, a creation left pending, the wrong key, credentials about to expire. In both
 * store modes, with the Apple sandbox behind the sealed App Store Connect API key.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { startSandbox } from "../../sandbox";
import type { RunningSandbox } from "../../sandbox";
import { s3 } from "../harness/aws";
import { ensureBuilt, expectNoSecret, fillAll, newStore, runCli, secretsOf } from "./helpers";
import type { CliResult, Filled, TestStore } from "./helpers";

jest.setTimeout(300_000);

beforeAll(() => ensureBuilt());

const problemLines = (r: CliResult) => r.stdout.split("\n").filter((l) => l.startsWith("PROBLEM"));

describe.each(["file", "s3"] as const)("verify on a %s store", (storeMode) => {
  let sandbox: RunningSandbox;
  let store: TestStore;
  let filled: Filled;

  beforeEach(async () => {
    sandbox = await startSandbox();
    store = await newStore(storeMode);
    filled = await fillAll(store.config, sandbox);
  });
  afterEach(async () => {
    await sandbox.stop();
    if (store.dir) fs.rmSync(store.dir, { recursive: true, force: true });
  });

  const verify = (args: string[] = [], env: NodeJS.ProcessEnv = {}) =>
    runCli([...store.flags, "verify", "--apple-base-url", sandbox.url, ...args], { env: { ...store.env, ...env } });

  test("a certificate revoked at Apple: one line for it, one for the profile it invalidated, each with the remedy; exit 1", async () => {
    const secrets = await secretsOf(store.vault());
    await sandbox.admin.revokeCertificate(filled.certificateId);
    const r = await verify();
    expect(r.code).toBe(1);
    const lines = problemLines(r);
    expect(lines).toEqual([
      `PROBLEM  ${filled.names.certificate}: Apple no longer lists certificate ${filled.certificateId} (serial ${filled.serialNumber}): it was revoked -> Builds signed with it will fail. Run \`pulumi up --refresh\` on the stack that owns it (acme-app/prod/dist): it makes a new certificate and replaces every profile made with it.`,
      `PROBLEM  ${filled.names.profile}: Apple marks profile ${filled.profileId} INVALID (its certificate was revoked or expired) -> Run \`pulumi up --refresh\` on the stack that owns it (acme-app/prod/appstore): it replaces the profile.`,
    ]);
    expect(r.stdout).toMatch(/6 credentials checked in .*: 2 problems/);
    // What is fine is still said to be fine.
    expect(r.stdout).toMatch(new RegExp(`^ok +${filled.names.upload} `, "m"));
    expectNoSecret(r.output, secrets);
    // --json, for a CI job: the same problems as objects.
    const json = JSON.parse((await verify(["--json"])).stdout) as { ok: boolean; checked: number; problems: Array<{ name: string; problem: string; remedy: string }> };
    expect(json).toMatchObject({ ok: false, checked: 6 });
    expect(json.problems.map((p) => p.name)).toEqual([filled.names.certificate, filled.names.profile]);
    expect(json.problems[0].remedy).toMatch(/pulumi up --refresh/);
    // --prefix checks part of the store, still asking Apple with the team's key kept under apple/.
    const scoped = await verify(["--prefix", "ios/"]);
    expect(problemLines(scoped)).toEqual(lines);
    expect(scoped.stdout).toMatch(/3 credentials checked in .*: 2 problems/);
    // Without Apple, the store alone is fine, and verify says what it did not check.
    const alone = await verify(["--no-apple"]);
    expect(alone.code).toBe(0);
    expect(alone.stderr).toMatch(/note: Apple not asked \(--no-apple\)/);
  });

  test("an expired profile (a year later by Apple's clock): a line saying so, with the remedy; exit 1", async () => {
    await sandbox.admin.advanceClock(366);
    const r = await verify();
    expect(r.code).toBe(1);
    const lines = problemLines(r);
    expect(lines).toContainEqual(
      expect.stringMatching(new RegExp(`^PROBLEM  ${filled.names.profile}: expired on \\d{4}-\\d\\d-\\d\\d \\(by Apple's clock\\) -> Run \`pulumi up --refresh\` on the stack that owns it \\(acme-app/prod/appstore\\): it replaces the profile\\.$`)),
    );
    // Its certificate expired with it (a profile never outlives its certificate); nothing else is wrong.
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^PROBLEM  ${filled.names.certificate}: expired on `)));
    expect(lines).toHaveLength(2);
  });

  test("a tampered blob: one line naming it and the failed authentication, with the remedy; exit 1", async () => {
    const name = filled.names.upload;
    if (storeMode === "file") {
      const file = fs.realpathSync(`${store.dir}/store/credentials/${name}.asb`);
      const bytes = fs.readFileSync(file);
      bytes[bytes.length - 40] ^= 0x01;
      fs.writeFileSync(file, bytes);
    } else {
      const key = `signing/credentials/${name}.asb`;
      const obj = await s3().send(new GetObjectCommand({ Bucket: store.bucket!, Key: key }));
      const bytes = Buffer.from(await obj.Body!.transformToByteArray());
      bytes[bytes.length - 40] ^= 0x01;
      await s3().send(new PutObjectCommand({ Bucket: store.bucket!, Key: key, Body: bytes }));
    }
    const r = await verify();
    expect(r.code).toBe(1);
    expect(problemLines(r)).toEqual([
      expect.stringMatching(new RegExp(`^PROBLEM  ${name}: "${name}" in \\S+ failed authentication: its ciphertext or header was modified -> Do not use this object\\. Restore an earlier version`)),
    ]);
    // fetch refuses it too, with the same reason.
    const f = await runCli([...store.flags, "fetch", name, "--out", store.dir ?? "/tmp"], { env: store.env });
    expect(f.code).toBe(1);
    expect(f.stderr).toMatch(/failed authentication/);
  });

  test("a certificate creation left pending for over an hour: a line with the stack to run; exit 1", async () => {
    const pem = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const vault = store.vault();
    const id = { name: `ios/${filled.teamId}/certificates/acme-app/prod/crashed`, kind: "ios-distribution-certificate", scope: filled.teamId };
    // Sealed two hours ago (only Date is faked: I/O timers run as usual).
    jest.useFakeTimers({
      now: Date.now() - 2 * 3_600_000,
      doNotFake: ["nextTick", "setImmediate", "clearImmediate", "setTimeout", "clearTimeout", "setInterval", "clearInterval", "queueMicrotask", "hrtime", "performance"],
    });
    try {
      await vault.put(id, { privateKey: pem, csr: "-" }, { expect: "absent", state: "pending", meta: { owner: "acme-app/prod/crashed", certificateType: "DISTRIBUTION" } });
    } finally {
      jest.useRealTimers();
    }
    const r = await verify();
    expect(r.code).toBe(1);
    expect(problemLines(r)).toEqual([
      expect.stringMatching(new RegExp(`^PROBLEM  ${id.name}: pending since \\S+ \\(2 h\\): a certificate creation that never finished -> Run \`pulumi up\` on the stack that owns it \\(acme-app/prod/crashed\\)`)),
    ]);
    const listed = await runCli([...store.flags, "list"], { env: store.env });
    expect(listed.stdout).toMatch(new RegExp(`${id.name} .* pending$`, "m"));
  });

  test("the wrong key (another passphrase; a passphrase for a KMS store): a line per blob; exit 1", async () => {
    let r: CliResult;
    if (storeMode === "file") {
      r = await verify(["--no-apple"], { APPSIGNING_PASSPHRASE: "not the store passphrase" });
      expect(problemLines(r)[0]).toMatch(/^PROBLEM {2}\S+: APPSIGNING_PASSPHRASE does not open "[^"]+" in \S+ -> Set the passphrase this store was created with/);
    } else {
      // (moto does not enforce key state or policies, so a disabled key cannot be shown here.)
      r = await runCli(["--store", store.config.url, "--kms", "passphrase", "verify", "--no-apple"], { env: { APPSIGNING_PASSPHRASE: "some passphrase here" } });
      expect(problemLines(r)[0]).toMatch(/^PROBLEM {2}\S+: "[^"]+" in \S+ was sealed with an AWS KMS key, but this store is configured with "passphrase" -> Point store.kms at the awskms:\/\/ key/);
    }
    expect(r.code).toBe(1);
    expect(problemLines(r)).toHaveLength(6);
    expect(r.stdout).toMatch(/6 credentials checked in .*: 6 problems/);
  });

  test("Apple out of reach: a line saying so with the way out; exit 1", async () => {
    const r = await runCli([...store.flags, "verify", "--apple-base-url", "http://127.0.0.1:1"], { env: store.env });
    expect(r.code).toBe(1);
    expect(problemLines(r)).toEqual([expect.stringMatching(new RegExp(`^PROBLEM  apple/${filled.teamId}: could not ask Apple about team ${filled.teamId}: .* -> `))]);
  });

  test("credentials inside --warn-days: a line each with the days left; the default window passes them", async () => {
    const r = await verify(["--warn-days", "400"]);
    expect(r.code).toBe(1);
    const lines = problemLines(r);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(new RegExp(`^PROBLEM  ${filled.names.certificate}: expires in 36\\d days \\(\\d{4}-\\d\\d-\\d\\d\\), within --warn-days 400 -> Run \`pulumi up --refresh\``));
    expect(lines[1]).toMatch(new RegExp(`^PROBLEM  ${filled.names.profile}: expires in 36\\d days`));
    expect((await verify()).code).toBe(0);
  });
});

describe("verify's command line", () => {
  test("--help shows what it detects and examples; a bad --warn-days is a usage error (exit 2)", async () => {
    const help = await runCli(["verify", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Examples:\n {2}\$ appsigning verify/);
    const bad = await runCli(["--store", "file:///nowhere", "verify", "--warn-days", "soon"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--warn-days must be a whole number/);
  });
});
