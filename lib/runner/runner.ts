/**
 * Runner mode, the app's side: `registry.start()` with `ENCLAVE_ENDPOINT` (or `{ endpoint }`)
 * connects out to a standalone engine on `GET /runners/connect` and hosts the registry's actor
 * types there. The engine keeps the directory, state, KV, alarms and routing; this process runs
 * the actor code.
 *
 * `start()` resolves once the engine has welcomed the runner. A refusal that retrying cannot
 * fix (bad or public token, unknown namespace, another protocol version) rejects it with a
 * clear error and is never retried; an unreachable engine is retried with backoff. After a
 * drop the runner reconnects by itself (exponential backoff with jitter, up to 10 s), logging
 * every status change; `close()` drains its actors through the engine and disconnects.
 */
import { hostname } from "node:os";
import type { Logger } from "pino";
import { WebSocket } from "ws";
import type { AnyActorDefinition } from "../actor/definition.js";
import {
  buildUrl,
  parseEndpoint,
  redactEndpoint,
  toWebSocketUrl,
  type Endpoint,
} from "../client/endpoint.js";
import { EnclaveError, Errors, err, type WireError } from "../errors.js";
import { encodeWire } from "../wire/codec.js";
import { Reassembler } from "./framing.js";
import {
  FATAL_CLOSE_CODES,
  RUNNER_PROTOCOL_VERSION,
  RunnerCloseCodes,
  claimedVersion,
  parseEngineFrame,
  parseEngineMessage,
  type EngineMessage,
  type HelloMessage,
  type WelcomeMessage,
} from "./protocol.js";
import { RunnerSession } from "./session.js";

export type RunnerStatus = "connecting" | "connected" | "reconnecting" | "stopped" | "failed";

/** What `registry.start()` returns in runner mode. */
export interface EnclaveRunner {
  readonly mode: "runner";
  readonly log: Logger;
  /** The engine's base URL (no credentials). */
  readonly url: string;
  readonly namespace: string;
  /** The id the engine gave this runner (kept across reconnections). */
  readonly runnerId: string | undefined;
  readonly status: RunnerStatus;
  /** Why the runner stopped for good, when `status` is `failed`. */
  readonly error: Error | undefined;
  /** Actors running in this process now. */
  readonly actorCount: number;
  /** Calls `listener` on every status change; returns a function that removes it. */
  onStatusChange(listener: (status: RunnerStatus) => void): () => void;
  /**
   * Stops for good: the engine puts this runner's actors to sleep (their state flushed, their
   * clients reconnecting to another runner), then the connection closes. Bounded by `closeTimeoutMs`.
   */
  close(): Promise<void>;
}

export interface RunnerOptions {
  use: Record<string, AnyActorDefinition>;
  /** `http://NAMESPACE:TOKEN@host:port`. */
  endpoint: string;
  /** Namespace when the endpoint carries none (giving it in both places is an error). */
  namespace?: string | undefined;
  /** Token when the endpoint carries none (giving it in both places is an error). */
  token?: string | undefined;
  log: Logger;
  /** A label the engine logs for this runner. Default: the host name. */
  runnerName?: string | undefined;
  /** First reconnect delay (before jitter). Default 250 ms. */
  minReconnectDelayMs?: number;
  /** Longest reconnect delay (before jitter). Default 10 s. */
  maxReconnectDelayMs?: number;
  /** How long a connection attempt may take up to the welcome. Default 10 s. */
  connectTimeoutMs?: number;
  /** Longest wait in close() for the engine to drain this runner. Default 30 s. */
  closeTimeoutMs?: number;
  /** Aborting it stops a `start()` still trying to connect (it rejects), or closes the runner. */
  signal?: AbortSignal;
  /** The protocol version to announce. Only for testing how a mismatch is reported. */
  protocolVersion?: number;
}

type Attempt =
  | { kind: "welcomed"; session: RunnerSession }
  | { kind: "fatal"; error: Error }
  | { kind: "transient"; error: Error };

export async function startRunner(options: RunnerOptions): Promise<EnclaveRunner> {
  const runner = new Runner(options);
  const signal = options.signal;
  if (signal?.aborted) throw err(Errors.stopping, "The runner was aborted before it started");
  const onAbort = () => void runner.close();
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    await runner.connectFirst();
  } catch (e) {
    signal?.removeEventListener("abort", onAbort);
    await runner.close();
    throw e;
  }
  return runner;
}

