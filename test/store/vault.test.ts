import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { PKCS8_PEM_BEGIN, PKCS8_PEM_END } from "../../provider/formats/p8";
import { Vault } from "../../provider/store";
import { callCounts } from "../../provider/store/aws-clients";
import type { BlobIdentity } from "../../provider/store";
import {
  BlobNotFound,
  InvalidStoreUrl,
  KeyUnavailable,
  StoreIntegrityError,
  StoreNotFound,
  WriteConflict,
  WrongPassphrase,
} from "../../provider/errors";
import { kmsKeyUrl, newBucket, newKmsKey, s3, s3StoreUrl } from "../harness/aws";

const PASSPHRASE = "correct horse battery staple";
const SECRET = `${PKCS8_PEM_BEGIN}\nTOP-SECRET-KEY-MATERIAL\n${PKCS8_PEM_END}`;
const id = (name: string, kind = "android-keystore", scope = "com.acme.app"): BlobIdentity => ({ name, kind, scope });

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "vault-"));
  process.env.APPSIGNING_PASSPHRASE = PASSPHRASE;
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Both modes, on the same tests: a folder with a passphrase, and S3 + KMS on the moto server. */
const modes: Array<[string, () => Promise<{ vault: Vault; bucket?: string }>]> = [
  ["file:// + passphrase", async () => ({ vault: Vault.open({ url: `file://${tmp}/store`, kms: "passphrase" }) })],
  [
    "s3:// + awskms://",
    async () => {
      const bucket = await newBucket();
      const key = await newKmsKey();
      return { vault: Vault.open({ url: s3StoreUrl(bucket), kms: kmsKeyUrl(key.alias) }), bucket };
    },
  ],
];

function expectNoSecret(err: unknown): void {
  const text = `${(err as Error).message}\n${(err as Error).stack}`;
  expect(text).not.toContain("TOP-SECRET");
  expect(text).not.toContain(PASSPHRASE);
}

