/**
 * The sandbox's HTTP server: App Store Connect routes under /v1 (JWT auth, hourly quota, Apple's error bodies),
 * admin routes under /sandbox (clock, faults, request log, state, revoke behind the client's back, CA, reset,
 * keys), fault injection and the request log. `startSandbox` is the programmatic entry; main.ts the CLI.
 */
import * as crypto from "crypto";
import * as http from "http";
import type { AddressInfo } from "net";
import { AppleApi } from "./api";
import { ApiError, forbidden, notFound, pathNotFound, rateLimited, unexpected } from "./apple-errors";
import { authenticate } from "./auth";
import { createCaMaterial } from "./ca";
import { appleId, StateStore, type ApiKeyRecord, type KeyRole, type SandboxConfig, type TeamRecord } from "./state";

export type FaultKind = "429" | "500" | "drop" | "drop-after-commit" | "delay-after-commit";

export interface FaultSpec {
  /** Route template (`/v1/certificates`, `/v1/profiles/{id}`) or an exact path. */
  route: string;
  /** HTTP method; any when omitted. */
  method?: string;
  /** How many matching requests the fault applies to (default 1). */
  count?: number;
  kind: FaultKind;
  /** Seconds, sent as Retry-After with a 429 (default 1). */
  retryAfter?: number;
  /** For "delay-after-commit": how long the answer is held back after the change is made (default 30 s). */
  delayMs?: number;
}

export interface RequestLogEntry {
  at: string;
  method: string;
  path: string;
  /** Route template, e.g. `/v1/profiles/{id}`; the path when no route matched. */
  route: string;
  /** HTTP status; 0 when the connection was dropped without an answer. */
  status: number;
  fault?: FaultKind;
  teamId?: string;
  keyId?: string;
}

export interface SandboxApiKey {
  issuerId: string;
  keyId: string;
  /** PKCS#8 PEM (.p8 text). */
  privateKeyPem: string;
  teamId: string;
}

export interface SandboxTeamOption {
  teamId?: string;
  teamName?: string;
}

export interface SandboxOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Keep state in this JSON file (written mode 0600) instead of memory only. */
  stateFile?: string;
  /** Teams to create when the state has none (default: one team, SANDBOX001). */
  teams?: SandboxTeamOption[];
  certificateLimit?: number;
  deviceLimit?: number;
  rateLimitPerHour?: number;
}

export interface SandboxAdmin {
  advanceClock(days: number): Promise<{ now: string }>;
  clock(): Promise<{ now: string }>;
  injectFault(fault: FaultSpec): Promise<void>;
  clearFaults(): Promise<void>;
  requests(): Promise<RequestLogEntry[]>;
  clearRequests(): Promise<void>;
  state(): Promise<SandboxStateView>;
  revokeCertificate(id: string): Promise<{ invalidatedProfiles: string[] }>;
  rootCaPem(): Promise<string>;
  intermediateCaPem(): Promise<string>;
  reset(): Promise<void>;
  createApiKey(teamId: string, role?: KeyRole): Promise<SandboxApiKey & { role: KeyRole }>;
  revokeApiKey(keyId: string): Promise<void>;
  configure(config: Partial<SandboxConfig>): Promise<SandboxConfig>;
}

export interface RunningSandbox {
  url: string;
  /** A ready-made Admin key of the first team. */
  apiKey: SandboxApiKey;
  teams: Array<{ teamId: string; teamName: string; apiKey: SandboxApiKey }>;
  admin: SandboxAdmin;
  stop(): Promise<void>;
}

/** What GET /sandbox/state returns: everything but private keys and file contents. */
export interface SandboxStateView {
  now: string;
  config: SandboxConfig;
  teams: TeamRecord[];
  keys: Array<Omit<ApiKeyRecord, "privateKeyPem" | "publicKeyPem">>;
  certificates: Array<{ id: string; teamId: string; certificateType: string; serialNumber: string; createdAt: string; expiresAt: string; revokedAt?: string; state: "ACTIVE" | "EXPIRED" | "REVOKED" }>;
  profiles: Array<{ id: string; teamId: string; name: string; profileType: string; uuid: string; profileState: string; expiresAt: string; bundleIdId: string; certificateIds: string[]; deviceIds: string[] }>;
  bundleIds: Array<{ id: string; teamId: string; identifier: string; name: string; platform: string }>;
  devices: Array<{ id: string; teamId: string; name: string; udid: string; platform: string; status: string }>;
}

