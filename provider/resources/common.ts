/** Small pieces every resource provider uses: check failures, preview reasons, state hygiene. */
import * as pulumi from "@pulumi/pulumi";
import { AppsigningError } from "../errors";

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
