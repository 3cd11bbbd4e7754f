/**
 * `appsigning verify`: opens every sealed credential, parses it, checks its expiry and, with the
 * team's App Store Connect API key from the store, Apple's view of each certificate and profile.
 * One line per problem, with its remedy; exit 1 when there is any. Expiry of iOS credentials is
 * judged by Apple's clock when Apple was asked (as the resources judge it, DESIGN.md rule 2).
 */
import * as crypto from "crypto";
import { Command } from "commander";
import { APPLE_BASE_URL, createAppleClient, listCertificates, listProfiles } from "../apple";
import type { Profile } from "../apple";
import { openKeystore } from "../formats/keystore";
import { parseMobileprovision } from "../formats/mobileprovision";
import { parseP8 } from "../formats/p8";
import { parsePkcs12 } from "../formats/pkcs12";
import { certificateFacts, certificateMatchesKey } from "../formats/x509";
import type { BlobListing, Bundle, Vault } from "../store";
import { EXIT_OK, EXIT_PROBLEMS, oneLine, runCommand, wholeNumber } from "./context";
import type { Context, ExitCode } from "./context";
import { mapLimit } from "./output";
import { KINDS, summarize, teamOf } from "./summary";

export interface VerifyOptions {
  warnDays: number;
  apple: boolean;
  appleBaseUrl?: string;
  json?: boolean;
  prefix?: string;
}

export interface Problem {
  /** The credential's name, or "apple/<team>" for a problem reaching Apple. */
  name: string;
  kind: string;
  problem: string;
  remedy?: string;
}

/** What opening and parsing one credential found. */
interface Opened {
  listing: BlobListing;
  /** From the parsed material (the header's copy when the blob did not open). */
  expiresAt?: string;
  apiKey?: { issuerId: string; keyId: string; privateKey: string };
  problems: Array<{ problem: string; remedy?: string }>;
}

/** What Apple says about one team's certificates and profiles, by Apple's clock. */
interface AppleView {
  now: Date;
  certificateIds: Set<string>;
  profiles: Map<string, Profile>;
}

// A pending certificate older than this is a creation that never finished (DESIGN.md rule 6).
const PENDING_MAX_MS = 3_600_000;

const part = (b: Bundle, name: string): Buffer => {
  const v = b[name];
  if (v === undefined) throw new Error(`the sealed bundle has no "${name}" part`);
  return Buffer.isBuffer(v) ? v : Buffer.from(v, "utf8");
};
const partText = (b: Bundle, name: string): string => part(b, name).toString("utf8");

/** Parses the material of one credential; returns its expiry, or throws what is wrong with it. */
function parseMaterial(l: BlobListing, b: Bundle): Pick<Opened, "expiresAt" | "apiKey"> {
  switch (l.kind) {
    case KINDS.certificate: {
      if (l.state === "pending") {
        crypto.createPrivateKey(partText(b, "privateKey"));
        return {};
      }
      const facts = certificateFacts(part(b, "certificate"), { what: "sealed certificate" });
      const p12 = parsePkcs12(part(b, "p12"), { password: partText(b, "p12Password"), what: "sealed .p12" });
      if (p12.keys.length !== 1 || !certificateMatchesKey(facts.der, p12.keys[0].privateKey)) {
        throw new Error("the sealed .p12 does not hold the private key of the sealed certificate");
      }
      if (l.meta.serialNumber && l.meta.serialNumber !== facts.serialNumber) {
        throw new Error(`the sealed certificate has serial ${facts.serialNumber}, the header says ${String(l.meta.serialNumber)}`);
      }
      return { expiresAt: facts.notAfter };
    }
    case KINDS.profile: {
      const p = parseMobileprovision(part(b, "mobileprovision"), "sealed .mobileprovision");
      if (l.meta.uuid && l.meta.uuid !== p.uuid) throw new Error(`the sealed profile has UUID ${p.uuid}, the header says ${String(l.meta.uuid)}`);
      return { expiresAt: p.expirationDate.toISOString() };
    }
    case KINDS.pushKey:
      parseP8(partText(b, "p8"), "sealed .p8");
      return {};
    case KINDS.apiKey: {
      const privateKey = partText(b, "privateKey");
      parseP8(privateKey, "sealed API key");
      const { issuerId, keyId } = l.meta;
      return typeof issuerId === "string" && typeof keyId === "string" ? { apiKey: { issuerId, keyId, privateKey } } : {};
    }
    case KINDS.keystore: {
      const ks = openKeystore(part(b, "keystore"), { storePassword: partText(b, "storePassword"), keyPassword: partText(b, "keyPassword"), alias: partText(b, "alias") });
      if (l.meta.sha256 && l.meta.sha256 !== ks.fingerprints.sha256) throw new Error("the sealed keystore's certificate is not the one its header names (SHA-256 differs)");
      return { expiresAt: ks.notAfter };
    }
    case KINDS.backupManifest:
      JSON.parse(partText(b, "manifest"));
      return {};
    default:
      return {};
  }
}

