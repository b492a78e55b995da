/**
 * The layout of the SharedArrayBuffer a worker and its syscall server talk through, and the
 * operation codes. Both sides read these numbers from here: the worker gets them in its
 * `workerData`, because its source is a self-contained function with no imports.
 */

/** Bytes of payload one call can carry: larger reads and writes are answered short. */
export const DATA_BYTES = 256 * 1024;

export const Layout = {
  /** Int32 slots. */
  REQ_SEQ: 0,
  RESP_SEQ: 1,
  OP: 2,
  /** WASI errno of the answer (0 = success). */
  ERRNO: 3,
  /** Payload bytes of the request / of the answer. */
  REQ_LEN: 4,
  RESP_LEN: 5,
  /** Int32 arguments and results a0..a8. */
  INT_ARGS: 7,
  /** Float64 arguments and results f0..f15 (index into a Float64Array over the same buffer). */
  F64_ARGS: 8,
  /** Float64: CPU milliseconds used before the current run slice, and when that slice began (0 = blocked). */
  CPU_USED: 24,
  CPU_SINCE: 25,
  /** Byte offset of the payload area. */
  DATA: 256,
} as const;

export const SAB_BYTES = Layout.DATA + DATA_BYTES;

export const Op = {
  OPEN: 1,
  CLOSE: 2,
  READ: 3,
  WRITE: 4,
  SEEK: 5,
  FSTAT: 6,
  STAT: 7,
  FTRUNCATE: 8,
  FUTIMES: 9,
  UTIMES: 10,
  READDIR: 11,
  MKDIR: 12,
  RMDIR: 13,
  UNLINK: 14,
  RENAME: 15,
  SYMLINK: 16,
  READLINK: 17,
  LINK: 18,
  RENUMBER: 19,
  SPAWN: 20,
  WAIT: 21,
  PIPE: 22,
  EXIT: 23,
  SOCK_LISTEN: 24,
  SOCK_ACCEPT: 25,
  SOCK_CONNECT: 26,
  SOCK_SHUTDOWN: 27,
  /** A clock-only poll_oneoff: sleeps f0 ms on the main thread, so the CPU slot is free meanwhile. */
  SLEEP: 28,
} as const;

/** Answer errno that is not a WASI errno: the process must die of SIGPIPE. */
export const ERRNO_SIGPIPE = -1;

/** What a job message to a worker carries. */
export interface JobMessage {
  module: WebAssembly.Module;
  argv: string[];
  env: Record<string, string>;
  /** WASI filetype for fds 0..2, or -1 when the fd is closed. */
  stdio: [number, number, number];
  /** Which stdio fds are terminals (no seek rights, so `isatty` says yes). */
  tty: [boolean, boolean, boolean];
  /** The fd of the "/" preopen. */
  rootFd: number;
  /** Kill the program (ENOMEM-style exit) once its memory grows past this; 0 = no cap. */
  maxMemoryBytes: number;
}

/** Data the worker starts with. */
export interface WorkerBoot {
  sab: SharedArrayBuffer;
  wasiPath: string;
  layout: typeof Layout;
  op: typeof Op;
  dataBytes: number;
  errnoSigpipe: number;
}

/** Exit codes decided by the runtime rather than the program. */
export const ExitCode = {
  /** A trap or an internal failure: like a SIGABRT. */
  TRAP: 134,
  /** The module could not be linked or started. */
  CANNOT_EXECUTE: 126,
} as const;
