/**
 * What a change to an APNs push key does. Apple's API cannot create, list or revoke these keys;
 * revoking one stops push for every app that uses it (Expo's app-credentials summary marks it as
 * the one iOS credential whose revocation harms production). So replacing or deleting one is
 * guarded (DESIGN.md rule 5).
 */
import { GuardedChange } from "../errors";
import { DecisionBuilder } from "./decision";
import type { DiffDecision } from "./decision";

export interface PushKeyDiffState {
  teamId?: string;
  keyId?: string;
  /** Digest of the .p8 (never the key). */
  p8Digest?: string;
  store?: unknown;
  name?: string;
  allowReplace?: boolean;
  allowDelete?: boolean;
}

const CONSEQUENCE =
  "every app that sends push with it loses push notifications until its servers are given the new key. " +
  "appsigning never revokes push keys (Apple's API cannot); revoking the old key in the Apple Developer console breaks production";

export function decidePushKeyDiff(olds: PushKeyDiffState, news: PushKeyDiffState): DiffDecision {
  const b = new DecisionBuilder();
  b.replaceOn("keyId", olds.keyId, news.keyId, "a different APNs key")
    .replaceOn("teamId", olds.teamId, news.teamId, "a push key belongs to one team")
    .replaceOn("p8", olds.p8Digest, news.p8Digest, "a different .p8 was given");
  b.updateOn("store", olds.store, news.store, "re-sealed in the new store")
    .updateOn("name", olds.name, news.name, "re-sealed under the new name")
    .updateOn("allowReplace", olds.allowReplace, news.allowReplace)
    .updateOn("allowDelete", olds.allowDelete, news.allowDelete);
  const decision = b.build();
  // A value unknown in preview may not change at all: the guard acts when it is known (at apply, diff runs again).
  if (decision.certainReplaces.length > 0 && news.allowReplace !== true) {
    throw new GuardedChange(`Refusing to replace push key ${olds.keyId} of team ${olds.teamId} (${decision.reasons.join("; ")}): ${CONSEQUENCE}.`, {
      field: "allowReplace",
      remedy: "Undo the change, or set allowReplace: true once the apps' servers are ready for the new key.",
    });
  }
  return decision;
}

export function guardPushKeyDeletion(props: PushKeyDiffState): void {
  if (props.allowDelete === true) return;
  throw new GuardedChange(`Refusing to delete push key ${props.keyId} of team ${props.teamId}: ${CONSEQUENCE}.`, {
    field: "allowDelete",
    remedy: "Keep the resource, or set allowDelete: true and run `pulumi up` first. The key stays sealed in the vault; nothing is revoked at Apple.",
  });
}
