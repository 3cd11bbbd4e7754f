/** Android credentials. */
export { Keystore } from "./resources/android/keystore";
export type { KeystoreArgs, KeystoreImport } from "./resources/android/keystore";
export { PlayAppSigningOptIn } from "./resources/android/play-app-signing-opt-in";
export type { PlayAppSigningOptInArgs, PepkExport, KeystoreFingerprints } from "./resources/android/play-app-signing-opt-in";
