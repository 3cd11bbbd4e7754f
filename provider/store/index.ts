export { Vault, contextOf } from "./vault";
export type { BlobIdentity, BlobRef, BlobListing, Lease, VaultOptions } from "./vault";
export type { Bundle, BlobMeta, BlobState, SealedHeader } from "./envelope";
export { parseBlobUrl, parseKeyUrl, describeBlobLocation } from "./urls";
export type { StoreConfig, BlobLocation, KeyLocation } from "./urls";
