/** Android credentials. */
export { Keystore } from "./resources/android/keystore";
export type { KeystoreArgs, KeystoreImport } from "./resources/android/keystore";
