/**
 * ios.ProvisioningProfile: an App Store, ad hoc, development or in-house profile for one bundle ID
 * and one distribution certificate. Apple profiles cannot be edited, so every change is a
 * replacement; the profile is replaced whenever its certificate is (the class sets Pulumi's
 * replaceWith on the certificate resource, and the diff also compares the certificate's ID and
 * serial), and when Apple marks it INVALID or it nears expiry (DESIGN.md rules 1-2).
 */
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { createProfile, deleteProfile, getProfile, listProfiles } from "../../apple";
import type { AppleClient, Profile, ProfileType } from "../../apple";
import { InvalidCredentialInput, WriteConflict } from "../../errors";
import { parseMobileprovision } from "../../formats/mobileprovision";
import type { MobileProvision } from "../../formats/mobileprovision";
import { certificateFacts } from "../../formats/x509";
import { checkRenewBeforeDays, DEFAULT_RENEW_BEFORE_DAYS } from "../../rules/expiry";
import { decideProfileDiff } from "../../rules/profile";
import type { AppleProfileState } from "../../rules/profile";
import { containsUnknown, isUnknown } from "../../rules/unknown";
import { Vault } from "../../store";
import type { StoreConfig } from "../../store";
import { checkFailures, defaultVaultName, logReasons, moveSealed, ownerOf, plain, retireIfCurrent } from "../common";
import { LazyDynamicResource } from "../lazy-provider";
import { recall, stash } from "../secret-inputs";
import { takenName } from "../taken-names";
import { appleClientForInputs, appleClientFromVault, checkAppleAccess } from "./apple-access";
import { bundleIdFor, enabledDevices } from "./apple-lookups";
import type { AppleAccess, AppleAccessArgs } from "./apple-access";
import { DistributionCertificate } from "./distribution-certificate";
import type { CertificateRef } from "./distribution-certificate";

/** Profile types that carry a device list (Apple: required for development and ad hoc). */
const WITH_DEVICES: ProfileType[] = ["IOS_APP_DEVELOPMENT", "IOS_APP_ADHOC", "TVOS_APP_DEVELOPMENT", "TVOS_APP_ADHOC", "MAC_APP_DEVELOPMENT", "MAC_CATALYST_APP_DEVELOPMENT"];
const PROFILE_TYPES: ProfileType[] = [
  "IOS_APP_DEVELOPMENT", "IOS_APP_STORE", "IOS_APP_ADHOC", "IOS_APP_INHOUSE", "MAC_APP_DEVELOPMENT", "MAC_APP_STORE", "MAC_APP_DIRECT",
  "TVOS_APP_DEVELOPMENT", "TVOS_APP_STORE", "TVOS_APP_ADHOC", "TVOS_APP_INHOUSE", "MAC_CATALYST_APP_DEVELOPMENT", "MAC_CATALYST_APP_STORE", "MAC_CATALYST_APP_DIRECT",
];
const BUNDLE_ID_RE = /^[A-Za-z0-9.-]+$/;

export interface ProvisioningProfileArgs {
  store: pulumi.Input<StoreConfig>;
  apple: pulumi.Input<AppleAccessArgs>;
  /** The app's bundle identifier, e.g. "com.acme.app". */
  bundleId: pulumi.Input<string>;
  /** Apple's profile type, e.g. "IOS_APP_STORE", "IOS_APP_ADHOC". */
  type: pulumi.Input<ProfileType>;
  /** The DistributionCertificate resource, or { certificateId, serialNumber } of one managed elsewhere. */
  certificate: DistributionCertificate | pulumi.Input<CertificateRef>;
  /** Development and ad hoc types: UDIDs, or "all" for every enabled device of the team. */
  devices?: pulumi.Input<string[] | "all">;
  /** Name at Apple (unique in the team). Default: "<bundleId> <type> <resource name> <timestamp>". */
  profileName?: pulumi.Input<string>;
  /** Register the bundle ID at Apple when the team has none (default true). */
  createBundleId?: pulumi.Input<boolean>;
  renewBeforeDays?: pulumi.Input<number>;
  /** Delete the profile at Apple when the resource is deleted (default false: it is only retired from the store). */
  deleteOnDelete?: pulumi.Input<boolean>;
  /** Adopt an existing profile: the .mobileprovision, base64. */
  import?: pulumi.Input<{ mobileprovision: pulumi.Input<string> }>;
  /** Name in the vault. Default: "<project>/<stack>/<resource name>". */
  name?: pulumi.Input<string>;
}

