import { GuardedChange, LimitReached } from "../../provider/errors";
import { decideCertificateDiff } from "../../provider/rules/certificate";
import { expiryState, renewalReason, checkRenewBeforeDays } from "../../provider/rules/expiry";
import { decideKeystoreDiff, guardKeystoreDeletion, UPLOAD_KEY_RESET_NOTE } from "../../provider/rules/keystore";
import { certificateSlots } from "../../provider/rules/limits";
import { decideProfileDiff } from "../../provider/rules/profile";
import { decidePushKeyDiff, guardPushKeyDeletion } from "../../provider/rules/push-key";
import { UNKNOWN } from "../../provider/rules/unknown";
import { validateAndroidValidity } from "../../provider/rules/android-validity";

const NOW = new Date("2026-06-01T00:00:00Z");
const days = (n: number) => new Date(NOW.getTime() + n * 86_400_000).toISOString();
const store = { url: "s3://b/p", kms: "awskms://alias/k" };

describe("expiry windows", () => {
  test.each([
    [days(400), 30, "valid"],
    [days(31), 30, "valid"],
    [days(29), 30, "renew"],
    [days(1), 0, "valid"],
    [days(-1), 30, "expired"],
  ])("expiring %s with a %i-day window is %s", (at, window, status) => {
    expect(expiryState(at, NOW, window).status).toBe(status);
  });
  test("the renewal reason names the date and the days left", () => {
    expect(renewalReason("certificate C1", days(10), NOW)).toMatch(/expires on 2026-06-11 \(10 days left\), inside the renewBeforeDays window of 30/);
    expect(renewalReason("profile P", days(-3), NOW)).toMatch(/expired on 2026-05-29/);
    expect(renewalReason("profile P", days(300), NOW)).toBeUndefined();
  });
  test("renewBeforeDays must fit inside the credential's life", () => {
    expect(checkRenewBeforeDays(30, 365)).toBeUndefined();
    expect(checkRenewBeforeDays(400, 365)).toMatch(/0 to 364/);
    expect(checkRenewBeforeDays(-1, 365)).toMatch(/whole number/);
  });
});

describe("distribution certificate diff", () => {
  const base = {
    teamId: "ABCDE12345", certificateType: "DISTRIBUTION", store, name: "dist", renewBeforeDays: 30,
    certificateId: "C1", serialNumber: "0A", expiresAt: days(300), appleState: "ACTIVE" as const, otherSlotHolders: [],
  };
  test("no change is no change", () => {
    expect(decideCertificateDiff(base, base, NOW)).toMatchObject({ changes: false, replaces: [] });
  });
  test("a team or type change replaces it", () => {
    expect(decideCertificateDiff(base, { ...base, teamId: "ZZZZZ99999" }, NOW).replaces).toEqual(["teamId"]);
    const d = decideCertificateDiff(base, { ...base, certificateType: "IOS_DISTRIBUTION" }, NOW);
    expect(d.replaces).toEqual(["certificateType"]);
    expect(d.reasons.join()).toMatch(/cannot change type/);
  });
  test("inside the renewal window it is replaced, and the reason says why", () => {
    const d = decideCertificateDiff({ ...base, expiresAt: days(12) }, base, NOW);
    expect(d).toMatchObject({ changes: true, replaces: ["expiresAt"] });
    expect(d.reasons[0]).toMatch(/12 days left/);
  });
  test("expired it is replaced", () => {
    expect(decideCertificateDiff({ ...base, expiresAt: days(-2) }, base, NOW).reasons[0]).toMatch(/expired/);
  });
  test("revoked at Apple (seen by refresh) it is replaced", () => {
    const d = decideCertificateDiff({ ...base, appleState: "REVOKED" }, base, NOW);
    expect(d.replaces).toEqual(["appleState"]);
    expect(d.reasons[0]).toMatch(/revoked at Apple/);
  });
  test("a store change is an update in place, with no Apple call", () => {
    const d = decideCertificateDiff(base, { ...base, store: { ...store, url: "s3://b/other" } }, NOW);
    expect(d).toMatchObject({ changes: true, replaces: [] });
    expect(d.reasons[0]).toMatch(/no Apple call/);
  });
  test("renewal at the limit without revokeOnDelete fails preview, listing who holds the slots", () => {
    const olds = { ...base, expiresAt: days(5), otherSlotHolders: [{ id: "C2", serialNumber: "0B", expiresAt: days(200), storeName: "other" }] };
    expect(() => decideCertificateDiff(olds, base, NOW)).toThrow(LimitReached);
    try {
      decideCertificateDiff(olds, base, NOW);
    } catch (e) {
      expect((e as Error).message).toMatch(/ID C1, serial 0A/);
      expect((e as Error).message).toMatch(/ID C2, serial 0B, expires .*key in this store as "other"/);
      expect((e as Error).message).toMatch(/revokeOnDelete: true/);
    }
  });
  test("renewal at the limit with revokeOnDelete deletes (revokes) the old one first", () => {
    const olds = { ...base, expiresAt: days(5), otherSlotHolders: [{ id: "C2" }] };
    const d = decideCertificateDiff(olds, { ...base, revokeOnDelete: true }, NOW);
    expect(d.deleteBeforeReplace).toBe(true);
    expect(d.reasons.join()).toMatch(/revoked first and its slot reused/);
  });
  test("an expired certificate frees its slot, so renewal needs no revocation", () => {
    const olds = { ...base, expiresAt: days(-1), otherSlotHolders: [{ id: "C2" }] };
    expect(decideCertificateDiff(olds, base, NOW).deleteBeforeReplace).toBeUndefined();
  });
  test("a configurable limit is honoured", () => {
    const olds = { ...base, expiresAt: days(5), otherSlotHolders: [{ id: "C2" }] };
    expect(() => decideCertificateDiff(olds, { ...base, certificateLimit: 3 }, NOW)).not.toThrow();
  });
  test("slots count unexpired certificates only", () => {
    expect(certificateSlots([{ expiresAt: days(10) }, { expiresAt: days(-10) }], NOW)).toEqual({ used: 1, limit: 2, free: 1 });
  });
});

