/**
 * An interactive terminal session: a `sh -i` process whose stdin, stdout and stderr are one
 * Terminal. Keystrokes go in through `write`; what the terminal shows comes out through `onData`.
 */
import type { KernelApi, ProcessHandle } from "../kernel/types.js";
import { Terminal } from "./terminal.js";

export interface ShellSessionOptions {
  cwd: string;
  env: Record<string, string>;
  cols?: number;
  rows?: number;
}

export class ShellSession {
  readonly terminal: Terminal;
  /** Settles with the shell's exit code. */
  readonly exited: Promise<number>;
  private readonly process: ProcessHandle;
  private readonly dataListeners = new Set<(data: string) => void>();
  private readonly exitListeners = new Set<(exitCode: number) => void>();
  /** Output produced before anyone listened (the first prompt), replayed to the first listener. */
  private backlog: string[] | undefined = [];
  private exitCode: number | undefined;

  constructor(kernel: KernelApi, options: ShellSessionOptions) {
    const cols = options.cols ?? 80;
    const rows = options.rows ?? 24;
    this.terminal = new Terminal((text) => this.emit(text), { cols, rows });
    const env = { ...options.env, COLUMNS: String(cols), LINES: String(rows) };
    const t = this.terminal;
    try {
      this.process = kernel.spawn({ argv: ["sh", "-i"], env, cwd: options.cwd, stdio: [t, t, t] });
    } finally {
      t.close();
    }
    this.exited = this.process.wait().then((status) => {
      this.exitCode = status.exitCode;
      this.terminal.hangup();
      for (const listener of [...this.exitListeners]) listener(status.exitCode);
      return status.exitCode;
    });
  }

  get pid(): number {
    return this.process.pid;
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  /** Keyboard input. */
  write(data: string | Uint8Array): void {
    this.terminal.input(data);
  }

  /** Terminal output; returns a function that removes the listener. */
  onData(listener: (data: string) => void): () => void {
    this.dataListeners.add(listener);
    const backlog = this.backlog;
    this.backlog = undefined;
    if (backlog && backlog.length > 0) listener(backlog.join(""));
    return () => this.dataListeners.delete(listener);
  }

  onExit(listener: (exitCode: number) => void): () => void {
    this.exitListeners.add(listener);
    return () => this.exitListeners.delete(listener);
  }

  resize(cols: number, rows: number): void {
    this.terminal.resize(cols, rows);
  }

  /** Hangs up: the shell gets SIGHUP (and passes it to its children). */
  close(): void {
    this.terminal.hangup();
    if (this.exitCode !== undefined) return;
    try {
      this.process.kill("SIGHUP");
    } catch {
      // Exited meanwhile.
    }
  }

  private emit(text: string): void {
    if (this.backlog) this.backlog.push(text);
    else for (const listener of this.dataListeners) listener(text);
  }
}
