/**
 * `appsigning fetch <name>`: writes a credential's usable files: the .p12 of a distribution
 * certificate, a .mobileprovision, a push or API key's AuthKey_<ID>.p8, an Android keystore and its
 * upload certificate. Files are created with mode 0600 and never overwritten without --force.
 * Passwords go into 0600 files next to what they open, or to stdout with --show-passwords only.
 * Covers Expo classic's `expo fetch:android:keystore` and `expo fetch:android:upload-cert`.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { Command } from "commander";
import { BlobNotFound, InvalidCredentialInput } from "../errors";
import type { BlobListing, Bundle, Vault } from "../store";
import { toPem } from "../formats/x509";
import { EXIT_OK, EXIT_PROBLEMS, UsageError, runCommand } from "./context";
import type { Context, ExitCode } from "./context";
import { KINDS } from "./summary";

export interface FetchOptions {
  out: string;
  force?: boolean;
  showPasswords?: boolean;
  certificateOnly?: boolean;
  basename?: string;
  blobVersion?: string;
}

/** A file to write, and whether it holds a password (for the message only). */
interface Planned {
  file: string;
  data: Buffer | string;
  what: string;
}

/**
 * Finds a credential by its full name, or by the end of it ("upload" finds
 * "android/keystores/acme/prod/upload") when exactly one credential ends so.
 */
export async function resolveName(vault: Vault, given: string, command: string): Promise<BlobListing> {
  const all = await vault.list();
  const exact = all.find((l) => l.name === given);
  if (exact) return exact;
  const tail = given.replace(/^\/+/, "");
  const ending = all.filter((l) => l.name.endsWith(`/${tail}`));
  // Live credentials first; a retired one when nothing live matches (to fetch an earlier version).
  const live = ending.filter((l) => l.state !== "retired");
  const matches = live.length > 0 ? live : ending;
  if (matches.length === 1) return matches[0];
  if (matches.length > 1) {
    throw new UsageError(`"${given}" matches ${matches.length} credentials: ${matches.map((m) => m.name).join(", ")}. Give the whole name.`, command);
  }
  throw new BlobNotFound(`No credential named "${given}" in ${vault.location}`, {
    remedy: "`appsigning list` shows the names; give a whole name or its last part.",
  });
}

const text = (b: Bundle, part: string): string => {
  const v = b[part];
  if (v === undefined) throw new InvalidCredentialInput(`The sealed bundle has no "${part}" part`, { remedy: "Run `appsigning verify`: the credential may be incomplete." });
  return Buffer.isBuffer(v) ? v.toString("utf8") : v;
};
const bytes = (b: Bundle, part: string): Buffer => {
  const v = b[part];
  if (v === undefined) throw new InvalidCredentialInput(`The sealed bundle has no "${part}" part`, { remedy: "Run `appsigning verify`: the credential may be incomplete." });
  return Buffer.isBuffer(v) ? v : Buffer.from(v, "utf8");
};

/** A path as the user would type it: relative under the current folder, absolute elsewhere. */
function shown(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith("..") ? rel : file;
}

