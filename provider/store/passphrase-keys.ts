/**
 * Local mode: data keys wrapped by a key derived from a passphrase with scrypt (salted). The
 * passphrase is read from APPSIGNING_PASSPHRASE at the moment it is needed, never captured or stored.
 */
import * as crypto from "crypto";
import { InvalidCredentialInput, StoreIntegrityError, WrongPassphrase } from "../errors";
import type { KeyWrapper, WrappedKey } from "./envelope";

// scrypt cost: N=2^15, r=8, p=1 (the parameters RFC 7914 suggests for interactive use), ~32 MiB.
const N = 1 << 15;
const R = 8;
const P = 1;
const CHECK_LABEL = "appsigning passphrase check";

// Derived keys, per (passphrase digest, salt), for this process only: scrypt is slow on purpose.
const derived = new Map<string, Buffer>();

function derive(passphrase: string, salt: Buffer, n: number, r: number, p: number): Buffer {
  const id = crypto.createHash("sha256").update(passphrase).update(salt).update(`${n}/${r}/${p}`).digest("hex");
  let key = derived.get(id);
  if (!key) {
    key = crypto.scryptSync(passphrase, salt, 32, { N: n, r, p, maxmem: 256 * n * r });
    derived.set(id, key);
  }
  return key;
}

const PROCESS_SALT = crypto.randomBytes(16);

function check(kek: Buffer): string {
  return crypto.createHmac("sha256", kek).update(CHECK_LABEL).digest().subarray(0, 8).toString("base64");
}

export function readPassphrase(): string {
  const value = process.env.APPSIGNING_PASSPHRASE;
  if (!value) {
    throw new InvalidCredentialInput("The store uses passphrase keys but APPSIGNING_PASSPHRASE is not set", {
      field: "store.kms",
      remedy: "Export APPSIGNING_PASSPHRASE before running pulumi or appsigning, or use an awskms:// key.",
    });
  }
  if (value.length < 12) {
    throw new InvalidCredentialInput("APPSIGNING_PASSPHRASE is shorter than 12 characters", {
      field: "store.kms",
      remedy: "Choose a longer passphrase; it is the only thing protecting the keys in a file:// store.",
    });
  }
  return value;
}

export class PassphraseKeys implements KeyWrapper {
  readonly description = "passphrase (scrypt)";
  // One salt per process for new blobs: each blob still gets its own random data key and IVs. (Per
  // process, not per instance: a vault is opened per resource operation, and a new salt meant a new
  // scrypt derivation, ~32 MiB and tens of ms of blocked event loop, for every resource.)
  private salt = PROCESS_SALT;

  async newDataKey(): Promise<{ plaintext: Buffer; wrapped: WrappedKey }> {
    const kek = derive(readPassphrase(), this.salt, N, R, P);
    const dataKey = crypto.randomBytes(32);
    const iv = crypto.randomBytes(12);
    const c = crypto.createCipheriv("aes-256-gcm", kek, iv);
    const edk = Buffer.concat([c.update(dataKey), c.final()]);
    return {
      plaintext: dataKey,
      wrapped: {
        type: "passphrase",
        kdf: "scrypt",
        salt: this.salt.toString("base64"),
        N,
        r: R,
        p: P,
        iv: iv.toString("base64"),
        edk: edk.toString("base64"),
        tag: c.getAuthTag().toString("base64"),
        check: check(kek),
      },
    };
  }

  async unwrap(wrapped: WrappedKey, _ctx: Record<string, string>, where: string): Promise<Buffer> {
    if (wrapped.type !== "passphrase") {
      throw new StoreIntegrityError(`${where} was sealed with an AWS KMS key, but this store is configured with "passphrase"`, {
        field: "store.kms",
        remedy: "Point store.kms at the awskms:// key the blob was sealed with.",
      });
    }
    const kek = derive(readPassphrase(), Buffer.from(wrapped.salt, "base64"), wrapped.N, wrapped.r, wrapped.p);
    if (check(kek) !== wrapped.check) {
      throw new WrongPassphrase(`APPSIGNING_PASSPHRASE does not open ${where}`, {
        field: "store.kms",
        remedy: "Set the passphrase this store was created with. Blobs sealed under a lost passphrase cannot be recovered.",
      });
    }
    try {
      const d = crypto.createDecipheriv("aes-256-gcm", kek, Buffer.from(wrapped.iv, "base64"));
      d.setAuthTag(Buffer.from(wrapped.tag, "base64"));
      return Buffer.concat([d.update(Buffer.from(wrapped.edk, "base64")), d.final()]);
    } catch {
      throw new StoreIntegrityError(`${where} failed authentication: its wrapped data key was modified`, {
        remedy: "Restore an earlier version of the object.",
      });
    }
  }
}
