/** Calling actors over HTTP: actions, and the actor's own raw request handler. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ActionCaller } from "../../engine/types.js";
import { Errors, err } from "../../errors.js";
import { encodeWire, reviveWire } from "../../wire/index.js";
import type { GatewayDeps } from "../server.js";
import { forwardToActor, pathAfter, takeRawBodies } from "./raw-http.js";

const actionSchema = {
  params: {
    type: "object",
    required: ["id", "action"],
    properties: {
      id: { type: "string", minLength: 1, maxLength: 64 },
      action: { type: "string", minLength: 1, maxLength: 128 },
    },
  },
  body: {
    anyOf: [
      { type: "null" },
      {
        type: "object",
        additionalProperties: false,
        properties: { args: { type: "array" } },
      },
    ],
  },
} as const;

/** The header an HTTP action carries the client's connection params in (URI-encoded JSON). */
export const CONN_PARAMS_HEADER = "x-enclave-conn-params";

/**
 * The caller of an HTTP action, for the actor's onBeforeConnect. A class with a prototype
 * getter, so the headers are built only if a hook reads them: this is on every action's path
 * (an object literal with its own getter cost ~3% of the engine's busy time).
 */
class HttpCaller implements ActionCaller {
  #headers: Record<string, string> | undefined;
  constructor(
    private readonly req: FastifyRequest,
    readonly params: unknown,
  ) {}

  get headers(): Record<string, string> {
    if (this.#headers === undefined) {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(this.req.headers)) {
        if (k === "authorization" || k === CONN_PARAMS_HEADER || v === undefined) continue;
        headers[k] = Array.isArray(v) ? v.join(", ") : v;
      }
      this.#headers = headers;
    }
    return this.#headers;
  }
}

function httpCaller(req: FastifyRequest): ActionCaller {
  const raw = req.headers[CONN_PARAMS_HEADER];
  if (typeof raw !== "string") return new HttpCaller(req, undefined);
  try {
    return new HttpCaller(req, reviveWire(JSON.parse(decodeURIComponent(raw)) as unknown));
  } catch {
    throw err(Errors.badRequest, `The ${CONN_PARAMS_HEADER} header must be URI-encoded JSON`);
  }
}

export function actionRoutes(app: FastifyInstance, { engine }: GatewayDeps): void {
  app.post<{ Params: { id: string; action: string }; Body: { args?: unknown[] } | null }>(
    "/gateway/:id/action/:action",
    { config: { auth: "public" }, schema: actionSchema },
    async (req, reply) => {
      // The whole body is walked so nesting depth counts the same as on a WebSocket.
      const args = reviveWire(req.body)?.args ?? [];
      const output = await engine.action(
        req.namespace,
        req.params.id,
        req.params.action,
        args,
        httpCaller(req),
      );
      // Serialized here so Uint8Array outputs become { $bytes } (fastify's serializer would not).
      return reply.type("application/json; charset=utf-8").send(encodeWire({ output: output ?? null }));
    },
  );
}

const RAW_REQUEST_PATH = /^\/gateway\/[^/]*\/request(\/.*)?$/;
const CREDENTIALS: ReadonlySet<string> = new Set(["authorization"]);

/** Raw requests get their own encapsulated context: bodies pass through as bytes, any type. */
export async function requestRoutes(app: FastifyInstance, { engine }: GatewayDeps): Promise<void> {
  takeRawBodies(app);

  const handler = async (req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) => {
    const live = await engine.acquire(req.namespace, req.params.id);
    // The credential was for the gateway; the actor never sees it.
    return forwardToActor(live, req, reply, pathAfter(req, RAW_REQUEST_PATH), CREDENTIALS);
  };

  app.route({
    method: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
    url: "/gateway/:id/request/*",
    config: { auth: "public" },
    handler,
  });
  app.route({
    method: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
    url: "/gateway/:id/request",
    config: { auth: "public" },
    handler,
  });
}
