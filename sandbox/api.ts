/**
 * The App Store Connect endpoints the provider uses, behaving as Apple does where the resources depend on it:
 * certificates (create from a CSR, get, list, revoke), profiles (create, get, list, delete, relationships; no
 * PATCH), bundle IDs (list, get, create), devices (list, get, register, update). JSON:API documents, Apple's filters
 * (`filter[x]=a,b`), `limit` up to 200, `links.next` cursors, `include` of profile relationships.
 */
import * as crypto from "crypto";
import { certificatePublicKeyFingerprint, parseCsr } from "../provider/formats/csr";
import {
  ApiError,
  attributeRequired,
  entityInvalid,
  forbidden,
  methodNotAllowed,
  notFound,
  parameterInvalid,
  relationshipInvalid,
  relationshipRequired,
} from "./apple-errors";
import { TYPE_DISPLAY, issueDeveloperCertificate } from "./ca";
import { profilePlist, signProfile, usesDevices } from "./profile-signer";
import {
  appleId,
  type ApiKeyRecord,
  type BundleIdRecord,
  type CertificateRecord,
  type DeviceRecord,
  type ProfileRecord,
  type StateStore,
  type TeamRecord,
} from "./state";

export interface ApiRequest {
  method: string;
  url: URL;
  body: unknown;
  key: ApiKeyRecord;
}

export interface ApiResponse {
  status: number;
  body?: unknown;
}

type Handler = (req: ApiRequest, params: string[]) => ApiResponse;

interface Route {
  method: string;
  template: string;
  regex: RegExp;
  handler: Handler;
}

export const CERTIFICATE_TYPES = [
  "IOS_DEVELOPMENT",
  "IOS_DISTRIBUTION",
  "MAC_APP_DEVELOPMENT",
  "MAC_APP_DISTRIBUTION",
  "MAC_INSTALLER_DISTRIBUTION",
  "DEVELOPER_ID_APPLICATION",
  "DEVELOPER_ID_KEXT",
  "DEVELOPMENT",
  "DISTRIBUTION",
];

/** The types the per-team distribution limit counts together (Expo's app-signing docs: 2 distribution certificates). */
export const LIMITED_DISTRIBUTION_TYPES = ["IOS_DISTRIBUTION", "DISTRIBUTION"];

const DEVELOPMENT_CERT_TYPES = ["IOS_DEVELOPMENT", "DEVELOPMENT", "MAC_APP_DEVELOPMENT"];

export const PROFILE_TYPES = [
  "IOS_APP_DEVELOPMENT",
  "IOS_APP_STORE",
  "IOS_APP_ADHOC",
  "IOS_APP_INHOUSE",
  "MAC_APP_DEVELOPMENT",
  "MAC_APP_STORE",
  "MAC_APP_DIRECT",
  "TVOS_APP_DEVELOPMENT",
  "TVOS_APP_STORE",
  "TVOS_APP_ADHOC",
  "TVOS_APP_INHOUSE",
  "MAC_CATALYST_APP_DEVELOPMENT",
  "MAC_CATALYST_APP_STORE",
  "MAC_CATALYST_APP_DIRECT",
];

const MAX_LIMIT = 200;
const DEFAULT_LIMIT = 20;
const MAX_INCLUDED = 50;

/** Apple prints dates as `2025-01-24T21:25:08.000+00:00`. */
function appleDate(d: Date | string): string {
  return new Date(d).toISOString().replace("Z", "+00:00");
}

function obj(v: unknown): Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function csv(url: URL, name: string): string[] | undefined {
  const v = url.searchParams.get(name);
  return v === null ? undefined : v.split(",").map((s) => s.trim()).filter(Boolean);
}

function linkageIds(rel: unknown, type: string, name: string): string[] | undefined {
  const r = obj(rel);
  if (!("data" in r)) return undefined;
  const data = r.data;
  const list = Array.isArray(data) ? data : data === null ? [] : [data];
  return list.map((d) => {
    const o = obj(d);
    if (o.type !== type || typeof o.id !== "string") throw relationshipInvalid(name, `The relationship '${name}' must be of type '${type}'.`);
    return o.id;
  });
}

export class AppleApi {
  private readonly routes: Route[] = [];

