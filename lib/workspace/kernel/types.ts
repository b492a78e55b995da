/**
 * The kernel contract: the one set of types the VFS, the WASI runtime, the shell and the
 * workspace actor agree on. Everything here is synchronous unless it can block (pipes, waits),
 * because WASI calls arrive synchronously from a worker and must be answered without a copy of
 * the filesystem per process.
 */

/** errno names clients can branch on. `KernelError.code` is one of these. */
export type Errno =
  | "ENOENT"
  | "EEXIST"
  | "ENOTDIR"
  | "EISDIR"
  | "EACCES"
  | "EPERM"
  | "ENOTEMPTY"
  | "EINVAL"
  | "ELOOP"
  | "EXDEV"
  | "EBADF"
  | "ENOSPC"
  | "EAGAIN"
  | "EMFILE"
  | "ENAMETOOLONG"
  | "EPIPE"
  | "ESPIPE"
  | "ENOSYS"
  | "ECHILD"
  | "ESRCH"
  | "ENOMEM"
  | "EROFS"
  | "EBUSY"
  | "ENOEXEC"
  | "EINTR"
  | "EFBIG"
  | "ECONNREFUSED"
  | "ECONNRESET"
  | "EADDRINUSE"
  | "ENOTCONN"
  | "ENOTSOCK"
  | "EHOSTUNREACH"
  | "ETIMEDOUT";

export type FileType = "file" | "directory" | "symlink" | "fifo" | "chardev" | "socket";

export interface Stat {
  dev: number;
  ino: number;
  type: FileType;
  /** Permission bits only (0o7777); the type is in `type`. */
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  size: number;
  atimeMs: number;
  mtimeMs: number;
  ctimeMs: number;
  birthtimeMs: number;
}

export interface DirEntry {
  name: string;
  type: FileType;
  ino: number;
}

export interface OpenOptions {
  read?: boolean;
  write?: boolean;
  create?: boolean;
  /** With `create`: fail with EEXIST if the path exists. */
  exclusive?: boolean;
  truncate?: boolean;
  append?: boolean;
  /** Fail with ENOTDIR unless the path is a directory. */
  directory?: boolean;
  /** Do not follow a symlink in the last component (ELOOP if it is one). */
  noFollow?: boolean;
  /** Permission bits for a created file (default 0o644). */
  mode?: number;
}

export type Whence = "set" | "cur" | "end";

/**
 * An open file description. Several fds (dup, inherited stdio) may share one; `ref()` adds a
 * holder and `close()` drops one; the description is released when the last holder closes.
 * Files answer synchronously; pipes return a Promise when the call would block.
 */
export interface FileHandle {
  readonly kind: "file" | "directory" | "pipe" | "null" | "tty" | "socket" | "listener";
  /** Absolute path it was opened by (files and directories). */
  readonly path?: string;
  readonly readable: boolean;
  readonly writable: boolean;
  /**
   * Bytes read into `buf` (0 = end of file). `position` reads without moving the offset.
   * `signal` (pipes, sockets): aborting it takes a blocked read out of the queue unserved and
   * rejects it with EINTR, so a killed reader never consumes bytes meant for the next one.
   */
  read(buf: Uint8Array, position?: number, signal?: AbortSignal): number | Promise<number>;
  /** Bytes written (pipes: EPIPE once no reader is left). `signal` as for `read`. */
  write(data: Uint8Array, position?: number, signal?: AbortSignal): number | Promise<number>;
  /** ESPIPE on pipes. Returns the new offset. */
  seek(offset: number, whence: Whence): number;
  stat(): Stat;
  truncate(size: number): void;
  /** Directory handles only. */
  readdir(): DirEntry[];
  /** True when a read would not block (data or EOF). */
  readReady(): boolean;
  ref(): this;
  close(): void;
}

/** The filesystem of one workspace. Paths are absolute ("/a/b"); `resolvePath` joins a cwd. */
export interface Vfs {
  stat(path: string): Stat;
  lstat(path: string): Stat;
  exists(path: string): boolean;
  readFile(path: string): Uint8Array;
  writeFile(path: string, data: Uint8Array | string, options?: { mode?: number; append?: boolean }): void;
  mkdir(path: string, options?: { recursive?: boolean; mode?: number }): void;
  readdir(path: string): DirEntry[];
  rmdir(path: string): void;
  unlink(path: string): void;
  /** Removes a file, or a directory tree with `recursive`. */
  rm(path: string, options?: { recursive?: boolean; force?: boolean }): void;
  /** EXDEV across mounts (callers that want `mv` semantics copy then delete). */
  rename(from: string, to: string): void;
  symlink(target: string, linkPath: string): void;
  readlink(path: string): string;
  link(existing: string, newPath: string): void;
  chmod(path: string, mode: number): void;
  utimes(path: string, atimeMs: number, mtimeMs: number): void;
  truncate(path: string, size: number): void;
  /** The canonical path with every symlink resolved (ELOOP, ENOENT, EACCES on escape). */
  realpath(path: string): string;
  open(path: string, options: OpenOptions): FileHandle;
  /** Bytes and inodes in use (what `maxFilesystemBytes` is checked against). */
  usage(): { bytes: number; inodes: number };
}

