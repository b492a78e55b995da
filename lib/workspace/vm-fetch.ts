/**
 * `vmFetch(port, path, init)`: an HTTP/1.1 request from the host into a guest server, over the
 * kernel's socket table (never a host socket). Node's HTTP client parses the response.
 */
import http from "node:http";
import { EnclaveError, Errors, err } from "../errors.js";
import type { NetApi } from "./kernel/types.js";
import { KernelSocketStream } from "./socket-stream.js";

export interface VmFetchInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** Give up after this many milliseconds (default 30 s). */
  timeoutMs?: number;
}

export interface VmFetchResponse {
  status: number;
  statusText: string;
  /** Lower-case names; repeated headers joined with ", " (set-cookie with "\n"). */
  headers: Record<string, string>;
  body: Uint8Array;
}

/** Largest response body vmFetch returns (it travels back as one action result). */
export const MAX_VM_FETCH_BODY = 32 * 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 30_000;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Control characters (and, for paths, spaces) would split or smuggle a request line or header. */
function hasControl(s: string, spaces: boolean): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 ? c !== 0x09 || spaces : c === 0x7f || (spaces && c === 0x20)) return true;
  }
  return false;
}

export function checkPort(port: unknown): number {
  if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw err(Errors.badRequest, `A port is a whole number from 1 to 65535, got ${JSON.stringify(port)}`);
  }
  return port;
}

function checkInit(
  path: unknown,
  init: VmFetchInit,
): { path: string; method: string; headers: Record<string, string> } {
  if (typeof path !== "string" || !path.startsWith("/") || hasControl(path, true)) {
    throw err(
      Errors.badRequest,
      'vmFetch takes a path starting with "/" without spaces or control characters',
    );
  }
  const method = (init.method ?? "GET").toUpperCase();
  if (!TOKEN.test(method)) throw err(Errors.badRequest, `"${init.method}" is not an HTTP method`);
  const headers: Record<string, string> = {};
  if (init.headers !== undefined) {
    if (typeof init.headers !== "object" || init.headers === null || Array.isArray(init.headers)) {
      throw err(Errors.badRequest, "vmFetch headers are an object of strings");
    }
    for (const [name, value] of Object.entries(init.headers)) {
      if (!TOKEN.test(name) || typeof value !== "string" || hasControl(value, false)) {
        throw err(Errors.badRequest, `vmFetch header ${JSON.stringify(name)} is not a valid header`);
      }
      headers[name.toLowerCase()] = value;
    }
  }
  if (init.body !== undefined && typeof init.body !== "string" && !(init.body instanceof Uint8Array)) {
    throw err(Errors.badRequest, "vmFetch body is a string or bytes");
  }
  return { path, method, headers };
}

/** A host-side stream into a guest port; 502 workspace/port_not_listening when nobody listens. */
export function connectToGuest(net: NetApi, port: number): KernelSocketStream {
  try {
    return new KernelSocketStream(net.connectFromHost(port));
  } catch (e) {
    if ((e as { code?: string }).code === "ECONNREFUSED") {
      throw err(
        Errors.wsPortNotListening,
        `Nothing in the workspace listens on port ${port}; start its server first (spawn, or startup in workspace())`,
        { port },
      );
    }
    throw e;
  }
}

export async function vmFetch(
  net: NetApi,
  port: number,
  path: string,
  init: VmFetchInit = {},
): Promise<VmFetchResponse> {
  checkPort(port);
  const { method, headers } = checkInit(path, init);
  const timeoutMs = init.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0)
    throw err(Errors.badRequest, "timeoutMs must be positive");
  const stream = connectToGuest(net, port);
  const body =
    init.body === undefined
      ? undefined
      : typeof init.body === "string"
        ? Buffer.from(init.body)
        : Buffer.from(init.body);
  if (headers.host === undefined) headers.host = `127.0.0.1:${port}`;
  if (body !== undefined) headers["content-length"] = String(body.length);
  if (headers.connection === undefined) headers.connection = "close";
  return new Promise<VmFetchResponse>((resolve, reject) => {
    let settled = false;
    const finish = (e: Error | undefined, r?: VmFetchResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      stream.destroy();
      if (e) reject(e);
      else resolve(r!);
    };
    const timer = setTimeout(
      () =>
        finish(err(Errors.wsFetchTimeout, `No answer from port ${port} within ${timeoutMs} ms`, { port })),
      timeoutMs,
    );
    // No `agent` option at all: with `agent: false` Node builds a fresh Agent, which ignores
    // createConnection and would open a real host socket to port 80.
    const req = http.request({ createConnection: () => stream, method, path, headers, setHost: false });
    req.on("error", (e) =>
      finish(
        e instanceof EnclaveError
          ? e
          : err(
              Errors.wsBadResponse,
              `The server on port ${port} did not send a valid HTTP response: ${e.message}`,
              { port },
            ),
      ),
    );
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (c: Buffer) => {
        size += c.length;
        if (size > MAX_VM_FETCH_BODY) {
          finish(
            err(
              Errors.wsBadResponse,
              `The response from port ${port} is larger than ${MAX_VM_FETCH_BODY} bytes`,
              {
                port,
                limit: MAX_VM_FETCH_BODY,
              },
            ),
          );
          return;
        }
        chunks.push(c);
      });
      res.on("error", (e) =>
        finish(err(Errors.wsBadResponse, `The response from port ${port} broke off: ${e.message}`)),
      );
      res.on("end", () => {
        const out: Record<string, string> = {};
        for (const [name, value] of Object.entries(res.headers)) {
          if (value === undefined) continue;
          out[name] = Array.isArray(value) ? value.join(name === "set-cookie" ? "\n" : ", ") : value;
        }
        finish(undefined, {
          status: res.statusCode ?? 0,
          statusText: res.statusMessage ?? "",
          headers: out,
          body: new Uint8Array(Buffer.concat(chunks)),
        });
      });
    });
    req.end(body);
  });
}