describe.each(modes)("vault on %s", (_label, make) => {
  test("a bundle round-trips with its metadata, bytes and text intact", async () => {
    const { vault } = await make();
    const bytes = Buffer.from([0, 1, 2, 250, 255]);
    const ref = await vault.put(id("android/app/upload"), { key: SECRET, file: bytes }, { expect: "absent", meta: { sha256: "AB:CD", days: 3 } });
    expect(ref.version).toBeTruthy();
    const got = await vault.get(id("android/app/upload"));
    expect(got.bundle.key).toBe(SECRET);
    expect(Buffer.isBuffer(got.bundle.file) && got.bundle.file.equals(bytes)).toBe(true);
    expect(got.header.meta).toEqual({ sha256: "AB:CD", days: 3 });
    expect(got.header.state).toBe("active");
    const listed = await vault.list();
    expect(listed.map((l) => [l.name, l.kind, l.scope, l.state])).toEqual([["android/app/upload", "android-keystore", "com.acme.app", "active"]]);
  });

  test("the stored bytes contain no plaintext secret", async () => {
    const { vault, bucket } = await make();
    await vault.put(id("a/b"), { key: SECRET }, { expect: "absent" });
    let raw: Buffer;
    if (bucket) {
      const out = await s3().send(new GetObjectCommand({ Bucket: bucket, Key: "signing/credentials/a/b.asb" }));
      raw = Buffer.from(await out.Body!.transformToByteArray());
    } else {
      raw = fs.readFileSync(path.join(tmp, "store/credentials/a/b.asb"));
    }
    expect(raw.subarray(0, 4).toString()).toBe("APSB");
    expect(raw.toString("latin1")).not.toContain("TOP-SECRET");
  });

  test("a second create of the same name gets a clear conflict and the first stays", async () => {
    const { vault } = await make();
    await vault.put(id("x/y"), { v: "first" }, { expect: "absent" });
    const err = await vault.put(id("x/y"), { v: "second" }, { expect: "absent" }).catch((e) => e);
    expect(err).toBeInstanceOf(WriteConflict);
    expect((await vault.get(id("x/y"))).bundle.v).toBe("first");
  });

  test("an update based on a stale version is refused, so no writer overwrites another silently", async () => {
    const { vault } = await make();
    const first = await vault.put(id("x/z"), { v: "1" }, { expect: "absent" });
    await vault.put(id("x/z"), { v: "2" }, { expect: { etag: first.etag } });
    const err = await vault.put(id("x/z"), { v: "3" }, { expect: { etag: first.etag } }).catch((e) => e);
    expect(err).toBeInstanceOf(WriteConflict);
    expect((await vault.get(id("x/z"))).bundle.v).toBe("2");
  });

  test("retiring a name keeps every earlier version readable by version id", async () => {
    const { vault } = await make();
    const v1 = await vault.put(id("r/1"), { v: "one" }, { expect: "absent" });
    const v2 = await vault.put(id("r/1"), { v: "two" }, { expect: { etag: v1.etag } });
    await vault.retire(id("r/1"), { reason: "destroyed" });
    const head = await vault.head("r/1");
    expect(head?.state).toBe("retired");
    await expect(vault.get(id("r/1"))).rejects.toBeInstanceOf(StoreIntegrityError);
    expect((await vault.get(id("r/1"), { version: v1.version })).bundle.v).toBe("one");
    expect((await vault.get(id("r/1"), { version: v2.version })).bundle.v).toBe("two");
    const versions = await vault.versions("r/1");
    expect(versions.length).toBeGreaterThanOrEqual(3);
    expect(versions.filter((v) => v.latest)).toHaveLength(1);
  });

  test("a blob copied under another name fails with an integrity error, not garbage", async () => {
    const { vault, bucket } = await make();
    await vault.put(id("team/one"), { key: SECRET }, { expect: "absent" });
    if (bucket) {
      const client = s3();
      const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: "signing/credentials/team/one.asb" }));
      const body = Buffer.from(await out.Body!.transformToByteArray());
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: "signing/credentials/team/two.asb", Body: body }));
    } else {
      // Copy the current version's bytes under another name, as someone with shell access might.
      const ver = fs.readlinkSync(path.join(tmp, "store/credentials/team/one.asb"));
      const other = path.join(tmp, "store/.versions/credentials/team/two.asb");
      fs.mkdirSync(other, { recursive: true });
      fs.copyFileSync(path.resolve(path.join(tmp, "store/credentials/team"), ver), path.join(other, "000000000000001-aaaa"));
      fs.symlinkSync("../../.versions/credentials/team/two.asb/000000000000001-aaaa", path.join(tmp, "store/credentials/team/two.asb"));
    }
    const err = await vault.get(id("team/two")).catch((e) => e);
    expect(err).toBeInstanceOf(StoreIntegrityError);
    expect(err.message).toMatch(/sealed for another identity/);
    expect(err.message).toMatch(/team\/one/);
    expectNoSecret(err);
    // Same name, other kind or scope: refused too.
    await expect(vault.get(id("team/one", "ios-push-key"))).rejects.toBeInstanceOf(StoreIntegrityError);
    await expect(vault.get(id("team/one", "android-keystore", "com.other"))).rejects.toBeInstanceOf(StoreIntegrityError);
  });

  test("a tampered ciphertext is detected and named", async () => {
    const { vault, bucket } = await make();
    await vault.put(id("t/amper"), { key: SECRET }, { expect: "absent" });
    const flip = (b: Buffer) => {
      const c = Buffer.from(b);
      c[c.length - 20] ^= 0x01;
      return c;
    };
    if (bucket) {
      const client = s3();
      const key = "signing/credentials/t/amper.asb";
      const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const body = flip(Buffer.from(await out.Body!.transformToByteArray()));
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    } else {
      const link = path.join(tmp, "store/credentials/t/amper.asb");
      const file = path.resolve(path.dirname(link), fs.readlinkSync(link));
      fs.writeFileSync(file, flip(fs.readFileSync(file)));
    }
    const err = await vault.get(id("t/amper")).catch((e) => e);
    expect(err).toBeInstanceOf(StoreIntegrityError);
    expect(err.message).toMatch(/modified/);
    expectNoSecret(err);
  });

  test("headIfChanged tells an unchanged blob from its metadata alone, and sees a new version, a retirement and a removal", async () => {
    const { vault, bucket } = await make();
    const v1 = await vault.put(id("h/1"), { v: "one" }, { expect: "absent" });
    const before = { ...callCounts };
    expect(await vault.headIfChanged("h/1", v1.version)).toBe("same");
    if (bucket) {
      // One S3 HeadObject, no GetObject and no key access.
      const delta = (k: string) => (callCounts[k] ?? 0) - (before[k] ?? 0);
      expect([delta("s3:HeadObject"), delta("s3:GetObject"), delta("kms:Decrypt")]).toEqual([1, 0, 0]);
    }
    const v2 = await vault.put(id("h/1"), { v: "two" }, { expect: { etag: v1.etag } });
    const moved = await vault.headIfChanged("h/1", v1.version);
    expect(moved !== "same" && moved?.version).toBe(v2.version);
    await vault.retire(id("h/1"), { reason: "destroyed" });
    const retired = await vault.headIfChanged("h/1", v2.version);
    expect(retired !== "same" && retired?.state).toBe("retired");
    const v3 = await vault.put(id("h/2"), { v: "three" }, { expect: "absent" });
    if (bucket) await s3().send(new DeleteObjectCommand({ Bucket: bucket, Key: `signing/credentials/h/2.asb` }));
    else fs.rmSync(path.join(tmp, "store/credentials/h/2.asb"));
    expect(await vault.headIfChanged("h/2", v3.version)).toBeUndefined();
  });

  test("a missing name is a clear not-found error", async () => {
    const { vault } = await make();
    await expect(vault.get(id("no/such"))).rejects.toBeInstanceOf(BlobNotFound);
    expect(await vault.head("no/such")).toBeUndefined();
  });

  test("a lease is exclusive until released, and an expired lease can be taken over", async () => {
    const { vault } = await make();
    const a = await vault.acquireLease("apple/TEAM1/certificates", { ttlMs: 60_000 });
    await expect(vault.acquireLease("apple/TEAM1/certificates", { waitMs: 300 })).rejects.toBeInstanceOf(WriteConflict);
    await a.release();
    const b = await vault.acquireLease("apple/TEAM1/certificates", { ttlMs: 1 });
    await new Promise((r) => setTimeout(r, 20));
    const c = await vault.acquireLease("apple/TEAM1/certificates", { waitMs: 2000 });
    expect(c.owner).not.toBe(b.owner);
    await c.release();
  });
});

