/**
 * `GET /runners/connect`: the WebSocket a runner (an app hosting actor code) opens to a
 * standalone engine. Auth is a namespace secret token (or the admin token with ?namespace=);
 * a public token is 403. The protocol itself is in lib/runner (docs/runner-protocol.md).
 */
import type { FastifyInstance } from "fastify";
import type { WebSocket } from "ws";
import { Errors, err } from "../../errors.js";
import { runnerHubOf } from "../../runner/composite-host.js";
import { RunnerCloseCodes } from "../../runner/protocol.js";
import type { GatewayDeps } from "../server.js";

export function runnerRoutes(app: FastifyInstance, { engine, tokens }: GatewayDeps): void {
  app.route({
    method: "GET",
    url: "/runners/connect",
    config: { auth: "secret" },
    schema: {
      querystring: { type: "object", properties: { namespace: { type: "string" } } },
    },
    handler: async () => {
      throw err(Errors.upgradeRequired);
    },
    wsHandler: (socket: WebSocket, req) => {
      const hub = runnerHubOf(engine.host);
      if (!hub) {
        socket.close(RunnerCloseCodes.protocolError, "this engine does not accept runners");
        return;
      }
      // Runner sockets are closed by the engine once their actors have stopped (a graceful
      // stop needs them), not with the clients' sockets when the server starts closing.
      app.websocketServer.clients.delete(socket);
      // A revoked token cuts the runner it connected, not only its next connection attempt.
      const principal = req.principal;
      if (principal && principal.kind !== "admin") {
        const stopWatching = tokens.onRevoke(principal.tokenId, () =>
          socket.close(RunnerCloseCodes.tokenRevoked, "token revoked"),
        );
        socket.on("close", stopWatching);
      }
      hub.accept(socket, req.namespace, { remoteAddress: req.ip });
    },
  });
}
