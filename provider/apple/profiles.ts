/**
 * Provisioning profiles: `POST /v1/profiles`, `GET /v1/profiles[/{id}]`, `DELETE /v1/profiles/{id}`, and the
 * `bundleId`, `certificates`, `devices` relationships. Apple refuses PATCH on profiles: a change is delete + create
 * (terraform-provider-apple internal/provider/profile/resource.go).
 */
import { AppleApiError } from "../errors";
import type { AppleClient } from "./client";
import type { BundleIdPlatform, DocumentOne, Profile, ProfileState, ProfileType, ResourceLinkage, ResourceObject } from "./types";

interface ProfileAttributes {
  name: string;
  platform: BundleIdPlatform;
  profileType: ProfileType;
  profileState: ProfileState;
  profileContent: string;
  uuid: string;
  createdDate: string;
  expirationDate: string;
}

export interface ProfileFilter {
  name?: string;
  profileType?: ProfileType | readonly ProfileType[];
  profileState?: ProfileState;
  id?: string | readonly string[];
}

export interface CreateProfileInput {
  /** Unique in the team. */
  name: string;
  profileType: ProfileType;
  /** Apple's ID of the bundle ID resource (not the identifier string). */
  bundleIdId: string;
  certificateIds: readonly string[];
  /** Required for development and ad hoc types, refused for App Store types. */
  deviceIds?: readonly string[];
}

function ids(rel: { data?: ResourceLinkage | ResourceLinkage[] | null } | undefined): string[] | undefined {
  if (!rel || rel.data === undefined) return undefined;
  if (rel.data === null) return [];
  return (Array.isArray(rel.data) ? rel.data : [rel.data]).map((d) => d.id);
}

function toProfile(r: ResourceObject<ProfileAttributes>): Profile {
  const a = (r.attributes ?? {}) as Partial<ProfileAttributes>;
  const bundle = ids(r.relationships?.bundleId);
  return {
    id: r.id,
    name: a.name ?? "",
    profileType: a.profileType as ProfileType,
    profileState: a.profileState as ProfileState,
    platform: a.platform as BundleIdPlatform,
    uuid: a.uuid ?? "",
    createdDate: a.createdDate ?? "",
    expirationDate: a.expirationDate ?? "",
    profileContent: a.profileContent ?? "",
    bundleIdId: bundle?.[0],
    certificateIds: ids(r.relationships?.certificates),
    deviceIds: ids(r.relationships?.devices),
  };
}

/** Lists the team's profiles (every page), without their relationships. */
export async function listProfiles(client: AppleClient, filter: ProfileFilter = {}): Promise<Profile[]> {
  const { data } = await client.listAll<ProfileAttributes>("/v1/profiles", {
    "filter[name]": filter.name,
    "filter[profileType]": filter.profileType,
    "filter[profileState]": filter.profileState,
    "filter[id]": filter.id,
  });
  return data.map(toProfile);
}

/** IDs of a profile's related resources, every page (for profiles with more than an `include` returns). */
async function relatedIds(client: AppleClient, profileId: string, relationship: "certificates" | "devices"): Promise<string[]> {
  const { data } = await client.listAll(`/v1/profiles/${encodeURIComponent(profileId)}/relationships/${relationship}`);
  return data.map((d) => d.id);
}

/** One profile with its bundle ID, certificates and devices; undefined when Apple does not know it. */
export async function getProfile(client: AppleClient, id: string): Promise<Profile | undefined> {
  const doc = await client.getOne<ProfileAttributes>(`/v1/profiles/${encodeURIComponent(id)}`, {
    include: "bundleId,certificates,devices",
    "limit[certificates]": 50,
    "limit[devices]": 50,
  });
  if (!doc) return undefined;
  const profile = toProfile(doc.data);
  // An `include` carries at most 50 related items; past that, read the relationship's own pages.
  for (const rel of ["certificates", "devices"] as const) {
    const total = doc.data.relationships?.[rel]?.meta?.paging?.total;
    const have = rel === "certificates" ? profile.certificateIds : profile.deviceIds;
    if (have === undefined || (total !== undefined && total > have.length)) {
      const all = await relatedIds(client, id, rel);
      if (rel === "certificates") profile.certificateIds = all;
      else profile.deviceIds = all;
    }
  }
  if (profile.bundleIdId === undefined) {
    const bundle = await client.getOne(`/v1/profiles/${encodeURIComponent(id)}/relationships/bundleId`);
    profile.bundleIdId = bundle?.data?.id;
  }
  return profile;
}

/** Profiles whose name is exactly `name` (Apple's name filter is not guaranteed exact). */
export async function findProfilesByName(client: AppleClient, name: string): Promise<Profile[]> {
  return (await listProfiles(client, { name })).filter((p) => p.name === name);
}

/**
 * Creates a profile. If the connection fails or Apple answers 5xx, it first looks for a profile of that name (names
 * are unique in a team) and only sends the request again when there is none.
 */
export async function createProfile(client: AppleClient, input: CreateProfileInput): Promise<Profile> {
  const relationships: Record<string, unknown> = {
    bundleId: { data: { type: "bundleIds", id: input.bundleIdId } },
    certificates: { data: input.certificateIds.map((id) => ({ type: "certificates", id })) },
  };
  if (input.deviceIds && input.deviceIds.length > 0) {
    relationships.devices = { data: input.deviceIds.map((id) => ({ type: "devices", id })) };
  }
  const result = await client.request<DocumentOne<ProfileAttributes> | Profile>("POST", "/v1/profiles", {
    body: { data: { type: "profiles", attributes: { name: input.name, profileType: input.profileType }, relationships } },
    idempotent: false,
    recover: async () => {
      const same = (await findProfilesByName(client, input.name)).find((p) => p.profileType === input.profileType);
      return same ? ((await getProfile(client, same.id)) ?? same) : undefined;
    },
  });
  if (!result) throw new AppleApiError("App Store Connect answered profile creation with no body.", 0, undefined, undefined, undefined);
  if (!("data" in result)) return result;
  const created = toProfile(result.data);
  return {
    ...created,
    bundleIdId: created.bundleIdId ?? input.bundleIdId,
    certificateIds: created.certificateIds ?? [...input.certificateIds],
    deviceIds: created.deviceIds ?? [...(input.deviceIds ?? [])],
  };
}

/** Deletes a profile. A retried attempt that finds it gone counts as done. */
export async function deleteProfile(client: AppleClient, id: string): Promise<void> {
  await client.request("DELETE", `/v1/profiles/${encodeURIComponent(id)}`, { notFoundAfterRetryIsSuccess: true });
}
