/**
 * Certificates: `POST /v1/certificates` (create from a CSR), `GET /v1/certificates[/{id}]`,
 * `DELETE /v1/certificates/{id}` (revoke). App Store Connect API reference, "Certificates".
 */
import { AppleApiError, AppleCertificateLimitReached } from "../errors";
import { certificatePublicKeyFingerprint, csrPublicKeyFingerprint } from "../formats/csr";
import type { AppleClient } from "./client";
import type { Certificate, CertificateType, DocumentOne, ResourceObject } from "./types";

/** What Apple sends as a certificate's attributes: the Certificate type without its id. */
type CertificateAttributes = Omit<Certificate, "id">;

/** Peer tools detect the limit by this text (fastlane match generator.rb, eas-cli distributionCertificate.ts). */
const LIMIT_DETAIL = /You already have a current .* certificate or a pending certificate request/i;

export interface CertificateFilter {
  certificateType?: CertificateType | readonly CertificateType[];
  serialNumber?: string;
  displayName?: string;
  id?: string | readonly string[];
}

function toCertificate(r: ResourceObject<CertificateAttributes>): Certificate {
  const a = (r.attributes ?? {}) as Partial<CertificateAttributes>;
  return {
    id: r.id,
    certificateType: a.certificateType as CertificateType,
    name: a.name ?? "",
    displayName: a.displayName ?? "",
    serialNumber: a.serialNumber ?? "",
    platform: a.platform ?? null,
    expirationDate: a.expirationDate ?? "",
    certificateContent: a.certificateContent ?? "",
  };
}

function filterQuery(filter: CertificateFilter): Record<string, string | readonly string[] | undefined> {
  return {
    "filter[certificateType]": filter.certificateType,
    "filter[serialNumber]": filter.serialNumber,
    "filter[displayName]": filter.displayName,
    "filter[id]": filter.id,
  };
}

/** Lists the team's certificates (every page). Revoked certificates are not listed by Apple. */
export async function listCertificates(client: AppleClient, filter: CertificateFilter = {}): Promise<Certificate[]> {
  const { data } = await client.listAll<CertificateAttributes>("/v1/certificates", filterQuery(filter));
  return data.map(toCertificate);
}

/** One certificate, or undefined when Apple does not know it (revoked, or never existed). */
export async function getCertificate(client: AppleClient, id: string): Promise<Certificate | undefined> {
  const doc = await client.getOne<CertificateAttributes>(`/v1/certificates/${encodeURIComponent(id)}`);
  return doc ? toCertificate(doc.data) : undefined;
}

/** The certificate of `certificateType` whose public key is the CSR's, if Apple has one. */
export async function findCertificateForCsr(
  client: AppleClient,
  certificateType: CertificateType,
  csrPem: string,
): Promise<Certificate | undefined> {
  const want = csrPublicKeyFingerprint(csrPem);
  const candidates = await listCertificates(client, { certificateType });
  return candidates.find((c) => c.certificateContent && certificatePublicKeyFingerprint(c.certificateContent) === want);
}

/**
 * Asks Apple to sign the CSR. If the connection fails or Apple answers 5xx, it first looks for a certificate with
 * the CSR's public key (the earlier attempt may have been issued) and only sends the request again when there is
 * none. At the limit, throws AppleCertificateLimitReached.
 */
export async function createCertificate(
  client: AppleClient,
  input: { certificateType: CertificateType; csrPem: string },
): Promise<Certificate> {
  // Fail on a bad CSR here (InvalidCredentialInput), not as an Apple 409.
  csrPublicKeyFingerprint(input.csrPem);
  try {
    const result = await client.request<DocumentOne<CertificateAttributes> | Certificate>("POST", "/v1/certificates", {
      body: { data: { type: "certificates", attributes: { certificateType: input.certificateType, csrContent: input.csrPem } } },
      idempotent: false,
      recover: () => findCertificateForCsr(client, input.certificateType, input.csrPem),
    });
    if (!result) throw new AppleApiError("App Store Connect answered certificate creation with no body.", 0, undefined, undefined, undefined);
    return "data" in result ? toCertificate(result.data) : result;
  } catch (err) {
    if (err instanceof AppleApiError && err.status === 409 && LIMIT_DETAIL.test(err.detail ?? "")) {
      throw new AppleCertificateLimitReached(
        `Apple refused a new ${input.certificateType} certificate: the team already has as many as Apple allows (${err.detail}).`,
        input.certificateType,
        err,
        { remedy: "Reuse one of the team's existing certificates (import its .p12) or revoke one that nothing uses, then run again." },
      );
    }
    throw err;
  }
}

/**
 * Revokes a certificate (Apple's DELETE). Every profile made with it turns INVALID. A retried attempt that finds
 * the certificate gone counts as done.
 */
export async function revokeCertificate(client: AppleClient, id: string): Promise<void> {
  await client.request("DELETE", `/v1/certificates/${encodeURIComponent(id)}`, { notFoundAfterRetryIsSuccess: true });
}
