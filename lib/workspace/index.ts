/** `enclave/workspace`: agent workspaces, an actor type that owns a small VM. */
export { workspace, DEFAULT_ENV, DEFAULT_LIMITS } from "./workspace.js";
export type {
  WorkspaceConfig,
  WorkspaceLimits,
  WorkspacePermissions,
  StartupProcess,
  WorkspaceDefinition,
  WorkspaceState,
  WorkspaceVars,
} from "./workspace.js";
export type {
  ExecOptions,
  ExecResult,
  SpawnProcessOptions,
  ProcessExitEvent,
  ProcessOutputEvent,
} from "./vm.js";
export type { FileStat, TreeEntry, WriteFileOptions } from "./fs-actions.js";
export type { MountSpec } from "./boot.js";
export type { VmFetchInit, VmFetchResponse } from "./vm-fetch.js";
export type { SignedPreviewUrl } from "./previews.js";
export { baseSoftware, baseSoftwareAvailable, definePackage, SoftwareError } from "./software/index.js";
export type { SoftwareFile, SoftwarePackage } from "./software/index.js";
export type {
  ProcessInfo,
  Signal,
  FileType,
  NetworkPolicy,
  NetworkRule,
  FilesystemPolicy,
  FilesystemRule,
  ListenPolicy,
} from "./kernel/types.js";
