/**
 * The suite's view of the wire: plain HTTP (fetch) and WebSocket (ws) calls against the
 * engine's documented contract, not the typed client, so what is tested is the contract itself.
 *
 * Every answer passes the leak scanner: the admin token (and each namespace secret, except in
 * the one answer that created it) must never appear in a status line, header, body or message.
 * The scanner records where a secret appeared, never the secret.
 */
import { WebSocket, type RawData } from "ws";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export interface Leak {
  /** Which secret: `admin token`, `namespace secret token`... */
  secret: string;
  /** Where it appeared, e.g. `GET /tokens -> 200 (body)`. */
  where: string;
}

/** Watches answers for secrets. */
export class LeakScanner {
  readonly #watched: { value: string; label: string }[] = [];
  readonly leaks: Leak[] = [];
  /** How many answers (HTTP responses, handshakes, messages) were scanned. */
  scanned = 0;

  watch(value: string | undefined, label: string): void {
    if (value === undefined || value.length < 8) return;
    const known = this.#watched.find((w) => w.value === value);
    if (known) known.label = label;
    else this.#watched.push({ value, label });
  }

  /** The watched values (for searching files and logs); never print them. */
  values(): { value: string; label: string }[] {
    return [...this.#watched];
  }

  scan(where: string, parts: { text?: string; headers?: Record<string, string> }): void {
    this.scanned++;
    for (const w of this.#watched) {
      if (parts.text?.includes(w.value)) this.leaks.push({ secret: w.label, where: `${where} (body)` });
      for (const [name, value] of Object.entries(parts.headers ?? {})) {
        if (value.includes(w.value)) this.leaks.push({ secret: w.label, where: `${where} (header ${name})` });
      }
    }
  }
}

export interface CallOptions {
  /** Bearer token; `null` or undefined sends none. */
  token?: string | null;
  /** Query parameters (arrays repeat the name). */
  query?: Record<string, string | readonly string[] | undefined>;
  /** JSON body. */
  body?: unknown;
  /** A raw body (sent as is, with `content-type: application/json` unless headers say otherwise). */
  rawBody?: string;
  /** Extra headers; `authorization` here wins over `token`. */
  headers?: Record<string, string>;
  timeoutMs?: number;
}

export interface Answer {
  status: number;
  headers: Record<string, string>;
  text: string;
  /** The parsed JSON body, or undefined. */
  json: Json;
}

export class Api {
  readonly baseUrl: string;
  readonly scanner: LeakScanner;

  constructor(baseUrl: string, scanner: LeakScanner) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.scanner = scanner;
  }

  url(path: string, query?: CallOptions["query"]): string {
    const search = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) {
      if (v === undefined) continue;
      for (const item of typeof v === "string" ? [v] : v) search.append(k, item);
    }
    const q = search.toString();
    return `${this.baseUrl}${path}${q === "" ? "" : `?${q}`}`;
  }

  async call(method: string, path: string, options: CallOptions = {}): Promise<Answer> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined;
    if (options.rawBody !== undefined) body = options.rawBody;
    else if (options.body !== undefined) body = JSON.stringify(options.body);
    if (body !== undefined) headers["content-type"] = "application/json";
    Object.assign(headers, options.headers ?? {});
    const where = `${method} ${path}`;
    let res: Response;
    try {
      res = await fetch(this.url(path, options.query), {
        method,
        headers,
        ...(body !== undefined ? { body } : {}),
        redirect: "manual",
        signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
      });
    } catch (e) {
      throw new Error(`${where}: ${transportReason(e)}`);
    }
    const text = await res.text();
    const answerHeaders: Record<string, string> = {};
    res.headers.forEach((v, k) => (answerHeaders[k] = v));
    this.scanner.scan(`${where} -> ${res.status}`, { text, headers: answerHeaders });
    let json: Json;
    try {
      json = text === "" ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: answerHeaders, text, json };
  }

  /** Opens a WebSocket on `path`; resolves once it is open or refused. */
  socket(path: string, options: SocketOptions = {}): Promise<SocketOutcome> {
    const url = this.url(path, options.query).replace(/^http/, "ws");
    return openSocket(url, `WS ${path}`, options, this.scanner);
  }
}

