/**
 * A store or name change is an update in place: the same sealed material moves, the old location is
 * retired and keeps its versions, no new key is made.
 */
import { provider } from "../../provider/resources/android/keystore";
import { Vault } from "../../provider/store";
import { freshStore } from "./check-support";

test("moving a keystore to another store re-seals the same key and retires the old name", async () => {
  const a = freshStore();
  const b = freshStore();
  try {
    const inputs = {
      store: a.store, role: "upload", alias: "upload", dname: { cn: "Acme" }, keySize: 2048, format: "PKCS12",
      name: "move/upload", owner: "p/s/upload", allowReplace: false, allowDelete: false, exposeSecrets: false,
    };
    const checked = await provider.check!({}, inputs);
    const created = await provider.create(checked.inputs);
    const moved = { ...checked.inputs, store: b.store };
    const d = await provider.diff!(created.id, created.outs, moved);
    expect(d).toMatchObject({ changes: true });
    expect(d.replaces ?? []).toEqual([]);
    const updated = await provider.update!(created.id, created.outs, moved);
    expect(updated.outs.storeLocation).toBe(Vault.open(b.store).location);
    expect(updated.outs.sha256Fingerprint).toBe(created.outs.sha256Fingerprint);
    const id = { name: "android/keystores/move/upload", kind: "android-keystore", scope: "android" };
    const there = await Vault.open(b.store).get(id);
    const before = await Vault.open(a.store).get(id, { version: created.outs.vaultVersion });
    expect((there.bundle.keystore as Buffer).equals(before.bundle.keystore as Buffer)).toBe(true);
    expect((await Vault.open(a.store).head(id.name))?.state).toBe("retired");
  } finally {
    a.cleanup();
    b.cleanup();
  }
});
