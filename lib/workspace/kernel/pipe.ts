import { KernelError } from "./errno.js";
import type { DirEntry, FileHandle, Stat } from "./types.js";

/** Bytes a pipe buffers before writers block (Linux's default pipe size). */
export const PIPE_CAPACITY = 64 * 1024;

let nextPipeIno = 1;

interface PendingRead {
  buf: Uint8Array;
  resolve: (n: number) => void;
}

interface PendingWrite {
  data: Uint8Array;
  resolve: (n: number) => void;
  reject: (err: unknown) => void;
}

/**
 * The shared state of one pipe. Buffered bytes are kept as the copied chunks writers handed in
 * (no fixed 64 KiB ring per pipe), so an idle or lightly used pipe costs almost nothing.
 */
class PipeState {
  readonly ino = nextPipeIno++;
  readonly createdMs = Date.now();
  private chunks: Uint8Array[] = [];
  private headOffset = 0;
  buffered = 0;
  readOpen = true;
  writeOpen = true;
  private readers: PendingRead[] = [];
  private writers: PendingWrite[] = [];

  read(buf: Uint8Array): number | Promise<number> {
    if (this.buffered > 0) {
      const n = this.take(buf);
      this.serveWriters();
      return n;
    }
    if (!this.writeOpen || buf.length === 0) return 0;
    return new Promise((resolve) => this.readers.push({ buf, resolve }));
  }

  write(data: Uint8Array): number | Promise<number> {
    if (!this.readOpen) throw new KernelError("EPIPE", "write");
    if (data.length === 0) return 0;
    if (this.writers.length === 0 && this.buffered < PIPE_CAPACITY) {
      const n = this.put(data);
      this.serveReaders();
      return n;
    }
    // Blocked: keep a copy of what could be accepted in one go, so the caller may reuse its buffer.
    const copy = data.slice(0, PIPE_CAPACITY);
    return new Promise((resolve, reject) => this.writers.push({ data: copy, resolve, reject }));
  }

  closeRead(): void {
    this.readOpen = false;
    this.chunks = [];
    this.buffered = 0;
    this.headOffset = 0;
    for (const r of this.readers.splice(0)) r.resolve(0);
    for (const w of this.writers.splice(0)) w.reject(new KernelError("EPIPE", "write"));
  }

  closeWrite(): void {
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

  read(buf: Uint8Array): number | Promise<number> {
    if (!this.readable || this.refs <= 0) throw new KernelError("EBADF", "read");
    return this.state.read(buf);
  }

  write(data: Uint8Array): number | Promise<number> {
    if (this.readable || this.refs <= 0) throw new KernelError("EBADF", "write");
    return this.state.write(data);
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
    return this.readable && (this.state.buffered > 0 || !this.state.writeOpen);
  }

  /** True when a write would not block (buffer space, or EPIPE to report). */
  writeReady(): boolean {
    return !this.readable && (this.state.buffered < PIPE_CAPACITY || !this.state.readOpen);
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
