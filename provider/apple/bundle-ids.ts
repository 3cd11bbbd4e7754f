/**
 * Bundle IDs (App IDs): `GET /v1/bundleIds?filter[identifier]=`, `POST /v1/bundleIds`.
 * Apple's identifier filter may match more than the exact identifier, so results are compared exactly.
 */
import { AppleApiError } from "../errors";
import type { AppleClient } from "./client";
import type { BundleId, BundleIdPlatform, DocumentMany, DocumentOne, ResourceObject } from "./types";

interface BundleIdAttributes {
  identifier: string;
  name: string;
  platform: BundleIdPlatform;
  seedId: string;
}

function toBundleId(r: ResourceObject<BundleIdAttributes>): BundleId {
  const a = (r.attributes ?? {}) as Partial<BundleIdAttributes>;
  return { id: r.id, identifier: a.identifier ?? "", name: a.name ?? "", platform: a.platform as BundleIdPlatform, seedId: a.seedId ?? "" };
}

/** Lists bundle IDs (every page), optionally filtered by Apple's (loose) identifier filter. */
export async function listBundleIds(client: AppleClient, filter: { identifier?: string; platform?: BundleIdPlatform } = {}): Promise<BundleId[]> {
  const { data } = await client.listAll<BundleIdAttributes>("/v1/bundleIds", {
    "filter[identifier]": filter.identifier,
    "filter[platform]": filter.platform,
  });
  return data.map(toBundleId);
}

/**
 * Every bundle ID of the team when one page holds them all (up to the client's page size, 200);
 * undefined when there are more pages, so a caller looks identifiers up one by one instead.
 */
export async function listBundleIdsIfOnePage(client: AppleClient): Promise<BundleId[] | undefined> {
  const page = await client.request<DocumentMany<BundleIdAttributes>>("GET", "/v1/bundleIds", { query: { limit: client.pageLimit } });
  if (!page || page.links?.next) return undefined;
  return page.data.map(toBundleId);
}

/** The bundle ID whose identifier is exactly `identifier`, or undefined. */
export async function findBundleId(client: AppleClient, identifier: string): Promise<BundleId | undefined> {
  return (await listBundleIds(client, { identifier })).find((b) => b.identifier === identifier);
}

/** One bundle ID by Apple's ID, or undefined. */
export async function getBundleId(client: AppleClient, id: string): Promise<BundleId | undefined> {
  const doc = await client.getOne<BundleIdAttributes>(`/v1/bundleIds/${encodeURIComponent(id)}`);
  return doc ? toBundleId(doc.data) : undefined;
}

/** Registers a bundle ID; after an ambiguous failure, looks it up by identifier before sending again. */
export async function createBundleId(
  client: AppleClient,
  input: { identifier: string; name: string; platform: BundleIdPlatform },
): Promise<BundleId> {
  const result = await client.request<DocumentOne<BundleIdAttributes> | BundleId>("POST", "/v1/bundleIds", {
    body: { data: { type: "bundleIds", attributes: { identifier: input.identifier, name: input.name, platform: input.platform } } },
    idempotent: false,
    recover: () => findBundleId(client, input.identifier),
  });
  if (!result) throw new AppleApiError("App Store Connect answered bundle ID creation with no body.", 0, undefined, undefined, undefined);
  return "data" in result ? toBundleId(result.data) : result;
}

/**
 * The bundle ID for `identifier`, registering it when the team has none. `knownAbsent`: the caller
 * has just listed the team's bundle IDs without it, so the look-up is skipped (a registration that
 * happened since is still found, through Apple's 409).
 */
export async function ensureBundleId(
  client: AppleClient,
  input: { identifier: string; name: string; platform: BundleIdPlatform },
  opts: { knownAbsent?: boolean } = {},
): Promise<BundleId> {
  const found = opts.knownAbsent ? undefined : await findBundleId(client, input.identifier);
  if (found) return found;
  try {
    return await createBundleId(client, input);
  } catch (err) {
    // Another caller (a second profile of the same app, in the same `pulumi up`) registered it
    // between our look-up and our create: Apple answers 409 "not available". Use theirs.
    if (err instanceof AppleApiError && err.status === 409) {
      const raced = await findBundleId(client, input.identifier);
      if (raced) return raced;
    }
    throw err;
  }
}
