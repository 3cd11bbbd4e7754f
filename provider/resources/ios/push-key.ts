/**
 * ios.PushKey: an APNs authentication key (.p8). Apple's API cannot create, list or revoke these
 * keys, so this imports one: validated at check time (a PKCS#8 EC P-256 key whose APNs provider
 * token verifies), sealed in the vault, guarded against replacement and deletion because every app
 * that uses it loses push with it (DESIGN.md rule 5), and limited to 2 per team (rule 3).
 */
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { InvalidCredentialInput, WriteConflict } from "../../errors";
import { decodeJwt, es256Verify, parseP8, signApnsProviderToken, validateKeyId, validateTeamId } from "../../formats/p8";
import { pushKeyLimitError, PUSH_KEY_LIMIT } from "../../rules/limits";
import { decidePushKeyDiff, guardPushKeyDeletion } from "../../rules/push-key";
import { containsUnknown, isUnknown } from "../../rules/unknown";
import { Vault } from "../../store";
import type { StoreConfig } from "../../store";
import { checkFailures, defaultVaultName, logReasons, moveSealed, ownerOf, plain, retireIfCurrent } from "../common";
import { LazyDynamicResource } from "../lazy-provider";
import { recall, stash } from "../secret-inputs";

export interface PushKeyArgs {
  store: pulumi.Input<StoreConfig>;
  teamId: pulumi.Input<string>;
  /** The key's 10-character ID (the part after AuthKey_ in the file name). */
  keyId: pulumi.Input<string>;
  /** The .p8 text: give it as a Pulumi secret. Never stored in state. */
  p8: pulumi.Input<string>;
  /** Needed to replace the key (new .p8 or key ID). */
  allowReplace?: boolean;
  /** Needed to delete it; until set, the resource is protected. */
  allowDelete?: boolean;
  /** Name in the vault. Default: "<project>/<stack>/<resource name>". */
  name?: pulumi.Input<string>;
}

interface Inputs {
  store: StoreConfig;
  teamId: string;
  keyId: string;
  p8: string;
  allowReplace: boolean;
  allowDelete: boolean;
  name: string;
  owner: string;
}

interface Outputs extends Inputs {
  publicKeyFingerprint: string;
  vaultName: string;
  vaultVersion: string;
  storeLocation: string;
}

const KIND = "ios-push-key";
const identity = (i: { teamId: string; name: string }) => ({ name: `ios/${i.teamId}/push-keys/${i.name}`, kind: KIND, scope: i.teamId });

/** Signs an APNs provider token with the key and verifies it with the key's public half. */
function validateP8(pem: string, teamId: string, keyId: string): crypto.KeyObject {
  const key = parseP8(pem, "p8");
  const token = signApnsProviderToken({ teamId, keyId, p8: pem });
  const parts = decodeJwt(token);
  if (!parts || parts.header.kid !== keyId || parts.payload.iss !== teamId || !es256Verify(parts.signingInput, parts.signature, crypto.createPublicKey(key))) {
    throw new InvalidCredentialInput("The .p8 does not produce an APNs provider token that verifies with its own public key", {
      field: "p8",
      remedy: "Use the AuthKey_<KEYID>.p8 downloaded from the Apple Developer portal, unmodified.",
    });
  }
  return key;
}

function passes(validate: () => void): boolean {
  try {
    validate();
    return true;
  } catch {
    return false;
  }
}

function fingerprint(key: crypto.KeyObject): string {
  const spki = crypto.createPublicKey(key).export({ type: "spki", format: "der" });
  return crypto.createHash("sha256").update(spki).digest("hex").toUpperCase().match(/.{2}/g)!.join(":");
}

async function check(_olds: Inputs, news: Inputs): Promise<pulumi.dynamic.CheckResult<Inputs>> {
  const inputs: Inputs = { ...news };
  return checkFailures(inputs, (fail) => {
    if (!isUnknown(news.store)) fail.guard("store", () => Vault.validate(news.store));
    if (!isUnknown(news.teamId)) fail.guard("teamId", () => validateTeamId(news.teamId));
    if (!isUnknown(news.keyId)) fail.guard("keyId", () => validateKeyId(news.keyId));
    if (containsUnknown(news.p8)) return;
    const pem = recall(news.p8, "p8");
    // The .p8 never enters state: only its digest does.
    inputs.p8 = stash(pem);
    // The token test needs both IDs; without valid ones the key is checked alone, so a bad (or
    // unknown) ID is reported once, on its own field.
    const idsValid = passes(() => validateTeamId(news.teamId)) && passes(() => validateKeyId(news.keyId));
    fail.guard("p8", () => (idsValid ? validateP8(pem, news.teamId, news.keyId) : parseP8(pem, "p8")));
  });
}

const state = (o: Partial<Outputs>) => ({ teamId: o.teamId, keyId: o.keyId, p8Digest: o.p8, store: o.store, name: o.name, allowReplace: o.allowReplace, allowDelete: o.allowDelete });