async function openOne(vault: Vault, l: BlobListing): Promise<Opened> {
  const header = summarize(l, new Date());
  const opened: Opened = { listing: l, expiresAt: header.expiresAt, problems: [] };
  let bundle: Bundle;
  try {
    bundle = (await vault.get({ name: l.name, kind: l.kind, scope: l.scope })).bundle;
  } catch (err) {
    opened.problems.push(oneLine(err));
    return opened;
  }
  try {
    const parsed = parseMaterial(l, bundle);
    opened.apiKey = parsed.apiKey;
    opened.expiresAt = parsed.expiresAt ?? opened.expiresAt;
  } catch (err) {
    opened.problems.push({
      problem: `opens, but its material is unusable: ${oneLine(err).problem}`,
      remedy: "Fetch an earlier version (`appsigning fetch --blob-version`), or replace the credential with `pulumi up`.",
    });
  }
  return opened;
}

/** Asks Apple about one team with the newest API key of that team in the store. */
async function askApple(team: string, opened: Opened[], baseUrl: string): Promise<AppleView> {
  const keys = opened.filter((o) => o.apiKey && teamOf(o.listing) === team && o.listing.state === "active").sort((a, b) => b.listing.sealedAt.localeCompare(a.listing.sealedAt));
  const key = keys[0].apiKey!;
  const client = createAppleClient({ ...key, baseUrl, retry: { maxAttempts: 3 }, requestTimeoutMs: 30_000 });
  const [certificates, profiles] = await Promise.all([listCertificates(client), listProfiles(client)]);
  return { now: client.appleNow(), certificateIds: new Set(certificates.map((c) => c.id)), profiles: new Map(profiles.map((p) => [p.id, p])) };
}

function ownerText(l: BlobListing): string {
  return typeof l.meta.owner === "string" ? `the stack that owns it (${l.meta.owner})` : "the stack that created it";
}

