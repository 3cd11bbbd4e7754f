/**
 * ios.DistributionCertificate: a key pair and the certificate Apple issues for it (or an imported
 * .p12), the key and .p12 sealed in the vault. State keeps Apple's ID, serial, fingerprints and
 * expiry. Creation is write-ahead (the key is sealed before Apple is asked), checks the team's
 * slots first, and is serialised per team by a lease in the store (DESIGN.md rules 3, 6).
 */
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { createCertificate, findCertificateForCsr, listCertificates, revokeCertificate } from "../../apple";
import type { Certificate, CertificateType } from "../../apple";
import { AppleCertificateLimitReached, InvalidCredentialInput, WriteConflict } from "../../errors";
import { createCsr, generateRsaKeyPairAsync } from "../../formats/csr";
import { buildIdentityP12, openDistributionP12 } from "../../formats/signing-identity";
import { certificateFacts } from "../../formats/x509";
import { decideCertificateDiff } from "../../rules/certificate";
import type { AppleCertificateState } from "../../rules/certificate";
import { checkRenewBeforeDays, DEFAULT_RENEW_BEFORE_DAYS } from "../../rules/expiry";
import { certificateLimitError, certificateSlots, DEFAULT_CERTIFICATE_LIMIT } from "../../rules/limits";
import type { SlotHolder } from "../../rules/limits";
import { containsUnknown, isUnknown } from "../../rules/unknown";
import { Vault } from "../../store";
import type { StoreConfig } from "../../store";
import { checkFailures, defaultVaultName, logReasons, moveSealed, ownerOf, plain, retireIfCurrent } from "../common";
import { LazyDynamicResource } from "../lazy-provider";
import { recall, stash } from "../secret-inputs";
import { appleClientForInputs, appleClientFromVault, checkAppleAccess } from "./apple-access";
import type { AppleAccess, AppleAccessArgs } from "./apple-access";

export type DistributionCertificateType = Extract<CertificateType, "DISTRIBUTION" | "IOS_DISTRIBUTION">;

/** What a profile needs to know of its certificate. */
export interface CertificateRef {
  certificateId: string;
  serialNumber: string;
}

export interface DistributionCertificateArgs {
  store: pulumi.Input<StoreConfig>;
  apple: pulumi.Input<AppleAccessArgs>;
  /** "DISTRIBUTION" (Apple Distribution, all platforms; default) or "IOS_DISTRIBUTION". */
  certificateType?: pulumi.Input<DistributionCertificateType>;
  /** Renew this many days before expiry (default 30). */
  renewBeforeDays?: pulumi.Input<number>;
  /** Revoke at Apple when deleted (and, at the slot limit, before its replacement is made). Default false. */
  revokeOnDelete?: pulumi.Input<boolean>;
  /** Distribution certificates Apple allows the team (default 2, per Expo's app-signing documentation). */
  certificateLimit?: pulumi.Input<number>;
  /** Adopt an existing certificate instead of creating one. */
  import?: pulumi.Input<{ p12: pulumi.Input<string>; password: pulumi.Input<string> }>;
  /** Name in the vault. Default: "<project>/<stack>/<resource name>". */
  name?: pulumi.Input<string>;
}

interface Inputs {
  store: StoreConfig;
  apple: AppleAccess;
  certificateType: DistributionCertificateType;
  renewBeforeDays: number;
  revokeOnDelete: boolean;
  certificateLimit: number;
  import?: { p12: string; password: string };
  name: string;
  owner: string;
}

interface Outputs extends Inputs {
  certificateId: string;
  serialNumber: string;
  sha1Fingerprint: string;
  sha256Fingerprint: string;
  expiresAt: string;
  teamId: string;
  displayName: string;
  ref: CertificateRef;
  vaultName: string;
  vaultVersion: string;
  storeLocation: string;
  /** Apple's clock minus ours at the last call (HTTP Date header): expiry is judged by Apple's clock. */
  appleClockSkewMs: number;
  appleState: AppleCertificateState;
  otherSlotHolders: SlotHolder[];
}

