/**
 * Production mode: data keys from AWS KMS GenerateDataKey, bound to the blob's encryption context.
 * Decrypt passes the same context and the key id, so a blob sealed under another key or for another
 * identity is refused by KMS itself (AWS KMS developer guide, "Encryption context").
 */
import type { KMSClient } from "@aws-sdk/client-kms";
import { KeyUnavailable, StoreAccessDenied, StoreIntegrityError } from "../errors";
import { makeKmsClient } from "./aws-clients";
import type { KeyWrapper, WrappedKey } from "./envelope";
import type { KeyLocation } from "./urls";

type KmsLocation = Extract<KeyLocation, { kind: "awskms" }>;

export class KmsKeys implements KeyWrapper {
  readonly description: string;
  private client: KMSClient;

  constructor(private readonly loc: KmsLocation) {
    this.description = `awskms://${loc.keyId}`;
    this.client = makeKmsClient(loc);
  }

  private translate(err: unknown, action: string, where: string): never {
    const name = (err as { name?: string }).name ?? "";
    const key = this.description;
    if (name === "NotFoundException") {
      throw new KeyUnavailable(`KMS key ${key} was not found while trying to ${action} ${where}`, {
        field: "store.kms",
        remedy: "Check the key id or alias and the region (?region=...); the key may have been deleted.",
        cause: err,
      });
    }
    if (name === "DisabledException" || name === "KMSInvalidStateException" || name === "KeyUnavailableException") {
      throw new KeyUnavailable(`KMS key ${key} cannot be used (${name}) to ${action} ${where}`, {
        field: "store.kms",
        remedy: "Enable the key, or cancel its scheduled deletion, in AWS KMS.",
        cause: err,
      });
    }
    if (name === "UnrecognizedClientException" || name === "InvalidSignatureException" || name === "ExpiredTokenException") {
      throw new StoreAccessDenied(`AWS did not accept the credentials in use (${name}) while trying to ${action} ${where} with KMS key ${key}`, {
        field: "store.kms",
        remedy:
          "Check which identity the AWS SDK picks up here (AWS_PROFILE, AWS_ACCESS_KEY_ID, the instance or CI role): the key may be deleted, inactive, expired, or from another account or endpoint.",
        cause: err,
      });
    }
    if (name === "AccessDeniedException" || name === "IncorrectKeyException") {
      throw new StoreAccessDenied(`Access to KMS key ${key} was denied while trying to ${action} ${where}`, {
        field: "store.kms",
        remedy: "Grant kms:GenerateDataKey (writers) and kms:Decrypt (readers) on this key to the current AWS identity, or use the key the blob was sealed with.",
        cause: err,
      });
    }
    if (name === "InvalidCiphertextException") {
      throw new StoreIntegrityError(`KMS refused the wrapped data key of ${where}: it was modified or sealed for another identity`, {
        remedy: "Restore an earlier version of the object.",
        cause: err,
      });
    }
    throw err;
  }

  async newDataKey(ctx: Record<string, string>): Promise<{ plaintext: Buffer; wrapped: WrappedKey }> {
    const { GenerateDataKeyCommand } = require("@aws-sdk/client-kms") as typeof import("@aws-sdk/client-kms");
    try {
      const out = await this.client.send(
        new GenerateDataKeyCommand({ KeyId: this.loc.keyId, KeySpec: "AES_256", EncryptionContext: ctx }),
      );
      return {
        plaintext: Buffer.from(out.Plaintext!),
        wrapped: { type: "aws-kms", keyId: out.KeyId ?? this.loc.keyId, edk: Buffer.from(out.CiphertextBlob!).toString("base64") },
      };
    } catch (err) {
      this.translate(err, "seal", ctx["appsigning:name"] ?? "a blob");
    }
  }

  async unwrap(wrapped: WrappedKey, ctx: Record<string, string>, where: string): Promise<Buffer> {
    if (wrapped.type !== "aws-kms") {
      throw new StoreIntegrityError(`${where} was sealed with a passphrase, but this store is configured with ${this.description}`, {
        field: "store.kms",
        remedy: 'Set store.kms to "passphrase" (and APPSIGNING_PASSPHRASE) to read it.',
      });
    }
    const { DecryptCommand } = require("@aws-sdk/client-kms") as typeof import("@aws-sdk/client-kms");
    try {
      const out = await this.client.send(
        new DecryptCommand({ CiphertextBlob: Buffer.from(wrapped.edk, "base64"), EncryptionContext: ctx, KeyId: wrapped.keyId }),
      );
      return Buffer.from(out.Plaintext!);
    } catch (err) {
      this.translate(err, "open", where);
    }
  }
}