/** Writes a file with mode 0600: create-only, or (with force) a new file renamed over the old one. */
function writePrivate(file: string, data: Buffer | string, force: boolean): void {
  if (!force) {
    fs.writeFileSync(file, data, { mode: 0o600, flag: "wx" });
    fs.chmodSync(file, 0o600);
    return;
  }
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${crypto.randomBytes(4).toString("hex")}.tmp`);
  fs.writeFileSync(tmp, data, { mode: 0o600, flag: "wx" });
  fs.chmodSync(tmp, 0o600);
  fs.renameSync(tmp, file);
}

export async function fetchCredential(ctx: Context, given: string, opts: FetchOptions): Promise<ExitCode> {
  const outDir = path.resolve(opts.out);
  if (!fs.existsSync(outDir) || !fs.statSync(outDir).isDirectory()) {
    throw new UsageError(`--out ${opts.out} is not a folder`, "fetch");
  }
  // The upload certificate is in the header (not secret): no key needed for it alone.
  const vault = ctx.vault({ keys: !opts.certificateOnly });
  const found = await resolveName(vault, given, "fetch");
  const listing = opts.blobVersion ? await vault.head(found.name, { version: opts.blobVersion }) : found;
  if (!listing) throw new BlobNotFound(`"${found.name}" has no version ${opts.blobVersion} in ${vault.location}`);
  if (listing.state === "retired") {
    const versions = (await vault.versions(found.name)).filter((v) => !v.latest).slice(0, 5);
    throw new BlobNotFound(`"${found.name}" is retired in ${vault.location} (${String(listing.meta.reason ?? "deleted")})`, {
      remedy: versions.length
        ? `Fetch an earlier version with --blob-version: ${versions.map((v) => `${v.version} (${v.lastModified.slice(0, 10)})`).join(", ")}.`
        : "No earlier version is readable.",
    });
  }
  if (listing.state === "pending") {
    throw new InvalidCredentialInput(`"${found.name}" is pending: Apple has not issued its certificate yet (sealed ${listing.sealedAt})`, {
      remedy: `Run \`pulumi up\` on the stack that owns it (${String(listing.meta.owner ?? "see appsigning list")}) to complete it.`,
    });
  }
  const base = opts.basename ?? found.name.split("/").pop()!;
  const id = { name: found.name, kind: listing.kind, scope: listing.scope };
  const open = async (): Promise<Bundle> => (await vault.get(id, { version: opts.blobVersion })).bundle;
  const planned: Planned[] = [];
  const passwords: Array<[string, string]> = [];
  const at = (name: string) => path.join(outDir, name);

  switch (listing.kind) {
    case KINDS.certificate: {
      const b = await open();
      if (opts.certificateOnly) {
        planned.push({ file: at(`${base}.cer`), data: bytes(b, "certificate"), what: "certificate (DER)" });
        break;
      }
      planned.push({ file: at(`${base}.p12`), data: bytes(b, "p12"), what: "signing identity (.p12: key and certificate)" });
      passwords.push(["p12Password", text(b, "p12Password")]);
      if (!opts.showPasswords) planned.push({ file: at(`${base}.p12.password`), data: `${text(b, "p12Password")}\n`, what: "its password" });
      break;
    }
    case KINDS.profile: {
      const b = await open();
      planned.push({ file: at(`${base}.mobileprovision`), data: bytes(b, "mobileprovision"), what: "provisioning profile" });
      break;
    }
    case KINDS.pushKey:
    case KINDS.apiKey: {
      const b = await open();
      const keyId = String(listing.meta.keyId ?? base);
      // Apple's own file name; tools (fastlane, EAS, Firebase) expect it.
      const part = listing.kind === KINDS.pushKey ? "p8" : "privateKey";
      planned.push({ file: at(opts.basename ? `${base}.p8` : `AuthKey_${keyId}.p8`), data: text(b, part), what: listing.kind === KINDS.pushKey ? "APNs key" : "App Store Connect API key" });
      break;
    }
    case KINDS.keystore: {
      const role = String(listing.meta.role ?? "upload");
      // Expo classic wrote <slug>_upload_cert.pem; a keystore named "upload" gives upload_certificate.pem.
      const certName = role === "upload" ? `${base === "upload" ? "" : `${base}_`}upload_certificate.pem` : `${base}_certificate.pem`;
      const certPem = typeof listing.meta.certificatePem === "string" ? listing.meta.certificatePem : undefined;
      if (opts.certificateOnly) {
        const pem = certPem ?? toPem(await certificateFromKeystoreMeta(open));
        planned.push({ file: at(certName), data: pem, what: role === "upload" ? "upload certificate (register it in Play Console)" : "certificate" });
        break;
      }
      const b = await open();
      const format = String(listing.meta.format ?? "PKCS12");
      const ksName = `${base}.${format === "JKS" ? "jks" : "p12"}`;
      const alias = text(b, "alias");
      planned.push({ file: at(ksName), data: bytes(b, "keystore"), what: `keystore (${format}, alias ${alias})` });
      passwords.push(["storePassword", text(b, "storePassword")], ["keyPassword", text(b, "keyPassword")]);
      if (!opts.showPasswords) {
        // The keystore.properties form Android projects read from build.gradle (developer.android.com, "Remove signing information from your build files").
        const props = [`storeFile=${ksName}`, `storeType=${format.toLowerCase()}`, `storePassword=${text(b, "storePassword")}`, `keyAlias=${alias}`, `keyPassword=${text(b, "keyPassword")}`].join("\n");
        planned.push({ file: at(`${base}.keystore.properties`), data: `${props}\n`, what: "its passwords and alias (Gradle keystore.properties)" });
      }
      if (certPem) planned.push({ file: at(certName), data: certPem, what: role === "upload" ? "upload certificate (register it in Play Console)" : "certificate" });
      break;
    }
    default:
      throw new UsageError(`"${found.name}" is a ${listing.kind}, which fetch does not write`, "fetch");
  }

  const existing = planned.filter((p) => fs.existsSync(p.file));
  if (existing.length > 0 && !opts.force) {
    ctx.note(`${ctx.err.red("error:")} not overwriting ${existing.map((p) => shown(p.file)).join(", ")}`);
    ctx.note("  -> Pass --force to replace them, or --out another folder.");
    return EXIT_PROBLEMS;
  }
  for (const p of planned) writePrivate(p.file, p.data, opts.force === true);
  for (const p of planned) ctx.note(`wrote ${shown(p.file)} (0600): ${p.what}`);
  if (opts.showPasswords) {
    if (listing.kind === KINDS.keystore) {
      const alias = String(listing.meta.alias ?? "");
      process.stdout.write(`keyAlias=${alias}\n`);
    }
    for (const [label, value] of passwords) process.stdout.write(`${label}=${value}\n`);
  } else if (passwords.length > 0) {
    ctx.note(ctx.err.dim("(passwords are in the 0600 file above; --show-passwords prints them to stdout instead)"));
  }
  return EXIT_OK;
}

