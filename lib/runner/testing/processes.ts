/**
 * Child processes for the runner-mode tests: a standalone engine (engine-child.ts) and runners
 * (runner-child.ts), each a real `node --import tsx` process, with their stdout lines and their
 * logs (pino JSON on stderr) collected so a test can wait for a line or look for a log entry.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ADMIN_TOKEN = "a".repeat(32);
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const HERE = fileURLToPath(new URL(".", import.meta.url));

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export class Proc {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  readonly logs: Json[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr = "";
  readonly #waiters = new Set<() => void>();

  constructor(script: string, args: string[], env: Record<string, string>) {
    this.child = spawn(process.execPath, ["--import", "tsx", join(HERE, script), ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", ...env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let out = "";
    this.child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      const parts = (out + chunk).split("\n");
      out = parts.pop() ?? "";
      this.lines.push(...parts);
      this.#wake();
    });
    let err = "";
    this.child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      this.stderr += chunk;
      const parts = (err + chunk).split("\n");
      err = parts.pop() ?? "";
      for (const p of parts) {
        try {
          this.logs.push(JSON.parse(p));
        } catch {
          // not a log line
        }
      }
      this.#wake();
    });
    this.exited = new Promise((resolve) =>
      this.child.once("exit", (code, signal) => {
        resolve({ code, signal });
        this.#wake();
      }),
    );
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w();
  }

  /** Waits until `check` returns something truthy (re-checked on every line and log). */
  waitFor<T>(what: string, check: () => T | undefined | false | null, timeoutMs = 20_000): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const done = () => {
        const v = check();
        if (v) {
          cleanup();
          resolve(v);
        } else if (!this.running) {
          cleanup();
          reject(
            new Error(
              `process exited while waiting for ${what}; stdout: ${this.lines.join(" | ")}; stderr: ${this.stderr.slice(-2000)}`,
            ),
          );
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${what}; stdout: ${this.lines.join(" | ")}; stderr: ${this.stderr.slice(-2000)}`,
          ),
        );
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
      };
      this.#waiters.add(done);
      done();
    });
  }

  /** The first stdout line starting with `prefix` (its rest), waiting for it. */
  line(prefix: string, timeoutMs?: number): Promise<string> {
    return this.waitFor(
      `a line "${prefix}..."`,
      () => this.lines.find((l) => l.startsWith(prefix))?.slice(prefix.length),
      timeoutMs,
    );
  }

  /** A log entry whose message matches, waiting for it. */
  log(match: (entry: Json) => boolean, what: string, timeoutMs?: number): Promise<Json> {
    return this.waitFor(what, () => this.logs.find(match), timeoutMs);
  }

  signal(sig: NodeJS.Signals): void {
    if (this.running) this.child.kill(sig);
  }

  async kill9(): Promise<void> {
    this.signal("SIGKILL");
    await this.exited;
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.running) return;
    this.signal("SIGCONT");
    this.signal("SIGTERM");
    const timer = setTimeout(() => this.signal("SIGKILL"), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

export async function startEngineProcess(
  dir: string,
  { port = 0, env = {} }: { port?: number; env?: Record<string, string> } = {},
): Promise<{ proc: Proc; url: string; port: number }> {
  const proc = new Proc("engine-child.ts", [dir, String(port)], { ADMIN_TOKEN, ...env });
  const url = await proc.line("listening ", 30_000);
  return { proc, url, port: Number(new URL(url).port) };
}

export function startRunnerProcess(endpoint: string, name: string, env: Record<string, string> = {}): Proc {
  return new Proc("runner-child.ts", [], { ENCLAVE_ENDPOINT: endpoint, RUNNER_NAME: name, ...env });
}

/** `http://NAMESPACE:TOKEN@host:port` for the engine at `url`. */
export function endpointFor(url: string, token = ADMIN_TOKEN, namespace = "default"): string {
  const u = new URL(url);
  u.username = encodeURIComponent(namespace);
  u.password = encodeURIComponent(token);
  return u.toString().replace(/\/$/, "");
}

export async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), "enclave-runner-"));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
}

/** A JSON call to the engine with the admin token (or `token`). */
export async function call(
  url: string,
  method: string,
  path: string,
  body?: unknown,
  token = ADMIN_TOKEN,
): Promise<{ status: number; body: Json }> {
  const init: RequestInit = { method, headers: { authorization: `Bearer ${token}` } };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { ...init.headers, "content-type": "application/json" };
  }
  const res = await fetch(url + path, init);
  const text = await res.text();
  return { status: res.status, body: text === "" ? undefined : JSON.parse(text) };
}

/** Creates a namespace token; returns its secret. */
export async function createToken(
  url: string,
  kind: "secret" | "public",
  namespace = "default",
): Promise<string> {
  const res = await call(url, "POST", "/tokens", { namespace, kind });
  if (res.status !== 201 && res.status !== 200)
    throw new Error(`token creation failed: ${JSON.stringify(res)}`);
  return res.body.secret as string;
}

/** Polls `check` until it returns something truthy. */
export async function poll<T>(
  what: string,
  check: () => Promise<T> | T,
  timeoutMs = 20_000,
  everyMs = 50,
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
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${String(last)})`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
