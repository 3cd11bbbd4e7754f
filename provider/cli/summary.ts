/**
 * What a credential is, from its sealed header alone (no key access): the kind in words, the team
 * or app, Apple's ID or the keystore alias, a fingerprint, the expiry. The headers hold what the
 * resources recorded when they sealed each credential (provider/resources/*).
 */
import type { BlobListing } from "../store";
import { daysUntil } from "./context";

export const KINDS = {
  certificate: "ios-distribution-certificate",
  profile: "ios-provisioning-profile",
  pushKey: "ios-push-key",
  apiKey: "asc-api-key",
  keystore: "android-keystore",
  backupManifest: "appsigning-backup-manifest",
} as const;

const LABELS: Record<string, string> = {
  [KINDS.certificate]: "ios certificate",
  [KINDS.profile]: "ios profile",
  [KINDS.pushKey]: "ios push key",
  [KINDS.apiKey]: "asc api key",
  [KINDS.keystore]: "android keystore",
  [KINDS.backupManifest]: "backup manifest",
};

export interface Fingerprint {
  /** What was hashed: the certificate (SHA-1, SHA-256, as consoles show) or a push key's public key. */
  algorithm: "SHA-1" | "SHA-256" | "SHA-256 (public key)";
  value: string;
}

export interface CredentialSummary {
  name: string;
  kind: string;
  /** The kind in words: "ios certificate", "android keystore (upload)". */
  label: string;
  /** Apple team ID (iOS), application ID (Android), "teamId.bundleId" (profiles). */
  scope: string;
  state: BlobListing["state"];
  /** Apple's ID of the certificate or profile, the key ID of a push or API key, or the keystore alias. */
  appleIdOrAlias?: string;
  fingerprint?: Fingerprint;
  /** ISO date; undefined for keys that never expire. */
  expiresAt?: string;
  /** Whole days left; negative once expired (-1: expired within the last day). */
  daysLeft?: number;
  expired: boolean;
  /** Who sealed it: "project/stack/resource". */
  owner?: string;
  sealedAt: string;
  version: string;
}

const str = (v: unknown): string | undefined => (typeof v === "string" && v.length > 0 ? v : undefined);

export function summarize(l: BlobListing, now: Date): CredentialSummary {
  const m = l.meta ?? {};
  const base = { name: l.name, kind: l.kind, scope: l.scope, state: l.state, owner: str(m.owner), sealedAt: l.sealedAt, version: l.version };
  let label = LABELS[l.kind] ?? l.kind;
  let appleIdOrAlias: string | undefined;
  let fingerprint: Fingerprint | undefined;
  let expiresAt: string | undefined;
  switch (l.kind) {
    case KINDS.certificate:
      appleIdOrAlias = str(m.certificateId);
      fingerprint = str(m.sha1) ? { algorithm: "SHA-1", value: String(m.sha1) } : undefined;
      expiresAt = str(m.expiresAt);
      break;
    case KINDS.profile:
      appleIdOrAlias = str(m.profileId);
      expiresAt = str(m.expiresAt);
      if (str(m.profileType)) label = `ios profile (${String(m.profileType)})`;
      break;
    case KINDS.pushKey:
      appleIdOrAlias = str(m.keyId);
      fingerprint = str(m.publicKeyFingerprint) ? { algorithm: "SHA-256 (public key)", value: String(m.publicKeyFingerprint) } : undefined;
      break;
    case KINDS.apiKey:
      appleIdOrAlias = str(m.keyId);
      break;
    case KINDS.keystore:
      appleIdOrAlias = str(m.alias);
      // Play Console's App integrity page shows the SHA-256 of the upload and app-signing certificates.
      fingerprint = str(m.sha256) ? { algorithm: "SHA-256", value: String(m.sha256) } : undefined;
      expiresAt = str(m.validUntil);
      if (str(m.role)) label = `android keystore (${String(m.role)})`;
      break;
  }
  return {
    ...base,
    label,
    appleIdOrAlias,
    fingerprint,
    expiresAt,
    daysLeft: expiresAt ? daysUntil(expiresAt, now) : undefined,
    expired: expiresAt !== undefined && Date.parse(expiresAt) <= now.getTime(),
  };
}

/** "2026-11-29 (364 days)", "2025-01-01 (expired 3 days ago)", "never". */
export function describeExpiry(s: Pick<CredentialSummary, "expiresAt" | "daysLeft" | "expired" | "kind" | "state">): string {
  if (!s.expiresAt || s.daysLeft === undefined) {
    return s.state !== "retired" && (s.kind === KINDS.pushKey || s.kind === KINDS.apiKey) ? "never" : "-";
  }
  const date = s.expiresAt.slice(0, 10);
  if (s.expired) {
    const ago = -s.daysLeft - 1;
    return `${date} (expired ${ago === 0 ? "today" : `${ago} day${ago === 1 ? "" : "s"} ago`})`;
  }
  return `${date} (${s.daysLeft} day${s.daysLeft === 1 ? "" : "s"} left)`;
}

/** Team ID of an iOS credential (a profile's scope is "teamId.bundleId"). */
export function teamOf(l: Pick<BlobListing, "kind" | "scope">): string {
  return l.kind === KINDS.profile ? l.scope.split(".")[0] : l.scope;
}