async function diff(_id: string, olds: Outputs, news: Inputs): Promise<pulumi.dynamic.DiffResult> {
  const decision = decidePushKeyDiff(state(olds), state(news));
  logReasons(`ios.PushKey ${isUnknown(news.name) ? olds.name : news.name}`, decision.reasons);
  return { changes: decision.changes, replaces: decision.replaces };
}

async function create(inputs: Inputs): Promise<pulumi.dynamic.CreateResult<Outputs>> {
  const pem = recall(inputs.p8, "p8");
  const key = validateP8(pem, inputs.teamId, inputs.keyId);
  const vault = Vault.open(inputs.store);
  const id = identity(inputs);
  // Apple allows 2 push keys per team; count the other keys of this team that this store holds.
  const held = (await vault.list(`ios/${inputs.teamId}/push-keys/`)).filter((k) => k.state === "active" && k.name !== id.name);
  const otherKeys = [...new Map(held.filter((k) => k.meta.keyId !== inputs.keyId).map((k) => [String(k.meta.keyId), k])).values()];
  if (otherKeys.length >= PUSH_KEY_LIMIT) {
    throw pushKeyLimitError(inputs.teamId, otherKeys.map((k) => ({ id: String(k.meta.keyId), storeName: k.name, owner: String(k.meta.owner) })));
  }
  const publicKeyFingerprint = fingerprint(key);
  const ref = await vault.create(id, { p8: pem, keyId: inputs.keyId, teamId: inputs.teamId }, {
    meta: { keyId: inputs.keyId, teamId: inputs.teamId, publicKeyFingerprint, owner: inputs.owner },
    mayReplace: (head) => {
      if (head.state !== "retired" && head.meta.owner !== inputs.owner) {
        throw new WriteConflict(`The store ${vault.location} already holds a push key named "${inputs.name}", created by ${String(head.meta.owner)}`, {
          field: "name",
          remedy: "Give this resource another name. Nothing was changed.",
        });
      }
    },
  });
  return {
    id: `${inputs.teamId}/${inputs.keyId}`,
    outs: plain({ ...inputs, publicKeyFingerprint, vaultName: id.name, vaultVersion: ref.version, storeLocation: vault.location }),
  };
}

async function read(id: string, props: Outputs): Promise<pulumi.dynamic.ReadResult> {
  const head = await Vault.open(props.store).headIfChanged(props.vaultName, props.vaultVersion);
  const next = { ...props, vaultVersion: head && head !== "same" && head.state !== "retired" ? head.version : props.vaultVersion };
  const { store, teamId, keyId, p8, allowReplace, allowDelete, name, owner } = props;
  return { id, props: plain(next), inputs: { store, teamId, keyId, p8, allowReplace, allowDelete, name, owner } };
}

async function update(_id: string, olds: Outputs, news: Inputs): Promise<pulumi.dynamic.UpdateResult<Outputs>> {
  const newId = identity(news);
  const { version, location } = await moveSealed(
    { store: olds.store, id: identity(olds), version: olds.vaultVersion },
    { store: news.store, id: newId, owner: news.owner },
  );
  return { outs: plain({ ...olds, ...news, vaultName: newId.name, vaultVersion: version, storeLocation: location }) };
}

async function remove(_id: string, props: Outputs): Promise<void> {
  // Never revoked at Apple: the API cannot, and revocation breaks push for every app using the key.
  await retireIfCurrent(props.store, identity(props), props.vaultVersion, { reason: "deleted by pulumi", keyId: props.keyId }, () =>
    guardPushKeyDeletion(state(props)),
  );
}

export const provider: pulumi.dynamic.ResourceProvider = { check, diff, create, read, update, delete: remove };

const MODULE = "pulumi-appsigning/dist/provider/resources/ios/push-key.js";

export class PushKey extends LazyDynamicResource {
  declare readonly keyId: pulumi.Output<string>;
  declare readonly teamId: pulumi.Output<string>;
  /** SHA-256 of the public key (SPKI DER), colon-separated. */
  declare readonly publicKeyFingerprint: pulumi.Output<string>;
  declare readonly vaultName: pulumi.Output<string>;
  declare readonly vaultVersion: pulumi.Output<string>;
  declare readonly storeLocation: pulumi.Output<string>;

  constructor(name: string, args: PushKeyArgs, opts: pulumi.CustomResourceOptions = {}) {
    const props = {
      store: args.store,
      teamId: args.teamId,
      keyId: args.keyId,
      p8: args.p8,
      allowReplace: args.allowReplace ?? false,
      allowDelete: args.allowDelete ?? false,
      name: args.name ?? defaultVaultName(name),
      owner: ownerOf(name),
      publicKeyFingerprint: undefined,
      vaultName: undefined,
      vaultVersion: undefined,
      storeLocation: undefined,
    };
    // Deleting a push key breaks push in production: Pulumi refuses at preview while protected.
    // allowReplace lifts the protection too (a replacement deletes the old resource); the provider
    // still refuses a plain delete without allowDelete.
    const protect = opts.protect ?? !(args.allowDelete === true || args.allowReplace === true);
    super(MODULE, "ios", "PushKey", name, props, { ...opts, protect });
  }
}
