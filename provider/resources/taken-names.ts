/**
 * Whether a resource's vault name is already taken, checked before it acts elsewhere (a profile is
 * created at Apple before it is sealed, so a name held by another owner must fail first, with
 * nothing changed). With the default naming, "<project>/<stack>/<resource>", every name of a
 * stack lies in one folder: one listing of that folder per provider process (Pulumi starts one per
 * deployment) answers for all of the stack's new resources, where a read per name cost a fleet of
 * 100 profiles 100 reads. A name written by someone else after the listing is still refused, by
 * the create-only write that seals the resource (the same race the read-then-write had).
 */
import type { BlobListing, Vault } from "../store";
import { sharedOnce } from "./shared-once";

const listings = new Map<string, Promise<Set<string>>>();

/**
 * The current header of `name` when the name is taken, undefined when it is free. `stackFolder`:
 * the folder holding only this stack's names (the default naming), listed once per process; any
 * other name is read directly.
 */
export async function takenName(vault: Vault, name: string, stackFolder: string | undefined): Promise<BlobListing | undefined> {
  if (stackFolder && name.startsWith(stackFolder)) {
    const names = await sharedOnce(listings, `${vault.location}#${stackFolder}`, async () => new Set(await vault.names(stackFolder)));
    if (!names.has(name)) return undefined;
  }
  return vault.head(name);
}
