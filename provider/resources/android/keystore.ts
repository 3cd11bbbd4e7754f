/**
 * android.Keystore: an Android signing keystore (upload key, or a legacy app-signing key), generated
 * or imported, sealed in the vault. State keeps the certificate, fingerprints and vault pointers,
 * never the keystore or its passwords (unless exposeSecrets, as Pulumi secrets).
 */
import * as pulumi from "@pulumi/pulumi";
import { InvalidCredentialInput, WriteConflict } from "../../errors";
import { generateKeystoreAsync, openKeystore, resolveNotAfter } from "../../formats/keystore";
import type { KeystoreFormat } from "../../formats/keystore";
import { validateDistinguishedName } from "../../formats/x509";
import type { DistinguishedName } from "../../formats/x509";
import { validateAndroidValidity } from "../../rules/android-validity";
import { decideKeystoreDiff, guardKeystoreDeletion, guardKeystoreReplacement } from "../../rules/keystore";
import type { KeystoreKeyInputs, KeystoreRole } from "../../rules/keystore";
import { containsUnknown, isUnknown } from "../../rules/unknown";
import { Vault } from "../../store";
import type { StoreConfig } from "../../store";
import { LazyDynamicResource } from "../lazy-provider";
import { checkFailures, defaultVaultName, logReasons, moveSealed, ownerOf, plain, retireIfCurrent } from "../common";
import { recall, stash } from "../secret-inputs";

export interface KeystoreImport {
  /** The existing keystore file, base64 (JKS or PKCS12). */
  keystore: pulumi.Input<string>;
  storePassword: pulumi.Input<string>;
  /** Defaults to the store password (always the same for PKCS12). */
  keyPassword?: pulumi.Input<string>;
}

export interface KeystoreArgs {
  store: pulumi.Input<StoreConfig>;
  /** "upload" (default): the key Play App Signing expects uploads signed with. "app-signing": the legacy key that signs what users install; guarded. */
  role?: KeystoreRole;
  /** Android application ID; the keystore is bound to it in the vault. */
  applicationId?: pulumi.Input<string>;
  /** Entry alias. Default "upload" or "app-signing" by role. */
  alias?: pulumi.Input<string>;
  /** Certificate subject for a generated key. Default { cn: applicationId or the resource name }. */
  dname?: pulumi.Input<DistinguishedName>;
  keySize?: pulumi.Input<2048 | 4096>;
  /** Default: 10000 days (Play requires the validity to end after 2033-10-22). */
  validityYears?: pulumi.Input<number>;
  /** Default "PKCS12". With import: checked against the file when given, the file's own format otherwise. */
  format?: pulumi.Input<KeystoreFormat>;
  /** Bring an existing keystore instead of generating one. */
  import?: pulumi.Input<KeystoreImport>;
  /** Name in the vault. Default: "<project>/<stack>/<resource name>". */
  name?: pulumi.Input<string>;
  /** Needed to replace an app-signing keystore. */
  allowReplace?: boolean;
  /** Needed to delete an app-signing keystore; until set, the resource is protected. */
  allowDelete?: boolean;
  /** Also output the keystore (base64) and its passwords, as Pulumi secrets, for a CI secret store. */
  exposeSecrets?: pulumi.Input<boolean>;
}

interface Inputs {
  store: StoreConfig;
  role: KeystoreRole;
  applicationId?: string;
  alias: string;
  dname: DistinguishedName;
  keySize: 2048 | 4096;
  validityYears?: number;
  /** Absent for an import whose format was not given: the file's own format is used. */
  format?: KeystoreFormat;
  import?: { keystore: string; storePassword: string; keyPassword?: string };
  name: string;
  owner: string;
  allowReplace: boolean;
  allowDelete: boolean;
  exposeSecrets: boolean;
}

