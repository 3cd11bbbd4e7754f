/**
 * App Store Connect API types, in Apple's spelling (App Store Connect API reference: Certificates, Profiles,
 * Bundle IDs, Devices). Dates are ISO 8601 strings as Apple sends them.
 */

export type CertificateType =
  | "IOS_DEVELOPMENT"
  | "IOS_DISTRIBUTION"
  | "MAC_APP_DEVELOPMENT"
  | "MAC_APP_DISTRIBUTION"
  | "MAC_INSTALLER_DISTRIBUTION"
  | "DEVELOPER_ID_APPLICATION"
  | "DEVELOPER_ID_KEXT"
  | "DEVELOPMENT"
  | "DISTRIBUTION";

export type ProfileType =
  | "IOS_APP_DEVELOPMENT"
  | "IOS_APP_STORE"
  | "IOS_APP_ADHOC"
  | "IOS_APP_INHOUSE"
  | "MAC_APP_DEVELOPMENT"
  | "MAC_APP_STORE"
  | "MAC_APP_DIRECT"
  | "TVOS_APP_DEVELOPMENT"
  | "TVOS_APP_STORE"
  | "TVOS_APP_ADHOC"
  | "TVOS_APP_INHOUSE"
  | "MAC_CATALYST_APP_DEVELOPMENT"
  | "MAC_CATALYST_APP_STORE"
  | "MAC_CATALYST_APP_DIRECT";

/** fastlane spaceship `Profile::ProfileState`: ACTIVE or INVALID. */
export type ProfileState = "ACTIVE" | "INVALID";

export type BundleIdPlatform = "IOS" | "MAC_OS" | "UNIVERSAL";

/** Platform of certificates and devices. */
export type ApplePlatform = "IOS" | "MAC_OS";

export type DeviceStatus = "ENABLED" | "DISABLED";

export type DeviceClass = "APPLE_WATCH" | "IPAD" | "IPHONE" | "IPOD" | "APPLE_TV" | "MAC" | "APPLE_VISION_PRO";

/** Distribution certificate types: the ones the per-team limit applies to. */
export const DISTRIBUTION_CERTIFICATE_TYPES: readonly CertificateType[] = ["IOS_DISTRIBUTION", "DISTRIBUTION"];

export interface Certificate {
  id: string;
  certificateType: CertificateType;
  /** e.g. "iOS Distribution: Acme Inc". */
  name: string;
  displayName: string;
  /** Hex, as Apple prints it. */
  serialNumber: string;
  platform: ApplePlatform | null;
  expirationDate: string;
  /** Base64 of the certificate's DER. */
  certificateContent: string;
}

export interface Profile {
  id: string;
  name: string;
  profileType: ProfileType;
  profileState: ProfileState;
  platform: BundleIdPlatform;
  uuid: string;
  createdDate: string;
  expirationDate: string;
  /** Base64 of the `.mobileprovision` (DER CMS). */
  profileContent: string;
  /** Relationships, present when the profile was read with them (getProfile always reads them). */
  bundleIdId?: string;
  certificateIds?: string[];
  deviceIds?: string[];
}

export interface BundleId {
  id: string;
  identifier: string;
  name: string;
  platform: BundleIdPlatform;
  /** The App ID prefix (usually the team ID). */
  seedId: string;
}

export interface Device {
  id: string;
  name: string;
  udid: string;
  platform: ApplePlatform;
  status: DeviceStatus;
  deviceClass?: DeviceClass;
  model?: string | null;
  addedDate?: string;
}

/** What a caller passes to build a client: plain data, so a Pulumi dynamic provider can construct it per call. */
export interface AppleClientConfig {
  /** App Store Connect issuer ID (UUID). */
  issuerId: string;
  /** API key ID (10 characters). */
  keyId: string;
  /** The `.p8` text (PKCS#8 PEM, EC P-256). Secret. */
  privateKey: string;
  /** Defaults to https://api.appstoreconnect.apple.com; point it at the sandbox in tests and the quickstart. */
  baseUrl?: string;
  /** Retry policy; the defaults suit Apple. */
  retry?: Partial<RetryPolicy>;
  /** Page size for list calls (Apple allows up to 200). */
  pageLimit?: number;
  /** Per-request timeout in milliseconds (default 60 s). */
  requestTimeoutMs?: number;
  /** A counter object to add calls to; share one across clients to count a whole run. */
  calls?: CallCounts;
  /** For tests only: the clock used for token lifetimes and back-off. */
  now?: () => number;
  /** For tests only: how to wait between attempts. */
  sleep?: (ms: number) => Promise<void>;
  /** For tests only: the fetch implementation. */
  fetch?: typeof fetch;
}

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** First back-off step; doubles on every attempt, with full jitter. */
  baseDelayMs: number;
  /** Cap on one computed back-off step. */
  maxDelayMs: number;
  /** Longest Retry-After the client will wait for; longer ones fail at once with the wait in the message. */
  maxRetryAfterMs: number;
}

/** Calls made, per endpoint (`"POST /v1/certificates"`, `"GET /v1/profiles/{id}"`), every attempt counted. */
export type CallCounts = Record<string, number>;

/** JSON:API resource object as Apple sends it. */
export interface ResourceObject<A = Record<string, unknown>> {
  type: string;
  id: string;
  attributes?: A;
  relationships?: Record<string, { data?: ResourceLinkage | ResourceLinkage[] | null; meta?: { paging?: Paging }; links?: Record<string, string> }>;
  links?: Record<string, string>;
}

export interface ResourceLinkage {
  type: string;
  id: string;
}

export interface Paging {
  total?: number;
  limit?: number;
}

export interface DocumentOne<A = Record<string, unknown>> {
  data: ResourceObject<A>;
  included?: ResourceObject[];
  links?: { self?: string };
}

export interface DocumentMany<A = Record<string, unknown>> {
  data: ResourceObject<A>[];
  included?: ResourceObject[];
  links?: { self?: string; next?: string };
  meta?: { paging?: Paging };
}

/** One entry of Apple's `{errors: [...]}` body. */
export interface AppleErrorEntry {
  id?: string;
  status?: string;
  code?: string;
  title?: string;
  detail?: string;
  source?: { pointer?: string; parameter?: string };
}