describe("vault errors", () => {
  test("a wrong passphrase is told apart from tampering, and the passphrase is never echoed", async () => {
    const vault = Vault.open({ url: `file://${tmp}/store`, kms: "passphrase" });
    await vault.put(id("p/q"), { key: SECRET }, { expect: "absent" });
    process.env.APPSIGNING_PASSPHRASE = "a different passphrase!";
    const err = await Vault.open({ url: `file://${tmp}/store`, kms: "passphrase" }).get(id("p/q")).catch((e) => e);
    expect(err).toBeInstanceOf(WrongPassphrase);
    expect(err.message).toMatch(/APPSIGNING_PASSPHRASE does not open "p\/q"/);
    expect(err.message).not.toContain("a different passphrase!");
    expectNoSecret(err);
  });

  test("a missing KMS key is named, with what to check", async () => {
    const bucket = await newBucket();
    const vault = Vault.open({ url: s3StoreUrl(bucket), kms: kmsKeyUrl("alias/does-not-exist") });
    const err = await vault.put(id("k/1"), { key: SECRET }, { expect: "absent" }).catch((e) => e);
    expect(err).toBeInstanceOf(KeyUnavailable);
    expect(err.message).toMatch(/alias\/does-not-exist/);
    expect(err.message).toMatch(/region/);
  });

  test("a blob whose wrapped data key was altered is refused by KMS as an integrity failure", async () => {
    const bucket = await newBucket();
    const k1 = await newKmsKey();
    const store = { url: s3StoreUrl(bucket), kms: kmsKeyUrl(k1.alias) };
    await Vault.open(store).put(id("k/2"), { key: SECRET }, { expect: "absent" });
    const client = s3();
    const objKey = "signing/credentials/k/2.asb";
    const raw = Buffer.from(await (await client.send(new GetObjectCommand({ Bucket: bucket, Key: objKey }))).Body!.transformToByteArray());
    // Swap one character of the base64 wrapped key inside the header, keeping the length.
    const text = raw.toString("latin1");
    const at = text.indexOf('"', text.indexOf('"edk":"') + 7) - 8;
    const altered = Buffer.from(text.slice(0, at) + (text[at] === "A" ? "B" : "A") + text.slice(at + 1), "latin1");
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: objKey, Body: altered }));
    const err = await Vault.open(store).get(id("k/2")).catch((e) => e);
    expect(err).toBeInstanceOf(StoreIntegrityError);
    expectNoSecret(err);
  });

  test("a missing bucket is named", async () => {
    const key = await newKmsKey();
    const vault = Vault.open({ url: s3StoreUrl("no-such-bucket-here"), kms: kmsKeyUrl(key.alias) });
    const err = await vault.put(id("b/1"), { key: SECRET }, { expect: "absent" }).catch((e) => e);
    expect(err).toBeInstanceOf(StoreNotFound);
    expect(err.message).toMatch(/no-such-bucket-here/);
  });

  test("a bucket without versioning warns, and replaced versions are still kept", async () => {
    const bucket = await newBucket({ versioning: false });
    const key = await newKmsKey();
    const warnings: string[] = [];
    const vault = Vault.open({ url: s3StoreUrl(bucket), kms: kmsKeyUrl(key.alias) }, { warn: (m) => warnings.push(m) });
    const v1 = await vault.put(id("u/1"), { v: "one" }, { expect: "absent" });
    expect(warnings.join("\n")).toMatch(/versioning is off/);
    await vault.put(id("u/1"), { v: "two" }, { expect: { etag: v1.etag } });
    const versions = await vault.versions("u/1");
    const archived = versions.find((v) => v.version.startsWith("archive:"));
    expect(archived).toBeDefined();
    expect((await vault.get(id("u/1"), { version: archived!.version })).bundle.v).toBe("one");
    // Every object's version id is "null" here, which proves nothing: the header is read.
    const head = await vault.headIfChanged("u/1", "null");
    expect(head !== "same" && head?.state).toBe("active");
  });

  test("malformed store URLs fail before any I/O, naming the field", () => {
    expect(() => Vault.open({ url: "ftp://x", kms: "passphrase" })).toThrow(InvalidStoreUrl);
    expect(() => Vault.open({ url: "s3://Bad_Bucket", kms: "passphrase" })).toThrow(/store.url/);
    expect(() => Vault.open({ url: "file:///tmp/x", kms: "awskms://not a key" })).toThrow(/store.kms/);
    expect(() => Vault.open({ url: "s3://bucket-ok?color=red", kms: "passphrase" })).toThrow(/unknown parameter "color"/);
  });
});

