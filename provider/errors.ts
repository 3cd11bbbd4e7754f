/**
 * One error class per kind of failure. Every message names the credential (or store), says what is
 * wrong and what to do about it. No message may contain secret bytes: callers pass identifiers,
 * fingerprints and counts, never key material or passwords.
 */

export interface ErrorDetails {
  /** What the user can do about it, in one or two sentences. */
  remedy?: string;
  /** The input field at fault, for check-time failures (`failures[].property` in Pulumi). */
  field?: string;
  cause?: unknown;
}

export abstract class AppsigningError extends Error {
  readonly remedy?: string;
  readonly field?: string;
  abstract readonly kind: string;

  constructor(message: string, details: ErrorDetails = {}) {
    super(details.remedy ? `${message}\n  -> ${details.remedy}` : message, { cause: details.cause });
    this.name = new.target.name;
    this.remedy = details.remedy;
    this.field = details.field;
  }
}

/** An input (file, password, identifier) is malformed or does not match what the platform requires. */
export class InvalidCredentialInput extends AppsigningError {
  readonly kind = "invalid-input";
}

/** A platform limit (certificates or push keys per team) would be exceeded. */
export class LimitReached extends AppsigningError {
  readonly kind = "limit-reached";
}

/** A change that would break production (push key, app-signing key) was not explicitly allowed. */
export class GuardedChange extends AppsigningError {
  readonly kind = "guarded-change";
}

/** A stored blob failed authentication: tampered, truncated, or sealed for another identity. */
export class StoreIntegrityError extends AppsigningError {
  readonly kind = "store-integrity";
}

/** The passphrase given does not open blobs of this store. */
export class WrongPassphrase extends AppsigningError {
  readonly kind = "wrong-passphrase";
}

/** The KMS key does not exist, is disabled, or is pending deletion. */
export class KeyUnavailable extends AppsigningError {
  readonly kind = "key-unavailable";
}

/** The store's backend refused access (IAM, bucket policy, file permissions). */
export class StoreAccessDenied extends AppsigningError {
  readonly kind = "access-denied";
}

/** The bucket or folder behind a store URL does not exist. */
export class StoreNotFound extends AppsigningError {
  readonly kind = "store-not-found";
}

/** No blob under that name (or that version). */
export class BlobNotFound extends AppsigningError {
  readonly kind = "blob-not-found";
}

/** Another writer changed or created the blob (or holds the lease) first. */
export class WriteConflict extends AppsigningError {
  readonly kind = "write-conflict";
}

/** A store or key URL cannot be understood. */
export class InvalidStoreUrl extends AppsigningError {
  readonly kind = "invalid-store-url";
}

/** App Store Connect answered with an error (status, code, title and detail are kept). */
export class AppleApiError extends AppsigningError {
  readonly kind = "apple-api";
  constructor(
    message: string,
    readonly status: number,
    readonly code: string | undefined,
    readonly title: string | undefined,
    readonly detail: string | undefined,
    details: ErrorDetails = {},
  ) {
    super(message, details);
  }
}

/**
 * Apple refused a new certificate because the team is at its limit for that type (Apple's 409 "You already have a
 * current ... certificate or a pending certificate request"). Keeps Apple's error as `apple`.
 */
export class AppleCertificateLimitReached extends LimitReached {
  constructor(
    message: string,
    readonly certificateType: string,
    readonly apple: AppleApiError,
    details: ErrorDetails = {},
  ) {
    super(message, { cause: apple, ...details });
  }
}
