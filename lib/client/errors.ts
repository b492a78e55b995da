/**
 * The one error type the client throws for anything that went wrong on the wire: an error
 * response from the engine (`{ group, code, message, metadata? }`), a `UserError` thrown by an
 * actor (group `user`, its code and metadata intact), or a connection problem (group
 * `connection`).
 */
import { Errors, type WireError } from "../errors.js";

export interface ActorErrorInit {
  group: string;
  code: string;
  message: string;
  metadata?: unknown;
  /** HTTP status; 0 when the error did not come from an HTTP response (network, socket). */
  status?: number;
  retryable?: boolean;
  cause?: unknown;
}

export class ActorError extends Error {
  /** Error family: `user` for an actor's `UserError`, `actor`, `auth`, `request`, `connection`, ... */
  readonly group: string;
  /** Machine-readable code within the group (for `user`, the `UserError`'s code). */
  readonly code: string;
  /** JSON details attached by the engine or by the actor's `UserError`. */
  readonly metadata: unknown;
  /**
   * HTTP status of the response. Errors that arrive over a connection carry the status the same
   * error would have over HTTP; 0 means there was no response at all (network, socket).
   */
  readonly status: number;
  /** True when trying the same call again later may succeed (lost connection, engine stopping). */
  readonly retryable: boolean;

  constructor(init: ActorErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "ActorError";
    this.group = init.group;
    this.code = init.code;
    this.metadata = init.metadata;
    this.status = init.status ?? 0;
    this.retryable = init.retryable ?? (this.status === 503 || this.group === "connection");
  }

  /** True if `error` is an ActorError, optionally of the given group and code. */
  static is(error: unknown, group?: string, code?: string): error is ActorError {
    return (
      error instanceof ActorError &&
      (group === undefined || error.group === group) &&
      (code === undefined || error.code === code)
    );
  }

  /** Builds an ActorError from an error body; `status` defaults to the catalogue's status. */
  static fromWire(wire: WireError, status?: number): ActorError {
    const init: ActorErrorInit = {
      group: wire.group,
      code: wire.code,
      message: wire.message,
      status: status ?? statusOf(wire.group, wire.code),
    };
    if (wire.metadata !== undefined) init.metadata = wire.metadata;
    return new ActorError(init);
  }
}

/** The HTTP status the engine uses for a group/code, for errors that arrive without one. */
function statusOf(group: string, code: string): number {
  if (group === "user") return Errors.user.status;
  for (const spec of Object.values(Errors)) {
    if (spec.group === group && spec.code === code) return spec.status;
  }
  return 0;
}

export function isWireError(value: unknown): value is WireError {
  if (value === null || typeof value !== "object") return false;
  const v = value as Record<string, unknown>;
  return typeof v.group === "string" && typeof v.code === "string" && typeof v.message === "string";
}

export function connectionError(
  code: string,
  message: string,
  cause?: unknown,
  retryable = true,
): ActorError {
  return new ActorError({ group: "connection", code, message, status: 0, retryable, cause });
}
