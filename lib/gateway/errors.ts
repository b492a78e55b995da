/** Turns anything thrown while serving a request into the wire error `{ group, code, message }`. */
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { EnclaveError, Errors, UserError, type WireError } from "../errors.js";

export interface MappedError {
  status: number;
  body: WireError;
}

/** Fastify's own error codes that mean "the client sent something wrong". */
const FASTIFY_CODES: Record<string, { spec: (typeof Errors)[keyof typeof Errors]; message?: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { spec: Errors.malformedJson },
  FST_ERR_CTP_EMPTY_JSON_BODY: { spec: Errors.malformedJson, message: "The request body is empty; send JSON" },
  FST_ERR_CTP_BODY_TOO_LARGE: { spec: Errors.bodyTooLarge },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { spec: Errors.unsupportedMediaType },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { spec: Errors.badRequest, message: "The Content-Length header is wrong" },
  FST_ERR_CTP_INVALID_TYPE: { spec: Errors.unsupportedMediaType },
  FST_ERR_BAD_URL: { spec: Errors.badRequest, message: "The URL is not valid" },
};

export function mapError(e: unknown, log: Logger, context: Record<string, unknown> = {}): MappedError {
  if (e instanceof UserError) return { status: Errors.user.status, body: e.toWire() };
  if (e instanceof EnclaveError) return { status: e.status, body: e.toWire() };
  const fe = e as { code?: string; validation?: unknown[]; statusCode?: number; message?: string };
  if (fe && Array.isArray(fe.validation)) {
    return {
      status: 400,
      body: { group: Errors.badRequest.group, code: Errors.badRequest.code, message: fe.message ?? Errors.badRequest.message },
    };
  }
  const known = fe?.code ? FASTIFY_CODES[fe.code] : undefined;
  if (known) {
    const x = new EnclaveError(known.spec, known.message);
    return { status: x.status, body: x.toWire() };
  }
  if (fe?.code === "ERR_BAD_JSON" || e instanceof SyntaxError) {
    return { status: 400, body: new EnclaveError(Errors.malformedJson).toWire() };
  }
  // Anything else is a bug or an actor's own failure: details stay in the log.
  const correlationId = randomUUID();
  log.error({ err: e, correlationId, ...context }, "internal error");
  return {
    status: 500,
    body: {
      group: Errors.internal.group,
      code: Errors.internal.code,
      message: `Internal error (correlation id ${correlationId})`,
      metadata: { correlationId },
    },
  };
}