class Runner implements EnclaveRunner {
  readonly mode = "runner" as const;
  readonly log: Logger;
  readonly url: string;
  readonly namespace: string;
  runnerId: string | undefined;
  status: RunnerStatus = "connecting";
  error: Error | undefined;
  readonly #options: RunnerOptions;
  readonly #endpoint: Endpoint;
  readonly #socketUrl: string;
  readonly #listeners = new Set<(status: RunnerStatus) => void>();
  #session: RunnerSession | undefined;
  #socket: WebSocket | undefined;
  #closing: Promise<void> | undefined;
  #wakeSleep: (() => void) | undefined;

  constructor(options: RunnerOptions) {
    this.#options = options;
    let endpoint: Endpoint;
    try {
      endpoint = parseEndpoint({
        endpoint: options.endpoint,
        namespace: options.namespace,
        token: options.token,
      });
    } catch (e) {
      throw err(Errors.badRequest, `runner mode: ${(e as Error).message}`);
    }
    if (endpoint.token === undefined) {
      throw err(
        Errors.badRequest,
        `runner mode: the endpoint "${redactEndpoint(options.endpoint)}" has no token; use http://NAMESPACE:TOKEN@host:port with a secret token of the namespace`,
      );
    }
    this.#endpoint = endpoint;
    this.url = endpoint.baseUrl;
    this.namespace = endpoint.namespace;
    this.#socketUrl = toWebSocketUrl(buildUrl(endpoint, "/runners/connect"));
    this.log = options.log.child({ runner: true, namespace: endpoint.namespace });
  }

  get actorCount(): number {
    return this.#session?.actorCount ?? 0;
  }