  constructor(private readonly store: StateStore) {
    const r = (method: string, template: string, handler: Handler) => {
      const regex = new RegExp("^" + template.replace(/\{[a-z]+\}/g, "([^/]+)") + "$");
      this.routes.push({ method, template, regex, handler });
    };
    r("GET", "/v1/certificates", (q) => this.listCertificates(q));
    r("POST", "/v1/certificates", (q) => this.createCertificate(q));
    r("GET", "/v1/certificates/{id}", (q, [id]) => ({ status: 200, body: { data: this.certJson(this.cert(q, id), q.url), links: { self: q.url.href } } }));
    r("DELETE", "/v1/certificates/{id}", (q, [id]) => this.revokeCertificate(q, id));
    r("GET", "/v1/profiles", (q) => this.listProfiles(q));
    r("POST", "/v1/profiles", (q) => this.createProfile(q));
    r("GET", "/v1/profiles/{id}", (q, [id]) => this.getProfile(q, id));
    r("DELETE", "/v1/profiles/{id}", (q, [id]) => this.deleteProfile(q, id));
    // Profiles cannot be edited (terraform-provider-apple: Apple answers 403 to PATCH on profiles).
    r("PATCH", "/v1/profiles/{id}", () => {
      throw forbidden("The resource 'profiles' does not allow 'UPDATE'. Allowed operations are: CREATE, DELETE");
    });
    r("GET", "/v1/profiles/{id}/bundleId", (q, [id]) => {
      const p = this.profile(q, id);
      return { status: 200, body: { data: this.bundleJson(this.bundle(q, p.bundleIdId), q.url), links: { self: q.url.href } } };
    });
    r("GET", "/v1/profiles/{id}/certificates", (q, [id]) => {
      const p = this.profile(q, id);
      const certs = p.certificateIds.map((c) => this.store.data.certificates.find((x) => x.id === c && !x.revokedAt)).filter((c): c is CertificateRecord => !!c);
      return this.page(q, certs, (c) => this.certJson(c, q.url));
    });
    r("GET", "/v1/profiles/{id}/devices", (q, [id]) => {
      const p = this.profile(q, id);
      const devices = p.deviceIds.map((d) => this.store.data.devices.find((x) => x.id === d)).filter((d): d is DeviceRecord => !!d);
      return this.page(q, devices, (d) => this.deviceJson(d, q.url));
    });
    r("GET", "/v1/profiles/{id}/relationships/bundleId", (q, [id]) => ({
      status: 200,
      body: { data: { type: "bundleIds", id: this.profile(q, id).bundleIdId }, links: { self: q.url.href } },
    }));
    r("GET", "/v1/profiles/{id}/relationships/certificates", (q, [id]) =>
      this.page(q, this.profile(q, id).certificateIds, (c) => ({ type: "certificates", id: c })),
    );
    r("GET", "/v1/profiles/{id}/relationships/devices", (q, [id]) => this.page(q, this.profile(q, id).deviceIds, (d) => ({ type: "devices", id: d })));
    r("GET", "/v1/bundleIds", (q) => this.listBundleIds(q));
    r("POST", "/v1/bundleIds", (q) => this.createBundleId(q));
    r("GET", "/v1/bundleIds/{id}", (q, [id]) => ({ status: 200, body: { data: this.bundleJson(this.bundle(q, id), q.url), links: { self: q.url.href } } }));
    r("GET", "/v1/devices", (q) => this.listDevices(q));
    r("POST", "/v1/devices", (q) => this.registerDevice(q));
    r("GET", "/v1/devices/{id}", (q, [id]) => ({ status: 200, body: { data: this.deviceJson(this.device(q, id), q.url), links: { self: q.url.href } } }));
    r("PATCH", "/v1/devices/{id}", (q, [id]) => this.updateDevice(q, id));
  }

  /** The route template for a path (for the request log and fault matching), and its handler for the method. */
  resolve(method: string, path: string): { template: string; route?: Route; params: string[] } | undefined {
    let template: string | undefined;
    for (const route of this.routes) {
      const m = route.regex.exec(path);
      if (!m) continue;
      template = route.template;
      if (route.method === method) return { template, route, params: m.slice(1).map(decodeURIComponent) };
    }
    return template ? { template, params: [] } : undefined;
  }

