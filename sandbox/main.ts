/**
 * `npm run sandbox`: starts the App Store Connect sandbox and prints its URL and a ready-made API key.
 *
 *   node dist/sandbox/main.js [--port 8765] [--state .appsigning/sandbox-state.json] [--host 127.0.0.1]
 *                             [--certificate-limit 2]
 *
 * The key's .p8 is written next to the state file (or in .appsigning/) with mode 0600; the private key itself is
 * never printed.
 */
import * as fs from "fs";
import * as path from "path";
import { startSandbox } from "./server";

interface Args {
  port?: number;
  host?: string;
  state?: string;
  certificateLimit?: number;
}

function parseArgs(argv: string[]): Args {
  const out: Args = {};
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split("=", 2);
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case "--port":
        out.port = Number(value());
        break;
      case "--host":
        out.host = value();
        break;
      case "--state":
        out.state = value();
        break;
      case "--certificate-limit":
        out.certificateLimit = Number(value());
        break;
      case "--help":
      case "-h":
        process.stdout.write("usage: npm run sandbox -- [--port N] [--host H] [--state FILE] [--certificate-limit N]\n");
        process.exit(0);
        break;
      default:
        process.stderr.write(`unknown option ${argv[i]}\n`);
        process.exit(2);
    }
  }
  if (out.port !== undefined && (!Number.isInteger(out.port) || out.port < 0 || out.port > 65535)) {
    process.stderr.write("--port must be a port number\n");
    process.exit(2);
  }
  return out;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const sandbox = await startSandbox({ port: args.port, host: args.host, stateFile: args.state, certificateLimit: args.certificateLimit });
  const dir = args.state ? path.dirname(path.resolve(args.state)) : path.resolve(".appsigning");
  fs.mkdirSync(dir, { recursive: true });
  const p8 = path.join(dir, `AuthKey_${sandbox.apiKey.keyId}.p8`);
  fs.writeFileSync(p8, sandbox.apiKey.privateKeyPem, { mode: 0o600 });
  fs.chmodSync(p8, 0o600);
  const lines = [
    `App Store Connect sandbox listening on ${sandbox.url}`,
    `  issuer ID : ${sandbox.apiKey.issuerId}`,
    `  key ID    : ${sandbox.apiKey.keyId}`,
    `  .p8       : ${p8}`,
    `  team ID   : ${sandbox.apiKey.teamId}`,
    `  state     : ${args.state ? path.resolve(args.state) : "in memory (use --state FILE to keep it)"}`,
    `  root CA   : ${sandbox.url}/sandbox/root-ca`,
    "",
    "Point the provider at it with baseUrl, e.g. in a stack:",
    `  apple: { issuerId: "${sandbox.apiKey.issuerId}", keyId: "${sandbox.apiKey.keyId}", privateKey: <contents of the .p8>, teamId: "${sandbox.apiKey.teamId}", baseUrl: "${sandbox.url}" }`,
    "Ctrl-C stops it.",
  ];
  process.stdout.write(lines.join("\n") + "\n");
  const stop = () => {
    sandbox.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`sandbox failed to start: ${(err as Error).message}\n`);
  process.exit(1);
});
