/**
 * A folder as a blob store, for one machine (the embedded default). Every write is a new immutable
 * file under .versions/<key>/<version>; the name itself is a symbolic link to its current version,
 * swapped atomically with rename(2). Create-only writes rely on symlink(2) failing with EEXIST;
 * replace-if-unchanged writes hold a per-name lock file created with O_EXCL.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { BlobNotFound, StoreAccessDenied, WriteConflict } from "../errors";
import type { BlobBackend, StoredObject, VersionInfo, WriteCondition } from "./blobs";

const VERSIONS = ".versions";
const LOCKS = ".locks";
const STALE_LOCK_MS = 30_000;

function newVersionId(): string {
  // Sortable by time, unique across writers.
  return `${Date.now().toString().padStart(15, "0")}-${crypto.randomBytes(6).toString("hex")}`;
}

export class FileBlobs implements BlobBackend {
  readonly location: string;

  constructor(private readonly dir: string) {
    this.location = `file://${dir}`;
  }

  private current(key: string): string {
    return path.join(this.dir, key);
  }
  private versionDir(key: string): string {
    return path.join(this.dir, VERSIONS, key);
  }

  private wrap(err: unknown, what: string): never {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EACCES" || code === "EPERM") {
      throw new StoreAccessDenied(`Permission denied ${what} in ${this.location}`, {
        remedy: "Give the current user read and write access to the store folder.",
        cause: err,
      });
    }
    throw err;
  }

  async read(key: string, version?: string): Promise<StoredObject | undefined> {
    try {
      let vid = version;
      if (!vid) {
        try {
          vid = path.basename(await fs.promises.readlink(this.current(key)));
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
          throw err;
        }
      }
      const file = path.join(this.versionDir(key), vid);
      let body: Buffer;
      try {
        body = await fs.promises.readFile(file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") {
          if (version) throw new BlobNotFound(`${key} has no version ${version} in ${this.location}`);
          return undefined;
        }
        throw err;
      }
      const st = await fs.promises.stat(file);
      return { body, etag: vid, version: vid, lastModified: st.mtime.toISOString() };
    } catch (err) {
      if (err instanceof BlobNotFound) throw err;
      this.wrap(err, `reading ${key}`);
    }
  }

  async stat(key: string): Promise<Omit<StoredObject, "body"> | undefined> {
    try {
      const vid = path.basename(await fs.promises.readlink(this.current(key)));
      const st = await fs.promises.stat(path.join(this.versionDir(key), vid));
      return { etag: vid, version: vid, lastModified: st.mtime.toISOString() };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      this.wrap(err, `reading ${key}`);
    }
  }

  /** Writes an immutable version file and returns its id. */
  private async writeVersion(key: string, body: Buffer): Promise<string> {
    const dir = this.versionDir(key);
    await fs.promises.mkdir(dir, { recursive: true, mode: 0o700 });
    const vid = newVersionId();
    const tmp = path.join(dir, `.tmp-${vid}`);
    const fh = await fs.promises.open(tmp, "wx", 0o600);
    try {
      await fh.writeFile(body);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.promises.rename(tmp, path.join(dir, vid));
    return vid;
  }

  private linkTarget(key: string, vid: string): string {
    return path.relative(path.dirname(this.current(key)), path.join(this.versionDir(key), vid));
  }

  private async withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const lock = path.join(this.dir, LOCKS, `${key}.lock`);
    await fs.promises.mkdir(path.dirname(lock), { recursive: true, mode: 0o700 });
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        const fh = await fs.promises.open(lock, "wx", 0o600);
        await fh.close();
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
        const st = await fs.promises.stat(lock).catch(() => undefined);
        // A writer that crashed holding the lock: its lock is stale after 30 s.
        if (st && Date.now() - st.mtimeMs > STALE_LOCK_MS) await fs.promises.rm(lock, { force: true });
        if (Date.now() > deadline) throw new WriteConflict(`${key} in ${this.location} is locked by another writer`, {
          remedy: `If no other appsigning or pulumi process is running, delete ${lock}.`,
        });
        await new Promise((r) => setTimeout(r, 20 + Math.random() * 30));
      }
    }
    try {
      return await fn();
    } finally {
      await fs.promises.rm(lock, { force: true });
    }
  }

  async write(key: string, body: Buffer, cond: WriteCondition): Promise<{ etag: string; version: string }> {
    try {
      const cur = this.current(key);
      await fs.promises.mkdir(path.dirname(cur), { recursive: true, mode: 0o700 });
      const vid = await this.writeVersion(key, body);
      if ("ifNoneMatch" in cond) {
        try {
          // symlink(2) is atomic and fails if the name exists: exactly one creator wins.
          await fs.promises.symlink(this.linkTarget(key, vid), cur);
        } catch (err) {
          await fs.promises.rm(path.join(this.versionDir(key), vid), { force: true });
          if ((err as NodeJS.ErrnoException).code === "EEXIST") {
            throw new WriteConflict(`${key} already exists in ${this.location}`, {
              remedy: "Another writer created it first. Read it, or choose another name.",
            });
          }
          throw err;
        }
        return { etag: vid, version: vid };
      }
      return await this.withLock(key, async () => {
        const seen = await fs.promises.readlink(cur).then((t) => path.basename(t), () => undefined);
        if (seen !== cond.ifMatch) {
          await fs.promises.rm(path.join(this.versionDir(key), vid), { force: true });
          throw new WriteConflict(`${key} in ${this.location} changed since it was read`, {
            remedy: "Another writer updated it. Run again to work from the new version.",
          });
        }
        const tmp = `${cur}.tmp-${vid}`;
        await fs.promises.symlink(this.linkTarget(key, vid), tmp);
        await fs.promises.rename(tmp, cur);
        return { etag: vid, version: vid };
      });
    } catch (err) {
      if (err instanceof WriteConflict) throw err;
      this.wrap(err, `writing ${key}`);
    }
  }

  async remove(key: string, etag: string): Promise<void> {
    await this.withLock(key, async () => {
      const cur = this.current(key);
      const seen = await fs.promises.readlink(cur).then((t) => path.basename(t), () => undefined);
      if (seen === undefined) return;
      if (seen !== etag) throw new WriteConflict(`${key} in ${this.location} changed since it was read`);
      await fs.promises.rm(cur);
    });
  }

  async list(prefix: string): Promise<string[]> {
    const out: string[] = [];
    const walk = async (rel: string): Promise<void> => {
      let entries: fs.Dirent[];
      try {
        entries = await fs.promises.readdir(path.join(this.dir, rel), { withFileTypes: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
        this.wrap(err, "listing");
      }
      for (const e of entries) {
        if (rel === "" && (e.name === VERSIONS || e.name === LOCKS)) continue;
        const child = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) await walk(child);
        else if (e.isSymbolicLink() && !e.name.includes(".tmp-") && child.startsWith(prefix)) out.push(child);
      }
    };
    await walk("");
    return out.sort();
  }

  async versions(key: string): Promise<VersionInfo[]> {
    const cur = await fs.promises.readlink(this.current(key)).then((t) => path.basename(t), () => undefined);
    let names: string[] = [];
    try {
      names = (await fs.promises.readdir(this.versionDir(key))).filter((n) => !n.startsWith("."));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    return names
      .sort()
      .reverse()
      .map((v) => ({ version: v, lastModified: new Date(Number(v.split("-")[0])).toISOString(), latest: v === cur }));
  }

  async versioning(): Promise<"built-in"> {
    return "built-in";
  }
}
