/** Small pieces every resource provider uses: check failures, preview reasons, state hygiene. */
import * as pulumi from "@pulumi/pulumi";
import { AppsigningError, WriteConflict } from "../errors";
import { Vault } from "../store";
import type { BlobIdentity, BlobMeta, StoreConfig } from "../store";

export interface Failures {
  add(property: string, reason: string): void;
  /**
   * Runs a validation; an AppsigningError becomes a failure on `property` (or on the property
   * `mapField` derives from the error's own field). Other errors propagate.
   */
  guard(property: string, mapOrFn: ((field: string) => string) | (() => void), fn?: () => void): void;
}

/** Collects check failures: Pulumi shows each with its property, and preview fails. */
export function checkFailures<T>(inputs: T, body: (fail: Failures) => void): pulumi.dynamic.CheckResult<T> {
  const failures: pulumi.dynamic.CheckFailure[] = [];
  const fail: Failures = {
    add: (property, reason) => failures.push({ property, reason }),
    guard: (property, mapOrFn, fn) => {
      const run = (fn ?? mapOrFn) as () => void;
      const map = fn ? (mapOrFn as (field: string) => string) : undefined;
      try {
        run();
      } catch (err) {
        if (!(err instanceof AppsigningError)) throw err;
        const prop = err.field && map ? map(err.field) : property;
        failures.push({ property: prop, reason: err.message });
      }
    },
  };
  body(fail);
  return failures.length > 0 ? { inputs, failures } : { inputs };
}

/** Shows why a diff decided what it did; the provider's output appears under the resource in preview. */
export function logReasons(what: string, reasons: string[]): void {
  for (const r of reasons) console.log(`${what}: ${r}`);
}

/** Who created a credential: project/stack/resource, recorded in the vault next to it. */
export function ownerOf(name: string): string {
  return `${pulumi.getProject()}/${pulumi.getStack()}/${name}`;
}

/**
 * The default name in the vault: project/stack/resource, so stacks sharing one store (dev and
 * prod, or two apps) never collide. Give `name` explicitly to choose a shorter one.
 */
export const defaultVaultName = ownerOf;

/** Outputs must be plain JSON (no undefined, Buffer or Date), or the engine rejects them. */
export function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/**
 * Re-seals a credential under a new store, name or scope: the same material, no new key and no
 * platform call. The old location is retired; its versions stay readable. Returns where it now is.
 */
export async function moveSealed(
  from: { store: StoreConfig; id: BlobIdentity; version: string },
  to: { store: StoreConfig; id: BlobIdentity; owner: string; meta?: BlobMeta },
): Promise<{ version: string; location: string }> {
  const source = Vault.open(from.store);
  const target = Vault.open(to.store);
  const moved = source.location !== target.location || from.id.name !== to.id.name || from.id.scope !== to.id.scope;
  if (!moved && !to.meta) return { version: from.version, location: target.location };
  const sealed = await source.get(from.id, { version: from.version });
  const head = await target.head(to.id.name);
  if (head && head.state !== "retired" && head.meta.owner !== to.owner) {
    throw new WriteConflict(`The store ${target.location} already holds "${to.id.name}", created by ${String(head.meta.owner)}`, {
      field: "name",
      remedy: "Choose another name. Nothing was changed.",
    });
  }
  const ref = await target.put(to.id, sealed.bundle, {
    expect: head ? { etag: head.etag } : "absent",
    meta: { ...sealed.header.meta, ...to.meta, owner: to.owner },
  });
  if (moved) await source.retire(from.id, { movedTo: `${target.location}#${to.id.name}` });
  return { version: ref.version, location: target.location };
}

/**
 * Retires a credential's name on delete, unless a replacement already sealed a newer version under
 * it (then the old version simply stays in the history). Returns whether it retired anything.
 */
export async function retireIfCurrent(store: StoreConfig, id: BlobIdentity, version: string, meta: BlobMeta, guard?: () => void): Promise<boolean> {
  const vault = Vault.open(store);
  const head = await vault.head(id.name);
  if (!head || head.state === "retired" || head.version !== version) return false;
  guard?.();
  await vault.retire(id, meta);
  return true;
}
