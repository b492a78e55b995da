/**
 * The gateway: one fastify server with the public API, the actor gateway (HTTP + WebSocket) and
 * auth. Every route must declare its auth level; a route that does not is a startup error.
 */
import websocket from "@fastify/websocket";
import Fastify, { LogController, type FastifyInstance } from "fastify";
import type { Logger } from "pino";
import type { EngineConfig } from "../config/index.js";
import type { Engine } from "../engine/index.js";
import { Errors, err } from "../errors.js";
import { makeAuthHook, type NamespaceCatalog, type TokenVerifier } from "./auth.js";
import { mapError } from "./errors.js";
import { actionRoutes, requestRoutes } from "./routes/actions.js";
import { actorRoutes } from "./routes/actors.js";
import { connectRoutes } from "./routes/connect.js";
import { healthRoutes } from "./routes/health.js";
import { WS_PROTOCOL } from "../wire/protocol.js";

export interface GatewayDeps {
  engine: Engine;
  config: EngineConfig;
  log: Logger;
  verifier: TokenVerifier;
  namespaces: NamespaceCatalog;
}

export async function buildGateway(deps: GatewayDeps): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    loggerInstance: deps.log as FastifyInstance["log"],
    // One log line per request would cost more than the request at these rates; errors are logged.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: deps.config.limits.messageBytes,
    // Behind a load balancer the engine should still answer health checks quickly.
    return503OnClosing: true,
    forceCloseConnections: true,
    routerOptions: { maxParamLength: 256 },
    ajv: { customOptions: { coerceTypes: "array", removeAdditional: false, allErrors: false } },
  });

  app.decorateRequest("namespace", "");

  // An empty JSON body (a bodiless POST sent with a JSON content type) is "no body", not an error.
  // Parsing keeps fastify's protection against prototype poisoning.
  const parseJson = app.getDefaultJsonParser("error", "error");
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (req, body, done) => {
    if ((body as string).trim() === "") return done(null, null);
    parseJson(req, body as string, done);
  });

  app.addHook("onRoute", (route) => {
    const auth = route.config?.auth;
    if (auth === undefined && !route.url.startsWith("*")) {
      throw new Error(`route ${String(route.method)} ${route.url} does not declare its auth (config.auth)`);
    }
  });
  app.addHook("onRequest", makeAuthHook(deps.verifier, deps.namespaces));

  app.setErrorHandler((e, req, reply) => {
    const { status, body } = mapError(e, deps.log, { method: req.method, url: req.routeOptions.url });
    return reply.code(status).type("application/json; charset=utf-8").send(body);
  });
  app.setNotFoundHandler({}, (_req, reply) => {
    const e = err(Errors.routeNotFound);
    return reply.code(e.status).send(e.toWire());
  });

  await app.register(websocket, {
    options: {
      maxPayload: deps.config.limits.messageBytes,
      // Pick the message-format protocol; never echo the token-carrying one back.
      handleProtocols: (protocols) => (protocols.has(WS_PROTOCOL) ? WS_PROTOCOL : false),
    },
  });

  healthRoutes(app, deps);
  actorRoutes(app, deps);
  actionRoutes(app, deps);
  connectRoutes(app, deps);
  await app.register(async (scope) => requestRoutes(scope, deps));

  return app;
}
