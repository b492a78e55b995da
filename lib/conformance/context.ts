/**
 * What every case gets: the engine's address and the wire helpers, the credentials the suite
 * holds (never printed), tokens and a second namespace made on demand through the admin API,
 * the conformance runner, actor helpers, restarts (local engine or the vendor's hook), and the
 * notes cases leave for later ones (the canary's verdict).
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import type { EnclaveRunner, RunnerStatus } from "../runner/runner.js";
import { createLogger } from "../telemetry/index.js";
import { CONFORMANCE_ACTOR, startConformanceRunner, type Snapshot } from "./app.js";
import { GiveUp, check, expectStatus, fail, notApplicable, sleep, waitFor } from "./check.js";
import { Api, LeakScanner, type Answer, type CallOptions, type Json } from "./http.js";
import type { LocalEngine } from "./local-engine.js";
import type { Profile, TargetInfo } from "./types.js";

export type RestartMode = "graceful" | "kill";
/** A programmatic restart hook: restart the engine (`kill`: without a graceful shutdown). */
export type RestartFn = (mode: RestartMode, info: { downForMs: number }) => Promise<void>;

export interface ContextSetup {
  baseUrl: string;
  namespace: string;
  profile: Profile;
  /** The token of the endpoint URL (admin or a namespace token). */
  endpointToken?: string | undefined;
  /** The admin token, when given separately (or the local engine's). */
  adminToken?: string | undefined;
  local?: LocalEngine | undefined;
  isolation: TargetInfo["isolation"];
  /** A shell command (`sh -c`) or a function that restarts a remote engine. */
  restartHook?: string | RestartFn | undefined;
}

export interface CreatedToken {
  id: string;
  secret: string;
  namespace: string;
  kind: "secret" | "public";
}

export interface ActorRef {
  actorId: string;
  key: string[];
}

export interface CanaryNote {
  state: "passed" | "failed" | "not-applicable";
  detail: string;
}

/** How long to wait for things that should happen "soon" (sleep, alarms, reconnects). */
export const SOON_MS = 15_000;

export class SuiteContext {
  readonly scanner = new LeakScanner();
  readonly api: Api;
  readonly baseUrl: string;
  readonly namespace: string;
  readonly profile: Profile;
  readonly local: LocalEngine | undefined;
  readonly isolation: TargetInfo["isolation"];
  /** Makes actor keys and names of this run unique. */
  readonly runId = randomBytes(4).toString("hex");
  readonly #endpointToken: string | undefined;
  #admin: string | undefined;
  #adminProblem = "no admin token: put it in the endpoint URL or pass --admin-token-file";
  readonly #restartHook: string | RestartFn | undefined;
  endpointTokenKind: "admin" | "namespace" | "invalid" | "none" = "none";

  runner: EnclaveRunner | undefined;
  runnerProblem = "the conformance runner was not started";
  readonly runnerLog: string[] = [];
  #runnerEvents: { status: RunnerStatus; at: number }[] = [];
  #runnerAbort = new AbortController();

  canary: CanaryNote | undefined;
  /** Restarts done so far (egress audits and sockets reset with the process). */
  restarts = 0;

  readonly #tokens: CreatedToken[] = [];
  readonly #cached = new Map<string, Promise<unknown>>();
  readonly #actors: string[] = [];
  #otherNamespace: string | undefined;

