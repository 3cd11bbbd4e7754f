/**
 * Secret material given as an input (a .p8, a keystore to import, a password) must not end up in
 * Pulumi state, and the engine stores whatever `check` returns as the resource's inputs. So `check`
 * swaps each such value for a digest ("sha256:..."), and keeps the value in this provider process's
 * memory. Pulumi calls `check` before every `create` and `update`, in the same provider process
 * (one per deployment), so the value is there when it is needed; `create` then seals it in the
 * vault, from which read and delete take it later. Nothing here is serialized or written anywhere.
 */
import * as crypto from "crypto";
import { InvalidCredentialInput } from "../errors";
import { isUnknown } from "../rules/unknown";

const DIGEST_PREFIX = "sha256:";
const held = new Map<string, string>();

export function isDigest(value: unknown): value is string {
  return typeof value === "string" && value.startsWith(DIGEST_PREFIX) && value.length === DIGEST_PREFIX.length + 64;
}

/** Replaces a secret value by its digest and remembers the value for this process. */
export function stash(value: string): string {
  if (isUnknown(value) || isDigest(value)) return value;
  const digest = DIGEST_PREFIX + crypto.createHash("sha256").update(value, "utf8").digest("hex");
  held.set(digest, value);
  return digest;
}

/** The value behind a digest, as `check` saw it in this process. */
export function recall(digest: string, field: string): string {
  if (!isDigest(digest)) return digest;
  const value = held.get(digest);
  if (value === undefined) {
    throw new InvalidCredentialInput(`The secret input ${field} is not available to this provider process`, {
      field,
      remedy: "Run `pulumi up` again: the value is read from your program at each run and never stored in state.",
    });
  }
  return value;
}
