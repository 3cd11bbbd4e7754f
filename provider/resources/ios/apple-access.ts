/**
 * How the iOS resources reach App Store Connect. The API key's private key is a secret input: check
 * swaps it for its digest (it never enters state), create and update seal it in the vault, and
 * read and delete, which get no inputs, take it from there.
 */
import * as fs from "fs";
import type * as pulumi from "@pulumi/pulumi";
import { createAppleClient } from "../../apple";
import type { AppleClient, CallCounts } from "../../apple";
import { InvalidCredentialInput } from "../../errors";
import { parseP8, validateIssuerId, validateKeyId, validateTeamId } from "../../formats/p8";
import { containsUnknown, isUnknown } from "../../rules/unknown";
import { Vault } from "../../store";
import type { StoreConfig } from "../../store";
import type { Failures } from "../common";
import { sharedOnce } from "../shared-once";
import { recall, stash } from "../secret-inputs";

export interface AppleAccess {
  /** App Store Connect API issuer ID (UUID). */
  issuerId: string;
  /** API key ID (10 characters). */
  keyId: string;
  /** The API key's .p8 text: give it as a Pulumi secret. Never stored in state. */
  privateKey: string;
  /** The team whose credentials these are. */
  teamId: string;
  /** App Store Connect base URL; point it at the local sandbox for tests and the quickstart. */
  baseUrl?: string;
}

/** AppleAccess as a program gives it: any field may be an Output (the private key usually a secret one). */
export interface AppleAccessArgs {
  issuerId: pulumi.Input<string>;
  keyId: pulumi.Input<string>;
  privateKey: pulumi.Input<string>;
  teamId: pulumi.Input<string>;
  baseUrl?: pulumi.Input<string | undefined>;
}

const API_KEY_KIND = "asc-api-key";
const apiKeyId = (a: Pick<AppleAccess, "teamId" | "keyId">) => ({ name: `apple/${a.teamId}/api-keys/${a.keyId}`, kind: API_KEY_KIND, scope: a.teamId });

/** Validates the Apple access input and replaces its private key by a digest. */
export function checkAppleAccess(apple: AppleAccess | undefined, fail: Failures): AppleAccess | undefined {
  if (apple === undefined || apple === null) {
    fail.add("apple", "apple is required: { issuerId, keyId, privateKey, teamId, baseUrl? } of an App Store Connect API key");
    return apple;
  }
  if (isUnknown(apple)) return apple;
  if (!isUnknown(apple.issuerId)) fail.guard("apple.issuerId", () => validateIssuerId(apple.issuerId, "apple.issuerId"));
  if (!isUnknown(apple.keyId)) fail.guard("apple.keyId", () => validateKeyId(apple.keyId, "apple.keyId"));
  if (!isUnknown(apple.teamId)) fail.guard("apple.teamId", () => validateTeamId(apple.teamId, "apple.teamId"));
  if (apple.baseUrl !== undefined && !isUnknown(apple.baseUrl) && !/^https?:\/\/[^/]+/.test(apple.baseUrl)) {
    fail.add("apple.baseUrl", `apple.baseUrl ${JSON.stringify(apple.baseUrl)} is not an http(s) URL`);
  }
  if (containsUnknown(apple.privateKey)) return apple;
  const pem = recall(apple.privateKey, "apple.privateKey");
  fail.guard("apple.privateKey", () => parseP8(pem, "apple.privateKey"));
  return { ...apple, privateKey: stash(pem) };
}

// Per provider process: clients (so tokens are reused) and API keys read back from vaults. Keys are
// kept as promises, so resources that start together share one seal or one read (and one KMS call)
// instead of racing: two first seals would both find the name absent, and one write would fail.
const clients = new Map<string, AppleClient>();
const apiKeys = new Map<string, Promise<string>>();
const sealedKeys = new Map<string, Promise<void>>();

/** Where Apple calls are counted: APPSIGNING_CALL_LOG gets one line per call (for the benchmark). */
function counter(): CallCounts {
  const logFile = process.env.APPSIGNING_CALL_LOG;
  const counts: CallCounts = {};
  if (!logFile) return counts;
  return new Proxy(counts, {
    set(target, endpoint: string, value: number) {
      const before = target[endpoint] ?? 0;
      for (let i = before; i < value; i++) fs.appendFileSync(logFile, `apple:${endpoint}\n`);
      target[endpoint] = value;
      return true;
    },
  });
}

function clientFor(apple: AppleAccess, privateKey: string): AppleClient {
  const key = `${apple.issuerId}/${apple.keyId}/${apple.baseUrl ?? ""}/${apple.privateKey}`;
  let client = clients.get(key);
  if (!client) {
    client = createAppleClient({ issuerId: apple.issuerId, keyId: apple.keyId, privateKey, baseUrl: apple.baseUrl, calls: counter() });
    clients.set(key, client);
  }
  return client;
}

/** For create/update: the key comes from check (this process), and is sealed for later reads. */
export async function appleClientForInputs(apple: AppleAccess, vault: Vault): Promise<AppleClient> {
  const pem = recall(apple.privateKey, "apple.privateKey");
  const id = apiKeyId(apple);
  await sharedOnce(sealedKeys, `${vault.location}#${id.name}#${apple.privateKey}`, async () => {
    const head = await vault.head(id.name);
    if (!head || head.state === "retired" || head.meta.digest !== apple.privateKey) {
      await vault.put(id, { privateKey: pem }, { expect: head ? { etag: head.etag } : "absent", meta: { issuerId: apple.issuerId, keyId: apple.keyId, digest: apple.privateKey } });
    }
  });
  if (!apiKeys.has(id.name)) apiKeys.set(id.name, Promise.resolve(pem));
  return clientFor(apple, pem);
}

/** For read/delete: the key sealed by an earlier create. */
export async function appleClientFromVault(apple: AppleAccess, store: StoreConfig): Promise<AppleClient> {
  const id = apiKeyId(apple);
  const pem = await sharedOnce(apiKeys, id.name, async () => {
    const sealed = await Vault.open(store).get(id).catch((err) => {
      throw new InvalidCredentialInput(`The App Store Connect API key ${apple.keyId} is not readable from the store (${(err as Error).message.split("\n")[0]})`, {
        field: "apple.privateKey",
        remedy: "Run `pulumi up` once so the key is sealed again, then refresh or destroy.",
        cause: err,
      });
    });
    return String(sealed.bundle.privateKey);
  });
  return clientFor(apple, pem);
}
