/** Turns anything thrown while serving a request into the wire error `{ group, code, message }`. */
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { EnclaveError, Errors, UserError, type WireError } from "../errors.js";
import { WireDepthError } from "../wire/codec.js";

export interface MappedError {
  status: number;
  body: WireError;
}

/** Fastify's own error codes that mean "the client sent something wrong". */
const FASTIFY_CODES: Record<string, { spec: (typeof Errors)[keyof typeof Errors]; message?: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { spec: Errors.malformedJson },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    spec: Errors.malformedJson,
    message: "The request body is empty; send JSON",
  },
  FST_ERR_CTP_BODY_TOO_LARGE: { spec: Errors.bodyTooLarge },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { spec: Errors.unsupportedMediaType },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    spec: Errors.badRequest,
    message: "The Content-Length header is wrong",
  },
  FST_ERR_CTP_INVALID_TYPE: { spec: Errors.unsupportedMediaType },
  FST_ERR_BAD_URL: { spec: Errors.badRequest, message: "The URL is not valid" },
  FST_ERR_MAX_PARAM_LENGTH: { spec: Errors.urlTooLong },
};

/** Node's HTTP parser errors (`clientError`) as wire errors. */
export function clientErrorFor(code: string | undefined): EnclaveError {
  if (code === "ERR_HTTP_REQUEST_TIMEOUT") return new EnclaveError(Errors.requestTimeout);
  if (code === "HPE_HEADER_OVERFLOW") return new EnclaveError(Errors.headersTooLarge);
  return new EnclaveError(Errors.badRequest, "The request is not valid HTTP");
}

export function mapError(e: unknown, log: Logger, context: Record<string, unknown> = {}): MappedError {
  if (e instanceof UserError) return { status: Errors.user.status, body: e.toWire() };
  if (e instanceof EnclaveError) return { status: e.status, body: e.toWire() };
  if (e instanceof WireDepthError) {
    return {
      status: 400,
      body: new EnclaveError(Errors.badRequest, e.message, { maxDepth: e.maxDepth }).toWire(),
    };
  }
  // Fastify's own errors (codes FST_*): bad input the framework caught before a handler ran.
  // Anything else, whatever it looks like (a SyntaxError from an actor's own JSON.parse, say),
  // is not the caller's fault.
  const fe = e as { code?: unknown; validation?: unknown[]; statusCode?: number; message?: string } | null;
  const fastifyCode = typeof fe?.code === "string" && fe.code.startsWith("FST_") ? fe.code : undefined;
  if (fastifyCode === "FST_ERR_VALIDATION" && Array.isArray(fe?.validation)) {
    return { status: 400, body: new EnclaveError(Errors.badRequest, fe.message || undefined).toWire() };
  }
  const known = fastifyCode ? FASTIFY_CODES[fastifyCode] : undefined;
  if (known) {
    const x = new EnclaveError(known.spec, known.message);
    return { status: x.status, body: x.toWire() };
  }
  if (fastifyCode && typeof fe?.statusCode === "number" && fe.statusCode >= 400 && fe.statusCode < 500) {
    return { status: 400, body: new EnclaveError(Errors.badRequest).toWire() };
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
