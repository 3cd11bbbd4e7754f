/**
 * pulumi-appsigning: mobile app-signing credentials as Pulumi resources.
 *
 *   import * as signing from "pulumi-appsigning";
 *   new signing.android.Keystore("upload", { store, applicationId: "com.acme.app" });
 */
import * as android from "./android";
import * as ios from "./ios";

export { android, ios };
export { Vault } from "./store";
export type { StoreConfig } from "./store";
export * from "./errors";
