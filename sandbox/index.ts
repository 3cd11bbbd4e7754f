/** A local App Store Connect API sandbox: see README "The Apple sandbox". */
export { startSandbox, SandboxServer } from "./server";
export type {
  FaultKind,
  FaultSpec,
  RequestLogEntry,
  RunningSandbox,
  SandboxAdmin,
  SandboxApiKey,
  SandboxOptions,
  SandboxStateView,
  SandboxTeamOption,
} from "./server";
export type { SandboxConfig, KeyRole } from "./state";