const MAX_BODY = 5 * 1024 * 1024;
const MAX_LOG = 10_000;
const HOUR_MS = 3_600_000;

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new ApiError(413, "ENTITY_TOO_LARGE", "The request entity is too large."));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

export class SandboxServer {
  readonly store: StateStore;
  readonly api: AppleApi;
  private faults: Array<Required<Omit<FaultSpec, "method" | "retryAfter" | "delayMs">> & Pick<FaultSpec, "method" | "retryAfter" | "delayMs">> = [];
  private log: RequestLogEntry[] = [];
  private quota = new Map<string, number[]>();
  private server?: http.Server;

  constructor(private readonly options: SandboxOptions = {}) {
    const config: Partial<SandboxConfig> = {};
    if (options.certificateLimit !== undefined) config.certificateLimit = options.certificateLimit;
    if (options.deviceLimit !== undefined) config.deviceLimit = options.deviceLimit;
    if (options.rateLimitPerHour !== undefined) config.rateLimitPerHour = options.rateLimitPerHour;
    this.store = new StateStore(options.stateFile, config);
    this.api = new AppleApi(this.store);
    if (!this.store.data.ca) this.store.data.ca = createCaMaterial();
    const wanted = options.teams && options.teams.length > 0 ? options.teams : this.store.data.teams.length ? [] : [{}];
    for (const [i, t] of wanted.entries()) {
      const teamId = t.teamId ?? (i === 0 ? "SANDBOX001" : appleId());
      if (!this.store.data.teams.some((x) => x.teamId === teamId)) this.addTeam(teamId, t.teamName ?? `Sandbox Team ${i + 1}`);
    }
    this.store.save();
  }

  addTeam(teamId: string, teamName: string): TeamRecord {
    if (!/^[A-Z0-9]{10}$/.test(teamId)) throw new Error(`Team ID ${teamId} must be 10 upper-case letters or digits.`);
    const team: TeamRecord = { teamId, teamName, issuerId: crypto.randomUUID() };
    this.store.data.teams.push(team);
    this.addKey(teamId, "ADMIN");
    return team;
  }

  addKey(teamId: string, role: KeyRole): ApiKeyRecord {
    const team = this.store.data.teams.find((t) => t.teamId === teamId);
    if (!team) throw notFound("teams", teamId);
    const { privateKey, publicKey } = crypto.generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    const key: ApiKeyRecord = {
      keyId: appleId(),
      teamId,
      issuerId: team.issuerId,
      role,
      publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
      privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      revoked: false,
    };
    this.store.data.keys.push(key);
    return key;
  }

  /** The ready-made key of a team: its first Admin key still valid. */
  teamKey(teamId: string): SandboxApiKey {
    const k = this.store.data.keys.find((x) => x.teamId === teamId && x.role === "ADMIN" && !x.revoked) ?? this.addKey(teamId, "ADMIN");
    return { issuerId: k.issuerId, keyId: k.keyId, privateKeyPem: k.privateKeyPem, teamId: k.teamId };
  }

