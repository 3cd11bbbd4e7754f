/**
 * Builds `.mobileprovision` files as Apple does: an XML plist (fields listed in TN3125 "Inside Code Signing:
 * Provisioning Profiles") wrapped in a DER CMS SignedData, signed by the sandbox's profile-signing certificate.
 */
import forge from "node-forge";
import { writePlist, type PlistDict } from "../provider/formats/mobileprovision";
import type { CaMaterial } from "./ca";

/** Apple's platform names inside profiles, by profile type prefix. */
function platforms(profileType: string): string[] {
  if (profileType.startsWith("TVOS_")) return ["tvOS"];
  if (profileType.startsWith("MAC_CATALYST_")) return ["OSX"];
  if (profileType.startsWith("MAC_")) return ["OSX"];
  return ["iOS", "xrOS", "visionOS"];
}

export function isDevelopmentType(profileType: string): boolean {
  return profileType.endsWith("_DEVELOPMENT");
}

export function usesDevices(profileType: string): boolean {
  return profileType.endsWith("_DEVELOPMENT") || profileType.endsWith("_ADHOC");
}

export interface ProfileContentInput {
  uuid: string;
  name: string;
  profileType: string;
  teamId: string;
  teamName: string;
  appIdName: string;
  /** The bundle ID's identifier, e.g. com.acme.app (or com.acme.*). */
  bundleIdentifier: string;
  seedId: string;
  creationDate: Date;
  expirationDate: Date;
  certificatesDer: Buffer[];
  deviceUdids: string[];
}

/** The plist of a profile. */
export function profilePlist(p: ProfileContentInput): PlistDict {
  const entitlements: PlistDict = {
    "application-identifier": `${p.seedId}.${p.bundleIdentifier}`,
    "keychain-access-groups": [`${p.seedId}.*`],
    "get-task-allow": isDevelopmentType(p.profileType),
    "com.apple.developer.team-identifier": p.teamId,
  };
  if (p.profileType.endsWith("_APP_STORE")) entitlements["beta-reports-active"] = true;
  const plist: PlistDict = {
    AppIDName: p.appIdName,
    ApplicationIdentifierPrefix: [p.seedId],
    CreationDate: p.creationDate,
    Platform: platforms(p.profileType),
    IsXcodeManaged: false,
    DeveloperCertificates: p.certificatesDer,
    Entitlements: entitlements,
    ExpirationDate: p.expirationDate,
    Name: p.name,
  };
  if (usesDevices(p.profileType)) plist.ProvisionedDevices = p.deviceUdids;
  if (p.profileType.endsWith("_INHOUSE")) plist.ProvisionsAllDevices = true;
  Object.assign(plist, {
    TeamIdentifier: [p.teamId],
    TeamName: p.teamName,
    TimeToLive: Math.max(0, Math.round((p.expirationDate.getTime() - p.creationDate.getTime()) / 86_400_000)),
    UUID: p.uuid,
    Version: 1,
  });
  return plist;
}

/** Signs the plist into a DER CMS SignedData with the content embedded. */
export function signProfile(ca: CaMaterial, plist: PlistDict, signingTime: Date): Buffer {
  const signerCert = forge.pki.certificateFromPem(ca.profileSignerCertPem);
  const signerKey = forge.pki.privateKeyFromPem(ca.profileSignerKeyPem) as forge.pki.rsa.PrivateKey;
  const p7 = forge.pkcs7.createSignedData();
  p7.content = forge.util.createBuffer(forge.util.encodeUtf8(writePlist(plist)));
  p7.addCertificate(signerCert);
  p7.addCertificate(forge.pki.certificateFromPem(ca.rootCertPem));
  p7.addSigner({
    key: signerKey,
    certificate: signerCert,
    digestAlgorithm: forge.pki.oids.sha256,
    authenticatedAttributes: [
      { type: forge.pki.oids.contentType, value: forge.pki.oids.data },
      { type: forge.pki.oids.messageDigest },
      // forge accepts a Date for signingTime; its typings say string.
      { type: forge.pki.oids.signingTime, value: signingTime as unknown as string },
    ],
  });
  p7.sign();
  return Buffer.from(forge.asn1.toDer(p7.toAsn1()).getBytes(), "binary");
}
