/**
 * Store and key URLs, in the forms Pulumi itself uses for state backends and secrets providers:
 *   blobs: s3://bucket/prefix?region=eu-west-1&endpoint=http://127.0.0.1:5000   or   file:///abs/dir, file://rel/dir, file://~/dir
 *   keys:  awskms://<key-id> | awskms://alias/<name> | awskms:///arn:aws:kms:...  (?region=&endpoint=)   or   passphrase
 */
import * as os from "os";
import * as path from "path";
import { InvalidStoreUrl } from "../errors";

export type BlobLocation =
  | { kind: "s3"; bucket: string; prefix: string; region?: string; endpoint?: string }
  | { kind: "file"; dir: string };

export type KeyLocation =
  | { kind: "awskms"; keyId: string; region?: string; endpoint?: string }
  | { kind: "passphrase" };

/** What users write in their programs: `{ url, kms }`. */
export interface StoreConfig {
  url: string;
  kms: string;
}

function splitQuery(rest: string): [string, URLSearchParams] {
  const q = rest.indexOf("?");
  if (q < 0) return [rest, new URLSearchParams()];
  return [rest.slice(0, q), new URLSearchParams(rest.slice(q + 1))];
}

function checkParams(params: URLSearchParams, allowed: string[], url: string, field: string): void {
  for (const key of params.keys()) {
    if (!allowed.includes(key)) {
      throw new InvalidStoreUrl(`${field} "${url}" has an unknown parameter "${key}"`, {
        field,
        remedy: `Use only ${allowed.map((a) => `"${a}"`).join(", ")}.`,
      });
    }
  }
}

export function parseBlobUrl(url: string, field = "store.url"): BlobLocation {
  if (typeof url !== "string" || url.length === 0) {
    throw new InvalidStoreUrl(`${field} is empty`, {
      field,
      remedy: 'Give "s3://bucket/prefix?region=..." or "file://path".',
    });
  }
  if (url.startsWith("s3://")) {
    const [main, params] = splitQuery(url.slice("s3://".length));
    checkParams(params, ["region", "endpoint"], url, field);
    const slash = main.indexOf("/");
    const bucket = slash < 0 ? main : main.slice(0, slash);
    const prefix = (slash < 0 ? "" : main.slice(slash + 1)).replace(/^\/+|\/+$/g, "");
    // S3 bucket naming rules: 3-63 characters, lower-case letters, digits, dots and hyphens.
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
      throw new InvalidStoreUrl(`${field} "${url}" does not name a valid S3 bucket ("${bucket}")`, {
        field,
        remedy: "Bucket names are 3-63 lower-case letters, digits, dots and hyphens: s3://my-bucket/prefix.",
      });
    }
    const endpoint = params.get("endpoint") ?? undefined;
    if (endpoint !== undefined && !/^https?:\/\/[^/]+/.test(endpoint)) {
      throw new InvalidStoreUrl(`${field} "${url}" has an endpoint that is not an http(s) URL`, {
        field,
        remedy: "Write endpoint=http://host:port (URL-encoded if it has a path).",
      });
    }
    return { kind: "s3", bucket, prefix, region: params.get("region") ?? undefined, endpoint };
  }
  if (url.startsWith("file://")) {
    const [main, params] = splitQuery(url.slice("file://".length));
    checkParams(params, [], url, field);
    if (main.length === 0) {
      throw new InvalidStoreUrl(`${field} "${url}" has no path`, {
        field,
        remedy: "Write file:///absolute/dir or file://relative/dir.",
      });
    }
    let dir = decodeURIComponent(main);
    if (dir === "~" || dir.startsWith("~/")) dir = path.join(os.homedir(), dir.slice(1));
    return { kind: "file", dir: path.resolve(dir) };
  }
  throw new InvalidStoreUrl(`${field} "${url}" is neither an s3:// nor a file:// URL`, {
    field,
    remedy: 'Give "s3://bucket/prefix?region=..." (production) or "file://path" (one machine).',
  });
}

export function parseKeyUrl(url: string, field = "store.kms"): KeyLocation {
  if (url === "passphrase" || url === "passphrase://") return { kind: "passphrase" };
  if (typeof url === "string" && url.startsWith("awskms://")) {
    const [main, params] = splitQuery(url.slice("awskms://".length));
    checkParams(params, ["region", "endpoint"], url, field);
    const keyId = decodeURIComponent(main.replace(/^\/+/, ""));
    // KMS accepts a key ID (UUID or mrk-...), an alias name "alias/..." or a key/alias ARN.
    const ok =
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(keyId) ||
      /^mrk-[0-9a-f]{32}$/i.test(keyId) ||
      /^alias\/[a-zA-Z0-9/_-]{1,250}$/.test(keyId) ||
      /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)\/.+$/.test(keyId);
    if (!ok) {
      throw new InvalidStoreUrl(`${field} "${url}" does not name a KMS key`, {
        field,
        remedy: "Write awskms://<key-id>, awskms://alias/<name> or awskms:///arn:aws:kms:<region>:<account>:key/<id>.",
      });
    }
    let region = params.get("region") ?? undefined;
    if (!region && keyId.startsWith("arn:")) region = keyId.split(":")[3];
    return { kind: "awskms", keyId, region, endpoint: params.get("endpoint") ?? undefined };
  }
  throw new InvalidStoreUrl(`${field} "${url}" is neither awskms://... nor "passphrase"`, {
    field,
    remedy: 'Give "awskms://alias/<name>?region=..." (production) or "passphrase" (reads APPSIGNING_PASSPHRASE).',
  });
}

/** A short, secret-free description of where blobs live, for messages and outputs. */
export function describeBlobLocation(loc: BlobLocation): string {
  return loc.kind === "s3" ? `s3://${loc.bucket}${loc.prefix ? "/" + loc.prefix : ""}` : `file://${loc.dir}`;
}
