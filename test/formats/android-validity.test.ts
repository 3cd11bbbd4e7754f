import { PLAY_VALIDITY_EARLIEST_END, validateAndroidValidity } from "../../provider/rules/android-validity";
import { resolveNotAfter } from "../../provider/formats/keystore";

describe("Google Play's validity rule (must end after 22 October 2033)", () => {
  it("refuses a certificate ending during 22 October 2033, citing Google Play's requirement", () => {
    const decision = validateAndroidValidity("2033-10-22T23:59:59Z");
    expect(decision.ok).toBe(false);
    if (!decision.ok) {
      expect(decision.reason).toMatch(/Google Play requires/);
      expect(decision.reason).toMatch(/after 22 October 2033/);
      expect(decision.reason).toMatch(/2033-10-22/);
    }
  });

  it("accepts a certificate ending at the first instant of 23 October 2033", () => {
    expect(validateAndroidValidity(new Date("2033-10-23T00:00:00Z"))).toEqual({ ok: true });
    expect(PLAY_VALIDITY_EARLIEST_END.toISOString()).toBe("2033-10-23T00:00:00.000Z");
  });

  it.each([
    ["2026-12-01T00:00:00Z", false],
    ["2033-01-01T00:00:00Z", false],
    ["2033-10-22T00:00:00Z", false],
    ["2033-10-24T00:00:00Z", true],
    ["2054-04-16T01:59:56Z", true],
    ["9999-12-31T23:59:59Z", true],
  ])("decides %s -> ok=%s", (date, ok) => {
    expect(validateAndroidValidity(date).ok).toBe(ok);
  });

  it("refuses something that is not a date, saying so", () => {
    const decision = validateAndroidValidity("next year");
    expect(decision).toEqual({ ok: false, reason: expect.stringMatching(/is not a date/) });
  });

  it("accepts the default validity (10000 days) and 25 years from today, refuses 5 years", () => {
    const now = new Date("2026-11-28T00:00:00Z");
    expect(validateAndroidValidity(resolveNotAfter({}, now)).ok).toBe(true);
    expect(validateAndroidValidity(resolveNotAfter({ validityYears: 25 }, now)).ok).toBe(true);
    expect(validateAndroidValidity(resolveNotAfter({ validityYears: 5 }, now)).ok).toBe(false);
  });
});
