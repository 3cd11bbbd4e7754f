import { generateKeyPairSync } from "crypto";
import { writeFileSync } from "fs";
import { join } from "path";
import { InvalidCredentialInput } from "../../provider/errors";
import { pepkInstructions } from "../../provider/formats/pepk";
import { withTempDir } from "../support/tools";

/** The encryption key older Play Consoles printed in their pepk command (public; widely copied). */
const LEGACY_HEX =
  "eb10fe8f7c7c9df715022017b00c6471f8ba8170b13049a11e6c09ffe3056a104a3bbe4ac5a955f4ba4fe93fc8cef27558a3eb9d2a529a2092761fb833b656cd48b9de6a";

async function failure(f: () => unknown): Promise<InvalidCredentialInput> {
  try {
    await f();
  } catch (e) {
    if (e instanceof InvalidCredentialInput) return e;
    throw e;
  }
  throw new Error("expected an InvalidCredentialInput");
}

function writePublicKey(dir: string, type: "rsa" | "ec", name = "encryption_public_key.pem"): string {
  const pair = type === "rsa" ? generateKeyPairSync("rsa", { modulusLength: 2048 }) : generateKeyPairSync("ec", { namedCurve: "P-256" });
  const path = join(dir, name);
  writeFileSync(path, pair.publicKey.export({ type: "spki", format: "pem" }));
  return path;
}

describe("PEPK instructions", () => {
  it("give the current Play Console command (--rsa-aes-encryption --encryption-key-path) for a PEM encryption key", async () => {
    await withTempDir((dir) => {
      const keyPath = writePublicKey(dir, "rsa");
      const out = pepkInstructions({ keystorePath: "app-signing.jks", alias: "release", outputPath: "output.zip", encryptionKeyPath: keyPath });
      expect(out.scheme).toBe("rsa-aes");
      expect(out.argv).toEqual([
        "java", "-jar", "pepk.jar",
        "--keystore=app-signing.jks", "--alias=release", "--output=output.zip", "--include-cert",
        "--rsa-aes-encryption", `--encryption-key-path=${keyPath}`,
      ]);
      expect(out.command).toBe(
        `java -jar pepk.jar --keystore=app-signing.jks --alias=release --output=output.zip --include-cert --rsa-aes-encryption --encryption-key-path=${keyPath}`,
      );
    });
  });

  it("give the older --encryptionkey=<hex> command for a 136-hex-character key", () => {
    const out = pepkInstructions({ keystorePath: "k.jks", alias: "foo", outputPath: "output.zip", encryptionKeyHex: LEGACY_HEX.toUpperCase() });
    expect(out.scheme).toBe("legacy-hex");
    expect(out.command).toBe(`java -jar pepk.jar --keystore=k.jks --alias=foo --output=output.zip --include-cert --encryptionkey=${LEGACY_HEX}`);
  });

  it("number the steps, include the command and the expected fingerprint, and never put a password on the command line", () => {
    const out = pepkInstructions({
      keystorePath: "k.jks", alias: "foo", outputPath: "output.zip", encryptionKeyHex: LEGACY_HEX, certificateSha256: "AB:CD",
    });
    expect(out.steps.map((s) => s.split(".")[0])).toEqual(["1", "2", "3", "4", "5", "6"]);
    expect(out.steps.join("\n")).toContain(out.command);
    expect(out.steps.join("\n")).toMatch(/Export and upload a key from Java keystore/);
    expect(out.steps.join("\n")).toMatch(/it must be AB:CD/);
    expect(out.argv.some((a) => /pass/i.test(a))).toBe(false);
  });

  it("quote paths with spaces or quotes for the shell, and keep argv unquoted", () => {
    const out = pepkInstructions({ keystorePath: "/tmp/my keys/o'brien.jks", alias: "foo", outputPath: "out.zip", encryptionKeyHex: LEGACY_HEX, pepkJarPath: "/opt/pepk/pepk.jar" });
    expect(out.argv[3]).toBe("--keystore=/tmp/my keys/o'brien.jks");
    expect(out.command).toContain(`'--keystore=/tmp/my keys/o'\\''brien.jks'`);
    expect(out.command.startsWith("java -jar /opt/pepk/pepk.jar ")).toBe(true);
  });

  it.each([
    ["a short key", LEGACY_HEX.slice(2), /136 hexadecimal characters .*got 134 characters/],
    ["a non-hex key", LEGACY_HEX.slice(0, 134) + "zz", /got 136 characters, not all hexadecimal/],
  ])("refuse %s, naming encryptionKeyHex", async (_what, hex, message) => {
    const e = await failure(() => pepkInstructions({ keystorePath: "k.jks", alias: "a", outputPath: "o.zip", encryptionKeyHex: hex }));
    expect(e.field).toBe("encryptionKeyHex");
    expect(e.message).toMatch(message);
  });

  it("refuse an EC key, a private key, a missing file and a non-PEM file for encryptionKeyPath", async () => {
    await withTempDir(async (dir) => {
      const ec = writePublicKey(dir, "ec", "ec.pem");
      const priv = join(dir, "private.pem");
      writeFileSync(priv, generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }));
      const junk = join(dir, "junk.txt");
      writeFileSync(junk, "hello");
      const base = { keystorePath: "k.jks", alias: "a", outputPath: "o.zip" };
      const messages: string[] = [];
      for (const [path, message] of [
        [ec, /holds an ec public key; Play Console's is RSA/],
        [priv, /holds a PEM "PRIVATE KEY", not the RSA public key/],
        [join(dir, "missing.pem"), /cannot be read/],
        [junk, /is not a PEM public key/],
      ] as const) {
        const e = await failure(() => pepkInstructions({ ...base, encryptionKeyPath: path }));
        expect(e.field).toBe("encryptionKeyPath");
        expect(e.message).toMatch(message);
        messages.push(e.message);
      }
      expect(new Set(messages).size).toBe(4);
    });
  });

  it("want exactly one of the two encryption key forms", async () => {
    expect((await failure(() => pepkInstructions({ keystorePath: "k", alias: "a", outputPath: "o" }))).field).toBe("encryptionKeyPath");
    const both = await failure(() => pepkInstructions({ keystorePath: "k", alias: "a", outputPath: "o", encryptionKeyHex: LEGACY_HEX, encryptionKeyPath: "x.pem" }));
    expect(both.message).toMatch(/exactly one of encryptionKeyPath/);
  });
});