  handle(req: ApiRequest, resolved: { template: string; route?: Route; params: string[] }): ApiResponse {
    if (!resolved.route) throw methodNotAllowed(req.method, resolved.template.split("/")[2]);
    if (req.method !== "GET" && req.key.role === "DEVELOPER") {
      // A key's role limits what it may change (App Store Connect roles: Admin, App Manager, Developer, ...).
      throw forbidden("The API key in use does not allow this request");
    }
    return resolved.route.handler(req, resolved.params);
  }

  // ------------------------------------------------------------------------------------------- lookups

  private now(): Date {
    return this.store.now();
  }

  team(teamId: string): TeamRecord {
    const t = this.store.data.teams.find((x) => x.teamId === teamId);
    if (!t) throw new Error(`unknown team ${teamId}`);
    return t;
  }

  private cert(q: ApiRequest, id: string): CertificateRecord {
    const c = this.store.data.certificates.find((x) => x.id === id && x.teamId === q.key.teamId && !x.revokedAt);
    if (!c) throw notFound("certificates", id);
    return c;
  }

  private profile(q: ApiRequest, id: string): ProfileRecord {
    const p = this.store.data.profiles.find((x) => x.id === id && x.teamId === q.key.teamId);
    if (!p) throw notFound("profiles", id);
    return p;
  }

  private bundle(q: ApiRequest, id: string): BundleIdRecord {
    const b = this.store.data.bundleIds.find((x) => x.id === id && x.teamId === q.key.teamId);
    if (!b) throw notFound("bundleIds", id);
    return b;
  }

  private device(q: ApiRequest, id: string): DeviceRecord {
    const d = this.store.data.devices.find((x) => x.id === id && x.teamId === q.key.teamId);
    if (!d) throw notFound("devices", id);
    return d;
  }

  /** ACTIVE, or INVALID once a certificate in it is revoked or expired, or the profile itself expired. */
  profileState(p: ProfileRecord): "ACTIVE" | "INVALID" {
    const now = this.now().getTime();
    if (p.invalidatedAt || now >= Date.parse(p.expiresAt)) return "INVALID";
    for (const id of p.certificateIds) {
      const c = this.store.data.certificates.find((x) => x.id === id);
      if (!c || c.revokedAt || now >= Date.parse(c.expiresAt)) return "INVALID";
    }
    return "ACTIVE";
  }

  // ------------------------------------------------------------------------------------------- JSON

  private selfLink(url: URL, type: string, id: string): string {
    return `${url.origin}/v1/${type}/${id}`;
  }

  certJson(c: CertificateRecord, url: URL): object {
    return {
      type: "certificates",
      id: c.id,
      attributes: {
        serialNumber: c.serialNumber,
        certificateContent: c.content,
        displayName: c.displayName,
        name: c.name,
        csrContent: null,
        platform: c.platform,
        expirationDate: appleDate(c.expiresAt),
        certificateType: c.certificateType,
      },
      links: { self: this.selfLink(url, "certificates", c.id) },
    };
  }

  bundleJson(b: BundleIdRecord, url: URL): object {
    return {
      type: "bundleIds",
      id: b.id,
      attributes: { name: b.name, identifier: b.identifier, platform: b.platform, seedId: b.seedId },
      links: { self: this.selfLink(url, "bundleIds", b.id) },
    };
  }

  deviceJson(d: DeviceRecord, url: URL): object {
    return {
      type: "devices",
      id: d.id,
      attributes: {
        name: d.name,
        udid: d.udid,
        platform: d.platform,
        status: d.status,
        deviceClass: d.deviceClass,
        model: d.model,
        addedDate: appleDate(d.addedDate),
      },
      links: { self: this.selfLink(url, "devices", d.id) },
    };
  }

