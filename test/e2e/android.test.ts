/**
 * android.Keystore under the real `pulumi` CLI, with the vault in S3 + KMS on the moto server:
 * create, the app-signing guard, an upload-key replacement, and destroy keeping sealed versions.
 */
import * as fs from "fs";
import * as path from "path";
import { Vault } from "../../provider/store";
import { kmsKeyUrl, newBucket, newKmsKey, s3StoreUrl } from "../harness/aws";
import { expectSuccess, PulumiStack, REPO } from "../harness/pulumi";
import { keytoolListVerbose, keytoolSha256Fingerprints, signAndVerifyApk, toApksignerHex, withTempDir } from "../support/tools";

jest.setTimeout(900_000);

interface Outs {
  uploadCertificatePem: string;
  uploadSha256: string;
  uploadVault: { name: string; version: string };
  appSigningSha256: string;
  appSigningVault: { name: string; version: string };
}

const keystoreId = (stack: string, name: string) => ({ name: `android/keystores/appsigning-android/${stack}/${name}`, kind: "android-keystore", scope: "com.acme.app" });

test("keystores: created and usable by keytool and apksigner, app-signing guarded, upload replaceable, destroy keeps versions", async () => {
  const bucket = await newBucket();
  const key = await newKmsKey();
  const store = { url: s3StoreUrl(bucket, "android"), kms: kmsKeyUrl(key.alias) };
  const stack = await PulumiStack.create(path.join(REPO, "examples/android"), { config: { storeUrl: store.url, storeKms: store.kms } });
  const vault = Vault.open(store);
  try {
    const up = await stack.up();
    expectSuccess(up);
    const outs = (await stack.outputs()) as unknown as Outs;
    expect(outs.uploadCertificatePem).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
    expect(outs.uploadSha256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);

    // Both keystores, as sealed, open in keytool and sign an APK whose signer matches our output.
    for (const [name, format, sha] of [["upload", "PKCS12", outs.uploadSha256], ["app-signing", "JKS", outs.appSigningSha256]] as const) {
      const sealed = await vault.get(keystoreId(stack.stack, name));
      await withTempDir(async (dir) => {
        const file = path.join(dir, `ks.${format === "JKS" ? "jks" : "p12"}`);
        fs.writeFileSync(file, sealed.bundle.keystore as Buffer);
        const listing = await keytoolListVerbose(file, String(sealed.bundle.storePassword), format);
        expect(keytoolSha256Fingerprints(listing)).toContain(sha);
        const apk = await signAndVerifyApk({
          dir,
          keystorePath: file,
          alias: String(sealed.bundle.alias),
          storePassword: String(sealed.bundle.storePassword),
          keyPassword: String(sealed.bundle.keyPassword),
          storeType: format,
        });
        expect(apk.signerSha256).toBe(toApksignerHex(sha));
      });
    }

    // No keystore byte or password in state, even with secrets shown.
    const state = await stack.exportWithSecrets();
    for (const name of ["upload", "app-signing"]) {
      const sealed = await vault.get(keystoreId(stack.stack, name));
      // Booleans, so a failure never prints the secret it found.
      expect(state.includes(String(sealed.bundle.storePassword))).toBe(false);
      expect(state.includes((sealed.bundle.keystore as Buffer).toString("base64").slice(0, 64))).toBe(false);
    }

    // Replacing the app-signing key is refused at preview, with the reason.
    await stack.setConfig("appSigningKeySize", "4096");
    const guarded = await stack.preview();
    expect(guarded.code).not.toBe(0);
    expect(guarded.output).toMatch(/Refusing to replace the app-signing keystore "appsigning-android\/e2e-[0-9a-f]+\/app-signing"/);
    expect(guarded.output).toMatch(/can never be updated again/);
    expect(guarded.output).toMatch(/allowReplace: true/);
    await stack.setConfig("appSigningKeySize", "2048");

    // Replacing the upload key works and changes the certificate.
    await stack.setConfig("uploadKeySize", "4096");
    const preview = await stack.preview();
    expectSuccess(preview);
    expect(preview.output).toMatch(/\+-.*upload|replace/);
    const replaced = await stack.up();
    expectSuccess(replaced);
    expect(replaced.output).toMatch(/Play Console/);
    const after = (await stack.outputs()) as unknown as Outs;
    expect(after.uploadSha256).not.toBe(outs.uploadSha256);
    expect(after.uploadCertificatePem).not.toBe(outs.uploadCertificatePem);
    expect(after.appSigningSha256).toBe(outs.appSigningSha256);
    // The earlier upload keystore is still in the vault, by version.
    const old = await vault.get(keystoreId(stack.stack, "upload"), { version: outs.uploadVault.version });
    expect(old.header.meta.sha256).toBe(outs.uploadSha256);

    // Destroy is refused while the app-signing keystore is protected; allowDelete lifts it.
    const refused = await stack.destroy();
    expect(refused.code).not.toBe(0);
    expect(refused.output).toMatch(/protect/);
    await stack.setConfig("allowDelete", "true");
    expectSuccess(await stack.up());
    const destroyed = await stack.destroy();
    expectSuccess(destroyed);
    expect((await vault.head(keystoreId(stack.stack, "app-signing").name))?.state).toBe("retired");
    const kept = await vault.get(keystoreId(stack.stack, "app-signing"), { version: outs.appSigningVault.version });
    expect(kept.header.meta.sha256).toBe(outs.appSigningSha256);
  } finally {
    await stack.dispose();
  }
});
