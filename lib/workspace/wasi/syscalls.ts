/**
 * The main-thread half of a WASI process: answers the calls its worker makes through the
 * shared buffer, against the process's fd table and the workspace's live VFS. Calls that can
 * block (pipe reads and writes, waiting for a child) return a Promise and are answered when it
 * settles; the worker sleeps meanwhile and the main thread stays free.
 */
import type {
  FileHandle,
  FileType,
  KernelApi,
  KernelProcess,
  Listener,
  ProcessHandle,
  SocketHandle,
  Stat,
  Whence,
} from "../kernel/types.js";
import { ERRNO_SIGPIPE, Layout, Op } from "./protocol.js";

/** WASI filetype numbers. */
const FILETYPE: Record<FileType, number> = {
  file: 4,
  directory: 3,
  symlink: 7,
  // Preview 1 has no FIFO type: pipes are "unknown", as other runtimes report them.
  fifo: 0,
  chardev: 2,
  socket: 6,
};

const HANDLE_FILETYPE: Record<FileHandle["kind"], number> = {
  file: 4,
  directory: 3,
  pipe: 0,
  null: 2,
  tty: 2,
  // WASI preview 1 has one socket type for both.
  socket: 6,
  listener: 6,
};

const WHENCE: Whence[] = ["set", "cur", "end"];

const E_IO = 29;
const E_CHILD = 12;
const E_INVAL = 28;
const E_PIPE = 64;
const E_NOTSOCK = 57;
const E_AGAIN = 6;
const E_INTR = 27;
/** fdflags NONBLOCK, as sock_accept takes it. */
const FDFLAG_NONBLOCK = 4;
const SHUTDOWN_HOW = [undefined, "read", "write", "both"] as const;

/** The WASI filetype a handle presents to the guest (stdio and newly opened fds). */
export function handleFiletype(handle: FileHandle): number {
  return HANDLE_FILETYPE[handle.kind];
}

/** The WASI errno for anything a kernel call threw. */
export function errnoOf(err: unknown): number {
  const errno = (err as { errno?: unknown } | null)?.errno;
  return typeof errno === "number" && errno > 0 ? errno : E_IO;
}

function isEpipe(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === "EPIPE";
}

function errnoError(message: string, errno: number): Error {
  return Object.assign(new Error(message), { errno });
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** Splits a buffer of NUL-terminated strings (the spawn ABI's argv and env). */
function cStrings(bytes: Uint8Array): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0) {
      out.push(decoder.decode(bytes.subarray(start, i)));
      start = i + 1;
    }
  }
  if (start < bytes.length) out.push(decoder.decode(bytes.subarray(start)));
  return out;
}

export interface ExitRequest {
  code: number;
  signo: number;
  message: string;
}

/** Serves one process's calls; `onExit` receives the program's end. */
export class SyscallServer {
  readonly #i32: Int32Array;
  readonly #f64: Float64Array;
  readonly #data: Uint8Array;
  readonly #children = new Map<number, ProcessHandle>();
  /** Aborted when the process ends: its blocked reads, writes, accepts and connects leave their queues. */
  readonly #ended = new AbortController();

  constructor(
    sab: SharedArrayBuffer,
    private readonly proc: KernelProcess,
    private readonly kernel: KernelApi,
    private readonly onExit: (exit: ExitRequest) => void | Promise<void>,
  ) {
    this.#i32 = new Int32Array(sab);
    this.#f64 = new Float64Array(sab);
    this.#data = new Uint8Array(sab, Layout.DATA);
  }

  /** Cancels the process's blocked calls (it was killed or has exited). Idempotent. */
  abort(): void {
    this.#ended.abort();
  }

  /** Handles the request in the buffer. The errno and results are in place when it returns or settles. */
  handle(): void | Promise<void> {
    const i32 = this.#i32;
    i32[Layout.ERRNO] = 0;
    i32[Layout.RESP_LEN] = 0;
    let result: void | Promise<void>;
    try {
      result = this.#dispatch(i32[Layout.OP]!);
    } catch (err) {
      this.#fail(err);
      return;
    }
    if (result instanceof Promise) return result.catch((err: unknown) => this.#fail(err));
  }

  #fail(err: unknown): void {
    this.#i32[Layout.ERRNO] = isEpipe(err) ? ERRNO_SIGPIPE : errnoOf(err);
  }

