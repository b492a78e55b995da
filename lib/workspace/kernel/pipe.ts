import { KernelError } from "./errno.js";
import type { DirEntry, FileHandle, Stat } from "./types.js";

/** Bytes a pipe buffers before writers block (Linux's default pipe size). */
export const PIPE_CAPACITY = 64 * 1024;

let nextPipeIno = 1;

interface Pending {
  resolve: (n: number) => void;
  reject: (err: unknown) => void;
  /** Detaches the abort listener once the call is settled. */
  done?: () => void;
}

interface PendingRead extends Pending {
  buf: Uint8Array;
}

interface PendingWrite extends Pending {
  data: Uint8Array;
}

/**
 * Queues a blocked call. When `signal` aborts first (its process was killed), the call leaves
 * the queue unserved and rejects with EINTR: a dead reader must not swallow bytes meant for the
 * next one, and a dead writer's unwritten bytes are dropped, as a killed write(2) drops them.
 */
function enqueue<T extends Pending>(
  queue: T[],
  entry: Omit<T, keyof Pending>,
  signal: AbortSignal | undefined,
): Promise<number> {
  if (signal?.aborted) return Promise.reject(new KernelError("EINTR", "read"));
  return new Promise((resolve, reject) => {
    const item = { ...entry, resolve, reject } as T;
    if (signal !== undefined) {
      const onAbort = (): void => {
        const at = queue.indexOf(item);
        if (at !== -1) queue.splice(at, 1);
        reject(new KernelError("EINTR", "read"));
      };
      signal.addEventListener("abort", onAbort, { once: true });
      const settle =
        <A>(fn: (a: A) => void) =>
        (a: A) => {
          signal.removeEventListener("abort", onAbort);
          fn(a);
        };
      item.resolve = settle(resolve);
      item.reject = settle(reject);
    }
    queue.push(item);
  });
}

/**
 * The shared state of one pipe (and of each direction of a socket). Buffered bytes are kept as
 * the copied chunks writers handed in (no fixed 64 KiB ring per pipe), so an idle or lightly
 * used pipe costs almost nothing.
 */
export class PipeState {
  readonly ino = nextPipeIno++;
  readonly createdMs = Date.now();
  private chunks: Uint8Array[] = [];
  private headOffset = 0;
  buffered = 0;
  readOpen = true;
  writeOpen = true;
  private readers: PendingRead[] = [];
  private writers: PendingWrite[] = [];

  read(buf: Uint8Array, signal?: AbortSignal): number | Promise<number> {
    if (this.buffered > 0) {
      const n = this.take(buf);
      this.serveWriters();
      return n;
    }
    if (!this.writeOpen || !this.readOpen || buf.length === 0) return 0;
    return enqueue<PendingRead>(this.readers, { buf }, signal);
  }

  write(data: Uint8Array, signal?: AbortSignal): number | Promise<number> {
    if (!this.readOpen) throw new KernelError("EPIPE", "write");
    if (!this.writeOpen) throw new KernelError("EPIPE", "write");
    if (data.length === 0) return 0;
    if (this.writers.length === 0 && this.buffered < PIPE_CAPACITY) {
      const n = this.put(data);
      this.serveReaders();
      return n;
    }
    // Blocked: keep a copy of what could be accepted in one go, so the caller may reuse its buffer.
    return enqueue<PendingWrite>(this.writers, { data: data.slice(0, PIPE_CAPACITY) }, signal);
  }

  /** True when a read would not block (data or end of file). */
  readReady(): boolean {
    return this.buffered > 0 || !this.writeOpen || !this.readOpen;
  }

  /** True when a write would not block (buffer space, or EPIPE to report). */
  writeReady(): boolean {
    return this.buffered < PIPE_CAPACITY || !this.readOpen || !this.writeOpen;
  }

