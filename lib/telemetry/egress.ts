/**
 * The egress audit: every outbound TCP/TLS connection and every DNS query this process attempts
 * is recorded, and with `enforce` anything not on the allow list is refused before a packet
 * leaves. See docs/decisions/0003-egress-audit.md for why this patches Node's choke points.
 *
 * Layers:
 * - Choke points (record + refuse, before the SYN or the query): `net.Socket.prototype.connect`
 *   (net.connect, http, https, tls, http2 and fetch/undici all end there), `dns.lookup`,
 *   `dns.lookupService`, `dns.resolve*`, `dns.reverse`, the same on `dns.promises` and on both
 *   `Resolver` classes.
 * - Diagnostics channels (record after the fact, cut the socket): `net.client.socket` and
 *   `undici:client:connected` catch a socket that connected without passing the patched
 *   `connect` (a library that replaced it, or called a copy taken before install). A channel
 *   subscriber cannot veto, so these only back the patch up.
 *
 * Loopback (127.0.0.0/8, ::1, 0.0.0.0, ::, localhost) and Unix sockets/pipes are
 * local traffic, not egress: always allowed, and recorded only with `includeLoopback`.
 * A DNS lookup of an IP literal sends no query and is not recorded.
 *
 * The hooks are process-wide and installed once; every `installEgressAudit` call returns a
 * handle, and the hooks come off when the last handle is uninstalled. With several handles the
 * policy fails closed: enforcement is on if any handle enforces, and the allow lists of the
 * enforcing handles are merged.
 */
import dc from "node:diagnostics_channel";
import dns from "node:dns";
import { syncBuiltinESMExports } from "node:module";
import net from "node:net";
import { constants as osConstants } from "node:os";

export type EgressKind = "connect" | "dns";

export interface EgressAttempt {
  /** When it was attempted, epoch ms. */
  at: number;
  kind: EgressKind;
  /** The destination as the caller named it (host name or IP; IPv6 without brackets). */
  host: string;
  /** TCP port for connects; null for DNS queries (they carry a name, not a port). */
  port: number | null;
  allowed: boolean;
  /** Who attempted it, when not the engine itself (e.g. "workspace 3f2a… pid 4"). */
  source?: string;
  /** Why it was refused, when a policy other than the air gap refused it. */
  reason?: string;
}

/** The minimal logger the audit needs (a pino Logger fits). */
export interface EgressLogger {
  warn(obj: object, msg: string): void;
}

export interface EgressAuditOptions {
  /** Refuse destinations not on `allow` (`airgap.enforce`). Default false: record only. */
  enforce?: boolean;
  /** `host:port` patterns (`airgap.allow`); `*` for a whole host label, the whole host or the port. */
  allow?: readonly string[];
  /** Denied attempts are logged here at warn (host and port only). */
  log?: EgressLogger;
  /** Size of the ring buffer of attempts (default 10,000). */
  maxEntries?: number;
  /** Also record loopback and local-socket traffic (never refused). Default false. */
  includeLoopback?: boolean;
  /** Called for every recorded attempt (e.g. to count it in metrics). Must not throw. */
  onAttempt?: (attempt: EgressAttempt) => void;
}

export interface EgressStats {
  /** Attempts recorded since the hooks were installed (including those the buffer dropped). */
  recorded: number;
  /** Of those, refused. */
  denied: number;
  /** Dropped from the ring buffer because it was full. */
  dropped: number;
}

export interface EgressAudit {
  /** The recorded attempts, oldest first, newest last (a copy). */
  attempts(): EgressAttempt[];
  stats(): EgressStats;
  /** Whether the process-wide policy currently refuses destinations not allowed. */
  readonly enforcing: boolean;
  /** Releases this handle; the hooks come off with the last one. Idempotent. */
  uninstall(): void;
}

export const EGRESS_DENIED_CODE = "EENCLAVE_EGRESS_DENIED";
export const DEFAULT_MAX_ENTRIES = 10_000;

