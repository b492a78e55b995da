export { validateUse, createHost, type RegistryConfig } from "./registry.js";
export { CompositeHost, runnerHubOf } from "./composite-host.js";
export {
  RemoteHost,
  DEFAULT_HEARTBEAT_MS,
  type RemoteHostOptions,
  type ConnectedRunners,
  type RunnerHub,
  type RunnerInfo,
} from "./remote-host.js";
export { startRunner, type EnclaveRunner, type RunnerOptions, type RunnerStatus } from "./runner.js";
export { RUNNER_PROTOCOL_VERSION, RunnerCloseCodes } from "./protocol.js";