const KIND = "ios-distribution-certificate";
const identity = (i: { apple: AppleAccess; name: string }) => ({ name: `ios/${i.apple.teamId}/certificates/${i.name}`, kind: KIND, scope: i.apple.teamId });
const TYPES: DistributionCertificateType[] = ["DISTRIBUTION", "IOS_DISTRIBUTION"];

async function check(_olds: Inputs, news: Inputs): Promise<pulumi.dynamic.CheckResult<Inputs>> {
  const inputs: Inputs = { ...news };
  return checkFailures(inputs, (fail) => {
    if (!isUnknown(news.store)) fail.guard("store", () => Vault.validate(news.store));
    inputs.apple = checkAppleAccess(news.apple, fail) as AppleAccess;
    if (!isUnknown(news.certificateType) && !TYPES.includes(news.certificateType)) {
      fail.add("certificateType", `certificateType must be one of ${TYPES.join(", ")} (got ${JSON.stringify(news.certificateType)})`);
    }
    const days = checkRenewBeforeDays(news.renewBeforeDays, 365);
    if (days) fail.add("renewBeforeDays", days);
    if (!isUnknown(news.certificateLimit) && (!Number.isInteger(news.certificateLimit) || news.certificateLimit < 1 || news.certificateLimit > 10)) {
      fail.add("certificateLimit", `certificateLimit must be a whole number from 1 to 10 (got ${JSON.stringify(news.certificateLimit)})`);
    }
    if (news.import && !isUnknown(news.import)) {
      const p12 = recall(news.import.p12, "import.p12");
      const password = recall(news.import.password, "import.password");
      if (!containsUnknown(news.import)) {
        fail.guard("import", (field) => field, () => openDistributionP12(Buffer.from(p12, "base64"), password, new Date()));
      }
      // The .p12 and its password never enter state (nor the preview's inputs): only their digests do.
      inputs.import = { p12: stash(p12), password: stash(password) };
    }
  });
}

function diffState(o: Partial<Outputs>) {
  return {
    teamId: o.apple?.teamId,
    certificateType: o.certificateType,
    importDigest: o.import?.p12,
    store: o.store,
    name: o.name,
    renewBeforeDays: o.renewBeforeDays,
    revokeOnDelete: o.revokeOnDelete,
    certificateLimit: o.certificateLimit,
    certificateId: o.certificateId,
    serialNumber: o.serialNumber,
    expiresAt: o.expiresAt,
    appleState: o.appleState,
    otherSlotHolders: o.otherSlotHolders,
  };
}

async function diff(_id: string, olds: Outputs, news: Inputs): Promise<pulumi.dynamic.DiffResult> {
  const decision = decideCertificateDiff(diffState(olds), diffState(news), new Date(Date.now() + (olds.appleClockSkewMs ?? 0)));
  logReasons(`ios.DistributionCertificate ${isUnknown(news.name) ? olds.name : news.name}`, decision.reasons);
  return { changes: decision.changes, replaces: decision.replaces, deleteBeforeReplace: decision.deleteBeforeReplace };
}

/** Which of Apple's certificates this store holds the key of, and under which name. */
async function slotHolders(vault: Vault, teamId: string, certs: Certificate[], exceptId?: string): Promise<SlotHolder[]> {
  // No other certificate at Apple: no slot holder to name, and no listing of the store to make.
  if (certs.every((c) => c.id === exceptId)) return [];
  const held = await vault.list(`ios/${teamId}/certificates/`);
  return certs
    .filter((c) => c.id !== exceptId)
    .map((c) => {
      const h = held.find((x) => x.state === "active" && x.meta.certificateId === c.id);
      return { id: c.id, serialNumber: c.serialNumber, expiresAt: c.expirationDate, storeName: h?.name, owner: h ? String(h.meta.owner) : undefined };
    });
}