/** What a refused connect or query fails with: shaped like Node's ECONNREFUSED / ENOTFOUND errors. */
export class EgressDeniedError extends Error {
  readonly code = EGRESS_DENIED_CODE;
  /** Negative errno like libuv's; ECONNREFUSED's value so generic retry logic treats it alike. */
  readonly errno = -(osConstants.errno.ECONNREFUSED ?? 111);
  readonly syscall: string;
  readonly kind: EgressKind;
  /** The host or address refused. */
  readonly hostname: string;
  readonly address: string;
  readonly port: number | undefined;

  constructor(kind: EgressKind, syscall: string, host: string, port: number | null) {
    const where = port === null ? host : `${host.includes(":") ? `[${host}]` : host}:${port}`;
    super(`${syscall} ${EGRESS_DENIED_CODE} ${where} (not on airgap.allow)`);
    this.name = "EgressDeniedError";
    this.kind = kind;
    this.syscall = syscall;
    this.hostname = host;
    this.address = host;
    this.port = port ?? undefined;
  }
}

// ---- allow-list patterns --------------------------------------------------------------------

export interface AllowRule {
  /** The pattern as written. */
  readonly source: string;
  /** Host labels (`*` matches one label); undefined when the host is `*` (any host). */
  readonly labels: readonly string[] | undefined;
  /** Canonical IPv6 address for bracketed patterns. */
  readonly ipv6: string | undefined;
  /** null: any port. */
  readonly port: number | null;
}

const LABEL = /^(\*|[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)$/;

/**
 * Parses one `host:port` pattern: `db.corp.example:5432`, `*.corp.example:443`, `10.0.*.*:*`,
 * `[fd00::1]:4318`, `*:443`. `*` stands for a whole label, the whole host or the port.
 * Throws a TypeError saying what is wrong.
 */
export function parseAllowPattern(pattern: string): AllowRule {
  const fail = (why: string): never => {
    throw new TypeError(`invalid airgap.allow pattern "${pattern}": ${why}`);
  };
  const text = pattern.trim().toLowerCase();
  let hostPart: string;
  let portPart: string;
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    if (close < 0) fail("missing ]");
    hostPart = text.slice(1, close);
    if (text[close + 1] !== ":") fail("expected host:port (IPv6 as [addr]:port)");
    portPart = text.slice(close + 2);
  } else {
    const colon = text.lastIndexOf(":");
    if (colon < 0) fail("expected host:port");
    hostPart = text.slice(0, colon);
    portPart = text.slice(colon + 1);
    if (hostPart.includes(":")) fail("put IPv6 addresses in brackets: [addr]:port");
  }
  let port: number | null = null;
  if (portPart !== "*") {
    if (!/^\d{1,5}$/.test(portPart)) fail("the port must be a number or *");
    port = Number(portPart);
    if (port < 1 || port > 65535) fail("the port must be 1-65535 or *");
  }
  if (text.startsWith("[")) {
    if (!net.isIPv6(hostPart)) fail("not an IPv6 address in the brackets");
    return { source: pattern, labels: undefined, ipv6: canonicalIPv6(hostPart), port };
  }
  if (hostPart.endsWith(".")) hostPart = hostPart.slice(0, -1);
  if (hostPart === "*") return { source: pattern, labels: undefined, ipv6: undefined, port };
  if (hostPart === "") fail("empty host");
  const labels = hostPart.split(".");
  for (const label of labels) {
    if (!LABEL.test(label)) fail(`bad host label "${label}" (use * for a whole label)`);
  }
  return { source: pattern, labels, ipv6: undefined, port };
}

/** A destination prepared once for matching against many rules. */
interface Target {
  /** Normalized host. */
  host: string;
  /** Canonical form when the host is an IPv6 address. */
  ipv6: string | undefined;
  /** Labels when it is not. */
  labels: string[] | undefined;
}

