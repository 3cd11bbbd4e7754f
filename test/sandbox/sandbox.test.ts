/**
 * The sandbox behaves like App Store Connect where our resources depend on it. These tests speak raw HTTP to it
 * (no client), and check its certificates and profiles with the real openssl binary.
 */
import { execFileSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { createCsr, generateRsaKeyPair } from "../../provider/formats/csr";
import { parseMobileprovision, parsePlist, type PlistDict } from "../../provider/formats/mobileprovision";
import { signJwtEs256 } from "../../provider/formats/p8";
import { startSandbox, type RunningSandbox, type SandboxApiKey } from "../../sandbox";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "appsigning-sandbox-test-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function token(key: SandboxApiKey, claims: Record<string, unknown> = {}, signWith?: string): string {
  const now = Math.floor(Date.now() / 1000);
  return signJwtEs256(
    { kid: key.keyId, typ: "JWT" },
    { iss: key.issuerId, iat: now, exp: now + 600, aud: "appstoreconnect-v1", ...claims },
    crypto.createPrivateKey(signWith ?? key.privateKeyPem),
  );
}

interface Answer {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

async function call(sb: RunningSandbox, method: string, p: string, body?: unknown, key: SandboxApiKey = sb.apiKey, bearer?: string): Promise<Answer> {
  const res = await fetch(sb.url + p, {
    method,
    headers: { authorization: `Bearer ${bearer ?? token(key)}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

function csr(): { pem: string; key: ReturnType<typeof generateRsaKeyPair> } {
  const key = generateRsaKeyPair();
  return { pem: createCsr(key.privateKeyPem, { commonName: "Sandbox Test", emailAddress: "ci@example.com", country: "US" }), key };
}

async function createCert(sb: RunningSandbox, certificateType = "IOS_DISTRIBUTION", key: SandboxApiKey = sb.apiKey) {
  const c = csr();
  const res = await call(sb, "POST", "/v1/certificates", { data: { type: "certificates", attributes: { certificateType, csrContent: c.pem } } }, key);
  return { res, csr: c };
}

async function createBundle(sb: RunningSandbox, identifier: string) {
  const res = await call(sb, "POST", "/v1/bundleIds", { data: { type: "bundleIds", attributes: { identifier, name: `App ${identifier}`, platform: "IOS" } } });
  expect(res.status).toBe(201);
  return res.body.data.id as string;
}

async function createDevice(sb: RunningSandbox, n: number) {
  const udid = crypto.createHash("sha1").update(`device-${n}-${Math.random()}`).digest("hex");
  const res = await call(sb, "POST", "/v1/devices", { data: { type: "devices", attributes: { name: `Phone ${n}`, udid, platform: "IOS" } } });
  expect(res.status).toBe(201);
  return { id: res.body.data.id as string, udid };
}

async function createProfile(sb: RunningSandbox, name: string, profileType: string, bundleId: string, certIds: string[], deviceIds: string[] = []) {
  const relationships: Record<string, unknown> = {
    bundleId: { data: { type: "bundleIds", id: bundleId } },
    certificates: { data: certIds.map((id) => ({ type: "certificates", id })) },
  };
  if (deviceIds.length) relationships.devices = { data: deviceIds.map((id) => ({ type: "devices", id })) };
  return call(sb, "POST", "/v1/profiles", { data: { type: "profiles", attributes: { name, profileType }, relationships } });
}

function openssl(args: string[], input?: Buffer): string {
  return execFileSync("openssl", args, { input, stdio: ["pipe", "pipe", "pipe"] }).toString();
}

describe("App Store Connect sandbox", () => {
  let sb: RunningSandbox;
  beforeAll(async () => {
    sb = await startSandbox();
  });
  afterAll(() => sb.stop());
  beforeEach(() => sb.admin.reset());

  test("answers Apple's 401 NOT_AUTHORIZED body to missing, malformed, expired, over-long, foreign-signed and revoked-key tokens", async () => {
    const now = Math.floor(Date.now() / 1000);
    const foreign = crypto.generateKeyPairSync("ec", { namedCurve: "prime256v1" }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const bad = [
      "",
      "not-a-jwt",
      token(sb.apiKey, { exp: now - 5, iat: now - 600 }),
      token(sb.apiKey, { exp: now + 3600, iat: now }),
      token(sb.apiKey, { aud: "someone-else" }),
      token(sb.apiKey, { iss: crypto.randomUUID() }),
      token(sb.apiKey, {}, foreign),
    ];
    for (const bearer of bad) {
      const res = await call(sb, "GET", "/v1/certificates", undefined, sb.apiKey, bearer);
      expect(res.status).toBe(401);
      expect(res.body.errors[0]).toMatchObject({
        status: "401",
        code: "NOT_AUTHORIZED",
        title: "Authentication credentials are missing or invalid.",
      });
      expect(res.body.errors[0].detail).toMatch(/properly configured and signed bearer token/);
    }
    const extra = await sb.admin.createApiKey(sb.apiKey.teamId);
    expect((await call(sb, "GET", "/v1/certificates", undefined, extra)).status).toBe(200);
    await sb.admin.revokeApiKey(extra.keyId);
    expect((await call(sb, "GET", "/v1/certificates", undefined, extra)).status).toBe(401);
  });

  test("a key with the Developer role may read but not create (403 FORBIDDEN_ERROR)", async () => {
    const dev = await sb.admin.createApiKey(sb.apiKey.teamId, "DEVELOPER");
    expect((await call(sb, "GET", "/v1/certificates", undefined, dev)).status).toBe(200);
    const { res } = await createCert(sb, "IOS_DISTRIBUTION", dev);
    expect(res.status).toBe(403);
    expect(res.body.errors[0]).toMatchObject({ status: "403", code: "FORBIDDEN_ERROR" });
  });

  test("issues a certificate that openssl verifies against the sandbox root, with Apple's subject layout, the CSR's key and one year of validity", async () => {
    const { res, csr: c } = await createCert(sb, "DISTRIBUTION");
    expect(res.status).toBe(201);
    const attrs = res.body.data.attributes;
    expect(attrs).toMatchObject({ certificateType: "DISTRIBUTION", name: "Distribution: Sandbox Team 1", displayName: "Sandbox Team 1" });
    expect(res.body.data.id).toMatch(/^[A-Z0-9]{10}$/);

    const der = Buffer.from(attrs.certificateContent, "base64");
    const x509 = new crypto.X509Certificate(der);
    expect(attrs.serialNumber).toBe(x509.serialNumber);
    // The CSR's public key is the certificate's.
    const csrKey = crypto.createPublicKey(c.key.publicKeyPem).export({ type: "spki", format: "der" });
    expect(x509.publicKey.export({ type: "spki", format: "der" }).equals(csrKey)).toBe(true);
    // One year.
    const from = new Date(x509.validFrom);
    const to = new Date(x509.validTo);
    expect(to.getUTCFullYear() - from.getUTCFullYear()).toBe(1);
    expect(Date.parse(attrs.expirationDate)).toBe(to.getTime());

    const certFile = path.join(tmp, "dist.cer");
    const rootFile = path.join(tmp, "root.pem");
    const wwdrFile = path.join(tmp, "wwdr.pem");
    fs.writeFileSync(certFile, der);
    fs.writeFileSync(rootFile, await sb.admin.rootCaPem());
    fs.writeFileSync(wwdrFile, await sb.admin.intermediateCaPem());
    const pemFile = path.join(tmp, "dist.pem");
    openssl(["x509", "-inform", "DER", "-in", certFile, "-out", pemFile]);
    expect(openssl(["verify", "-CAfile", rootFile, "-untrusted", wwdrFile, pemFile])).toMatch(/dist\.pem: OK/);
    const subject = openssl(["x509", "-in", pemFile, "-noout", "-subject", "-nameopt", "RFC2253"]).trim();
    // RFC 2253 prints the last RDN first: UID, CN, OU, O, C in certificate order.
    expect(subject).toBe("subject=C=US,O=Sandbox Team 1,OU=SANDBOX001,CN=Apple Distribution: Sandbox Team 1 (SANDBOX001),UID=SANDBOX001");
    const issuer = openssl(["x509", "-in", pemFile, "-noout", "-issuer"]);
    expect(issuer).toMatch(/Apple Worldwide Developer Relations Certification Authority/);
    expect(openssl(["x509", "-in", pemFile, "-noout", "-ext", "extendedKeyUsage"])).toMatch(/Code Signing/);
  });

  test("signs profiles that openssl cms -verify reads, with the plist fields Apple puts in them", async () => {
    const { res: certRes } = await createCert(sb, "IOS_DISTRIBUTION");
    const certId = certRes.body.data.id;
    const bundleId = await createBundle(sb, "com.acme.app");
    const d1 = await createDevice(sb, 1);
    const d2 = await createDevice(sb, 2);
    const res = await createProfile(sb, "Acme Ad Hoc", "IOS_APP_ADHOC", bundleId, [certId], [d1.id, d2.id]);
    expect(res.status).toBe(201);
    const a = res.body.data.attributes;
    expect(a).toMatchObject({ name: "Acme Ad Hoc", profileType: "IOS_APP_ADHOC", profileState: "ACTIVE", platform: "IOS" });

    const file = path.join(tmp, "adhoc.mobileprovision");
    const der = Buffer.from(a.profileContent, "base64");
    fs.writeFileSync(file, der);
    const xml = openssl(["cms", "-verify", "-noverify", "-inform", "DER", "-in", file]);
    const plist = parsePlist(xml) as PlistDict;
    expect(plist.UUID).toBe(a.uuid);
    expect(plist.Name).toBe("Acme Ad Hoc");
    expect(plist.TeamIdentifier).toEqual(["SANDBOX001"]);
    expect(plist.TeamName).toBe("Sandbox Team 1");
    expect((plist.ExpirationDate as Date).toISOString()).toBe(new Date(a.expirationDate).toISOString());
    const entitlements = plist.Entitlements as PlistDict;
    expect(entitlements["application-identifier"]).toBe("SANDBOX001.com.acme.app");
    expect(entitlements["get-task-allow"]).toBe(false);
    expect(entitlements["com.apple.developer.team-identifier"]).toBe("SANDBOX001");
    expect(plist.ProvisionedDevices).toEqual([d1.udid, d2.udid]);
    const certs = plist.DeveloperCertificates as Buffer[];
    expect(certs).toHaveLength(1);
    expect(certs[0].equals(Buffer.from(certRes.body.data.attributes.certificateContent, "base64"))).toBe(true);
    // Twelve months from creation (the certificate lives longer by a few milliseconds).
    const created = plist.CreationDate as Date;
    expect(new Date(plist.ExpirationDate as Date).getUTCFullYear() - created.getUTCFullYear()).toBe(1);

    // Our own parser reads the same file.
    const parsed = parseMobileprovision(der);
    expect(parsed).toMatchObject({ uuid: a.uuid, name: "Acme Ad Hoc", teamIdentifier: "SANDBOX001", bundleId: "com.acme.app", platform: ["iOS", "xrOS", "visionOS"] });
    expect(parsed.provisionedDevices).toEqual([d1.udid, d2.udid]);

    // The signature itself is sound: it verifies against the sandbox root too.
    const rootFile = path.join(tmp, "root-for-cms.pem");
    fs.writeFileSync(rootFile, await sb.admin.rootCaPem());
    execFileSync("openssl", ["cms", "-verify", "-inform", "DER", "-in", file, "-CAfile", rootFile, "-out", "/dev/null"], { stdio: "pipe" });
  });

  test("App Store profiles refuse devices, ad hoc profiles require them, and names are unique in a team", async () => {
    const certId = (await createCert(sb)).res.body.data.id;
    const bundleId = await createBundle(sb, "com.acme.rules");
    const device = await createDevice(sb, 3);
    const withDevices = await createProfile(sb, "Store", "IOS_APP_STORE", bundleId, [certId], [device.id]);
    expect(withDevices.status).toBe(409);
    expect(withDevices.body.errors[0].code).toBe("ENTITY_ERROR.RELATIONSHIP.INVALID");
    const noDevices = await createProfile(sb, "AdHoc", "IOS_APP_ADHOC", bundleId, [certId]);
    expect(noDevices.status).toBe(409);
    expect(noDevices.body.errors[0].code).toBe("ENTITY_ERROR.RELATIONSHIP.REQUIRED");
    expect((await createProfile(sb, "Store", "IOS_APP_STORE", bundleId, [certId])).status).toBe(201);
    const again = await createProfile(sb, "Store", "IOS_APP_STORE", bundleId, [certId]);
    expect(again.status).toBe(409);
    expect(again.body.errors[0].code).toBe("ENTITY_ERROR.ATTRIBUTE.INVALID");
    const id = (await call(sb, "GET", "/v1/profiles?filter[name]=Store")).body.data[0].id;
    const patch = await call(sb, "PATCH", `/v1/profiles/${id}`, { data: { type: "profiles", id, attributes: { name: "Other" } } });
    expect(patch.status).toBe(403);
  });

  test("refuses a distribution certificate past the team's limit with Apple's 409, and stops counting revoked or expired ones", async () => {
    const first = await createCert(sb, "IOS_DISTRIBUTION");
    const second = await createCert(sb, "DISTRIBUTION");
    expect([first.res.status, second.res.status]).toEqual([201, 201]);
    const third = await createCert(sb, "IOS_DISTRIBUTION");
    expect(third.res.status).toBe(409);
    expect(third.res.body.errors[0]).toMatchObject({
      status: "409",
      code: "ENTITY_ERROR.ATTRIBUTE.INVALID",
      title: "There is a problem with the request entity",
      detail: "You already have a current iOS Distribution certificate or a pending certificate request.",
    });
    // Development certificates do not count.
    expect((await createCert(sb, "IOS_DEVELOPMENT")).res.status).toBe(201);
    // Revoking one frees a slot.
    expect((await call(sb, "DELETE", `/v1/certificates/${first.res.body.data.id}`)).status).toBe(204);
    expect((await call(sb, "GET", `/v1/certificates/${first.res.body.data.id}`)).status).toBe(404);
    expect((await createCert(sb, "IOS_DISTRIBUTION")).res.status).toBe(201);
    expect((await createCert(sb, "IOS_DISTRIBUTION")).res.status).toBe(409);
    // A year later they have expired and no longer count.
    await sb.admin.advanceClock(366);
    expect((await createCert(sb, "DISTRIBUTION")).res.status).toBe(201);
  });

  test("revoking a certificate behind the client's back turns every profile made with it INVALID", async () => {
    const a = (await createCert(sb)).res.body.data.id;
    const b = (await createCert(sb)).res.body.data.id;
    const bundleId = await createBundle(sb, "com.acme.revoke");
    const p1 = (await createProfile(sb, "P1", "IOS_APP_STORE", bundleId, [a])).body.data.id;
    const p2 = (await createProfile(sb, "P2", "IOS_APP_STORE", bundleId, [a])).body.data.id;
    const p3 = (await createProfile(sb, "P3", "IOS_APP_STORE", bundleId, [b])).body.data.id;
    const revoked = await sb.admin.revokeCertificate(a);
    expect(revoked.invalidatedProfiles.sort()).toEqual([p1, p2].sort());
    const states = async (id: string) => (await call(sb, "GET", `/v1/profiles/${id}`)).body.data.attributes.profileState;
    expect([await states(p1), await states(p2), await states(p3)]).toEqual(["INVALID", "INVALID", "ACTIVE"]);
    const invalid = await call(sb, "GET", "/v1/profiles?filter[profileState]=INVALID");
    expect(invalid.body.data.map((p: { id: string }) => p.id).sort()).toEqual([p1, p2].sort());
    // Revoked certificates leave Apple's list.
    const list = await call(sb, "GET", "/v1/certificates");
    expect(list.body.data.map((c: { id: string }) => c.id)).toEqual([b]);
  });

  test("moving the clock forward expires certificates and profiles; a profile ends with its certificate when that comes first", async () => {
    const certId = (await createCert(sb)).res.body.data.id;
    const cert = (await call(sb, "GET", `/v1/certificates/${certId}`)).body.data.attributes;
    const bundleId = await createBundle(sb, "com.acme.clock");
    await sb.admin.advanceClock(200);
    const profile = (await createProfile(sb, "Late", "IOS_APP_STORE", bundleId, [certId])).body.data.attributes;
    // Made 200 days into the certificate's year: it ends with the certificate, not 12 months later.
    expect(profile.expirationDate).toBe(cert.expirationDate);
    await sb.admin.advanceClock(170);
    const state = await sb.admin.state();
    expect(state.certificates[0].state).toBe("EXPIRED");
    expect(state.profiles[0].profileState).toBe("INVALID");
    const p = await call(sb, "GET", "/v1/profiles?filter[name]=Late");
    expect(p.body.data[0].attributes.profileState).toBe("INVALID");
    // An expired certificate cannot go into a new profile.
    const refused = await createProfile(sb, "Too late", "IOS_APP_STORE", bundleId, [certId]);
    expect(refused.status).toBe(409);
  });

  test("injected faults answer 429 with Retry-After, 500, or drop the connection, for the next N requests to a route", async () => {
    await sb.admin.injectFault({ route: "/v1/certificates", method: "GET", count: 2, kind: "429", retryAfter: 7 });
    for (let i = 0; i < 2; i++) {
      const r = await call(sb, "GET", "/v1/certificates");
      expect(r.status).toBe(429);
      expect(r.headers.get("retry-after")).toBe("7");
      expect(r.body.errors[0].code).toBe("RATE_LIMIT_EXCEEDED");
    }
    expect((await call(sb, "GET", "/v1/certificates")).status).toBe(200);

    await sb.admin.injectFault({ route: "/v1/profiles/{id}", kind: "500" });
    const r500 = await call(sb, "GET", "/v1/profiles/XXXXXXXXXX");
    expect(r500.status).toBe(500);
    expect(r500.body.errors[0].status).toBe("500");
    expect((await call(sb, "GET", "/v1/profiles/XXXXXXXXXX")).status).toBe(404);

    await sb.admin.injectFault({ route: "/v1/devices", kind: "drop" });
    await expect(call(sb, "GET", "/v1/devices")).rejects.toThrow();
    expect((await call(sb, "GET", "/v1/devices")).status).toBe(200);
  });

  test("drop-after-commit makes the change and never answers", async () => {
    await sb.admin.injectFault({ route: "/v1/certificates", method: "POST", kind: "drop-after-commit" });
    await expect(createCert(sb)).rejects.toThrow();
    const list = await call(sb, "GET", "/v1/certificates");
    expect(list.body.data).toHaveLength(1);
  });

  test("keeps a request log of method, route and status, readable through the admin endpoint", async () => {
    await sb.admin.clearRequests();
    await call(sb, "GET", "/v1/certificates");
    await call(sb, "GET", "/v1/profiles/NOPE123456");
    await call(sb, "GET", "/v1/certificates", undefined, sb.apiKey, "bad");
    const log = await sb.admin.requests();
    expect(log.map((e) => [e.method, e.route, e.status])).toEqual([
      ["GET", "/v1/certificates", 200],
      ["GET", "/v1/profiles/{id}", 404],
      ["GET", "/v1/certificates", 401],
    ]);
  });

  test("paginates lists with Apple's limit, links.next and meta.paging", async () => {
    for (let i = 0; i < 5; i++) await createDevice(sb, 10 + i);
    const first = await call(sb, "GET", "/v1/devices?limit=2");
    expect(first.body.data).toHaveLength(2);
    expect(first.body.meta.paging).toEqual({ total: 5, limit: 2 });
    const seen = [...first.body.data];
    let next: string | undefined = first.body.links.next;
    while (next) {
      const page = await call(sb, "GET", next.replace(sb.url, ""));
      seen.push(...page.body.data);
      next = page.body.links.next;
    }
    expect(new Set(seen.map((d) => d.id)).size).toBe(5);
    expect((await call(sb, "GET", "/v1/devices?limit=201")).status).toBe(400);
  });

  test("the bundle ID identifier filter matches loosely, as Apple's does", async () => {
    await createBundle(sb, "com.acme.app");
    await createBundle(sb, "com.acme.app.widget");
    const res = await call(sb, "GET", "/v1/bundleIds?filter[identifier]=com.acme.app");
    expect(res.body.data.map((b: { attributes: { identifier: string } }) => b.attributes.identifier).sort()).toEqual(["com.acme.app", "com.acme.app.widget"]);
    const dup = await call(sb, "POST", "/v1/bundleIds", { data: { type: "bundleIds", attributes: { identifier: "com.acme.app", name: "x", platform: "IOS" } } });
    expect(dup.status).toBe(409);
  });
});

describe("App Store Connect sandbox with several teams and a state file", () => {
  test("keeps teams apart: a team's key sees only its own certificates", async () => {
    const sb = await startSandbox({ teams: [{ teamId: "TEAMAAAAAA", teamName: "A" }, { teamId: "TEAMBBBBBB", teamName: "B" }] });
    try {
      const [a, b] = sb.teams;
      expect((await createCert(sb, "IOS_DISTRIBUTION", a.apiKey)).res.status).toBe(201);
      const mine = await call(sb, "GET", "/v1/certificates", undefined, a.apiKey);
      const theirs = await call(sb, "GET", "/v1/certificates", undefined, b.apiKey);
      expect(mine.body.data).toHaveLength(1);
      expect(theirs.body.data).toHaveLength(0);
      expect((await call(sb, "GET", `/v1/certificates/${mine.body.data[0].id}`, undefined, b.apiKey)).status).toBe(404);
      // Each team has its own limit.
      expect((await createCert(sb, "IOS_DISTRIBUTION", b.apiKey)).res.status).toBe(201);
      expect((await createCert(sb, "IOS_DISTRIBUTION", b.apiKey)).res.status).toBe(201);
      expect((await createCert(sb, "IOS_DISTRIBUTION", b.apiKey)).res.status).toBe(409);
    } finally {
      await sb.stop();
    }
  });

  test("state kept in a JSON file survives a restart, keys and CA included, and the file is private", async () => {
    const file = path.join(tmp, "state", "sandbox.json");
    const first = await startSandbox({ stateFile: file, certificateLimit: 1 });
    let certId: string;
    let root: string;
    try {
      certId = (await createCert(first)).res.body.data.id;
      root = await first.admin.rootCaPem();
      await first.admin.advanceClock(10);
    } finally {
      await first.stop();
    }
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const second = await startSandbox({ stateFile: file });
    try {
      expect(second.apiKey.keyId).toBe(first.apiKey.keyId);
      const got = await call(second, "GET", `/v1/certificates/${certId}`);
      expect(got.status).toBe(200);
      expect(await second.admin.rootCaPem()).toBe(root);
      expect((await createCert(second)).res.status).toBe(409);
      const clock = await second.admin.clock();
      expect(Date.parse(clock.now) - Date.now()).toBeGreaterThan(9 * 86_400_000);
    } finally {
      await second.stop();
    }
  });
});
