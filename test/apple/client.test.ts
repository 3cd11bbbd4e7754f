/**
 * The App Store Connect client against the real sandbox over HTTP on 127.0.0.1: every endpoint the resources use,
 * pagination, Apple's errors, and the retry policy under injected faults.
 */
import * as crypto from "crypto";
import {
  AppleClient,
  createAppleClient,
  createBundleId,
  createCertificate,
  createProfile,
  deleteProfile,
  ensureBundleId,
  findBundleId,
  findCertificateForCsr,
  getBundleId,
  getCertificate,
  getProfile,
  listCertificates,
  listDevices,
  listProfiles,
  registerDevice,
  revokeCertificate,
  type AppleClientConfig,
} from "../../provider/apple";
import { AppleApiError, AppleCertificateLimitReached, InvalidCredentialInput, LimitReached } from "../../provider/errors";
import { createCsr, generateRsaKeyPair } from "../../provider/formats/csr";
import { parseMobileprovision } from "../../provider/formats/mobileprovision";
import { PKCS8_PEM_BEGIN, PKCS8_PEM_END, PKCS8_PEM_LABEL } from "../../provider/formats/p8";
import { startSandbox, type RunningSandbox, type SandboxApiKey } from "../../sandbox";

function configFor(sb: RunningSandbox, key: SandboxApiKey = sb.apiKey, extra: Partial<AppleClientConfig> = {}): AppleClientConfig {
  return {
    issuerId: key.issuerId,
    keyId: key.keyId,
    privateKey: key.privateKeyPem,
    baseUrl: sb.url,
    // Fast back-off in tests; Retry-After is still honoured as sent.
    retry: { baseDelayMs: 20, maxDelayMs: 100 },
    ...extra,
  };
}

function newCsr(): string {
  const { privateKeyPem } = generateRsaKeyPair();
  return createCsr(privateKeyPem, { commonName: "appsigning test", country: "US" });
}

function udid(): string {
  return crypto.randomBytes(20).toString("hex");
}

