/**
 * Two resources (two stacks) that would seal under one name: the second is refused and the first
 * stays untouched; the same owner (a replacement) writes a new version instead.
 */
import { provider } from "../../provider/resources/android/keystore";
import { Vault } from "../../provider/store";
import { takenName } from "../../provider/resources/taken-names";
import { freshStore } from "./check-support";

const base = (store: { url: string; kms: string }, owner: string) => ({
  store, role: "upload", alias: "upload", dname: { cn: "Acme" }, keySize: 2048, format: "PKCS12",
  name: "shared/upload", owner, allowReplace: false, allowDelete: false, exposeSecrets: false,
});

test("a keystore name held by another stack is refused, naming the owner; the same owner writes a new version", async () => {
  const s = freshStore();
  try {
    const first = await provider.create((await provider.check!({}, base(s.store, "proj/a/upload"))).inputs);
    const err = await provider.create((await provider.check!({}, base(s.store, "proj/b/upload"))).inputs).catch((e) => e);
    expect(err.name).toBe("WriteConflict");
    expect(err.message).toMatch(/created by proj\/a\/upload/);
    const id = { name: "android/keystores/shared/upload", kind: "android-keystore", scope: "android" };
    expect((await Vault.open(s.store).get(id)).header.meta.owner).toBe("proj/a/upload");

    const again = await provider.create((await provider.check!({}, base(s.store, "proj/a/upload"))).inputs);
    expect(again.outs.vaultVersion).not.toBe(first.outs.vaultVersion);
    expect(await Vault.open(s.store).versions(id.name)).toHaveLength(2);
  } finally {
    s.cleanup();
  }
});

test("taken names: one listing of a stack's folder answers for its names; others are read directly", async () => {
  const s = freshStore();
  try {
    const vault = Vault.open(s.store);
    await vault.put({ name: "ios/T/profiles/p/s/one", kind: "k", scope: "T" }, { x: "1" }, { expect: "absent", meta: { owner: "p/s/one" } });
    expect((await takenName(vault, "ios/T/profiles/p/s/one", "ios/T/profiles/p/s/"))?.meta.owner).toBe("p/s/one");
    expect(await takenName(vault, "ios/T/profiles/p/s/two", "ios/T/profiles/p/s/")).toBeUndefined();
    expect(await takenName(vault, "ios/T/profiles/elsewhere", "ios/T/profiles/p/s/")).toBeUndefined();
  } finally {
    s.cleanup();
  }
});
