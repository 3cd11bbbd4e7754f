/**
 * android.PlayAppSigningOptIn under the real `pulumi` CLI (examples/android-opt-in), with the vault
 * in S3 + KMS on the moto server: a legacy JKS made by keytool is sealed byte for byte, a new upload
 * key's certificate comes out for Play Console, and the pepk command names what Google's tool needs.
 */
import { generateKeyPairSync } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { Vault } from "../../provider/store";
import { kmsKeyUrl, newBucket, newKmsKey, s3StoreUrl } from "../harness/aws";
import { expectSuccess, PulumiStack, REPO } from "../harness/pulumi";
import { keytoolGenerate, keytoolListVerbose, keytoolSha256Fingerprints, makeTempDir, openssl } from "../support/tools";

jest.setTimeout(900_000);

const PROGRAM = path.join(REPO, "examples/android-opt-in");
const STORE_PASSWORD = "legacy-store-pw-8812";
const KEY_PASSWORD = "legacy-key-pw-4471";
const APPLICATION_ID = "com.acme.legacy";

interface Fingerprints {
  sha1: string;
  sha256: string;
  md5: string;
}
interface Outs {
  uploadCertificatePem: string;
  uploadFingerprints: Fingerprints;
  appSigningFingerprints: Fingerprints;
  pepkCommand: string;
  pepkSteps: string[];
  pepk: { argv: string[]; keystorePath: string; alias: string; encryptionKeyPath: string; fetchCommand: string };
  appSigningVault: { name: string; version: string };
  uploadVault: { name: string; version: string };
}

test("opt-in: the legacy keystore is sealed unchanged, the upload certificate opens in openssl, the pepk command names keystore, alias and key", async () => {
  const tmp = makeTempDir("appsigning-optin-");
  const legacy = path.join(tmp.dir, "legacy.jks");
  // An app's original key, as Android Studio's wizard made them: JKS, 4096 bits, its own key password.
  await keytoolGenerate({ path: legacy, storeType: "JKS", alias: "legacy", storePassword: STORE_PASSWORD, keyPassword: KEY_PASSWORD, keySize: 4096, dname: "CN=Acme Legacy, O=Acme Inc, C=US" });
  const legacyBytes = fs.readFileSync(legacy);
  const legacySha256 = keytoolSha256Fingerprints(await keytoolListVerbose(legacy, STORE_PASSWORD, "JKS"));
  expect(legacySha256).toHaveLength(1);

  const goodKey = path.join(tmp.dir, "encryption_public_key.pem");
  fs.writeFileSync(goodKey, generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey.export({ type: "spki", format: "pem" }));
  const wrongKey = path.join(tmp.dir, "not-play-key.pem");
  fs.writeFileSync(wrongKey, generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ type: "spki", format: "pem" }));

  const bucket = await newBucket();
  const kmsKey = await newKmsKey();
  const store = { url: s3StoreUrl(bucket, "optin"), kms: kmsKeyUrl(kmsKey.alias) };
  const vault = Vault.open(store);
  const stack = await PulumiStack.create(PROGRAM, {
    config: { storeUrl: store.url, storeKms: store.kms, applicationId: APPLICATION_ID, legacyAlias: "legacy", encryptionPublicKeyFile: wrongKey },
  });
  try {
    await stack.setConfig("legacyKeystoreFile", legacy);
    Object.assign(stack.env, { LEGACY_STORE_PASSWORD: STORE_PASSWORD, LEGACY_KEY_PASSWORD: KEY_PASSWORD });

    // A key that is not Play Console's RSA key fails preview, and nothing reaches the store.
    const refused = await stack.preview();
    expect(refused.code).not.toBe(0);
    expect(refused.output).toMatch(/holds an ec public key; Play Console's is RSA/);
    expect(await vault.list()).toEqual([]);

    await stack.setConfig("encryptionPublicKeyFile", goodKey);
    expectSuccess(await stack.up());
    const outs = (await stack.outputs()) as unknown as Outs;

    // (1) The app-signing keystore in the vault is the input file, byte for byte, with its passwords.
    const sealed = await vault.get({ name: outs.appSigningVault.name, kind: "android-keystore", scope: APPLICATION_ID });
    expect(Buffer.compare(sealed.bundle.keystore as Buffer, legacyBytes)).toBe(0);
    expect(sealed.bundle.storePassword).toBe(STORE_PASSWORD);
    expect(sealed.bundle.keyPassword).toBe(KEY_PASSWORD);
    expect(sealed.header.meta.role).toBe("app-signing");
    expect(outs.appSigningFingerprints.sha256).toBe(legacySha256[0]);

    // (2, 3) A new upload key, whose certificate openssl reads with the fingerprint we output.
    const certFile = path.join(tmp.dir, "upload_certificate.pem");
    fs.writeFileSync(certFile, outs.uploadCertificatePem);
    const printed = await openssl(["x509", "-in", certFile, "-noout", "-subject", "-fingerprint", "-sha256"]);
    expect(printed).toMatch(/CN ?= ?Acme Upload/);
    expect(printed).toContain(`sha256 Fingerprint=${outs.uploadFingerprints.sha256}`);
    expect(outs.uploadFingerprints.sha256).not.toBe(outs.appSigningFingerprints.sha256);
    const uploadSealed = await vault.head(outs.uploadVault.name);
    expect(uploadSealed?.meta.role).toBe("upload");

    // (4) The pepk command: the keystore `appsigning fetch` writes, the alias, Play Console's key.
    const base = outs.appSigningVault.name.split("/").pop();
    expect(outs.pepk.keystorePath).toBe(`play-app-signing/${base}.jks`);
    expect(outs.pepkCommand).toContain(`--keystore=play-app-signing/${base}.jks`);
    expect(outs.pepkCommand).toContain("--alias=legacy");
    expect(outs.pepkCommand).toContain("--rsa-aes-encryption --encryption-key-path=play-app-signing/encryption_public_key.pem");
    expect(outs.pepkCommand).not.toMatch(/pass/i);
    const steps = outs.pepkSteps.join("\n");
    expect(steps).toContain(`appsigning fetch ${outs.appSigningVault.name} --out play-app-signing`);
    expect(steps).toContain(outs.pepkCommand);
    expect(steps).toContain(`it must be ${legacySha256[0]}`);

    // No keystore byte or password anywhere in state, even with secrets shown (the example reads
    // them from a file and the environment, never from stack config).
    const secrets = [STORE_PASSWORD, KEY_PASSWORD, legacyBytes.toString("base64").slice(100, 164)];
    const shown = await stack.exportWithSecrets();
    expect(secrets.map((x) => shown.includes(x))).toEqual([false, false, false]);

    // The next run changes nothing: in particular no "replacement" of the guarded imported key.
    expectSuccess(await stack.preview(["--expect-no-changes"]));

    // The legacy keystore is protected: destroy is refused until allowDelete.
    const destroy = await stack.destroy();
    expect(destroy.code).not.toBe(0);
    expect(destroy.output).toMatch(/protect/);
    expect((await vault.head(outs.appSigningVault.name))?.state).toBe("active");
  } finally {
    await stack.dispose();
    tmp.cleanup();
  }
});
