/**
 * `ANY /gateway/{actorId}/preview/{token}/*`: signed preview URLs. The token is the only
 * credential (auth "none" for the gateway); it is checked against the store first, so a guessed,
 * malformed, revoked or expired token gets 404 without waking anything. A valid one wakes the
 * workspace: HTTP is proxied into its port through the actor's `/port/{port}/...` handler;
 * WebSocket upgrades are relayed message by message to a WebSocket the gateway opens to the
 * guest server over a tunnel into the VM (embedded mode only: a runner cannot carry one).
 */
import type { IncomingMessage } from "node:http";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { WebSocket, type RawData } from "ws";
import { checkPreviewToken, type PreviewTarget } from "../../engine/previews.js";
import { EnclaveError, Errors, err } from "../../errors.js";
import type { GatewayDeps } from "../server.js";
import { forwardToActor, pathAfter, takeRawBodies } from "./raw-http.js";

const PREVIEW_PATH = /^\/gateway\/[^/]*\/preview\/[^/]*(\/.*)?$/;

// Never forwarded into the VM: the gateway's credential and what describes the hop itself.
const DROPPED = new Set(["authorization", "connection", "keep-alive", "upgrade", "te", "trailer"]);
// A WebSocket handshake the gateway makes itself: the client's own handshake headers stay out.
const WS_DROPPED = new Set([
  ...DROPPED,
  "host",
  "sec-websocket-key",
  "sec-websocket-version",
  "sec-websocket-extensions",
  "sec-websocket-protocol",
]);

/** Bytes a relay direction may have in flight before it stops reading its source. */
const RELAY_HIGH_WATER = 4 * 1024 * 1024;

function byteLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((n, b) => n + b.length, 0);
  return data instanceof ArrayBuffer ? data.byteLength : data.length;
}

/** Set on an upgrade request once the guest accepted: the subprotocol it chose ("" for none). */
export const PREVIEW_PROTOCOL = Symbol.for("enclave.previewProtocol");
const GUEST = Symbol.for("enclave.previewGuest");

type PreviewRequest = FastifyRequest<{ Params: { id: string; token: string } }>;
type Marked = IncomingMessage & { [PREVIEW_PROTOCOL]?: string; [GUEST]?: WebSocket };

export async function previewRoutes(app: FastifyInstance, { engine }: GatewayDeps): Promise<void> {
  takeRawBodies(app);

  const target = async (req: PreviewRequest): Promise<PreviewTarget> => {
    const t = await checkPreviewToken(engine, req.params.id, req.params.token);
    if (!t) throw new EnclaveError(Errors.wsPreviewNotFound);
    return t;
  };

  const handler = async (req: PreviewRequest, reply: FastifyReply) => {
    const t = await target(req);
    const live = await engine.acquire(t.namespace, t.actorId);
    return forwardToActor(live, req, reply, `/port/${t.port}${pathAfter(req, PREVIEW_PATH)}`, DROPPED);
  };

  // Before the handshake: check the token, wake the workspace and open the guest's WebSocket,
  // so a bad token is a plain 404 and the client gets the subprotocol the guest chose.
  const openGuest = async (req: PreviewRequest) => {
    if (!(req as unknown as { ws?: boolean }).ws) return;
    const t = await target(req);
    const live = await engine.acquire(t.namespace, t.actorId);
    if (typeof live.tunnel !== "function") {
      throw err(
        Errors.wsTunnelUnsupported,
        "Preview WebSockets need the workspace to run in the engine process; it is hosted by a runner",
      );
    }
    const stream = await live.tunnel(`port:${t.port}`);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (WS_DROPPED.has(name) || value === undefined) continue;
      headers[name] = Array.isArray(value) ? value.join(", ") : value;
    }
    const offered = String(req.headers["sec-websocket-protocol"] ?? "")
      .split(",")
      .map((p) => p.trim())
      .filter(Boolean);
    const guest = new WebSocket(`ws://127.0.0.1:${t.port}${pathAfter(req, PREVIEW_PATH)}`, offered, {
      createConnection: () => stream as never,
      headers,
      perMessageDeflate: false,
    });
    await new Promise<void>((resolve, reject) => {
      guest.once("open", resolve);
      guest.once("unexpected-response", (_r, res) => {
        stream.destroy();
        reject(
          err(Errors.wsBadResponse, `The guest server answered the upgrade with HTTP ${res.statusCode}`),
        );
      });
      guest.once("error", (e) =>
        reject(err(Errors.wsBadResponse, `The guest server did not accept the WebSocket: ${e.message}`)),
      );
    });
    const raw = req.raw as Marked;
    raw[PREVIEW_PROTOCOL] = guest.protocol;
    raw[GUEST] = guest;
    // If the client's handshake never completes, the guest side must not stay open.
    req.raw.socket.once("close", () => guest.terminate());
  };

  const wsHandler = (client: WebSocket, req: PreviewRequest) => {
    const guest = (req.raw as Marked)[GUEST];
    if (!guest) {
      client.close(1011, "no guest connection");
      return;
    }
    const relay = (from: WebSocket, to: WebSocket) => {
      // Backpressure: past RELAY_HIGH_WATER bytes not yet written to `to`, stop reading `from`
      // (which stops its socket, and through the kernel the guest's writes), resume below half.
      let unsent = 0;
      let paused = false;
      from.on("message", (data: RawData, isBinary: boolean) => {
        if (to.readyState !== WebSocket.OPEN) return;
        const size = byteLength(data);
        unsent += size;
        to.send(data, { binary: isBinary }, () => {
          unsent -= size;
          if (paused && unsent < RELAY_HIGH_WATER / 2) {
            paused = false;
            from.resume();
          }
        });
        if (!paused && unsent > RELAY_HIGH_WATER) {
          paused = true;
          from.pause();
        }
      });
      from.on("ping", (data) => to.readyState === WebSocket.OPEN && to.ping(data));
      from.on("close", (code, reason) => {
        // 1005/1006 cannot be sent: they mean "no status" and "abnormal" on the receiving side.
        const sendable = code >= 1000 && code < 5000 && code !== 1005 && code !== 1006 && code !== 1015;
        if (to.readyState === WebSocket.OPEN || to.readyState === WebSocket.CONNECTING) {
          if (sendable) to.close(code, reason);
          else to.terminate();
        }
      });
      from.on("error", () => to.terminate());
    };
    relay(client, guest);
    relay(guest, client);
  };

  for (const url of ["/gateway/:id/preview/:token/*", "/gateway/:id/preview/:token"]) {
    // GET carries WebSocket upgrades too; the plugin takes a wsHandler on GET routes only.
    app.route({ method: "GET", url, config: { auth: "none" }, preHandler: openGuest, handler, wsHandler });
    app.route({
      method: ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
      url,
      config: { auth: "none" },
      handler,
    });
  }
}
