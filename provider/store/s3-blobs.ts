/**
 * S3 as a blob store. Writes are conditional (If-None-Match: * to create, If-Match: <ETag> to
 * replace), so two writers never silently overwrite each other; S3 answers 412 or 409 to the loser
 * (Amazon S3 user guide, "Conditional writes"). Earlier versions are kept by bucket versioning;
 * where it is off, the current object is copied under .archive/ before it is replaced.
 */
import type { S3Client } from "@aws-sdk/client-s3";
import { BlobNotFound, StoreAccessDenied, StoreNotFound, WriteConflict } from "../errors";
import { makeS3Client } from "./aws-clients";
import type { BlobBackend, StoredObject, VersionInfo, VersioningState, WriteCondition } from "./blobs";
import type { BlobLocation } from "./urls";

type S3Location = Extract<BlobLocation, { kind: "s3" }>;
type S3 = typeof import("@aws-sdk/client-s3");
const ARCHIVE = ".archive";

function s3(): S3 {
  return require("@aws-sdk/client-s3") as S3;
}

function errName(err: unknown): string {
  return (err as { name?: string; Code?: string }).name ?? (err as { Code?: string }).Code ?? "";
}
function errStatus(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

/** S3's answers for credentials it does not accept (as opposed to a valid identity lacking a permission). */
const CREDENTIAL_ERRORS = new Set(["InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken", "TokenRefreshRequired"]);

export class S3Blobs implements BlobBackend {
  readonly location: string;
  private client: S3Client;
  private versioningState?: Promise<VersioningState>;

  constructor(private readonly loc: S3Location) {
    this.location = `s3://${loc.bucket}${loc.prefix ? "/" + loc.prefix : ""}`;
    this.client = makeS3Client(loc);
  }

  private full(key: string): string {
    return this.loc.prefix ? `${this.loc.prefix}/${key}` : key;
  }

  private translate(err: unknown, what: string): never {
    const name = errName(err);
    const status = errStatus(err);
    if (name === "NoSuchBucket") {
      throw new StoreNotFound(`Bucket ${this.loc.bucket} does not exist (${what})`, {
        field: "store.url",
        remedy: "Create the bucket (with versioning on) or fix the bucket name and region in store.url.",
        cause: err,
      });
    }
    if (CREDENTIAL_ERRORS.has(name)) {
      throw new StoreAccessDenied(`AWS did not accept the credentials in use (${name}) while ${what} in ${this.location}`, {
        field: "store.url",
        remedy:
          "Check which identity the AWS SDK picks up here (AWS_PROFILE, AWS_ACCESS_KEY_ID, the instance or CI role): the key may be deleted, inactive, expired, or from another account or endpoint.",
        cause: err,
      });
    }
    if (name === "AccessDenied" || status === 403) {
      throw new StoreAccessDenied(`Access denied by S3 while ${what} in ${this.location}`, {
        field: "store.url",
        remedy: "Grant the current AWS identity s3:GetObject, s3:PutObject, s3:ListBucket and s3:ListBucketVersions on the bucket and prefix.",
        cause: err,
      });
    }
    if (name === "PreconditionFailed" || status === 412 || name === "ConditionalRequestConflict" || status === 409) {
      throw new WriteConflict(`Another writer changed ${what.replace(/^writing /, "")} in ${this.location} first`, {
        remedy: "Run again: the next run reads the winner's version.",
        cause: err,
      });
    }
    throw err;
  }

  async read(key: string, version?: string): Promise<StoredObject | undefined> {
    const { GetObjectCommand } = s3();
    if (version?.startsWith("archive:")) return this.readArchived(key, version);
    try {
      const out = await this.client.send(
        new GetObjectCommand({ Bucket: this.loc.bucket, Key: this.full(key), ...(version ? { VersionId: version } : {}) }),
      );
      const body = Buffer.from(await out.Body!.transformToByteArray());
      return { body, etag: out.ETag!, version: out.VersionId ?? "null", lastModified: out.LastModified?.toISOString() };
    } catch (err) {
      const name = errName(err);
      if (name === "NoSuchKey" || (errStatus(err) === 404 && name !== "NoSuchBucket" && !version)) return undefined;
      if (name === "NoSuchVersion" || (version && errStatus(err) === 404 && name !== "NoSuchBucket")) {
        throw new BlobNotFound(`${key} has no version ${version} in ${this.location}`, { cause: err });
      }
      if (version && name === "InvalidArgument") throw new BlobNotFound(`${key} has no version ${version} in ${this.location}`);
      this.translate(err, `reading ${key}`);
    }
  }

  async stat(key: string): Promise<Omit<StoredObject, "body"> | undefined> {
    const { HeadObjectCommand } = s3();
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.loc.bucket, Key: this.full(key) }));
      return { etag: out.ETag!, version: out.VersionId ?? "null", lastModified: out.LastModified?.toISOString() };
    } catch (err) {
      // HEAD answers carry no body, so S3's "NoSuchKey" arrives as a bare 404 ("NotFound").
      const name = errName(err);
      if (name === "NoSuchKey" || name === "NotFound" || (errStatus(err) === 404 && name !== "NoSuchBucket")) return undefined;
      this.translate(err, `reading ${key}`);
    }
  }

  private async readArchived(key: string, version: string): Promise<StoredObject> {
    const archived = await this.read(`${ARCHIVE}/${key}/${version.slice("archive:".length)}`);
    if (!archived) throw new BlobNotFound(`${key} has no version ${version} in ${this.location}`);
    return { ...archived, version };
  }

  async write(key: string, body: Buffer, cond: WriteCondition): Promise<{ etag: string; version: string }> {
    const { PutObjectCommand, CopyObjectCommand } = s3();
    try {
      if ("ifMatch" in cond && (await this.versioning()) !== "enabled") {
        // No bucket versioning: keep the object being replaced under .archive/ first.
        const stamp = new Date().toISOString().replace(/[:.]/g, "-");
        await this.client.send(
          new CopyObjectCommand({
            Bucket: this.loc.bucket,
            Key: this.full(`${ARCHIVE}/${key}/${stamp}`),
            CopySource: `${this.loc.bucket}/${encodeURIComponent(this.full(key)).replace(/%2F/g, "/")}`,
            CopySourceIfMatch: cond.ifMatch,
          }),
        );
      }
      const out = await this.client.send(
        new PutObjectCommand({
          Bucket: this.loc.bucket,
          Key: this.full(key),
          Body: body,
          ContentType: "application/octet-stream",
          ...("ifNoneMatch" in cond ? { IfNoneMatch: "*" } : { IfMatch: cond.ifMatch }),
        }),
      );
      return { etag: out.ETag!, version: out.VersionId ?? "null" };
    } catch (err) {
      // If-Match on a key someone deleted answers NoSuchKey: that is a lost race too.
      if (errName(err) === "NoSuchKey") {
        throw new WriteConflict(`${key} in ${this.location} was removed by another writer`, {
          remedy: "Run again.",
          cause: err,
        });
      }
      this.translate(err, `writing ${key}`);
    }
  }

  async remove(key: string, etag: string): Promise<void> {
    const { DeleteObjectCommand } = s3();
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.loc.bucket, Key: this.full(key), IfMatch: etag }));
    } catch (err) {
      if (errName(err) === "NoSuchKey") return;
      this.translate(err, `removing ${key}`);
    }
  }

  async list(prefix: string): Promise<string[]> {
    const { ListObjectsV2Command } = s3();
    const keys: string[] = [];
    const base = this.loc.prefix ? `${this.loc.prefix}/` : "";
    let token: string | undefined;
    try {
      do {
        const out = await this.client.send(
          new ListObjectsV2Command({ Bucket: this.loc.bucket, Prefix: base + prefix, ContinuationToken: token }),
        );
        for (const o of out.Contents ?? []) {
          const rel = o.Key!.slice(base.length);
          if (!rel.startsWith(`${ARCHIVE}/`)) keys.push(rel);
        }
        token = out.IsTruncated ? out.NextContinuationToken : undefined;
      } while (token);
    } catch (err) {
      this.translate(err, "listing");
    }
    return keys.sort();
  }

  async versions(key: string): Promise<VersionInfo[]> {
    const { ListObjectVersionsCommand } = s3();
    const full = this.full(key);
    const out: VersionInfo[] = [];
    try {
      let keyMarker: string | undefined;
      let versionMarker: string | undefined;
      do {
        const page = await this.client.send(
          new ListObjectVersionsCommand({ Bucket: this.loc.bucket, Prefix: full, KeyMarker: keyMarker, VersionIdMarker: versionMarker }),
        );
        for (const v of page.Versions ?? []) {
          if (v.Key !== full) continue;
          out.push({ version: v.VersionId ?? "null", lastModified: v.LastModified!.toISOString(), latest: Boolean(v.IsLatest) });
        }
        keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
        versionMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
      } while (keyMarker);
    } catch (err) {
      this.translate(err, `listing versions of ${key}`);
    }
    if ((await this.versioning()) !== "enabled") {
      const { ListObjectsV2Command } = s3();
      const base = this.full(`${ARCHIVE}/${key}/`);
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.loc.bucket, Prefix: base }));
      for (const o of page.Contents ?? []) {
        out.push({ version: `archive:${o.Key!.slice(base.length)}`, lastModified: o.LastModified!.toISOString(), latest: false });
      }
    }
    return out.sort((a, b) => (a.latest === b.latest ? b.lastModified.localeCompare(a.lastModified) : a.latest ? -1 : 1));
  }

  versioning(): Promise<VersioningState> {
    if (!this.versioningState) {
      const { GetBucketVersioningCommand } = s3();
      this.versioningState = this.client
        .send(new GetBucketVersioningCommand({ Bucket: this.loc.bucket }))
        .then((out) => (out.Status === "Enabled" ? "enabled" : out.Status === "Suspended" ? "suspended" : "off"))
        .catch((err) => {
          this.versioningState = undefined;
          this.translate(err, "reading bucket versioning");
        });
    }
    return this.versioningState;
  }
}
