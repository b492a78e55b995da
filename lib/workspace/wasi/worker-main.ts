/**
 * The code a pool worker runs. It is one self-contained function (no imports at run time, only
 * its arguments and globals) because the pool starts workers from its source text: that works
 * the same from TypeScript sources under a test runner and from the compiled package.
 *
 * A worker waits for a job (a compiled module plus argv, env and stdio kinds), runs it with
 * `@wasmer/wasi` 0.12, and turns every file call into a synchronous call to its syscall server
 * on the main thread: the request goes into the shared buffer, the worker sleeps in
 * `Atomics.wait` until the answer is there. Calls of the library that are wrong for a shared,
 * live kernel (offsets kept in the guest, busy-wait sleeps, a wrong event layout, stat that
 * ignores "no follow", readdir that fails on dangling links, renumber backwards) are replaced.
 */
import type * as WorkerThreads from "node:worker_threads";
import type * as NodePath from "node:path";
import type * as NodeCrypto from "node:crypto";
import type { JobMessage, WorkerBoot } from "./protocol.js";
import type { WasmApi, WasmImports, WasmInstance, WasmMemory } from "./wasm-api.js";

interface FdEntry {
  real: number;
  filetype: number;
  rights: { base: bigint; inheriting: bigint };
  path?: string;
  fakePath?: string;
  offset?: bigint;
  /** A page of directory entries (from index `start`), kept for the following cookies. */
  dirents?: { start: number; items: [string, number, number][]; end: boolean };
}

interface WasiInstance {
  FD_MAP: Map<number, FdEntry>;
  wasiImport: Record<string, unknown>;
  start(instance: WasmInstance): void;
}

interface WasiLib {
  WASI: new (config: {
    args: string[];
    env: Record<string, string>;
    preopens: Record<string, string>;
    bindings: Record<string, unknown>;
  }) => WasiInstance;
  WASIError: new (errno: number) => Error;
  WASIExitError: new (code: number) => Error & { code: number | null };
}

/** Thrown through the guest's frames to end it: an exit code and a signal number (0 = none). */
interface GuestExit {
  enclaveExit: true;
  code: number;
  signo: number;
  message: string;
}

