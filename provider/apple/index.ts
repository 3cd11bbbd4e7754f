/** App Store Connect API client. The iOS resources reach Apple only through this module. */
export * from "./types";
export { AppleClient, createAppleClient, endpointOf, APPLE_BASE_URL, DEFAULT_RETRY } from "./client";
export type { RequestOptions, RateLimit, HttpMethod, Query } from "./client";
export { TokenSigner, ASC_AUDIENCE, TOKEN_LIFETIME_SECONDS } from "./jwt";
export * from "./certificates";
export * from "./profiles";
export * from "./bundle-ids";
export * from "./devices";
