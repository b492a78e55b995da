import type { Errno } from "./types.js";

/** WASI preview-1 errno numbers (the `errno` enum of wasi_snapshot_preview1). */
const NUMBERS: Record<Errno, number> = {
  EADDRINUSE: 3,
  ECONNREFUSED: 14,
  ECONNRESET: 15,
  EHOSTUNREACH: 23,
  ENOTCONN: 53,
  ENOTSOCK: 57,
  ETIMEDOUT: 73,
  EACCES: 2,
  EAGAIN: 6,
  EBADF: 8,
  EBUSY: 10,
  ECHILD: 12,
  EEXIST: 20,
  EFBIG: 22,
  EINTR: 27,
  EINVAL: 28,
  EISDIR: 31,
  ELOOP: 32,
  EMFILE: 33,
  ENAMETOOLONG: 37,
  ENOENT: 44,
  ENOEXEC: 45,
  ENOMEM: 48,
  ENOSPC: 51,
  ENOSYS: 52,
  ENOTDIR: 54,
  ENOTEMPTY: 55,
  EPERM: 63,
  EPIPE: 64,
  EROFS: 69,
  ESPIPE: 70,
  ESRCH: 71,
  EXDEV: 75,
};

const DESCRIPTIONS: Record<Errno, string> = {
  EACCES: "permission denied",
  EAGAIN: "resource temporarily unavailable",
  EBADF: "bad file descriptor",
  EBUSY: "resource busy or locked",
  ECHILD: "no child processes",
  EEXIST: "file already exists",
  EFBIG: "file too large",
  EADDRINUSE: "address already in use",
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset by peer",
  EHOSTUNREACH: "host is unreachable",
  ENOTCONN: "socket is not connected",
  ENOTSOCK: "not a socket",
  ETIMEDOUT: "connection timed out",
  EINTR: "interrupted system call",
  EINVAL: "invalid argument",
  EISDIR: "illegal operation on a directory",
  ELOOP: "too many symbolic links encountered",
  EMFILE: "too many open files",
  ENAMETOOLONG: "name too long",
  ENOENT: "no such file or directory",
  ENOEXEC: "exec format error",
  ENOMEM: "not enough memory",
  ENOSPC: "no space left on device",
  ENOSYS: "function not implemented",
  ENOTDIR: "not a directory",
  ENOTEMPTY: "directory not empty",
  EPERM: "operation not permitted",
  EPIPE: "broken pipe",
  EROFS: "read-only file system",
  ESPIPE: "invalid seek",
  ESRCH: "no such process",
  EXDEV: "cross-device link not permitted",
};

/** The WASI errno number for a code (what a WASI syscall returns). */
export function errnoNumber(code: Errno): number {
  return NUMBERS[code];
}

/** The code for a WASI errno number, if it is one the kernel uses. */
export function errnoCode(num: number): Errno | undefined {
  for (const code in NUMBERS) if (NUMBERS[code as Errno] === num) return code as Errno;
  return undefined;
}

/** Every failure the kernel reports: a POSIX code, its WASI number, and what was being done. */
export class KernelError extends Error {
  readonly code: Errno;
  readonly errno: number;
  readonly syscall: string | undefined;
  readonly path: string | undefined;

  constructor(code: Errno, syscall?: string, path?: string, detail?: string) {
    let message = `${code}: ${detail ?? DESCRIPTIONS[code]}`;
    if (syscall !== undefined) message += `, ${syscall}`;
    if (path !== undefined) message += ` '${path}'`;
    super(message);
    this.name = "KernelError";
    this.code = code;
    this.errno = NUMBERS[code];
    this.syscall = syscall;
    this.path = path;
  }
}

export function isKernelError(err: unknown, code?: Errno): err is KernelError {
  return err instanceof KernelError && (code === undefined || err.code === code);
}
