/**
 * The vault: named credential bundles, sealed (envelope encryption) and kept in a blob backend.
 * Every resource keeps its secret material here; Pulumi state holds only names, versions and
 * fingerprints. Two seams, each chosen by configuration: where blobs live (S3, a folder) and how
 * they are sealed (AWS KMS, a passphrase).
 */
import * as crypto from "crypto";
import { BlobNotFound, InvalidCredentialInput, WriteConflict } from "../errors";
import type { BlobBackend, VersionInfo } from "./blobs";
import { open as openSealed, readHeader, seal, tombstone } from "./envelope";
import type { BlobMeta, BlobState, Bundle, KeyWrapper, SealedHeader } from "./envelope";
import { FileBlobs } from "./file-blobs";
import { KmsKeys } from "./kms-keys";
import { PassphraseKeys } from "./passphrase-keys";
import { S3Blobs } from "./s3-blobs";
import { describeBlobLocation, parseBlobUrl, parseKeyUrl } from "./urls";
import type { StoreConfig } from "./urls";

/** Who a blob belongs to. All three are bound into the encryption context. */
export interface BlobIdentity {
  /** Store-wide unique name, e.g. "ios/ABCDE12345/certificates/dist". */
  name: string;
  /** Credential kind, e.g. "ios-distribution-certificate", "android-keystore". */
  kind: string;
  /** Team or app the credential belongs to, e.g. an Apple team ID or an Android package. */
  scope: string;
}

export interface BlobRef {
  name: string;
  version: string;
  etag: string;
  location: string;
}

export interface BlobListing {
  name: string;
  kind: string;
  scope: string;
  state: BlobState;
  meta: BlobMeta;
  sealedAt: string;
  version: string;
  etag: string;
}

export interface Lease {
  name: string;
  owner: string;
  release(): Promise<void>;
}

export interface VaultOptions {
  /** Where warnings go (default: console.warn, which Pulumi shows as provider output). */
  warn?: (message: string) => void;
}

const CREDENTIALS = "credentials";
const LEASES = ".leases";
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/;

/**
 * AWS backends per location, for the life of the process (a provider process lives for one
 * deployment): resources open the vault once per operation, and a fresh backend each time meant a
 * new SDK client (no connection reuse) and a GetBucketVersioning call per resource.
 */
const awsBackends = new Map<string, S3Blobs | KmsKeys>();

function shared<T extends S3Blobs | KmsKeys>(location: object, make: () => T): T {
  // The SDK's clients resolve credentials once; a process that switches identity through the
  // environment (a test, a script acting for several roles) gets clients for the new one.
  const identity = ["AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"].map((k) => process.env[k] ?? "");
  const key = JSON.stringify([location, identity]);
  let backend = awsBackends.get(key) as T | undefined;
  if (!backend) {
    backend = make();
    awsBackends.set(key, backend);
  }
  return backend;
}

export function contextOf(id: BlobIdentity): Record<string, string> {
  return { "appsigning:name": id.name, "appsigning:kind": id.kind, "appsigning:scope": id.scope };
}

function checkName(name: string): void {
  if (!NAME_RE.test(name) || name.length > 400) {
    throw new InvalidCredentialInput(`"${name}" is not a valid credential name`, {
      remedy: "Use letters, digits, dots, dashes and underscores, in segments separated by '/'.",
    });
  }
}

export class Vault {
  readonly location: string;
  private versioningChecked = false;

  constructor(
    private readonly blobs: BlobBackend,
    private readonly keys: KeyWrapper,
    private readonly options: VaultOptions = {},
  ) {
    this.location = blobs.location;
  }

  /** Opens the store a user names in a program: `{ url: "s3://..."|"file://...", kms: "awskms://..."|"passphrase" }`. */
  static open(config: StoreConfig, options: VaultOptions = {}): Vault {
    const blobLoc = parseBlobUrl(config?.url);
    const keyLoc = parseKeyUrl(config?.kms);
    const blobs = blobLoc.kind === "s3" ? shared(blobLoc, () => new S3Blobs(blobLoc)) : new FileBlobs(blobLoc.dir);
    const keys = keyLoc.kind === "awskms" ? shared(keyLoc, () => new KmsKeys(keyLoc)) : new PassphraseKeys();
    return new Vault(blobs, keys, options);
  }

  /** Checks a store config without any I/O (for `check`). */
  static validate(config: StoreConfig): string {
    return describeBlobLocation(parseBlobUrl(config?.url));
  }

