/**
 * Test harness for the gateway's wire contract: a real engine listening on 127.0.0.1 (port 0),
 * reached only through real sockets (fetch and the `ws` package). Everything received is
 * recorded so a test can prove that a secret never travelled back to the caller.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { IncomingMessage } from "node:http";
import { WebSocket, type RawData } from "ws";
import { expect } from "vitest";
import { createEngine, type CreateEngineOptions, type EnclaveEngine } from "../../create-engine.js";
import type { ErrorSpec } from "../../errors.js";
import type { AnyActorDefinition } from "../../actor/definition.js";

export const ADMIN_TOKEN = "a".repeat(32);

/** A parsed JSON body: its shape is what the tests check. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

/** A temporary directory, removed by `cleanup`. */
export async function tempDir(prefix = "enclave-gw-"): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
}

/** Polls `check` until it returns a truthy value or the deadline passes. */
export async function pollUntil<T>(
  check: () => T | Promise<T>,
  {
    timeoutMs = 10_000,
    intervalMs = 25,
    what = "condition",
  }: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${String(last)})`);
    }
    await sleep(intervalMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A promise with its resolve function outside, for gating actor code from a test. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

export interface Received {
  what: string;
  headers: string;
  body: string;
}

export interface Harness {
  running: EnclaveEngine;
  url: string;
  /** The data directory (file-system store) or undefined (memory store). */
  dataDir: string | undefined;
  /** Every response (headers and body) and WebSocket frame this harness received. */
  received: Received[];
  /** fetch against the engine; records the response. `path` starts with `/`. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** fetch with the admin token. */
  admin(path: string, init?: RequestInit): Promise<Response>;
  /** JSON request with the admin token; returns status and parsed body. */
  json(method: string, path: string, body?: unknown): Promise<{ status: number; body: Json; res: Response }>;
  /** Opens a WebSocket to the engine; records everything it receives. */
  ws(path: string, options?: WsOptions): WsClient;
  /** Fails if `secret` appears in anything this harness received. */
  assertNeverReceived(secret: string): void;
  close(): Promise<void>;
}

export interface StartOptions {
  use: Record<string, AnyActorDefinition>;
  /** Use the file-system store in a fresh temp dir (default: memory). */
  persistent?: boolean;
  /** Extra engine options merged over the defaults. */
  options?: Partial<CreateEngineOptions>;
}

/** Starts an engine with the given actor types and listens on 127.0.0.1 with a free port. */
export async function startEngine({ use, persistent = false, options = {} }: StartOptions): Promise<Harness> {
  const dataDir = persistent ? await tempDir() : undefined;
  const running = await createEngine({
    registry: { use },
    storage: dataDir ? { driver: "fileSystem", fileSystem: { path: dataDir } } : { driver: "memory" },
    gateway: { host: "127.0.0.1", port: 0 },
    auth: { adminToken: ADMIN_TOKEN },
    log: { level: "silent" },
    env: {},
    configPaths: [],
    ...options,
  });
  let url: string;
  try {
    ({ url } = await running.listen());
  } catch (e) {
    await running.close();
    throw e;
  }
  const received: Received[] = [];
  const sockets = new Set<WsClient>();

  const doFetch = async (path: string, init?: RequestInit): Promise<Response> => {
    const res = await fetch(url + path, init);
    const body = await res.clone().text();
    received.push({ what: `${init?.method ?? "GET"} ${path}`, headers: headerText(res.headers), body });
    return res;
  };
  const admin = (path: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    headers.set("authorization", `Bearer ${ADMIN_TOKEN}`);
    return doFetch(path, { ...init, headers });
  };
  const harness: Harness = {
    running,
    url,
    dataDir,
    received,
    fetch: doFetch,
    admin,
    async json(method, path, body) {
      const init: RequestInit = { method };
      if (body !== undefined) {
        init.body = JSON.stringify(body);
        init.headers = { "content-type": "application/json" };
      }
      const res = await admin(path, init);
      const text = await res.text();
      return { status: res.status, body: text === "" ? undefined : JSON.parse(text), res };
    },
    ws(path, wsOptions = {}) {
      const client = new WsClient(url.replace(/^http/, "ws") + path, wsOptions, received);
      sockets.add(client);
      return client;
    },
    assertNeverReceived(secret) {
      expect(received.length).toBeGreaterThan(0);
      for (const r of received) {
        if (r.headers.includes(secret) || r.body.includes(secret)) {
          throw new Error(`the secret appeared in the response to ${r.what}`);
        }
      }
    },
    async close() {
      for (const s of sockets) s.terminate();
      await running.close();
      if (dataDir) await removeDir(dataDir);
    },
  };
  return harness;
}

function headerText(headers: Headers | IncomingMessage["headers"]): string {
  if (headers instanceof Headers) return [...headers].map(([k, v]) => `${k}: ${v}`).join("\n");
  return Object.entries(headers)
    .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(", ") : String(v)}`)
    .join("\n");
}