/** Every problem with one credential, judged at `now`. */
function judge(o: Opened, now: Date, localNow: Date, view: AppleView | undefined, warnDays: number): Array<{ problem: string; remedy?: string }> {
  const l = o.listing;
  const out = [...o.problems];
  if (l.state === "pending") {
    // sealedAt is this machine's clock (or the sealing one's), not Apple's.
    const age = localNow.getTime() - Date.parse(l.sealedAt);
    if (age > PENDING_MAX_MS) {
      out.push({
        problem: `pending since ${l.sealedAt} (${Math.floor(age / 3_600_000)} h): a certificate creation that never finished`,
        remedy: `Run \`pulumi up\` on ${ownerText(l)}: it resumes with the sealed key or cleans up. Nothing can sign with it until then.`,
      });
    }
    return out;
  }
  const renew =
    l.kind === KINDS.certificate
      ? `Run \`pulumi up --refresh\` on ${ownerText(l)}: it makes a new certificate and replaces every profile made with it.`
      : l.kind === KINDS.profile
        ? `Run \`pulumi up --refresh\` on ${ownerText(l)}: it replaces the profile.`
        : l.kind === KINDS.keystore
          ? "Make a new keystore (pulumi up with a replacement) and register its certificate in Play Console (upload key reset)."
          : "Replace it.";
  let expired = false;
  if (o.expiresAt) {
    const days = Math.floor((Date.parse(o.expiresAt) - now.getTime()) / 86_400_000);
    const date = o.expiresAt.slice(0, 10);
    if (Date.parse(o.expiresAt) <= now.getTime()) {
      expired = true;
      out.push({ problem: `expired on ${date}${view ? " (by Apple's clock)" : ""}`, remedy: renew });
    } else if (days <= warnDays) {
      out.push({ problem: `expires in ${days} day${days === 1 ? "" : "s"} (${date}), within --warn-days ${warnDays}`, remedy: renew });
    }
  }
  if (view && !expired) {
    if (l.kind === KINDS.certificate && typeof l.meta.certificateId === "string" && !view.certificateIds.has(l.meta.certificateId)) {
      out.push({
        problem: `Apple no longer lists certificate ${l.meta.certificateId} (serial ${String(l.meta.serialNumber ?? "?")}): it was revoked`,
        remedy: `Builds signed with it will fail. ${renew}`,
      });
    }
    if (l.kind === KINDS.profile && typeof l.meta.profileId === "string") {
      const p = view.profiles.get(l.meta.profileId);
      if (!p) {
        out.push({ problem: `Apple has no profile ${l.meta.profileId} any more (deleted at Apple)`, remedy: renew });
      } else if (p.profileState === "INVALID") {
        out.push({ problem: `Apple marks profile ${l.meta.profileId} INVALID (its certificate was revoked or expired)`, remedy: renew });
      }
    }
  }
  return out;
}

