/**
 * What Pulumi stores as `__provider` must be a small closure that loads our code by package path,
 * holding no secret and no client. Serialization is checked in a child node process: jest's module
 * registry breaks Pulumi's closure serializer (pulumi/pulumi#3799).
 */
import { execFileSync } from "child_process";
import * as path from "path";

const root = path.resolve(__dirname, "../..");

test("the serialized provider captures only a package path and loads the implementation at call time", () => {
  const script = `
    const pulumi = require("@pulumi/pulumi");
    const { lazyProvider } = require("pulumi-appsigning/dist/provider/resources/lazy-provider.js");
    process.env.APPSIGNING_PASSPHRASE = "should-never-be-captured";
    const provider = lazyProvider("pulumi-appsigning/dist/test/fixtures/sealed-note/provider.js");
    pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true }).then((sf) => {
      console.log(JSON.stringify({ text: sf.text, secrets: sf.containsSecrets }));
    });
  `;
  const out = JSON.parse(execFileSync(process.execPath, ["-e", script], { cwd: root }).toString());
  expect(out.secrets).toBe(false);
  expect(out.text).toContain("pulumi-appsigning/dist/test/fixtures/sealed-note/provider.js");
  expect(out.text).not.toContain("should-never-be-captured");
  expect(out.text).not.toMatch(/S3Client|KMSClient|node-forge/);
  expect(out.text.length).toBeLessThan(5000);
});