/** Checks that a response is the catalogue error `spec`: status, JSON, exactly `{group, code, message, metadata?}`. */
export async function expectError(
  res: Response,
  spec: Pick<ErrorSpec, "group" | "code" | "status">,
): Promise<{ group: string; code: string; message: string; metadata?: Json }> {
  const text = await res.text();
  expect({ status: res.status, body: text }).toMatchObject({ status: spec.status });
  expect(res.headers.get("content-type") ?? "").toMatch(/^application\/json/);
  const body = JSON.parse(text) as Record<string, unknown>;
  expectErrorShape(body);
  expect({ group: body.group, code: body.code }).toEqual({ group: spec.group, code: spec.code });
  return body as { group: string; code: string; message: string; metadata?: Json };
}

/** Exactly `{ group, code, message }` plus optional `metadata`, all strings where they must be. */
export function expectErrorShape(body: unknown): void {
  expect(body).toBeTypeOf("object");
  const b = body as Record<string, unknown>;
  const keys = Object.keys(b).sort();
  expect(keys.filter((k) => k !== "metadata")).toEqual(["code", "group", "message"]);
  expect(typeof b.group).toBe("string");
  expect(typeof b.code).toBe("string");
  expect(typeof b.message).toBe("string");
  expect((b.message as string).length).toBeGreaterThan(0);
}

// ---- WebSocket ---------------------------------------------------------------------------------

export interface WsOptions {
  /** Subprotocols to offer; default `["enclave.v1"]`. */
  protocols?: string[];
  /** Extra headers; default: the admin token as a Bearer header (pass `{}` for none). */
  headers?: Record<string, string>;
  maxPayload?: number;
}

export type ServerMsg = { t: string; [k: string]: Json };

/** A `ws` client that queues parsed messages and records the upgrade and every frame. */
export class WsClient {
  readonly socket: WebSocket;
  readonly messages: ServerMsg[] = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;
  /** Settles with the HTTP status if the server answered the upgrade with an ordinary response. */
  readonly rejected: Promise<{ status: number; headers: IncomingMessage["headers"]; body: string }>;
  upgradeHeaders: IncomingMessage["headers"] | undefined;
  #waiters: (() => void)[] = [];
  #cursor = 0;

  constructor(address: string, options: WsOptions, received: Received[]) {
    const headers = options.headers ?? { authorization: `Bearer ${ADMIN_TOKEN}` };
    this.socket = new WebSocket(address, options.protocols ?? ["enclave.v1"], {
      headers,
      maxPayload: options.maxPayload ?? 64 * 1024 * 1024,
    });
    const what = `WS ${new URL(address).pathname}`;
    this.socket.on("upgrade", (res) => {
      this.upgradeHeaders = res.headers;
      received.push({ what: `${what} (upgrade)`, headers: headerText(res.headers), body: "" });
    });
    this.socket.on("message", (data: RawData) => {
      const text = Buffer.isBuffer(data)
        ? data.toString("utf8")
        : Buffer.from(data as ArrayBuffer).toString("utf8");
      received.push({ what, headers: "", body: text });
      this.messages.push(JSON.parse(text) as ServerMsg);
      this.#wake();
    });
    this.socket.on("error", () => undefined);
    this.opened = new Promise((resolve, reject) => {
      this.socket.once("open", () => resolve());
      this.socket.once("close", () => reject(new Error("closed before it opened")));
      this.socket.once("unexpected-response", () => reject(new Error("upgrade refused")));
    });
    this.opened.catch(() => undefined);
    this.closed = new Promise((resolve) => {
      this.socket.once("close", (code, reason) => {
        received.push({ what: `${what} (close)`, headers: "", body: reason.toString() });
        resolve({ code, reason: reason.toString() });
        this.#wake();
      });
    });
    this.rejected = new Promise((resolve) => {
      this.socket.once("unexpected-response", (req, res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c));
        res.on("end", () => {
          received.push({ what: `${what} (refused)`, headers: headerText(res.headers), body });
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
          // With a listener for this event, ending the request is up to us (see ws docs).
          req.destroy();
        });
      });
    });
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  send(message: unknown): void {
    this.socket.send(typeof message === "string" ? message : JSON.stringify(message));
  }

  /** The next message not yet taken (in arrival order), waiting up to `timeoutMs`. */
  async next(timeoutMs = 10_000): Promise<ServerMsg> {
    const deadline = Date.now() + timeoutMs;
    while (this.#cursor >= this.messages.length) {
      if (this.socket.readyState === WebSocket.CLOSED)
        throw new Error("socket closed while waiting for a message");
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no message within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.messages[this.#cursor++] as ServerMsg;
  }

  /** Takes messages until one matches; returns it and the ones skipped before it. */
  async until(
    match: (m: ServerMsg) => boolean,
    timeoutMs = 10_000,
  ): Promise<{ msg: ServerMsg; before: ServerMsg[] }> {
    const before: ServerMsg[] = [];
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = await this.next(Math.max(1, deadline - Date.now()));
      if (match(m)) return { msg: m, before };
      before.push(m);
    }
  }

  /** Sends an action and waits for its result or error (events before it are returned too). */
  async call(
    id: number,
    name: string,
    args: unknown[] = [],
  ): Promise<{ msg: ServerMsg; before: ServerMsg[] }> {
    this.send({ t: "action", id, name, args });
    return this.until((m) => (m.t === "result" || m.t === "error") && m.id === id);
  }

  close(): void {
    this.socket.close(1000);
  }

  terminate(): void {
    this.socket.terminate();
  }
}
