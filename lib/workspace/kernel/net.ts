/**
 * The workspace's socket table: listeners on the workspace's own loopback, connections made of
 * two kernel pipes (one per direction), and outbound connects that the network policy allowed,
 * bridged to a real host socket. Each kernel has its own table, so one workspace can never reach
 * another's ports. Policy semantics are in permissions.ts.
 */
import dns from "node:dns";
import { KernelError, isKernelError } from "./errno.js";
import { classify, parseIp } from "./ip.js";
import { bridgeHostSocket } from "./net-bridge.js";
import { checkListenPort, listenRange, NetworkPermissions, type ListenRange } from "./permissions.js";
import { PipeState } from "./pipe.js";
import type {
  DirEntry,
  ListenPolicy,
  Listener,
  NetApi,
  NetworkAttempt,
  NetworkPolicy,
  SocketHandle,
  Stat,
} from "./types.js";

/** Connections a listener queues before further connects are refused (Node's default). */
export const DEFAULT_BACKLOG = 511;
/** Where port 0 and client ends pick ports, when the listen range allows (Linux's ephemeral range). */
const EPHEMERAL_MIN = 32768;
const EPHEMERAL_MAX = 60999;

let nextIno = 1;

function socketStat(ino: number, createdMs: number): Stat {
  return {
    dev: 0,
    ino,
    type: "socket",
    mode: 0o600,
    nlink: 1,
    uid: 1000,
    gid: 1000,
    size: 0,
    atimeMs: createdMs,
    mtimeMs: createdMs,
    ctimeMs: createdMs,
    birthtimeMs: createdMs,
  };
}

/** One end of a connection: reads from `inbound`, writes to `outbound`. */
export class SocketEnd implements SocketHandle {
  readonly kind = "socket";
  readonly readable = true;
  readonly writable = true;
  readonly #ino = nextIno++;
  readonly #createdMs = Date.now();
  #refs = 1;

  constructor(
    private readonly inbound: PipeState,
    private readonly outbound: PipeState,
    readonly localPort: number,
    readonly remoteAddress: string,
    readonly remotePort: number,
  ) {}

