/**
 * Small helpers over kernel FileHandles, whose calls answer synchronously or with a Promise when
 * they would block (pipes, terminals).
 */
import type { Errno, FileHandle } from "../kernel/types.js";

const encoder = new TextEncoder();

export function toBytes(data: string | Uint8Array): Uint8Array {
  return typeof data === "string" ? encoder.encode(data) : data;
}

/** Writes all of `data` (handles may take part of it per call). */
export async function writeAll(handle: FileHandle, data: string | Uint8Array): Promise<void> {
  let bytes = toBytes(data);
  while (bytes.length > 0) {
    const r = handle.write(bytes);
    const n = typeof r === "number" ? r : await r;
    if (n <= 0) return;
    bytes = bytes.subarray(n);
  }
}

/**
 * Output the shell keeps in its own memory (a `$( )` value, a script read from stdin) is bounded:
 * it lives in the engine's heap, which no Wasm memory cap covers.
 */
export const MAX_CAPTURE_BYTES = 16 * 1024 * 1024;

/**
 * Reads to end of file, calling `onChunk` with each chunk as it arrives. Past `maxBytes` it
 * stops with EFBIG (the caller closes the handle, so the writer gets EPIPE instead of blocking).
 */
export async function readAll(
  handle: FileHandle,
  onChunk?: (chunk: Uint8Array) => void,
  maxBytes = Infinity,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const buf = new Uint8Array(65536);
  for (;;) {
    const r = handle.read(buf);
    const n = typeof r === "number" ? r : await r;
    if (n <= 0) break;
    if (total + n > maxBytes) throw new ErrnoError("EFBIG", `output over ${maxBytes} bytes`);
    // A copy of what was read: small reads must not each pin a whole 64 KiB buffer.
    const chunk = buf.slice(0, n);
    chunks.push(chunk);
    total += n;
    onChunk?.(chunk);
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

/** The errno of a kernel error (anything with a string `code`), or undefined. */
export function errnoOf(e: unknown): string | undefined {
  if (typeof e === "object" && e !== null && "code" in e) {
    const code = (e as { code: unknown }).code;
    if (typeof code === "string") return code;
  }
  return undefined;
}

const MESSAGES: Partial<Record<Errno, string>> = {
  ENOENT: "No such file or directory",
  EEXIST: "File exists",
  ENOTDIR: "Not a directory",
  EISDIR: "Is a directory",
  EACCES: "Permission denied",
  EPERM: "Operation not permitted",
  ENOTEMPTY: "Directory not empty",
  EINVAL: "Invalid argument",
  ELOOP: "Too many levels of symbolic links",
  EBADF: "Bad file descriptor",
  ENOSPC: "No space left on device",
  EROFS: "Read-only file system",
  ENAMETOOLONG: "File name too long",
  EPIPE: "Broken pipe",
  ENOEXEC: "Exec format error",
  EMFILE: "Too many open files",
  EFBIG: "File too large",
  EAGAIN: "Resource temporarily unavailable",
};

/** A strerror-style message for an error from the kernel. */
export function errorMessage(e: unknown): string {
  const code = errnoOf(e);
  if (code !== undefined) return MESSAGES[code as Errno] ?? code;
  return e instanceof Error ? e.message : String(e);
}

/** An error carrying an errno, for handles this module implements (the terminal). */
export class ErrnoError extends Error {
  constructor(
    readonly code: Errno,
    message?: string,
  ) {
    super(message ?? `${code}: ${MESSAGES[code] ?? code}`);
  }
}

/**
 * Reads text line by line from a handle (the shell's input when it is a pipe or a terminal).
 * Reads ahead in chunks, so it is for input the shell owns.
 */
export class LineReader {
  private buffered = "";
  private eof = false;
  private readonly decoder = new TextDecoder();

  constructor(private readonly handle: FileHandle) {}

  /** The next line with its "\n", the unterminated tail at end of input, or undefined at EOF. */
  async readLine(): Promise<string | undefined> {
    for (;;) {
      const nl = this.buffered.indexOf("\n");
      if (nl >= 0) {
        const line = this.buffered.slice(0, nl + 1);
        this.buffered = this.buffered.slice(nl + 1);
        return line;
      }
      if (this.eof) {
        // A terminal's EOF (Ctrl-D) is not sticky: later reads may bring more lines.
        this.eof = false;
        if (this.buffered === "") return undefined;
        const rest = this.buffered;
        this.buffered = "";
        return rest;
      }
      const buf = new Uint8Array(4096);
      const r = this.handle.read(buf);
      const n = typeof r === "number" ? r : await r;
      if (n <= 0) {
        this.buffered += this.decoder.decode();
        this.eof = true;
      } else {
        this.buffered += this.decoder.decode(buf.subarray(0, n), { stream: true });
      }
    }
  }

  /** Drops read-ahead input (after Ctrl-C). */
  discard(): void {
    this.buffered = "";
  }
}
