/**
 * A terminal device with a line discipline, as a kernel FileHandle: keystrokes come in through
 * `input()`, are echoed and edited (backspace, arrows, history, Ctrl-U/W/A/E/K), and complete
 * lines become readable (canonical mode). Ctrl-C discards the line, interrupts pending reads
 * (EINTR) and tells the innermost shell (which signals its foreground job); Ctrl-D on an
 * empty line is end of file. Output written to it goes to the listener with "\n" as "\r\n".
 */
import { KernelError } from "../kernel/errno.js";
import type { DirEntry, FileHandle, Stat } from "../kernel/types.js";

interface PendingRead {
  buf: Uint8Array;
  resolve: (n: number) => void;
  reject: (e: unknown) => void;
}

const encoder = new TextEncoder();
const HISTORY_MAX = 500;

export class Terminal implements FileHandle {
  readonly kind = "tty";
  readonly path = "/dev/tty";
  readonly readable = true;
  readonly writable = true;
  cols: number;
  rows: number;
  /** Completed input: lines (as bytes) and end-of-file marks, in typing order. */
  private readonly queue: (Uint8Array | "eof")[] = [];
  private readonly readers: PendingRead[] = [];
  /** The line being edited, one code point per entry. */
  private line: string[] = [];
  private cursor = 0;
  private readonly history: string[] = [];
  private historyIndex = 0;
  private draft = "";
  private escape = "";
  private refs = 1;
  private hungUp = false;
  /** A stack: only the innermost interactive shell (the last to register) handles Ctrl-C. */
  private readonly interruptListeners: (() => void)[] = [];
  private readonly inputDecoder = new TextDecoder();
  private readonly outputDecoder = new TextDecoder();
  private readonly birth = Date.now();

  constructor(
    private readonly output: (text: string) => void,
    size: { cols: number; rows: number } = { cols: 80, rows: 24 },
  ) {
    this.cols = size.cols;
    this.rows = size.rows;
  }

  // ---- the keyboard side --------------------------------------------------------------------

  /** Keyboard input (what the user typed), processed by the line discipline. */
  input(data: string | Uint8Array): void {
    if (this.hungUp) return;
    const text = typeof data === "string" ? data : this.inputDecoder.decode(data, { stream: true });
    for (const ch of text) this.key(ch);
  }

  /**
   * Registers the interrupt (Ctrl-C) handler of a shell reading this terminal; it replaces the
   * previous one until removed (a nested interactive shell handles Ctrl-C, not its parent).
   */
  onInterrupt(listener: () => void): () => void {
    const entry = (): void => listener();
    this.interruptListeners.push(entry);
    return () => {
      const i = this.interruptListeners.indexOf(entry);
      if (i >= 0) this.interruptListeners.splice(i, 1);
    };
  }

  /** Adds a command line to the history that up/down walk (the shell calls it). */
  addHistory(line: string): void {
    if (line !== "" && this.history[this.history.length - 1] !== line) {
      this.history.push(line);
      if (this.history.length > HISTORY_MAX) this.history.shift();
    }
    this.historyIndex = this.history.length;
  }

  resize(cols: number, rows: number): void {
    this.cols = cols;
    this.rows = rows;
  }

  /** The other side went away: reads see end of file, writes are dropped. */
  hangup(): void {
    this.hungUp = true;
    for (const r of this.readers.splice(0)) r.resolve(0);
  }

  private key(ch: string): void {
    if (this.escape !== "") {
      this.escape += ch;
      if (this.escape.length === 2) {
        if (ch !== "[" && ch !== "O") this.escape = "";
        return;
      }
      // SS3 sequences are one character long; CSI ones end with a byte in @..~.
      if (this.escape[1] === "O" || /[@-~]/.test(ch)) {
        const seq = this.escape;
        this.escape = "";
        this.escapeSequence(seq);
      }
      return;
    }
    switch (ch) {
      case "\x1b":
        this.escape = ch;
        return;
      case "\r":
      case "\n":
        this.echo("\r\n");
        this.submit(this.line.join("") + "\n");
        return;
      case "\x7f":
      case "\b":
        this.backspace();
        return;
      case "\x03":
        this.interrupt();
        return;
      case "\x04":
        if (this.line.length === 0) this.pushInput("eof");
        else this.submit(this.line.join(""));
        return;
      case "\x15":
        this.killToStart();
        return;
      case "\x17":
        this.deleteWord();
        return;
      case "\x0b":
        this.killToEnd();
        return;
      case "\x01":
        this.moveTo(0);
        return;
      case "\x05":
        this.moveTo(this.line.length);
        return;
    }
    if (ch < " ") return; // Other control characters (Tab included) are ignored.
    this.insert(ch);
  }

  private escapeSequence(seq: string): void {
    switch (seq.slice(1)) {
      case "[A":
      case "OA":
        return this.historyStep(-1);
      case "[B":
      case "OB":
        return this.historyStep(1);
      case "[C":
      case "OC":
        return this.moveTo(this.cursor + 1);
      case "[D":
      case "OD":
        return this.moveTo(this.cursor - 1);
      case "[H":
      case "OH":
      case "[1~":
      case "[7~":
        return this.moveTo(0);
      case "[F":
      case "OF":
      case "[4~":
      case "[8~":
        return this.moveTo(this.line.length);
      case "[3~":
        if (this.cursor < this.line.length) {
          this.cursor++;
          this.backspace();
        }
        return;
    }
  }