function outputsOf(inputs: Inputs, cert: Certificate, facts: ReturnType<typeof certificateFacts>, version: string, vault: Vault, others: SlotHolder[], skew: number): Outputs {
  return plain({
    appleClockSkewMs: skew,
    ...inputs,
    certificateId: cert.id,
    serialNumber: facts.serialNumber,
    sha1Fingerprint: facts.fingerprints.sha1,
    sha256Fingerprint: facts.fingerprints.sha256,
    expiresAt: facts.notAfter,
    teamId: inputs.apple.teamId,
    displayName: cert.displayName || cert.name,
    ref: { certificateId: cert.id, serialNumber: facts.serialNumber },
    vaultName: identity(inputs).name,
    vaultVersion: version,
    storeLocation: vault.location,
    appleState: "ACTIVE" as const,
    otherSlotHolders: others,
  });
}

async function create(inputs: Inputs): Promise<pulumi.dynamic.CreateResult<Outputs>> {
  const vault = Vault.open(inputs.store);
  const apple = await appleClientForInputs(inputs.apple, vault);
  const id = identity(inputs);
  const teamId = inputs.apple.teamId;
  const type = inputs.certificateType;

  // Another resource's certificate under this name is never overwritten.
  const refuseOthers = (head: Awaited<ReturnType<Vault["head"]>>) => {
    if (head && head.state !== "retired" && head.meta.owner !== inputs.owner) {
      throw new WriteConflict(`The store ${vault.location} already holds a certificate named "${inputs.name}" for team ${teamId}, created by ${String(head.meta.owner)}`, {
        field: "name",
        remedy: "Give this resource another name, or import that certificate's .p12. Nothing was changed.",
      });
    }
  };

  if (inputs.import) {
    const head = await vault.head(id.name);
    refuseOthers(head);
    const identityP12 = openDistributionP12(Buffer.from(recall(inputs.import.p12, "import.p12"), "base64"), recall(inputs.import.password, "import.password"), new Date());
    const facts = identityP12.certificate;
    const certs = await listCertificates(apple, { certificateType: type });
    const cert = certs.find((c) => c.serialNumber.replace(/^0+/, "").toUpperCase() === facts.serialNumber);
    if (!cert) {
      throw new InvalidCredentialInput(`Apple has no active ${type} certificate with serial ${facts.serialNumber} in team ${teamId}`, {
        field: "import.p12",
        remedy: "The certificate was revoked, expired, belongs to another team, or is of another type (certificateType). Import a current one.",
      });
    }
    const { p12, password } = buildIdentityP12(identityP12, cert.name || "distribution");
    const pem = identityP12.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const ref = await vault.put(id, { privateKey: pem, certificate: facts.der, p12, p12Password: password }, {
      expect: head ? { etag: head.etag } : "absent",
      meta: { certificateId: cert.id, serialNumber: facts.serialNumber, expiresAt: facts.notAfter, sha1: facts.fingerprints.sha1, owner: inputs.owner, imported: true },
    });
    const others = await slotHolders(vault, teamId, certs, cert.id);
    return { id: cert.id, outs: outputsOf(inputs, cert, facts, ref.version, vault, others, apple.clockSkewMs) };
  }

  // The new key is made while the lease and Apple's list are awaited: RSA generation runs on libuv's
  // thread pool, where a fleet's keystores queue theirs, and every profile of the team waits for
  // this certificate. A key that turns out not to be needed (a pending key is resumed, the slots are
  // full) is dropped unused; it was never written anywhere.
  const freshKey = generateRsaKeyPairAsync();
  freshKey.catch(() => undefined); // awaited below when used; this only keeps an unused failure quiet

  // One certificate creation per team at a time, across stacks: the last free slot goes to one of them.
  return vault.withLease(`apple/${teamId}/certificate-slots`, { ttlMs: 120_000, waitMs: 180_000 }, async () => {
    // Both reads, at once: what the store holds under this name, and the team's certificates at Apple.
    const [current, listed] = await Promise.all([vault.head(id.name), listCertificates(apple, { certificateType: type })]);
    refuseOthers(current);
    let privateKeyPem: string;
    let csrPem: string;
    let etag: string;
    let cert: Certificate | undefined;
    let certs = listed;
    if (current?.state === "pending" && current.meta.owner === inputs.owner) {
      // An earlier run sealed this key and then stopped: resume with the same key. Apple may have
      // issued its certificate already; if so, it is found by public key and not requested again.
      const sealed = await vault.get(id);
      privateKeyPem = String(sealed.bundle.privateKey);
      csrPem = String(sealed.bundle.csr);
      etag = sealed.etag;
      cert = await findCertificateForCsr(apple, type, csrPem);
      console.log(`ios.DistributionCertificate ${inputs.name}: resuming the pending key sealed at ${sealed.header.sealedAt}${cert ? `; Apple had issued certificate ${cert.id}` : ""}`);
    } else {
      privateKeyPem = (await freshKey).privateKeyPem;
      csrPem = createCsr(privateKeyPem, { commonName: `appsigning ${inputs.name}` });
      etag = "";
    }
    if (!cert) {
      const slots = certificateSlots(certs.map((c) => ({ expiresAt: c.expirationDate })), apple.appleNow(), inputs.certificateLimit);
      if (slots.free === 0) {
        throw certificateLimitError(teamId, type, slots.limit, await slotHolders(vault, teamId, certs));
      }
      if (!etag) {
        // Write-ahead: the key is sealed before Apple is asked, so no crash can lose a key whose
        // certificate took one of the team's slots.
        const pending = await vault.put(id, { privateKey: privateKeyPem, csr: csrPem }, {
          expect: current ? { etag: current.etag } : "absent",
          state: "pending",
          meta: { owner: inputs.owner, certificateType: type },
        });
        etag = pending.etag;
      }
      try {
        cert = await createCertificate(apple, { certificateType: type, csrPem });
      } catch (err) {
        if (err instanceof AppleCertificateLimitReached) {
          throw certificateLimitError(teamId, type, inputs.certificateLimit, await slotHolders(vault, teamId, certs), `Apple answered 409: ${err.apple.detail ?? ""}`);
        }
        throw err;
      }
      certs = [...certs.filter((c) => c.id !== cert!.id), cert];
    }
    const facts = certificateFacts(Buffer.from(cert.certificateContent, "base64"), { what: "distribution certificate" });
    const key = crypto.createPrivateKey(privateKeyPem);
    const { p12, password } = buildIdentityP12({ privateKey: key, certificate: facts }, cert.name || "distribution");
    const ref = await vault.put(id, { privateKey: privateKeyPem, csr: csrPem, certificate: facts.der, p12, p12Password: password }, {
      expect: { etag },
      meta: { certificateId: cert.id, serialNumber: facts.serialNumber, expiresAt: facts.notAfter, sha1: facts.fingerprints.sha1, owner: inputs.owner },
    });
    const others = await slotHolders(vault, teamId, certs, cert.id);
    return { id: cert.id, outs: outputsOf(inputs, cert, facts, ref.version, vault, others, apple.clockSkewMs) };
  });
}