describe("concurrent writers", () => {
  test("on the folder store, of many simultaneous creators of one name exactly one wins", async () => {
    const vault = Vault.open({ url: `file://${tmp}/store`, kms: "passphrase" });
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => vault.put(id("race/one"), { v: String(i) }, { expect: "absent" })),
    );
    const won = results.filter((r) => r.status === "fulfilled");
    const lost = results.filter((r) => r.status === "rejected") as PromiseRejectedResult[];
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(7);
    for (const l of lost) expect(l.reason).toBeInstanceOf(WriteConflict);
  });

  test("on the folder store, separate processes racing to create one name: exactly one wins", async () => {
    const { execFile } = await import("child_process");
    // Each child opens the vault from the compiled package and tries a create-only put.
    const dist = path.resolve(__dirname, "../../dist/provider/store/index.js");
    if (!fs.existsSync(dist)) throw new Error("run `npm run build` first (dist/ is missing)");
    const child = (n: number) =>
      new Promise<string>((resolve) => {
        execFile(
          process.execPath,
          [
            "-e",
            `const {Vault}=require(${JSON.stringify(dist)});
             Vault.open({url:${JSON.stringify(`file://${tmp}/store`)},kms:"passphrase"})
               .put({name:"race/procs",kind:"k",scope:"s"},{v:"${n}"},{expect:"absent"})
               .then(()=>console.log("won"),(e)=>console.log(e.name))`,
          ],
          { env: { ...process.env } },
          (_e, stdout) => resolve(stdout.trim()),
        );
      });
    const outcomes = await Promise.all([0, 1, 2, 3].map(child));
    expect(outcomes.filter((o) => o === "won")).toHaveLength(1);
    expect(outcomes.filter((o) => o === "WriteConflict")).toHaveLength(3);
  });

  test("on S3, two writers that both saw the name absent: the second write is refused", async () => {
    const bucket = await newBucket();
    const key = await newKmsKey();
    const store = { url: s3StoreUrl(bucket), kms: kmsKeyUrl(key.alias) };
    const a = Vault.open(store);
    const b = Vault.open(store);
    // Interleaving controlled by the test: both look, both find nothing, then both write.
    expect(await a.head("race/s3")).toBeUndefined();
    expect(await b.head("race/s3")).toBeUndefined();
    await a.put(id("race/s3"), { v: "a" }, { expect: "absent" });
    const err = await b.put(id("race/s3"), { v: "b" }, { expect: "absent" }).catch((e) => e);
    expect(err).toBeInstanceOf(WriteConflict);
    expect((await b.get(id("race/s3"))).bundle.v).toBe("a");
  });
});
