/**
 * An Apple signing identity: a private key and the certificate Apple issued for it, packaged as
 * the .p12 that Xcode, fastlane and `security import` take. Built with 3DES and a SHA-1 MAC: the
 * PKCS#12 variant every macOS keychain imports (older macOS lacks AES-PBES2 and SHA-256 MACs).
 */
import * as crypto from "crypto";
import { InvalidCredentialInput } from "../errors";
import { buildPkcs12, parsePkcs12 } from "./pkcs12";
import { certificateFacts, certificateMatchesKey } from "./x509";
import type { CertificateFacts } from "./x509";

export interface SigningIdentity {
  privateKey: crypto.KeyObject;
  certificate: CertificateFacts;
}

/** Subject common names Apple gives distribution certificates. */
const DISTRIBUTION_CN = /^(iPhone Distribution|Apple Distribution|iOS Distribution|Mac App Distribution|3rd Party Mac Developer Application|Developer ID Application):/;

export function buildIdentityP12(identity: SigningIdentity, friendlyName: string): { p12: Buffer; password: string } {
  const password = crypto.randomBytes(18).toString("base64url");
  const p12 = buildPkcs12({ privateKey: identity.privateKey, certificates: [identity.certificate.der], password, friendlyName, algorithm: "3des" });
  return { p12, password };
}

/**
 * Opens a distribution certificate .p12 given for import and checks it is usable: it opens with the
 * password, holds exactly one private key, that key matches one certificate of a distribution type,
 * and the certificate has not expired. Each failure names the field at fault.
 */
export function openDistributionP12(file: Buffer, password: string, now: Date, fields = { file: "import.p12", password: "import.password" }): SigningIdentity {
  const contents = parsePkcs12(file, { password, what: "distribution certificate .p12", fields: { file: fields.file, password: fields.password } });
  if (contents.keys.length !== 1) {
    throw new InvalidCredentialInput(`The .p12 holds ${contents.keys.length} private keys; a signing identity has exactly one.`, {
      field: fields.file,
      remedy: "Export just the one certificate with its key from Keychain Access (select both, Export 2 items).",
    });
  }
  const privateKey = contents.keys[0].privateKey;
  const matching = contents.certificates.filter((c) => certificateMatchesKey(c.der, privateKey));
  if (matching.length === 0) {
    throw new InvalidCredentialInput("The .p12's private key matches none of its certificates.", {
      field: fields.file,
      remedy: "Export the certificate together with its own private key.",
    });
  }
  const certificate = certificateFacts(matching[0].der, { field: fields.file, what: "distribution certificate" });
  const cn = /CN=([^,]+)/.exec(certificate.subject)?.[1]?.trim() ?? "";
  if (!DISTRIBUTION_CN.test(cn)) {
    throw new InvalidCredentialInput(`The .p12's certificate "${cn}" is not a distribution certificate.`, {
      field: fields.file,
      remedy: 'Use an "Apple Distribution" or "iPhone Distribution" certificate; development certificates cannot sign App Store or ad hoc builds.',
    });
  }
  if (Date.parse(certificate.notAfter) <= now.getTime()) {
    throw new InvalidCredentialInput(`The .p12's certificate (serial ${certificate.serialNumber}) expired on ${certificate.notAfter.slice(0, 10)}.`, {
      field: fields.file,
      remedy: "Import a current certificate, or let appsigning create a new one (leave import out).",
    });
  }
  return { privateKey, certificate };
}