interface Inputs {
  store: StoreConfig;
  apple: AppleAccess;
  bundleId: string;
  type: ProfileType;
  certificate: CertificateRef;
  devices: string[] | "all";
  profileName?: string;
  createBundleId: boolean;
  renewBeforeDays: number;
  deleteOnDelete: boolean;
  import?: { mobileprovision: string };
  name: string;
  owner: string;
}

interface Outputs extends Inputs {
  profileId: string;
  /** The profile's name at Apple. */
  appleName: string;
  uuid: string;
  expiresAt: string;
  certificateSerials: string[];
  devicesCount: number;
  profileState: AppleProfileState;
  vaultName: string;
  vaultVersion: string;
  storeLocation: string;
  /** Apple's clock minus ours at the last call (HTTP Date header): expiry is judged by Apple's clock. */
  appleClockSkewMs: number;
}

const KIND = "ios-provisioning-profile";
const identity = (i: { apple: AppleAccess; name: string; bundleId: string }) => ({ name: `ios/${i.apple.teamId}/profiles/${i.name}`, kind: KIND, scope: `${i.apple.teamId}.${i.bundleId}` });

async function check(_olds: Inputs, news: Inputs): Promise<pulumi.dynamic.CheckResult<Inputs>> {
  const inputs: Inputs = { ...news };
  return checkFailures(inputs, (fail) => {
    if (!isUnknown(news.store)) fail.guard("store", () => Vault.validate(news.store));
    inputs.apple = checkAppleAccess(news.apple, fail) as AppleAccess;
    if (!isUnknown(news.bundleId) && (typeof news.bundleId !== "string" || !BUNDLE_ID_RE.test(news.bundleId))) {
      fail.add("bundleId", `bundleId ${JSON.stringify(news.bundleId)} is not a bundle identifier (letters, digits, dots and hyphens, e.g. "com.acme.app")`);
    }
    if (!isUnknown(news.type) && !PROFILE_TYPES.includes(news.type)) {
      fail.add("type", `type ${JSON.stringify(news.type)} is not one of Apple's profile types: ${PROFILE_TYPES.join(", ")}`);
    }
    const c = news.certificate;
    if (!c || (!containsUnknown(c) && (typeof c.certificateId !== "string" || typeof c.serialNumber !== "string"))) {
      fail.add("certificate", "certificate must be a DistributionCertificate resource or { certificateId, serialNumber }");
    }
    if (!isUnknown(news.type) && !containsUnknown(news.devices)) {
      const takesDevices = WITH_DEVICES.includes(news.type);
      const given = news.devices === "all" || (Array.isArray(news.devices) && news.devices.length > 0);
      // Apple: devices are required for development and ad hoc profiles, refused for App Store and in-house ones.
      if (takesDevices && !given) fail.add("devices", `a ${news.type} profile needs devices: a list of UDIDs, or "all"`);
      if (!takesDevices && given) fail.add("devices", `a ${news.type} profile cannot list devices; remove devices`);
      if (Array.isArray(news.devices)) {
        for (const udid of news.devices) {
          if (typeof udid !== "string" || !/^[0-9A-Fa-f-]{24,40}$/.test(udid)) fail.add("devices", `${JSON.stringify(udid)} is not a device UDID`);
        }
      }
    }
    const days = checkRenewBeforeDays(news.renewBeforeDays, 365);
    if (days) fail.add("renewBeforeDays", days);
    if (news.import && !containsUnknown(news.import)) {
      const content = recall(news.import.mobileprovision, "import.mobileprovision");
      fail.guard("import.mobileprovision", () => {
        const p = parseMobileprovision(Buffer.from(content, "base64"), "import.mobileprovision");
        checkProfileMatches(p, news, "import.mobileprovision");
      });
      inputs.import = { mobileprovision: stash(content) };
    }
  });
}

