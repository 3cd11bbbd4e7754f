/**
 * Expiry is drift (DESIGN.md rule 2): a certificate or profile that is expired, or inside its
 * renewal window, is replaced at the next `up`, and `pulumi preview --refresh` shows it coming.
 */
export const DEFAULT_RENEW_BEFORE_DAYS = 30;
const DAY = 86_400_000;

export type ExpiryStatus = "valid" | "renew" | "expired";

export interface ExpiryState {
  status: ExpiryStatus;
  daysLeft: number;
}

export function expiryState(expiresAt: string, now: Date, renewBeforeDays = DEFAULT_RENEW_BEFORE_DAYS): ExpiryState {
  const left = Date.parse(expiresAt) - now.getTime();
  const daysLeft = Math.floor(left / DAY);
  if (left <= 0) return { status: "expired", daysLeft };
  if (left <= renewBeforeDays * DAY) return { status: "renew", daysLeft };
  return { status: "valid", daysLeft };
}

/** The reason shown in preview, or undefined when no renewal is due. */
export function renewalReason(what: string, expiresAt: string, now: Date, renewBeforeDays = DEFAULT_RENEW_BEFORE_DAYS): string | undefined {
  const s = expiryState(expiresAt, now, renewBeforeDays);
  if (s.status === "expired") return `${what} expired on ${expiresAt.slice(0, 10)}: a new one is issued`;
  if (s.status === "renew") {
    return `${what} expires on ${expiresAt.slice(0, 10)} (${s.daysLeft} days left), inside the renewBeforeDays window of ${renewBeforeDays}: it is renewed now`;
  }
  return undefined;
}

export function checkRenewBeforeDays(value: unknown, maxDays: number): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value >= maxDays) {
    return `renewBeforeDays must be a whole number of days from 0 to ${maxDays - 1} (got ${JSON.stringify(value)}); the credential lives ${maxDays} days at most`;
  }
  return undefined;
}
