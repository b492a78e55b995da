/**
 * Endpoint parsing: `http://NAMESPACE:TOKEN@host:port` (userinfo percent-decoded), or options,
 * or `ENCLAVE_ENDPOINT`. The token never appears in an error message, a URL the client builds,
 * or an enumerable property.
 */

export const DEFAULT_NAMESPACE = "default";
export const ENDPOINT_ENV = "ENCLAVE_ENDPOINT";

export interface EndpointOptions {
  /** `http(s)://[NAMESPACE[:TOKEN]@]host:port[/base-path]`; default `ENCLAVE_ENDPOINT`. */
  endpoint?: string;
  /** Namespace, when the endpoint URL does not carry one. Default `default`. */
  namespace?: string;
  /** Token, when the endpoint URL does not carry one. */
  token?: string;
}

/** A parsed endpoint. `baseUrl` has no credentials and no trailing slash. */
export interface Endpoint {
  readonly baseUrl: string;
  readonly namespace: string;
  /** The bearer token, if any (non-enumerable: it does not show in logs or JSON). */
  readonly token: string | undefined;
}

const HINT = "expected http://NAMESPACE:TOKEN@host:port";

/**
 * `http://ns:secret@host` -> `http://ns:***@host`. Works on strings that are not valid URLs,
 * and errs on the side of hiding: everything before the last `@` but the namespace goes.
 */
export function redactEndpoint(text: string): string {
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(text)?.[0] ?? "";
  const rest = text.slice(scheme.length);
  const at = rest.lastIndexOf("@");
  if (at < 0) return text;
  const userinfo = rest.slice(0, at);
  const colon = userinfo.indexOf(":");
  const shown = colon < 0 ? userinfo : `${userinfo.slice(0, colon)}:***`;
  return `${scheme}${shown}${rest.slice(at)}`;
}

function readEnv(name: string): string | undefined {
  // Browsers have no `process`; bundlers may provide a partial one.
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  const value = proc?.env?.[name];
  return value === undefined || value === "" ? undefined : value;
}

function decodePart(part: string, what: "namespace" | "token"): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new TypeError(`invalid endpoint: the ${what} in the URL is not valid percent-encoding`);
  }
}

// Visible ASCII: what a header value (`Authorization: Bearer ...`) can carry unchanged.
const TOKEN_CHARS = /^[\x21-\x7e]+$/;

export function parseEndpoint(input?: string | EndpointOptions): Endpoint {
  const options: EndpointOptions = typeof input === "string" ? { endpoint: input } : { ...(input ?? {}) };
  const fromEnv = options.endpoint === undefined;
  const raw = options.endpoint ?? readEnv(ENDPOINT_ENV);
  const source = fromEnv ? `${ENDPOINT_ENV}` : "endpoint";
  if (raw === undefined || raw.trim() === "") {
    throw new TypeError(
      `no endpoint: pass createClient("http://NAMESPACE:TOKEN@host:port") or set ${ENDPOINT_ENV}`,
    );
  }
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    // No `cause`: the URL error carries the input, token included.
    throw new TypeError(`invalid ${source} "${redactEndpoint(raw.trim())}": ${HINT}`);
  }
  const shown = redactEndpoint(url.href);
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TypeError(`invalid ${source} "${shown}": the scheme must be http or https (${HINT})`);
  }
  if (url.search !== "" || url.hash !== "") {
    throw new TypeError(
      `invalid ${source} "${url.protocol}//${url.host}${url.pathname}?...": ` +
        `it must not have a query or fragment (give the namespace as http://NAMESPACE:TOKEN@host:port)`,
    );
  }

  const urlNamespace = url.username === "" ? undefined : decodePart(url.username, "namespace");
  const urlToken = url.password === "" ? undefined : decodePart(url.password, "token");

  if (urlNamespace !== undefined && options.namespace !== undefined) {
    throw new TypeError(
      `the namespace is given twice: in the ${source} URL and in the namespace option; give it once`,
    );
  }
  if (urlToken !== undefined && options.token !== undefined) {
    throw new TypeError(
      `the token is given twice: in the ${source} URL and in the token option; give it once`,
    );
  }

  const namespace = urlNamespace ?? options.namespace ?? DEFAULT_NAMESPACE;
  if (namespace === "") throw new TypeError("the namespace must not be empty");
  const token = urlToken ?? options.token;
  if (token !== undefined && !TOKEN_CHARS.test(token)) {
    throw new TypeError("the token must be printable ASCII without spaces");
  }

  const baseUrl = `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, "")}`;
  const endpoint = { baseUrl, namespace } as Endpoint;
  Object.defineProperty(endpoint, "token", { value: token, enumerable: false });
  return Object.freeze(endpoint);
}

export type QueryValue = string | readonly string[] | undefined;

/**
 * `baseUrl + path`, with `namespace` first in the query and then `query` (repeated for arrays).
 * `path` is used as given (callers encode its segments); it may carry its own query string.
 */
export function buildUrl(
  endpoint: Endpoint,
  path: string,
  query: Record<string, QueryValue> = {},
  { namespace = true }: { namespace?: boolean } = {},
): string {
  const url = new URL(endpoint.baseUrl + (path.startsWith("/") ? path : `/${path}`));
  const ours = new URLSearchParams();
  if (namespace) ours.append("namespace", endpoint.namespace);
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined) continue;
    for (const item of typeof v === "string" ? [v] : v) ours.append(k, item);
  }
  // The caller's own query string is kept byte for byte, after ours.
  const parts = [ours.toString(), url.search.slice(1)].filter((part) => part !== "");
  url.hash = "";
  url.search = parts.length === 0 ? "" : `?${parts.join("&")}`;
  return url.href;
}

/** The same URL with `ws:`/`wss:` in place of `http:`/`https:`. */
export function toWebSocketUrl(httpUrl: string): string {
  return httpUrl.replace(/^http(s?):/, "ws$1:");
}

export function encodeSegment(segment: string): string {
  return encodeURIComponent(segment);
}
