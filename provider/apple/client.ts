/**
 * The one place that talks HTTP to App Store Connect: auth header, JSON:API bodies, pagination, error mapping,
 * retries with exponential back-off and jitter. Every endpoint module goes through `AppleClient.request`.
 *
 * Retry policy (one place, as SST's helpers/client.ts does it):
 * - 429: the request was not processed; wait `Retry-After` (or back off) and send it again, creates included.
 * - 5xx, connection reset, timeout: the request may or may not have taken effect. Idempotent requests are
 *   sent again; a create is sent again only after its `recover` check found that the earlier attempt did not
 *   take effect (never blindly: a second certificate would use up a slot).
 * - 401: Apple answers transient 401s that a fresh token fixes (microsoft/asconnect#8); one retry with a new token.
 * - other 4xx: not retried; turned into AppleApiError with status, code, title and detail.
 */
import { AppleApiError } from "../errors";
import { TokenSigner } from "./jwt";
import type {
  AppleClientConfig,
  AppleErrorEntry,
  CallCounts,
  DocumentMany,
  DocumentOne,
  ResourceObject,
  RetryPolicy,
} from "./types";

export const APPLE_BASE_URL = "https://api.appstoreconnect.apple.com";

export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 5,
  baseDelayMs: 500,
  maxDelayMs: 20_000,
  maxRetryAfterMs: 120_000,
};

export type HttpMethod = "GET" | "POST" | "PATCH" | "DELETE";
export type Query = Record<string, string | number | readonly string[] | undefined>;

export interface RequestOptions<T> {
  query?: Query;
  body?: unknown;
  /** Whether sending the request twice is harmless. Defaults to true for GET and DELETE, false otherwise. */
  idempotent?: boolean;
  /**
   * For a non-idempotent request whose attempt failed ambiguously (5xx, dropped connection, timeout): look up
   * whether that attempt took effect and return its result, or undefined to send the request again.
   */
  recover?: () => Promise<T | undefined>;
  /** For deletes: a 404 on a retried attempt means an earlier attempt already took effect. */
  notFoundAfterRetryIsSuccess?: boolean;
}

/** Apple's `X-Rate-Limit` header, e.g. `user-hour-lim:3600;user-hour-rem:3599;` ("Identifying Rate Limits"). */
export interface RateLimit {
  limit?: number;
  remaining?: number;
}

interface Failure {
  /** Whether the request may have taken effect. */
  ambiguous: boolean;
  retryable: boolean;
  /** Wait asked by the server (Retry-After), in ms. */
  retryAfterMs?: number;
  error: AppleApiError;
}

/** `/v1/profiles/ABC123/devices` -> `/v1/profiles/{id}/devices`: the key calls are counted under. */
export function endpointOf(method: string, path: string): string {
  const pathname = path.startsWith("http") ? new URL(path).pathname : path.split("?")[0];
  const parts = pathname.split("/");
  // ["", "v1", "profiles", "<id>", "devices"]: the segment after a collection name is an ID.
  const normalised = parts.map((p, i) => (i === 3 && p !== "" ? "{id}" : p));
  return `${method} ${normalised.join("/")}`;
}

function sleepReal(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.round(Number(value) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function parseRateLimit(value: string | null): RateLimit | undefined {
  if (!value) return undefined;
  const out: RateLimit = {};
  for (const part of value.split(";")) {
    const [k, v] = part.split(":");
    if (k?.trim() === "user-hour-lim") out.limit = Number(v);
    if (k?.trim() === "user-hour-rem") out.remaining = Number(v);
  }
  return out;
}

/** Network error codes meaning the request never reached the server: safe to send again, even a create. */
const NOT_SENT_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "UND_ERR_CONNECT_TIMEOUT"]);

function networkCode(err: unknown): string {
  const e = err as { name?: string; code?: string; cause?: { code?: string; name?: string } };
  if (e?.name === "TimeoutError" || e?.name === "AbortError") return "TIMEOUT";
  return e?.cause?.code ?? e?.code ?? e?.cause?.name ?? e?.name ?? "UNKNOWN";
}

/** What to tell the user for an Apple error, by status and code. */
function remedyFor(status: number, code: string | undefined): string | undefined {
  if (status === 401) {
    return (
      "App Store Connect did not accept the API key's token. Check that the issuer ID, key ID and .p8 belong to the " +
      "same key, that the key has not been revoked (App Store Connect > Users and Access > Integrations), and that " +
      "this machine's clock is right (tokens are valid for 20 minutes from their issue time)."
    );
  }
  if (status === 403) {
    if (code === "FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED") {
      return "The Account Holder must accept the latest agreements in App Store Connect before the API can be used.";
    }
    return (
      "The API key is valid but its role does not allow this request. Certificates, profiles, bundle IDs and devices " +
      "need a team key with the Admin or App Manager role (Developer ID certificates need the Account Holder)."
    );
  }
  if (status === 429) return "Apple's hourly request quota for this API key is used up; wait and run again.";
  if (status >= 500) return "App Store Connect is failing on its side; run again later (https://developer.apple.com/system-status/).";
  return undefined;
}