  profileJson(p: ProfileRecord, url: URL, include: Set<string>, included: Map<string, object>): object {
    const self = this.selfLink(url, "profiles", p.id);
    const rel = (name: string) => ({ links: { self: `${self}/relationships/${name}`, related: `${self}/${name}` } });
    const relationships: Record<string, Record<string, unknown>> = { bundleId: rel("bundleId"), certificates: rel("certificates"), devices: rel("devices") };
    if (include.has("bundleId")) {
      relationships.bundleId.data = { type: "bundleIds", id: p.bundleIdId };
      const b = this.store.data.bundleIds.find((x) => x.id === p.bundleIdId);
      if (b) included.set(`bundleIds/${b.id}`, this.bundleJson(b, url));
    }
    for (const [name, type, idsOf] of [
      ["certificates", "certificates", p.certificateIds],
      ["devices", "devices", p.deviceIds],
    ] as const) {
      if (!include.has(name)) continue;
      const limit = Number(url.searchParams.get(`limit[${name}]`) ?? MAX_INCLUDED);
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_INCLUDED) throw parameterInvalid(`limit[${name}]`, `The limit for '${name}' must be between 1 and ${MAX_INCLUDED}.`);
      relationships[name].data = idsOf.slice(0, limit).map((id) => ({ type, id }));
      relationships[name].meta = { paging: { total: idsOf.length, limit } };
      for (const id of idsOf.slice(0, limit)) {
        if (type === "certificates") {
          const c = this.store.data.certificates.find((x) => x.id === id && !x.revokedAt);
          if (c) included.set(`certificates/${id}`, this.certJson(c, url));
        } else {
          const d = this.store.data.devices.find((x) => x.id === id);
          if (d) included.set(`devices/${id}`, this.deviceJson(d, url));
        }
      }
    }
    return {
      type: "profiles",
      id: p.id,
      attributes: {
        profileState: this.profileState(p),
        createdDate: appleDate(p.createdAt),
        profileType: p.profileType,
        name: p.name,
        profileContent: p.content,
        uuid: p.uuid,
        platform: p.platform,
        expirationDate: appleDate(p.expiresAt),
      },
      relationships,
      links: { self },
    };
  }

  /** A page of `items`, with Apple's `links.next` cursor and `meta.paging`. */
  private page<T>(q: ApiRequest, items: T[], toJson: (t: T) => object, extra?: (page: T[]) => object): ApiResponse {
    const limitText = q.url.searchParams.get("limit");
    const limit = limitText === null ? DEFAULT_LIMIT : Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
      throw parameterInvalid("limit", `The parameter 'limit' must be an integer between 1 and ${MAX_LIMIT}.`);
    }
    let offset = 0;
    const cursor = q.url.searchParams.get("cursor");
    if (cursor !== null) {
      try {
        offset = (JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as { o: number }).o;
      } catch {
        offset = NaN;
      }
      if (!Number.isInteger(offset) || offset < 0) throw parameterInvalid("cursor", "The cursor is not valid.");
    }
    const slice = items.slice(offset, offset + limit);
    const links: Record<string, string> = { self: q.url.href };
    if (offset + limit < items.length) {
      const next = new URL(q.url.href);
      next.searchParams.set("cursor", Buffer.from(JSON.stringify({ o: offset + limit })).toString("base64url"));
      links.next = next.href;
    }
    return {
      status: 200,
      body: { data: slice.map(toJson), ...(extra ? extra(slice) : {}), links, meta: { paging: { total: items.length, limit } } },
    };
  }

  // ------------------------------------------------------------------------------------------- certificates

  private listCertificates(q: ApiRequest): ApiResponse {
    const types = csv(q.url, "filter[certificateType]");
    const serials = csv(q.url, "filter[serialNumber]")?.map((s) => s.toUpperCase());
    const names = csv(q.url, "filter[displayName]");
    const ids = csv(q.url, "filter[id]");
    const certs = this.store.data.certificates.filter(
      (c) =>
        c.teamId === q.key.teamId &&
        !c.revokedAt && // revoked certificates disappear from Apple's list
        (!types || types.includes(c.certificateType)) &&
        (!serials || serials.includes(c.serialNumber)) &&
        (!names || names.includes(c.displayName)) &&
        (!ids || ids.includes(c.id)),
    );
    return this.page(q, certs, (c) => this.certJson(c, q.url));
  }

  /** Live (not revoked, not expired) certificates of the team counted against the distribution limit. */
  liveDistributionCertificates(teamId: string): CertificateRecord[] {
    const now = this.now().getTime();
    return this.store.data.certificates.filter(
      (c) => c.teamId === teamId && LIMITED_DISTRIBUTION_TYPES.includes(c.certificateType) && !c.revokedAt && Date.parse(c.expiresAt) > now,
    );
  }

  private createCertificate(q: ApiRequest): ApiResponse {
    const data = obj(obj(q.body).data);
    if (data.type !== "certificates") throw entityInvalid("The resource type must be 'certificates'.", "/data/type");
    const attrs = obj(data.attributes);
    const certificateType = attrs.certificateType;
    if (certificateType === undefined) throw attributeRequired("certificateType");
    if (typeof certificateType !== "string" || !CERTIFICATE_TYPES.includes(certificateType)) {
      throw entityInvalid(`'${String(certificateType)}' is not a valid value for the attribute 'certificateType'.`, "/data/attributes/certificateType");
    }
    if (typeof attrs.csrContent !== "string" || attrs.csrContent.trim() === "") throw attributeRequired("csrContent");
    let csr;
    try {
      csr = parseCsr(attrs.csrContent);
    } catch {
      throw entityInvalid("Invalid CSR: the certificate signing request could not be read or its signature does not verify.", "/data/attributes/csrContent");
    }
    const pub = csr.publicKey as { n?: { bitLength(): number } };
    if (!pub.n || pub.n.bitLength() !== 2048) {
      throw entityInvalid("Invalid CSR: the key must be RSA 2048.", "/data/attributes/csrContent");
    }
    if (certificateType.startsWith("DEVELOPER_ID_")) {
      // Developer ID certificates need the Account Holder; API keys are at most Admin (fastlane match options.rb).
      throw forbidden("The API key in use does not allow this request");
    }
    const team = this.team(q.key.teamId);
    if (LIMITED_DISTRIBUTION_TYPES.includes(certificateType) && this.liveDistributionCertificates(team.teamId).length >= this.store.data.config.certificateLimit) {
      // Apple's 409 at the limit (Codemagic/FlutterFlow capture: "Returned 409: There is a problem with the request
      // entity - You already have a current Distribution certificate or a pending certificate request.").
      throw entityInvalid(`You already have a current ${TYPE_DISPLAY[certificateType]} certificate or a pending certificate request.`);
    }
    const issued = issueDeveloperCertificate(this.store.data.ca!, { csr, certificateType, teamId: team.teamId, teamName: team.teamName, now: this.now() });
    const record: CertificateRecord = {
      id: appleId(),
      teamId: team.teamId,
      certificateType,
      name: `${TYPE_DISPLAY[certificateType]}: ${team.teamName}`,
      displayName: team.teamName,
      platform: certificateType.startsWith("IOS_") ? "IOS" : certificateType.startsWith("MAC_") || certificateType.startsWith("DEVELOPER_ID_") ? "MAC_OS" : null,
      serialNumber: issued.serialNumber,
      content: issued.der.toString("base64"),
      csrContent: attrs.csrContent,
      publicKeyFingerprint: certificatePublicKeyFingerprint(issued.der),
      createdAt: issued.notBefore.toISOString(),
      expiresAt: issued.notAfter.toISOString(),
    };
    this.store.data.certificates.push(record);
    return { status: 201, body: { data: this.certJson(record, q.url), links: { self: this.selfLink(q.url, "certificates", record.id) } } };
  }

  /** Revokes a certificate of `teamId` (or any team when undefined); every profile made with it turns INVALID. */
  revoke(id: string, teamId?: string): { certificate: CertificateRecord; invalidatedProfiles: string[] } | undefined {
    const c = this.store.data.certificates.find((x) => x.id === id && !x.revokedAt && (teamId === undefined || x.teamId === teamId));
    if (!c) return undefined;
    const at = this.now().toISOString();
    c.revokedAt = at;
    const invalidated: string[] = [];
    for (const p of this.store.data.profiles) {
      if (p.certificateIds.includes(id) && !p.invalidatedAt) {
        p.invalidatedAt = at;
        invalidated.push(p.id);
      }
    }
    return { certificate: c, invalidatedProfiles: invalidated };
  }

  private revokeCertificate(q: ApiRequest, id: string): ApiResponse {
    if (!this.revoke(id, q.key.teamId)) throw notFound("certificates", id);
    return { status: 204 };
  }

  // ------------------------------------------------------------------------------------------- bundle IDs

  private listBundleIds(q: ApiRequest): ApiResponse {
    const identifiers = csv(q.url, "filter[identifier]");
    const platforms = csv(q.url, "filter[platform]");
    const names = csv(q.url, "filter[name]");
    const ids = csv(q.url, "filter[id]");
    const items = this.store.data.bundleIds.filter(
      (b) =>
        b.teamId === q.key.teamId &&
        // Apple's identifier filter is not exact: it also matches identifiers containing the value.
        (!identifiers || identifiers.some((i) => b.identifier.includes(i))) &&
        (!platforms || platforms.includes(b.platform)) &&
        (!names || names.includes(b.name)) &&
        (!ids || ids.includes(b.id)),
    );
    return this.page(q, items, (b) => this.bundleJson(b, q.url));
  }

  private createBundleId(q: ApiRequest): ApiResponse {
    const data = obj(obj(q.body).data);
    if (data.type !== "bundleIds") throw entityInvalid("The resource type must be 'bundleIds'.", "/data/type");
    const a = obj(data.attributes);
    for (const f of ["identifier", "name", "platform"]) if (typeof a[f] !== "string" || a[f] === "") throw attributeRequired(f);
    const identifier = a.identifier as string;
    if (!/^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(\.\*)?$|^\*$/.test(identifier)) {
      throw entityInvalid(`The identifier '${identifier}' is not valid: use letters, digits, hyphens and periods (reverse-DNS).`, "/data/attributes/identifier");
    }
    if (!["IOS", "MAC_OS", "UNIVERSAL"].includes(a.platform as string)) {
      throw entityInvalid(`'${String(a.platform)}' is not a valid value for the attribute 'platform'.`, "/data/attributes/platform");
    }
    // App IDs are unique across all teams (eas-cli test text: "An ... ID with Identifier '...' is not available").
    if (this.store.data.bundleIds.some((b) => b.identifier.toLowerCase() === identifier.toLowerCase())) {
      throw entityInvalid(`An App ID with Identifier '${identifier}' is not available. Please enter a different string.`, "/data/attributes/identifier");
    }
    const record: BundleIdRecord = {
      id: appleId(),
      teamId: q.key.teamId,
      identifier,
      name: a.name as string,
      platform: a.platform as BundleIdRecord["platform"],
      seedId: q.key.teamId,
    };
    this.store.data.bundleIds.push(record);
    return { status: 201, body: { data: this.bundleJson(record, q.url), links: { self: this.selfLink(q.url, "bundleIds", record.id) } } };
  }

  // ------------------------------------------------------------------------------------------- devices

  private listDevices(q: ApiRequest): ApiResponse {
    const platforms = csv(q.url, "filter[platform]");
    const statuses = csv(q.url, "filter[status]");
    const udids = csv(q.url, "filter[udid]")?.map((u) => u.toLowerCase());
    const names = csv(q.url, "filter[name]");
    const ids = csv(q.url, "filter[id]");
    const items = this.store.data.devices.filter(
      (d) =>
        d.teamId === q.key.teamId &&
        (!platforms || platforms.includes(d.platform)) &&
        (!statuses || statuses.includes(d.status)) &&
        (!udids || udids.includes(d.udid.toLowerCase())) &&
        (!names || names.includes(d.name)) &&
        (!ids || ids.includes(d.id)),
    );
    return this.page(q, items, (d) => this.deviceJson(d, q.url));
  }

  private registerDevice(q: ApiRequest): ApiResponse {
    const data = obj(obj(q.body).data);
    if (data.type !== "devices") throw entityInvalid("The resource type must be 'devices'.", "/data/type");
    const a = obj(data.attributes);
    for (const f of ["name", "udid", "platform"]) if (typeof a[f] !== "string" || a[f] === "") throw attributeRequired(f);
    const udid = a.udid as string;
    // UDIDs: 40 hex digits (older devices) or 8-16 hex digits with a hyphen (25 characters).
    if (!/^([0-9a-fA-F]{40}|[0-9a-fA-F]{8}-[0-9a-fA-F]{16})$/.test(udid)) {
      throw entityInvalid(`An invalid value '${udid}' was provided for the parameter 'udid'.`, "/data/attributes/udid");
    }
    if (!["IOS", "MAC_OS"].includes(a.platform as string)) {
      throw entityInvalid(`'${String(a.platform)}' is not a valid value for the attribute 'platform'.`, "/data/attributes/platform");
    }
    if (this.store.data.devices.some((d) => d.teamId === q.key.teamId && d.udid.toLowerCase() === udid.toLowerCase())) {
      throw entityInvalid(`A device with number '${udid}' already exists on this team.`, "/data/attributes/udid");
    }
    const samePlatform = this.store.data.devices.filter((d) => d.teamId === q.key.teamId && d.platform === a.platform).length;
    if (samePlatform >= this.store.data.config.deviceLimit) {
      // Apple allows 100 devices per device family per membership year (Apple Developer help, "Register devices").
      throw entityInvalid(`You have reached the maximum number of ${a.platform === "IOS" ? "iOS" : "macOS"} devices (${this.store.data.config.deviceLimit}) for this membership year.`);
    }
    const record: DeviceRecord = {
      id: appleId(),
      teamId: q.key.teamId,
      name: a.name as string,
      udid,
      platform: a.platform as DeviceRecord["platform"],
      status: "ENABLED",
      deviceClass: a.platform === "IOS" ? "IPHONE" : "MAC",
      model: null,
      addedDate: this.now().toISOString(),
    };
    this.store.data.devices.push(record);
    return { status: 201, body: { data: this.deviceJson(record, q.url), links: { self: this.selfLink(q.url, "devices", record.id) } } };
  }

  private updateDevice(q: ApiRequest, id: string): ApiResponse {
    const d = this.device(q, id);
    const a = obj(obj(obj(q.body).data).attributes);
    if (typeof a.name === "string") d.name = a.name;
    if (a.status === "ENABLED" || a.status === "DISABLED") d.status = a.status;
    return { status: 200, body: { data: this.deviceJson(d, q.url), links: { self: q.url.href } } };
  }

  // ------------------------------------------------------------------------------------------- profiles

  private listProfiles(q: ApiRequest): ApiResponse {
    const names = csv(q.url, "filter[name]");
    const types = csv(q.url, "filter[profileType]");
    const states = csv(q.url, "filter[profileState]");
    const ids = csv(q.url, "filter[id]");
    const items = this.store.data.profiles.filter(
      (p) =>
        p.teamId === q.key.teamId &&
        (!names || names.includes(p.name)) &&
        (!types || types.includes(p.profileType)) &&
        (!states || states.includes(this.profileState(p))) &&
        (!ids || ids.includes(p.id)),
    );
    const include = new Set(csv(q.url, "include") ?? []);
    const included = new Map<string, object>();
    return this.page(
      q,
      items,
      (p) => this.profileJson(p, q.url, include, included),
      () => (include.size ? { included: [...included.values()] } : {}),
    );
  }

  private getProfile(q: ApiRequest, id: string): ApiResponse {
    const p = this.profile(q, id);
    const include = new Set(csv(q.url, "include") ?? []);
    const included = new Map<string, object>();
    const data = this.profileJson(p, q.url, include, included);
    return { status: 200, body: { data, ...(include.size ? { included: [...included.values()] } : {}), links: { self: q.url.href } } };
  }

  private createProfile(q: ApiRequest): ApiResponse {
    const data = obj(obj(q.body).data);
    if (data.type !== "profiles") throw entityInvalid("The resource type must be 'profiles'.", "/data/type");
    const a = obj(data.attributes);
    const rels = obj(data.relationships);
    if (typeof a.name !== "string" || a.name.trim() === "") throw attributeRequired("name");
    if (a.profileType === undefined) throw attributeRequired("profileType");
    const profileType = a.profileType;
    if (typeof profileType !== "string" || !PROFILE_TYPES.includes(profileType)) {
      throw entityInvalid(`'${String(profileType)}' is not a valid value for the attribute 'profileType'.`, "/data/attributes/profileType");
    }
    const name = a.name;
    const teamId = q.key.teamId;
    const team = this.team(teamId);

    const bundleIds = linkageIds(rels.bundleId, "bundleIds", "bundleId");
    if (!bundleIds || bundleIds.length !== 1) throw relationshipRequired("bundleId");
    const bundle = this.store.data.bundleIds.find((b) => b.id === bundleIds[0] && b.teamId === teamId);
    if (!bundle) throw relationshipInvalid("bundleId", `There is no bundle ID with id '${bundleIds[0]}' on this team.`);

    const certIds = linkageIds(rels.certificates, "certificates", "certificates");
    if (!certIds || certIds.length === 0) throw relationshipRequired("certificates");
    const now = this.now();
    const development = profileType.endsWith("_DEVELOPMENT");
    const certs = certIds.map((id) => {
      const c = this.store.data.certificates.find((x) => x.id === id && x.teamId === teamId && !x.revokedAt);
      if (!c) throw relationshipInvalid("certificates", `There is no valid certificate with id '${id}' on this team.`);
      if (Date.parse(c.expiresAt) <= now.getTime()) throw relationshipInvalid("certificates", `The certificate '${id}' has expired.`);
      if (development !== DEVELOPMENT_CERT_TYPES.includes(c.certificateType)) {
        throw relationshipInvalid("certificates", `The certificate '${id}' of type ${c.certificateType} cannot be used in a ${profileType} profile.`);
      }
      return c;
    });

    const deviceIds = linkageIds(rels.devices, "devices", "devices") ?? [];
    if (usesDevices(profileType) && deviceIds.length === 0) throw relationshipRequired("devices");
    if (!usesDevices(profileType) && deviceIds.length > 0) {
      throw relationshipInvalid("devices", `Devices are not allowed in a ${profileType} profile.`);
    }
    const devices = deviceIds.map((id) => {
      const d = this.store.data.devices.find((x) => x.id === id && x.teamId === teamId);
      if (!d) throw relationshipInvalid("devices", `There is no device with id '${id}' on this team.`);
      if (d.status !== "ENABLED") throw relationshipInvalid("devices", `The device '${id}' is disabled.`);
      return d;
    });

    // Profile names are unique in a team; peers add a suffix when a name is taken (fastlane sigh fail_on_name_taken).
    if (this.store.data.profiles.some((p) => p.teamId === teamId && p.name === name)) {
      throw entityInvalid(`Multiple profiles found with the name '${name}'. Please remove the duplicate profiles and try again.`, "/data/attributes/name");
    }

    // 12 months, or the earliest certificate's expiry when that comes first.
    const twelveMonths = new Date(now.getTime());
    twelveMonths.setUTCFullYear(twelveMonths.getUTCFullYear() + 1);
    const expires = new Date(Math.min(twelveMonths.getTime(), ...certs.map((c) => Date.parse(c.expiresAt))));
    const created = new Date(Math.floor(now.getTime() / 1000) * 1000);
    expires.setUTCMilliseconds(0);
    const uuid = crypto.randomUUID();
    const plist = profilePlist({
      uuid,
      name,
      profileType,
      teamId,
      teamName: team.teamName,
      appIdName: bundle.name,
      bundleIdentifier: bundle.identifier,
      seedId: bundle.seedId,
      creationDate: created,
      expirationDate: expires,
      certificatesDer: certs.map((c) => Buffer.from(c.content, "base64")),
      deviceUdids: devices.map((d) => d.udid),
    });
    const record: ProfileRecord = {
      id: appleId(),
      teamId,
      name,
      profileType,
      platform: profileType.startsWith("MAC_") ? "MAC_OS" : "IOS",
      uuid,
      createdAt: created.toISOString(),
      expiresAt: expires.toISOString(),
      bundleIdId: bundle.id,
      certificateIds: certs.map((c) => c.id),
      deviceIds: devices.map((d) => d.id),
      content: signProfile(this.store.data.ca!, plist, created).toString("base64"),
    };
    this.store.data.profiles.push(record);
    const included = new Map<string, object>();
    const json = this.profileJson(record, q.url, new Set(["bundleId", "certificates", "devices"]), included);
    return { status: 201, body: { data: json, links: { self: this.selfLink(q.url, "profiles", record.id) } } };
  }

  private deleteProfile(q: ApiRequest, id: string): ApiResponse {
    const p = this.profile(q, id);
    this.store.data.profiles = this.store.data.profiles.filter((x) => x !== p);
    return { status: 204 };
  }
}

export { ApiError };