export function wasiWorkerMain(require: NodeJS.Require, boot: WorkerBoot): void {
  const { parentPort } = require("node:worker_threads") as typeof WorkerThreads;
  const posix = (require("node:path") as typeof NodePath).posix;
  const { randomFillSync } = require("node:crypto") as typeof NodeCrypto;
  const lib = require(boot.wasiPath) as WasiLib;
  const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
  const L = boot.layout;
  const OP = boot.op;
  const i32 = new Int32Array(boot.sab);
  const f64 = new Float64Array(boot.sab);
  const data = new Uint8Array(boot.sab, L.DATA, boot.dataBytes);
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const A = L.INT_ARGS;
  const F = L.F64_ARGS;

  // WASI errno numbers and constants used below (wasi_snapshot_preview1).
  const E = { BADF: 8, INVAL: 28, NOTDIR: 54, TOOBIG: 1, NOTSOCK: 57, NOTSUP: 58 };
  const FILETYPE = { UNKNOWN: 0, CHARDEV: 2, DIRECTORY: 3, REGULAR: 4, SOCKET_STREAM: 6 };
  /** sock_recv's riflags: RECV_PEEK. */
  const RECV_PEEK = 1;
  const RIGHTS_ALL = (1n << 29n) - 1n;
  const SEEK_TELL = (1n << 2n) | (1n << 5n);
  const RIGHT_READ = (1n << 1n) | (1n << 14n);
  const RIGHT_WRITE = 1n | (1n << 6n) | (1n << 8n) | (1n << 22n);
  const SIGNALS: Record<string, number> = {
    SIGHUP: 1,
    SIGINT: 2,
    SIGQUIT: 3,
    SIGILL: 4,
    SIGTRAP: 5,
    SIGABRT: 6,
    SIGBUS: 7,
    SIGFPE: 8,
    SIGKILL: 9,
    SIGUSR1: 10,
    SIGSEGV: 11,
    SIGUSR2: 12,
    SIGPIPE: 13,
    SIGALRM: 14,
    SIGTERM: 15,
  };

  let wasi: WasiInstance | undefined;
  let memory: WasmMemory | undefined;
  let maxMemoryBytes = 0;

  const now = (): number => performance.timeOrigin + performance.now();

  function guestExit(code: number, signo: number, message = ""): GuestExit {
    return { enclaveExit: true, code, signo, message };
  }

  /** One synchronous call to the syscall server; returns the WASI errno of the answer. */
  function call(op: number): number {
    if (maxMemoryBytes > 0 && memory !== undefined && memory.buffer.byteLength > maxMemoryBytes) {
      throw guestExit(137, 9, "wasm: memory limit exceeded");
    }
    i32[L.OP] = op;
    const seq = (i32[L.REQ_SEQ]! + 1) | 0;
    f64[L.CPU_USED] = f64[L.CPU_USED]! + (now() - f64[L.CPU_SINCE]!);
    f64[L.CPU_SINCE] = 0;
    Atomics.store(i32, L.REQ_SEQ, seq);
    Atomics.notify(i32, L.REQ_SEQ);
    for (;;) {
      const resp = Atomics.load(i32, L.RESP_SEQ);
      if (resp === seq) break;
      Atomics.wait(i32, L.RESP_SEQ, resp);
    }
    f64[L.CPU_SINCE] = now();
    const errno = i32[L.ERRNO]!;
    if (errno === boot.errnoSigpipe) throw guestExit(141, 13);
    return errno;
  }

  /** Like `call`, for the library's fs methods: failures become errors it maps to errnos. */
  function fsCall(op: number): void {
    const errno = call(op);
    if (errno !== 0) throw new lib.WASIError(errno);
  }

  function putStrings(...parts: string[]): void {
    let off = 0;
    for (let i = 0; i < parts.length; i++) {
      if (i > 0) data[off++] = 0;
      const { written } = encoder.encodeInto(parts[i]!, data.subarray(off));
      off += written;
    }
    i32[L.REQ_LEN] = off;
  }

  function answerText(): string {
    return decoder.decode(data.slice(0, i32[L.RESP_LEN]!));
  }

  function mem(): DataView {
    return new DataView(memory!.buffer);
  }

  function guestString(ptr: number, len: number): string {
    return decoder.decode(new Uint8Array(memory!.buffer, ptr, len));
  }

  function msToNs(ms: number): bigint {
    const whole = Math.trunc(ms);
    return BigInt(whole) * 1000000n + BigInt(Math.round((ms - whole) * 1e6));
  }

  /** Writes the filestat the server left in f0..f7 (dev ino type nlink size atime mtime ctime). */
  function writeFilestat(ptr: number): void {
    const v = mem();
    v.setBigUint64(ptr, BigInt(f64[F]!), true);
    v.setBigUint64(ptr + 8, BigInt(f64[F + 1]!), true);
    v.setUint8(ptr + 16, f64[F + 2]!);
    v.setBigUint64(ptr + 24, BigInt(f64[F + 3]!), true);
    v.setBigUint64(ptr + 32, BigInt(f64[F + 4]!), true);
    v.setBigUint64(ptr + 40, msToNs(f64[F + 5]!), true);
    v.setBigUint64(ptr + 48, msToNs(f64[F + 6]!), true);
    v.setBigUint64(ptr + 56, msToNs(f64[F + 7]!), true);
  }

  /** A Node-like Stats object from the answer, for the library's own fstat users. */
  function statsFromAnswer(): Record<string, unknown> {
    const type = f64[F + 2]!;
    const atimeMs = f64[F + 5]!;
    const mtimeMs = f64[F + 6]!;
    return {
      dev: f64[F]!,
      ino: f64[F + 1]!,
      nlink: f64[F + 3]!,
      size: f64[F + 4]!,
      atimeMs,
      mtimeMs,
      ctimeMs: f64[F + 7]!,
      atime: new Date(atimeMs),
      mtime: new Date(mtimeMs),
      isBlockDevice: () => type === 1,
      isCharacterDevice: () => type === FILETYPE.CHARDEV,
      isDirectory: () => type === FILETYPE.DIRECTORY,
      isFIFO: () => false,
      isFile: () => type === FILETYPE.REGULAR,
      isSocket: () => type === 5 || type === 6,
      isSymbolicLink: () => type === 7,
    };
  }

  const toMs = (d: Date | number): number => (typeof d === "number" ? d * 1000 : d.getTime());

  // The synchronous Node-fs-like object the library calls for what it still does itself.
  const fs = {
    constants: { O_RDONLY: 0 },
    closeSync(fd: number): void {
      i32[A] = fd;
      fsCall(OP.CLOSE);
    },
    fstatSync(fd: number): Record<string, unknown> {
      i32[A] = fd;
      fsCall(OP.FSTAT);
      return statsFromAnswer();
    },
    ftruncateSync(fd: number, size: number): void {
      i32[A] = fd;
      f64[F] = size;
      fsCall(OP.FTRUNCATE);
    },
    futimesSync(fd: number, atime: Date | number, mtime: Date | number): void {
      i32[A] = fd;
      f64[F] = toMs(atime);
      f64[F + 1] = toMs(mtime);
      fsCall(OP.FUTIMES);
    },
    utimesSync(path: string, atime: Date | number, mtime: Date | number): void {
      putStrings(path);
      f64[F] = toMs(atime);
      f64[F + 1] = toMs(mtime);
      fsCall(OP.UTIMES);
    },
    fdatasyncSync(): void {},
    fsyncSync(): void {},
    mkdirSync(path: string): void {
      putStrings(path);
      fsCall(OP.MKDIR);
    },
    rmdirSync(path: string): void {
      putStrings(path);
      fsCall(OP.RMDIR);
    },
    unlinkSync(path: string): void {
      putStrings(path);
      fsCall(OP.UNLINK);
    },
    renameSync(from: string, to: string): void {
      putStrings(from, to);
      fsCall(OP.RENAME);
    },
    linkSync(existing: string, newPath: string): void {
      putStrings(existing, newPath);
      fsCall(OP.LINK);
    },
    symlinkSync(target: string, path: string): void {
      putStrings(target, path);
      fsCall(OP.SYMLINK);
    },
    readlinkSync(path: string): string {
      putStrings(path);
      fsCall(OP.READLINK);
      return answerText();
    },
  };

  const bindings = {
    hrtime: (): bigint => process.hrtime.bigint(),
    exit: (code: number): never => {
      throw new lib.WASIExitError(code);
    },
    kill: (signal: string): never => {
      const signo = SIGNALS[signal] ?? 6;
      throw guestExit(128 + signo, signo);
    },
    randomFillSync: <T>(buf: T, offset: number, size: number): T =>
      randomFillSync(buf as unknown as Uint8Array, offset, size) as unknown as T,
    isTTY: (): boolean => false,
    fs,
    path: posix,
  };

  function entryOf(fd: number): FdEntry | undefined {
    return wasi!.FD_MAP.get(fd);
  }

  /** Reads up to the iovecs' total (capped to the shared buffer) in one call. */
  function readInto(fd: number, iovs: number, iovsLen: number, position: number, nreadPtr: number): number {
    const entry = entryOf(fd);
    if (entry === undefined) return E.BADF;
    let v = mem();
    let total = 0;
    for (let i = 0; i < iovsLen; i++) total += v.getUint32(iovs + i * 8 + 4, true);
    i32[A] = entry.real;
    i32[A + 1] = Math.min(total, boot.dataBytes);
    f64[F] = position;
    const errno = call(OP.READ);
    if (errno !== 0) return errno;
    const n = i32[L.RESP_LEN]!;
    v = mem();
    const heap = new Uint8Array(memory!.buffer);
    let done = 0;
    for (let i = 0; i < iovsLen && done < n; i++) {
      const ptr = v.getUint32(iovs + i * 8, true);
      const len = Math.min(v.getUint32(iovs + i * 8 + 4, true), n - done);
      heap.set(data.subarray(done, done + len), ptr);
      done += len;
    }
    v.setUint32(nreadPtr, n, true);
    return 0;
  }

  /** Writes the iovecs (as much as fits in the shared buffer) in one call; short writes are legal. */
  function writeFrom(
    fd: number,
    iovs: number,
    iovsLen: number,
    position: number,
    nwrittenPtr: number,
  ): number {
    const entry = entryOf(fd);
    if (entry === undefined) return E.BADF;
    const v = mem();
    const heap = new Uint8Array(memory!.buffer);
    let off = 0;
    for (let i = 0; i < iovsLen && off < boot.dataBytes; i++) {
      const ptr = v.getUint32(iovs + i * 8, true);
      const len = Math.min(v.getUint32(iovs + i * 8 + 4, true), boot.dataBytes - off);
      data.set(heap.subarray(ptr, ptr + len), off);
      off += len;
    }
    i32[A] = entry.real;
    i32[L.REQ_LEN] = off;
    f64[F] = position;
    const errno = call(OP.WRITE);
    if (errno !== 0) return errno;
    mem().setUint32(nwrittenPtr, i32[A]!, true);
    return 0;
  }

  function seek(fd: number, offset: number, whence: number, resultPtr: number): number {
    const entry = entryOf(fd);
    if (entry === undefined) return E.BADF;
    i32[A] = entry.real;
    i32[A + 1] = whence;
    f64[F] = offset;
    const errno = call(OP.SEEK);
    if (errno !== 0) return errno;
    mem().setBigUint64(resultPtr, BigInt(f64[F]!), true);
    return 0;
  }

  /** The absolute path a dir fd and a guest path name. */
  function fullPath(entry: FdEntry, p: string): string {
    if (p.startsWith("/")) return p;
    const base = entry.path!;
    return base.endsWith("/") ? base + p : `${base}/${p}`;
  }

  function pathOpen(
    dirfd: number,
    dirflags: number,
    pathPtr: number,
    pathLen: number,
    oflags: number,
    rightsBase: bigint,
    rightsInheriting: bigint,
    fdflags: number,
    fdPtr: number,
  ): number {
    const dir = entryOf(dirfd);
    if (dir === undefined) return E.BADF;
    if (dir.path === undefined) return E.NOTDIR;
    putStrings(fullPath(dir, guestString(pathPtr, pathLen)));
    i32[A] = dirflags & 1;
    i32[A + 1] = oflags;
    i32[A + 2] = fdflags;
    i32[A + 3] = (BigInt(rightsBase) & RIGHT_READ) !== 0n ? 1 : 0;
    i32[A + 4] = (BigInt(rightsBase) & RIGHT_WRITE) !== 0n ? 1 : 0;
    const errno = call(OP.OPEN);
    if (errno !== 0) return errno;
    const fd = i32[A]!;
    const filetype = i32[A + 1]!;
    const entry: FdEntry = {
      real: fd,
      filetype,
      rights: { base: BigInt(rightsBase), inheriting: BigInt(rightsInheriting) },
    };
    if (filetype === FILETYPE.DIRECTORY) entry.path = answerText();
    wasi!.FD_MAP.set(fd, entry);
    mem().setUint32(fdPtr, fd, true);
    return 0;
  }

  /** Fetches the page of entries that starts at index `from`; returns an errno. */
  function fetchDirents(entry: FdEntry, from: number): number {
    i32[A] = entry.real;
    i32[A + 1] = from;
    const errno = call(OP.READDIR);
    if (errno !== 0) return errno;
    const items = JSON.parse(answerText()) as [string, number, number][];
    entry.dirents = { start: from, items, end: i32[A] === 1 };
    return 0;
  }

  function fdReaddir(fd: number, buf: number, bufLen: number, cookie: bigint, bufusedPtr: number): number {
    const entry = entryOf(fd);
    if (entry === undefined) return E.BADF;
    const heap = new Uint8Array(memory!.buffer);
    const scratch = new Uint8Array(24);
    const sv = new DataView(scratch.buffer);
    let used = 0;
    let i = Number(cookie);
    // Cookie 0 is a fresh listing (rewinddir); later cookies continue the cached pages.
    if (i === 0) entry.dirents = undefined;
    while (used < bufLen) {
      let page = entry.dirents;
      if (page === undefined || i < page.start || (i >= page.start + page.items.length && !page.end)) {
        const errno = fetchDirents(entry, i);
        if (errno !== 0) return errno;
        page = entry.dirents!;
      }
      const item = page.items[i - page.start];
      if (item === undefined) break;
      const [name, type, ino] = item;
      const nameBytes = encoder.encode(name);
      sv.setBigUint64(0, BigInt(i + 1), true);
      sv.setBigUint64(8, BigInt(ino), true);
      sv.setUint32(16, nameBytes.length, true);
      sv.setUint8(20, type);
      // A record that does not fit is cut off: the libc sees a full buffer and asks again.
      const head = Math.min(24, bufLen - used);
      heap.set(scratch.subarray(0, head), buf + used);
      used += head;
      const tail = Math.min(nameBytes.length, bufLen - used);
      heap.set(nameBytes.subarray(0, tail), buf + used);
      used += tail;
      i++;
    }
    mem().setUint32(bufusedPtr, used, true);
    return 0;
  }

  /** Clock subscriptions really sleep (in Atomics.wait); fd subscriptions are reported ready. */
  function pollOneoff(sin: number, sout: number, nsubs: number, neventsPtr: number): number {
    const v = mem();
    let earliest = Infinity;
    let fdReady = false;
    const clocks: { userdata: bigint; deadline: number }[] = [];
    for (let i = 0; i < nsubs; i++) {
      const s = sin + i * 48;
      const tag = v.getUint8(s + 8);
      if (tag === 0) {
        const clockId = v.getUint32(s + 16, true);
        const timeout = v.getBigUint64(s + 24, true);
        const absolute = (v.getUint16(s + 40, true) & 1) !== 0;
        let waitMs = Number(timeout) / 1e6;
        if (absolute) {
          const nowNs = clockId === 0 ? msToNs(Date.now()) : process.hrtime.bigint();
          waitMs = Number(timeout - nowNs) / 1e6;
        }
        clocks.push({ userdata: v.getBigUint64(s, true), deadline: waitMs });
        earliest = Math.min(earliest, waitMs);
      } else if (tag === 1 || tag === 2) {
        fdReady = true;
      } else {
        return E.INVAL;
      }
    }
    if (!fdReady && earliest > 0 && earliest !== Infinity) {
      // The kernel does the waiting: a sleeping program must not hold one of the workspace's CPUs.
      f64[F] = earliest;
      const errno = call(OP.SLEEP);
      if (errno !== 0) return errno;
    }
    const out = mem();
    let n = 0;
    const event = (userdata: bigint, type: number): void => {
      const e = sout + n * 32;
      for (let b = 0; b < 32; b++) out.setUint8(e + b, 0);
      out.setBigUint64(e, userdata, true);
      out.setUint8(e + 10, type);
      n++;
    };
    for (let i = 0; i < nsubs; i++) {
      const s = sin + i * 48;
      const tag = v.getUint8(s + 8);
      if (tag !== 0) {
        event(v.getBigUint64(s, true), tag);
        out.setBigUint64(sout + (n - 1) * 32 + 16, 1n, true);
      }
    }
    if (!fdReady) for (const c of clocks) if (c.deadline <= earliest) event(c.userdata, 0);
    out.setUint32(neventsPtr, n, true);
    return 0;
  }

  /** argv, env, cwd of a spawn request into the payload; false when they do not fit. */
  function putSpawnArgs(a: number, al: number, e: number, el: number, c: number, cl: number): boolean {
    if (al + el + cl > boot.dataBytes) return false;
    const heap = new Uint8Array(memory!.buffer);
    data.set(heap.subarray(a, a + al), 0);
    data.set(heap.subarray(e, e + el), al);
    data.set(heap.subarray(c, c + cl), al + el);
    i32[L.REQ_LEN] = al + el + cl;
    i32[A + 3] = al;
    i32[A + 4] = el;
    i32[A + 5] = cl;
    return true;
  }

  function stdioEntry(filetype: number, tty: boolean): FdEntry {
    const base = tty || filetype === FILETYPE.UNKNOWN ? RIGHTS_ALL & ~SEEK_TELL : RIGHTS_ALL;
    return { real: 0, filetype: tty ? FILETYPE.CHARDEV : filetype, rights: { base, inheriting: 0n } };
  }

  /** Records a socket fd the server just installed and writes its number to the guest. */
  function socketFd(w: WasiInstance, fdPtr: number): number {
    const fd = i32[A]!;
    w.FD_MAP.set(fd, { ...stdioEntry(FILETYPE.SOCKET_STREAM, false), real: fd });
    mem().setUint32(fdPtr, fd, true);
    return 0;
  }

  function socketEntry(fd: number): FdEntry | number {
    const entry = entryOf(fd);
    if (entry === undefined) return E.BADF;
    return entry.filetype === FILETYPE.SOCKET_STREAM ? entry : E.NOTSOCK;
  }

  function buildImports(w: WasiInstance): WasmImports {
    const wi = w.wasiImport;
    Object.assign(wi, {
      fd_read: (fd: number, iovs: number, n: number, nread: number) => readInto(fd, iovs, n, -1, nread),
      fd_pread: (fd: number, iovs: number, n: number, off: bigint, nread: number) =>
        readInto(fd, iovs, n, Number(off), nread),
      fd_write: (fd: number, iovs: number, n: number, nw: number) => writeFrom(fd, iovs, n, -1, nw),
      fd_pwrite: (fd: number, iovs: number, n: number, off: bigint, nw: number) =>
        writeFrom(fd, iovs, n, Number(off), nw),
      fd_seek: (fd: number, off: bigint, whence: number, ptr: number) => seek(fd, Number(off), whence, ptr),
      fd_tell: (fd: number, ptr: number) => seek(fd, 0, 1, ptr),
      fd_readdir: fdReaddir,
      fd_filestat_get: (fd: number, ptr: number) => {
        const entry = entryOf(fd);
        if (entry === undefined) return E.BADF;
        i32[A] = entry.real;
        const errno = call(OP.FSTAT);
        if (errno === 0) writeFilestat(ptr);
        return errno;
      },
      path_filestat_get: (fd: number, flags: number, p: number, pl: number, ptr: number) => {
        const dir = entryOf(fd);
        if (dir === undefined) return E.BADF;
        if (dir.path === undefined) return E.NOTDIR;
        putStrings(fullPath(dir, guestString(p, pl)));
        i32[A] = flags & 1;
        const errno = call(OP.STAT);
        if (errno === 0) writeFilestat(ptr);
        return errno;
      },
      path_open: pathOpen,
      fd_renumber: (from: number, to: number) => {
        // `to` need not be open (dup2 onto a free number is how the compat layer uses it).
        const entry = entryOf(from);
        if (entry === undefined) return E.BADF;
        i32[A] = from;
        i32[A + 1] = to;
        const errno = call(OP.RENUMBER);
        if (errno !== 0) return errno;
        w.FD_MAP.delete(from);
        w.FD_MAP.set(to, { ...entry, real: to, dirents: undefined });
        return 0;
      },
      poll_oneoff: pollOneoff,
      // Sockets: fds of the kernel's socket table; reads block like a pipe's (see README.md).
      sock_accept: (fd: number, flags: number, fdPtr: number) => {
        const entry = socketEntry(fd);
        if (typeof entry === "number") return entry;
        i32[A] = entry.real;
        i32[A + 1] = flags;
        const errno = call(OP.SOCK_ACCEPT);
        return errno !== 0 ? errno : socketFd(w, fdPtr);
      },
      sock_recv: (
        fd: number,
        iovs: number,
        n: number,
        riFlags: number,
        nreadPtr: number,
        roFlagsPtr: number,
      ) => {
        const entry = socketEntry(fd);
        if (typeof entry === "number") return entry;
        if ((riFlags & RECV_PEEK) !== 0) return E.NOTSUP;
        const errno = readInto(fd, iovs, n, -1, nreadPtr);
        if (errno === 0) mem().setUint16(roFlagsPtr, 0, true);
        return errno;
      },
      sock_send: (fd: number, iovs: number, n: number, _siFlags: number, nwrittenPtr: number) => {
        const entry = socketEntry(fd);
        if (typeof entry === "number") return entry;
        return writeFrom(fd, iovs, n, -1, nwrittenPtr);
      },
      sock_shutdown: (fd: number, how: number) => {
        const entry = socketEntry(fd);
        if (typeof entry === "number") return entry;
        i32[A] = entry.real;
        i32[A + 1] = how;
        return call(OP.SOCK_SHUTDOWN);
      },
    });
    const enclave = {
      proc_spawn: (a: number, al: number, e: number, el: number, c: number, cl: number, exitPtr: number) => {
        if (!putSpawnArgs(a, al, e, el, c, cl)) return E.TOOBIG;
        i32[A] = -1;
        i32[A + 1] = -1;
        i32[A + 2] = 1;
        const errno = call(OP.SPAWN);
        if (errno === 0) mem().setInt32(exitPtr, i32[A]!, true);
        return errno;
      },
      proc_spawn_io: (
        a: number,
        al: number,
        e: number,
        el: number,
        c: number,
        cl: number,
        stdinFd: number,
        stdoutFd: number,
        pidPtr: number,
      ) => {
        if (!putSpawnArgs(a, al, e, el, c, cl)) return E.TOOBIG;
        i32[A] = stdinFd;
        i32[A + 1] = stdoutFd;
        i32[A + 2] = 0;
        const errno = call(OP.SPAWN);
        if (errno === 0) mem().setInt32(pidPtr, i32[A]!, true);
        return errno;
      },
      proc_wait: (pid: number, exitPtr: number) => {
        i32[A] = pid;
        const errno = call(OP.WAIT);
        if (errno === 0) mem().setInt32(exitPtr, i32[A]!, true);
        return errno;
      },
      sock_listen: (port: number, backlog: number, fdPtr: number) => {
        i32[A] = port;
        i32[A + 1] = backlog;
        const errno = call(OP.SOCK_LISTEN);
        return errno !== 0 ? errno : socketFd(w, fdPtr);
      },
      sock_connect: (hostPtr: number, hostLen: number, port: number, fdPtr: number) => {
        if (hostLen > 1024) return E.INVAL;
        putStrings(guestString(hostPtr, hostLen));
        i32[A] = port;
        const errno = call(OP.SOCK_CONNECT);
        return errno !== 0 ? errno : socketFd(w, fdPtr);
      },
      fd_pipe: (readPtr: number, writePtr: number) => {
        const errno = call(OP.PIPE);
        if (errno !== 0) return errno;
        const [r, wr] = [i32[A]!, i32[A + 1]!];
        w.FD_MAP.set(r, { ...stdioEntry(FILETYPE.UNKNOWN, false), real: r });
        w.FD_MAP.set(wr, { ...stdioEntry(FILETYPE.UNKNOWN, false), real: wr });
        const v = mem();
        v.setInt32(readPtr, r, true);
        v.setInt32(writePtr, wr, true);
        return 0;
      },
    };
    return { wasi_snapshot_preview1: wi, wasi_unstable: wi, enclave } as WasmImports;
  }

  function isGuestExit(e: unknown): e is GuestExit {
    return typeof e === "object" && e !== null && (e as { enclaveExit?: unknown }).enclaveExit === true;
  }

  function runJob(job: JobMessage): void {
    let code = 0;
    let signo = 0;
    let message = "";
    let started = false;
    maxMemoryBytes = job.maxMemoryBytes;
    f64[L.CPU_USED] = 0;
    f64[L.CPU_SINCE] = now();
    try {
      const w = new lib.WASI({ args: job.argv, env: job.env, preopens: {}, bindings });
      wasi = w;
      w.FD_MAP.clear();
      for (let fd = 0; fd < 3; fd++) {
        const type = job.stdio[fd]!;
        if (type >= 0) w.FD_MAP.set(fd, { ...stdioEntry(type, job.tty[fd]!), real: fd });
      }
      w.FD_MAP.set(job.rootFd, {
        real: job.rootFd,
        filetype: FILETYPE.DIRECTORY,
        rights: { base: RIGHTS_ALL, inheriting: RIGHTS_ALL },
        path: "/",
        fakePath: "/",
      });
      const instance = new WA.Instance(job.module, buildImports(w));
      const exported = instance.exports.memory;
      if (!(exported instanceof WA.Memory)) throw new Error("the module exports no memory");
      memory = exported;
      if (maxMemoryBytes > 0 && memory.buffer.byteLength > maxMemoryBytes) {
        throw guestExit(137, 9, "wasm: memory limit exceeded");
      }
      started = true;
      w.start(instance);
    } catch (e) {
      if (e instanceof lib.WASIExitError) {
        code = (e.code ?? 0) & 0xff;
      } else if (isGuestExit(e)) {
        code = e.code;
        signo = e.signo;
        message = e.message;
      } else if (!started) {
        code = 126;
        message = `wasm: cannot execute: ${e instanceof Error ? e.message : String(e)}`;
      } else if (e instanceof WA.RuntimeError) {
        code = 134;
        message = `wasm trap: ${e.message}`;
      } else if (e instanceof RangeError) {
        code = 134;
        message = `wasm trap: ${e.message}`;
      } else {
        code = 134;
        message = `wasm runtime error: ${e instanceof Error ? e.message : String(e)}`;
      }
    }
    wasi = undefined;
    memory = undefined;
    maxMemoryBytes = 0;
    i32[A] = code;
    i32[A + 1] = signo;
    putStrings(message);
    call(OP.EXIT);
  }

  parentPort!.on("message", runJob);
  // Tells the pool the library is loaded: from here a job starts without delay.
  parentPort!.postMessage("ready");
}