function apiError(endpoint: string, status: number, entry: AppleErrorEntry | undefined, statusText: string): AppleApiError {
  const code = entry?.code;
  const title = entry?.title ?? statusText;
  const detail = entry?.detail;
  const message = `App Store Connect answered ${status}${code ? ` ${code}` : ""} to ${endpoint}: ${title}${detail ? ` - ${detail}` : ""}`;
  return new AppleApiError(message, status, code, title, detail, { remedy: remedyFor(status, code) });
}

/**
 * A client for one API key. Cheap to construct: build one per provider call from plain config; it holds the
 * key only for its own lifetime.
 */
export class AppleClient {
  readonly baseUrl: string;
  /** Calls made per endpoint, every attempt counted. */
  readonly calls: CallCounts;
  /** Apple's quota as of the last response. */
  rateLimit?: RateLimit;
  readonly pageLimit: number;

  private readonly signer: TokenSigner;
  private readonly retry: RetryPolicy;
  private readonly fetchImpl: typeof fetch;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly timeoutMs: number;

  constructor(config: AppleClientConfig) {
    // Validates issuer ID, key ID and .p8 now: a malformed credential fails before any request.
    this.signer = new TokenSigner({ issuerId: config.issuerId, keyId: config.keyId, privateKey: config.privateKey, now: config.now });
    this.baseUrl = (config.baseUrl ?? APPLE_BASE_URL).replace(/\/+$/, "");
    this.retry = { ...DEFAULT_RETRY, ...config.retry };
    this.calls = config.calls ?? {};
    this.fetchImpl = config.fetch ?? fetch;
    this.now = config.now ?? Date.now;
    this.sleep = config.sleep ?? sleepReal;
    this.timeoutMs = config.requestTimeoutMs ?? 60_000;
    this.pageLimit = Math.min(200, Math.max(1, config.pageLimit ?? 200));
  }

  /** Apple's clock minus ours, from the Date header of the last answer (0 until one arrives). */
  clockSkewMs = 0;

  /**
   * Now, by Apple's clock: expiry is Apple's to decide, and a build machine's clock can be off.
   * HTTP dates have one-second resolution, so skews under two seconds are ignored.
   */
  appleNow(): Date {
    return new Date(this.now() + (Math.abs(this.clockSkewMs) < 2000 ? 0 : this.clockSkewMs));
  }

  /** Tokens signed so far (one is reused for ~17 minutes). */
  get tokensSigned(): number {
    return this.signer.signed;
  }

  /** Absolute URL for a path (`/v1/...`) or a link Apple returned; links keep our base URL's origin and prefix. */
  url(pathOrLink: string, query?: Query): string {
    let url: URL;
    if (/^https?:\/\//.test(pathOrLink)) {
      const link = new URL(pathOrLink);
      const base = new URL(this.baseUrl);
      // Never send the bearer token to another host: Apple's links are rebased onto the configured base URL.
      url = link.origin === base.origin ? link : new URL(this.baseUrl + link.pathname.replace(/^.*?(\/v\d+\/)/, "$1") + link.search);
    } else {
      url = new URL(this.baseUrl + pathOrLink);
    }
    for (const [k, v] of Object.entries(query ?? {})) {
      if (v === undefined) continue;
      url.searchParams.set(k, Array.isArray(v) ? v.join(",") : String(v));
    }
    return url.toString();
  }