interface Outputs extends Inputs {
  certificatePem: string;
  sha1Fingerprint: string;
  sha256Fingerprint: string;
  md5Fingerprint: string;
  validUntil: string;
  vaultName: string;
  vaultVersion: string;
  storeLocation: string;
  /** "active", or what refresh found: "missing" / "retired" when the sealed keystore is gone. */
  vaultState: string;
  keystoreBase64?: string;
  storePassword?: string;
  keyPassword?: string;
}

const KIND = "android-keystore";
const identity = (i: Pick<Inputs, "name" | "applicationId">) => ({
  name: `android/keystores/${i.name}`,
  kind: KIND,
  scope: i.applicationId ?? "android",
});

function keyInputs(i: Partial<Outputs>): KeystoreKeyInputs {
  // An imported key is the file's: its size, subject, validity and format come from the file (the
  // outputs hold the real ones, the inputs the generation defaults), and keytool matches aliases
  // case-insensitively. Comparing those would "replace" an unchanged imported key.
  const imported = i.import !== undefined;
  return {
    role: i.role,
    alias: imported && typeof i.alias === "string" ? i.alias.toLowerCase() : i.alias,
    dname: imported ? undefined : (i.dname as Record<string, string | undefined> | undefined),
    keySize: imported ? undefined : i.keySize,
    validityYears: imported ? undefined : i.validityYears,
    format: imported ? undefined : i.format,
    importDigest: i.import?.keystore,
    applicationId: i.applicationId,
    name: i.name,
    store: i.store,
    allowReplace: i.allowReplace,
    allowDelete: i.allowDelete,
    exposeSecrets: i.exposeSecrets,
  };
}

function inputsOf(o: Outputs): Inputs {
  const { store, role, applicationId, alias, dname, keySize, validityYears, format, name, owner, allowReplace, allowDelete, exposeSecrets } = o;
  return plain({ store, role, applicationId, alias, dname, keySize, validityYears, format, import: o.import, name, owner, allowReplace, allowDelete, exposeSecrets });
}

async function check(_olds: Inputs, news: Inputs): Promise<pulumi.dynamic.CheckResult<Inputs>> {
  const inputs: Inputs = { ...news };
  return checkFailures(inputs, (fail) => {
    if (!isUnknown(news.store)) fail.guard("store", () => Vault.validate(news.store));
    if (news.role !== "upload" && news.role !== "app-signing") {
      fail.add("role", `role must be "upload" or "app-signing" (got ${JSON.stringify(news.role)})`);
    }
    if (news.keySize !== 2048 && news.keySize !== 4096 && !isUnknown(news.keySize)) {
      fail.add("keySize", `keySize must be 2048 or 4096 (got ${JSON.stringify(news.keySize)}); Play's upload-key template asks for RSA 2048`);
    }
    if (news.format !== undefined && news.format !== "PKCS12" && news.format !== "JKS" && !isUnknown(news.format)) {
      fail.add("format", `format must be "PKCS12" or "JKS" (got ${JSON.stringify(news.format)})`);
    }
    if (!news.import) {
      if (!containsUnknown(news.dname)) fail.guard("dname", () => validateDistinguishedName(news.dname));
      if (!isUnknown(news.validityYears)) {
        fail.guard("validityYears", () => {
          const verdict = validateAndroidValidity(resolveNotAfter({ validityYears: news.validityYears }, new Date()));
          if (!verdict.ok) throw new InvalidCredentialInput(verdict.reason, { field: "validityYears" });
        });
      }
      return;
    }
    const imp = news.import;
    if (containsUnknown(imp) || isUnknown(news.alias)) {
      // Not checkable until apply; the known secrets still leave the inputs as digests.
      if (!isUnknown(imp)) inputs.import = { ...imp, keystore: stash(imp.keystore), storePassword: stash(imp.storePassword), ...(imp.keyPassword !== undefined ? { keyPassword: stash(imp.keyPassword) } : {}) };
      return;
    }
    const raw = { keystore: recall(imp.keystore, "import.keystore"), storePassword: recall(imp.storePassword, "import.storePassword"), keyPassword: imp.keyPassword === undefined ? undefined : recall(imp.keyPassword, "import.keyPassword") };
    fail.guard("import", (field) => (field === "alias" || field === "format" ? field : `import.${field}`), () => {
      const file = decodeBase64(raw.keystore);
      const opened = openKeystore(file, { storePassword: raw.storePassword, alias: news.alias, keyPassword: raw.keyPassword, format: news.format });
      const verdict = validateAndroidValidity(opened.notAfter);
      if (!verdict.ok) {
        throw new InvalidCredentialInput(verdict.reason.replace(/;? use 25 years or more \(the default is 10000 days\)\.$/, "."), {
          field: "keystore",
          remedy:
            "The validity is signed into the keystore's certificate and cannot be extended. For an upload key, leave import out to " +
            "generate a new one and register it in Play Console (App integrity > Request upload key reset).",
        });
      }
    });
    // The keystore and its passwords never enter state: only their digests do.
    inputs.import = { keystore: stash(raw.keystore), storePassword: stash(raw.storePassword), ...(raw.keyPassword !== undefined ? { keyPassword: stash(raw.keyPassword) } : {}) };
  });
}

