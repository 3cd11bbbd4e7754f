/**
 * The PEPK part of android.PlayAppSigningOptIn: the command and steps it outputs, from the
 * encryption key given as text (current consoles) or as 136 hex characters (older consoles). The
 * component itself (two Keystores under the real engine) is tested end to end in test/e2e/opt-in.test.ts.
 */
import { generateKeyPairSync } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { optInExport } from "../../provider/resources/android/play-app-signing-opt-in";
import type { OptInExportInput } from "../../provider/resources/android/play-app-signing-opt-in";
import { inputFailure } from "../support/errors";

const LEGACY_HEX =
  "eb10fe8f7c7c9df715022017b00c6471f8ba8170b13049a11e6c09ffe3056a104a3bbe4ac5a955f4ba4fe93fc8cef27558a3eb9d2a529a2092761fb833b656cd48b9de6a";
const rsaPublicPem = generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey.export({ type: "spki", format: "pem" }).toString();

const base: OptInExportInput = {
  appSigningVaultName: "android/keystores/acme/prod/optin-app-signing",
  alias: "legacy",
  format: "JKS",
  appSigningSha256: "AA:BB:CC",
  uploadVaultName: "android/keystores/acme/prod/optin-upload",
  uploadSha256: "DD:EE:FF",
};

const thrown = inputFailure;

describe("the opt-in's pepk export", () => {
  test("with Play Console's encryption_public_key.pem: the current command, on the keystore `appsigning fetch` writes", () => {
    const out = optInExport({ ...base, encryptionPublicKeyPem: rsaPublicPem });
    expect(out.scheme).toBe("rsa-aes");
    expect(out.keystorePath).toBe("play-app-signing/optin-app-signing.jks");
    expect(out.encryptionKeyPath).toBe("play-app-signing/encryption_public_key.pem");
    expect(out.command).toBe(
      "java -jar pepk.jar --keystore=play-app-signing/optin-app-signing.jks --alias=legacy --output=play-app-signing/pepk-output.zip " +
        "--include-cert --rsa-aes-encryption --encryption-key-path=play-app-signing/encryption_public_key.pem",
    );
    expect(out.fetchCommand).toBe("mkdir -p play-app-signing && appsigning fetch android/keystores/acme/prod/optin-app-signing --out play-app-signing");
    // No temporary path leaks out of the key check.
    expect(JSON.stringify(out)).not.toContain(os.tmpdir() + path.sep + "appsigning-pepk-");
    expect(out.argv.some((a) => /pass/i.test(a))).toBe(false);
  });

  test("the steps: fetch, run pepk, upload the zip, register the upload certificate, delete the local copies", () => {
    const out = optInExport({ ...base, encryptionPublicKeyPem: rsaPublicPem });
    const text = out.steps.join("\n");
    expect(out.steps.map((s) => Number(s.split(".")[0]))).toEqual(out.steps.map((_, i) => i + 1));
    const at = (re: RegExp) => out.steps.findIndex((s) => re.test(s));
    const fetch = at(/appsigning fetch android\/keystores\/acme\/prod\/optin-app-signing --out play-app-signing/);
    const run = out.steps.findIndex((s) => s.includes(out.command));
    const upload = at(/Upload play-app-signing\/pepk-output\.zip/);
    const register = at(/upload certificate \(output uploadCertificatePem/);
    const cleanup = at(/^\d+\. Delete /);
    expect([fetch, run, upload, register, cleanup].every((i) => i >= 0)).toBe(true);
    expect(fetch).toBeLessThan(run);
    expect(run).toBeLessThan(upload);
    expect(upload).toBeLessThan(register);
    expect(register).toBeLessThan(cleanup);
    expect(text).toMatch(/play-app-signing\/optin-app-signing\.keystore\.properties: storePassword and keyPassword there are what pepk asks for/);
    expect(out.steps[cleanup]).toMatch(/play-app-signing\/optin-app-signing\.keystore\.properties/);
    expect(text).toMatch(/it must be AA:BB:CC/);
    expect(out.steps[register]).toMatch(/SHA-256 DD:EE:FF/);
    expect(out.steps[register]).toMatch(/appsigning fetch android\/keystores\/acme\/prod\/optin-upload/);
    expect(text).toMatch(/Export and upload a key from Java keystore/);
  });

  test("with an older console's 136-hex key: the --encryptionkey command, and a PKCS12 keystore path", () => {
    const out = optInExport({ ...base, format: "PKCS12", encryptionKeyHex: LEGACY_HEX, exportDir: "out/optin/" });
    expect(out.scheme).toBe("legacy-hex");
    expect(out.encryptionKeyPath).toBeUndefined();
    expect(out.command).toBe(
      `java -jar pepk.jar --keystore=out/optin/optin-app-signing.p12 --alias=legacy --output=out/optin/pepk-output.zip --include-cert --encryptionkey=${LEGACY_HEX}`,
    );
  });

  test("an encryption key that is not Play's RSA public key is refused, naming encryptionPublicKeyPem and no temporary file", () => {
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
    for (const [pem, reason] of [
      [ec.publicKey.export({ type: "spki", format: "pem" }).toString(), /holds an ec public key; Play Console's is RSA/],
      [ec.privateKey.export({ type: "pkcs8", format: "pem" }).toString(), /holds a PEM "PRIVATE KEY", not the RSA public key/],
      ["encryption_public_key.pem", /is not a PEM public key/],
    ] as const) {
      const err = thrown(() => optInExport({ ...base, encryptionPublicKeyPem: pem }));
      expect(err.field).toBe("encryptionPublicKeyPem");
      expect(err.message).toMatch(reason);
      expect(err.message).toMatch(/given as encryptionPublicKeyPem/);
      expect(err.message).not.toContain(os.tmpdir());
    }
  });

  test("a hex key of the wrong length is refused on encryptionKeyHex", () => {
    const err = thrown(() => optInExport({ ...base, encryptionKeyHex: LEGACY_HEX.slice(2) }));
    expect(err.field).toBe("encryptionKeyHex");
    expect(err.message).toMatch(/136 hexadecimal characters/);
  });

  test("both keys, or neither, are refused", () => {
    expect(thrown(() => optInExport({ ...base, encryptionPublicKeyPem: rsaPublicPem, encryptionKeyHex: LEGACY_HEX })).message).toMatch(/exactly one/);
    expect(thrown(() => optInExport(base)).message).toMatch(/exactly one/);
  });

  test("an export folder that would need shell quoting is refused", () => {
    expect(thrown(() => optInExport({ ...base, encryptionKeyHex: LEGACY_HEX, exportDir: "my keys" })).field).toBe("exportDir");
  });

  test("the key check leaves no temporary file behind", () => {
    const before = fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith("appsigning-pepk-")).length;
    optInExport({ ...base, encryptionPublicKeyPem: rsaPublicPem });
    thrown(() => optInExport({ ...base, encryptionPublicKeyPem: "nope" }));
    expect(fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith("appsigning-pepk-")).length).toBe(before);
  });
});