  read(buf: Uint8Array, _position?: number, signal?: AbortSignal): number | Promise<number> {
    if (this.#refs <= 0) throw new KernelError("EBADF", "recv");
    return this.inbound.read(buf, signal);
  }

  write(data: Uint8Array, _position?: number, signal?: AbortSignal): number | Promise<number> {
    if (this.#refs <= 0) throw new KernelError("EBADF", "send");
    return this.outbound.write(data, signal);
  }

  seek(): number {
    throw new KernelError("ESPIPE", "lseek");
  }

  stat(): Stat {
    return socketStat(this.#ino, this.#createdMs);
  }

  truncate(): void {
    throw new KernelError("EINVAL", "ftruncate");
  }

  readdir(): DirEntry[] {
    throw new KernelError("ENOTDIR", "readdir");
  }

  readReady(): boolean {
    return this.inbound.readReady();
  }

  writeReady(): boolean {
    return this.outbound.writeReady();
  }

  shutdown(how: "read" | "write" | "both"): void {
    if (this.#refs <= 0) throw new KernelError("EBADF", "shutdown");
    if (how !== "write") this.inbound.closeRead();
    if (how !== "read") this.outbound.closeWrite();
  }

  ref(): this {
    if (this.#refs <= 0) throw new KernelError("EBADF", "dup");
    this.#refs++;
    return this;
  }

  close(): void {
    if (this.#refs <= 0 || --this.#refs > 0) return;
    this.inbound.closeRead();
    this.outbound.closeWrite();
  }
}

/** A connected pair: what `a` writes, `b` reads, and back. */
export function socketPair(
  a: { port: number; address: string },
  b: { port: number; address: string },
): [SocketEnd, SocketEnd] {
  const ab = new PipeState();
  const ba = new PipeState();
  return [new SocketEnd(ba, ab, a.port, b.address, b.port), new SocketEnd(ab, ba, b.port, a.address, a.port)];
}

interface AcceptWaiter {
  resolve: (s: SocketHandle) => void;
  reject: (err: unknown) => void;
}

class ListenerImpl implements Listener {
  readonly kind = "listener";
  readonly readable = true;
  readonly writable = false;
  readonly #ino = nextIno++;
  readonly #createdMs = Date.now();
  readonly #queue: SocketEnd[] = [];
  readonly #waiters: AcceptWaiter[] = [];
  #refs = 1;
  #closed = false;

  constructor(
    private readonly table: SocketTable,
    readonly port: number,
    private readonly backlog: number,
    readonly pid: number | undefined,
  ) {}

  accept(signal?: AbortSignal): SocketHandle | Promise<SocketHandle> {
    if (this.#closed || this.#refs <= 0) throw new KernelError("EBADF", "accept");
    const ready = this.#queue.shift();
    if (ready !== undefined) return ready;
    if (signal?.aborted) return Promise.reject(new KernelError("EINTR", "accept"));
    return new Promise((resolve, reject) => {
      const waiter: AcceptWaiter = { resolve, reject };
      if (signal !== undefined) {
        // A killed acceptor leaves the line: the next connection goes to a live one.
        const onAbort = (): void => {
          const at = this.#waiters.indexOf(waiter);
          if (at !== -1) this.#waiters.splice(at, 1);
          reject(new KernelError("EINTR", "accept"));
        };
        signal.addEventListener("abort", onAbort, { once: true });
        waiter.resolve = (s) => {
          signal.removeEventListener("abort", onAbort);
          resolve(s);
        };
        waiter.reject = (e) => {
          signal.removeEventListener("abort", onAbort);
          reject(e);
        };
      }
      this.#waiters.push(waiter);
    });
  }

  acceptReady(): boolean {
    return this.#queue.length > 0 || this.#closed;
  }

  /** Hands the server end of a new connection to an acceptor or the queue; false when refused. */
  offer(end: SocketEnd): boolean {
    if (this.#closed) return false;
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) {
      waiter.resolve(end);
      return true;
    }
    if (this.#queue.length >= this.backlog) return false;
    this.#queue.push(end);
    return true;
  }

  read(): number {
    throw new KernelError("ENOTCONN", "recv");
  }

  write(): number {
    throw new KernelError("ENOTCONN", "send");
  }

  seek(): number {
    throw new KernelError("ESPIPE", "lseek");
  }

  stat(): Stat {
    return socketStat(this.#ino, this.#createdMs);
  }

  truncate(): void {
    throw new KernelError("EINVAL", "ftruncate");
  }

  readdir(): DirEntry[] {
    throw new KernelError("ENOTDIR", "readdir");
  }

  readReady(): boolean {
    return this.acceptReady();
  }

  ref(): this {
    if (this.#refs <= 0) throw new KernelError("EBADF", "dup");
    this.#refs++;
    return this;
  }

  close(): void {
    if (this.#refs <= 0 || --this.#refs > 0) return;
    this.shutdown();
  }

  /** Frees the port now, whoever still holds references (process exit, kernel shutdown). */
  shutdown(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.table.unbind(this);
    for (const w of this.#waiters.splice(0)) w.reject(new KernelError("EBADF", "accept"));
    // Connections nobody accepted: their clients read end of file and get EPIPE on writes.
    for (const end of this.#queue.splice(0)) end.close();
  }
}

export interface SocketTableOptions {
  /** Outbound policy (default: deny everything outside the workspace's loopback). */
  network?: NetworkPolicy;
  listen?: ListenPolicy;
  /** Host loopback ports guest programs may reach (see permissions.ts). */
  loopbackExemptPorts?: number[];
  /** Every outbound decision (refused and allowed); must not throw. */
  onAttempt?: (attempt: NetworkAttempt) => void;
  /** Resolves a permitted host name (default: Node's dns.lookup, which the engine's egress audit watches). */
  lookup?: (host: string) => Promise<string[]>;
  /** How long a real outbound connect may take (default 30 s): ETIMEDOUT after. */
  connectTimeoutMs?: number;
}

async function defaultLookup(host: string): Promise<string[]> {
  // Looked up through the module object at call time, so the egress audit's hook applies.
  const answers = await dns.promises.lookup(host, { all: true, verbatim: true });
  return answers.map((a) => a.address);
}

/** Loopback names: the workspace's own loopback (see permissions.ts). */
function isLoopbackName(host: string): boolean {
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  const ip = parseIp(host);
  return ip !== undefined && classify(ip) === "loopback";
}

function normalizeHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith("[") && h.endsWith("]")) h = h.slice(1, -1);
  if (h.endsWith(".") && h.length > 1) h = h.slice(0, -1);
  return h;
}

const HOST_CHARS = /^[a-z0-9._:-]+$/;

/** Maps a failed real connect or lookup to the errno the guest sees. */
function connectErrno(err: unknown): KernelError {
  if (isKernelError(err)) return err;
  const code = (err as { code?: unknown } | null)?.code;
  switch (code) {
    case "ECONNREFUSED":
      return new KernelError("ECONNREFUSED", "connect");
    case "ECONNRESET":
      return new KernelError("ECONNRESET", "connect");
    case "ETIMEDOUT":
      return new KernelError("ETIMEDOUT", "connect");
    default:
      return new KernelError("EHOSTUNREACH", "connect", undefined, String((err as Error)?.message ?? err));
  }
}

function isAirgapRefusal(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === "EENCLAVE_EGRESS_DENIED";
}

/** One workspace's sockets. */
export class SocketTable implements NetApi {
  readonly #listeners = new Map<number, ListenerImpl>();
  readonly #range: ListenRange;
  readonly #permissions: NetworkPermissions;
  readonly #onAttempt: ((attempt: NetworkAttempt) => void) | undefined;
  readonly #lookup: (host: string) => Promise<string[]>;
  readonly #connectTimeoutMs: number;
  /** Open host sockets of allowed outbound connections, destroyed by `close()`. */
  readonly #bridges = new Set<{ destroy(): void }>();
  #nextPort = EPHEMERAL_MIN;
  #nextClientPort = EPHEMERAL_MIN;
  #closed = false;

  constructor(options: SocketTableOptions = {}) {
    this.#range = listenRange(options.listen);
    this.#permissions = new NetworkPermissions(options.network, options.loopbackExemptPorts);
    this.#onAttempt = options.onAttempt;
    this.#lookup = options.lookup ?? defaultLookup;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 30_000;
  }

  listen(port: number, options: { backlog?: number; pid?: number } = {}): Listener {
    if (this.#closed) throw new KernelError("EINVAL", "listen", undefined, "the workspace is shutting down");
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new KernelError("EINVAL", "listen", undefined, `${String(port)} is not a port (0-65535)`);
    }
    const bound = port === 0 ? this.#freePort() : port;
    checkListenPort(this.#range, bound);
    const verdict = this.#permissions.checkListen(bound);
    if (!verdict.allowed) throw new KernelError("EACCES", "listen", undefined, verdict.reason);
    if (this.#listeners.has(bound)) {
      throw new KernelError("EADDRINUSE", "listen", undefined, `port ${bound} is already in use`);
    }
    const requested = options.backlog ?? DEFAULT_BACKLOG;
    const backlog =
      Number.isInteger(requested) && requested > 0 ? Math.min(requested, 4096) : DEFAULT_BACKLOG;
    const listener = new ListenerImpl(this, bound, backlog, options.pid);
    this.#listeners.set(bound, listener);
    return listener;
  }

  /** A free port for port 0: the ephemeral range where the listen range allows, else the whole range. */
  #freePort(): number {
    const low = Math.max(this.#range.portMin, this.#range.allowPrivileged ? 1 : 1024);
    const high = this.#range.portMax;
    if (low > high)
      throw new KernelError("EACCES", "listen", undefined, "the listen range has no unprivileged port");
    const eLow = Math.max(low, EPHEMERAL_MIN);
    const eHigh = Math.min(high, EPHEMERAL_MAX);
    const [from, to] = eLow <= eHigh ? [eLow, eHigh] : [low, high];
    const size = to - from + 1;
    for (let i = 0; i < size; i++) {
      const candidate = from + ((this.#nextPort - from + i + size) % size);
      if (!this.#listeners.has(candidate)) {
        this.#nextPort = candidate + 1;
        return candidate;
      }
    }
    throw new KernelError("EADDRINUSE", "listen", undefined, "no free port in the listen range");
  }

  #clientPort(): number {
    const port = this.#nextClientPort;
    this.#nextClientPort = port >= EPHEMERAL_MAX ? EPHEMERAL_MIN : port + 1;
    return port;
  }

  /** Called by a listener as it closes. */
  unbind(listener: ListenerImpl): void {
    if (this.#listeners.get(listener.port) === listener) this.#listeners.delete(listener.port);
  }

  listening(): { port: number; pid: number | undefined }[] {
    return [...this.#listeners.values()].map((l) => ({ port: l.port, pid: l.pid }));
  }

  /** A connection into a workspace listener, or ECONNREFUSED. */
  #local(port: number, clientAddress: string): SocketEnd {
    const listener = this.#listeners.get(port);
    if (listener === undefined)
      throw new KernelError("ECONNREFUSED", "connect", undefined, `nothing listens on port ${port}`);
    const [client, server] = socketPair(
      { port: this.#clientPort(), address: clientAddress },
      { port, address: clientAddress },
    );
    if (!listener.offer(server)) {
      client.close();
      server.close();
      throw new KernelError("ECONNREFUSED", "connect", undefined, `port ${port}'s backlog is full`);
    }
    return client;
  }

  connectFromHost(port: number): SocketHandle {
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new KernelError("EINVAL", "connect");
    return this.#local(port, "127.0.0.1");
  }

  async connect(
    host: string,
    port: number,
    options: { pid?: number; signal?: AbortSignal } = {},
  ): Promise<SocketHandle> {
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new KernelError("EINVAL", "connect", undefined, `${String(port)} is not a port (1-65535)`);
    }
    const name = normalizeHost(host);
    if (name === "" || !HOST_CHARS.test(name))
      throw new KernelError("EINVAL", "connect", undefined, "bad host name");
    const pid = options.pid;
    if (isLoopbackName(name)) {
      if (this.#listeners.has(port)) return this.#local(port, name.includes(":") ? "::1" : "127.0.0.1");
      if (this.#permissions.isLoopbackExempt(port)) {
        this.#report({ host: name, port, pid }, true, `loopback-exempt: port ${port}`);
        return this.#bridge(name, [name.includes(":") ? "::1" : "127.0.0.1"], port, options);
      }
      const reason = `loopback: nothing listens on the workspace's port ${port} and host loopback port ${port} is not in loopbackExemptPorts`;
      this.#report({ host: name, port, pid }, false, reason);
      throw new KernelError("ECONNREFUSED", "connect", undefined, reason);
    }
    const literal = parseIp(name);
    let addresses: string[];
    if (literal !== undefined) {
      this.#decide(name, port, pid, this.#permissions.checkLiteral(literal, name, port));
      addresses = [name];
    } else {
      this.#decide(name, port, pid, this.#permissions.checkName(name, port));
      let resolved: string[];
      try {
        resolved = await this.#lookup(name);
      } catch (err) {
        if (isAirgapRefusal(err))
          this.#refuse(name, port, pid, "airgap: the engine's egress audit refused the lookup");
        throw new KernelError("EHOSTUNREACH", "connect", undefined, `cannot resolve ${name}`);
      }
      const refusals: string[] = [];
      addresses = resolved.filter((address) => {
        const ip = parseIp(address);
        const verdict =
          ip === undefined
            ? { allowed: false, reason: `bad address ${address}` }
            : this.#permissions.checkAddress(ip, address, port);
        if (!verdict.allowed) refusals.push(verdict.reason);
        return verdict.allowed;
      });
      if (addresses.length === 0) {
        this.#refuse(name, port, pid, refusals[0] ?? `ssrf: ${name} resolved to no address`);
      }
    }
    this.#report({ host: name, port, pid }, true, `allowed: ${addresses.join(", ")}`);
    return this.#bridge(name, addresses, port, options);
  }

  #decide(
    host: string,
    port: number,
    pid: number | undefined,
    verdict: { allowed: boolean; reason: string },
  ): void {
    if (!verdict.allowed) this.#refuse(host, port, pid, verdict.reason);
  }

  #refuse(host: string, port: number, pid: number | undefined, reason: string): never {
    this.#report({ host, port, pid }, false, reason);
    throw new KernelError("EACCES", "connect", undefined, reason);
  }

  #report(
    where: { host: string; port: number; pid: number | undefined },
    allowed: boolean,
    reason: string,
  ): void {
    if (this.#onAttempt === undefined) return;
    const attempt: NetworkAttempt = {
      host: where.host,
      port: where.port,
      operation: "connect",
      outcome: allowed ? "allowed" : "refused",
      reason,
    };
    if (where.pid !== undefined) attempt.pid = where.pid;
    try {
      this.#onAttempt(attempt);
    } catch {
      // A broken audit callback must not change what the guest sees.
    }
  }

  /** Connects to the first address that answers and bridges it to a new kernel socket. */
  async #bridge(
    host: string,
    addresses: string[],
    port: number,
    options: { pid?: number; signal?: AbortSignal },
  ): Promise<SocketHandle> {
    let last: unknown;
    for (const address of addresses) {
      if (this.#closed)
        throw new KernelError("ECONNREFUSED", "connect", undefined, "the workspace is shutting down");
      try {
        const [guest, hostEnd] = socketPair(
          { port: this.#clientPort(), address: "0.0.0.0" },
          { port, address },
        );
        try {
          const bridge = await bridgeHostSocket(hostEnd, address, port, {
            timeoutMs: this.#connectTimeoutMs,
            signal: options.signal,
            onClose: (b) => this.#bridges.delete(b),
          });
          if (this.#closed) {
            bridge.destroy();
            throw new KernelError("ECONNREFUSED", "connect");
          }
          if (!bridge.closed) this.#bridges.add(bridge);
          return guest;
        } catch (err) {
          guest.close();
          hostEnd.close();
          throw err;
        }
      } catch (err) {
        if (isAirgapRefusal(err)) {
          this.#refuse(host, port, options.pid, "airgap: the engine's egress audit refused the connect");
        }
        if (isKernelError(err, "EINTR")) throw err;
        last = err;
      }
    }
    throw connectErrno(last);
  }

  /** Closes the listeners `pid` bound (its exit). */
  releasePid(pid: number): void {
    for (const listener of [...this.#listeners.values()]) if (listener.pid === pid) listener.shutdown();
  }

  /** Closes every listener and outbound connection; later listens fail. */
  close(): void {
    this.#closed = true;
    for (const listener of [...this.#listeners.values()]) listener.shutdown();
    for (const bridge of [...this.#bridges]) bridge.destroy();
    this.#bridges.clear();
  }
}
