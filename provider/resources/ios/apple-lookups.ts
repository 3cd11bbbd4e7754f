/**
 * Look-ups that every profile of a deployment would repeat, made once per provider process (Pulumi
 * starts one per deployment) and shared: the team's bundle IDs and its enabled devices. A fleet of
 * 50 apps otherwise lists devices 50 times and looks each bundle ID up twice (once per profile),
 * and its two profiles race to register it. Each answer is as of the first look-up of the
 * deployment; a bundle ID registered elsewhere since is still found, through Apple's 409.
 */
import { ensureBundleId, findBundleId, listBundleIdsIfOnePage, listDevices } from "../../apple";
import type { AppleClient, BundleId, BundleIdPlatform, Device } from "../../apple";
import { sharedOnce } from "../shared-once";

interface Lookups {
  /** The team's bundle IDs by identifier; undefined when they do not fit in one page. */
  team: Map<string, Promise<Map<string, BundleId> | undefined>>;
  byIdentifier: Map<string, Promise<BundleId | undefined>>;
  devices: Map<string, Promise<Device[]>>;
}

// Keyed by client: clients are per API key and per process (apple-access.ts).
const lookups = new WeakMap<AppleClient, Lookups>();

function of(apple: AppleClient): Lookups {
  let l = lookups.get(apple);
  if (!l) {
    l = { team: new Map(), byIdentifier: new Map(), devices: new Map() };
    lookups.set(apple, l);
  }
  return l;
}

function teamBundleIds(apple: AppleClient): Promise<Map<string, BundleId> | undefined> {
  return sharedOnce(of(apple).team, "bundleIds", async () => {
    const all = await listBundleIdsIfOnePage(apple);
    return all ? new Map(all.map((b) => [b.identifier, b])) : undefined;
  });
}

/** The bundle ID for `identifier`; registered when absent and `create` is set, else undefined when absent. */
export async function bundleIdFor(apple: AppleClient, input: { identifier: string; name: string; platform: BundleIdPlatform }, create: boolean): Promise<BundleId | undefined> {
  const known = await teamBundleIds(apple);
  const hit = known?.get(input.identifier);
  if (hit) return hit;
  return sharedOnce(of(apple).byIdentifier, `${create}:${input.identifier}`, () =>
    create ? ensureBundleId(apple, input, { knownAbsent: known !== undefined }) : findBundleId(apple, input.identifier),
  );
}

/** The team's enabled devices of a platform. */
export function enabledDevices(apple: AppleClient, platform: "IOS" | "MAC_OS"): Promise<Device[]> {
  return sharedOnce(of(apple).devices, platform, () => listDevices(apple, { platform, status: "ENABLED" }));
}
