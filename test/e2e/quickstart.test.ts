/**
 * The README's main job, end to end: `npm run main` on the local sandbox and the embedded
 * file:// + passphrase store. First run creates, second is a no-op, --destroy tears down.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { freePort } from "../harness/moto";
import { REPO } from "../harness/pulumi";

jest.setTimeout(900_000);

function npmRunMain(env: NodeJS.ProcessEnv, extra: string[] = []): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn("npm", ["run", "main", ...(extra.length ? ["--", ...extra] : [])], { cwd: REPO, env: { ...process.env, ...env } });
    let output = "";
    child.stdout.on("data", (d) => (output += d.toString()));
    child.stderr.on("data", (d) => (output += d.toString()));
    child.on("close", (code) => resolve({ code: code ?? 1, output }));
  });
}

test("npm run main deploys the quickstart, a second run changes nothing, --destroy tears it down", async () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "quickstart-"));
  const stack = `quickstart-test-${path.basename(home).slice(-6)}`;
  const env = { APPSIGNING_QUICKSTART_HOME: home, APPSIGNING_QUICKSTART_STACK: stack, APPSIGNING_SANDBOX_PORT: String(await freePort()), APPSIGNING_PASSPHRASE: "quickstart test passphrase" };
  try {
    const first = await npmRunMain(env);
    if (first.code !== 0) throw new Error(first.output.slice(-6000));
    expect(first.output).toMatch(/\+ 6 created/);
    expect(first.output).toMatch(/"certificateId": "[A-Z0-9]{10}"/);
    for (const kind of ["ios certificate", "ios profile \\(IOS_APP_STORE\\)", "ios profile \\(IOS_APP_ADHOC\\)", "ios push key", "android keystore \\(upload\\)"]) {
      expect(first.output).toMatch(new RegExp(`${kind}.*active`));
    }
    expect(first.output).not.toContain(env.APPSIGNING_PASSPHRASE);

    // The sandbox's state afterwards: one certificate, two ACTIVE profiles made with it.
    const sandbox = JSON.parse(fs.readFileSync(path.join(home, "sandbox.json"), "utf8")) as {
      certificates: Array<{ id: string; revokedAt?: string }>;
      profiles: Array<{ certificateIds: string[]; profileType: string }>;
    };
    expect(sandbox.certificates).toHaveLength(1);
    expect(sandbox.profiles.map((p) => p.profileType).sort()).toEqual(["IOS_APP_ADHOC", "IOS_APP_STORE"]);
    for (const p of sandbox.profiles) expect(p.certificateIds).toEqual([sandbox.certificates[0].id]);

    const second = await npmRunMain(env);
    if (second.code !== 0) throw new Error(second.output.slice(-6000));
    expect(second.output).toMatch(/6 unchanged/);
    expect(second.output).not.toMatch(/created|replaced|updated/);

    const destroyed = await npmRunMain(env, ["--destroy"]);
    if (destroyed.code !== 0) throw new Error(destroyed.output.slice(-6000));
    expect(destroyed.output).toMatch(/- 6 deleted/);
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
    fs.rmSync(path.join(REPO, "examples/quickstart", `Pulumi.${stack}.yaml`), { force: true });
  }
});
