/**
 * pino JSON logs to stdout. Credentials are redacted wherever they could appear: request
 * headers, URL userinfo, configuration secrets. Nothing leaves the process.
 */
import { pino, type Logger, type LevelWithSilent } from "pino";

export const REDACT_PATHS: readonly string[] = [
  "req.headers.authorization",
  'req.headers["sec-websocket-protocol"]',
  "headers.authorization",
  'headers["sec-websocket-protocol"]',
  "authorization",
  "token",
  "secret",
  "adminToken",
  "auth.adminToken",
  "config.auth.adminToken",
  "*.adminToken",
  "*.token",
  "*.secret",
  "endpoint",
];

export interface LoggerOptions {
  level: LevelWithSilent;
  /** Where to write; stdout by default. */
  destination?: NodeJS.WritableStream;
}

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      name: "enclave",
      level: options.level,
      redact: { paths: [...REDACT_PATHS], censor: "[redacted]" },
      base: { pid: process.pid },
    },
    options.destination ?? pino.destination({ fd: 1, sync: false }),
  );
}