  private echo(text: string): void {
    if (text !== "") this.output(text);
  }

  private insert(ch: string): void {
    this.line.splice(this.cursor, 0, ch);
    this.cursor++;
    const tail = this.line.slice(this.cursor).join("");
    this.echo(ch + tail + back(this.line.length - this.cursor));
  }

  private backspace(): void {
    if (this.cursor === 0) return;
    this.line.splice(this.cursor - 1, 1);
    this.cursor--;
    const tail = this.line.slice(this.cursor).join("");
    this.echo("\b" + tail + " " + back(this.line.length - this.cursor + 1));
  }

  private moveTo(pos: number): void {
    const target = Math.max(0, Math.min(this.line.length, pos));
    if (target < this.cursor) this.echo(back(this.cursor - target));
    else if (target > this.cursor) this.echo(`\x1b[${target - this.cursor}C`);
    this.cursor = target;
  }

  /** Replaces the whole line being edited (history). */
  private replaceLine(text: string): void {
    this.echo(back(this.cursor) + text + "\x1b[K");
    this.line = [...text];
    this.cursor = this.line.length;
  }

  private killToStart(): void {
    const rest = this.line.slice(this.cursor).join("");
    this.echo(back(this.cursor) + rest + "\x1b[K" + back(this.line.length - this.cursor));
    this.line = this.line.slice(this.cursor);
    this.cursor = 0;
  }

  private killToEnd(): void {
    this.line = this.line.slice(0, this.cursor);
    this.echo("\x1b[K");
  }

  private deleteWord(): void {
    let start = this.cursor;
    while (start > 0 && this.line[start - 1] === " ") start--;
    while (start > 0 && this.line[start - 1] !== " ") start--;
    const rest = this.line.slice(this.cursor).join("");
    this.echo(back(this.cursor - start) + rest + "\x1b[K" + back(rest.length));
    this.line.splice(start, this.cursor - start);
    this.cursor = start;
  }

  private historyStep(delta: number): void {
    const next = this.historyIndex + delta;
    if (next < 0 || next > this.history.length) return;
    if (this.historyIndex === this.history.length) this.draft = this.line.join("");
    this.historyIndex = next;
    this.replaceLine(next === this.history.length ? this.draft : this.history[next]!);
  }

  private submit(text: string): void {
    this.line = [];
    this.cursor = 0;
    this.historyIndex = this.history.length;
    this.pushInput(encoder.encode(text));
  }

  private interrupt(): void {
    this.echo("^C\r\n");
    this.line = [];
    this.cursor = 0;
    this.historyIndex = this.history.length;
    this.queue.length = 0;
    for (const r of this.readers.splice(0)) r.reject(new KernelError("EINTR", "read"));
    this.interruptListeners[this.interruptListeners.length - 1]?.();
  }

  private pushInput(item: Uint8Array | "eof"): void {
    if (item !== "eof" && item.length === 0) return;
    this.queue.push(item);
    while (this.readers.length > 0 && this.queue.length > 0) {
      const r = this.readers.shift()!;
      r.resolve(this.take(r.buf));
    }
  }

  private take(buf: Uint8Array): number {
    const head = this.queue[0]!;
    if (head === "eof") {
      this.queue.shift();
      return 0;
    }
    const n = Math.min(buf.length, head.length);
    buf.set(head.subarray(0, n));
    if (n === head.length) this.queue.shift();
    else this.queue[0] = head.subarray(n);
    return n;
  }

  // ---- the FileHandle side (programs) -------------------------------------------------------

  read(buf: Uint8Array): number | Promise<number> {
    if (this.queue.length > 0) return this.take(buf);
    if (this.hungUp || buf.length === 0) return 0;
    return new Promise((resolve, reject) => this.readers.push({ buf, resolve, reject }));
  }

  write(data: Uint8Array): number {
    if (this.hungUp) return data.length;
    const text = this.outputDecoder.decode(data, { stream: true });
    if (text !== "") this.output(text.replace(/\n/g, "\r\n"));
    return data.length;
  }

  seek(): number {
    throw new KernelError("ESPIPE", "seek");
  }

  stat(): Stat {
    return {
      dev: 0,
      ino: 0,
      type: "chardev",
      mode: 0o620,
      nlink: 1,
      uid: 0,
      gid: 0,
      size: 0,
      atimeMs: this.birth,
      mtimeMs: this.birth,
      ctimeMs: this.birth,
      birthtimeMs: this.birth,
    };
  }

  truncate(): void {
    throw new KernelError("EINVAL", "truncate");
  }

  readdir(): DirEntry[] {
    throw new KernelError("ENOTDIR", "readdir");
  }

  readReady(): boolean {
    return this.queue.length > 0 || this.hungUp;
  }

  ref(): this {
    this.refs++;
    return this;
  }

  close(): void {
    // The device lives as long as its session; holders only count.
    if (this.refs > 0) this.refs--;
  }
}

function back(n: number): string {
  return n > 0 ? `\x1b[${n}D` : "";
}