describe("App Store Connect client", () => {
  let sb: RunningSandbox;
  let client: AppleClient;
  beforeAll(async () => {
    sb = await startSandbox();
  });
  afterAll(() => sb.stop());
  beforeEach(async () => {
    await sb.admin.reset();
    client = createAppleClient(configFor(sb));
  });

  describe("credentials", () => {
    test("rejects a malformed .p8, key ID or issuer ID before any request, naming the field", async () => {
      await sb.admin.clearRequests();
      const good = configFor(sb);
      const cases: Array<[Partial<AppleClientConfig>, string]> = [
        [{ privateKey: "not a key" }, "privateKey"],
        [{ privateKey: `${PKCS8_PEM_BEGIN}\nAAAA\n${PKCS8_PEM_END}` }, "privateKey"],
        [{ privateKey: generateRsaKeyPair().privateKeyPem }, "privateKey"],
        [{ keyId: "abc" }, "keyId"],
        [{ keyId: "abcdefghij" }, "keyId"],
        [{ issuerId: "not-a-uuid" }, "issuerId"],
      ];
      for (const [override, field] of cases) {
        let thrown: unknown;
        try {
          createAppleClient({ ...good, ...override });
        } catch (err) {
          thrown = err;
        }
        expect(thrown).toBeInstanceOf(InvalidCredentialInput);
        expect((thrown as InvalidCredentialInput).field).toBe(field);
        expect((thrown as Error).message).toContain(field);
      }
      expect(await sb.admin.requests()).toEqual([]);
    });

    test("reuses one token until it nears expiry, then signs a new one", async () => {
      // The client's clock starts 18 minutes behind: its first token (19-minute lifetime) is still valid for the
      // sandbox, which judges tokens by real time, and the clock catches up to real time when the token nears expiry.
      let now = Date.now() - 18 * 60_000;
      const c = createAppleClient(configFor(sb, sb.apiKey, { now: () => now }));
      await listCertificates(c);
      await listCertificates(c);
      expect(c.tokensSigned).toBe(1);
      now += 10 * 60_000;
      await listCertificates(c);
      expect(c.tokensSigned).toBe(1);
      now += 8 * 60_000; // one minute left: inside the renewal margin
      await listCertificates(c);
      expect(c.tokensSigned).toBe(2);
      expect(c.calls["GET /v1/certificates"]).toBe(4);
    });

    test("a revoked key gets a 401 AppleApiError that says what to check", async () => {
      const extra = await sb.admin.createApiKey(sb.apiKey.teamId);
      const c = createAppleClient(configFor(sb, extra));
      await sb.admin.revokeApiKey(extra.keyId);
      const err = (await listCertificates(c).catch((e: unknown) => e)) as AppleApiError;
      expect(err).toBeInstanceOf(AppleApiError);
      expect(err).toMatchObject({ status: 401, code: "NOT_AUTHORIZED", title: "Authentication credentials are missing or invalid." });
      expect(err.detail).toMatch(/signed bearer token/);
      expect(err.message).toMatch(/revoked/);
      expect(err.message).not.toContain(PKCS8_PEM_LABEL);
      // One retry with a fresh token (Apple's 401s are sometimes transient), then the error.
      expect(c.calls["GET /v1/certificates"]).toBe(2);
    });

    test("a key whose role does not allow creating gets a 403 AppleApiError naming the role needed", async () => {
      const dev = await sb.admin.createApiKey(sb.apiKey.teamId, "DEVELOPER");
      const c = createAppleClient(configFor(sb, dev));
      const err = (await createCertificate(c, { certificateType: "IOS_DISTRIBUTION", csrPem: newCsr() }).catch((e: unknown) => e)) as AppleApiError;
      expect(err).toBeInstanceOf(AppleApiError);
      expect(err.status).toBe(403);
      expect(err.code).toBe("FORBIDDEN_ERROR");
      expect(err.message).toMatch(/Admin or App Manager/);
    });
  });

  describe("certificates", () => {
    test("creates a certificate from a CSR, gets it, lists it with filters and revokes it", async () => {
      const csr = newCsr();
      const cert = await createCertificate(client, { certificateType: "IOS_DISTRIBUTION", csrPem: csr });
      expect(cert).toMatchObject({ certificateType: "IOS_DISTRIBUTION", platform: "IOS" });
      expect(cert.serialNumber).toMatch(/^[0-9A-F]+$/);
      expect(Date.parse(cert.expirationDate)).toBeGreaterThan(Date.now() + 360 * 86_400_000);
      expect(await getCertificate(client, cert.id)).toEqual(cert);
      const dev = await createCertificate(client, { certificateType: "IOS_DEVELOPMENT", csrPem: newCsr() });

      expect((await listCertificates(client)).map((c) => c.id).sort()).toEqual([cert.id, dev.id].sort());
      expect((await listCertificates(client, { certificateType: ["IOS_DISTRIBUTION", "DISTRIBUTION"] })).map((c) => c.id)).toEqual([cert.id]);
      expect((await listCertificates(client, { serialNumber: cert.serialNumber })).map((c) => c.id)).toEqual([cert.id]);
      expect((await findCertificateForCsr(client, "IOS_DISTRIBUTION", csr))?.id).toBe(cert.id);

      await revokeCertificate(client, cert.id);
      expect(await getCertificate(client, cert.id)).toBeUndefined();
      expect((await listCertificates(client)).map((c) => c.id)).toEqual([dev.id]);
      // Revoking what Apple no longer has is an error, unless it is a retry of our own revoke.
      await expect(revokeCertificate(client, cert.id)).rejects.toMatchObject({ status: 404, code: "NOT_FOUND" });
    });

    test("Apple's 409 at the distribution limit becomes LimitReached, keeping Apple's error", async () => {
      await createCertificate(client, { certificateType: "IOS_DISTRIBUTION", csrPem: newCsr() });
      await createCertificate(client, { certificateType: "DISTRIBUTION", csrPem: newCsr() });
      const err = (await createCertificate(client, { certificateType: "DISTRIBUTION", csrPem: newCsr() }).catch((e: unknown) => e)) as AppleCertificateLimitReached;
      expect(err).toBeInstanceOf(LimitReached);
      expect(err).toBeInstanceOf(AppleCertificateLimitReached);
      expect(err.kind).toBe("limit-reached");
      expect(err.certificateType).toBe("DISTRIBUTION");
      expect(err.apple).toMatchObject({ status: 409, code: "ENTITY_ERROR.ATTRIBUTE.INVALID", title: "There is a problem with the request entity" });
      expect(err.apple.detail).toBe("You already have a current Distribution certificate or a pending certificate request.");
      expect(err.remedy).toMatch(/revoke/);
      // No retry of a 409.
      expect(client.calls["POST /v1/certificates"]).toBe(3);
    });

    test("a CSR that is not a CSR fails before Apple is called", async () => {
      await expect(createCertificate(client, { certificateType: "IOS_DISTRIBUTION", csrPem: "garbage" })).rejects.toBeInstanceOf(InvalidCredentialInput);
      expect(client.calls["POST /v1/certificates"]).toBeUndefined();
    });
  });

  describe("bundle IDs and devices", () => {
    test("finds a bundle ID by its exact identifier although Apple's filter matches more, and creates one", async () => {
      const widget = await createBundleId(client, { identifier: "com.acme.app.widget", name: "Widget", platform: "IOS" });
      expect(await findBundleId(client, "com.acme.app")).toBeUndefined();
      const app = await ensureBundleId(client, { identifier: "com.acme.app", name: "Acme", platform: "IOS" });
      expect(app).toMatchObject({ identifier: "com.acme.app", name: "Acme", platform: "IOS", seedId: sb.apiKey.teamId });
      expect((await findBundleId(client, "com.acme.app"))?.id).toBe(app.id);
      expect((await findBundleId(client, "com.acme.app.widget"))?.id).toBe(widget.id);
      expect(await ensureBundleId(client, { identifier: "com.acme.app", name: "Acme", platform: "IOS" })).toEqual(app);
      expect(await getBundleId(client, app.id)).toEqual(app);
      await expect(createBundleId(client, { identifier: "com.acme.app", name: "Again", platform: "IOS" })).rejects.toMatchObject({ status: 409 });
    });

    test("registers devices and lists them with filters", async () => {
      const a = await registerDevice(client, { name: "iPhone A", udid: udid(), platform: "IOS" });
      const b = await registerDevice(client, { name: "Mac B", udid: udid(), platform: "MAC_OS" });
      expect(a).toMatchObject({ name: "iPhone A", platform: "IOS", status: "ENABLED" });
      expect((await listDevices(client, { platform: "IOS", status: "ENABLED" })).map((d) => d.id)).toEqual([a.id]);
      expect((await listDevices(client)).map((d) => d.id).sort()).toEqual([a.id, b.id].sort());
      expect((await listDevices(client, { udid: b.udid })).map((d) => d.id)).toEqual([b.id]);
    });

    test("follows links.next through every page", async () => {
      const paged = createAppleClient(configFor(sb, sb.apiKey, { pageLimit: 3 }));
      const made = [];
      for (let i = 0; i < 8; i++) made.push(await registerDevice(paged, { name: `Device ${i}`, udid: udid(), platform: "IOS" }));
      const all = await listDevices(paged);
      expect(all.map((d) => d.id).sort()).toEqual(made.map((d) => d.id).sort());
      expect(paged.calls["GET /v1/devices"]).toBe(3); // 3 + 3 + 2
    });
  });

  describe("profiles", () => {
    test("creates, gets with its certificates, devices and bundle ID, lists and deletes a profile", async () => {
      const cert = await createCertificate(client, { certificateType: "IOS_DISTRIBUTION", csrPem: newCsr() });
      const bundle = await createBundleId(client, { identifier: "com.acme.profiles", name: "Acme", platform: "IOS" });
      const devices = [
        await registerDevice(client, { name: "One", udid: udid(), platform: "IOS" }),
        await registerDevice(client, { name: "Two", udid: udid(), platform: "IOS" }),
      ];
      const adhoc = await createProfile(client, {
        name: "Acme Ad Hoc",
        profileType: "IOS_APP_ADHOC",
        bundleIdId: bundle.id,
        certificateIds: [cert.id],
        deviceIds: devices.map((d) => d.id),
      });
      expect(adhoc).toMatchObject({ name: "Acme Ad Hoc", profileType: "IOS_APP_ADHOC", profileState: "ACTIVE", bundleIdId: bundle.id, certificateIds: [cert.id] });
      const store = await createProfile(client, { name: "Acme Store", profileType: "IOS_APP_STORE", bundleIdId: bundle.id, certificateIds: [cert.id] });

      const got = await getProfile(client, adhoc.id);
      expect(got).toMatchObject({ id: adhoc.id, uuid: adhoc.uuid, bundleIdId: bundle.id, certificateIds: [cert.id] });
      expect(got?.deviceIds?.sort()).toEqual(devices.map((d) => d.id).sort());
      const file = parseMobileprovision(Buffer.from(got!.profileContent, "base64"));
      expect(file.uuid).toBe(adhoc.uuid);
      expect(file.applicationIdentifier).toBe(`${sb.apiKey.teamId}.com.acme.profiles`);
      expect(file.provisionedDevices.sort()).toEqual(devices.map((d) => d.udid).sort());

      expect((await listProfiles(client)).map((p) => p.id).sort()).toEqual([adhoc.id, store.id].sort());
      expect((await listProfiles(client, { profileType: "IOS_APP_STORE" })).map((p) => p.id)).toEqual([store.id]);
      expect((await listProfiles(client, { name: "Acme Ad Hoc" })).map((p) => p.id)).toEqual([adhoc.id]);

      await deleteProfile(client, adhoc.id);
      expect(await getProfile(client, adhoc.id)).toBeUndefined();
      expect((await listProfiles(client)).map((p) => p.id)).toEqual([store.id]);
    });

    test("revoking a certificate turns its profiles INVALID", async () => {
      const cert = await createCertificate(client, { certificateType: "IOS_DISTRIBUTION", csrPem: newCsr() });
      const bundle = await createBundleId(client, { identifier: "com.acme.invalid", name: "Acme", platform: "IOS" });
      const p = await createProfile(client, { name: "Store", profileType: "IOS_APP_STORE", bundleIdId: bundle.id, certificateIds: [cert.id] });
      await revokeCertificate(client, cert.id);
      expect((await getProfile(client, p.id))?.profileState).toBe("INVALID");
      expect((await listProfiles(client, { profileState: "INVALID" })).map((x) => x.id)).toEqual([p.id]);
    });

    test("reads every device of a profile with more devices than an include returns", async () => {
      const cert = await createCertificate(client, { certificateType: "IOS_DEVELOPMENT", csrPem: newCsr() });
      const bundle = await createBundleId(client, { identifier: "com.acme.many", name: "Many", platform: "IOS" });
      const ids: string[] = [];
      for (let i = 0; i < 55; i++) ids.push((await registerDevice(client, { name: `D${i}`, udid: udid(), platform: "IOS" })).id);
      const p = await createProfile(client, { name: "Dev", profileType: "IOS_APP_DEVELOPMENT", bundleIdId: bundle.id, certificateIds: [cert.id], deviceIds: ids });
      const got = await getProfile(client, p.id);
      expect(got?.deviceIds?.sort()).toEqual([...ids].sort());
      expect(client.calls["GET /v1/profiles/{id}/relationships/devices"]).toBe(1);
    });
  });

  describe("retries", () => {
    test("waits out a 429's Retry-After and then succeeds", async () => {
      await sb.admin.injectFault({ route: "/v1/certificates", method: "GET", count: 1, kind: "429", retryAfter: 1 });
      const started = Date.now();
      expect(await listCertificates(client)).toEqual([]);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
      expect(client.calls["GET /v1/certificates"]).toBe(2);
      const log = await sb.admin.requests();
      expect(log.filter((e) => e.route === "/v1/certificates").map((e) => e.status)).toEqual([429, 200]);
    });

    test("a 429 on a create is sent again without a check: Apple did not process it", async () => {
      await sb.admin.injectFault({ route: "/v1/certificates", method: "POST", count: 1, kind: "429", retryAfter: 0 });
      await createCertificate(client, { certificateType: "IOS_DISTRIBUTION", csrPem: newCsr() });
      expect(client.calls).toEqual({ "POST /v1/certificates": 2 });
    });

    test("retries a 500 with back-off and then succeeds", async () => {
      await sb.admin.injectFault({ route: "/v1/devices", method: "GET", count: 2, kind: "500" });
      expect(await listDevices(client)).toEqual([]);
      expect(client.calls["GET /v1/devices"]).toBe(3);
    });

    test("retries a read whose connection was dropped", async () => {
      await sb.admin.injectFault({ route: "/v1/bundleIds", method: "GET", count: 1, kind: "drop" });
      expect(await findBundleId(client, "com.acme.none")).toBeUndefined();
      expect(client.calls["GET /v1/bundleIds"]).toBe(2);
    });

    test("gives up after the last attempt with Apple's error", async () => {
      const c = createAppleClient(configFor(sb, sb.apiKey, { retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 10 } }));
      await sb.admin.injectFault({ route: "/v1/devices", method: "GET", count: 5, kind: "500" });
      await expect(listDevices(c)).rejects.toMatchObject({ status: 500, code: "UNEXPECTED_ERROR" });
      expect(c.calls["GET /v1/devices"]).toBe(3);
      await sb.admin.clearFaults();
    });

    test("a connection dropped after Apple created the certificate is resolved by matching the CSR's key, without creating twice", async () => {
      await sb.admin.injectFault({ route: "/v1/certificates", method: "POST", count: 1, kind: "drop-after-commit" });
      const csr = newCsr();
      const cert = await createCertificate(client, { certificateType: "IOS_DISTRIBUTION", csrPem: csr });
      const state = await sb.admin.state();
      expect(state.certificates).toHaveLength(1);
      expect(state.certificates[0].id).toBe(cert.id);
      expect(client.calls["POST /v1/certificates"]).toBe(1);
      expect(client.calls["GET /v1/certificates"]).toBe(1);
      expect((await findCertificateForCsr(client, "IOS_DISTRIBUTION", csr))?.serialNumber).toBe(cert.serialNumber);
    });

    test("a connection dropped before Apple acted is checked, then the create is sent again", async () => {
      await sb.admin.injectFault({ route: "/v1/certificates", method: "POST", count: 1, kind: "drop" });
      await createCertificate(client, { certificateType: "IOS_DISTRIBUTION", csrPem: newCsr() });
      expect((await sb.admin.state()).certificates).toHaveLength(1);
      expect(client.calls["POST /v1/certificates"]).toBe(2);
      expect(client.calls["GET /v1/certificates"]).toBe(1);
    });

    test("a 500 on a create at the limit is checked first, so a certificate that was issued is not asked for again", async () => {
      const c = createAppleClient(configFor(sb));
      await createCertificate(c, { certificateType: "DISTRIBUTION", csrPem: newCsr() });
      await sb.admin.injectFault({ route: "/v1/certificates", method: "POST", count: 1, kind: "drop-after-commit" });
      const csr = newCsr();
      // This one takes the last slot; a blind retry would get the 409.
      const cert = await createCertificate(c, { certificateType: "IOS_DISTRIBUTION", csrPem: csr });
      expect((await sb.admin.state()).certificates.map((x) => x.id)).toContain(cert.id);
      expect(c.calls["POST /v1/certificates"]).toBe(2);
    });

    test("a connection dropped after Apple created the profile is resolved by its name, without creating twice", async () => {
      const cert = await createCertificate(client, { certificateType: "IOS_DISTRIBUTION", csrPem: newCsr() });
      const bundle = await createBundleId(client, { identifier: "com.acme.drop", name: "Drop", platform: "IOS" });
      await sb.admin.injectFault({ route: "/v1/profiles", method: "POST", count: 1, kind: "drop-after-commit" });
      const p = await createProfile(client, { name: "Dropped Store", profileType: "IOS_APP_STORE", bundleIdId: bundle.id, certificateIds: [cert.id] });
      expect(p).toMatchObject({ name: "Dropped Store", bundleIdId: bundle.id, certificateIds: [cert.id], profileState: "ACTIVE" });
      const state = await sb.admin.state();
      expect(state.profiles.map((x) => x.id)).toEqual([p.id]);
      expect(client.calls["POST /v1/profiles"]).toBe(1);
    });

    test("a connection dropped after a device was registered is resolved by its UDID", async () => {
      await sb.admin.injectFault({ route: "/v1/devices", method: "POST", count: 1, kind: "drop-after-commit" });
      const u = udid();
      const d = await registerDevice(client, { name: "Dropped", udid: u, platform: "IOS" });
      expect(d.udid).toBe(u);
      expect((await sb.admin.state()).devices).toHaveLength(1);
      expect(client.calls["POST /v1/devices"]).toBe(1);
    });

    test("a revoke whose answer was lost counts as done when the retry finds the certificate gone", async () => {
      const cert = await createCertificate(client, { certificateType: "IOS_DISTRIBUTION", csrPem: newCsr() });
      await sb.admin.injectFault({ route: "/v1/certificates/{id}", method: "DELETE", count: 1, kind: "drop-after-commit" });
      await revokeCertificate(client, cert.id);
      expect((await sb.admin.state()).certificates[0].state).toBe("REVOKED");
      expect(client.calls["DELETE /v1/certificates/{id}"]).toBe(2);
    });

    test("counts calls per endpoint, in a counter the caller can share across clients", async () => {
      const calls = {};
      const a = createAppleClient(configFor(sb, sb.apiKey, { calls }));
      const b = createAppleClient(configFor(sb, sb.apiKey, { calls }));
      await listCertificates(a);
      await listDevices(b);
      await getCertificate(b, "NOSUCHCERT");
      expect(calls).toEqual({ "GET /v1/certificates": 1, "GET /v1/devices": 1, "GET /v1/certificates/{id}": 1 });
    });
  });
});