describe("provisioning profile diff", () => {
  const cert = { certificateId: "C1", serialNumber: "0A" };
  const base = {
    teamId: "ABCDE12345", bundleId: "com.acme.app", profileType: "IOS_APP_STORE", certificate: cert, devices: [] as string[],
    store, name: "appstore", profileId: "P1", expiresAt: days(300), profileState: "ACTIVE" as const,
  };
  test("a new certificate replaces the profile", () => {
    const d = decideProfileDiff(base, { ...base, certificate: { certificateId: "C9", serialNumber: "0F" } }, NOW);
    expect(d.replaces).toEqual(["certificate"]);
    expect(d.reasons[0]).toMatch(/embeds its certificate/);
  });
  test("an unknown certificate in preview (being replaced) means replacement, not no-change or an error", () => {
    const d = decideProfileDiff(base, { ...base, certificate: { certificateId: UNKNOWN, serialNumber: UNKNOWN } }, NOW);
    expect(d).toMatchObject({ changes: true, replaces: ["certificate"] });
  });
  test("serial case does not matter", () => {
    expect(decideProfileDiff(base, { ...base, certificate: { certificateId: "C1", serialNumber: "0a" } }, NOW).changes).toBe(false);
  });
  test.each(["bundleId", "profileType", "profileName", "teamId"])("a %s change replaces it (profiles cannot be edited)", (field) => {
    const d = decideProfileDiff(base, { ...base, [field]: "other" }, NOW);
    expect(d.replaces).toEqual([field]);
    expect(d.reasons[0]).toMatch(/cannot be edited/);
  });
  test("a device change replaces it; order and case do not matter", () => {
    const olds = { ...base, devices: ["AAA", "bbb"] };
    expect(decideProfileDiff(olds, { ...base, devices: ["BBB", "aaa"] }, NOW).changes).toBe(false);
    expect(decideProfileDiff(olds, { ...base, devices: ["aaa"] }, NOW).replaces).toEqual(["devices"]);
  });
  test("INVALID at Apple, missing, expired or inside the window: replaced with the reason", () => {
    expect(decideProfileDiff({ ...base, profileState: "INVALID" }, base, NOW).reasons[0]).toMatch(/INVALID/);
    expect(decideProfileDiff({ ...base, profileState: "MISSING" }, base, NOW).reasons[0]).toMatch(/no longer exists/);
    expect(decideProfileDiff({ ...base, expiresAt: days(-1) }, base, NOW).replaces).toEqual(["expiresAt"]);
    expect(decideProfileDiff({ ...base, expiresAt: days(20) }, base, NOW).replaces).toEqual(["expiresAt"]);
    expect(decideProfileDiff({ ...base, expiresAt: days(20) }, { ...base, renewBeforeDays: 7 }, NOW).replaces).toEqual([]);
  });
  test("a store change is an update", () => {
    expect(decideProfileDiff(base, { ...base, store: { url: "file:///x", kms: "passphrase" } }, NOW)).toMatchObject({ changes: true, replaces: [] });
  });
});