function decodeBase64(value: string): Buffer {
  const trimmed = value.replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(trimmed) || trimmed.length === 0) {
    throw new InvalidCredentialInput("import.keystore is not base64", {
      field: "keystore",
      remedy: "Give the keystore file's bytes base64-encoded, e.g. fs.readFileSync(path).toString(\"base64\").",
    });
  }
  return Buffer.from(trimmed, "base64");
}

async function diff(_id: string, olds: Outputs, news: Inputs): Promise<pulumi.dynamic.DiffResult> {
  const decision = decideKeystoreDiff(keyInputs(olds), keyInputs(news));
  if (olds.vaultState && olds.vaultState !== "active") {
    // A refresh found the sealed keystore gone: recreating it is a replacement, guarded as any other.
    const reasons = [...decision.reasons, `the sealed keystore is ${olds.vaultState} in ${olds.storeLocation}`];
    guardKeystoreReplacement(keyInputs(olds), keyInputs(news), reasons);
    return { changes: true, replaces: ["vaultState"], deleteBeforeReplace: false };
  }
  logReasons(`android.Keystore ${isUnknown(news.name) ? olds.name : news.name}`, decision.reasons);
  return { changes: decision.changes, replaces: decision.replaces, deleteBeforeReplace: decision.deleteBeforeReplace };
}

async function material(inputs: Inputs) {
  if (inputs.import) {
    const storePassword = recall(inputs.import.storePassword, "import.storePassword");
    const keyPassword = inputs.import.keyPassword ? recall(inputs.import.keyPassword, "import.keyPassword") : storePassword;
    const file = decodeBase64(recall(inputs.import.keystore, "import.keystore"));
    const opened = openKeystore(file, { storePassword, keyPassword, alias: inputs.alias, format: inputs.format });
    return { file, storePassword, keyPassword, alias: opened.alias, format: opened.format, facts: opened };
  }
  const g = await generateKeystoreAsync({ alias: inputs.alias, dname: inputs.dname, keySize: inputs.keySize, validityYears: inputs.validityYears, format: inputs.format });
  return { file: g.file, storePassword: g.storePassword, keyPassword: g.keyPassword, alias: g.alias, format: g.format, facts: g };
}