async function read(id: string, props: Outputs): Promise<pulumi.dynamic.ReadResult> {
  const vault = Vault.open(props.store);
  const client = await appleClientFromVault(props.apple, props.store);
  const certs = await listCertificates(client, { certificateType: props.certificateType });
  const mine = certs.find((c) => c.id === props.certificateId);
  let appleState: AppleCertificateState = "ACTIVE";
  let expiresAt = props.expiresAt;
  const now = client.appleNow().getTime();
  if (!mine) {
    // Apple stops listing a certificate once it is revoked or has expired.
    appleState = Date.parse(props.expiresAt) <= now ? "EXPIRED" : "REVOKED";
  } else {
    expiresAt = mine.expirationDate || expiresAt;
    if (Date.parse(expiresAt) <= now) appleState = "EXPIRED";
  }
  const others = certs.filter((c) => c.id !== props.certificateId);
  const holders = others.length > 0 ? await slotHolders(vault, props.apple.teamId, others) : [];
  const head = await vault.headIfChanged(props.vaultName, props.vaultVersion);
  const vaultVersion = head && head !== "same" ? head.version : props.vaultVersion;
  const next: Outputs = { ...props, appleState, expiresAt, otherSlotHolders: holders, vaultVersion, appleClockSkewMs: client.clockSkewMs };
  const { store, apple, certificateType, renewBeforeDays, revokeOnDelete, certificateLimit, name, owner } = props;
  return { id, props: plain(next), inputs: plain({ store, apple, certificateType, renewBeforeDays, revokeOnDelete, certificateLimit, import: props.import, name, owner }) };
}

