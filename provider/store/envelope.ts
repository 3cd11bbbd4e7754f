/**
 * The sealed-blob format (version 1). Small, documented, and readable without this tool:
 *
 *   offset 0   4 bytes  magic "APSB"
 *   offset 4   1 byte   format version (1)
 *   offset 5   4 bytes  header length H, unsigned big-endian
 *   offset 9   H bytes  header: UTF-8 JSON (see SealedHeader)
 *   then       N bytes  AES-256-GCM ciphertext of the bundle (UTF-8 JSON)
 *   last      16 bytes  GCM tag
 *
 * The GCM associated data is bytes [0, 9+H): the whole header, including the encryption context,
 * the wrapped data key and the metadata, is authenticated. A fresh 256-bit data key per blob,
 * wrapped by AWS KMS (GenerateDataKey with the same encryption context) or by a key derived from a
 * passphrase with scrypt. A retired blob is a header alone (state "retired"), with no body.
 */
import * as crypto from "crypto";
import { StoreIntegrityError } from "../errors";

export const MAGIC = Buffer.from("APSB", "ascii");
export const FORMAT_VERSION = 1;
const PREFIX_LEN = 9;
const TAG_LEN = 16;

export type BlobState = "pending" | "active" | "retired";
export type MetaValue = string | number | boolean | null;
export type BlobMeta = Record<string, MetaValue>;

export type WrappedKey =
  | { type: "aws-kms"; keyId: string; edk: string }
  | {
      type: "passphrase";
      kdf: "scrypt";
      salt: string;
      N: number;
      r: number;
      p: number;
      /** AES-256-GCM of the data key under the derived key: iv, ciphertext, tag (base64). */
      iv: string;
      edk: string;
      tag: string;
      /** First 8 bytes of HMAC-SHA256(derived key, "appsigning passphrase check"): tells a wrong
       * passphrase apart from a modified blob. */
      check: string;
    };

export interface SealedHeader {
  v: 1;
  alg: "AES-256-GCM";
  /** Encryption context: binds the blob to its name, kind and scope (also the KMS context). */
  ctx: Record<string, string>;
  state: BlobState;
  meta: BlobMeta;
  sealedAt: string;
  iv?: string;
  key?: WrappedKey;
}

/** Wraps and unwraps data keys (AWS KMS, or a passphrase). */
export interface KeyWrapper {
  readonly description: string;
  newDataKey(ctx: Record<string, string>): Promise<{ plaintext: Buffer; wrapped: WrappedKey }>;
  unwrap(wrapped: WrappedKey, ctx: Record<string, string>, where: string): Promise<Buffer>;
}

/** A credential bundle: named parts, each text or bytes. */
export type Bundle = Record<string, string | Buffer>;

function encodeBundle(bundle: Bundle): Buffer {
  const parts: Record<string, { t: "b" | "s"; v: string }> = {};
  for (const [k, v] of Object.entries(bundle)) {
    parts[k] = Buffer.isBuffer(v) ? { t: "b", v: v.toString("base64") } : { t: "s", v };
  }
  return Buffer.from(JSON.stringify(parts), "utf8");
}

function decodeBundle(buf: Buffer): Bundle {
  const parts = JSON.parse(buf.toString("utf8")) as Record<string, { t: "b" | "s"; v: string }>;
  const out: Bundle = {};
  for (const [k, { t, v }] of Object.entries(parts)) out[k] = t === "b" ? Buffer.from(v, "base64") : v;
  return out;
}

function frame(header: SealedHeader): Buffer {
  const json = Buffer.from(JSON.stringify(header), "utf8");
  const prefix = Buffer.alloc(PREFIX_LEN);
  MAGIC.copy(prefix, 0);
  prefix.writeUInt8(FORMAT_VERSION, 4);
  prefix.writeUInt32BE(json.length, 5);
  return Buffer.concat([prefix, json]);
}

