/**
 * The sandbox's state: teams and their API keys, certificates, bundle IDs, devices, profiles, the clock offset and
 * the CA material. Held in memory; when a state file is given, written to it (mode 0600, atomic rename) after
 * every change, so the quickstart survives a restart.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import type { CaMaterial } from "./ca";

export type KeyRole = "ADMIN" | "APP_MANAGER" | "DEVELOPER";

export interface TeamRecord {
  teamId: string;
  teamName: string;
  /** All team keys share the team's issuer ID (App Store Connect > Integrations). */
  issuerId: string;
}

export interface ApiKeyRecord {
  keyId: string;
  teamId: string;
  issuerId: string;
  role: KeyRole;
  publicKeyPem: string;
  /** Kept so `npm run sandbox` can write the ready-made .p8 again after a restart. Never returned by /sandbox/state. */
  privateKeyPem: string;
  revoked: boolean;
}

export interface CertificateRecord {
  id: string;
  teamId: string;
  certificateType: string;
  name: string;
  displayName: string;
  platform: "IOS" | "MAC_OS" | null;
  serialNumber: string;
  /** Base64 DER. */
  content: string;
  csrContent: string;
  publicKeyFingerprint: string;
  createdAt: string;
  expiresAt: string;
  revokedAt?: string;
}

export interface BundleIdRecord {
  id: string;
  teamId: string;
  identifier: string;
  name: string;
  platform: "IOS" | "MAC_OS" | "UNIVERSAL";
  seedId: string;
}

export interface DeviceRecord {
  id: string;
  teamId: string;
  name: string;
  udid: string;
  platform: "IOS" | "MAC_OS";
  status: "ENABLED" | "DISABLED";
  deviceClass: string;
  model: string | null;
  addedDate: string;
}

export interface ProfileRecord {
  id: string;
  teamId: string;
  name: string;
  profileType: string;
  platform: "IOS" | "MAC_OS" | "UNIVERSAL";
  uuid: string;
  createdAt: string;
  expiresAt: string;
  bundleIdId: string;
  certificateIds: string[];
  deviceIds: string[];
  /** Base64 of the signed .mobileprovision. */
  content: string;
  /** Set when a certificate in it is revoked. */
  invalidatedAt?: string;
}

export interface SandboxConfig {
  /** Non-expired, non-revoked distribution certificates (IOS_DISTRIBUTION + DISTRIBUTION) a team may hold. */
  certificateLimit: number;
  /** Devices per platform per team (Apple: 100 per device family per membership year). */
  deviceLimit: number;
  /** Requests per rolling hour per API key (Apple's `user-hour-lim`). */
  rateLimitPerHour: number;
}

export interface SandboxData {
  version: 1;
  clockOffsetMs: number;
  config: SandboxConfig;
  teams: TeamRecord[];
  keys: ApiKeyRecord[];
  certificates: CertificateRecord[];
  bundleIds: BundleIdRecord[];
  devices: DeviceRecord[];
  profiles: ProfileRecord[];
  ca?: CaMaterial;
}

export const DEFAULT_CONFIG: SandboxConfig = { certificateLimit: 2, deviceLimit: 100, rateLimitPerHour: 3600 };

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/** Apple's resource IDs and key IDs are 10 upper-case alphanumerics. */
export function appleId(): string {
  const bytes = crypto.randomBytes(10);
  let s = "";
  for (const b of bytes) s += ALNUM[b % ALNUM.length];
  return s;
}

export function emptyData(config: Partial<SandboxConfig> = {}): SandboxData {
  return {
    version: 1,
    clockOffsetMs: 0,
    config: { ...DEFAULT_CONFIG, ...config },
    teams: [],
    keys: [],
    certificates: [],
    bundleIds: [],
    devices: [],
    profiles: [],
  };
}

export class StateStore {
  data: SandboxData;

  constructor(
    readonly file: string | undefined,
    config: Partial<SandboxConfig> = {},
  ) {
    if (file && fs.existsSync(file)) {
      const loaded = JSON.parse(fs.readFileSync(file, "utf8")) as SandboxData;
      if (loaded.version !== 1) throw new Error(`The sandbox state file ${file} has an unknown version.`);
      // Options given at start override what the file says.
      loaded.config = { ...DEFAULT_CONFIG, ...loaded.config, ...config };
      this.data = loaded;
    } else {
      this.data = emptyData(config);
    }
  }

  /** The sandbox's notion of now: real time plus the offset moved by POST /sandbox/clock. */
  now(): Date {
    return new Date(Date.now() + this.data.clockOffsetMs);
  }

  save(): void {
    if (!this.file) return;
    fs.mkdirSync(path.dirname(path.resolve(this.file)), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(this.data), { mode: 0o600 });
    fs.renameSync(tmp, this.file);
  }
}
