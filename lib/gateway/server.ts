/**
 * The gateway: one fastify server with the public API, the actor gateway (HTTP + WebSocket) and
 * auth. Every route must declare its auth level; a route that does not is a startup error.
 */
import websocket from "@fastify/websocket";
import { Ajv } from "ajv";
import Fastify, { LogController, type FastifyInstance, type FastifyReply } from "fastify";
import type { Logger } from "pino";
import type { EngineConfig } from "../config/index.js";
import type { Engine } from "../engine/index.js";
import { Errors, err } from "../errors.js";
import { noopMetrics, type EgressAudit, type EngineMetrics } from "../telemetry/index.js";
import { ROUTE_AUTH_LEVELS, makeAuthHook } from "./auth.js";
import type { StoreNamespaces } from "./namespaces.js";
import type { TokenStore } from "./tokens.js";
import { clientErrorFor, mapError } from "./errors.js";
import { lazyRequestLogger } from "./request-logger.js";
import { actionRoutes, requestRoutes } from "./routes/actions.js";
import { PREVIEW_PROTOCOL, previewRoutes } from "./routes/preview.js";
import { actorRoutes } from "./routes/actors.js";
import { connectRoutes } from "./routes/connect.js";
import { adminRoutes } from "./routes/admin.js";
import { healthRoutes } from "./routes/health.js";
import { managementRoutes } from "./routes/management.js";
import { runnerRoutes } from "./routes/runners.js";
import { WS_PROTOCOL } from "../wire/protocol.js";

const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  408: "Request Timeout",
  431: "Request Header Fields Too Large",
};

export interface GatewayDeps {
  engine: Engine;
  config: EngineConfig;
  log: Logger;
  tokens: TokenStore;
  namespaces: StoreNamespaces;
  metrics: EngineMetrics;
  egress: EgressAudit;
}

export async function buildGateway(deps: GatewayDeps): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    loggerInstance: deps.log as FastifyInstance["log"],
    // One log line per request would cost more than the request at these rates; errors are logged.
    logController: new LogController({ disableRequestLogging: true }),
    // ...and the per-request child logger is built only if something logs through it.
    childLoggerFactory: lazyRequestLogger,
    bodyLimit: deps.config.limits.messageBytes,
    // While closing, requests still reach the routes: /health/ready answers 503 and actions get
    // actor.stopping, both as wire errors (fastify's own 503 body is not one).
    return503OnClosing: false,
    // Close idle keep-alive sockets at close, but let requests in flight finish (drain).
    forceCloseConnections: "idle",
    routerOptions: { maxParamLength: 256 },
    // Errors fastify raises before routing (bad URL encoding, overlong path segment).
    frameworkErrors: (e, req, reply) => {
      const { status, body } = mapError(e, deps.log, { method: req.method, url: req.url });
      void (reply as unknown as FastifyReply).code(status).type("application/json; charset=utf-8").send(body);
    },
    // Requests Node's HTTP parser rejects never reach fastify; answer them as wire errors too.
    clientErrorHandler: (e: NodeJS.ErrnoException, socket) => {
      if (e.code === "ECONNRESET" || socket.destroyed) return;
      if (socket.writable) {
        const x = clientErrorFor(e.code);
        const body = JSON.stringify(x.toWire());
        socket.write(
          `HTTP/1.1 ${x.status} ${STATUS_TEXT[x.status] ?? "Error"}\r\nConnection: close\r\n` +
            `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
        );
      }
      socket.destroy(e);
    },
  });

  // JSON request bodies are typed: a string where a list belongs is an error, not coerced into
  // `["..."]`. The query string and path params are text, so their types are coerced
  // (`?limit=10`, one `?key=a` as a list).
  const bodyAjv = new Ajv({
    coerceTypes: false,
    useDefaults: true,
    removeAdditional: false,
    allErrors: false,
  });
  const textAjv = new Ajv({
    coerceTypes: "array",
    useDefaults: true,
    removeAdditional: false,
    allErrors: false,
  });
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === "body" ? bodyAjv : textAjv).compile(schema as object),
  );

  app.decorateRequest("namespace", "");

  // An empty JSON body (a bodiless POST sent with a JSON content type) is "no body", not an error.
  // Parsing keeps fastify's protection against prototype poisoning.
  // JSON is the only body type of the API (fastify would also take text/plain); anything else is 415.
  const parseJson = app.getDefaultJsonParser("error", "error");
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("application/json", { parseAs: "string" }, (req, body, done) => {
    if ((body as string).trim() === "") return done(null, null);
    parseJson(req, body as string, done);
  });

  app.addHook("onRoute", (route) => {
    const auth = route.config?.auth;
    if (route.url.startsWith("*")) return;
    if (auth === undefined) {
      throw new Error(`route ${String(route.method)} ${route.url} does not declare its auth (config.auth)`);
    }
    if (!ROUTE_AUTH_LEVELS.includes(auth)) {
      throw new Error(
        `route ${String(route.method)} ${route.url} declares an unknown auth level "${String(auth)}" (one of ${ROUTE_AUTH_LEVELS.join(", ")})`,
      );
    }
  });
  // Registered before the auth hook on purpose: its own onRequest hook marks upgrade requests,
  // and only a marked upgrade request refused by auth (401/403/404) gets its socket closed after
  // the response. Otherwise the refused socket, already detached from the HTTP server, stays
  // open until the client leaves, and holds up a graceful close.
  await app.register(websocket, {
    options: {
      maxPayload: deps.config.limits.messageBytes,
      // Pick the message-format protocol; never echo the token-carrying one back.
      handleProtocols: (protocols, request) => {
        // A preview WebSocket takes what the guest server chose (see routes/preview.ts).
        const chosen = (request as { [PREVIEW_PROTOCOL]?: string })[PREVIEW_PROTOCOL];
        if (chosen !== undefined) return chosen === "" ? false : chosen;
        return protocols.has(WS_PROTOCOL) ? WS_PROTOCOL : false;
      },
    },
  });
  app.addHook("onRequest", makeAuthHook(deps.tokens, deps.namespaces));

  app.setErrorHandler((e, req, reply) => {
    const { status, body } = mapError(e, deps.log, { method: req.method, url: req.routeOptions.url });
    return reply.code(status).type("application/json; charset=utf-8").send(body);
  });
  app.setNotFoundHandler({}, (_req, reply) => {
    const e = err(Errors.routeNotFound);
    return reply.code(e.status).send(e.toWire());
  });

  // Only with metrics on: a hook costs every request something even when it does nothing.
  if (deps.metrics !== noopMetrics) {
    app.addHook("onResponse", async (req, reply) => {
      deps.metrics.httpRequest(req.method, req.routeOptions.url ?? "", reply.statusCode, reply.elapsedTime);
    });
  }

  healthRoutes(app, deps);
  managementRoutes(app, deps);
  adminRoutes(app, deps);
  actorRoutes(app, deps);
  actionRoutes(app, deps);
  connectRoutes(app, deps);
  runnerRoutes(app, deps);
  await app.register(async (scope) => requestRoutes(scope, deps));
  await app.register(async (scope) => previewRoutes(scope, deps));

  return app;
}
