/** Where sealed blobs live: the seam between the vault and its backends (S3, a folder). */

export interface StoredObject {
  body: Buffer;
  /** Opaque token for compare-and-swap writes (S3 ETag; the version id for folders). */
  etag: string;
  version: string;
  lastModified?: string;
}

export interface VersionInfo {
  version: string;
  lastModified: string;
  latest: boolean;
}

/** Every write is conditional: create-only, or replace-if-unchanged. There is no blind overwrite. */
export type WriteCondition = { ifNoneMatch: "*" } | { ifMatch: string };

export type VersioningState = "enabled" | "suspended" | "off" | "built-in";

export interface BlobBackend {
  /** Secret-free description, e.g. s3://bucket/prefix. */
  readonly location: string;
  read(key: string, version?: string): Promise<StoredObject | undefined>;
  /** The current object's version and ETag without its body (S3 HeadObject); undefined when absent. */
  stat(key: string): Promise<Omit<StoredObject, "body"> | undefined>;
  write(key: string, body: Buffer, cond: WriteCondition): Promise<{ etag: string; version: string }>;
  /** Conditional delete of the current object; earlier versions stay. Used for leases. */
  remove(key: string, etag: string): Promise<void>;
  list(prefix: string): Promise<string[]>;
  versions(key: string): Promise<VersionInfo[]>;
  versioning(): Promise<VersioningState>;
}