/** Reads the header without decrypting anything (no key access needed). */
export function readHeader(blob: Buffer, where: string): { header: SealedHeader; aad: Buffer; body: Buffer } {
  if (blob.length < PREFIX_LEN || !blob.subarray(0, 4).equals(MAGIC)) {
    throw new StoreIntegrityError(`${where} is not an appsigning sealed blob (bad magic bytes)`, {
      remedy: "The object was replaced by something else. Restore an earlier version (S3 versioning or the store's .versions folder).",
    });
  }
  const version = blob.readUInt8(4);
  if (version !== FORMAT_VERSION) {
    throw new StoreIntegrityError(`${where} uses sealed-blob format version ${version}; this release reads version ${FORMAT_VERSION}`, {
      remedy: "Upgrade pulumi-appsigning to a release that reads this format.",
    });
  }
  const len = blob.readUInt32BE(5);
  if (PREFIX_LEN + len > blob.length) {
    throw new StoreIntegrityError(`${where} is truncated (header runs past the end)`, {
      remedy: "Restore an earlier version of the object.",
    });
  }
  let header: SealedHeader;
  try {
    header = JSON.parse(blob.subarray(PREFIX_LEN, PREFIX_LEN + len).toString("utf8")) as SealedHeader;
  } catch {
    throw new StoreIntegrityError(`${where} has a corrupt header`, { remedy: "Restore an earlier version of the object." });
  }
  return { header, aad: blob.subarray(0, PREFIX_LEN + len), body: blob.subarray(PREFIX_LEN + len) };
}

export async function seal(
  bundle: Bundle,
  ctx: Record<string, string>,
  state: BlobState,
  meta: BlobMeta,
  keys: KeyWrapper,
): Promise<Buffer> {
  const { plaintext: dataKey, wrapped } = await keys.newDataKey(ctx);
  try {
    const iv = crypto.randomBytes(12);
    const header: SealedHeader = {
      v: 1,
      alg: "AES-256-GCM",
      ctx,
      state,
      meta,
      sealedAt: new Date().toISOString(),
      iv: iv.toString("base64"),
      key: wrapped,
    };
    const aad = frame(header);
    const cipher = crypto.createCipheriv("aes-256-gcm", dataKey, iv, { authTagLength: TAG_LEN });
    cipher.setAAD(aad);
    const body = Buffer.concat([cipher.update(encodeBundle(bundle)), cipher.final(), cipher.getAuthTag()]);
    return Buffer.concat([aad, body]);
  } finally {
    dataKey.fill(0);
  }
}

/** A retired name: a header alone, recording when and which version was last live. */
export function tombstone(ctx: Record<string, string>, meta: BlobMeta): Buffer {
  return frame({ v: 1, alg: "AES-256-GCM", ctx, state: "retired", meta, sealedAt: new Date().toISOString() });
}

/**
 * Opens a sealed blob. `expectedCtx` comes from where the caller found the blob (its name, kind,
 * scope); a blob sealed for another identity fails here even if its bytes are intact.
 */
export async function open(
  blob: Buffer,
  expectedCtx: Record<string, string>,
  keys: KeyWrapper,
  where: string,
): Promise<{ header: SealedHeader; bundle: Bundle }> {
  const { header, aad, body } = readHeader(blob, where);
  const mismatch = Object.keys({ ...expectedCtx, ...header.ctx }).filter((k) => expectedCtx[k] !== header.ctx?.[k]);
  if (mismatch.length > 0) {
    const sealedFor = header.ctx?.["appsigning:name"] ?? "(unknown)";
    throw new StoreIntegrityError(
      `${where} was sealed for another identity (${mismatch.join(", ")} differ; it was sealed as "${sealedFor}")`,
      { remedy: "A blob cannot be moved or copied to another name. Put the credential under its new name through appsigning instead." },
    );
  }
  if (header.state === "retired" || !header.key || !header.iv) {
    throw new StoreIntegrityError(`${where} is a retired name with no sealed content`, {
      remedy: "Read an earlier version by its version id (appsigning list shows them).",
    });
  }
  if (body.length < TAG_LEN) {
    throw new StoreIntegrityError(`${where} is truncated (no authentication tag)`, { remedy: "Restore an earlier version of the object." });
  }
  const dataKey = await keys.unwrap(header.key, header.ctx, where);
  try {
    const decipher = crypto.createDecipheriv("aes-256-gcm", dataKey, Buffer.from(header.iv, "base64"), {
      authTagLength: TAG_LEN,
    });
    decipher.setAAD(aad);
    decipher.setAuthTag(body.subarray(body.length - TAG_LEN));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(body.subarray(0, body.length - TAG_LEN)), decipher.final()]);
    } catch {
      throw new StoreIntegrityError(`${where} failed authentication: its ciphertext or header was modified`, {
        remedy: "Do not use this object. Restore an earlier version (S3 versioning or the store's .versions folder) and find out who could write to the store.",
      });
    }
    return { header, bundle: decodeBundle(plain) };
  } finally {
    dataKey.fill(0);
  }
}
