/** Option parsers and error conversions shared by the commands. */
import { InvalidArgumentError } from "commander";
import { ConfigError, formatIssue } from "../config/index.js";
import { CliError, EXIT_USAGE } from "./io.js";

/** For repeatable options: `--config a --config b` -> ["a", "b"]. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function parsePort(value: string): number {
  if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError("expected a port number (0-65535)");
  const n = Number(value);
  if (n > 65535) throw new InvalidArgumentError("expected a port number (0-65535)");
  return n;
}

/**
 * `--expires-at`: an ISO-8601 time (`2030-01-01T00:00:00Z`, `2030-01-01`) or epoch
 * milliseconds. Must be in the future.
 */
export function parseTime(value: string, now: number = Date.now()): number {
  const text = value.trim();
  const ms = /^\d+$/.test(text) ? Number(text) : /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : NaN;
  if (!Number.isSafeInteger(ms)) {
    throw new InvalidArgumentError("expected an ISO-8601 time (2030-01-31T12:00:00Z) or epoch milliseconds");
  }
  if (ms <= now) throw new InvalidArgumentError(`${new Date(ms).toISOString()} is in the past`);
  return ms;
}

/** A ConfigError as the CLI reports it: one line per problem, exit code 2. */
export function configError(e: unknown): unknown {
  if (!(e instanceof ConfigError)) return e;
  const n = e.issues.length;
  return new CliError(
    `invalid configuration (${n} problem${n === 1 ? "" : "s"}):`,
    EXIT_USAGE,
    e.issues.map((issue) => `  ${formatIssue(issue)}`),
  );
}