  constructor(setup: ContextSetup) {
    this.baseUrl = setup.baseUrl.replace(/\/+$/, "");
    this.api = new Api(this.baseUrl, this.scanner);
    this.namespace = setup.namespace;
    this.profile = setup.profile;
    this.local = setup.local;
    this.isolation = setup.isolation;
    this.#endpointToken = setup.endpointToken;
    this.#admin = setup.adminToken ?? setup.local?.adminToken;
    this.#restartHook = setup.restartHook;
    this.scanner.watch(this.#admin, "admin token");
    this.scanner.watch(setup.endpointToken, "endpoint token");
  }

  /** Works out what the endpoint token is (admin or namespace), without trusting either guess. */
  async classifyCredentials(): Promise<void> {
    const token = this.#endpointToken;
    if (token !== undefined) {
      const a = await this.api.call("GET", "/namespaces", { token });
      if (a.status === 200) this.endpointTokenKind = "admin";
      else if (a.status === 403) this.endpointTokenKind = "namespace";
      else this.endpointTokenKind = "invalid";
      if (this.endpointTokenKind === "admin" && this.#admin === undefined) this.#admin = token;
      if (this.endpointTokenKind === "admin") this.scanner.watch(token, "admin token");
    }
    if (this.#admin !== undefined && this.#admin !== token) {
      const a = await this.api.call("GET", "/namespaces", { token: this.#admin });
      if (a.status !== 200) {
        this.#adminProblem = `the admin token given was refused (GET /namespaces answered ${a.status})`;
        this.#admin = undefined;
      }
    }
  }

  get restartKind(): TargetInfo["restarts"] {
    return this.local ? "local" : this.#restartHook ? "hook" : "none";
  }

  get hasAdmin(): boolean {
    return this.#admin !== undefined;
  }

  /** The admin token, or the case is not applicable. Never print it. */
  adminToken(): string {
    return this.#admin ?? notApplicable(this.#adminProblem);
  }

  /** The token for one authenticated call in smoke: the endpoint's, else the admin token. */
  anyToken(): string | undefined {
    return this.#endpointToken ?? this.#admin;
  }

  /** `?namespace=` for admin calls on namespace routes. */
  nsQuery(): Record<string, string> {
    return { namespace: this.namespace };
  }

  admin(method: string, path: string, options: Omit<CallOptions, "token"> = {}): Promise<Answer> {
    return this.api.call(method, path, { ...options, token: this.adminToken() });
  }

  // ---- tokens and namespaces ----------------------------------------------------------------

  async createToken(
    kind: "secret" | "public",
    options: { namespace?: string; expiresAt?: number; name?: string } = {},
  ): Promise<CreatedToken> {
    const namespace = options.namespace ?? this.namespace;
    const body: Record<string, unknown> = {
      namespace,
      kind,
      name: options.name ?? `enclave-conformance-${this.runId}`,
    };
    if (options.expiresAt !== undefined) body.expiresAt = options.expiresAt;
    const a = await this.admin("POST", "/tokens", { body });
    expectStatus(a, 201, `POST /tokens (${kind})`);
    const j = a.json as Json;
    check(
      typeof j?.secret === "string" && typeof j?.token?.id === "string",
      "POST /tokens answered without { token: { id }, secret }",
    );
    // Watched from now on: the creation answer is the only one allowed to show it.
    this.scanner.watch(j.secret, `${kind} token secret`);
    const created: CreatedToken = { id: j.token.id, secret: j.secret, namespace, kind };
    this.#tokens.push(created);
    return created;
  }

  async revokeToken(id: string): Promise<void> {
    const a = await this.admin("DELETE", `/tokens/${encodeURIComponent(id)}`);
    expectStatus(a, 200, "DELETE /tokens/{id}");
  }

  #once<T>(key: string, make: () => Promise<T>): Promise<T> {
    let p = this.#cached.get(key) as Promise<T> | undefined;
    if (!p) {
      p = make();
      this.#cached.set(key, p);
      p.catch(() => this.#cached.delete(key));
    }
    return p;
  }

  /** A secret token of the namespace: created through the admin API, else the endpoint's own. */
  async secretToken(): Promise<string> {
    if (this.hasAdmin) return (await this.#once("secret", () => this.createToken("secret"))).secret;
    if (this.endpointTokenKind === "namespace" && this.#endpointToken) return this.#endpointToken;
    return notApplicable(`${this.#adminProblem} (needed to create namespace tokens)`);
  }

  async publicToken(): Promise<string> {
    this.adminToken();
    return (await this.#once("public", () => this.createToken("public"))).secret;
  }

  /** A second namespace with a secret and a public token (for "other namespace" checks). */
  otherNamespace(): Promise<{ name: string; secret: string; public: string }> {
    this.adminToken();
    return this.#once("other", async () => {
      const name = `conformance-${this.runId}`;
      const a = await this.admin("POST", "/namespaces", { body: { name } });
      expectStatus(a, 201, "POST /namespaces");
      this.#otherNamespace = name;
      const secret = await this.createToken("secret", { namespace: name });
      const pub = await this.createToken("public", { namespace: name });
      return { name, secret: secret.secret, public: pub.secret };
    });
  }

  // ---- the conformance runner ---------------------------------------------------------------

  /** Joins the engine as a runner hosting the conformance actors; records why not, if not. */
  async startRunner(timeoutMs = 30_000): Promise<void> {
    let secret: string;
    try {
      secret = await this.secretToken();
    } catch (e) {
      this.runnerProblem = e instanceof Error ? e.message : String(e);
      return;
    }
    const url = new URL(this.baseUrl);
    url.username = encodeURIComponent(this.namespace);
    url.password = encodeURIComponent(secret);
    const sink = new Writable({
      write: (chunk: Buffer, _enc, done) => {
        if (this.runnerLog.length < 10_000) this.runnerLog.push(chunk.toString("utf8"));
        done();
      },
    });
    const timer = setTimeout(() => this.#runnerAbort.abort(), timeoutMs);
    try {
      const runner = await startConformanceRunner({
        endpoint: url.toString().replace(/\/$/, ""),
        logger: createLogger({ level: "info", destination: sink }),
        runnerName: `enclave-conformance-${this.runId}`,
        signal: this.#runnerAbort.signal,
      });
      this.runner = runner;
      this.#runnerEvents.push({ status: runner.status, at: Date.now() });
      runner.onStatusChange((status) => this.#runnerEvents.push({ status, at: Date.now() }));
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      this.runnerProblem = this.#runnerAbort.signal.aborted
        ? `the conformance runner could not connect within ${timeoutMs} ms (${why})`
        : `the engine refused the conformance runner: ${why}`;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Whether the runner lost its connection at some point after `since` (epoch ms). */
  runnerDroppedSince(since: number): boolean {
    return this.#runnerEvents.some((e) => e.at >= since && e.status !== "connected");
  }

  async waitRunnerConnected(since: number, timeoutMs = 60_000): Promise<void> {
    const runner = this.runner;
    if (!runner) return;
    await waitFor(
      "the conformance runner to reconnect",
      () => {
        if (runner.status === "failed") {
          throw new GiveUp(
            `the engine refused the conformance runner after the restart (${runner.error?.message ?? "?"}): ` +
              "did it lose the namespace token it had acknowledged?",
          );
        }
        return runner.status === "connected" && this.#runnerEvents.some((e) => e.at >= since) ? true : false;
      },
      timeoutMs,
      50,
    );
  }

  requireActors(): void {
    if (!this.runner) notApplicable(`no runner hosting the conformance actors: ${this.runnerProblem}`);
  }

  // ---- actors -------------------------------------------------------------------------------

  async createActor(label: string, type: string = CONFORMANCE_ACTOR): Promise<ActorRef> {
    this.requireActors();
    const key = [`conformance-${this.runId}`, label];
    const a = await this.api.call("PUT", "/actors", {
      token: await this.secretToken(),
      body: { name: type, key },
    });
    expectStatus(a, 200, `PUT /actors (${type} ${label})`);
    const id = (a.json as Json)?.actor?.actorId;
    check(typeof id === "string" && id.length > 0, "PUT /actors answered without actor.actorId");
    if (!this.#actors.includes(id)) this.#actors.push(id);
    return { actorId: id, key };
  }

  /** POST /gateway/{id}/action/{name}; `token` defaults to the secret token. */
  async callAction(
    actorId: string,
    name: string,
    args: unknown[] = [],
    token?: string | null,
  ): Promise<Answer> {
    return this.api.call("POST", `/gateway/${encodeURIComponent(actorId)}/action/${name}`, {
      token: token === undefined ? await this.secretToken() : token,
      body: { args },
    });
  }

  /** An action that must succeed: its output. */
  async act(actorId: string, name: string, ...args: unknown[]): Promise<Json> {
    const a = await this.callAction(actorId, name, args);
    expectStatus(a, 200, `action ${name}`);
    return (a.json as Json)?.output;
  }

  snapshot(actorId: string): Promise<Snapshot> {
    return this.act(actorId, "snapshot") as Promise<Snapshot>;
  }

  /** The directory's status (running, sleeping, destroyed); does not wake the actor. */
  async actorStatus(actorId: string): Promise<string | undefined> {
    const a = await this.api.call("GET", `/actors/${encodeURIComponent(actorId)}`, {
      token: await this.secretToken(),
    });
    expectStatus(a, 200, "GET /actors/{id}");
    return (a.json as Json)?.actor?.status;
  }

  async waitStatus(actorId: string, status: string, timeoutMs = SOON_MS): Promise<void> {
    await waitFor(
      `the actor to be ${status}`,
      async () => (await this.actorStatus(actorId)) === status,
      timeoutMs,
    );
  }

  async forceSleep(actorId: string): Promise<void> {
    const a = await this.admin("POST", `/actors/${encodeURIComponent(actorId)}/sleep`, {
      query: this.nsQuery(),
    });
    expectStatus(a, 200, "POST /actors/{id}/sleep (admin)");
  }

  async egress(): Promise<{ enforcing: boolean; attempts: Json[]; stats: Json }> {
    const a = await this.admin("GET", "/admin/egress");
    expectStatus(a, 200, "GET /admin/egress");
    const j = a.json as Json;
    check(Array.isArray(j?.attempts), "GET /admin/egress answered without an attempts list");
    return { enforcing: j.enforcing === true, attempts: j.attempts, stats: j.stats };
  }

  // ---- restarts -----------------------------------------------------------------------------

  canRestart(): boolean {
    return this.restartKind !== "none";
  }

  requireRestart(): void {
    if (!this.canRestart()) {
      notApplicable("the engine cannot be restarted from here: no local engine and no --restart-hook");
    }
  }

  /**
   * Restarts the engine: `graceful` (SIGTERM, or the hook's graceful mode) or `kill` (SIGKILL);
   * with `downForMs`, keeps it stopped at least that long (the hook is told the same). Waits
   * until it is ready again and the conformance runner is back. Returns when it was down.
   */
  async restart(
    mode: RestartMode,
    downForMs = 0,
  ): Promise<{ exit?: { code: number | null; signal: string | null } }> {
    this.requireRestart();
    const since = Date.now();
    let exit: { code: number | null; signal: string | null } | undefined;
    if (this.local) {
      if (mode === "graceful") exit = await this.local.stop();
      else await this.local.kill9();
      if (downForMs > 0) await sleep(downForMs);
      await this.local.startAgain();
    } else {
      const down = this.#watchDowntime();
      try {
        await this.#runHook(mode, downForMs);
      } finally {
        down.stop();
      }
      await this.waitReady(120_000);
      if (!down.sawDown() && !this.runnerDroppedSince(since)) {
        fail(
          "the restart hook returned but the engine never went away (health kept answering and the runner stayed connected)",
        );
      }
    }
    this.restarts++;
    await this.waitReady(60_000);
    await this.waitRunnerConnected(since);
    return exit ? { exit } : {};
  }

  #watchDowntime(): { stop(): void; sawDown(): boolean } {
    let down = false;
    let stopped = false;
    void (async () => {
      while (!stopped) {
        try {
          const res = await fetch(`${this.baseUrl}/health`, { signal: AbortSignal.timeout(1000) });
          if (!res.ok) down = true;
          await res.body?.cancel();
        } catch {
          down = true;
        }
        await sleep(100);
      }
    })();
    return {
      stop: () => (stopped = true),
      sawDown: () => down,
    };
  }

  async #runHook(mode: RestartMode, downForMs: number): Promise<void> {
    const hook = this.#restartHook;
    if (typeof hook === "function") {
      await hook(mode, { downForMs });
      return;
    }
    if (typeof hook !== "string") return;
    await new Promise<void>((resolve, reject) => {
      const child = spawn("sh", ["-c", hook], {
        env: {
          ...process.env,
          ENCLAVE_CONFORMANCE_RESTART: mode,
          ENCLAVE_CONFORMANCE_RESTART_DOWN_MS: String(downForMs),
        },
        stdio: ["ignore", "ignore", "pipe"],
      });
      let stderr = "";
      child.stderr?.setEncoding("utf8").on("data", (c: string) => (stderr = (stderr + c).slice(-2000)));
      const timer = setTimeout(() => child.kill("SIGKILL"), 300_000);
      child.once("error", (e) => {
        clearTimeout(timer);
        reject(new Error(`the restart hook could not run: ${e.message}`));
      });
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        if (code === 0) resolve();
        else reject(new Error(`the restart hook failed (${signal ?? `exit ${code}`}): ${stderr.trim()}`));
      });
    });
  }

  async waitReady(timeoutMs: number): Promise<void> {
    await waitFor(
      "GET /health/ready to answer 200",
      async () => {
        const res = await fetch(`${this.baseUrl}/health/ready`, { signal: AbortSignal.timeout(2000) });
        await res.body?.cancel();
        return res.status === 200;
      },
      timeoutMs,
    );
  }

  // ---- cleanup ------------------------------------------------------------------------------

  /**
   * Best effort, bounded: on a remote deployment, actors destroyed, tokens revoked, the extra
   * namespace removed; then the runner closed. (A local engine's files are removed whole.)
   */
  async cleanup(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.#cleanup(),
      new Promise((r) => {
        timer = setTimeout(r, 30_000);
      }),
    ]);
    clearTimeout(timer);
    this.#runnerAbort.abort();
  }

  async #cleanup(): Promise<void> {
    const quiet = async (f: () => Promise<unknown>) => {
      try {
        await f();
      } catch {
        // best effort
      }
    };
    if (this.local) {
      if (this.runner) await quiet(() => this.runner!.close());
      return;
    }
    if (this.runner) {
      const token = await this.secretToken().catch(() => undefined);
      for (const id of this.#actors) {
        await quiet(() =>
          this.api.call("DELETE", `/actors/${encodeURIComponent(id)}`, { token, timeoutMs: 5000 }),
        );
      }
    }
    if (this.hasAdmin) {
      for (const t of this.#tokens) {
        await quiet(() => this.admin("DELETE", `/tokens/${encodeURIComponent(t.id)}`, { timeoutMs: 5000 }));
      }
      const ns = this.#otherNamespace;
      if (ns) await quiet(() => this.admin("DELETE", `/namespaces/${ns}`, { timeoutMs: 5000 }));
    }
    this.#runnerAbort.abort();
    if (this.runner) await quiet(() => this.runner!.close());
  }
}
