/**
 * The quickstart, for a machine with no cloud account: the embedded file:// store with a
 * passphrase. This first version seals a credential bundle, lists the store and reads it back.
 */
import * as crypto from "crypto";
import * as path from "path";
import { Vault } from "../provider/store";

async function main(): Promise<void> {
  const root = path.resolve(__dirname, "../..");
  process.env.APPSIGNING_PASSPHRASE ??= "quickstart-local-passphrase";
  const store = { url: `file://${path.join(root, ".appsigning/store")}`, kms: "passphrase" };
  const vault = Vault.open(store);
  const id = { name: `quickstart/demo-${Date.now()}`, kind: "demo", scope: "quickstart" };
  const secret = crypto.randomBytes(32);
  const ref = await vault.put(id, { secret }, { expect: "absent", meta: { note: "round trip" } });
  console.log(`sealed ${ref.name} version ${ref.version} in ${ref.location}`);
  const back = await vault.get(id);
  console.log(`opened it again: ${(back.bundle.secret as Buffer).equals(secret) ? "content matches" : "MISMATCH"}`);
  for (const item of await vault.list()) console.log(`  ${item.state.padEnd(8)} ${item.kind.padEnd(6)} ${item.name}`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
