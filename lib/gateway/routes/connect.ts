/**
 * `GET /gateway/{id}/connect`: one WebSocket carrying actions and events. Messages that arrive
 * while the actor is still accepting the connection are queued, not dropped.
 */
import type { FastifyInstance } from "fastify";
import type { WebSocket } from "ws";
import { EnclaveError, Errors, err, type WireError } from "../../errors.js";
import type { LiveActor } from "../../engine/index.js";
import { newLocalId } from "../../engine/ids.js";
import { encodeWire, reviveWire } from "../../wire/index.js";
import { CloseCodes, type ClientMessage, type ServerMessage } from "../../wire/protocol.js";
import { mapError } from "../errors.js";
import type { GatewayDeps } from "../server.js";

function closeCodeFor(e: WireError): number {
  if (e.group === "actor" && e.code === Errors.actorNotFound.code) return CloseCodes.notFound;
  if (e.group === "actor" && e.code === Errors.stopping.code) return CloseCodes.stopping;
  return CloseCodes.rejected;
}

function parseMessage(raw: string): ClientMessage {
  let msg: unknown;
  try {
    msg = JSON.parse(raw);
  } catch {
    throw err(Errors.malformedJson, "The message is not valid JSON");
  }
  // `{ $bytes }` tags become Uint8Array; too deep a value is refused (WireDepthError).
  msg = reviveWire(msg);
  const m = msg as Partial<ClientMessage> & Record<string, unknown>;
  if (m && typeof m === "object") {
    if (
      m.t === "action" &&
      Number.isSafeInteger(m.id) &&
      typeof m.name === "string" &&
      Array.isArray(m.args)
    ) {
      return m as ClientMessage;
    }
    if ((m.t === "sub" || m.t === "unsub") && typeof m.event === "string") return m as ClientMessage;
  }
  throw err(Errors.badRequest, 'Expected {t:"action",id,name,args}, {t:"sub",event} or {t:"unsub",event}');
}

export function connectRoutes(app: FastifyInstance, { engine, log, tokens }: GatewayDeps): void {
  app.route<{ Params: { id: string }; Querystring: { params?: string } }>({
    method: "GET",
    url: "/gateway/:id/connect",
    config: { auth: "public" },
    schema: {
      params: { type: "object", properties: { id: { type: "string", minLength: 1, maxLength: 64 } } },
      querystring: {
        type: "object",
        properties: { namespace: { type: "string" }, params: { type: "string", maxLength: 65536 } },
      },
    },
    handler: async () => {
      throw err(Errors.upgradeRequired);
    },
    wsHandler: (socket: WebSocket, req) => {
      const connId = newLocalId();
      const queue: string[] = [];
      let live: LiveActor | undefined;
      let closed = false;

      const send = (m: ServerMessage) => {
        if (socket.readyState === socket.OPEN) socket.send(encodeWire(m));
      };
      const fail = (e: unknown, id?: number) => {
        const { body } = mapError(e, log, { actorId: req.params.id, connId });
        send(id === undefined ? { t: "error", error: body } : { t: "error", id, error: body });
        return body;
      };
      const handle = (raw: string) => {
        let msg: ClientMessage;
        try {
          msg = parseMessage(raw);
        } catch (e) {
          fail(e);
          return;
        }
        if (!live) return;
        if (msg.t === "action") {
          live.action(msg.name, msg.args, connId).then(
            (output) => send({ t: "result", id: msg.id, output: output ?? null }),
            (e: unknown) => fail(e, msg.id),
          );
        } else {
          live.subscribe(connId, msg.event, msg.t === "sub");
        }
      };

      socket.on("message", (data, isBinary) => {
        const text = isBinary ? null : data.toString();
        if (text === null) {
          fail(err(Errors.badRequest, "Send text frames with JSON messages"));
          return;
        }
        if (live) handle(text);
        else queue.push(text);
      });
      // A revoked token cuts the connections opened with it, not only the next request.
      const principal = req.principal;
      const stopWatching =
        principal && principal.kind !== "admin"
          ? tokens.onRevoke(principal.tokenId, () => socket.close(CloseCodes.rejected, "token revoked"))
          : undefined;
      socket.on("close", () => {
        closed = true;
        stopWatching?.();
        if (live) void live.disconnect(connId);
      });

      let params: unknown;
      try {
        params =
          req.query.params === undefined ? undefined : reviveWire(JSON.parse(req.query.params) as unknown);
      } catch (e) {
        const body = fail(
          e instanceof SyntaxError ? err(Errors.badRequest, "The `params` query parameter must be JSON") : e,
        );
        socket.close(closeCodeFor(body), body.code);
        return;
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) {
        if (k === "authorization" || k === "sec-websocket-protocol" || v === undefined) continue;
        headers[k] = Array.isArray(v) ? v.join(", ") : v;
      }

      engine
        .connect(req.namespace, req.params.id, {
          id: connId,
          params,
          headers,
          send: (m) => send(m),
          close: (code, reason) => socket.close(code, reason),
        })
        .then(
          (l) => {
            if (closed) {
              void l.disconnect(connId);
              return;
            }
            live = l;
            send({ t: "init", actorId: req.params.id, connectionId: connId });
            for (const raw of queue.splice(0)) handle(raw);
          },
          (e: unknown) => {
            const body = fail(e);
            const code =
              e instanceof EnclaveError || body.group === "user" ? closeCodeFor(body) : CloseCodes.rejected;
            socket.close(code, body.code.slice(0, 100));
          },
        );
    },
  });
}
