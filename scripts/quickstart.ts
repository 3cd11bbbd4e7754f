/**
 * The main job (`npm run main`): the quickstart stack on a machine with no cloud account.
 *
 *   - starts the App Store Connect sandbox (state kept in .appsigning/sandbox.json, fixed port),
 *   - uses the embedded store: file://.appsigning/store + passphrase,
 *   - a local Pulumi backend in .appsigning/pulumi, passphrase secrets,
 *   - sets the demo stack config (once), runs `pulumi up` with Pulumi's normal output,
 *   - prints the stack outputs, then `appsigning list`.
 *
 * Running it again is a no-op `up`. `npm run main -- --destroy` tears the stack down (credentials
 * stay readable in the store, as retired versions).
 */
import { spawn, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { startSandbox } from "../sandbox";

const root = path.resolve(__dirname, "../..");
// Where the demo keeps its state; tests point it elsewhere.
const work = path.resolve(process.env.APPSIGNING_QUICKSTART_HOME ?? path.join(root, ".appsigning"));
const program = path.join(root, "examples/quickstart");
const STACK = process.env.APPSIGNING_QUICKSTART_STACK ?? "quickstart";

function pulumiBin(): string {
  const out = spawnSync("bash", [path.join(root, "scripts/pulumi-cli.sh"), "--print-path"], { stdio: ["ignore", "pipe", "inherit"] });
  if (out.status !== 0) throw new Error("could not provide the pulumi CLI (scripts/pulumi-cli.sh failed)");
  return out.stdout.toString().trim().split("\n").pop()!;
}

function secretFile(file: string, make: () => string): string {
  if (!fs.existsSync(file)) fs.writeFileSync(file, make(), { mode: 0o600 });
  return fs.readFileSync(file, "utf8");
}

async function main(): Promise<void> {
  const destroy = process.argv.includes("--destroy");
  fs.mkdirSync(path.join(work, "pulumi"), { recursive: true, mode: 0o700 });
  const port = Number(process.env.APPSIGNING_SANDBOX_PORT ?? 18765);
  const sandbox = await startSandbox({ port, stateFile: path.join(work, "sandbox.json") });
  const bin = pulumiBin();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${path.dirname(bin)}:${process.env.PATH}`,
    PULUMI_BACKEND_URL: `file://${path.join(work, "pulumi")}`,
    PULUMI_HOME: path.join(work, "pulumi-home"),
    // Local demo only: real stacks use a real secret (or a cloud secrets provider).
    PULUMI_CONFIG_PASSPHRASE: process.env.PULUMI_CONFIG_PASSPHRASE ?? "quickstart",
    APPSIGNING_PASSPHRASE: process.env.APPSIGNING_PASSPHRASE ?? secretFile(path.join(work, "store-passphrase"), () => crypto.randomBytes(24).toString("base64url")),
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    // The pinned AWS SDK runs on Node 20; its notice about releases from 2027 on is not for this demo.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  };
  // Asynchronous: the sandbox answers from this process's event loop while pulumi runs.
  const pulumi = (args: string[], opts: { quiet?: boolean; allowFail?: boolean; input?: string } = {}) =>
    new Promise<{ status: number }>((resolve, reject) => {
      const child = spawn(bin, ["--cwd", program, ...args], {
        env,
        stdio: [opts.input !== undefined ? "pipe" : "ignore", opts.quiet ? "pipe" : "inherit", opts.quiet ? "pipe" : "inherit"],
      });
      let err = "";
      child.stderr?.on("data", (d) => (err += d.toString()));
      child.stdout?.resume();
      if (opts.input !== undefined) child.stdin!.end(opts.input);
      child.on("error", reject);
      child.on("close", (code) => {
        const status = code ?? 1;
        if (status !== 0 && !opts.allowFail) reject(new Error(`pulumi ${args[0]} ${args[1] ?? ""} failed (exit ${status})${err ? `:\n${err.trim()}` : ""}`));
        else resolve({ status });
      });
    });
  try {
    if ((await pulumi(["stack", "select", STACK], { quiet: true, allowFail: true })).status !== 0) {
      await pulumi(["stack", "init", STACK, "--non-interactive"], { quiet: true });
    }
    const apnsP8File = path.join(work, "AuthKey_DEMO000001.p8");
    secretFile(apnsP8File, () => crypto.generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" }).toString());
    const plain: Record<string, string> = {
      storeUrl: `file://${path.join(work, "store")}`,
      storeKms: "passphrase",
      appleIssuerId: sandbox.apiKey.issuerId,
      appleKeyId: sandbox.apiKey.keyId,
      appleTeamId: sandbox.apiKey.teamId,
      appleBaseUrl: sandbox.url,
      bundleId: "com.example.quickstart",
      androidApplicationId: "com.example.quickstart",
      apnsKeyId: "DEMO000001",
      adhocDevices: "all",
    };
    for (const [k, v] of Object.entries(plain)) await pulumi(["config", "set", "--stack", STACK, k, "--", v], { quiet: true });
    // Keys as files (mode 0600), not stack config: see examples/quickstart/index.ts for why.
    const ascKeyFile = path.join(work, `AuthKey_${sandbox.apiKey.keyId}.p8`);
    fs.writeFileSync(ascKeyFile, sandbox.apiKey.privateKeyPem, { mode: 0o600 });
    await pulumi(["config", "set", "--stack", STACK, "applePrivateKeyFile", "--", ascKeyFile], { quiet: true });
    await pulumi(["config", "set", "--stack", STACK, "apnsP8File", "--", apnsP8File], { quiet: true });
    await ensureDemoDevice(sandbox);

    if (destroy) {
      // The push key is protected (deleting it breaks push in production); the demo says it may go.
      await pulumi(["config", "set", "--stack", STACK, "allowPushKeyDelete", "true"], { quiet: true });
      await pulumi(["up", "--yes", "--skip-preview", "--stack", STACK]);
      await pulumi(["destroy", "--yes", "--skip-preview", "--stack", STACK]);
      console.log("\nDestroyed. The sealed credentials stay in .appsigning/store as retired versions.");
      return;
    }
    await pulumi(["up", "--yes", "--stack", STACK]);
    console.log("\nStack outputs:");
    await pulumi(["stack", "output", "--stack", STACK, "--json"]);
    console.log("\nappsigning list:");
    const list = spawnSync(process.execPath, [path.join(root, "dist/provider/cli/main.js"), "list", "--store", `file://${path.join(work, "store")}`], { env, stdio: "inherit" });
    if (list.status !== 0) throw new Error("appsigning list failed");
  } finally {
    await sandbox.stop();
  }
}

/** Ad hoc profiles need at least one registered device; the demo team gets one. */
async function ensureDemoDevice(sandbox: Awaited<ReturnType<typeof startSandbox>>): Promise<void> {
  const { createAppleClient, listDevices, registerDevice } = await import("../provider/apple");
  const client = createAppleClient({ issuerId: sandbox.apiKey.issuerId, keyId: sandbox.apiKey.keyId, privateKey: sandbox.apiKey.privateKeyPem, baseUrl: sandbox.url });
  if ((await listDevices(client)).length === 0) {
    await registerDevice(client, { name: "Demo iPhone", udid: "00008101-000A1B2C3D4E5F60", platform: "IOS" });
  }
}

main().catch((err) => {
  console.error(`\nquickstart failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