  /** Installs `handle` in the process's fd table, closing it if that fails (EMFILE). */
  #installOrClose(handle: FileHandle): number {
    try {
      return this.proc.fds.install(handle);
    } catch (err) {
      handle.close();
      throw err;
    }
  }

  #arg(i: number): number {
    return this.#i32[Layout.INT_ARGS + i]!;
  }

  #setArg(i: number, v: number): void {
    this.#i32[Layout.INT_ARGS + i] = v;
  }

  #num(i: number): number {
    return this.#f64[Layout.F64_ARGS + i]!;
  }

  #setNum(i: number, v: number): void {
    this.#f64[Layout.F64_ARGS + i] = v;
  }

  /** The request payload as strings separated by NUL. */
  #strings(): string[] {
    return decoder.decode(this.#data.subarray(0, this.#i32[Layout.REQ_LEN])).split("\0");
  }

  #path(): string {
    return decoder.decode(this.#data.subarray(0, this.#i32[Layout.REQ_LEN]));
  }

  #answerText(text: string): void {
    const { written } = encoder.encodeInto(text, this.#data);
    this.#i32[Layout.RESP_LEN] = written;
  }

  #answerStat(st: Stat): void {
    this.#setNum(0, st.dev);
    this.#setNum(1, st.ino);
    this.#setNum(2, FILETYPE[st.type]);
    this.#setNum(3, st.nlink);
    this.#setNum(4, st.size);
    this.#setNum(5, st.atimeMs);
    this.#setNum(6, st.mtimeMs);
    this.#setNum(7, st.ctimeMs);
  }

  #fd(i: number): FileHandle {
    return this.proc.fds.get(this.#arg(i));
  }

  #dispatch(op: number): void | Promise<void> {
    const vfs = this.kernel.vfs;
    const guard = this.kernel.guestFilesystem;
    switch (op) {
      case Op.READ:
        return this.#read();
      case Op.WRITE:
        return this.#write();
      case Op.OPEN:
        return this.#open();
      case Op.CLOSE:
        this.proc.fds.close(this.#arg(0));
        return;
      case Op.SEEK: {
        const whence = WHENCE[this.#arg(1)];
        if (whence === undefined) throw Object.assign(new Error("whence"), { errno: E_INVAL });
        this.#setNum(0, this.#fd(0).seek(this.#num(0), whence));
        return;
      }
      case Op.FSTAT:
        this.#answerStat(this.#fd(0).stat());
        return;
      case Op.STAT: {
        const path = this.#path();
        this.#answerStat(this.#arg(0) === 1 ? vfs.stat(path) : vfs.lstat(path));
        return;
      }
      case Op.FTRUNCATE:
        this.#fd(0).truncate(this.#num(0));
        return;
      case Op.FUTIMES: {
        // Handles have no utimes of their own: files and directories are set through their path.
        const path = this.#fd(0).path;
        if (path === undefined) return;
        guard?.check(path, "write", "futimes");
        vfs.utimes(path, this.#num(0), this.#num(1));
        return;
      }
      case Op.UTIMES: {
        const path = this.#path();
        guard?.check(path, "write", "utimes");
        vfs.utimes(path, this.#num(0), this.#num(1));
        return;
      }
      case Op.READDIR:
        return this.#readdir();
      case Op.MKDIR: {
        const path = this.#path();
        guard?.check(path, "write", "mkdir", { follow: false });
        vfs.mkdir(path);
        return;
      }
      case Op.RMDIR: {
        const path = this.#path();
        guard?.check(path, "write", "rmdir", { follow: false });
        vfs.rmdir(path);
        return;
      }
      case Op.UNLINK: {
        const path = this.#path();
        guard?.check(path, "write", "unlink", { follow: false });
        vfs.unlink(path);
        return;
      }
      case Op.RENAME: {
        const [from = "", to = ""] = this.#strings();
        guard?.check(from, "write", "rename", { follow: false });
        guard?.check(to, "write", "rename", { follow: false });
        vfs.rename(from, to);
        return;
      }
      case Op.SYMLINK: {
        const [target = "", link = ""] = this.#strings();
        guard?.check(link, "write", "symlink", { follow: false });
        vfs.symlink(target, link);
        return;
      }
      case Op.READLINK: {
        const path = this.#path();
        guard?.check(path, "read", "readlink", { follow: false });
        this.#answerText(vfs.readlink(path));
        return;
      }
      case Op.LINK: {
        const [existing = "", newPath = ""] = this.#strings();
        // A hard link shares the file's data: it must not carry a protected file somewhere open.
        guard?.check(existing, "read", "link", { follow: false });
        guard?.check(existing, "write", "link", { follow: false });
        guard?.check(newPath, "write", "link", { follow: false });
        vfs.link(existing, newPath);
        return;
      }
      case Op.RENUMBER:
        this.proc.fds.dup(this.#arg(0), this.#arg(1));
        this.proc.fds.close(this.#arg(0));
        return;
      case Op.SPAWN:
        return this.#spawn();
      case Op.WAIT:
        return this.#wait();
      case Op.PIPE: {
        const [r, w] = this.kernel.createPipe();
        this.#setArg(0, this.proc.fds.install(r));
        this.#setArg(1, this.proc.fds.install(w));
        return;
      }
      case Op.EXIT: {
        const message = this.#path();
        return this.onExit({ code: this.#arg(0), signo: this.#arg(1), message });
      }
      case Op.SOCK_LISTEN: {
        const listener = this.kernel.net.listen(this.#arg(0), { backlog: this.#arg(1), pid: this.proc.pid });
        this.#install(listener);
        return;
      }
      case Op.SOCK_ACCEPT:
        return this.#accept();
      case Op.SOCK_CONNECT:
        return this.#connect();
      case Op.SLEEP:
        return this.#sleep(this.#num(0));
      case Op.SOCK_SHUTDOWN: {
        const handle = this.#fd(0);
        const how = SHUTDOWN_HOW[this.#arg(1)];
        if (how === undefined) throw errnoError("shutdown how", E_INVAL);
        if (handle.kind !== "socket") throw errnoError("not a socket", E_NOTSOCK);
        (handle as SocketHandle).shutdown(how);
        return;
      }
      default:
        throw Object.assign(new Error(`unknown op ${op}`), { errno: 52 });
    }
  }

  /** Resolves after `ms`, or at once when the process ends. */
  #sleep(ms: number): Promise<void> {
    const signal = this.#ended.signal;
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      };
      // setTimeout takes at most 2^31-1 ms (about 24 days).
      const timer = setTimeout(done, Math.min(Math.max(ms, 0), 2 ** 31 - 1));
      signal.addEventListener("abort", done, { once: true });
    });
  }

  #read(): void | Promise<void> {
    const handle = this.#fd(0);
    const buf = this.#data.subarray(0, this.#arg(1));
    const position = this.#num(0);
    const n = position >= 0 ? handle.read(buf, position) : handle.read(buf, undefined, this.#ended.signal);
    if (typeof n === "number") {
      this.#i32[Layout.RESP_LEN] = n;
      return;
    }
    return n.then((count) => {
      this.#i32[Layout.RESP_LEN] = count;
    });
  }

  #write(): void | Promise<void> {
    const handle = this.#fd(0);
    // The kernel copies what it keeps (file data, pipe chunks), so the shared view is enough.
    const bytes = this.#data.subarray(0, this.#i32[Layout.REQ_LEN]);
    const position = this.#num(0);
    // Sockets write as with MSG_NOSIGNAL: a WASI program cannot ignore SIGPIPE, and a server
    // must survive a client that went away, so a closed peer is the EPIPE errno.
    const noSignal = (err: unknown): never => {
      throw handle.kind === "socket" && isEpipe(err) ? errnoError("peer closed", E_PIPE) : err;
    };
    let n: number | Promise<number>;
    try {
      n = position >= 0 ? handle.write(bytes, position) : handle.write(bytes, undefined, this.#ended.signal);
    } catch (err) {
      return noSignal(err);
    }
    if (typeof n === "number") {
      this.#setArg(0, n);
      return;
    }
    return n.then((count) => this.#setArg(0, count), noSignal);
  }

  /** Installs a new handle at the lowest free fd; answers a0 = fd (the handle is closed on failure). */
  #install(handle: FileHandle): void {
    if (this.#ended.signal.aborted) {
      handle.close();
      throw errnoError("process ended", E_INTR);
    }
    const fd = this.#installOrClose(handle);
    this.#setArg(0, fd);
  }

  #accept(): void | Promise<void> {
    const handle = this.#fd(0);
    if (handle.kind !== "listener")
      throw errnoError("not a listening socket", handle.kind === "socket" ? E_INVAL : E_NOTSOCK);
    const listener = handle as Listener;
    if ((this.#arg(1) & FDFLAG_NONBLOCK) !== 0 && !listener.acceptReady())
      throw errnoError("no connection", E_AGAIN);
    const conn = listener.accept(this.#ended.signal);
    if (!(conn instanceof Promise)) return this.#install(conn);
    return conn.then((c) => this.#install(c));
  }

  #connect(): Promise<void> {
    const host = this.#path();
    return this.kernel.net
      .connect(host, this.#arg(0), { pid: this.proc.pid, signal: this.#ended.signal })
      .then((socket) => this.#install(socket));
  }

  #open(): void {
    const path = this.#path();
    const oflags = this.#arg(1);
    const fdflags = this.#arg(2);
    const write = this.#arg(4) === 1;
    const guard = this.kernel.guestFilesystem;
    if (guard !== undefined) {
      const follow = this.#arg(0) !== 0;
      if (this.#arg(3) === 1 || !write) guard.check(path, "read", "open", { follow });
      // Creating or truncating changes the file even when opened read-only.
      if (write || (oflags & (1 | 8)) !== 0) guard.check(path, "write", "open", { follow });
    }
    const handle = this.kernel.vfs.open(path, {
      read: this.#arg(3) === 1 || !write,
      write,
      create: (oflags & 1) !== 0,
      directory: (oflags & 2) !== 0,
      exclusive: (oflags & 4) !== 0,
      truncate: (oflags & 8) !== 0,
      append: (fdflags & 1) !== 0,
      noFollow: this.#arg(0) === 0,
    });
    const fd = this.#installOrClose(handle);
    this.#setArg(0, fd);
    this.#setArg(1, handleFiletype(handle));
    if (handle.kind === "directory") this.#answerText(handle.path ?? path);
  }

  /**
   * Directory entries from index a1 on ("." and ".." first), as many as fit in the payload, as
   * JSON; a0 = 1 when the listing ends in this page.
   */
  #readdir(): void {
    const handle = this.#fd(0);
    const from = this.#arg(1);
    const ino = handle.stat().ino;
    const all: [string, number, number][] = [
      [".", FILETYPE.directory, ino],
      ["..", FILETYPE.directory, ino],
    ];
    for (const e of handle.readdir()) all.push([e.name, FILETYPE[e.type], e.ino]);
    // Names are at most 255 bytes, so an entry's JSON is under 1 KiB: stop with room to spare.
    const room = this.#data.length - 1024;
    const page: [string, number, number][] = [];
    let bytes = 2;
    let i = from;
    for (; i < all.length && bytes < room; i++) {
      const entry = all[i]!;
      page.push(entry);
      bytes += encoder.encode(entry[0]).length * 2 + 40;
    }
    const { written } = encoder.encodeInto(JSON.stringify(page), this.#data);
    this.#i32[Layout.RESP_LEN] = written;
    this.#setArg(0, i >= all.length ? 1 : 0);
  }

  /** stdio for a child: an fd of ours (-1 = the same as our own fd `fallback`), or a null device if closed. */
  #stdio(fd: number, fallback: number, owned: FileHandle[]): FileHandle {
    const which = fd >= 0 ? fd : fallback;
    try {
      return this.proc.fds.get(which);
    } catch (err) {
      if (fd >= 0) throw err;
      const handle = this.kernel.nullHandle();
      owned.push(handle);
      return handle;
    }
  }

  #spawn(): void | Promise<void> {
    const argvLen = this.#arg(3);
    const envLen = this.#arg(4);
    const cwdLen = this.#arg(5);
    const data = this.#data;
    const argv = cStrings(data.subarray(0, argvLen));
    const env: Record<string, string> = {};
    for (const entry of cStrings(data.subarray(argvLen, argvLen + envLen))) {
      const eq = entry.indexOf("=");
      if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
    }
    const cwd = decoder.decode(data.subarray(argvLen + envLen, argvLen + envLen + cwdLen)) || this.proc.cwd;
    if (argv.length === 0) throw Object.assign(new Error("empty argv"), { errno: E_INVAL });
    // Null devices made here for closed fds are ours to release once the child holds them.
    const owned: FileHandle[] = [];
    let child: ProcessHandle;
    try {
      const stdio: [FileHandle, FileHandle, FileHandle] = [
        this.#stdio(this.#arg(0), 0, owned),
        this.#stdio(this.#arg(1), 1, owned),
        this.#stdio(-1, 2, owned),
      ];
      child = this.proc.spawn({ argv, env, cwd, stdio });
    } finally {
      for (const handle of owned) handle.close();
    }
    if (this.#arg(2) === 0) {
      this.#children.set(child.pid, child);
      this.#setArg(0, child.pid);
      return;
    }
    return child.wait().then((status) => this.#setArg(0, status.exitCode));
  }

  #wait(): Promise<void> {
    const pid = this.#arg(0);
    const child = this.#children.get(pid);
    if (child === undefined) throw Object.assign(new Error("no such child"), { errno: E_CHILD });
    return child.wait().then((status) => {
      this.#children.delete(pid);
      this.#setArg(0, status.exitCode);
    });
  }
}
