/**
 * During preview, inputs that depend on other resources' unknown outputs reach check and diff as
 * Pulumi's sentinel string. DESIGN.md: treat it as "may change", never store it, never act on it.
 * These call each provider's check and diff directly with the sentinel where the engine puts it.
 */
import { generateKeyPairSync } from "crypto";
import { provider as keystoreProvider } from "../../provider/resources/android/keystore";
import { provider as certificateProvider } from "../../provider/resources/ios/distribution-certificate";
import { provider as profileProvider } from "../../provider/resources/ios/provisioning-profile";
import { provider as pushKeyProvider } from "../../provider/resources/ios/push-key";
import { UNKNOWN } from "../../provider/rules/unknown";
import { expectStoreUntouched, freshStore, runCheck } from "./check-support";
import type { FreshStore } from "./check-support";

const DIGEST = `sha256:${"ab".repeat(32)}`;
const FUTURE = new Date(Date.now() + 200 * 86_400_000).toISOString();
/** State holds the API key's digest; the program (what check gets) holds the key itself. */
const apple = { issuerId: "69a6de70-03db-47e3-e053-5b8c7c11a4d1", keyId: "ASC1234567", privateKey: DIGEST, teamId: "ABCDE12345" };
const programApple = {
  ...apple,
  privateKey: generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
};

let s: FreshStore;
beforeEach(() => {
  s = freshStore();
});
afterEach(() => s.cleanup());

/** Inputs and outputs of a profile as state holds them after a create. */
function profileState() {
  const inputs = {
    store: s.store,
    apple,
    bundleId: "com.acme.app",
    type: "IOS_APP_STORE",
    certificate: { certificateId: "CERT000001", serialNumber: "5F3A9C" },
    devices: [] as string[],
    createBundleId: true,
    renewBeforeDays: 30,
    deleteOnDelete: false,
    name: "acme/prod/appstore",
    owner: "acme/prod/appstore",
  };
  const outputs = {
    ...inputs,
    appleClockSkewMs: 0,
    profileId: "PROFILE001",
    uuid: "9a1b2c3d-0000-4000-8000-000000000001",
    appleName: "com.acme.app IOS_APP_STORE appstore",
    expiresAt: FUTURE,
    certificateSerials: ["5F3A9C"],
    devicesCount: 0,
    profileState: "ACTIVE",
    vaultName: "ios/ABCDE12345/profiles/acme/prod/appstore",
    vaultVersion: "1",
    storeLocation: s.store.url,
  };
  return { inputs, outputs };
}

function certificateState() {
  const inputs = {
    store: s.store,
    apple,
    certificateType: "DISTRIBUTION",
    renewBeforeDays: 30,
    revokeOnDelete: false,
    certificateLimit: 2,
    name: "acme/prod/dist",
    owner: "acme/prod/dist",
  };
  const outputs = {
    ...inputs,
    appleClockSkewMs: 0,
    certificateId: "CERT000001",
    serialNumber: "5F3A9C",
    sha1Fingerprint: "AA",
    sha256Fingerprint: "BB",
    expiresAt: FUTURE,
    teamId: "ABCDE12345",
    displayName: "Apple Distribution: Acme",
    ref: { certificateId: "CERT000001", serialNumber: "5F3A9C" },
    vaultName: "ios/ABCDE12345/certificates/acme/prod/dist",
    vaultVersion: "1",
    storeLocation: s.store.url,
    appleState: "ACTIVE",
    otherSlotHolders: [],
  };
  return { inputs, outputs };
}

function keystoreState(role: "upload" | "app-signing", imported: boolean) {
  const inputs: Record<string, unknown> = {
    store: s.store,
    role,
    alias: role,
    dname: { cn: "Acme" },
    keySize: 2048,
    format: "PKCS12",
    name: `acme/prod/${role}`,
    owner: `acme/prod/${role}`,
    allowReplace: false,
    allowDelete: false,
    exposeSecrets: false,
    ...(imported ? { import: { keystore: DIGEST, storePassword: DIGEST } } : {}),
  };
  const outputs = {
    ...inputs,
    certificatePem: "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
    sha1Fingerprint: "AA",
    sha256Fingerprint: "BB",
    md5Fingerprint: "CC",
    validUntil: "2053-01-01T00:00:00.000Z",
    vaultName: `android/keystores/acme/prod/${role}`,
    vaultVersion: "1",
    storeLocation: s.store.url,
    vaultState: "active",
  };
  return { inputs, outputs };
}

function pushKeyState() {
  const inputs = { store: s.store, teamId: "ABCDE12345", keyId: "KEY1234567", p8: DIGEST, allowReplace: false, allowDelete: false, name: "acme/prod/apns", owner: "acme/prod/apns" };
  return { inputs, outputs: { ...inputs, publicKeyFingerprint: "DD", vaultName: "ios/ABCDE12345/push-keys/acme/prod/apns", vaultVersion: "1", storeLocation: s.store.url } };
}