async function create(inputs: Inputs): Promise<pulumi.dynamic.CreateResult<Outputs>> {
  const vault = Vault.open(inputs.store);
  const id = identity(inputs);
  const m = await material(inputs);
  const meta = {
    role: inputs.role,
    alias: m.alias,
    format: m.format,
    sha1: m.facts.fingerprints.sha1,
    sha256: m.facts.fingerprints.sha256,
    md5: m.facts.fingerprints.md5,
    validUntil: m.facts.notAfter,
    keySize: m.facts.keySize,
    owner: inputs.owner,
    certificatePem: m.facts.certificatePem,
  };
  // A keystore already sealed under this name by this same resource (a replacement, or a create
  // that crashed after sealing) becomes an earlier version, still readable; nothing is lost.
  const ref = await vault.create(id, { keystore: m.file, storePassword: m.storePassword, keyPassword: m.keyPassword, alias: m.alias }, {
    meta,
    mayReplace: (head) => {
      if (head.state !== "retired" && head.meta.owner !== inputs.owner) {
        throw new WriteConflict(`The store ${vault.location} already holds a keystore named "${inputs.name}", created by ${String(head.meta.owner)}`, {
          field: "name",
          remedy: "Give this resource another name (input `name`), or import that keystore. The existing keystore is not touched.",
        });
      }
    },
  });
  if (inputs.role === "upload") {
    console.log(`android.Keystore ${inputs.name}: upload certificate SHA-256 ${meta.sha256}. Register it in Play Console (for an existing app: App integrity > Request upload key reset).`);
  }
  const outs: Outputs = {
    ...inputs,
    alias: m.alias,
    format: m.format,
    keySize: m.facts.keySize as 2048 | 4096,
    certificatePem: m.facts.certificatePem,
    sha1Fingerprint: meta.sha1,
    sha256Fingerprint: meta.sha256,
    md5Fingerprint: meta.md5,
    validUntil: meta.validUntil,
    vaultName: id.name,
    vaultVersion: ref.version,
    storeLocation: vault.location,
    vaultState: "active",
    ...(inputs.exposeSecrets ? { keystoreBase64: m.file.toString("base64"), storePassword: m.storePassword, keyPassword: m.keyPassword } : {}),
  };
  return { id: id.name, outs: plain(outs) };
}

async function read(id: string, props: Outputs): Promise<pulumi.dynamic.ReadResult> {
  const vault = Vault.open(props.store);
  // One metadata read when nothing changed; the blob's header only when its version moved.
  const head = await vault.headIfChanged(props.vaultName, props.vaultVersion);
  if (head === "same") {
    return { id, props: plain({ ...props, vaultState: "active" }), inputs: inputsOf(props) };
  }
  if (!head || head.state === "retired") {
    return { id, props: plain({ ...props, vaultState: head ? "retired" : "missing" }), inputs: inputsOf(props) };
  }
  const meta = head.meta;
  const next: Outputs = {
    ...props,
    vaultState: "active",
    vaultVersion: head.version,
    certificatePem: String(meta.certificatePem ?? props.certificatePem),
    sha1Fingerprint: String(meta.sha1 ?? props.sha1Fingerprint),
    sha256Fingerprint: String(meta.sha256 ?? props.sha256Fingerprint),
    md5Fingerprint: String(meta.md5 ?? props.md5Fingerprint),
    validUntil: String(meta.validUntil ?? props.validUntil),
  };
  return { id, props: plain(next), inputs: inputsOf(props) };
}

async function update(_id: string, olds: Outputs, news: Inputs): Promise<pulumi.dynamic.UpdateResult<Outputs>> {
  const newId = identity(news);
  // The same keystore, re-sealed when its store, name, application or role changes.
  const { version, location } = await moveSealed(
    { store: olds.store, id: identity(olds), version: olds.vaultVersion },
    { store: news.store, id: newId, owner: news.owner, ...(olds.role !== news.role ? { meta: { role: news.role } } : {}) },
  );
  let exposed = {};
  if (news.exposeSecrets) {
    const b = (await Vault.open(news.store).get(newId, { version })).bundle;
    exposed = { keystoreBase64: (b.keystore as Buffer).toString("base64"), storePassword: String(b.storePassword), keyPassword: String(b.keyPassword) };
  }
  const outs: Outputs = {
    ...olds,
    ...news,
    vaultName: newId.name,
    vaultVersion: version,
    storeLocation: location,
    vaultState: "active",
    keystoreBase64: undefined,
    storePassword: undefined,
    keyPassword: undefined,
    ...exposed,
  };
  return { outs: plain(outs) };
}

