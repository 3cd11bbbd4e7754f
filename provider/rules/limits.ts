/**
 * Per-team limits (DESIGN.md rule 3), checked before acting. Expo's app-signing documentation gives
 * 2 distribution certificates and 2 push keys per account; Apple's own statements differ by
 * certificate type, so the certificate limit is configurable and Apple's 409 is recognised too.
 */
import { LimitReached } from "../errors";

export const DEFAULT_CERTIFICATE_LIMIT = 2;
export const PUSH_KEY_LIMIT = 2;

export interface SlotHolder {
  id: string;
  serialNumber?: string;
  expiresAt?: string;
  /** The vault name holding its private key, when this store has it. */
  storeName?: string;
  /** Who sealed it (project/stack/resource), when known. */
  owner?: string;
}

export interface SlotVerdict {
  used: number;
  limit: number;
  free: number;
}

/** Slots in use: certificates that are not expired (revoked ones are no longer listed by Apple). */
export function certificateSlots(existing: Array<{ expiresAt?: string }>, now: Date, limit = DEFAULT_CERTIFICATE_LIMIT): SlotVerdict {
  const used = existing.filter((c) => !c.expiresAt || Date.parse(c.expiresAt) > now.getTime()).length;
  return { used, limit, free: Math.max(0, limit - used) };
}

function describeHolder(h: SlotHolder): string {
  const parts = [`ID ${h.id}`];
  if (h.serialNumber) parts.push(`serial ${h.serialNumber}`);
  if (h.expiresAt) parts.push(`expires ${h.expiresAt.slice(0, 10)}`);
  parts.push(h.storeName ? `key in this store as "${h.storeName}"${h.owner ? ` (${h.owner})` : ""}` : "key not in this store");
  return `  - ${parts.join(", ")}`;
}

export function certificateLimitError(teamId: string, certificateType: string, limit: number, holders: SlotHolder[], context = ""): LimitReached {
  return new LimitReached(
    `Team ${teamId} already has ${holders.length} ${certificateType} certificate(s), the limit is ${limit}${context ? ` (${context})` : ""}:\n` +
      holders.map(describeHolder).join("\n"),
    {
      field: "teamId",
      remedy:
        "Import one of them instead of creating a new one (input import: { p12, password } — the .p12 of a certificate listed above), " +
        "or revoke one you no longer use (Apple Developer > Certificates, or revokeOnDelete: true on the resource that holds it). " +
        "If your team's limit differs, set certificateLimit.",
    },
  );
}

export function pushKeyLimitError(teamId: string, holders: SlotHolder[]): LimitReached {
  return new LimitReached(
    `Team ${teamId} already has ${holders.length} push keys in this store, Apple's limit is ${PUSH_KEY_LIMIT}:\n` +
      holders.map((h) => `  - key ID ${h.id}${h.storeName ? `, stored as "${h.storeName}"` : ""}${h.owner ? ` (${h.owner})` : ""}`).join("\n"),
    {
      field: "keyId",
      remedy:
        "Reuse one of these keys (one APNs key serves every app of the team), or retire one you are sure no app uses. " +
        "Revoking a push key at Apple stops push for every app that uses it.",
    },
  );
}