  private key(name: string): string {
    checkName(name);
    return `${CREDENTIALS}/${name}.asb`;
  }

  private where(name: string, version?: string): string {
    return `"${name}"${version ? ` (version ${version})` : ""} in ${this.location}`;
  }

  private async warnIfUnversioned(): Promise<void> {
    if (this.versioningChecked) return;
    this.versioningChecked = true;
    const state = await this.blobs.versioning();
    if (state === "off" || state === "suspended") {
      (this.options.warn ?? console.warn)(
        `warning: versioning is ${state} on ${this.location}: replaced and retired credentials are kept only as copies under .archive/. ` +
          `Turn on bucket versioning (aws s3api put-bucket-versioning --versioning-configuration Status=Enabled) so no write can lose a key.`,
      );
    }
  }

  /**
   * Seals and writes a bundle. `expect: "absent"` creates only; `{ etag }` replaces only the
   * version the caller read. There is no unconditional overwrite.
   */
  async put(
    id: BlobIdentity,
    bundle: Bundle,
    opts: { expect: "absent" | { etag: string }; state?: BlobState; meta?: BlobMeta },
  ): Promise<BlobRef> {
    const key = this.key(id.name);
    await this.warnIfUnversioned();
    const body = await seal(bundle, contextOf(id), opts.state ?? "active", opts.meta ?? {}, this.keys);
    const out = await this.blobs.write(key, body, opts.expect === "absent" ? { ifNoneMatch: "*" } : { ifMatch: opts.expect.etag });
    return { name: id.name, version: out.version, etag: out.etag, location: this.location };
  }

  /**
   * Seals and writes a bundle under a name expected to be new, in one write when it is: create-only
   * first; only when the name is taken is its current header read and shown to `mayReplace`, which
   * throws to refuse (e.g. another owner's credential) or returns to replace exactly that version
   * (e.g. this resource's own earlier one). The same outcome as `head` then `put`, one read fewer.
   */
  async create(
    id: BlobIdentity,
    bundle: Bundle,
    opts: { state?: BlobState; meta?: BlobMeta; mayReplace: (current: BlobListing) => void },
  ): Promise<BlobRef> {
    const key = this.key(id.name);
    await this.warnIfUnversioned();
    // The sealed body is bound to the name, kind and scope, not to a version: one sealing serves both writes.
    const body = await seal(bundle, contextOf(id), opts.state ?? "active", opts.meta ?? {}, this.keys);
    let out: { etag: string; version: string };
    try {
      out = await this.blobs.write(key, body, { ifNoneMatch: "*" });
    } catch (err) {
      if (!(err instanceof WriteConflict)) throw err;
      const current = await this.head(id.name);
      if (!current) throw err;
      opts.mayReplace(current);
      out = await this.blobs.write(key, body, { ifMatch: current.etag });
    }
    return { name: id.name, version: out.version, etag: out.etag, location: this.location };
  }

  /** Opens a blob (the current version, or a given one). */
  async get(id: BlobIdentity, opts: { version?: string } = {}): Promise<{ bundle: Bundle; header: SealedHeader; version: string; etag: string }> {
    const key = this.key(id.name);
    const obj = await this.blobs.read(key, opts.version);
    if (!obj) {
      throw new BlobNotFound(`No credential named ${this.where(id.name)}`, {
        remedy: "Check the name with `appsigning list`; a retired credential is read by version.",
      });
    }
    const { header, bundle } = await openSealed(obj.body, contextOf(id), this.keys, this.where(id.name, opts.version));
    return { bundle, header, version: obj.version, etag: obj.etag };
  }

  /** The header of a blob: state and metadata, without any key access. Undefined when absent. */
  async head(name: string, opts: { version?: string } = {}): Promise<(BlobListing & { lastModified?: string }) | undefined> {
    const obj = await this.blobs.read(this.key(name), opts.version);
    if (!obj) return undefined;
    const { header } = readHeader(obj.body, this.where(name, opts.version));
    return {
      name,
      kind: header.ctx["appsigning:kind"],
      scope: header.ctx["appsigning:scope"],
      state: header.state,
      meta: header.meta,
      sealedAt: header.sealedAt,
      version: obj.version,
      etag: obj.etag,
      lastModified: obj.lastModified,
    };
  }

