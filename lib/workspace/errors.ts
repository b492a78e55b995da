/** Kernel errno errors as catalogue errors, so clients can branch on `code` ("ENOENT", ...). */
import { EnclaveError, Errors, type ErrorSpec } from "../errors.js";
import type { Errno } from "./kernel/types.js";

const BY_ERRNO: Partial<Record<Errno, ErrorSpec>> = {
  ENOENT: Errors.wsNotFound,
  EEXIST: Errors.wsExists,
  ENOTDIR: Errors.wsNotDirectory,
  EISDIR: Errors.wsIsDirectory,
  ENOTEMPTY: Errors.wsNotEmpty,
  EACCES: Errors.wsAccess,
  EPERM: Errors.wsPermission,
  EROFS: Errors.wsReadOnly,
  EINVAL: Errors.wsInvalid,
  ELOOP: Errors.wsLoop,
  EXDEV: Errors.wsCrossMount,
  ENAMETOOLONG: Errors.wsNameTooLong,
  ENOSPC: Errors.wsNoSpace,
  EFBIG: Errors.wsNoSpace,
  EAGAIN: Errors.wsTooManyProcesses,
  ESRCH: Errors.wsNoSuchProcess,
  ENOMEM: Errors.wsNoMemory,
  ENOEXEC: Errors.wsNotExecutable,
  ECONNREFUSED: Errors.wsConnectionRefused,
};

function isKernelError(e: unknown): e is Error & { code: Errno; path?: string; syscall?: string } {
  return e instanceof Error && e.name === "KernelError" && typeof (e as { code?: unknown }).code === "string";
}

/** A KernelError becomes `{ group: "workspace", code: errno }`; anything else passes through. */
export function toWorkspaceError(e: unknown): unknown {
  if (!isKernelError(e)) return e;
  const spec = BY_ERRNO[e.code] ?? Errors.wsIo;
  const metadata: Record<string, unknown> = { errno: e.code };
  if (e.path !== undefined) metadata.path = e.path;
  if (e.syscall !== undefined) metadata.syscall = e.syscall;
  return new EnclaveError(spec, e.message, metadata);
}

/** Runs a synchronous kernel call, translating its errors. */
export function vmCall<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw toWorkspaceError(e);
  }
}