  async listen(): Promise<string> {
    const server = http.createServer((req, res) => {
      this.dispatch(req, res).catch(() => {
        if (!res.headersSent) this.send(res, unexpected());
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.options.port ?? 0, this.options.host ?? "127.0.0.1", () => resolve());
    });
    const addr = server.address() as AddressInfo;
    const host = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
    return `http://${host}:${addr.port}`;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private send(res: http.ServerResponse, result: ApiError | { status: number; body?: unknown }, headers: Record<string, string> = {}): number {
    // Every HTTP answer carries the server's time (RFC 9110 Date); here it is the sandbox's movable clock,
    // which is how a client learns what "now" means for expiry at Apple.
    headers = { date: this.store.now().toUTCString(), ...headers };
    if (result instanceof ApiError) {
      res.writeHead(result.status, { "content-type": "application/json", ...headers, ...result.headers });
      res.end(JSON.stringify(result.body()));
      return result.status;
    }
    if (result.body === undefined) {
      res.writeHead(result.status, headers);
      res.end();
    } else if (typeof result.body === "string") {
      res.writeHead(result.status, { "content-type": "application/x-pem-file", ...headers });
      res.end(result.body);
    } else {
      res.writeHead(result.status, { "content-type": "application/json", ...headers });
      res.end(JSON.stringify(result.body));
    }
    return result.status;
  }

  private record(entry: Omit<RequestLogEntry, "at">): void {
    this.log.push({ at: new Date().toISOString(), ...entry });
    if (this.log.length > MAX_LOG) this.log.splice(0, this.log.length - MAX_LOG);
  }

  private takeFault(method: string, route: string, path: string): (typeof this.faults)[number] | undefined {
    const f = this.faults.find((x) => (x.route === route || x.route === path) && (!x.method || x.method.toUpperCase() === method));
    if (!f) return undefined;
    f.count--;
    if (f.count <= 0) this.faults = this.faults.filter((x) => x !== f);
    return f;
  }

  /** Apple's rolling-hour quota per key ("Identifying Rate Limits"); returns the X-Rate-Limit header value. */
  private spendQuota(keyId: string): string {
    const limit = this.store.data.config.rateLimitPerHour;
    const now = Date.now();
    const used = (this.quota.get(keyId) ?? []).filter((t) => t > now - HOUR_MS);
    this.quota.set(keyId, used);
    if (used.length >= limit) {
      const err = rateLimited(Math.max(1, Math.ceil((used[0] + HOUR_MS - now) / 1000)));
      err.headers["x-rate-limit"] = `user-hour-lim:${limit};user-hour-rem:0;`;
      throw err;
    }
    used.push(now);
    return `user-hour-lim:${limit};user-hour-rem:${limit - used.length};`;
  }

  private async dispatch(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const method = (req.method ?? "GET").toUpperCase();
    const url = new URL(req.url ?? "/", `http://${req.headers.host ?? "127.0.0.1"}`);
    let text: string;
    try {
      text = await readBody(req);
    } catch (err) {
      if (err instanceof ApiError) this.send(res, err);
      return;
    }
    if (url.pathname === "/sandbox" || url.pathname.startsWith("/sandbox/")) {
      this.send(res, this.admin(method, url, text));
      return;
    }

    const resolved = this.api.resolve(method, url.pathname);
    const route = resolved?.template ?? url.pathname;
    const fault = this.takeFault(method, route, url.pathname);
    const base = { method, path: url.pathname, route };
    if (fault?.kind === "429") {
      this.record({ ...base, status: this.send(res, rateLimited(fault.retryAfter ?? 1)), fault: fault.kind });
      return;
    }
    if (fault?.kind === "500") {
      this.record({ ...base, status: this.send(res, unexpected()), fault: fault.kind });
      return;
    }
    if (fault?.kind === "drop") {
      this.record({ ...base, status: 0, fault: fault.kind });
      req.socket.destroy();
      return;
    }

    let key: ApiKeyRecord | undefined;
    let result: ApiError | { status: number; body?: unknown };
    const headers: Record<string, string> = {};
    try {
      if (!resolved) throw pathNotFound();
      key = authenticate(req.headers.authorization, this.store.data.keys);
      headers["x-rate-limit"] = this.spendQuota(key.keyId);
      let body: unknown = undefined;
      if (text !== "") {
        try {
          body = JSON.parse(text);
        } catch {
          throw new ApiError(400, "PARAMETER_ERROR.INVALID", "The request entity is not valid JSON.", "The request body could not be parsed as JSON.");
        }
      }
      result = this.api.handle({ method, url, body, key }, resolved);
      if (method !== "GET") this.store.save();
    } catch (err) {
      result = err instanceof ApiError ? err : unexpected();
    }
    const status = result instanceof ApiError ? result.status : result.status;
    if (fault?.kind === "drop-after-commit") {
      // The change is made and saved; the answer never arrives.
      this.record({ ...base, status: 0, fault: fault.kind, teamId: key?.teamId, keyId: key?.keyId });
      req.socket.destroy();
      return;
    }
    if (fault?.kind === "delay-after-commit") {
      // The change is made and saved; the answer comes late (a caller that crashes meanwhile never sees it).
      await new Promise((r) => setTimeout(r, fault.delayMs ?? 30_000));
      if (req.socket.destroyed) {
        this.record({ ...base, status: 0, fault: fault.kind, teamId: key?.teamId, keyId: key?.keyId });
        return;
      }
    }
    this.send(res, result, headers);
    this.record({ ...base, status, teamId: key?.teamId, keyId: key?.keyId });
  }

  // ------------------------------------------------------------------------------------------- admin

  private admin(method: string, url: URL, text: string): ApiError | { status: number; body?: unknown } {
    let body: Record<string, unknown> = {};
    try {
      if (text) body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return new ApiError(400, "PARAMETER_ERROR.INVALID", "The request entity is not valid JSON.");
    }
    const path = url.pathname.replace(/\/+$/, "");
    const data = this.store.data;
    try {
      if (method === "GET" && path === "/sandbox/state") return { status: 200, body: this.view() };
      if (path === "/sandbox/clock") {
        if (method === "POST") {
          const ms = Number(body.advanceDays ?? 0) * 86_400_000 + Number(body.advanceMs ?? 0);
          if (!Number.isFinite(ms)) return new ApiError(400, "PARAMETER_ERROR.INVALID", "advanceDays must be a number.");
          data.clockOffsetMs += ms;
          this.store.save();
        }
        return { status: 200, body: { now: this.store.now().toISOString(), offsetMs: data.clockOffsetMs } };
      }
      if (path === "/sandbox/faults") {
        if (method === "POST") {
          const kind = String(body.kind) as FaultKind;
          if (!["429", "500", "drop", "drop-after-commit", "delay-after-commit"].includes(kind) || typeof body.route !== "string") {
            return new ApiError(400, "PARAMETER_ERROR.INVALID", 'A fault needs a route and a kind of "429", "500", "drop", "drop-after-commit" or "delay-after-commit".');
          }
          this.faults.push({
            route: body.route,
            method: typeof body.method === "string" ? body.method.toUpperCase() : undefined,
            count: Number(body.count ?? 1),
            kind,
            retryAfter: body.retryAfter === undefined ? undefined : Number(body.retryAfter),
            delayMs: body.delayMs === undefined ? undefined : Number(body.delayMs),
          });
        }
        if (method === "DELETE") this.faults = [];
        return { status: 200, body: { faults: this.faults } };
      }
      if (path === "/sandbox/requests") {
        if (method === "DELETE") this.log = [];
        return { status: 200, body: { requests: this.log } };
      }
      const revoke = /^\/sandbox\/certificates\/([^/]+)\/revoke$/.exec(path);
      if (method === "POST" && revoke) {
        const done = this.api.revoke(decodeURIComponent(revoke[1]));
        if (!done) return notFound("certificates", revoke[1]);
        this.store.save();
        return { status: 200, body: { revoked: done.certificate.id, invalidatedProfiles: done.invalidatedProfiles } };
      }
      if (method === "GET" && path === "/sandbox/root-ca") return { status: 200, body: data.ca!.rootCertPem };
      if (method === "GET" && path === "/sandbox/wwdr-ca") return { status: 200, body: data.ca!.wwdrCertPem };
      if (method === "POST" && path === "/sandbox/reset") {
        data.certificates = [];
        data.profiles = [];
        data.bundleIds = [];
        data.devices = [];
        data.clockOffsetMs = 0;
        this.faults = [];
        this.log = [];
        this.quota.clear();
        this.store.save();
        return { status: 204 };
      }
      if (method === "POST" && path === "/sandbox/keys") {
        const role = (body.role ?? "ADMIN") as KeyRole;
        if (!["ADMIN", "APP_MANAGER", "DEVELOPER"].includes(role)) return new ApiError(400, "PARAMETER_ERROR.INVALID", "role must be ADMIN, APP_MANAGER or DEVELOPER.");
        const k = this.addKey(String(body.teamId), role);
        this.store.save();
        return { status: 201, body: { issuerId: k.issuerId, keyId: k.keyId, privateKeyPem: k.privateKeyPem, teamId: k.teamId, role: k.role } };
      }
      const keyRevoke = /^\/sandbox\/keys\/([^/]+)\/revoke$/.exec(path);
      if (method === "POST" && keyRevoke) {
        const k = data.keys.find((x) => x.keyId === keyRevoke[1]);
        if (!k) return notFound("apiKeys", keyRevoke[1]);
        k.revoked = true;
        this.store.save();
        return { status: 204 };
      }
      if (method === "POST" && path === "/sandbox/teams") {
        const teamId = typeof body.teamId === "string" ? body.teamId : appleId();
        if (data.teams.some((t) => t.teamId === teamId)) return new ApiError(409, "ENTITY_ERROR", "The team exists.");
        const team = this.addTeam(teamId, typeof body.teamName === "string" ? body.teamName : `Sandbox Team ${data.teams.length + 1}`);
        this.store.save();
        return { status: 201, body: { ...team, apiKey: this.teamKey(team.teamId) } };
      }
      if (path === "/sandbox/config") {
        if (method === "POST") {
          for (const k of ["certificateLimit", "deviceLimit", "rateLimitPerHour"] as const) {
            if (body[k] !== undefined) data.config[k] = Number(body[k]);
          }
          this.store.save();
        }
        return { status: 200, body: data.config };
      }
      return new ApiError(404, "NOT_FOUND", "No such sandbox admin endpoint.", `${method} ${path}`);
    } catch (err) {
      return err instanceof ApiError ? err : forbidden(String((err as Error).message));
    }
  }

  view(): SandboxStateView {
    const d = this.store.data;
    const now = this.store.now().getTime();
    return {
      now: new Date(now).toISOString(),
      config: d.config,
      teams: d.teams,
      keys: d.keys.map(({ keyId, teamId, issuerId, role, revoked }) => ({ keyId, teamId, issuerId, role, revoked })),
      certificates: d.certificates.map((c) => ({
        id: c.id,
        teamId: c.teamId,
        certificateType: c.certificateType,
        serialNumber: c.serialNumber,
        createdAt: c.createdAt,
        expiresAt: c.expiresAt,
        revokedAt: c.revokedAt,
        state: c.revokedAt ? "REVOKED" : Date.parse(c.expiresAt) <= now ? "EXPIRED" : "ACTIVE",
      })),
      profiles: d.profiles.map((p) => ({
        id: p.id,
        teamId: p.teamId,
        name: p.name,
        profileType: p.profileType,
        uuid: p.uuid,
        profileState: this.api.profileState(p),
        expiresAt: p.expiresAt,
        bundleIdId: p.bundleIdId,
        certificateIds: p.certificateIds,
        deviceIds: p.deviceIds,
      })),
      bundleIds: d.bundleIds.map(({ id, teamId, identifier, name, platform }) => ({ id, teamId, identifier, name, platform })),
      devices: d.devices.map(({ id, teamId, name, udid, platform, status }) => ({ id, teamId, name, udid, platform, status })),
    };
  }
}

/** Admin helpers that call the admin endpoints over HTTP, as any other client would. */
function adminClient(url: string): SandboxAdmin {
  const call = async (method: string, path: string, body?: unknown): Promise<Response> => {
    const res = await fetch(url + path, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`Sandbox admin ${method} ${path} answered ${res.status}: ${await res.text()}`);
    return res;
  };
  const json = async <T>(method: string, path: string, body?: unknown): Promise<T> => (await call(method, path, body)).json() as Promise<T>;
  return {
    advanceClock: (days) => json("POST", "/sandbox/clock", { advanceDays: days }),
    clock: () => json("GET", "/sandbox/clock"),
    injectFault: async (fault) => void (await call("POST", "/sandbox/faults", fault)),
    clearFaults: async () => void (await call("DELETE", "/sandbox/faults")),
    requests: async () => (await json<{ requests: RequestLogEntry[] }>("GET", "/sandbox/requests")).requests,
    clearRequests: async () => void (await call("DELETE", "/sandbox/requests")),
    state: () => json("GET", "/sandbox/state"),
    revokeCertificate: (id) => json("POST", `/sandbox/certificates/${encodeURIComponent(id)}/revoke`),
    rootCaPem: async () => (await call("GET", "/sandbox/root-ca")).text(),
    intermediateCaPem: async () => (await call("GET", "/sandbox/wwdr-ca")).text(),
    reset: async () => void (await call("POST", "/sandbox/reset")),
    createApiKey: (teamId, role = "ADMIN") => json("POST", "/sandbox/keys", { teamId, role }),
    revokeApiKey: async (keyId) => void (await call("POST", `/sandbox/keys/${encodeURIComponent(keyId)}/revoke`)),
    configure: (config) => json("POST", "/sandbox/config", config),
  };
}

/** Starts a sandbox on 127.0.0.1 (a free port unless `port` is given). */
export async function startSandbox(options: SandboxOptions = {}): Promise<RunningSandbox> {
  const sandbox = new SandboxServer(options);
  const url = await sandbox.listen();
  const teams = sandbox.store.data.teams.map((t) => ({ teamId: t.teamId, teamName: t.teamName, apiKey: sandbox.teamKey(t.teamId) }));
  sandbox.store.save();
  return {
    url,
    apiKey: teams[0].apiKey,
    teams,
    admin: adminClient(url),
    stop: () => sandbox.close(),
  };
}