/** A profile is used only if it really holds the certificate and the app it is meant for. */
function checkProfileMatches(p: MobileProvision, want: Pick<Inputs, "apple" | "bundleId" | "certificate">, field: string, now?: Date): void {
  if (!containsUnknown(want.apple?.teamId) && p.teamIdentifier !== want.apple.teamId) {
    throw new InvalidCredentialInput(`The profile belongs to team ${p.teamIdentifier}, not ${want.apple.teamId}`, { field });
  }
  if (!isUnknown(want.bundleId) && p.bundleId !== want.bundleId) {
    throw new InvalidCredentialInput(`The profile is for ${p.applicationIdentifier}, not ${want.apple.teamId}.${want.bundleId}`, { field });
  }
  if (!containsUnknown(want.certificate)) {
    const serials = p.developerCertificates.map((d) => certificateFacts(d).serialNumber);
    if (!serials.includes(want.certificate.serialNumber.replace(/^0+/, "").toUpperCase())) {
      throw new InvalidCredentialInput(`The profile does not contain certificate ${want.certificate.serialNumber} (it has ${serials.join(", ") || "none"})`, {
        field,
        remedy: "A profile signs only with a certificate it embeds; use the profile made for this certificate.",
      });
    }
  }
  if (p.expirationDate.getTime() <= (now ?? new Date()).getTime()) {
    throw new InvalidCredentialInput(`The profile expired on ${p.expirationDate.toISOString().slice(0, 10)}`, { field });
  }
}

function diffState(o: Partial<Outputs>) {
  return {
    teamId: o.apple?.teamId,
    bundleId: o.bundleId,
    profileType: o.type,
    certificate: o.certificate,
    devices: o.devices,
    profileName: o.profileName,
    store: o.store,
    name: o.name,
    renewBeforeDays: o.renewBeforeDays,
    deleteOnDelete: o.deleteOnDelete,
    profileId: o.profileId,
    expiresAt: o.expiresAt,
    profileState: o.profileState,
  };
}

async function diff(_id: string, olds: Outputs, news: Inputs): Promise<pulumi.dynamic.DiffResult> {
  const decision = decideProfileDiff(diffState(olds), diffState(news), new Date(Date.now() + (olds.appleClockSkewMs ?? 0)));
  if (news.import?.mobileprovision !== olds.import?.mobileprovision) {
    decision.replaces.push("import");
    decision.changes = true;
    decision.reasons.push("a different .mobileprovision was given");
  }
  logReasons(`ios.ProvisioningProfile ${isUnknown(news.name) ? olds.name : news.name}`, decision.reasons);
  return { changes: decision.changes, replaces: decision.replaces };
}

async function deviceIds(apple: AppleClient, inputs: Inputs): Promise<string[]> {
  if (!WITH_DEVICES.includes(inputs.type)) return [];
  const platform = inputs.type.startsWith("MAC") ? "MAC_OS" : "IOS";
  const devices = await enabledDevices(apple, platform);
  if (inputs.devices === "all") return devices.map((d) => d.id);
  const missing = inputs.devices.filter((u) => !devices.some((d) => d.udid.toLowerCase() === u.toLowerCase()));
  if (missing.length > 0) {
    throw new InvalidCredentialInput(`These devices are not registered (and enabled) in team ${inputs.apple.teamId}: ${missing.join(", ")}`, {
      field: "devices",
      remedy: "Register them in the Apple Developer portal (or with `appsigning`), or remove them from devices.",
    });
  }
  return devices.filter((d) => inputs.devices.includes(d.udid) || (inputs.devices as string[]).some((u) => u.toLowerCase() === d.udid.toLowerCase())).map((d) => d.id);
}

function outputsOf(inputs: Inputs, profile: Profile, parsed: MobileProvision, version: string, vault: Vault, skew: number): Outputs {
  return plain({
    appleClockSkewMs: skew,
    ...inputs,
    profileId: profile.id,
    uuid: parsed.uuid,
    appleName: parsed.name,
    expiresAt: parsed.expirationDate.toISOString(),
    certificateSerials: parsed.developerCertificates.map((d) => certificateFacts(d).serialNumber),
    devicesCount: parsed.provisionedDevices.length,
    profileState: profile.profileState === "INVALID" ? ("INVALID" as const) : ("ACTIVE" as const),
    vaultName: identity(inputs).name,
    vaultVersion: version,
    storeLocation: vault.location,
  });
}