async function update(_id: string, olds: Outputs, news: Inputs): Promise<pulumi.dynamic.UpdateResult<Outputs>> {
  await appleClientForInputs(news.apple, Vault.open(news.store));
  const newId = identity(news);
  // Same key and certificate under the new location; no Apple call.
  const { version, location } = await moveSealed(
    { store: olds.store, id: identity(olds), version: olds.vaultVersion },
    { store: news.store, id: newId, owner: news.owner },
  );
  return { outs: plain({ ...olds, ...news, vaultName: newId.name, vaultVersion: version, storeLocation: location }) };
}

async function remove(_id: string, props: Outputs): Promise<void> {
  // Deleting is not revoking (DESIGN.md rule 4): Apple is touched only with revokeOnDelete.
  if (props.revokeOnDelete && props.appleState === "ACTIVE") {
    const apple = await appleClientFromVault(props.apple, props.store);
    await revokeCertificate(apple, props.certificateId);
    console.log(`ios.DistributionCertificate ${props.name}: revoked certificate ${props.certificateId} at Apple (revokeOnDelete)`);
  }
  await retireIfCurrent(props.store, identity(props), props.vaultVersion, { reason: "deleted by pulumi", certificateId: props.certificateId });
}

export const provider: pulumi.dynamic.ResourceProvider = { check, diff, create, read, update, delete: remove };

const MODULE = "pulumi-appsigning/dist/provider/resources/ios/distribution-certificate.js";

export class DistributionCertificate extends LazyDynamicResource {
  declare readonly certificateId: pulumi.Output<string>;
  declare readonly serialNumber: pulumi.Output<string>;
  declare readonly sha1Fingerprint: pulumi.Output<string>;
  declare readonly sha256Fingerprint: pulumi.Output<string>;
  declare readonly expiresAt: pulumi.Output<string>;
  declare readonly teamId: pulumi.Output<string>;
  declare readonly certificateType: pulumi.Output<DistributionCertificateType>;
  declare readonly displayName: pulumi.Output<string>;
  /** What a ProvisioningProfile takes as its certificate. */
  declare readonly ref: pulumi.Output<CertificateRef>;
  declare readonly vaultName: pulumi.Output<string>;
  declare readonly vaultVersion: pulumi.Output<string>;
  declare readonly storeLocation: pulumi.Output<string>;
  /** Apple's view at the last refresh: ACTIVE, REVOKED, EXPIRED. */
  declare readonly appleState: pulumi.Output<AppleCertificateState>;

  constructor(name: string, args: DistributionCertificateArgs, opts: pulumi.CustomResourceOptions = {}) {
    const props = {
      store: args.store,
      apple: args.apple,
      certificateType: args.certificateType ?? "DISTRIBUTION",
      renewBeforeDays: args.renewBeforeDays ?? DEFAULT_RENEW_BEFORE_DAYS,
      revokeOnDelete: args.revokeOnDelete ?? false,
      certificateLimit: args.certificateLimit ?? DEFAULT_CERTIFICATE_LIMIT,
      import: args.import,
      name: args.name ?? defaultVaultName(name),
      owner: ownerOf(name),
      certificateId: undefined,
      serialNumber: undefined,
      sha1Fingerprint: undefined,
      sha256Fingerprint: undefined,
      expiresAt: undefined,
      teamId: undefined,
      displayName: undefined,
      ref: undefined,
      vaultName: undefined,
      vaultVersion: undefined,
      storeLocation: undefined,
      appleState: undefined,
      otherSlotHolders: undefined,
    };
    super(MODULE, "ios", "DistributionCertificate", name, props, opts);
  }
}
