/**
 * The dynamic provider that Pulumi serializes into state. Pulumi runs provider methods in another
 * process from a serialized closure (DESIGN.md, "Pulumi facts"); a closure that captured our
 * modules would serialize them by value, AWS SDK clients included, and fail. So each method
 * captures only a package path and loads the implementation at call time, the way any installed
 * package is loaded. Read and delete run the closure stored in state: the path must stay stable
 * across releases (renaming a resource module needs a re-export at the old path).
 */
import type * as pulumi from "@pulumi/pulumi";

/**
 * @param modulePath the implementation module inside the installed package, e.g.
 *   "pulumi-appsigning/dist/provider/resources/android/keystore.js"; it exports `provider`.
 */
export function lazyProvider(modulePath: string): pulumi.dynamic.ResourceProvider {
  // One object per module: Pulumi caches a provider's serialization by object identity, and
  // serializing a closure costs ~30 ms of the program's time, so a fleet of 150 resources would
  // spend seconds re-serializing the same four providers. The serialized text is the same.
  let provider = providers.get(modulePath);
  if (!provider) {
    provider = closureFor(modulePath);
    providers.set(modulePath, provider);
  }
  return provider;
}

const providers = new Map<string, pulumi.dynamic.ResourceProvider>();

function closureFor(modulePath: string): pulumi.dynamic.ResourceProvider {
  const implementation = modulePath;
  return {
    check: (olds, news) => require(implementation).provider.check(olds, news),
    diff: (id, olds, news) => require(implementation).provider.diff(id, olds, news),
    create: (inputs) => require(implementation).provider.create(inputs),
    read: (id, props) => require(implementation).provider.read(id, props),
    update: (id, olds, news) => require(implementation).provider.update(id, olds, news),
    delete: (id, props) => require(implementation).provider.delete(id, props),
  };
}
