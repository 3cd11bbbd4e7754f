/**
 * App Store Connect API tokens: ES256 JWT, header `{alg: ES256, kid, typ: JWT}`, claims
 * `{iss, iat, exp, aud: "appstoreconnect-v1"}`; Apple refuses tokens that expire more than 20 minutes after
 * they are issued (Apple, "Generating Tokens for API Requests").
 */
import type { KeyObject } from "crypto";
import { parseP8, signJwtEs256, validateIssuerId, validateKeyId } from "../formats/p8";

export const ASC_AUDIENCE = "appstoreconnect-v1";
/** Apple's maximum is 20 minutes; stay under it so clock skew between us and Apple never crosses it. */
export const TOKEN_LIFETIME_SECONDS = 19 * 60;
/** A cached token is replaced this long before it expires, so no request leaves with a token about to lapse. */
export const TOKEN_RENEW_MARGIN_SECONDS = 2 * 60;

export interface TokenSignerOptions {
  issuerId: string;
  keyId: string;
  privateKey: string;
  now?: () => number;
}

/**
 * Signs and caches tokens for one API key. Validates the key ID, issuer ID and .p8 at construction, so a
 * malformed credential fails before any request, with the field named.
 */
export class TokenSigner {
  private readonly key: KeyObject;
  private readonly issuerId: string;
  private readonly keyId: string;
  private readonly now: () => number;
  private cached?: { token: string; exp: number };
  /** Tokens signed so far (for tests and diagnostics). */
  signed = 0;

  constructor(opts: TokenSignerOptions) {
    validateIssuerId(opts.issuerId, "issuerId");
    validateKeyId(opts.keyId, "keyId");
    this.key = parseP8(opts.privateKey, "privateKey");
    this.issuerId = opts.issuerId;
    this.keyId = opts.keyId;
    this.now = opts.now ?? Date.now;
  }

  /** A valid token, reused until it is within the renew margin of its expiry. */
  token(): string {
    const nowSeconds = Math.floor(this.now() / 1000);
    if (this.cached && this.cached.exp - nowSeconds > TOKEN_RENEW_MARGIN_SECONDS) return this.cached.token;
    const exp = nowSeconds + TOKEN_LIFETIME_SECONDS;
    const token = signJwtEs256(
      { kid: this.keyId, typ: "JWT" },
      { iss: this.issuerId, iat: nowSeconds, exp, aud: ASC_AUDIENCE },
      this.key,
    );
    this.cached = { token, exp };
    this.signed++;
    return token;
  }

  /** Drops the cached token (after a 401, the next request signs a fresh one). */
  invalidate(): void {
    this.cached = undefined;
  }
}
