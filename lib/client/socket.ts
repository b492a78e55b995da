/**
 * One WebSocket, browser API or `ws`. In a browser (any runtime with a global WebSocket) the
 * token travels as the subprotocol `enclave.token.TOKEN`; under Node with `ws` it travels as
 * an `Authorization` header, and a refused upgrade reports its status and error body.
 */
import type { WebSocket as WsWebSocket } from "ws";
import type { WireError } from "../errors.js";
import { decodeWire } from "../wire/codec.js";
import { TOKEN_SUBPROTOCOL_PREFIX, WS_PROTOCOL } from "../wire/protocol.js";
import { isWireError } from "./errors.js";

export interface SocketHandlers {
  open(): void;
  message(text: string): void;
  /** The upgrade was answered with a non-101 status (only known with `ws`); `close` follows. */
  refused(status: number, error: WireError | undefined): void;
  /** Always called once, last. */
  close(code: number, reason: string): void;
}

export interface Socket {
  send(text: string): void;
  close(code?: number, reason?: string): void;
}

export interface OpenSocketOptions {
  token: string | undefined;
  /** Only for `ws`: give up on an upgrade that has not finished after this long. */
  handshakeTimeoutMs?: number;
}

/** The part of the standard WebSocket the client uses. */
interface StandardWebSocket {
  binaryType: string;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}
type StandardWebSocketCtor = new (url: string, protocols?: string | string[]) => StandardWebSocket;

// Type only: `ws` is loaded on demand, and only where there is no global WebSocket.
interface WsModule {
  WebSocket: typeof WsWebSocket;
}
let wsModule: Promise<WsModule> | undefined;

function loadWs(): Promise<WsModule> {
  // A computed specifier keeps browser bundlers from trying to bundle `ws`.
  const specifier = "ws";
  wsModule ??= import(/* @vite-ignore */ specifier) as Promise<WsModule>;
  return wsModule;
}

// RFC 7230 token characters: what a subprotocol name may contain.
const SUBPROTOCOL_CHARS = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

const textDecoder = new TextDecoder();

function asText(data: unknown): string | undefined {
  if (typeof data === "string") return data;
  if (data instanceof ArrayBuffer) return textDecoder.decode(new Uint8Array(data));
  if (ArrayBuffer.isView(data))
    return textDecoder.decode(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  if (Array.isArray(data)) return data.map((d) => asText(d) ?? "").join("");
  return undefined;
}

export async function openSocket(
  url: string,
  options: OpenSocketOptions,
  on: SocketHandlers,
): Promise<Socket> {
  const Native = (globalThis as { WebSocket?: StandardWebSocketCtor }).WebSocket;
  if (Native !== undefined) return openStandard(Native, url, options, on);
  const { WebSocket: Ws } = await loadWs();
  const headers: Record<string, string> = {};
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  const ws = new Ws(url, [WS_PROTOCOL], {
    headers,
    handshakeTimeout: options.handshakeTimeoutMs,
    perMessageDeflate: false,
  });
  ws.on("unexpected-response", (_req, res) => {
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      let error: WireError | undefined;
      try {
        const body: unknown = decodeWire(Buffer.concat(chunks).toString("utf8"));
        if (isWireError(body)) error = body;
      } catch {
        error = undefined;
      }
      on.refused(res.statusCode ?? 0, error);
      ws.terminate();
    };
    res.on("data", (chunk: Buffer) => chunks.push(chunk));
    res.on("end", finish);
    res.on("error", finish);
    res.on("close", finish);
  });
  ws.on("open", () => on.open());
  ws.on("message", (data, isBinary) => {
    const text = isBinary ? asText(data) : data.toString();
    if (text !== undefined) on.message(text);
  });
  // 'error' is always followed by 'close'; the close carries what the connection needs.
  ws.on("error", () => undefined);
  ws.on("close", (code, reason) => on.close(code, reason.toString("utf8")));
  return {
    send: (text) => ws.send(text),
    close: (code, reason) => {
      if (ws.readyState === ws.CONNECTING) ws.terminate();
      else ws.close(code, reason);
    },
  };
}

function openStandard(
  Native: StandardWebSocketCtor,
  url: string,
  options: OpenSocketOptions,
  on: SocketHandlers,
): Socket {
  // `enclave.v1` first: a server that picks the first offered protocol must never echo the token.
  const protocols = [WS_PROTOCOL];
  if (options.token !== undefined) {
    if (!SUBPROTOCOL_CHARS.test(options.token)) {
      throw new TypeError(
        "this token cannot travel as a WebSocket subprotocol (browser WebSockets cannot send headers)",
      );
    }
    protocols.push(TOKEN_SUBPROTOCOL_PREFIX + options.token);
  }
  const ws = new Native(url, protocols);
  ws.binaryType = "arraybuffer";
  let closed = false;
  ws.onopen = () => on.open();
  ws.onmessage = (ev) => {
    const text = asText(ev.data);
    if (text !== undefined) on.message(text);
  };
  ws.onerror = () => undefined;
  ws.onclose = (ev) => {
    if (closed) return;
    closed = true;
    on.close(ev.code, ev.reason);
  };
  return {
    send: (text) => ws.send(text),
    close: (code, reason) => ws.close(code, reason),
  };
}