export function transportReason(e: unknown): string {
  if (e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError"))
    return "no answer in time";
  const cause = (e as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (typeof cause?.code === "string") return cause.code;
  if (typeof cause?.message === "string") return cause.message;
  return e instanceof Error ? e.message : String(e);
}

// ---- WebSocket ------------------------------------------------------------------------------

export interface SocketOptions {
  token?: string | null;
  /** Subprotocols to offer (e.g. `enclave.token.TOKEN`, `enclave.v1`). */
  protocols?: string[];
  query?: CallOptions["query"];
  headers?: Record<string, string>;
  timeoutMs?: number;
}

export type SocketOutcome =
  | { kind: "open"; socket: Socket }
  | { kind: "refused"; status: number; headers: Record<string, string>; text: string; json: Json }
  | { kind: "error"; message: string };

/** An open WebSocket with its incoming JSON messages collected. */
export class Socket {
  readonly ws: WebSocket;
  readonly protocol: string;
  readonly handshakeHeaders: Record<string, string>;
  readonly messages: Json[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  #waiters = new Set<() => void>();
  #isClosed = false;

  constructor(ws: WebSocket, headers: Record<string, string>, where: string, scanner: LeakScanner) {
    this.ws = ws;
    this.protocol = ws.protocol;
    this.handshakeHeaders = headers;
    ws.on("message", (data: RawData) => {
      const text = Buffer.isBuffer(data)
        ? data.toString("utf8")
        : Array.isArray(data)
          ? Buffer.concat(data).toString("utf8")
          : Buffer.from(data).toString("utf8");
      scanner.scan(`${where} (message)`, { text });
      try {
        this.messages.push(JSON.parse(text));
      } catch {
        this.messages.push({ unparsed: text });
      }
      this.#wake();
    });
    this.closed = new Promise((resolve) =>
      ws.once("close", (code, reason) => {
        this.#isClosed = true;
        resolve({ code, reason: reason.toString("utf8") });
        this.#wake();
      }),
    );
    ws.on("error", () => undefined);
  }

  get isClosed(): boolean {
    return this.#isClosed;
  }

  send(message: unknown): void {
    this.ws.send(JSON.stringify(message));
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w();
  }

  /** Waits for a message matching `match` (already received ones count). */
  next(what: string, match: (m: Json) => boolean, timeoutMs = 10_000): Promise<Json> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.messages.find(match);
        if (found !== undefined) {
          done();
          resolve(found);
        } else if (this.#isClosed) {
          done();
          reject(new Error(`the socket closed before ${what}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(check);
      };
      this.#waiters.add(check);
      check();
    });
  }

  /** Closes (1000) and waits for the close, bounded. */
  async close(): Promise<void> {
    if (this.#isClosed) return;
    try {
      this.ws.close(1000);
    } catch {
      this.ws.terminate();
    }
    const timer = setTimeout(() => this.ws.terminate(), 2000);
    await this.closed;
    clearTimeout(timer);
  }
}

function openSocket(
  url: string,
  where: string,
  options: SocketOptions,
  scanner: LeakScanner,
): Promise<SocketOutcome> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  return new Promise((resolve) => {
    let settled = false;
    const settle = (o: SocketOutcome) => {
      if (settled) return;
      settled = true;
      resolve(o);
    };
    const ws = new WebSocket(url, options.protocols ?? [], {
      headers,
      handshakeTimeout: options.timeoutMs ?? 10_000,
      followRedirects: false,
    });
    // Errors after the outcome is settled (e.g. terminating a refused handshake) are expected.
    ws.on("error", () => undefined);
    let handshake: Record<string, string> = {};
    ws.on("upgrade", (res) => {
      handshake = flatHeaders(res.headers);
      scanner.scan(`${where} -> 101`, { headers: handshake });
    });
    ws.on("unexpected-response", (_req, res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        const h = flatHeaders(res.headers);
        scanner.scan(`${where} -> ${res.statusCode ?? 0}`, { text, headers: h });
        let json: Json;
        try {
          json = text === "" ? undefined : JSON.parse(text);
        } catch {
          json = undefined;
        }
        settle({ kind: "refused", status: res.statusCode ?? 0, headers: h, text, json });
        ws.terminate();
      });
      res.on("error", () =>
        settle({ kind: "refused", status: res.statusCode ?? 0, headers: {}, text: "", json: undefined }),
      );
    });
    ws.once("open", () => settle({ kind: "open", socket: new Socket(ws, handshake, where, scanner) }));
    ws.once("error", (e) => settle({ kind: "error", message: e.message }));
    ws.once("close", () => settle({ kind: "error", message: "closed before opening" }));
  });
}

function flatHeaders(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(", ") : v;
  return out;
}