async function remove(_id: string, props: Outputs): Promise<void> {
  // Superseded by a replacement (a newer version under the same name): nothing to retire.
  await retireIfCurrent(props.store, identity(props), props.vaultVersion, { reason: "deleted by pulumi", lastOwner: props.owner }, () =>
    guardKeystoreDeletion(keyInputs(props)),
  );
}

export const provider: pulumi.dynamic.ResourceProvider = { check, diff, create, read, update, delete: remove };

const MODULE = "pulumi-appsigning/dist/provider/resources/android/keystore.js";

export class Keystore extends LazyDynamicResource {
  declare readonly role: pulumi.Output<KeystoreRole>;
  declare readonly alias: pulumi.Output<string>;
  declare readonly format: pulumi.Output<KeystoreFormat>;
  declare readonly keySize: pulumi.Output<number>;
  /** The upload certificate, as `keytool -export -rfc` prints it: what Play Console asks for. */
  declare readonly certificatePem: pulumi.Output<string>;
  declare readonly sha1Fingerprint: pulumi.Output<string>;
  declare readonly sha256Fingerprint: pulumi.Output<string>;
  declare readonly md5Fingerprint: pulumi.Output<string>;
  declare readonly validUntil: pulumi.Output<string>;
  declare readonly vaultName: pulumi.Output<string>;
  declare readonly vaultVersion: pulumi.Output<string>;
  declare readonly storeLocation: pulumi.Output<string>;
  declare readonly vaultState: pulumi.Output<string>;
  /** Only with exposeSecrets: true (Pulumi secrets). */
  declare readonly keystoreBase64: pulumi.Output<string | undefined>;
  declare readonly storePassword: pulumi.Output<string | undefined>;
  declare readonly keyPassword: pulumi.Output<string | undefined>;

  constructor(name: string, args: KeystoreArgs, opts: pulumi.CustomResourceOptions = {}) {
    const role = args.role ?? "upload";
    if (role !== "upload" && role !== "app-signing") {
      throw new InvalidCredentialInput(`android.Keystore ${name}: role must be "upload" or "app-signing"`, { field: "role" });
    }
    const props = {
      store: args.store,
      role,
      applicationId: args.applicationId,
      alias: args.alias ?? role,
      dname: args.dname ?? { cn: args.applicationId ?? name },
      keySize: args.keySize ?? 2048,
      validityYears: args.validityYears,
      // An imported keystore keeps its own format unless one is given (and then checked).
      format: args.format ?? (args.import ? undefined : "PKCS12"),
      import: args.import,
      name: args.name ?? defaultVaultName(name),
      owner: ownerOf(name),
      allowReplace: args.allowReplace ?? false,
      allowDelete: args.allowDelete ?? false,
      exposeSecrets: args.exposeSecrets ?? false,
      certificatePem: undefined,
      sha1Fingerprint: undefined,
      sha256Fingerprint: undefined,
      md5Fingerprint: undefined,
      validUntil: undefined,
      vaultName: undefined,
      vaultVersion: undefined,
      storeLocation: undefined,
      vaultState: undefined,
      keystoreBase64: undefined,
      storePassword: undefined,
      keyPassword: undefined,
    };
    // An app-signing key cannot be deleted by accident: Pulumi refuses at preview while protected.
    // allowReplace lifts it too (a replacement deletes the old resource; the provider still refuses
    // a plain delete without allowDelete).
    const protect = opts.protect ?? (role === "app-signing" && args.allowDelete !== true && args.allowReplace !== true);
    super(MODULE, "android", "Keystore", name, props, {
      ...opts,
      protect,
      additionalSecretOutputs: [...(opts.additionalSecretOutputs ?? []), "keystoreBase64", "storePassword", "keyPassword", "import"],
    });
  }
}

