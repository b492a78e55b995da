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
  ProcessHandle,
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
};

const HANDLE_FILETYPE: Record<FileHandle["kind"], number> = {
  file: 4,
  directory: 3,
  pipe: 0,
  null: 2,
  tty: 2,
};

const WHENCE: Whence[] = ["set", "cur", "end"];

const E_IO = 29;
const E_CHILD = 12;
const E_INVAL = 28;

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
        if (path !== undefined) vfs.utimes(path, this.#num(0), this.#num(1));
        return;
      }
      case Op.UTIMES:
        vfs.utimes(this.#path(), this.#num(0), this.#num(1));
        return;
      case Op.READDIR:
        return this.#readdir();
      case Op.MKDIR:
        vfs.mkdir(this.#path());
        return;
      case Op.RMDIR:
        vfs.rmdir(this.#path());
        return;
      case Op.UNLINK:
        vfs.unlink(this.#path());
        return;
      case Op.RENAME: {
        const [from = "", to = ""] = this.#strings();
        vfs.rename(from, to);
        return;
      }
      case Op.SYMLINK: {
        const [target = "", link = ""] = this.#strings();
        vfs.symlink(target, link);
        return;
      }
      case Op.READLINK:
        this.#answerText(vfs.readlink(this.#path()));
        return;
      case Op.LINK: {
        const [existing = "", newPath = ""] = this.#strings();
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
      default:
        throw Object.assign(new Error(`unknown op ${op}`), { errno: 52 });
    }
  }

  #read(): void | Promise<void> {
    const handle = this.#fd(0);
    const buf = this.#data.subarray(0, this.#arg(1));
    const position = this.#num(0);
    const n = position >= 0 ? handle.read(buf, position) : handle.read(buf);
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
    const n = position >= 0 ? handle.write(bytes, position) : handle.write(bytes);
    if (typeof n === "number") {
      this.#setArg(0, n);
      return;
    }
    return n.then((count) => this.#setArg(0, count));
  }

  #open(): void {
    const path = this.#path();
    const oflags = this.#arg(1);
    const fdflags = this.#arg(2);
    const write = this.#arg(4) === 1;
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
    let fd: number;
    try {
      fd = this.proc.fds.install(handle);
    } catch (err) {
      handle.close();
      throw err;
    }
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
