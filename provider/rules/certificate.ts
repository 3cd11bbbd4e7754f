/**
 * What a change to a distribution certificate does. Replacing it forces a new certificate at Apple
 * (and, through the profiles' replaceWith, new profiles); renewals come from expiry and revocation
 * seen by refresh (DESIGN.md rules 1-3).
 */
import { DecisionBuilder } from "./decision";
import type { DiffDecision } from "./decision";
import { renewalReason } from "./expiry";
import { certificateLimitError, DEFAULT_CERTIFICATE_LIMIT } from "./limits";
import type { SlotHolder } from "./limits";

export type AppleCertificateState = "ACTIVE" | "REVOKED" | "EXPIRED" | "MISSING";

export interface CertificateDiffState {
  teamId?: string;
  certificateType?: string;
  importDigest?: string;
  store?: unknown;
  name?: string;
  renewBeforeDays?: number;
  revokeOnDelete?: boolean;
  certificateLimit?: number;
  certificateId?: string;
  serialNumber?: string;
  expiresAt?: string;
  appleState?: AppleCertificateState;
  /** Other certificates of the team and type that hold a slot, as last seen at Apple. */
  otherSlotHolders?: SlotHolder[];
}

export function decideCertificateDiff(olds: CertificateDiffState, news: CertificateDiffState, now: Date): DiffDecision {
  const b = new DecisionBuilder();
  b.replaceOn("teamId", olds.teamId, news.teamId, "a certificate belongs to one team")
    .replaceOn("certificateType", olds.certificateType, news.certificateType, "Apple certificates cannot change type")
    .replaceOn("import", olds.importDigest, news.importDigest, "a different .p12 was given");
  if (olds.appleState === "REVOKED" || olds.appleState === "MISSING") {
    b.replaceBecause("appleState", `certificate ${olds.certificateId} was revoked at Apple (seen by refresh): a new certificate is issued`);
  } else if (olds.expiresAt) {
    const reason = renewalReason(`certificate ${olds.certificateId}`, olds.expiresAt, now, news.renewBeforeDays);
    if (reason) b.replaceBecause("expiresAt", reason);
  }
  b.updateOn("store", olds.store, news.store, "re-sealed in the new store; no Apple call")
    .updateOn("name", olds.name, news.name, "re-sealed under the new name; no Apple call")
    .updateOn("renewBeforeDays", olds.renewBeforeDays, news.renewBeforeDays)
    .updateOn("revokeOnDelete", olds.revokeOnDelete, news.revokeOnDelete)
    .updateOn("certificateLimit", olds.certificateLimit, news.certificateLimit);

  if (b.replacingCertainly && !news.importDigest) {
    // The new certificate needs a slot. The old one still holds one unless it is gone or expired.
    const limit = news.certificateLimit ?? DEFAULT_CERTIFICATE_LIMIT;
    const oldHoldsSlot = olds.appleState === "ACTIVE" && !!olds.expiresAt && Date.parse(olds.expiresAt) > now.getTime();
    const others = olds.otherSlotHolders ?? [];
    const used = others.length + (oldHoldsSlot ? 1 : 0);
    if (used >= limit) {
      if (oldHoldsSlot && others.length < limit && news.revokeOnDelete === true) {
        b.deleteFirst(
          `no free certificate slot (${used} of ${limit} used): the old certificate ${olds.certificateId} is revoked first and its slot reused; its profiles are replaced too`,
        );
      } else {
        const holders: SlotHolder[] = [
          ...(oldHoldsSlot ? [{ id: olds.certificateId ?? "?", serialNumber: olds.serialNumber, expiresAt: olds.expiresAt, storeName: olds.name }] : []),
          ...others,
        ];
        throw certificateLimitError(
          olds.teamId ?? "?",
          olds.certificateType ?? "distribution",
          limit,
          holders,
          oldHoldsSlot
            ? "replacing this certificate needs a new one first; set revokeOnDelete: true to revoke the old one first and reuse its slot"
            : "no slot for the replacement",
        );
      }
    }
  }
  return b.build();
}