/** Store-backed mounts persist through this; the workspace actor wires it to the actor's storage. */
export interface PersistBackend {
  /** Every persisted entry, at boot. */
  load(): Promise<[Uint8Array, Uint8Array][]>;
  /** Atomically applies the ops (`value: undefined` deletes). Durable when it resolves. */
  commit(ops: { key: Uint8Array; value: Uint8Array | undefined }[]): Promise<void>;
}

export interface ExitStatus {
  /** 128 + signal number when killed by a signal (the shell convention). */
  exitCode: number;
  /** The signal name when the process was killed ("SIGKILL", "SIGTERM", "SIGINT", "SIGXCPU"). */
  signal?: Signal;
}

export type Signal = "SIGKILL" | "SIGTERM" | "SIGINT" | "SIGHUP" | "SIGPIPE" | "SIGXCPU";

export interface SpawnOptions {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  /** fds 0, 1, 2 of the new process; the kernel takes a ref of each. */
  stdio: [FileHandle, FileHandle, FileHandle];
  ppid?: number;
}

export interface ProcessInfo {
  pid: number;
  ppid: number;
  argv: string[];
  cwd: string;
  status: "running" | "exited";
  exitCode?: number;
  signal?: Signal;
  startedAt: number;
}

/** A running (or finished) process as its starter sees it. */
export interface ProcessHandle {
  readonly pid: number;
  wait(): Promise<ExitStatus>;
  kill(signal?: Signal): void;
  info(): ProcessInfo;
}

/**
 * Runs one program for the kernel. The kernel allocates the pid and fd table, resolves argv[0]
 * to a program and calls the executor that claims it; the executor settles `proc.exit()`.
 */
export interface Executor {
  run(proc: KernelProcess, program: Program): void;
}

/** What argv[0] resolved to. */
export type Program =
  /** A WASI module file in the VFS (its bytes are shared, never copied per workspace). */
  | { kind: "wasm"; path: string; module: WebAssembly.Module | Uint8Array; scriptArgv?: string[] }
  /** A program implemented on the host in TypeScript (the shell, host tools). */
  | { kind: "host"; path: string; name: string; scriptArgv?: string[] };
// `scriptArgv` is set when argv[0] named a "#!" script: the interpreter's argv up to and
// including the script path ("/bin/sh", "-e", "/home/user/x.sh"); the process runs with
// [...scriptArgv, ...argv.slice(1)]. `kernel.spawn` applies it; `path` is the interpreter's.

/** The kernel's view of a process, handed to executors. */
export interface KernelProcess {
  readonly pid: number;
  readonly ppid: number;
  readonly argv: string[];
  readonly env: Record<string, string>;
  cwd: string;
  readonly fds: FdTable;
  /** Aborted when the process is signalled; `reason` is the Signal. */
  readonly signal: AbortSignal;
  /** Settles the process (idempotent; the first call wins) and closes its fds. */
  exit(status: ExitStatus): void;
  /** Starts a child with this process as parent (the host "spawn" import, the shell). */
  spawn(options: Omit<SpawnOptions, "ppid">): ProcessHandle;
  /**
   * Counts one more process against `maxProcesses` for work a host program runs inside itself
   * where a real system would fork (the shell's subshells, pipeline stages and `&` lists), so a
   * fork bomb in shell language meets the same limit. EAGAIN past the limit. Returns the release
   * (idempotent); whatever is still held is released when the process exits.
   */
  forkSlot?(): () => void;
}

export interface FdTable {
  get(fd: number): FileHandle;
  /** Installs at the lowest free fd (or at `fd`, closing what was there). Returns the fd. */
  install(handle: FileHandle, fd?: number): number;
  close(fd: number): void;
  dup(fd: number, to?: number): number;
  entries(): [number, FileHandle][];
  closeAll(): void;
}

/** What host programs (the shell, host tools) and the WASI runtime may ask of the kernel. */
export interface KernelApi {
  readonly vfs: Vfs;
  /** A kernel pipe: [read end, write end], 64 KiB buffered; both ends start with one ref. */
  createPipe(): [FileHandle, FileHandle];
  /** Reads give EOF, writes are discarded. */
  nullHandle(): FileHandle;
  /** Resolves argv[0] through PATH (or a path with "/") relative to cwd: ENOENT, EACCES, ENOEXEC. */
  resolveProgram(command: string, cwd: string, env: Record<string, string>): Program;
  spawn(options: SpawnOptions): ProcessHandle;
  processes(): ProcessInfo[];
  /** ESRCH for an unknown or finished pid. */
  kill(pid: number, signal?: Signal): void;
  /** The workspace's loopback socket table. */
  readonly net: NetApi;
  /**
   * The filesystem policy for guest programs (absent: everything allowed). Guest syscall paths
   * (WASI, `node`) check it; the workspace's own host-side file actions do not.
   */
  readonly guestFilesystem?: FilesystemAccess;
  /** The workspace's CPU slots (`cpuCount`): program runners hold one while guest code runs. See cpu.ts. */
  readonly cpu?: CpuSlots;
}

