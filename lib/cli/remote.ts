/**
 * Talking to a running engine's admin API: where it is (`--endpoint`, else `ENCLAVE_ENDPOINT`,
 * else http://127.0.0.1:6420), which admin token to present (exactly one of: the endpoint
 * URL's userinfo, `--admin-token-file`, `ENCLAVE_ADMIN_TOKEN`; else DATA_DIR/admin-token when
 * `--data` is given), and how engine errors become exit codes. The token is only ever sent
 * as `Authorization: Bearer`; it is never printed, and URLs shown to the user carry no
 * credentials.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import { ENDPOINT_ENV, parseEndpoint } from "../client/endpoint.js";
import { ADMIN_TOKEN_FILE } from "../gateway/admin-token.js";
import { CliError, UsageError, type CliIo } from "./io.js";

export const DEFAULT_ENDPOINT = "http://127.0.0.1:6420";
export const ADMIN_TOKEN_ENV = "ENCLAVE_ADMIN_TOKEN";
/** How long one API call may take (not the backup stream). */
const REQUEST_TIMEOUT_MS = 30_000;

export interface RemoteOptions {
  endpoint?: string;
  adminTokenFile?: string;
  data?: string;
}

/** Adds `--endpoint`, `--admin-token-file` and `--data` to a command that talks to an engine. */
export function addRemoteOptions(cmd: Command, { data = true }: { data?: boolean } = {}): Command {
  cmd
    .option(
      "--endpoint <url>",
      `the engine's URL, http://[NAMESPACE[:ADMIN_TOKEN]@]host:port (default: $${ENDPOINT_ENV}, else ${DEFAULT_ENDPOINT})`,
    )
    .option(
      "--admin-token-file <file>",
      `file holding the admin token (default: $${ADMIN_TOKEN_ENV}, else DATA_DIR/${ADMIN_TOKEN_FILE} with --data)`,
    );
  if (data) cmd.option("--data <dir>", `the engine's data directory, to read DATA_DIR/${ADMIN_TOKEN_FILE}`);
  return cmd;
}

export interface Remote {
  /** `http(s)://host:port[/base]`, no credentials: safe to print. */
  readonly baseUrl: string;
  /** The namespace named in the endpoint URL's userinfo, if any. */
  readonly urlNamespace: string | undefined;
  /** A JSON API call; throws CliError on transport or HTTP errors. */
  call(method: string, route: string, options?: CallOptions): Promise<unknown>;
  /** A raw GET (for streams); throws CliError unless the status is 2xx. */
  stream(route: string): Promise<Response>;
}

export interface CallOptions {
  query?: Record<string, string | undefined>;
  body?: unknown;
}

const TOKEN_CHARS = /^[\x21-\x7e]+$/;

/** Reads a token file: one line, trailing newline and a leading BOM ignored. */
export function readTokenFile(file: string, what: string): string {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = readFileSync(abs, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const reason =
      code === "ENOENT"
        ? "no such file"
        : code === "EACCES" || code === "EPERM"
          ? "permission denied"
          : code === "EISDIR"
            ? "it is a directory"
            : (code ?? "unreadable");
    throw new UsageError(`cannot read ${what} ${abs}: ${reason}`);
  }
  const token = text.replace(/^\uFEFF/, "").trim();
  if (token === "") throw new UsageError(`${what} ${abs} is empty`);
  if (!TOKEN_CHARS.test(token)) {
    throw new UsageError(`${what} ${abs} does not hold a token (one line of printable ASCII, no spaces)`);
  }
  return token;
}