async function create(inputs: Inputs): Promise<pulumi.dynamic.CreateResult<Outputs>> {
  const vault = Vault.open(inputs.store);
  const apple = await appleClientForInputs(inputs.apple, vault);
  const id = identity(inputs);
  // Default naming puts all of a stack's profiles in one folder, listed once per deployment.
  const stackFolder = inputs.name === inputs.owner ? `ios/${inputs.apple.teamId}/profiles/${inputs.owner.split("/").slice(0, 2).join("/")}/` : undefined;
  const head = await takenName(vault, id.name, stackFolder);
  if (head && head.state !== "retired" && head.meta.owner !== inputs.owner) {
    throw new WriteConflict(`The store ${vault.location} already holds a profile named "${inputs.name}", created by ${String(head.meta.owner)}`, {
      field: "name",
      remedy: "Give this resource another name. Nothing was changed.",
    });
  }
  let profile: Profile;
  let content: Buffer;
  if (inputs.import) {
    content = Buffer.from(recall(inputs.import.mobileprovision, "import.mobileprovision"), "base64");
    const parsed = parseMobileprovision(content, "import.mobileprovision");
    const found = (await listProfiles(apple, { name: parsed.name })).find((p) => p.uuid === parsed.uuid);
    if (!found) {
      throw new InvalidCredentialInput(`Apple has no profile with UUID ${parsed.uuid} ("${parsed.name}") in team ${inputs.apple.teamId}`, {
        field: "import.mobileprovision",
        remedy: "It was deleted or regenerated at Apple; download the current one, or leave import out to create a new profile.",
      });
    }
    profile = found;
  } else {
    const bundle = await bundleIdFor(apple, { identifier: inputs.bundleId, name: inputs.bundleId.replace(/[^A-Za-z0-9 ]/g, " "), platform: "IOS" }, inputs.createBundleId);
    if (!bundle) {
      throw new InvalidCredentialInput(`Team ${inputs.apple.teamId} has no bundle ID ${inputs.bundleId}`, {
        field: "bundleId",
        remedy: "Register it in the Apple Developer portal, or set createBundleId: true.",
      });
    }
    // Profile names are unique in a team; the default carries a timestamp so a replacement made
    // before its predecessor is deleted does not collide with it (fastlane match does the same).
    const stamp = `${new Date().toISOString().replace(/[-:T]/g, "").slice(0, 14)}-${crypto.randomBytes(2).toString("hex")}`;
    profile = await createProfile(apple, {
      name: inputs.profileName ?? `${inputs.bundleId} ${inputs.type} ${inputs.name} ${stamp}`,
      profileType: inputs.type,
      bundleIdId: bundle.id,
      certificateIds: [inputs.certificate.certificateId],
      deviceIds: await deviceIds(apple, inputs),
    });
    content = Buffer.from(profile.profileContent, "base64");
  }
  const parsed = parseMobileprovision(content, "profileContent");
  try {
    checkProfileMatches(parsed, inputs, "profileContent", apple.appleNow());
  } catch (err) {
    if (!inputs.import) await deleteProfile(apple, profile.id).catch(() => undefined);
    throw new InvalidCredentialInput(`Apple returned a profile that does not match what was asked: ${(err as Error).message}`, { field: "certificate", cause: err });
  }
  const ref = await vault.put(id, { mobileprovision: content }, {
    expect: head ? { etag: head.etag } : "absent",
    meta: { profileId: profile.id, uuid: parsed.uuid, expiresAt: parsed.expirationDate.toISOString(), profileType: inputs.type, bundleId: inputs.bundleId, certificateSerial: inputs.certificate.serialNumber, owner: inputs.owner },
  });
  return { id: profile.id, outs: outputsOf(inputs, profile, parsed, ref.version, vault, apple.clockSkewMs) };
}

