/**
 * What a change to an Android keystore does (DESIGN.md rules 4-5; Expo's app-signing docs: losing
 * the app-signing key means the app can never be updated again, while Google support can reset an
 * upload key).
 */
import { GuardedChange } from "../errors";
import { DecisionBuilder } from "./decision";
import type { DiffDecision } from "./decision";

export type KeystoreRole = "upload" | "app-signing";

/** The inputs that decide the key itself. */
export interface KeystoreKeyInputs {
  role?: KeystoreRole;
  alias?: string;
  dname?: Record<string, string | undefined>;
  keySize?: number;
  validityYears?: number;
  format?: string;
  /** Digest of an imported keystore file (never the file). */
  importDigest?: string;
  applicationId?: string;
  name?: string;
  store?: { url: string; kms: string };
  allowReplace?: boolean;
  allowDelete?: boolean;
  exposeSecrets?: boolean;
}

export const UPLOAD_KEY_RESET_NOTE =
  "the new upload certificate (output certificatePem) must be registered in Play Console: App integrity > App signing > Request upload key reset";

export function decideKeystoreDiff(olds: KeystoreKeyInputs, news: KeystoreKeyInputs): DiffDecision {
  const b = new DecisionBuilder();
  const newKey = "a keystore holds one key; a different key means a new keystore";
  b.replaceOn("alias", olds.alias, news.alias, newKey)
    .replaceOn("keySize", olds.keySize, news.keySize, newKey)
    .replaceOn("format", olds.format, news.format, newKey)
    .replaceOn("dname", olds.dname, news.dname, "the certificate's subject is signed into it")
    .replaceOn("validityYears", olds.validityYears, news.validityYears, "the certificate's validity is signed into it")
    .replaceOn("import", olds.importDigest, news.importDigest, "a different keystore file was given");
  b.updateOn("role", olds.role, news.role, "recorded in the store; the key is unchanged")
    .updateOn("store", olds.store, news.store, "the keystore is re-sealed in the new store, same key")
    .updateOn("name", olds.name, news.name, "the keystore is re-sealed under the new name, same key")
    .updateOn("applicationId", olds.applicationId, news.applicationId, "the keystore is re-sealed for the new application, same key")
    .updateOn("allowReplace", olds.allowReplace, news.allowReplace)
    .updateOn("allowDelete", olds.allowDelete, news.allowDelete)
    .updateOn("exposeSecrets", olds.exposeSecrets, news.exposeSecrets);
  const decision = b.build();
  if (decision.replaces.length > 0) {
    // A value unknown in preview may not change at all: the guard acts once it is known.
    if (decision.certainReplaces.length > 0) guardKeystoreReplacement(olds, news, decision.reasons);
    if ((olds.role ?? "upload") === "upload") decision.reasons.push(`upload key replaced: ${UPLOAD_KEY_RESET_NOTE}`);
  }
  return decision;
}

/** Replacing a legacy app-signing key needs `allowReplace: true`. */
export function guardKeystoreReplacement(olds: KeystoreKeyInputs, news: KeystoreKeyInputs, reasons: string[]): void {
  if ((olds.role ?? "upload") !== "app-signing" || news.allowReplace === true) return;
  throw new GuardedChange(
    `Refusing to replace the app-signing keystore "${olds.name ?? "?"}" (${reasons.join("; ")}). ` +
      `This key signs what users install: an app whose app-signing key changes can never be updated again on devices that have it, ` +
      `unless Google Play App Signing holds the key.`,
    {
      field: "allowReplace",
      remedy:
        "Undo the change to keep the key. If you really mean to start over with a new key (a new app, or Play App Signing already holds the old key), set allowReplace: true. The old keystore stays readable in the vault.",
    },
  );
}

/** Deleting a legacy app-signing key needs `allowDelete: true`. */
export function guardKeystoreDeletion(props: KeystoreKeyInputs): void {
  if ((props.role ?? "upload") !== "app-signing" || props.allowDelete === true) return;
  throw new GuardedChange(
    `Refusing to delete the app-signing keystore "${props.name ?? "?"}": losing this key means the app can never be updated again.`,
    {
      field: "allowDelete",
      remedy: "Keep the resource, or set allowDelete: true and run `pulumi up` before removing it. Its sealed versions stay in the vault either way.",
    },
  );
}
