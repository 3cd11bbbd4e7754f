/**
 * pulumi-appsigning: mobile app-signing credentials as Pulumi resources.
 *
 *   import * as signing from "pulumi-appsigning";
 *   new signing.android.Keystore("upload", { store, applicationId: "com.acme.app" });
 */
import * as android from "./android";

export { android };
export { Vault } from "./store";
export type { StoreConfig } from "./store";
export * from "./errors";