/** Older headers may lack the certificate: read it from the keystore's own metadata after opening. */
async function certificateFromKeystoreMeta(open: () => Promise<Bundle>): Promise<Buffer> {
  const { openKeystore } = await import("../formats/keystore");
  const b = await open();
  const opened = openKeystore(bytes(b, "keystore"), { storePassword: text(b, "storePassword"), keyPassword: text(b, "keyPassword"), alias: text(b, "alias") });
  return opened.certificateDer;
}

export function fetchCommand(): Command {
  return new Command("fetch")
    .description("Write a credential's usable files (mode 0600): .p12 + password, .mobileprovision, AuthKey_<ID>.p8, keystore + passwords + upload certificate .pem.")
    .argument("<name>", "the credential's name as `appsigning list` shows it, or its last part when that is unique")
    .option("-o, --out <dir>", "folder to write into", ".")
    .option("-f, --force", "replace files that already exist")
    .option("--show-passwords", "print passwords to stdout instead of writing them to 0600 files")
    .option("--certificate-only", "only the certificate: a keystore's upload certificate .pem (needs no key), or a distribution certificate's .cer")
    .option("--basename <base>", "file name stem (default: the last part of the credential's name)")
    .option("--blob-version <version>", "an earlier version of the credential (e.g. of a retired name)")
    .addHelpText(
      "after",
      `
Files written, per kind:
  ios certificate    <base>.p12, <base>.p12.password
  ios profile        <base>.mobileprovision
  ios push key       AuthKey_<KEYID>.p8        (also asc api key)
  android keystore   <base>.p12 or <base>.jks, <base>.keystore.properties (storeFile, storePassword,
                     keyAlias, keyPassword), <base>_upload_certificate.pem (upload_certificate.pem
                     for a keystore named "upload"; <base>_certificate.pem for an app-signing key)

Expo classic:
  expo fetch:android:keystore      ->  appsigning fetch <name>
  expo fetch:android:upload-cert   ->  appsigning fetch <name> --certificate-only

Examples:
  $ appsigning fetch dist --out ./signing
  $ appsigning fetch ios/ABCDE12345/profiles/acme/prod/appstore
  $ appsigning fetch upload --show-passwords                # keyAlias=, storePassword=, keyPassword= on stdout
  $ appsigning fetch upload --certificate-only              # upload_certificate.pem for Play Console`,
    )
    .action((name: string, opts: FetchOptions, cmd: Command) => runCommand(cmd, (ctx) => fetchCredential(ctx, name, opts)));
}