  onStatusChange(listener: (status: RunnerStatus) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #setStatus(status: RunnerStatus): void {
    if (this.status === status) return;
    this.status = status;
    for (const l of [...this.#listeners]) {
      try {
        l(status);
      } catch (e) {
        this.log.warn({ err: e }, "a runner status listener threw");
      }
    }
  }

  // ---- connecting ------------------------------------------------------------------------------

  /** The first connection: resolves once welcomed, rejects on a refusal retrying cannot fix. */
  async connectFirst(): Promise<void> {
    this.log.info(
      { url: this.url, types: Object.keys(this.#options.use) },
      "runner connecting to the engine",
    );
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.#attempt();
      if (outcome.kind === "welcomed") return;
      if (this.#closing) throw err(Errors.stopping, "The runner was closed before it connected");
      if (outcome.kind === "fatal") {
        this.#fail(outcome.error);
        throw outcome.error;
      }
      const delay = this.#delay(attempt);
      this.log.warn(
        { err: outcome.error.message, url: this.url, retryInMs: delay },
        "cannot reach the engine yet; retrying",
      );
      await this.#sleep(delay);
      if (this.#closing) throw err(Errors.stopping, "The runner was closed before it connected");
    }
  }

  /** After a drop: reconnects with backoff until welcomed, refused for good, or closed. */
  async #reconnect(): Promise<void> {
    this.#setStatus("reconnecting");
    for (let attempt = 0; !this.#closing; attempt++) {
      const delay = this.#delay(attempt);
      this.log.info({ retryInMs: delay }, "runner reconnecting");
      await this.#sleep(delay);
      if (this.#closing) return;
      const outcome = await this.#attempt();
      if (outcome.kind === "welcomed") return;
      if (outcome.kind === "fatal") {
        this.#fail(outcome.error);
        return;
      }
      this.log.warn({ err: outcome.error.message, url: this.url }, "reconnection failed");
    }
  }

  #fail(error: Error): void {
    if (this.#closing) return;
    this.error = error;
    this.log.error({ err: error.message, url: this.url }, "runner stopped: not retrying");
    this.#setStatus("failed");
  }

  /** Exponential backoff with jitter: 50-100% of min(max, min * 2^attempt). */
  #delay(attempt: number): number {
    const min = this.#options.minReconnectDelayMs ?? 250;
    const max = this.#options.maxReconnectDelayMs ?? 10_000;
    const base = Math.min(max, min * 2 ** Math.min(attempt, 30));
    return Math.round(base * (0.5 + Math.random() * 0.5));
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wakeSleep = done;
    });
  }

  /** One connection attempt, up to the welcome (or the refusal). */
  #attempt(): Promise<Attempt> {
    this.#setStatus(this.runnerId === undefined ? "connecting" : "reconnecting");
    const timeoutMs = this.#options.connectTimeoutMs ?? 10_000;
    return new Promise<Attempt>((resolve) => {
      const socket = new WebSocket(this.#socketUrl, {
        headers: { authorization: `Bearer ${this.#endpoint.token ?? ""}` },
        // The engine's messages are bounded by its own limits; take them whole.
        maxPayload: 0,
        handshakeTimeout: timeoutMs,
      });
      this.#socket = socket;
      const reassembler = new Reassembler(Number.MAX_SAFE_INTEGER);
      let session: RunnerSession | undefined;
      let refusal: WireError | undefined;
      let settled = false;
      const settle = (outcome: Attempt) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(outcome);
      };
      const timer = setTimeout(() => {
        socket.terminate();
        settle({ kind: "transient", error: new Error(`no welcome from the engine within ${timeoutMs} ms`) });
      }, timeoutMs);

      socket.on("unexpected-response", (req, res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk.length + body.length < 65536 ? chunk : ""));
        res.on("end", () => {
          settle(this.#refusedUpgrade(res.statusCode ?? 0, body));
          req.destroy();
        });
        res.on("error", () =>
          settle({ kind: "transient", error: new Error("the upgrade response broke off") }),
        );
      });
      socket.on("error", (e) => settle({ kind: "transient", error: e }));
      socket.on("open", () => {
        const hello: HelloMessage = {
          t: "hello",
          protocolVersion: this.#options.protocolVersion ?? RUNNER_PROTOCOL_VERSION,
          types: Object.keys(this.#options.use),
          runnerName: (this.#options.runnerName ?? hostname()).slice(0, 128) || "runner",
          features: ["tunnel"],
        };
        if (this.runnerId !== undefined) hello.runnerId = this.runnerId;
        socket.send(encodeWire(hello));
      });
      socket.on("message", (data, isBinary) => {
        let text: string | undefined;
        try {
          text = reassembler.push(data as Buffer, isBinary);
        } catch (e) {
          this.log.error({ err: e }, "the engine sent a malformed frame");
          socket.close(RunnerCloseCodes.protocolError, "malformed frame");
          return;
        }
        if (text === undefined) return;
        if (session) {
          session.touch();
          let messages: EngineMessage[];
          try {
            messages = parseEngineFrame(text);
          } catch (e) {
            this.log.error(
              { err: e },
              "the engine sent a message this runner does not understand; reconnecting",
            );
            socket.close(RunnerCloseCodes.protocolError, "malformed message");
            return;
          }
          for (const message of messages) session.handle(message);
          return;
        }
        // The handshake: welcome, or refused (then the engine closes the socket).
        const claimed = claimedVersion(text);
        if (claimed?.t === "welcome" && claimed.protocolVersion !== RUNNER_PROTOCOL_VERSION) {
          const error = err(
            Errors.runnerProtocolMismatch,
            `the engine at ${this.url} speaks runner protocol ${String(claimed.protocolVersion)}, this runner speaks ${RUNNER_PROTOCOL_VERSION}; run the same enclave version on both sides`,
          );
          socket.close(RunnerCloseCodes.protocolMismatch, "protocol version mismatch");
          settle({ kind: "fatal", error });
          return;
        }
        let message: EngineMessage;
        try {
          message = parseEngineMessage(text);
        } catch (e) {
          socket.close(RunnerCloseCodes.protocolError, "malformed handshake");
          settle({ kind: "fatal", error: e as Error });
          return;
        }
        if (message.t === "refused") {
          refusal = message.error;
          settle({ kind: "fatal", error: this.#refusal(message.error) });
          return;
        }
        if (message.t !== "welcome") {
          socket.close(RunnerCloseCodes.protocolError, "expected welcome");
          settle({
            kind: "fatal",
            error: err(Errors.runnerProtocolError, `expected welcome, got ${message.t}`),
          });
          return;
        }
        session = this.#welcomed(socket, message);
        settle({ kind: "welcomed", session });
      });
      socket.on("close", (code, reasonBuffer) => {
        const reason = reasonBuffer.toString();
        if (!settled) {
          const error = refusal
            ? this.#refusal(refusal)
            : new Error(
                `the engine closed the connection during the handshake (code ${code}${reason ? `: ${reason}` : ""})`,
              );
          settle(
            FATAL_CLOSE_CODES.has(code) || refusal ? { kind: "fatal", error } : { kind: "transient", error },
          );
          return;
        }
        if (!session) return;
        this.#dropped(session, code, reason);
      });
    });
  }

  #welcomed(socket: WebSocket, welcome: WelcomeMessage): RunnerSession {
    const returning = this.runnerId !== undefined;
    this.runnerId = welcome.runnerId;
    const session = new RunnerSession(
      socket,
      welcome,
      this.#options.use,
      this.log.child({ runnerId: welcome.runnerId }),
    );
    this.#session = session;
    this.log.info(
      { url: this.url, runnerId: welcome.runnerId, types: Object.keys(this.#options.use) },
      returning ? "runner reconnected" : "runner connected",
    );
    this.#setStatus("connected");
    if (this.#closing) session.goodbye();
    return session;
  }

  #dropped(session: RunnerSession, code: number, reason: string): void {
    session.end();
    if (this.#session === session) this.#session = undefined;
    if (this.#closing) return;
    if (FATAL_CLOSE_CODES.has(code)) {
      this.#fail(
        err(
          code === RunnerCloseCodes.protocolMismatch
            ? Errors.runnerProtocolMismatch
            : Errors.runnerProtocolError,
          `the engine at ${this.url} closed the runner connection for good (code ${code}${reason ? `: ${reason}` : ""})`,
        ),
      );
      return;
    }
    this.log.warn({ code, reason }, "runner lost its connection to the engine");
    void this.#reconnect();
  }

  /** The engine answered the upgrade with an HTTP error instead of a WebSocket. */
  #refusedUpgrade(status: number, body: string): Attempt {
    let wire: WireError | undefined;
    try {
      const parsed = JSON.parse(body) as Partial<WireError>;
      if (
        typeof parsed.group === "string" &&
        typeof parsed.code === "string" &&
        typeof parsed.message === "string"
      )
        wire = parsed as WireError;
    } catch {
      // not a wire error (a proxy's page, say)
    }
    const what = wire ? `${status} ${wire.group}/${wire.code}: ${wire.message}` : `HTTP ${status}`;
    const hint =
      status === 401
        ? "check the token in the endpoint (ENCLAVE_ENDPOINT)"
        : status === 403
          ? `a runner needs a secret token of namespace "${this.namespace}" (or the admin token); public tokens and other namespaces' tokens cannot connect runners`
          : status === 404
            ? wire?.group === "namespace"
              ? `namespace "${this.namespace}" does not exist on this engine`
              : "this engine has no runner endpoint at this URL; check the endpoint"
            : undefined;
    const message = `the engine at ${this.url} refused the runner connection (${what})${hint ? `: ${hint}` : ""}`;
    if (status === 401 || status === 403 || status === 404) {
      const spec = {
        group: wire?.group ?? (status === 401 ? "auth" : status === 403 ? "auth" : "request"),
        code:
          wire?.code ??
          (status === 401 ? "unauthenticated" : status === 403 ? "forbidden" : "route_not_found"),
        status,
        message,
      };
      return {
        kind: "fatal",
        error: new EnclaveError(spec, message, { url: this.url, namespace: this.namespace }),
      };
    }
    return { kind: "transient", error: new Error(message) };
  }

  #refusal(wire: WireError): Error {
    const status =
      wire.code === Errors.runnerProtocolMismatch.code ? Errors.runnerProtocolMismatch.status : 400;
    const message = `the engine at ${this.url} refused this runner: ${wire.message}`;
    return new EnclaveError({ group: wire.group, code: wire.code, status, message }, message, wire.metadata);
  }

  // ---- closing ---------------------------------------------------------------------------------

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#wakeSleep?.();
    const socket = this.#socket;
    const session = this.#session;
    if (socket && session && socket.readyState === socket.OPEN) {
      this.log.info({ actors: session.actorCount }, "runner closing: the engine is stopping its actors here");
      const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
      session.goodbye();
      const timeoutMs = this.#options.closeTimeoutMs ?? 30_000;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<"timeout">(
        (resolve) => (timer = setTimeout(() => resolve("timeout"), timeoutMs)),
      );
      const outcome = await Promise.race([closed.then(() => "closed" as const), timedOut]);
      clearTimeout(timer);
      if (outcome === "timeout") {
        this.log.warn({ timeoutMs }, "the engine did not drain this runner in time; disconnecting");
        socket.close(RunnerCloseCodes.normal, "runner closing");
        await Promise.race([closed, new Promise((r) => setTimeout(r, 1000))]);
        socket.terminate();
      }
    } else if (socket && socket.readyState !== socket.CLOSED) {
      socket.terminate();
    }
    session?.end();
    this.#session = undefined;
    this.#setStatus("stopped");
    this.log.info("runner stopped");
  }
}