describe("ios.ProvisioningProfile with unknown inputs", () => {
  test("its certificate's ID and serial unknown (the certificate is being replaced): replace", async () => {
    const { inputs, outputs } = profileState();
    const news = { ...inputs, apple: programApple, certificate: { certificateId: UNKNOWN, serialNumber: UNKNOWN } };
    const checked = await runCheck(profileProvider, news);
    expect(checked.failures).toEqual([]);
    expect(checked.inputs.certificate).toEqual({ certificateId: UNKNOWN, serialNumber: UNKNOWN });
    const diff = await profileProvider.diff!("PROFILE001", outputs, checked.inputs);
    expect(diff.changes).toBe(true);
    expect(diff.replaces).toEqual(["certificate"]);
  });

  test("the whole certificate reference unknown: replace", async () => {
    const { inputs, outputs } = profileState();
    const diff = await profileProvider.diff!("PROFILE001", outputs, { ...inputs, certificate: UNKNOWN });
    expect(diff.replaces).toEqual(["certificate"]);
  });

  test("the same certificate, known: no change", async () => {
    const { inputs, outputs } = profileState();
    const diff = await profileProvider.diff!("PROFILE001", outputs, inputs);
    expect(diff.changes).toBe(false);
    expect(diff.replaces).toEqual([]);
  });

  test("an unknown bundle ID may change: replace (profiles cannot be edited)", async () => {
    const { inputs, outputs } = profileState();
    const diff = await profileProvider.diff!("PROFILE001", outputs, { ...inputs, bundleId: UNKNOWN });
    expect(diff.replaces).toEqual(["bundleId"]);
  });

  test("an unknown store is an update in place, not a replacement", async () => {
    const { inputs, outputs } = profileState();
    const diff = await profileProvider.diff!("PROFILE001", outputs, { ...inputs, store: UNKNOWN });
    expect(diff.changes).toBe(true);
    expect(diff.replaces).toEqual([]);
  });
});

describe("ios.DistributionCertificate with unknown inputs", () => {
  test("an unknown certificate type may change: replace", async () => {
    const { inputs, outputs } = certificateState();
    const diff = await certificateProvider.diff!("CERT000001", outputs, { ...inputs, certificateType: UNKNOWN });
    expect(diff.replaces).toEqual(["certificateType"]);
  });

  test("an unknown .p12 to import may change: replace", async () => {
    const { inputs, outputs } = certificateState();
    const checked = await runCheck(certificateProvider, { ...inputs, apple: programApple, import: { p12: UNKNOWN, password: UNKNOWN } });
    expect(checked.failures).toEqual([]);
    expect(checked.inputs.import).toEqual({ p12: UNKNOWN, password: UNKNOWN });
    const diff = await certificateProvider.diff!("CERT000001", outputs, checked.inputs);
    expect(diff.replaces).toEqual(["import"]);
  });

  test("an unknown store or name is an update in place", async () => {
    const { inputs, outputs } = certificateState();
    for (const news of [{ ...inputs, store: UNKNOWN }, { ...inputs, name: UNKNOWN }]) {
      const diff = await certificateProvider.diff!("CERT000001", outputs, news);
      expect(diff.changes).toBe(true);
      expect(diff.replaces).toEqual([]);
    }
  });

  test("an unknown apple access is not checked, and kept as unknown", async () => {
    const { inputs } = certificateState();
    const checked = await runCheck(certificateProvider, { ...inputs, apple: UNKNOWN });
    expect(checked.failures).toEqual([]);
    expect(checked.inputs.apple).toBe(UNKNOWN);
    const partly = await runCheck(certificateProvider, { ...inputs, apple: { ...apple, privateKey: UNKNOWN } });
    expect(partly.failures).toEqual([]);
    expect((partly.inputs.apple as typeof apple).privateKey).toBe(UNKNOWN);
  });
});

describe("android.Keystore with unknown inputs", () => {
  test("an upload keystore whose key size is unknown may get a new key: replace, with the Play Console note", async () => {
    const { inputs, outputs } = keystoreState("upload", false);
    const diff = await keystoreProvider.diff!("ks", outputs, { ...inputs, keySize: UNKNOWN });
    expect(diff.replaces).toEqual(["keySize"]);
  });

  test("an upload keystore whose imported file is unknown: replace; the known password is already a digest", async () => {
    const { inputs, outputs } = keystoreState("upload", true);
    const checked = await runCheck(keystoreProvider, { ...inputs, import: { keystore: UNKNOWN, storePassword: "known-store-password" } });
    expect(checked.failures).toEqual([]);
    const imp = checked.inputs.import as { keystore: string; storePassword: string };
    expect(imp.keystore).toBe(UNKNOWN);
    expect(imp.storePassword).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(JSON.stringify(checked.inputs)).not.toContain("known-store-password");
    const diff = await keystoreProvider.diff!("ks", outputs, checked.inputs);
    expect(diff.replaces).toEqual(["import"]);
  });

  test("an app-signing keystore whose store or name is unknown: an update in place, which the guard lets through", async () => {
    const { inputs, outputs } = keystoreState("app-signing", true);
    for (const news of [{ ...inputs, store: UNKNOWN }, { ...inputs, name: UNKNOWN }]) {
      const diff = await keystoreProvider.diff!("ks", outputs, news);
      expect(diff.changes).toBe(true);
      expect(diff.replaces).toEqual([]);
    }
  });

  test("an unknown store is not validated, and nothing is written anywhere", async () => {
    const { inputs } = keystoreState("upload", false);
    const checked = await runCheck(keystoreProvider, { ...inputs, store: UNKNOWN });
    expect(checked.failures).toEqual([]);
    expect(checked.inputs.store).toBe(UNKNOWN);
    await expectStoreUntouched(s);
  });
});

describe("ios.PushKey with unknown inputs", () => {
  test("an unknown store is an update in place: the replacement guard is not involved", async () => {
    const { inputs, outputs } = pushKeyState();
    const diff = await pushKeyProvider.diff!("ABCDE12345/KEY1234567", outputs, { ...inputs, store: UNKNOWN });
    expect(diff.changes).toBe(true);
    expect(diff.replaces).toEqual([]);
  });

  test("an unknown key ID may change: replace (when allowed)", async () => {
    const { inputs, outputs } = pushKeyState();
    const diff = await pushKeyProvider.diff!("ABCDE12345/KEY1234567", outputs, { ...inputs, keyId: UNKNOWN, allowReplace: true });
    expect(diff.replaces).toEqual(["keyId"]);
  });
});