  closeRead(): void {
    if (!this.readOpen) return;
    this.readOpen = false;
    this.chunks = [];
    this.buffered = 0;
    this.headOffset = 0;
    for (const r of this.readers.splice(0)) r.resolve(0);
    for (const w of this.writers.splice(0)) w.reject(new KernelError("EPIPE", "write"));
  }

  closeWrite(): void {
    if (!this.writeOpen) return;
    this.writeOpen = false;
    for (const w of this.writers.splice(0)) w.resolve(0);
    // Readers only wait on an empty pipe: with no writer left they see end of file.
    for (const r of this.readers.splice(0)) r.resolve(0);
  }

  private put(data: Uint8Array): number {
    const n = Math.min(data.length, PIPE_CAPACITY - this.buffered);
    this.chunks.push(data.slice(0, n));
    this.buffered += n;
    return n;
  }

  private take(buf: Uint8Array): number {
    let n = 0;
    while (n < buf.length && this.chunks.length > 0) {
      const head = this.chunks[0]!;
      const count = Math.min(buf.length - n, head.length - this.headOffset);
      buf.set(head.subarray(this.headOffset, this.headOffset + count), n);
      n += count;
      this.headOffset += count;
      if (this.headOffset === head.length) {
        this.chunks.shift();
        this.headOffset = 0;
      }
    }
    this.buffered -= n;
    return n;
  }

  private serveReaders(): void {
    while (this.readers.length > 0 && this.buffered > 0) {
      const r = this.readers.shift()!;
      r.resolve(this.take(r.buf));
    }
  }

  private serveWriters(): void {
    while (this.writers.length > 0 && this.buffered < PIPE_CAPACITY) {
      const w = this.writers.shift()!;
      w.resolve(this.put(w.data));
    }
    this.serveReaders();
  }
}

/** One end of a pipe. */
class PipeEnd implements FileHandle {
  readonly kind = "pipe";
  private refs = 1;

  constructor(
    private readonly state: PipeState,
    readonly readable: boolean,
  ) {}

  get writable(): boolean {
    return !this.readable;
  }

  read(buf: Uint8Array, _position?: number, signal?: AbortSignal): number | Promise<number> {
    if (!this.readable || this.refs <= 0) throw new KernelError("EBADF", "read");
    return this.state.read(buf, signal);
  }

  write(data: Uint8Array, _position?: number, signal?: AbortSignal): number | Promise<number> {
    if (this.readable || this.refs <= 0) throw new KernelError("EBADF", "write");
    return this.state.write(data, signal);
  }

  seek(): number {
    throw new KernelError("ESPIPE", "lseek");
  }

  stat(): Stat {
    const t = this.state.createdMs;
    return {
      dev: 0,
      ino: this.state.ino,
      type: "fifo",
      mode: this.readable ? 0o400 : 0o200,
      nlink: 1,
      uid: 1000,
      gid: 1000,
      size: this.state.buffered,
      atimeMs: t,
      mtimeMs: t,
      ctimeMs: t,
      birthtimeMs: t,
    };
  }

  truncate(): void {
    throw new KernelError("EINVAL", "ftruncate");
  }

  readdir(): DirEntry[] {
    throw new KernelError("ENOTDIR", "readdir");
  }

  readReady(): boolean {
    return this.readable && this.state.readReady();
  }

  /** True when a write would not block (buffer space, or EPIPE to report). */
  writeReady(): boolean {
    return !this.readable && this.state.writeReady();
  }

  ref(): this {
    if (this.refs <= 0) throw new KernelError("EBADF", "dup");
    this.refs++;
    return this;
  }

  close(): void {
    if (this.refs <= 0 || --this.refs > 0) return;
    if (this.readable) this.state.closeRead();
    else this.state.closeWrite();
  }
}

/** A new pipe: [read end, write end], each with one reference. */
export function createPipe(): [FileHandle, FileHandle] {
  const state = new PipeState();
  return [new PipeEnd(state, true), new PipeEnd(state, false)];
}
