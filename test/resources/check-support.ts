/**
 * Helpers for calling a resource's provider `check` and `diff` directly, as the Pulumi engine does:
 * a fresh folder store with passphrase keys (which `check` must never write to), and the failures
 * shaped as Pulumi shows them (property + reason).
 */
import * as fs from "fs";
import * as path from "path";
import type * as pulumi from "@pulumi/pulumi";
import { Vault } from "../../provider/store";
import type { StoreConfig } from "../../provider/store";
import { makeTempDir } from "../support/tools";

export const TEST_PASSPHRASE = "resources-check-test-passphrase";

export interface FreshStore {
  store: StoreConfig;
  /** The store's folder: created empty, and nothing but `create` may put anything in it. */
  dir: string;
  cleanup: () => void;
}

/** An empty `file://` store with passphrase keys, in its own temp folder. */
export function freshStore(): FreshStore {
  process.env.APPSIGNING_PASSPHRASE = TEST_PASSPHRASE;
  const tmp = makeTempDir("appsigning-check-");
  const dir = path.join(tmp.dir, "store");
  fs.mkdirSync(dir);
  return { store: { url: `file://${dir}`, kms: "passphrase" }, dir, cleanup: tmp.cleanup };
}

/** The folder holds no file at all, and the vault lists no credential. */
export async function expectStoreUntouched(s: FreshStore): Promise<void> {
  expect(fs.readdirSync(s.dir)).toEqual([]);
  expect(await Vault.open(s.store).list()).toEqual([]);
}

export interface Failure {
  property: string;
  reason: string;
}

export async function runCheck<T>(provider: pulumi.dynamic.ResourceProvider, news: T, olds: Partial<T> = {}): Promise<{ inputs: T; failures: Failure[] }> {
  const result = await provider.check!(olds, news);
  return { inputs: result.inputs as T, failures: (result.failures ?? []) as Failure[] };
}

/** Asserts that no reason (nor property) contains any of the secrets. */
export function expectNoSecretIn(failures: Failure[], secrets: string[]): void {
  const text = JSON.stringify(failures);
  for (const secret of secrets) expect(text).not.toContain(secret);
}

/** Slices of a long secret (a PEM body, a base64 file), so a partial copy is caught too. */
export function secretChunks(secret: string, size = 32): string[] {
  const compact = secret.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, "");
  const chunks: string[] = [];
  for (let i = 0; i + size <= compact.length; i += size) chunks.push(compact.slice(i, i + size));
  return chunks;
}