export async function verifyStore(ctx: Context, opts: VerifyOptions): Promise<ExitCode> {
  const vault = ctx.vault();
  const all = await vault.list(opts.prefix ?? "");
  const live = all.filter((l) => l.state !== "retired");
  const progress = ctx.progress("verifying", live.length);
  let opened: Opened[];
  try {
    opened = await mapLimit(live, 4, async (l) => {
      progress.step(l.name);
      const o = await openOne(vault, l);
      progress.tick();
      return o;
    });
  } finally {
    progress.finish();
  }

  const problems: Problem[] = [];
  const notes: string[] = [];
  const views = new Map<string, AppleView>();
  if (opts.apple) {
    const baseUrl = opts.appleBaseUrl ?? process.env.APPSIGNING_APPLE_BASE_URL ?? APPLE_BASE_URL;
    const teams = [...new Set(opened.filter((o) => o.listing.kind === KINDS.certificate || o.listing.kind === KINDS.profile).map((o) => teamOf(o.listing)))].sort();
    // With --prefix the API keys (under apple/) may be outside what was checked: open them too.
    let keys = opened;
    if (opts.prefix && teams.length > 0) {
      const outside = (await vault.list("apple/")).filter((l) => l.kind === KINDS.apiKey && l.state === "active" && !opened.some((o) => o.listing.name === l.name));
      keys = [...opened, ...(await Promise.all(outside.map((l) => openOne(vault, l))))];
    }
    const progressApple = ctx.progress("asking Apple", teams.length);
    try {
      for (const team of teams) {
        progressApple.step(team);
        if (!keys.some((o) => o.apiKey && teamOf(o.listing) === team && o.listing.state === "active")) {
          notes.push(`Apple not asked about team ${team}: the store holds no readable App Store Connect API key for it (pulumi seals one with the first iOS resource).`);
          progressApple.tick();
          continue;
        }
        try {
          views.set(team, await askApple(team, keys, baseUrl));
        } catch (err) {
          const { problem, remedy } = oneLine(err);
          problems.push({
            name: `apple/${team}`,
            kind: "apple",
            problem: `could not ask Apple about team ${team}: ${problem}`,
            remedy: remedy ?? `Check access to ${baseUrl}, or pass --no-apple to check the store alone.`,
          });
        }
        progressApple.tick();
      }
    } finally {
      progressApple.finish();
    }
  } else {
    notes.push("Apple not asked (--no-apple): revoked certificates and invalid profiles are not detected.");
  }

  const localNow = new Date();
  const lines: string[] = [];
  const width = Math.max(0, ...opened.map((o) => o.listing.name.length));
  for (const o of opened) {
    const ios = o.listing.kind === KINDS.certificate || o.listing.kind === KINDS.profile;
    const view = ios ? views.get(teamOf(o.listing)) : undefined;
    const found = judge(o, view?.now ?? localNow, localNow, view, opts.warnDays);
    for (const f of found) problems.push({ name: o.listing.name, kind: o.listing.kind, ...f });
    if (found.length === 0) {
      const s = summarize(o.listing, view?.now ?? localNow);
      const detail = [s.label, o.expiresAt ? `valid until ${o.expiresAt.slice(0, 10)}` : undefined, view ? "current at Apple" : undefined, o.listing.state === "pending" ? "pending" : undefined]
        .filter(Boolean)
        .join(", ");
      lines.push(`${ctx.out.green("ok")}       ${o.listing.name.padEnd(width)}  ${ctx.out.dim(detail)}`);
    }
  }

  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ store: vault.location, checked: opened.length, ok: problems.length === 0, problems, notes }, null, 2)}\n`);
  } else {
    for (const line of lines) process.stdout.write(`${line}\n`);
    for (const p of problems) {
      process.stdout.write(`${ctx.out.red("PROBLEM")}  ${p.name}: ${p.problem}${p.remedy ? ` -> ${p.remedy}` : ""}\n`);
    }
    for (const n of notes) ctx.note(ctx.err.dim(`note: ${n}`));
    const retired = all.length - live.length;
    const tail = `${opened.length} credential${opened.length === 1 ? "" : "s"} checked in ${vault.location}${retired ? ` (${retired} retired skipped)` : ""}`;
    process.stdout.write(problems.length === 0 ? `${tail}: all good\n` : `${tail}: ${ctx.out.red(`${problems.length} problem${problems.length === 1 ? "" : "s"}`)}\n`);
  }
  return problems.length === 0 ? EXIT_OK : EXIT_PROBLEMS;
}

export function verifyCommand(): Command {
  return new Command("verify")
    .description("Open and parse every credential, check expiry and Apple's view of certificates and profiles; exit 1 on any problem, one line per problem with its remedy.")
    .option("--warn-days <days>", "report credentials expiring within this many days", wholeNumber("--warn-days", 0, 36500), 30)
    .option("--no-apple", "do not ask Apple (revoked certificates and invalid profiles go undetected)")
    .option("--apple-base-url <url>", "App Store Connect API base URL (default: Apple's, or APPSIGNING_APPLE_BASE_URL)")
    .option("--prefix <prefix>", "only names starting with this")
    .option("--json", "print { checked, ok, problems: [{ name, kind, problem, remedy }], notes } instead of lines")
    .addHelpText(
      "after",
      `
Detects: a blob that does not open (tampered, truncated, wrong key or passphrase); material that
does not parse; a certificate, profile or keystore expired or expiring within --warn-days; a
certificate Apple no longer lists (revoked); a profile Apple marks INVALID or no longer has; a
certificate creation left pending for over an hour. Apple is asked with the newest App Store
Connect API key the store holds for each team (pulumi seals it there).

Examples:
  $ appsigning verify --store s3://acme-signing/prod?region=eu-west-1 --kms awskms://alias/app-signing?region=eu-west-1
  $ appsigning verify --warn-days 45 --no-apple
  $ appsigning verify --json | jq -r '.problems[] | .name + ": " + .problem'`,
    )
    .action((opts: VerifyOptions, cmd: Command) => runCommand(cmd, (ctx) => verifyStore(ctx, opts)));
}