function toTarget(host: string): Target {
  return targetOf(normalizeHost(host));
}

function targetOf(h: string): Target {
  if (net.isIPv6(h)) return { host: h, ipv6: canonicalIPv6(h), labels: undefined };
  return { host: h, ipv6: undefined, labels: h.split(".") };
}

function matchTarget(rule: AllowRule, t: Target, port: number | null): boolean {
  if (port !== null && rule.port !== null && rule.port !== port) return false;
  if (rule.ipv6 !== undefined) return t.ipv6 === rule.ipv6;
  if (rule.labels === undefined) return true;
  const labels = t.labels;
  if (labels === undefined || labels.length !== rule.labels.length) return false;
  for (let i = 0; i < labels.length; i++) {
    const l = rule.labels[i];
    if (l !== "*" && l !== labels[i]) return false;
  }
  return true;
}

/** Does `host` (and `port`, when given) match the rule? A null port (DNS) matches any port. */
export function matchesRule(rule: AllowRule, host: string, port: number | null): boolean {
  return matchTarget(rule, toTarget(host), port);
}

/** True when some rule allows the destination. */
export function isAllowed(rules: readonly AllowRule[], host: string, port: number | null): boolean {
  const t = toTarget(host);
  return rules.some((r) => matchTarget(r, t, port));
}

/**
 * The allow pattern for a URL's host and port (default port by scheme), e.g. to allow the
 * OpenTelemetry collector: `allowPatternForUrl("http://otel.corp:4318/v1/traces")` is
 * `otel.corp:4318`.
 */
export function allowPatternForUrl(url: string): string {
  const u = new URL(url);
  const port = u.port !== "" ? u.port : u.protocol === "https:" || u.protocol === "wss:" ? "443" : "80";
  return `${u.hostname}:${port}`;
}

// ---- hosts --------------------------------------------------------------------------------

function canonicalIPv6(addr: string): string {
  const zone = addr.indexOf("%");
  const bare = zone >= 0 ? addr.slice(0, zone) : addr;
  try {
    return new URL(`http://[${bare}]/`).hostname.slice(1, -1);
  } catch {
    return bare.toLowerCase();
  }
}