/**
 * At most `count` processes of a workspace compute at once. A runner takes a slot before guest
 * code runs, gives it back while blocked in a waiting call and at exit (see kernel/cpu.ts).
 */
export interface CpuSlots {
  /** Slots (Infinity: unlimited). */
  readonly count: number;
  readonly busy: number;
  readonly waiting: number;
  /** Resolves with the slot's release (idempotent) once one is free; FIFO. Aborting rejects with EINTR. */
  acquire(signal?: AbortSignal): Promise<() => void>;
  /** A slot now if one is free and nobody is queued, else undefined. */
  tryAcquire(): (() => void) | undefined;
  /** True when others wait and a slot taken at `heldSinceMs` (performance.now()) was held a full quantum. */
  shouldYield(heldSinceMs: number): boolean;
}

/** A program implemented in TypeScript, run with the process's fds; resolves to its exit code. */
export type HostProgram = (proc: KernelProcess, kernel: KernelApi) => Promise<number>;

// ---- networking (issue #6) -------------------------------------------------------------------

/** A listening socket on the workspace's loopback. Also a FileHandle (kind "listener") for fd tables. */
export interface Listener extends FileHandle {
  readonly port: number;
  /**
   * The next connection (kind "socket", a SocketHandle); a Promise when none is queued.
   * Closing the listener rejects waiters with EBADF; aborting `signal` rejects that one waiter
   * with EINTR and leaves the queue untouched.
   */
  accept(signal?: AbortSignal): SocketHandle | Promise<SocketHandle>;
  acceptReady(): boolean;
}

export type NetworkOperation = "connect" | "listen" | "dns";

export interface NetworkRule {
  mode: "allow" | "deny";
  /** Default ["*"]: every operation. */
  operations?: (NetworkOperation | "*")[];
  /** Host patterns: "api.example.com", "*.example.com", "10.0.0.0/8", "*", optionally ":port". */
  patterns: string[];
}

export interface NetworkPolicy {
  /** Default "deny": the guest reaches nothing outside its own loopback. */
  default?: "allow" | "deny";
  rules?: NetworkRule[];
}

export interface ListenPolicy {
  /** Lowest bindable port (1-65535, default 1). */
  portMin?: number;
  /** Highest bindable port (default 65535). */
  portMax?: number;
  /** Ports below 1024 need this (default false): EACCES otherwise. */
  allowPrivileged?: boolean;
}

/** Where an outbound attempt went and what became of it (recorded in the engine's egress audit). */
export interface NetworkAttempt {
  host: string;
  port: number;
  operation: NetworkOperation;
  outcome: "allowed" | "refused";
  reason?: string;
  pid?: number;
}

/**
 * One end of a connection (kind "socket"): reads block like a pipe's and give end of file once
 * the peer shut down or closed its write side; writes fail with EPIPE once the peer closed.
 */
export interface SocketHandle extends FileHandle {
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** Ends our reading ("read"), our writing ("write": the peer reads end of file) or both. */
  shutdown(how: "read" | "write" | "both"): void;
  /** True when a write would not block. */
  writeReady(): boolean;
}

export type FilesystemOperation = "read" | "write";

export interface FilesystemRule {
  mode: "allow" | "deny";
  /** Default ["*"]. */
  operations?: (FilesystemOperation | "*")[];
  /** Globs on absolute paths: "/etc/**" (the directory and all below), "/home/user/secret/*", "*.key". */
  patterns: string[];
}

/** Which paths guest programs may read and write (the VFS's own modes apply as well). */
export interface FilesystemPolicy {
  /** Default "allow". */
  default?: "allow" | "deny";
  rules?: FilesystemRule[];
}

/** The evaluated filesystem policy a syscall path asks. */
export interface FilesystemAccess {
  /**
   * Throws EACCES unless `operation` on `path` is allowed. The path is checked as named and as
   * resolved through symlinks (`follow`: the last component too), so a link cannot lead around
   * a rule.
   */
  check(path: string, operation: FilesystemOperation, syscall: string, options?: { follow?: boolean }): void;
}

/** The kernel's loopback-only socket table. */
export interface NetApi {
  /**
   * EACCES outside the listen policy, EADDRINUSE when taken, EINVAL for a bad port. Port 0
   * picks a free port in the listen range. Closing the last reference frees the port; so does
   * the exit of `pid`.
   */
  listen(port: number, options?: { backlog?: number; pid?: number }): Listener;
  /**
   * Guest connect. Loopback names (127.0.0.0/8, "localhost", "::1", "0.0.0.0") are this
   * workspace's own ports (ECONNREFUSED when nobody listens); anything else is checked against
   * the network policy and SSRF rules and refused with EACCES unless allowed.
   */
  connect(
    host: string,
    port: number,
    options?: { pid?: number; signal?: AbortSignal },
  ): Promise<SocketHandle>;
  /** The host side (vmFetch, preview URLs) connecting into a guest port: ECONNREFUSED when nobody listens. */
  connectFromHost(port: number): SocketHandle;
  /** Ports with a listener, and the pid that bound each. */
  listening(): { port: number; pid: number | undefined }[];
}