  /**
   * Whether the current version of a blob is still `knownVersion`, from its metadata alone (S3
   * HeadObject, a folder's link): "same", or the blob's header (undefined when the blob is gone)
   * when it may have changed. Version ids are immutable, so the same id means the same bytes; an S3
   * bucket without versioning gives every object the id "null", which proves nothing, so the blob
   * is read then.
   */
  async headIfChanged(name: string, knownVersion: string): Promise<"same" | (BlobListing & { lastModified?: string }) | undefined> {
    if (knownVersion && knownVersion !== "null") {
      const st = await this.blobs.stat(this.key(name));
      if (!st) return undefined;
      if (st.version === knownVersion) return "same";
    }
    return this.head(name);
  }

  /** Every credential in the store (current versions), by name. */
  async list(prefix = ""): Promise<BlobListing[]> {
    const names = await this.names(prefix);
    const heads = await Promise.all(names.map((n) => this.head(n)));
    return heads.filter((h): h is BlobListing => h !== undefined);
  }

  /** The names under a prefix (retired ones included), from the listing alone: no blob is read. */
  async names(prefix = ""): Promise<string[]> {
    const keys = await this.blobs.list(`${CREDENTIALS}/${prefix}`);
    return keys.filter((k) => k.endsWith(".asb")).map((k) => k.slice(CREDENTIALS.length + 1, -4));
  }

  async versions(name: string): Promise<VersionInfo[]> {
    return this.blobs.versions(this.key(name));
  }

  /**
   * Retires a name: its current object becomes a tombstone; every earlier version stays readable
   * by version id. Nothing is ever destroyed.
   */
  async retire(id: BlobIdentity, meta: BlobMeta = {}): Promise<BlobRef | undefined> {
    const key = this.key(id.name);
    const cur = await this.blobs.read(key);
    if (!cur) return undefined;
    const { header } = readHeader(cur.body, this.where(id.name));
    if (header.state === "retired") return { name: id.name, version: cur.version, etag: cur.etag, location: this.location };
    await this.warnIfUnversioned();
    const out = await this.blobs.write(key, tombstone(contextOf(id), { ...meta, lastLiveVersion: cur.version }), { ifMatch: cur.etag });
    return { name: id.name, version: out.version, etag: out.etag, location: this.location };
  }

  /**
   * A lease: a lock object written create-only, with an expiry so a crashed holder does not block
   * forever. Used to serialise operations that consume scarce slots (Apple certificates).
   */
  async acquireLease(name: string, opts: { ttlMs?: number; waitMs?: number; owner?: string } = {}): Promise<Lease> {
    checkName(name);
    const key = `${LEASES}/${name}`;
    const ttl = opts.ttlMs ?? 120_000;
    const owner = opts.owner ?? `${process.pid}@${require("os").hostname()}/${crypto.randomBytes(4).toString("hex")}`;
    const deadline = Date.now() + (opts.waitMs ?? 60_000);
    const body = () => Buffer.from(JSON.stringify({ owner, acquiredAt: new Date().toISOString(), expiresAt: new Date(Date.now() + ttl).toISOString() }));
    for (let attempt = 0; ; attempt++) {
      let etag: string | undefined;
      try {
        etag = (await this.blobs.write(key, body(), { ifNoneMatch: "*" })).etag;
      } catch (err) {
        if (!(err instanceof WriteConflict)) throw err;
        const held = await this.blobs.read(key);
        if (held) {
          const info = JSON.parse(held.body.toString("utf8")) as { owner: string; expiresAt: string };
          if (Date.parse(info.expiresAt) < Date.now()) {
            // The holder's lease expired (it crashed or hung): take it over, compare-and-swap.
            etag = await this.blobs.write(key, body(), { ifMatch: held.etag }).then((o) => o.etag, (e) => {
              if (e instanceof WriteConflict) return undefined;
              throw e;
            });
          } else if (Date.now() > deadline) {
            throw new WriteConflict(`The lease "${name}" in ${this.location} is held by ${info.owner} until ${info.expiresAt}`, {
              remedy: "Another deployment is creating credentials for the same team. Wait for it to finish and run again.",
            });
          }
        }
      }
      if (etag) {
        const blobs = this.blobs;
        return { name, owner, release: () => blobs.remove(key, etag!) };
      }
      await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** Math.min(attempt, 4)) * (0.5 + Math.random())));
    }
  }

  async withLease<T>(name: string, opts: { ttlMs?: number; waitMs?: number }, fn: () => Promise<T>): Promise<T> {
    const lease = await this.acquireLease(name, opts);
    try {
      return await fn();
    } finally {
      await lease.release();
    }
  }
}
