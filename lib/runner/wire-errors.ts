/**
 * Errors across the runner socket: what one side threw becomes `{ error, status }` and, on the
 * other side, an error the gateway maps back to the same response. A `UserError` stays a
 * `UserError`; a catalogue error keeps its group, code and status; anything else is logged
 * where it happened under a correlation id and crosses as `actor/internal_error`.
 */
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { EnclaveError, Errors, UserError, type WireError } from "../errors.js";

export interface ErrorOnWire {
  error: WireError;
  status: number;
}

/** What `e` looks like on the wire; details of unexpected errors go to `log` only. */
export function errorToWire(e: unknown, log: Logger, context: Record<string, unknown> = {}): ErrorOnWire {
  if (e instanceof UserError) return { error: e.toWire(), status: Errors.user.status };
  if (e instanceof EnclaveError) return { error: e.toWire(), status: e.status };
  const correlationId = randomUUID();
  log.error({ err: e, correlationId, ...context }, "internal error");
  return {
    error: {
      group: Errors.internal.group,
      code: Errors.internal.code,
      message: `Internal error (correlation id ${correlationId})`,
      metadata: { correlationId },
    },
    status: Errors.internal.status,
  };
}

/** The error to throw for a wire error received from the other side. */
export function errorFromWire({ error, status }: ErrorOnWire): Error {
  if (error.group === "user") {
    const options: { code: string; metadata?: unknown } = { code: error.code };
    if (error.metadata !== undefined) options.metadata = error.metadata;
    return new UserError(error.message, options);
  }
  return new EnclaveError(
    { group: error.group, code: error.code, status, message: error.message },
    error.message,
    error.metadata,
  );
}

export function isRunnerLost(e: unknown): boolean {
  return (
    e instanceof EnclaveError && e.group === Errors.runnerLost.group && e.code === Errors.runnerLost.code
  );
}
