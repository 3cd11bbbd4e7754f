/** iOS credentials. */
export { DistributionCertificate } from "./resources/ios/distribution-certificate";
export type { DistributionCertificateArgs, DistributionCertificateType, CertificateRef } from "./resources/ios/distribution-certificate";
export { ProvisioningProfile } from "./resources/ios/provisioning-profile";
export type { ProvisioningProfileArgs } from "./resources/ios/provisioning-profile";
export { PushKey } from "./resources/ios/push-key";
export type { PushKeyArgs } from "./resources/ios/push-key";
export type { AppleAccess, AppleAccessArgs } from "./resources/ios/apple-access";