async function read(id: string, props: Outputs): Promise<pulumi.dynamic.ReadResult> {
  const apple = await appleClientFromVault(props.apple, props.store);
  const profile = await getProfile(apple, props.profileId);
  let profileState: AppleProfileState;
  let expiresAt = props.expiresAt;
  if (!profile) profileState = "MISSING";
  else {
    expiresAt = profile.expirationDate || expiresAt;
    profileState = profile.profileState === "INVALID" ? "INVALID" : Date.parse(expiresAt) <= apple.appleNow().getTime() ? "EXPIRED" : "ACTIVE";
  }
  const head = await Vault.open(props.store).headIfChanged(props.vaultName, props.vaultVersion);
  const vaultVersion = head && head !== "same" ? head.version : props.vaultVersion;
  const next = { ...props, profileState, expiresAt, vaultVersion, appleClockSkewMs: apple.clockSkewMs };
  const { store, apple: access, bundleId, type, certificate, devices, profileName, createBundleId, renewBeforeDays, deleteOnDelete, name, owner } = props;
  return {
    id,
    props: plain(next),
    inputs: plain({ store, apple: access, bundleId, type, certificate, devices, profileName, createBundleId, renewBeforeDays, deleteOnDelete, import: props.import, name, owner }),
  };
}

async function update(_id: string, olds: Outputs, news: Inputs): Promise<pulumi.dynamic.UpdateResult<Outputs>> {
  await appleClientForInputs(news.apple, Vault.open(news.store));
  const newId = identity(news);
  const { version, location } = await moveSealed(
    { store: olds.store, id: identity(olds), version: olds.vaultVersion },
    { store: news.store, id: newId, owner: news.owner },
  );
  return { outs: plain({ ...olds, ...news, vaultName: newId.name, vaultVersion: version, storeLocation: location }) };
}

async function remove(_id: string, props: Outputs): Promise<void> {
  if (props.deleteOnDelete && props.profileState !== "MISSING") {
    const apple = await appleClientFromVault(props.apple, props.store);
    await deleteProfile(apple, props.profileId);
  }
  await retireIfCurrent(props.store, identity(props), props.vaultVersion, { reason: "deleted by pulumi", profileId: props.profileId });
}

export const provider: pulumi.dynamic.ResourceProvider = { check, diff, create, read, update, delete: remove };

const MODULE = "pulumi-appsigning/dist/provider/resources/ios/provisioning-profile.js";

export class ProvisioningProfile extends LazyDynamicResource {
  declare readonly profileId: pulumi.Output<string>;
  declare readonly uuid: pulumi.Output<string>;
  /** The profile's name at Apple (what Xcode's PROVISIONING_PROFILE_SPECIFIER takes). */
  declare readonly appleName: pulumi.Output<string>;
  declare readonly type: pulumi.Output<ProfileType>;
  declare readonly expiresAt: pulumi.Output<string>;
  declare readonly certificateSerials: pulumi.Output<string[]>;
  declare readonly devicesCount: pulumi.Output<number>;
  /** Apple's view at the last refresh: ACTIVE, INVALID, EXPIRED, MISSING. */
  declare readonly profileState: pulumi.Output<AppleProfileState>;
  declare readonly vaultName: pulumi.Output<string>;
  declare readonly vaultVersion: pulumi.Output<string>;
  declare readonly storeLocation: pulumi.Output<string>;

  constructor(name: string, args: ProvisioningProfileArgs, opts: pulumi.CustomResourceOptions = {}) {
    const cert = args.certificate;
    const isResource = cert instanceof DistributionCertificate;
    const props = {
      store: args.store,
      apple: args.apple,
      bundleId: args.bundleId,
      type: args.type,
      certificate: isResource ? cert.ref : cert,
      devices: args.devices ?? [],
      profileName: args.profileName,
      createBundleId: args.createBundleId ?? true,
      renewBeforeDays: args.renewBeforeDays ?? DEFAULT_RENEW_BEFORE_DAYS,
      deleteOnDelete: args.deleteOnDelete ?? false,
      import: args.import,
      name: args.name ?? defaultVaultName(name),
      owner: ownerOf(name),
      profileId: undefined,
      appleName: undefined,
      uuid: undefined,
      expiresAt: undefined,
      certificateSerials: undefined,
      devicesCount: undefined,
      profileState: undefined,
      vaultName: undefined,
      vaultVersion: undefined,
      storeLocation: undefined,
    };
    // The engine plans the cascade: whenever the certificate is replaced, so is this profile, and
    // `pulumi preview` shows it (Pulumi's replaceWith option).
    const replaceWith = isResource ? [...(opts.replaceWith ?? []), cert] : opts.replaceWith;
    super(MODULE, "ios", "ProvisioningProfile", name, props, { ...opts, replaceWith });
  }
}
