/**
 * What a change to a provisioning profile does. Apple profiles cannot be edited (PATCH is refused),
 * so every change is a replacement; a profile embeds its certificate, so a new certificate means a
 * new profile (DESIGN.md rule 1), and an INVALID or expiring profile is renewed (rule 2).
 */
import { DecisionBuilder } from "./decision";
import type { DiffDecision } from "./decision";
import { renewalReason } from "./expiry";
import { containsUnknown } from "./unknown";

export type AppleProfileState = "ACTIVE" | "INVALID" | "EXPIRED" | "MISSING";

export interface CertificateRef {
  certificateId: string;
  serialNumber: string;
}

export interface ProfileDiffState {
  teamId?: string;
  bundleId?: string;
  profileType?: string;
  certificate?: CertificateRef;
  devices?: string[] | "all";
  profileName?: string;
  store?: unknown;
  name?: string;
  renewBeforeDays?: number;
  deleteOnDelete?: boolean;
  profileId?: string;
  expiresAt?: string;
  profileState?: AppleProfileState;
}

function sortedDevices(d: string[] | "all" | undefined): string[] | "all" | undefined {
  return Array.isArray(d) ? [...d].map((x) => x.toLowerCase()).sort() : d;
}

export function decideProfileDiff(olds: ProfileDiffState, news: ProfileDiffState, now: Date): DiffDecision {
  const b = new DecisionBuilder();
  const noEdit = "Apple profiles cannot be edited, so a new profile is made";
  if (containsUnknown(news.certificate)) {
    b.replaceBecause("certificate", "its certificate is being replaced (new ID and serial known only after apply): a profile embeds its certificate");
  } else {
    b.replaceOn(
      "certificate",
      olds.certificate && { id: olds.certificate.certificateId, serial: olds.certificate.serialNumber?.toUpperCase() },
      news.certificate && { id: news.certificate.certificateId, serial: news.certificate.serialNumber?.toUpperCase() },
      "a profile embeds its certificate",
    );
  }
  b.replaceOn("teamId", olds.teamId, news.teamId, noEdit)
    .replaceOn("bundleId", olds.bundleId, news.bundleId, noEdit)
    .replaceOn("profileType", olds.profileType, news.profileType, noEdit)
    .replaceOn("devices", sortedDevices(olds.devices), sortedDevices(news.devices), noEdit)
    .replaceOn("profileName", olds.profileName, news.profileName, noEdit);
  if (olds.profileState === "INVALID") {
    b.replaceBecause("profileState", `profile ${olds.profileId} is INVALID at Apple (its certificate was revoked or it was changed): a new profile is made`);
  } else if (olds.profileState === "MISSING") {
    b.replaceBecause("profileState", `profile ${olds.profileId} no longer exists at Apple: a new profile is made`);
  } else if (olds.expiresAt) {
    const reason = renewalReason(`profile ${olds.profileId}`, olds.expiresAt, now, news.renewBeforeDays);
    if (reason) b.replaceBecause("expiresAt", reason);
  }
  b.updateOn("store", olds.store, news.store, "re-sealed in the new store; no Apple call")
    .updateOn("name", olds.name, news.name, "re-sealed under the new name; no Apple call")
    .updateOn("renewBeforeDays", olds.renewBeforeDays, news.renewBeforeDays)
    .updateOn("deleteOnDelete", olds.deleteOnDelete, news.deleteOnDelete);
  return b.build();
}
