/**
 * What Pulumi stores as `__provider` must be a small module that loads our code by package path,
 * holding no secret and no client, and that Pulumi's dynamic-provider host can evaluate the way it
 * does (require-from-string, resolving from the program's folder). Checked in a child node process,
 * as the host runs it, outside jest's module registry.
 */
import { execFileSync } from "child_process";
import * as path from "path";
import { providerModuleText } from "../../provider/resources/lazy-provider";

const root = path.resolve(__dirname, "../..");

test("the provider module loads the implementation by package path at call time", () => {
  const text = providerModuleText("pulumi-appsigning/dist/test/fixtures/sealed-note/provider.js");
  const script = `
    process.env.APPSIGNING_PASSPHRASE = "should-never-be-captured";
    const requireFromString = require(require.resolve("require-from-string", { paths: [require("path").dirname(require.resolve("@pulumi/pulumi/package.json"))] }));
    const loaded = () => Object.keys(require.cache).filter((k) => k.includes("sealed-note")).length;
    const handler = requireFromString(process.argv[1]).handler;
    const before = loaded();
    const provider = handler();
    const methods = ["check", "diff", "create", "read", "update", "delete"].filter((m) => typeof provider[m] === "function");
    console.log(JSON.stringify({ before, after: loaded(), methods }));
  `;
  const out = JSON.parse(execFileSync(process.execPath, ["-e", script, text], { cwd: root }).toString());
  // The fixture has no update: the host sees exactly the methods the implementation exports.
  expect(out).toEqual({ before: 0, after: 1, methods: ["check", "diff", "create", "read", "delete"] });
  expect(text).not.toContain("should-never-be-captured");
  expect(text).not.toMatch(/S3Client|KMSClient|node-forge/);
  expect(text.length).toBeLessThan(200);
});

test("every resource's provider module names a module of this package that exports a provider", () => {
  const modules = [
    "pulumi-appsigning/dist/provider/resources/android/keystore.js",
    "pulumi-appsigning/dist/provider/resources/ios/distribution-certificate.js",
    "pulumi-appsigning/dist/provider/resources/ios/provisioning-profile.js",
    "pulumi-appsigning/dist/provider/resources/ios/push-key.js",
  ];
  const script = `
    const requireFromString = require(require.resolve("require-from-string", { paths: [require("path").dirname(require.resolve("@pulumi/pulumi/package.json"))] }));
    const out = process.argv.slice(1).map((t) => Object.keys(requireFromString(t).handler()).sort().join(","));
    console.log(JSON.stringify(out));
  `;
  const out = JSON.parse(execFileSync(process.execPath, ["-e", script, ...modules.map(providerModuleText)], { cwd: root }).toString());
  expect(out).toEqual(modules.map(() => "check,create,delete,diff,read,update"));
});

test("a module path that is not a plain package path is refused", () => {
  expect(() => providerModuleText('x"); process.exit(1); ("y.js')).toThrow(/must be a package path/);
  expect(() => providerModuleText("pulumi-appsigning/dist/provider/resources/android/keystore")).toThrow(/ending in \.js/);
});
