/**
 * A kernel socket as a Node Duplex stream, so the host side can speak HTTP to guest servers with
 * Node's own HTTP machinery (llhttp) instead of a parser of ours.
 */
import { Duplex } from "node:stream";
import type { FileHandle } from "./kernel/types.js";

const CHUNK = 64 * 1024;

export class KernelSocketStream extends Duplex {
  readonly #socket: FileHandle;
  #reading = false;
  #closed = false;

  constructor(socket: FileHandle) {
    super({ allowHalfOpen: true });
    this.#socket = socket;
  }

  override _read(): void {
    if (this.#reading || this.#closed) return;
    this.#reading = true;
    void this.#pump();
  }

  async #pump(): Promise<void> {
    try {
      for (;;) {
        const buf = Buffer.allocUnsafe(CHUNK);
        const r = this.#socket.read(buf);
        const n = typeof r === "number" ? r : await r;
        if (n === 0) {
          this.push(null);
          return;
        }
        if (!this.push(buf.subarray(0, n))) return;
      }
    } catch (e) {
      if (!this.#closed) this.destroy(e as Error);
    } finally {
      this.#reading = false;
    }
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    void this.#writeAll(chunk).then(
      () => callback(),
      (e: unknown) => callback(e as Error),
    );
  }

  async #writeAll(chunk: Uint8Array): Promise<void> {
    let off = 0;
    while (off < chunk.length) {
      const r = this.#socket.write(chunk.subarray(off));
      off += typeof r === "number" ? r : await r;
    }
  }

  override _final(callback: (error?: Error | null) => void): void {
    // Half-close: the guest sees end-of-file on its read side when the socket supports it.
    const s = this.#socket as FileHandle & { shutdown?: (how: "write") => void };
    try {
      s.shutdown?.("write");
      callback();
    } catch (e) {
      callback(e as Error);
    }
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.#closed) {
      this.#closed = true;
      this.#socket.close();
    }
    callback(error);
  }

  // Node's HTTP client calls these on sockets; a kernel socket has nothing to tune.
  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
  setTimeout(): this {
    return this;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
}
