/**
 * How our resources reach their implementation in Pulumi's dynamic-provider process.
 *
 * A Pulumi dynamic resource carries its provider in the `__provider` input: the text of a CommonJS
 * module that the dynamic-provider host evaluates (require-from-string, resolving from the program's
 * folder) and whose `handler()` returns the provider object. `pulumi.dynamic.Resource` produces that
 * text by serializing a closure, which costs the program ~30 ms per provider and, with Pulumi's
 * wrapping of every method, about 2.4 KB per resource, stored twice (inputs and outputs) in every
 * resource's state and rewritten by the engine at every checkpoint. We write the module ourselves
 * instead: one line that loads the installed package by path, about 110 bytes. A closure that
 * captured our modules would in any case have to serialize them by value, AWS SDK clients included.
 *
 * Read and delete run the text stored in state, so the module path must stay stable across releases
 * (renaming a resource module needs a re-export at the old path). State written by earlier releases
 * holds Pulumi-serialized closures that load the same paths; the host evaluates either, and our diffs
 * ignore `__provider`, so upgrading changes nothing until a resource's next real update.
 */
import * as pulumi from "@pulumi/pulumi";

const PROVIDER_KEY = "__provider";

/** The `__provider` module text for an implementation module that exports `provider`. */
export function providerModuleText(modulePath: string): string {
  if (!/^[A-Za-z0-9@][A-Za-z0-9@/._-]*\.js$/.test(modulePath)) {
    throw new Error(`provider module path ${JSON.stringify(modulePath)} must be a package path ending in .js`);
  }
  return `exports.handler = () => require(${JSON.stringify(modulePath)}).provider;\n`;
}

/**
 * A dynamic resource (type `pulumi-nodejs:dynamic/<module>:<type>`, served by Pulumi's Node.js
 * dynamic-provider host) whose provider is the `provider` export of `modulePath` in the installed
 * package, e.g. "pulumi-appsigning/dist/provider/resources/android/keystore.js".
 */
export class LazyDynamicResource extends pulumi.CustomResource {
  constructor(modulePath: string, module: string, type: string, name: string, props: pulumi.Inputs, opts?: pulumi.CustomResourceOptions) {
    if (PROVIDER_KEY in props) throw new Error(`a dynamic resource must not define the ${PROVIDER_KEY} input`);
    super(`pulumi-nodejs:dynamic/${module}:${type}`, name, { ...props, [PROVIDER_KEY]: providerModuleText(modulePath) }, opts);
  }
}
