/**
 * Apple `.p8` keys (App Store Connect API keys and APNs auth keys) and ES256 JSON Web Tokens.
 *
 * A `.p8` is a PKCS#8 PEM holding an EC private key on curve P-256. Apple signs nothing with it; we do:
 * App Store Connect tokens and APNs provider tokens are both JWS with `alg: ES256`, whose signature is the
 * 64-byte JOSE form r||s (RFC 7518 §3.4), not the DER form OpenSSL produces by default.
 */
import * as crypto from "crypto";
import { InvalidCredentialInput } from "../errors";

/** Key IDs and team IDs are 10 upper-case alphanumerics (Apple, "Code Signing Identifiers Explained"). */
const TEN_CHAR_ID = /^[A-Z0-9]{10}$/;
/** App Store Connect issuer IDs are UUIDs (App Store Connect > Users and Access > Integrations). */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The PEM label of an unencrypted PKCS#8 key (RFC 7468 §10), which is what a .p8 file holds. */
export const PKCS8_PEM_LABEL = "PRIVATE KEY";
export const PKCS8_PEM_BEGIN = `-----BEGIN ${PKCS8_PEM_LABEL}-----`;
export const PKCS8_PEM_END = `-----END ${PKCS8_PEM_LABEL}-----`;

export interface JwtParts {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  signingInput: string;
  signature: Buffer;
}

/**
 * Parses and validates a `.p8` PEM. Throws InvalidCredentialInput naming `field` when it is not a PKCS#8
 * EC P-256 private key. The message never contains key bytes.
 */
export function parseP8(pem: string, field = "privateKey"): crypto.KeyObject {
  if (typeof pem !== "string" || pem.trim() === "") {
    throw new InvalidCredentialInput(`The ${field} is empty: expected the contents of a .p8 file.`, {
      field,
      remedy: `Pass the text of the AuthKey_<KEYID>.p8 file downloaded from App Store Connect (it starts with ${PKCS8_PEM_BEGIN}).`,
    });
  }
  const text = pem.trim();
  if (!text.startsWith(PKCS8_PEM_BEGIN) || !text.endsWith(PKCS8_PEM_END) || text.length <= PKCS8_PEM_BEGIN.length + PKCS8_PEM_END.length) {
    const looksBase64 = /^[A-Za-z0-9+/=\s]+$/.test(text);
    throw new InvalidCredentialInput(
      `The ${field} is not a PKCS#8 PEM private key (no "${PKCS8_PEM_BEGIN}" block${looksBase64 ? "; it looks like bare or double base64" : ""}).`,
      { field, remedy: "Pass the .p8 file's text exactly as downloaded, PEM header and footer included." },
    );
  }
  let key: crypto.KeyObject;
  try {
    key = crypto.createPrivateKey({ key: text, format: "pem" });
  } catch (cause) {
    throw new InvalidCredentialInput(`The ${field} is not a readable PKCS#8 private key (the PEM body does not decode).`, {
      field,
      cause,
      remedy: "Check that the .p8 was not truncated or re-wrapped when it was copied into configuration.",
    });
  }
  if (key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== "prime256v1") {
    const what = key.asymmetricKeyType === "ec" ? `an EC key on ${key.asymmetricKeyDetails?.namedCurve}` : `a ${key.asymmetricKeyType} key`;
    throw new InvalidCredentialInput(`The ${field} is ${what}; Apple .p8 keys are EC P-256 (ES256).`, {
      field,
      remedy: "Use the AuthKey_<KEYID>.p8 downloaded from Apple, not a certificate's private key or a key made another way.",
    });
  }
  return key;
}

/** Throws InvalidCredentialInput unless `value` is a 10-character Apple key ID. */
export function validateKeyId(value: string, field = "keyId"): void {
  if (typeof value !== "string" || !TEN_CHAR_ID.test(value)) {
    throw new InvalidCredentialInput(`The ${field} ${JSON.stringify(String(value ?? ""))} is not an Apple key ID (10 upper-case letters or digits).`, {
      field,
      remedy: "Copy the Key ID shown next to the key in App Store Connect (it is also the part after AuthKey_ in the .p8 file name).",
    });
  }
}

/** Throws InvalidCredentialInput unless `value` is a 10-character Apple team ID. */
export function validateTeamId(value: string, field = "teamId"): void {
  if (typeof value !== "string" || !TEN_CHAR_ID.test(value)) {
    throw new InvalidCredentialInput(`The ${field} ${JSON.stringify(String(value ?? ""))} is not an Apple team ID (10 upper-case letters or digits).`, {
      field,
      remedy: "Copy the Team ID from the Membership details page of the Apple Developer account.",
    });
  }
}

/** Throws InvalidCredentialInput unless `value` is an App Store Connect issuer ID (a UUID). */
export function validateIssuerId(value: string, field = "issuerId"): void {
  if (typeof value !== "string" || !UUID.test(value)) {
    throw new InvalidCredentialInput(`The ${field} ${JSON.stringify(String(value ?? ""))} is not an App Store Connect issuer ID (a UUID).`, {
      field,
      remedy: "Copy the Issuer ID shown above the key list in App Store Connect > Users and Access > Integrations.",
    });
  }
}

function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString("base64url");
}

/** Signs `data` with ES256 and returns the JOSE signature (64 bytes r||s). */
export function es256Sign(data: string | Buffer, key: crypto.KeyObject): Buffer {
  return crypto.sign("sha256", Buffer.from(data), { key, dsaEncoding: "ieee-p1363" });
}

/** Verifies a JOSE (r||s) ES256 signature. */
export function es256Verify(data: string | Buffer, signature: Buffer, key: crypto.KeyObject): boolean {
  if (signature.length !== 64) return false;
  try {
    return crypto.verify("sha256", Buffer.from(data), { key, dsaEncoding: "ieee-p1363" }, signature);
  } catch {
    return false;
  }
}

/** Builds a compact JWS `header.payload.signature` with alg ES256. */
export function signJwtEs256(header: Record<string, unknown>, payload: Record<string, unknown>, key: crypto.KeyObject): string {
  const signingInput = `${b64url(JSON.stringify({ ...header, alg: "ES256" }))}.${b64url(JSON.stringify(payload))}`;
  return `${signingInput}.${b64url(es256Sign(signingInput, key))}`;
}

/** Splits a compact JWS without verifying it; returns undefined when it is not three base64url JSON parts. */
export function decodeJwt(token: string): JwtParts | undefined {
  const parts = typeof token === "string" ? token.split(".") : [];
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) return undefined;
  try {
    const header = JSON.parse(Buffer.from(parts[0], "base64url").toString("utf8")) as unknown;
    const payload = JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8")) as unknown;
    if (!isObject(header) || !isObject(payload)) return undefined;
    return { header, payload, signingInput: `${parts[0]}.${parts[1]}`, signature: Buffer.from(parts[2], "base64url") };
  } catch {
    return undefined;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * APNs provider token: header `{alg: ES256, kid}`, claims `{iss: teamId, iat}`; valid for one hour, and APNs
 * refuses tokens refreshed more often than every 20 minutes (Apple, "Establishing a token-based connection to APNs").
 */
export function signApnsProviderToken(opts: { teamId: string; keyId: string; p8: string; now?: Date }): string {
  validateTeamId(opts.teamId);
  validateKeyId(opts.keyId);
  const key = parseP8(opts.p8, "p8");
  const iat = Math.floor((opts.now ?? new Date()).getTime() / 1000);
  return signJwtEs256({ kid: opts.keyId }, { iss: opts.teamId, iat }, key);
}
