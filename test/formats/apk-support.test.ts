import { join } from "path";
import { minimalAndroidManifest } from "../support/apk";
import { describeWithTools, keytoolGenerate, signAndVerifyApk, withTempDir } from "../support/tools";

describeWithTools(["keytool", "apksigner"], "the minimal test APK", () => {
  it("is a 120-byte manifest that apksigner signs and verifies with a keytool keystore", async () => {
    expect(minimalAndroidManifest().length).toBe(120);
    await withTempDir(async (dir) => {
      const path = join(dir, "ks.p12");
      await keytoolGenerate({ path, storeType: "PKCS12", alias: "upload", storePassword: "fixture-pass" });
      const result = await signAndVerifyApk({ dir, keystorePath: path, alias: "upload", storePassword: "fixture-pass", keyPassword: "fixture-pass" });
      expect(result.schemes).toEqual(expect.arrayContaining(["v1 scheme", "v2 scheme", "v3 scheme"]));
    });
  });
});