export function resolveRemote(options: RemoteOptions, io: Pick<CliIo, "env">): Remote {
  const fromEnv = io.env[ENDPOINT_ENV];
  const raw =
    options.endpoint ??
    (fromEnv !== undefined && fromEnv.trim() !== "" ? fromEnv : undefined) ??
    DEFAULT_ENDPOINT;
  const source =
    options.endpoint !== undefined ? "--endpoint" : raw === fromEnv ? ENDPOINT_ENV : "default endpoint";

  let endpoint: ReturnType<typeof parseEndpoint>;
  try {
    endpoint = parseEndpoint({ endpoint: raw });
  } catch (e) {
    throw new UsageError(`${source}: ${(e as Error).message}`);
  }
  let urlNamespace: string | undefined;
  try {
    urlNamespace = new URL(raw.trim()).username === "" ? undefined : endpoint.namespace;
  } catch {
    urlNamespace = undefined;
  }

  const given: { where: string; token: () => string }[] = [];
  if (endpoint.token !== undefined) {
    const token = endpoint.token;
    given.push({ where: `the ${source} URL`, token: () => token });
  }
  if (options.adminTokenFile !== undefined) {
    const file = options.adminTokenFile;
    given.push({ where: "--admin-token-file", token: () => readTokenFile(file, "admin token file") });
  }
  const envToken = io.env[ADMIN_TOKEN_ENV];
  if (envToken !== undefined && envToken !== "") {
    given.push({
      where: ADMIN_TOKEN_ENV,
      token: () => {
        const t = envToken.trim();
        if (!TOKEN_CHARS.test(t)) throw new UsageError(`${ADMIN_TOKEN_ENV} does not hold a token`);
        return t;
      },
    });
  }
  if (given.length > 1) {
    throw new UsageError(
      `the admin token is given more than once (${given.map((g) => g.where).join(", ")}); give it once`,
    );
  }
  let token: string;
  if (given[0]) {
    token = given[0].token();
  } else if (options.data !== undefined) {
    token = readTokenFile(path.join(options.data, ADMIN_TOKEN_FILE), "admin token file");
  } else {
    throw new UsageError(
      `no admin token: pass --admin-token-file FILE or --data DATA_DIR (reads DATA_DIR/${ADMIN_TOKEN_FILE}), ` +
        `set ${ADMIN_TOKEN_ENV}, or put it in the endpoint URL (http://default:TOKEN@host:port)`,
    );
  }

  const baseUrl = endpoint.baseUrl;
  const headers = (json: boolean): Record<string, string> => ({
    authorization: `Bearer ${token}`,
    accept: json ? "application/json" : "*/*",
  });

  const send = async (
    method: string,
    route: string,
    init: RequestInit,
    timeout: boolean,
  ): Promise<Response> => {
    const url = baseUrl + route;
    try {
      return await fetch(url, {
        ...init,
        method,
        redirect: "error",
        ...(timeout ? { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) } : {}),
      });
    } catch (e) {
      throw new CliError(`cannot reach the engine at ${baseUrl}: ${transportReason(e)}`);
    }
  };

  return {
    baseUrl,
    urlNamespace,
    async call(method, route, { query, body } = {}) {
      const search = new URLSearchParams();
      for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) search.append(k, v);
      const full = search.size > 0 ? `${route}?${search.toString()}` : route;
      const init: RequestInit = { headers: headers(true) };
      if (body !== undefined) {
        init.body = JSON.stringify(body);
        init.headers = { ...headers(true), "content-type": "application/json" };
      }
      const res = await send(method, full, init, true);
      const text = await res.text().catch(() => "");
      let parsed: unknown = undefined;
      if (text !== "") {
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = undefined;
        }
      }
      if (!res.ok) throw httpError(res.status, parsed, `${method} ${route}`, baseUrl);
      if (text !== "" && parsed === undefined) {
        throw new CliError(
          `the engine at ${baseUrl} answered ${method} ${route} with something other than JSON`,
        );
      }
      return parsed;
    },
    async stream(route) {
      const res = await send("GET", route, { headers: headers(false) }, false);
      if (!res.ok) {
        const text = await res.text().catch(() => "");
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = undefined;
        }
        throw httpError(res.status, parsed, `GET ${route}`, baseUrl);
      }
      return res;
    },
  };
}

function transportReason(e: unknown): string {
  if (e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError")) {
    return `no answer within ${REQUEST_TIMEOUT_MS / 1000} s`;
  }
  const cause = (e as { cause?: { code?: unknown; message?: unknown } }).cause;
  const code = typeof cause?.code === "string" ? cause.code : undefined;
  switch (code) {
    case "ECONNREFUSED":
      return "connection refused (is the engine running, and is this its host and port?)";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "unknown host";
    case "ECONNRESET":
      return "the connection was reset";
    case "ETIMEDOUT":
    case "UND_ERR_CONNECT_TIMEOUT":
      return "the connection timed out";
    default:
      // Messages from fetch never hold the URL's credentials: the URL we fetch has none.
      return code ?? (typeof cause?.message === "string" ? cause.message : "network error");
  }
}

interface WireErrorBody {
  group?: unknown;
  code?: unknown;
  message?: unknown;
}

/** An engine error response as a CliError: 400 is a usage error (exit 2), the rest exit 1. */
export function httpError(status: number, body: unknown, what: string, baseUrl: string): CliError {
  const b = (typeof body === "object" && body !== null ? body : {}) as WireErrorBody;
  const id = typeof b.group === "string" && typeof b.code === "string" ? ` ${b.group}.${b.code}` : "";
  const message = typeof b.message === "string" ? b.message : "";
  const suffix = `(HTTP ${status}${id})`;
  if (status === 404 && b.code === "route_not_found") {
    return new CliError(
      `the engine at ${baseUrl} does not serve ${what} ${suffix}; is it an older version, or not an enclave engine?`,
    );
  }
  if (status === 401) {
    return new CliError(
      `the engine refused the admin token ${suffix}; check --admin-token-file, ${ADMIN_TOKEN_ENV} or the endpoint URL`,
    );
  }
  if (status === 403) {
    return new CliError(`not allowed ${suffix}: this needs the admin token, not a namespace token`);
  }
  const text = message !== "" ? `${message} ${suffix}` : `${what} failed ${suffix}`;
  if (status === 400) return new UsageError(`the engine rejected the request: ${text}`);
  return new CliError(text);
}