describe("push key diff and guards", () => {
  const base = { teamId: "ABCDE12345", keyId: "KEY1234567", p8Digest: "sha256:aa", store, name: "apns" };
  test("no change is no change", () => expect(decidePushKeyDiff(base, base).changes).toBe(false));
  test.each([["keyId", "KEY7654321"], ["p8Digest", "sha256:bb"], ["teamId", "ZZZZZ99999"]])("a new %s without allowReplace fails, saying apps lose push", (field, value) => {
    expect(() => decidePushKeyDiff(base, { ...base, [field]: value })).toThrow(GuardedChange);
    expect(() => decidePushKeyDiff(base, { ...base, [field]: value })).toThrow(/lose(s)? push notifications/);
  });
  test("with allowReplace the replacement goes ahead", () => {
    expect(decidePushKeyDiff(base, { ...base, keyId: "KEY7654321", allowReplace: true }).replaces).toEqual(["keyId"]);
  });
  test("an unknown .p8 in preview is shown as a possible replacement; the guard waits for the real value", () => {
    const d = decidePushKeyDiff(base, { ...base, p8Digest: UNKNOWN });
    expect(d.replaces).toEqual(["p8"]);
    expect(d.certainReplaces).toEqual([]);
  });
  test("deleting needs allowDelete, and the error says revocation breaks production", () => {
    expect(() => guardPushKeyDeletion(base)).toThrow(/breaks production/);
    expect(() => guardPushKeyDeletion({ ...base, allowDelete: true })).not.toThrow();
  });
  test("a store change is an update", () => {
    expect(decidePushKeyDiff(base, { ...base, store: { url: "file:///x", kms: "passphrase" } })).toMatchObject({ changes: true, replaces: [] });
  });
});

describe("android keystore diff and guards", () => {
  const base = { role: "upload" as const, alias: "upload", keySize: 2048, format: "PKCS12", dname: { cn: "Acme" }, store, name: "upload" };
  test.each([["alias", "other"], ["keySize", 4096], ["format", "JKS"], ["dname", { cn: "Other" }], ["validityYears", 30], ["importDigest", "sha256:cc"]])(
    "a %s change means a new key: replace", (field, value) => {
      expect(decideKeystoreDiff(base, { ...base, [field]: value }).changes).toBe(true);
      expect(decideKeystoreDiff(base, { ...base, [field]: value }).replaces.length).toBe(1);
    });
  test("replacing an upload key is allowed and says the new certificate must be registered in Play Console", () => {
    const d = decideKeystoreDiff(base, { ...base, keySize: 4096 });
    expect(d.reasons.join("\n")).toContain(UPLOAD_KEY_RESET_NOTE);
  });
  test("replacing an app-signing key without allowReplace fails, explaining the app could never be updated", () => {
    const app = { ...base, role: "app-signing" as const };
    expect(() => decideKeystoreDiff(app, { ...app, keySize: 4096 })).toThrow(GuardedChange);
    expect(() => decideKeystoreDiff(app, { ...app, keySize: 4096 })).toThrow(/can never be updated again/);
    expect(decideKeystoreDiff(app, { ...app, keySize: 4096, allowReplace: true }).replaces).toEqual(["keySize"]);
  });
  test("store, name, role and flags change in place", () => {
    for (const change of [{ store: { url: "file:///x", kms: "passphrase" } }, { name: "x" }, { role: "app-signing" as const }, { exposeSecrets: true }]) {
      expect(decideKeystoreDiff(base, { ...base, ...change })).toMatchObject({ changes: true, replaces: [] });
    }
  });
  test("deleting an app-signing key needs allowDelete; an upload key does not", () => {
    expect(() => guardKeystoreDeletion({ ...base, role: "app-signing" })).toThrow(GuardedChange);
    expect(() => guardKeystoreDeletion({ ...base, role: "app-signing", allowDelete: true })).not.toThrow();
    expect(() => guardKeystoreDeletion(base)).not.toThrow();
  });
  test("Play's validity rule: the key must be valid after 22 October 2033", () => {
    expect(validateAndroidValidity("2033-10-22T12:00:00Z").ok).toBe(false);
    expect(validateAndroidValidity("2033-10-23T00:00:00Z").ok).toBe(true);
  });
});
