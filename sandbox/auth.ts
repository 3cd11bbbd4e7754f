/**
 * Bearer token checks, as Apple describes them in "Generating Tokens for API Requests": ES256 JWT whose `kid` is a
 * key of the team, `iss` the team's issuer ID, `aud` "appstoreconnect-v1", an `exp` in the future and at most
 * 20 minutes away. Any failure is the same 401 NOT_AUTHORIZED body. Token times use the real clock: the sandbox's
 * controllable clock moves credential lifetimes, not the client's tokens.
 */
import * as crypto from "crypto";
import { decodeJwt, es256Verify } from "../provider/formats/p8";
import { notAuthorized } from "./apple-errors";
import type { ApiKeyRecord } from "./state";

const MAX_LIFETIME_SECONDS = 20 * 60;
/** Tolerated clock skew between the client and the sandbox. */
const SKEW_SECONDS = 60;

/** Returns the key that signed the request's token, or throws the 401 ApiError. */
export function authenticate(authorization: string | undefined, keys: readonly ApiKeyRecord[], nowMs = Date.now()): ApiKeyRecord {
  const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? "");
  if (!match) throw notAuthorized();
  const jwt = decodeJwt(match[1]);
  if (!jwt) throw notAuthorized();
  const { header, payload } = jwt;
  if (header.alg !== "ES256" || typeof header.kid !== "string") throw notAuthorized();
  const key = keys.find((k) => k.keyId === header.kid);
  if (!key || key.revoked) throw notAuthorized();
  if (payload.iss !== key.issuerId || payload.aud !== "appstoreconnect-v1") throw notAuthorized();
  const now = Math.floor(nowMs / 1000);
  const exp = payload.exp;
  if (typeof exp !== "number" || exp <= now || exp - now > MAX_LIFETIME_SECONDS + SKEW_SECONDS) throw notAuthorized();
  const iat = payload.iat;
  if (iat !== undefined && (typeof iat !== "number" || iat > now + SKEW_SECONDS || exp - iat > MAX_LIFETIME_SECONDS)) throw notAuthorized();
  if (!es256Verify(jwt.signingInput, jwt.signature, crypto.createPublicKey(key.publicKeyPem))) throw notAuthorized();
  return key;
}
