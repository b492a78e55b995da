import type { FastifyInstance } from "fastify";
import { Errors, err } from "../../errors.js";
import { VERSION } from "../../version.js";
import { API_VERSION, RUNNER_PROTOCOL_VERSION } from "../../wire/protocol.js";
import type { GatewayDeps } from "../server.js";

export function healthRoutes(app: FastifyInstance, deps: GatewayDeps): void {
  app.get("/health", { config: { auth: "none" } }, async () => ({ status: "ok", version: VERSION }));

  app.get("/health/ready", { config: { auth: "none" } }, async () => {
    if (!deps.engine.ready) throw err(Errors.stopping, "The engine is not accepting work");
    return { status: "ready", version: VERSION };
  });

  app.get("/metadata", { config: { auth: "none" } }, async () => ({
    name: "enclave",
    version: VERSION,
    apiVersion: API_VERSION,
    runnerProtocolVersion: RUNNER_PROTOCOL_VERSION,
  }));
}