  /**
   * Sends one API request with the retry policy above. Returns the parsed JSON body, or undefined for 204.
   * Throws AppleApiError for Apple's error answers, after retries where they apply.
   */
  async request<T>(method: HttpMethod, path: string, options: RequestOptions<T> = {}): Promise<T | undefined> {
    const endpoint = endpointOf(method, path);
    const idempotent = options.idempotent ?? (method === "GET" || method === "DELETE");
    const url = this.url(path, options.query);
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    let refreshedToken = false;
    let last: Failure | undefined;

    for (let attempt = 1; ; attempt++) {
      if (last) {
        if (!last.retryable || attempt > this.retry.maxAttempts) throw last.error;
        await this.sleep(this.delay(attempt - 1, last.retryAfterMs));
        if (last.ambiguous && !idempotent) {
          // The earlier attempt may have taken effect: never send a create twice without checking.
          if (!options.recover) throw last.error;
          const found = await options.recover();
          if (found !== undefined) return found;
        }
      }

      this.calls[endpoint] = (this.calls[endpoint] ?? 0) + 1;
      let response: Response;
      try {
        response = await this.fetchImpl(url, {
          method,
          headers: {
            authorization: `Bearer ${this.signer.token()}`,
            accept: "application/json",
            ...(body !== undefined ? { "content-type": "application/json" } : {}),
          },
          body,
          signal: AbortSignal.timeout(this.timeoutMs),
        });
      } catch (err) {
        const code = networkCode(err);
        last = {
          ambiguous: !NOT_SENT_CODES.has(code),
          retryable: true,
          error: new AppleApiError(
            `Could not complete ${endpoint} at ${this.baseUrl}: the connection failed (${code}).`,
            0,
            code,
            "Network error",
            undefined,
            { cause: err, remedy: "Check the network path to App Store Connect (or that the sandbox is running at that URL), then run again." },
          ),
        };
        continue;
      }

      this.rateLimit = parseRateLimit(response.headers.get("x-rate-limit")) ?? this.rateLimit;
      const serverDate = Date.parse(response.headers.get("date") ?? "");
      if (!Number.isNaN(serverDate)) this.clockSkewMs = serverDate - this.now();
      const text = await response.text().catch(() => "");
      if (response.ok) {
        if (response.status === 204 || text === "") return undefined;
        return JSON.parse(text) as T;
      }

      let entry: AppleErrorEntry | undefined;
      try {
        entry = (JSON.parse(text) as { errors?: AppleErrorEntry[] }).errors?.[0];
      } catch {
        entry = undefined;
      }
      const error = apiError(endpoint, response.status, entry, response.statusText);

      if (response.status === 404 && options.notFoundAfterRetryIsSuccess && attempt > 1) return undefined;
      if (response.status === 401 && !refreshedToken) {
        refreshedToken = true;
        this.signer.invalidate();
        last = { ambiguous: false, retryable: true, retryAfterMs: 0, error };
        continue;
      }
      if (response.status === 429) {
        const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"), this.now());
        if (retryAfterMs !== undefined && retryAfterMs > this.retry.maxRetryAfterMs) {
          throw new AppleApiError(
            `${error.message} (Apple asks to wait ${Math.ceil(retryAfterMs / 1000)} s, longer than this client waits)`,
            429,
            error.code,
            error.title,
            error.detail,
            { remedy: remedyFor(429, error.code) },
          );
        }
        last = { ambiguous: false, retryable: true, retryAfterMs, error };
        continue;
      }
      if (response.status >= 500) {
        last = { ambiguous: true, retryable: true, retryAfterMs: parseRetryAfter(response.headers.get("retry-after"), this.now()), error };
        continue;
      }
      throw error;
    }
  }

  /** Back-off before attempt `n + 1`: Retry-After when given (plus a little jitter), else full jitter. */
  private delay(n: number, retryAfterMs: number | undefined): number {
    if (retryAfterMs !== undefined) return retryAfterMs + Math.floor(Math.random() * Math.min(250, this.retry.baseDelayMs));
    const cap = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (n - 1));
    return Math.floor(Math.random() * cap);
  }

  /** GET one resource; undefined when Apple answers 404. */
  async getOne<A>(path: string, query?: Query): Promise<DocumentOne<A> | undefined> {
    try {
      return await this.request<DocumentOne<A>>("GET", path, { query });
    } catch (err) {
      if (err instanceof AppleApiError && err.status === 404) return undefined;
      throw err;
    }
  }

  /** GET a collection, following `links.next` to the end. */
  async listAll<A>(path: string, query: Query = {}): Promise<{ data: ResourceObject<A>[]; included: ResourceObject[] }> {
    const data: ResourceObject<A>[] = [];
    const included: ResourceObject[] = [];
    let page = await this.request<DocumentMany<A>>("GET", path, { query: { limit: this.pageLimit, ...query } });
    for (let pages = 1; page; pages++) {
      data.push(...page.data);
      included.push(...(page.included ?? []));
      const next = page.links?.next;
      if (!next || page.data.length === 0) break;
      if (pages > 10_000) throw new AppleApiError(`Pagination of ${path} did not end after ${pages} pages.`, 0, undefined, undefined, undefined);
      page = await this.request<DocumentMany<A>>("GET", next);
    }
    return { data, included };
  }
}

/** Builds a client from plain config (validating the key first). */
export function createAppleClient(config: AppleClientConfig): AppleClient {
  return new AppleClient(config);
}
