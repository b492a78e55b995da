/**
 * What every command gets: where to write, which environment to read, and the errors that
 * decide the exit code. Commands never call process.exit; `run` returns the code.
 */
import type { SignalSource } from "../shutdown.js";

export type { SignalSource };

/** Exit codes scripts can rely on. */
export const EXIT_OK = 0;
/** Runtime failure: the engine is unreachable, refused the request, a file could not be written... */
export const EXIT_FAILURE = 1;
/** Usage or configuration error: bad arguments or options, invalid configuration. */
export const EXIT_USAGE = 2;

export interface TextSink {
  write(chunk: string): unknown;
}

export interface CliIo {
  stdout: TextSink;
  stderr: TextSink;
  env: Readonly<Record<string, string | undefined>>;
  /** Default: the process. */
  signals?: SignalSource;
}

/** An error meant for the user: printed as `enclave: MESSAGE`, no stack, with its exit code. */
export class CliError extends Error {
  readonly exitCode: number;
  /** Extra lines printed after the message (e.g. one per configuration problem). */
  readonly details: readonly string[];

  constructor(message: string, exitCode: number = EXIT_FAILURE, details: readonly string[] = []) {
    super(message);
    this.name = "CliError";
    this.exitCode = exitCode;
    this.details = details;
  }
}

/** Wrong arguments or options: exit code 2. */
export class UsageError extends CliError {
  constructor(message: string, details: readonly string[] = []) {
    super(message, EXIT_USAGE, details);
    this.name = "UsageError";
  }
}

export function line(sink: TextSink, text = ""): void {
  sink.write(`${text}\n`);
}

/** Pretty JSON, one document, newline-terminated: what `--json` prints. */
export function printJson(sink: TextSink, value: unknown): void {
  sink.write(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * A plain text table: a header row and left-aligned columns separated by two spaces. Empty
 * cells print as `-`. No colors, no box drawing, so it survives any terminal and `grep`.
 */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const cells = rows.map((row) =>
    headers.map((_, i) => (row[i] === undefined || row[i] === "" ? "-" : row[i]!)),
  );
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i]!.length)));
  const render = (row: readonly string[]) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [render(headers), ...cells.map(render)].join("\n") + "\n";
}

/** Epoch ms as an ISO-8601 UTC string; `fallback` for a missing value. */
export function formatTime(ms: unknown, fallback = "-"): string {
  if (typeof ms !== "number" || !Number.isFinite(ms)) return fallback;
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? fallback : d.toISOString();
}