/** Lower case, no trailing dot, no brackets, no userinfo/path/query (defensive: never logged). */
function normalizeHost(host: string): string {
  let h = host.trim();
  const at = h.lastIndexOf("@");
  if (at >= 0) h = h.slice(at + 1);
  const cut = h.search(/[/?#\s]/);
  if (cut >= 0) h = h.slice(0, cut);
  if (h.startsWith("[") && h.endsWith("]")) h = h.slice(1, -1);
  h = h.toLowerCase();
  if (h.endsWith(".") && h.length > 1) h = h.slice(0, -1);
  return h.slice(0, 255);
}

/** Loopback or "this host": traffic that never leaves the machine. */
export function isLoopbackHost(host: string): boolean {
  return isLoopbackNormalized(normalizeHost(host));
}

function isLoopbackNormalized(h: string): boolean {
  // Only the exact name: Node resolves `*.localhost` through getaddrinfo, which may ask DNS.
  if (h === "" || h === "localhost") return true;
  if (net.isIPv4(h)) return h.startsWith("127.") || h === "0.0.0.0";
  if (h.includes(":") && net.isIPv6(h)) {
    const c = canonicalIPv6(h);
    return c === "::1" || c === "::" || /^::ffff:7f[0-9a-f]{2}:/.test(c) || c.startsWith("::ffff:127.");
  }
  return false;
}

// ---- process-wide state ---------------------------------------------------------------------

interface HandleOptions {
  enforce: boolean;
  rules: AllowRule[];
  log: EgressLogger | undefined;
  maxEntries: number;
  includeLoopback: boolean;
  onAttempt: ((a: EgressAttempt) => void) | undefined;
}

type AnyFn = (...args: unknown[]) => unknown;

interface Patch {
  target: Record<string, unknown>;
  key: string;
  original: AnyFn;
  wrapper: AnyFn;
  /** Whether the original was an own property (else inherited: delete ours to restore). */
  own: boolean;
}

interface AuditState {
  handles: Set<HandleOptions>;
  /** Effective policy, recomputed when handles change. */
  enforce: boolean;
  rules: AllowRule[];
  includeLoopback: boolean;
  loggers: EgressLogger[];
  listeners: ((a: EgressAttempt) => void)[];
  ring: Ring<EgressAttempt>;
  stats: EgressStats;
  patches: Patch[];
  unsubscribe: (() => void)[];
}

/**
 * On globalThis so that two copies of this module in one process (a bundle plus the package)
 * share one set of hooks instead of stacking them.
 */
const STATE_KEY = Symbol.for("enclave.egressAudit.state");
/** Marks a socket whose connect went through the patched method. */
const AUDITED = Symbol.for("enclave.egressAudit.audited");

function getState(): AuditState | undefined {
  return (globalThis as Record<symbol, AuditState | undefined>)[STATE_KEY];
}
function setState(s: AuditState | undefined): void {
  (globalThis as Record<symbol, AuditState | undefined>)[STATE_KEY] = s;
}

class Ring<T> {
  #buf: (T | undefined)[];
  #start = 0;
  #len = 0;

  constructor(readonly max: number) {
    this.#buf = new Array<T | undefined>(Math.min(max, 1024));
  }

  /** Adds one; returns true when the oldest was dropped to make room. */
  push(item: T): boolean {
    if (this.#len < this.max) {
      if (this.#len === this.#buf.length) this.#grow();
      this.#buf[(this.#start + this.#len) % this.#buf.length] = item;
      this.#len++;
      return false;
    }
    this.#buf[this.#start] = item;
    this.#start = (this.#start + 1) % this.#buf.length;
    return true;
  }

  toArray(): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.#len; i++) out.push(this.#buf[(this.#start + i) % this.#buf.length] as T);
    return out;
  }

  #grow(): void {
    const items = this.toArray();
    this.#buf = new Array<T | undefined>(Math.min(this.max, Math.max(1, this.#buf.length * 2)));
    items.forEach((x, i) => (this.#buf[i] = x));
    this.#start = 0;
  }
}

function recompute(state: AuditState): void {
  const handles = [...state.handles];
  state.enforce = handles.some((h) => h.enforce);
  state.rules = handles.filter((h) => h.enforce).flatMap((h) => h.rules);
  state.includeLoopback = handles.some((h) => h.includeLoopback);
  state.loggers = [...new Set(handles.map((h) => h.log).filter((l): l is EgressLogger => l !== undefined))];
  state.listeners = handles.map((h) => h.onAttempt).filter((f): f is (a: EgressAttempt) => void => !!f);
  const max = Math.max(...handles.map((h) => h.maxEntries));
  if (max !== state.ring.max) {
    const next = new Ring<EgressAttempt>(max);
    for (const a of state.ring.toArray()) {
      if (next.push(a)) state.stats.dropped++;
    }
    state.ring = next;
  }
}

/**
 * The decision for one attempt: loopback passes (recorded only with includeLoopback); anything
 * else is recorded, and refused when enforcing and not allowed.
 */
function decide(state: AuditState, kind: EgressKind, rawHost: string, port: number | null): boolean {
  const host = normalizeHost(rawHost);
  if (isLoopbackNormalized(host)) {
    if (state.includeLoopback) record(state, { at: Date.now(), kind, host, port, allowed: true });
    return true;
  }
  let allowed = true;
  if (state.enforce) {
    const t = targetOf(host);
    allowed = state.rules.some((r) => matchTarget(r, t, port));
  }
  record(state, { at: Date.now(), kind, host, port, allowed });
  if (!allowed) {
    for (const log of state.loggers) {
      try {
        log.warn({ egress: { kind, host, port } }, "egress denied: destination not on airgap.allow");
      } catch {
        // a broken logger must not turn a refusal into a crash
      }
    }
  }
  return allowed;
}

function record(state: AuditState, attempt: EgressAttempt): void {
  state.stats.recorded++;
  if (!attempt.allowed) state.stats.denied++;
  if (state.ring.push(attempt)) state.stats.dropped++;
  for (const f of state.listeners) {
    try {
      f(attempt);
    } catch {
      // listeners are told not to throw; ignore if they do
    }
  }
}

/**
 * Records an attempt decided elsewhere: a workspace guest's outbound connect that the
 * workspace's own network policy refused never reaches a host socket, so the hooks here cannot
 * see it. No-op when no audit is installed.
 */
export function recordEgressAttempt(attempt: Omit<EgressAttempt, "at">): void {
  const state = getState();
  if (!state) return;
  record(state, { at: Date.now(), ...attempt });
  if (!attempt.allowed) {
    for (const log of state.loggers) {
      log.warn(
        {
          egress: {
            kind: attempt.kind,
            host: attempt.host,
            port: attempt.port,
            source: attempt.source,
            reason: attempt.reason,
          },
        },
        "outbound attempt refused",
      );
    }
  }
}

// ---- the connect hook -----------------------------------------------------------------------

type Destination = { kind: "tcp"; host: string; port: number } | { kind: "local" } | { kind: "unknown" };

/** Mirrors net's normalizeArgs: (options[, cb]), (port[, host][, cb]), (path[, cb]), [normalized]. */
function destinationOf(args: unknown[]): Destination {
  let first = args[0];
  let second = args[1];
  if (Array.isArray(first)) {
    second = undefined;
    first = first[0];
  }
  let host: unknown;
  let port: unknown;
  if (first !== null && typeof first === "object") {
    const o = first as { path?: unknown; host?: unknown; port?: unknown };
    if (o.path !== undefined && o.path !== null && o.path !== "") return { kind: "local" };
    host = o.host;
    port = o.port;
  } else if (typeof first === "string" && !(Number(first) >= 0)) {
    return { kind: "local" }; // a pipe or Unix socket path
  } else {
    port = first;
    if (typeof second === "string") host = second;
  }
  if (typeof port !== "number" && typeof port !== "string") return { kind: "unknown" };
  const p = typeof port === "string" ? (port.trim() === "" ? NaN : Number(port)) : port;
  if (!Number.isInteger(p) || p < 0 || p > 65535) return { kind: "unknown" }; // Node throws on it
  return { kind: "tcp", host: typeof host === "string" && host !== "" ? host : "localhost", port: p };
}

function refuseSocket(socket: net.Socket, host: string, port: number): void {
  // Look like a connect in progress (writes queue instead of failing), then fail the way a
  // refused connect does: asynchronously, with 'error' and 'close'. No handle, no packet.
  (socket as unknown as { connecting: boolean }).connecting = true;
  const error = new EgressDeniedError("connect", "connect", normalizeHost(host), port);
  setImmediate(() => socket.destroy(error));
}

function makeConnectWrapper(state: AuditState, original: AnyFn): AnyFn {
  return function connect(this: net.Socket, ...args: unknown[]): unknown {
    if (getState() !== state) return Reflect.apply(original, this, args);
    const dest = destinationOf(args);
    if (dest.kind === "local") {
      (this as unknown as Record<symbol, boolean>)[AUDITED] = true;
      if (state.includeLoopback) record(state, localAttempt(args));
      return Reflect.apply(original, this, args);
    }
    if (dest.kind === "unknown") return Reflect.apply(original, this, args); // Node throws
    (this as unknown as Record<symbol, boolean>)[AUDITED] = true;
    if (decide(state, "connect", dest.host, dest.port)) return Reflect.apply(original, this, args);
    refuseSocket(this, dest.host, dest.port);
    return this;
  };
}

function localAttempt(args: unknown[]): EgressAttempt {
  const first = Array.isArray(args[0]) ? (args[0] as unknown[])[0] : args[0];
  const path =
    typeof first === "string" ? first : String((first as { path?: unknown } | undefined)?.path ?? "");
  return { at: Date.now(), kind: "connect", host: path, port: null, allowed: true };
}

// ---- the DNS hooks --------------------------------------------------------------------------

const RESOLVE_METHODS = [
  "resolve",
  "resolve4",
  "resolve6",
  "resolveAny",
  "resolveCaa",
  "resolveCname",
  "resolveMx",
  "resolveNaptr",
  "resolveNs",
  "resolvePtr",
  "resolveSoa",
  "resolveSrv",
  "resolveTxt",
  "reverse",
] as const;

type DnsStyle = "callback" | "promise";

/**
 * Wraps a DNS function whose first argument is the name (or address) queried. A refused query
 * fails like a failed one: the callback gets the error on a later tick, or the promise rejects.
 */
function makeDnsWrapper(state: AuditState, original: AnyFn, method: string, style: DnsStyle): AnyFn {
  const isLookup = method === "lookup";
  const isService = method === "lookupService";
  return function dnsHook(this: unknown, ...args: unknown[]): unknown {
    if (getState() !== state) return Reflect.apply(original, this, args);
    const name = args[0];
    const callback = args[args.length - 1];
    if (typeof name !== "string" || name === "") return Reflect.apply(original, this, args);
    if (style === "callback" && typeof callback !== "function") return Reflect.apply(original, this, args);
    // A lookup of an IP literal is answered without a query.
    if (isLookup && net.isIP(name) !== 0) return Reflect.apply(original, this, args);
    const port = isService && typeof args[1] === "number" ? args[1] : null;
    if (decide(state, "dns", name, port)) return Reflect.apply(original, this, args);
    const error = new EgressDeniedError("dns", isLookup ? "getaddrinfo" : method, normalizeHost(name), port);
    if (style === "promise") return Promise.reject(error);
    process.nextTick(callback as (e: Error) => void, error);
    return undefined;
  };
}

// ---- install / uninstall --------------------------------------------------------------------

function patch(state: AuditState, target: object, key: string, make: (original: AnyFn) => AnyFn): void {
  const t = target as Record<string, unknown>;
  const original = t[key];
  if (typeof original !== "function") return;
  const wrapper = make(original as AnyFn);
  Object.defineProperty(wrapper, "name", { value: (original as AnyFn).name });
  const own = Object.hasOwn(t, key);
  t[key] = wrapper;
  state.patches.push({ target: t, key, original: original as AnyFn, wrapper, own });
}

function hookAll(state: AuditState): void {
  patch(state, net.Socket.prototype, "connect", (o) => makeConnectWrapper(state, o));

  const cbTargets: object[] = [dns, dns.Resolver.prototype];
  const promiseTargets: object[] = [dns.promises, dns.promises.Resolver.prototype];
  for (const key of ["lookup", "lookupService"]) {
    patch(state, dns, key, (o) => makeDnsWrapper(state, o, key, "callback"));
    patch(state, dns.promises, key, (o) => makeDnsWrapper(state, o, key, "promise"));
  }
  for (const key of RESOLVE_METHODS) {
    for (const t of cbTargets) patch(state, t, key, (o) => makeDnsWrapper(state, o, key, "callback"));
    for (const t of promiseTargets) patch(state, t, key, (o) => makeDnsWrapper(state, o, key, "promise"));
  }
  // `import { lookup } from "node:dns"` reads the ESM facade; bring it up to date.
  syncBuiltinESMExports();

  subscribe(state, "net.client.socket", (message) => {
    const socket = (message as { socket?: net.Socket } | undefined)?.socket;
    // net.connect publishes just before it calls socket.connect(); look once that has run.
    if (socket) process.nextTick(() => watchUnaudited(state, socket, undefined));
  });
  subscribe(state, "undici:client:connected", (message) => {
    const m = message as
      { socket?: net.Socket; connectParams?: { hostname?: string; port?: unknown } } | undefined;
    if (!m?.socket) return;
    const port = Number(m.connectParams?.port);
    const named =
      typeof m.connectParams?.hostname === "string" && Number.isInteger(port)
        ? { host: m.connectParams.hostname, port }
        : undefined;
    watchUnaudited(state, m.socket, named);
  });
}

function subscribe(state: AuditState, name: string, fn: (message: unknown) => void): void {
  dc.subscribe(name, fn);
  state.unsubscribe.push(() => dc.unsubscribe(name, fn));
}

/**
 * A socket that did not pass the patched connect: record it once its peer is known and, when
 * enforcing and not allowed, cut it. This runs after the SYN; it is the backstop, not the gate.
 */
function watchUnaudited(
  state: AuditState,
  socket: net.Socket,
  named: { host: string; port: number } | undefined,
): void {
  if ((socket as unknown as Record<symbol, boolean>)[AUDITED] || getState() !== state) return;
  (socket as unknown as Record<symbol, boolean>)[AUDITED] = true;
  const check = (): void => {
    if (getState() !== state) return;
    const host = named?.host ?? socket.remoteAddress;
    const port = named?.port ?? socket.remotePort;
    if (host === undefined || port === undefined) return; // a pipe
    const allowed = decide(state, "connect", host, port);
    const loggers = isLoopbackHost(host) ? [] : state.loggers;
    for (const log of loggers) {
      try {
        log.warn(
          { egress: { kind: "connect", host: normalizeHost(host), port } },
          "egress bypassed the connect hook",
        );
      } catch {
        // see decide()
      }
    }
    if (!allowed) socket.destroy(new EgressDeniedError("connect", "connect", normalizeHost(host), port));
  };
  if (named || !socket.connecting) check();
  else socket.once("connect", check);
}

function unhookAll(state: AuditState): void {
  for (const u of state.unsubscribe.splice(0)) u();
  for (const p of state.patches.splice(0).reverse()) {
    // If someone wrapped our wrapper since, leave theirs in place; ours passes through now.
    if (p.target[p.key] !== p.wrapper) continue;
    if (p.own) p.target[p.key] = p.original;
    else delete p.target[p.key];
  }
  syncBuiltinESMExports();
}

/**
 * Installs the process-wide hooks (once) and returns a handle. See the module comment for how
 * several handles combine. Throws a TypeError on an invalid allow pattern, before hooking.
 */
export function installEgressAudit(options: EgressAuditOptions = {}): EgressAudit {
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  if (!Number.isInteger(maxEntries) || maxEntries < 1)
    throw new RangeError("maxEntries must be a positive integer");
  const handle: HandleOptions = {
    enforce: options.enforce ?? false,
    rules: (options.allow ?? []).map(parseAllowPattern),
    log: options.log,
    maxEntries,
    includeLoopback: options.includeLoopback ?? false,
    onAttempt: options.onAttempt,
  };
  let state = getState();
  if (!state) {
    state = {
      handles: new Set(),
      enforce: false,
      rules: [],
      includeLoopback: false,
      loggers: [],
      listeners: [],
      ring: new Ring(maxEntries),
      stats: { recorded: 0, denied: 0, dropped: 0 },
      patches: [],
      unsubscribe: [],
    };
    setState(state);
    hookAll(state);
  }
  state.handles.add(handle);
  recompute(state);

  const own = state;
  let released = false;
  return {
    attempts: () => own.ring.toArray(),
    stats: () => ({ ...own.stats }),
    get enforcing() {
      return getState() === own && own.enforce;
    },
    uninstall() {
      if (released) return;
      released = true;
      own.handles.delete(handle);
      if (own.handles.size > 0) {
        recompute(own);
        return;
      }
      unhookAll(own);
      if (getState() === own) setState(undefined);
    },
  };
}
