/**
 * The offline backup: a folder that is itself an appsigning folder store (one sealed blob per
 * credential, plus a manifest), sealed with the passphrase key wrapper under its own passphrase,
 * APPSIGNING_BACKUP_PASSPHRASE. So a backup opens with `appsigning` (`--store file://DIR`) or,
 * without it, with scripts/recover-blob.sh (APPSIGNING_PASSPHRASE set to the backup passphrase).
 */
import { InvalidCredentialInput, WrongPassphrase } from "../errors";
import { Vault } from "../store";
import type { BlobListing } from "../store";
import type { KeyWrapper, WrappedKey } from "../store/envelope";
import { FileBlobs } from "../store/file-blobs";
import { PassphraseKeys } from "../store/passphrase-keys";
import { UsageError } from "./context";
import { KINDS } from "./summary";

export const BACKUP_PASSPHRASE_ENV = "APPSIGNING_BACKUP_PASSPHRASE";
export const MANIFEST_ID = { name: "appsigning-backup/manifest", kind: KINDS.backupManifest, scope: "backup" };

export interface BackupManifest {
  format: "appsigning-backup";
  v: 1;
  createdAt: string;
  /** Where the credentials came from (a store location: no secret). */
  source: string;
  credentials: Array<Pick<BlobListing, "name" | "kind" | "scope" | "state" | "meta" | "sealedAt" | "version">>;
  /** Names not backed up, and why (retired names have no content). */
  skipped: Array<{ name: string; reason: string }>;
}

function backupPassphrase(command: string): string {
  const value = process.env[BACKUP_PASSPHRASE_ENV];
  if (!value) throw new UsageError(`${BACKUP_PASSPHRASE_ENV} is not set: the backup is sealed with that passphrase`, command);
  if (value.length < 12) throw new UsageError(`${BACKUP_PASSPHRASE_ENV} is shorter than 12 characters: it alone protects the keys in the backup`, command);
  return value;
}

/**
 * PassphraseKeys reads APPSIGNING_PASSPHRASE synchronously at the start of each call, before its
 * first await; this wrapper sets it to the backup passphrase for exactly that synchronous span and
 * puts the store's own passphrase back, so a passphrase store and its backup can be open at once.
 */
class BackupKeys implements KeyWrapper {
  readonly description = `passphrase (scrypt, ${BACKUP_PASSPHRASE_ENV})`;
  private readonly inner = new PassphraseKeys();

  constructor(
    private readonly passphrase: string,
    private readonly dir: string,
  ) {}

  private with<T>(fn: () => Promise<T>): Promise<T> {
    const saved = process.env.APPSIGNING_PASSPHRASE;
    process.env.APPSIGNING_PASSPHRASE = this.passphrase;
    try {
      return fn();
    } finally {
      if (saved === undefined) delete process.env.APPSIGNING_PASSPHRASE;
      else process.env.APPSIGNING_PASSPHRASE = saved;
    }
  }

  newDataKey(_ctx: Record<string, string>): Promise<{ plaintext: Buffer; wrapped: WrappedKey }> {
    return this.with(() => this.inner.newDataKey());
  }

  async unwrap(wrapped: WrappedKey, ctx: Record<string, string>, where: string): Promise<Buffer> {
    try {
      return await this.with(() => this.inner.unwrap(wrapped, ctx, where));
    } catch (err) {
      if (err instanceof WrongPassphrase) {
        throw new WrongPassphrase(`${BACKUP_PASSPHRASE_ENV} does not open the backup in ${this.dir}`, {
          remedy: "Set the passphrase the backup was made with.",
        });
      }
      throw err;
    }
  }
}

/** The backup folder as a vault whose blobs are sealed with the backup passphrase. */
export function openBackupVault(dir: string, command: string): Vault {
  return new Vault(new FileBlobs(dir), new BackupKeys(backupPassphrase(command), dir));
}

/** Reads and checks a backup's manifest. */
export async function readManifest(backup: Vault, dir: string): Promise<BackupManifest> {
  const head = await backup.head(MANIFEST_ID.name);
  if (!head) {
    throw new InvalidCredentialInput(`${dir} is not an appsigning backup (it has no manifest)`, {
      remedy: "Give the folder `appsigning backup --out` wrote.",
    });
  }
  const { bundle } = await backup.get(MANIFEST_ID);
  const manifest = JSON.parse(String(bundle.manifest)) as BackupManifest;
  if (manifest.format !== "appsigning-backup" || manifest.v !== 1) {
    throw new InvalidCredentialInput(`${dir} holds a backup manifest of an unknown format`, { remedy: "Restore it with the appsigning release that made it." });
  }
  return manifest;
}
