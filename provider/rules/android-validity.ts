/**
 * Google Play's validity rule for Android signing keys (app-signing and upload keys alike):
 * "If you plan to publish your apps on Google Play, the key you use to sign these apps must have a
 * validity period ending after 22 October 2033" (developer.android.com/studio/publish/app-signing).
 */

/** The last day a Play signing certificate may NOT end on; its validity must end after this day (UTC). */
export const PLAY_VALIDITY_LAST_REFUSED_DAY = "2033-10-22";

/** The first instant that is "after 22 October 2033": a notAfter earlier than this is refused. */
export const PLAY_VALIDITY_EARLIEST_END = new Date("2033-10-23T00:00:00.000Z");

export type ValidityDecision = { ok: true } | { ok: false; reason: string };

/**
 * Decides whether a certificate ending at `notAfter` is acceptable to Google Play.
 * Pure: no clock; the caller turns a refusal into an error on the field that produced the date.
 */
export function validateAndroidValidity(notAfter: Date | string): ValidityDecision {
  const end = notAfter instanceof Date ? notAfter : new Date(notAfter);
  if (Number.isNaN(end.getTime())) {
    return { ok: false, reason: `The validity end "${String(notAfter)}" is not a date.` };
  }
  if (end.getTime() < PLAY_VALIDITY_EARLIEST_END.getTime()) {
    return {
      ok: false,
      reason:
        `The certificate's validity ends on ${end.toISOString().slice(0, 10)}, but Google Play requires the signing key's ` +
        `validity to end after 22 October 2033 (developer.android.com/studio/publish/app-signing); ` +
        `use 25 years or more (the default is 10000 days).`,
    };
  }
  return { ok: true };
}
