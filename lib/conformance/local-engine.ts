/**
 * A local engine the suite spawns itself: `enclave start` as a real child process, on a temp
 * data directory, with an admin token the suite generates (in a file outside the data
 * directory, so a search of the data directory for it means something), port 0 parsed from
 * the `enclave listening on` line, metrics on a loopback port, and its whole output captured
 * (to search for secrets, and to hand to the report with secrets redacted).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { TEST_NET_HOST } from "./netns.js";
import { childEnv, enclaveCommand } from "./process.js";

/** Where the OTel exporter is pointed when a deliberate, refused attempt is wanted. */
export const CANARY_COLLECTOR = `http://${TEST_NET_HOST}:4318`;
export const CANARY_PORT = 4318;

export interface LocalEngineOptions {
  /** airgap.enforce (with no allow list). */
  enforce: boolean;
  /**
   * Point telemetry.otel at a TEST-NET collector, so that exporting spans makes the engine
   * attempt a connection its enforcement must refuse. Requires `enforce`.
   */
  otelCanary: boolean;
  /** Milliseconds to wait for `enclave listening on`. */
  startTimeoutMs?: number;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export class LocalEngine {
  readonly workDir: string;
  readonly dataDir: string;
  readonly configFile: string;
  readonly metricsUrl: string;
  readonly options: LocalEngineOptions;
  readonly #adminToken: string;
  #child: ChildProcess | undefined;
  #exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
  #port = 0;
  #url = "";
  /** Everything every incarnation wrote (stdout: JSON log; stderr: status lines). */
  #output: string[] = [];
  /** Exit codes of earlier incarnations, in order. */
  readonly exits: { code: number | null; signal: NodeJS.Signals | null }[] = [];

  private constructor(workDir: string, adminToken: string, metricsPort: number, options: LocalEngineOptions) {
    this.workDir = workDir;
    this.dataDir = path.join(workDir, "data");
    this.configFile = path.join(workDir, "engine.json");
    this.metricsUrl = `http://127.0.0.1:${metricsPort}`;
    this.#adminToken = adminToken;
    this.options = options;
  }

  static async start(options: LocalEngineOptions): Promise<LocalEngine> {
    if (options.otelCanary && !options.enforce) {
      throw new Error("the OTel canary needs airgap.enforce: it must never send a packet");
    }
    const workDir = await mkdtemp(path.join(tmpdir(), "enclave-conformance-"));
    const token = randomBytes(32).toString("hex");
    const engine = new LocalEngine(workDir, token, await freePort(), options);
    try {
      await engine.#writeFiles();
      await engine.#spawn(0);
    } catch (e) {
      await engine.dispose();
      throw e;
    }
    return engine;
  }

  async #writeFiles(): Promise<void> {
    const secrets = path.join(this.workDir, "secrets");
    await mkdir(secrets, { mode: 0o700 });
    await mkdir(this.dataDir, { mode: 0o700 });
    const tokenFile = path.join(secrets, "admin-token");
    await writeFile(tokenFile, `${this.#adminToken}\n`, { mode: 0o600 });
    const config = {
      storage: { fileSystem: { path: this.dataDir } },
      gateway: { host: "127.0.0.1", port: 0 },
      auth: { adminTokenFile: tokenFile },
      metrics: { enabled: true, host: "127.0.0.1", port: Number(new URL(this.metricsUrl).port) },
      // debug: the more the engine logs, the more the log search for secrets covers.
      log: { level: "debug" },
      shutdown: { timeoutMs: 15_000 },
      airgap: { enforce: this.options.enforce, allow: [] },
      telemetry: {
        otel: this.options.otelCanary ? { enabled: true, endpoint: CANARY_COLLECTOR } : { enabled: false },
      },
    };
    await writeFile(this.configFile, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  }

  /** Never print it. */
  get adminToken(): string {
    return this.#adminToken;
  }
  get url(): string {
    return this.#url;
  }
  get pid(): number | undefined {
    return this.#child?.pid;
  }
  get running(): boolean {
    return !!this.#child && this.#child.exitCode === null && this.#child.signalCode === null;
  }
  /** The captured output of every incarnation so far (holds secrets only if the engine leaked them). */
  output(): string {
    return this.#output.join("");
  }

  async #spawn(port: number): Promise<void> {
    const { command, args } = enclaveCommand([
      "start",
      "--config",
      this.configFile,
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
    ]);
    const child = spawn(command, args, {
      cwd: this.workDir,
      env: childEnv(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.#child = child;
    let stderr = "";
    child.stdout?.setEncoding("utf8").on("data", (c: string) => this.#output.push(c));
    child.stderr?.setEncoding("utf8").on("data", (c: string) => {
      this.#output.push(c);
      stderr += c;
    });
    this.#exited = new Promise((resolve) =>
      child.once("exit", (code, signal) => {
        this.exits.push({ code, signal });
        resolve({ code, signal });
      }),
    );
    const timeoutMs = this.options.startTimeoutMs ?? 60_000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = /enclave listening on (http:\/\/\S+)/.exec(stderr);
      if (m) {
        this.#url = m[1]!;
        this.#port = Number(new URL(this.#url).port);
        return;
      }
      if (!this.running) {
        throw new Error(`the engine exited before listening:\n${this.#redacted(stderr).slice(-3000)}`);
      }
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new Error(
          `the engine did not listen within ${timeoutMs} ms:\n${this.#redacted(stderr).slice(-3000)}`,
        );
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  #redacted(text: string): string {
    return text.split(this.#adminToken).join("[admin token]");
  }

  /** SIGTERM and wait (bounded); returns the exit. */
  async stop(timeoutMs = 30_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const child = this.#child;
    if (!child || !this.#exited) return { code: null, signal: null };
    if (this.running) child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    const exit = await this.#exited;
    clearTimeout(timer);
    return exit;
  }

  /** SIGKILL: no shutdown at all. */
  async kill9(): Promise<void> {
    const child = this.#child;
    if (!child || !this.#exited) return;
    if (this.running) child.kill("SIGKILL");
    await this.#exited;
  }

  /** Starts the engine again on the same data directory and port. */
  async startAgain(): Promise<void> {
    if (this.running) throw new Error("the engine is still running");
    let last: unknown;
    // The port may take a moment to be free again; a few bounded tries.
    for (let i = 0; i < 5; i++) {
      try {
        await this.#spawn(this.#port);
        return;
      } catch (e) {
        last = e;
        if (!/address is in use/.test(String(e))) throw e;
        await new Promise((r) => setTimeout(r, 200 * (i + 1)));
      }
    }
    throw last;
  }

  /** Every file of the data directory (to search them byte for byte). */
  async dataFiles(): Promise<{ file: string; bytes: Buffer }[]> {
    const out: { file: string; bytes: Buffer }[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) await walk(full);
        else if (entry.isFile())
          out.push({ file: path.relative(this.dataDir, full), bytes: await readFile(full) });
      }
    };
    await walk(this.dataDir);
    return out;
  }

  /** Stops the engine (SIGKILL after a grace period) and removes its files. */
  async dispose(): Promise<void> {
    try {
      if (this.running) await this.stop(10_000);
    } finally {
      await rm(this.workDir, { recursive: true, force: true, maxRetries: 3, retryDelay: 100 });
    }
  }
}
