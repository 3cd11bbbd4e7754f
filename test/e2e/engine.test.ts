/**
 * The engine harness, end to end: the real `pulumi` CLI runs a program whose dynamic resource seals
 * a blob into S3 with KMS on the moto server; up, a no-change preview, refresh and destroy.
 */
import * as path from "path";
import { Vault } from "../../provider/store";
import { kmsKeyUrl, newBucket, newKmsKey, s3StoreUrl } from "../harness/aws";
import { expectSuccess, PulumiStack, REPO } from "../harness/pulumi";

jest.setTimeout(600_000);

test("up seals a blob in S3 with KMS, preview sees no change, refresh keeps it, destroy retires it and keeps its versions", async () => {
  const bucket = await newBucket();
  const key = await newKmsKey();
  const store = { url: s3StoreUrl(bucket, "e2e"), kms: kmsKeyUrl(key.alias) };
  const stack = await PulumiStack.create(path.join(REPO, "test/fixtures/e2e-vault"), {
    config: { storeUrl: store.url, storeKms: store.kms },
  });
  try {
    const up = await stack.up();
    expectSuccess(up);
    expect(up.output).toMatch(/\+ 2 created/);
    expect(up.output).toMatch(/SealedNote note created/);
    const outs = await stack.outputs();
    expect(outs.version).toEqual(expect.any(String));

    const vault = Vault.open(store);
    const id = { name: "notes/first", kind: "test-note", scope: "e2e" };
    const sealed = await vault.get(id);
    expect(sealed.version).toBe(outs.version);
    const secret = (sealed.bundle.secret as Buffer).toString("hex");
    expect((await stack.exportWithSecrets()).includes(secret)).toBe(false);

    const preview = await stack.preview(["--expect-no-changes"]);
    expectSuccess(preview);

    const refresh = await stack.refresh(["--expect-no-changes"]);
    expectSuccess(refresh);

    const destroy = await stack.destroy();
    expectSuccess(destroy);
    expect((await vault.head(id.name))?.state).toBe("retired");
    expect((await vault.get(id, { version: String(outs.version) })).bundle.secret).toEqual(sealed.bundle.secret);
  } finally {
    await stack.dispose();
  }
});

test("a stack deployed with a Pulumi-serialized provider closure upgrades to the one-line provider module with no change", async () => {
  const bucket = await newBucket();
  const key = await newKmsKey();
  const store = { url: s3StoreUrl(bucket, "e2e"), kms: kmsKeyUrl(key.alias) };
  const stack = await PulumiStack.create(path.join(REPO, "test/fixtures/e2e-vault"), {
    config: { storeUrl: store.url, storeKms: store.kms, noteName: "upgrade", legacyClosure: "true" },
  });
  try {
    expectSuccess(await stack.up());
    const before = await stack.outputs();
    const providerText = async () => {
      const doc = JSON.parse((await stack.run(["stack", "export"])).stdout) as { deployment: { resources: Array<{ type: string; inputs?: { __provider?: string } }> } };
      return doc.deployment.resources.find((r) => r.type === "pulumi-nodejs:dynamic/test:SealedNote")!.inputs!.__provider!;
    };
    expect(await providerText()).toMatch(/function __f\d/); // Pulumi's serialized closure

    await stack.setConfig("legacyClosure", "false");
    expectSuccess(await stack.preview(["--expect-no-changes"]));
    expectSuccess(await stack.up(["--expect-no-changes"]));
    expect(await providerText()).toBe('exports.handler = () => require("pulumi-appsigning/dist/test/fixtures/sealed-note/provider.js").provider;\n');
    expect(await stack.outputs()).toEqual(before);
    // Refresh and delete run the provider text kept with the outputs: either form works.
    expectSuccess(await stack.refresh(["--expect-no-changes"]));
    expectSuccess(await stack.destroy());
    expect((await Vault.open(store).head("notes/upgrade"))?.state).toBe("retired");
  } finally {
    await stack.dispose();
  }
});
