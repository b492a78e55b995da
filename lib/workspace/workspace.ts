/**
 * `workspace({...})`: an actor type that owns a small VM. The VM boots on the first action that
 * needs it (clients see `vmBooted`), and shuts down when the actor sleeps (`vmShutdown`); files
 * under /home/user (and any persistent mount) are made durable before an action that changed
 * them returns, and within a moment for changes made by background processes.
 */
import { actor, systemKv, type ActorOptions } from "../actor/index.js";
import type { ActionContext, ActorContext, ConnectContext } from "../actor/context.js";
import { Errors, err } from "../errors.js";
import { bootKernel, type MountSpec } from "./boot.js";
import { FsActions, type FileStat, type TreeEntry, type WriteFileOptions } from "./fs-actions.js";
import type { FilesystemPolicy, ListenPolicy, NetworkPolicy, ProcessInfo, Signal } from "./kernel/types.js";
import { recordEgressAttempt } from "../telemetry/egress.js";
import { PREVIEW_SCOPE, PreviewTokens, type SignedPreviewUrl } from "./previews.js";
import { baseSoftware } from "./software/index.js";
import { checkPort, connectToGuest, vmFetch, type VmFetchInit, type VmFetchResponse } from "./vm-fetch.js";
import type { SoftwarePackage } from "./software/index.js";
import {
  Vm,
  type ExecOptions,
  type ExecResult,
  type ProcessExitEvent,
  type SpawnProcessOptions,
} from "./vm.js";

export interface WorkspaceLimits {
  resources?: {
    /** Processes computing at once; the rest wait for a CPU (I/O waits do not hold one). Default 2. */
    cpuCount?: number;
    /** Most processes running at once (spawn fails with EAGAIN beyond). Default 64. */
    maxProcesses?: number;
    /** Most bytes stored in the VM's writable filesystem (writes fail with ENOSPC beyond). Default 256 MiB. */
    maxFilesystemBytes?: number;
    /** Linear memory of each WASI program (growing past it fails, malloc returns NULL). Default 256 MiB. */
    maxWasmMemoryBytes?: number;
  };
  /** CPU time of each process before it is ended with SIGXCPU (exit 152). Default 10 minutes; 0 = none. */
  processCpuTimeMs?: number;
}

export interface WorkspacePermissions {
  /** Outbound network of guest programs: deny by default. */
  network?: NetworkPolicy;
  /** Paths guest programs may read or write (the workspace's own file actions are not limited). */
  filesystem?: FilesystemPolicy;
}

export const DEFAULT_LIMITS = {
  cpuCount: 2,
  maxProcesses: 64,
  maxFilesystemBytes: 256 * 1024 * 1024,
  maxWasmMemoryBytes: 256 * 1024 * 1024,
  processCpuTimeMs: 600_000,
} as const;

export interface WorkspaceConfig {
  /** Software packages laid out read-only under /usr. Default: the base package. `[]` gives an empty VM. */
  software?: SoftwarePackage[];
  /** Extra environment for every process (the host environment is never inherited). */
  env?: Record<string, string>;
  /** Extra mounts; /home/user is always persistent. */
  mounts?: MountSpec[];
  limits?: WorkspaceLimits;
  permissions?: WorkspacePermissions;
  /** Ports guest programs may listen on: EACCES outside, and below 1024 without allowPrivileged. */
  listen?: ListenPolicy;
  /** Host loopback ports guest programs may reach (e.g. a mock server in tests); all others are refused. */
  loopbackExemptPorts?: number[];
  /**
   * Processes started on every VM boot, e.g. the server a preview URL points at (processes do
   * not survive a sleep). Unlike `spawn`, they do not keep the workspace awake.
   */
  startup?: StartupProcess[];
  /** Actor options; workspaces default to a 5-minute action timeout. */
  options?: ActorOptions;
  /** Gate connections: throw a UserError to refuse. */
  onBeforeConnect?: (
    c: ConnectContext<WorkspaceState, WorkspaceVars, unknown>,
    params: unknown,
  ) => void | Promise<void>;
}

export interface StartupProcess {
  command: string;
  args?: string[];
  cwd?: string;
  env?: Record<string, string>;
}

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface WorkspaceState {}

export interface WorkspaceVars {
  /** The booted VM, or its boot in progress. */
  vm: Promise<Vm> | undefined;
  flushTimer: NodeJS.Timeout | undefined;
}

type C = ActionContext<WorkspaceState, WorkspaceVars, unknown>;

/** The environment every process starts with (plus `config.env`). */
export const DEFAULT_ENV: Readonly<Record<string, string>> = {
  HOME: "/home/user",
  USER: "user",
  LOGNAME: "user",
  SHELL: "/bin/sh",
  PATH: "/usr/local/bin:/usr/bin:/bin",
  LANG: "C.UTF-8",
  HOSTNAME: "workspace",
  TMPDIR: "/tmp",
};

/** Headers that describe one hop, not the message (RFC 9110 7.6.1). */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "te",
  "trailer",
  "proxy-authorization",
  "proxy-authenticate",
]);

/** How long a proxied request waits for a startup process to listen after a boot. */
const STARTUP_LISTEN_WAIT_MS = 10_000;

/** Background changes are flushed this long after the last one was signalled. */
const BACKGROUND_FLUSH_MS = 20;
/** While processes run, their file writes are flushed at least this often. */
const RUNNING_FLUSH_MS = 100;

export function workspace(config: WorkspaceConfig = {}) {
  const software = config.software ?? [baseSoftware];
  if (!Array.isArray(software))
    throw new TypeError("workspace({ software }) takes an array of software packages");
  const env = { ...DEFAULT_ENV, ...(config.env ?? {}) };
  const mounts = config.mounts ?? [];
  const startup = config.startup ?? [];
  const res = config.limits?.resources ?? {};
  if (!Array.isArray(startup) || startup.some((p) => typeof p?.command !== "string")) {
    throw new TypeError("workspace({ startup }) takes an array of { command, args?, cwd?, env? }");
  }

  async function boot(c: ActorContext<WorkspaceState, WorkspaceVars, unknown>): Promise<Vm> {
    const started = performance.now();
    const kernel = await bootKernel({
      software,
      mounts,
      limits: {
        cpuCount: res.cpuCount ?? DEFAULT_LIMITS.cpuCount,
        maxProcesses: res.maxProcesses ?? DEFAULT_LIMITS.maxProcesses,
        maxFilesystemBytes: res.maxFilesystemBytes ?? DEFAULT_LIMITS.maxFilesystemBytes,
        maxWasmMemoryBytes: res.maxWasmMemoryBytes ?? DEFAULT_LIMITS.maxWasmMemoryBytes,
        cpuTimeMs: config.limits?.processCpuTimeMs ?? DEFAULT_LIMITS.processCpuTimeMs,
      },
      ...(config.permissions?.network ? { network: config.permissions.network } : {}),
      ...(config.permissions?.filesystem ? { filesystem: config.permissions.filesystem } : {}),
      ...(config.listen ? { listen: config.listen } : {}),
      ...(config.loopbackExemptPorts ? { loopbackExemptPorts: config.loopbackExemptPorts } : {}),
      onNetworkAttempt: (a) => {
        // Allowed connects and air-gap refusals reach the host's hooks, which record them already.
        if (a.outcome !== "refused" || a.reason?.startsWith("airgap:")) return;
        recordEgressAttempt({
          kind: a.operation === "dns" ? "dns" : "connect",
          host: a.host,
          port: a.operation === "dns" ? null : a.port,
          allowed: false,
          source: `workspace ${c.actorId}${a.pid !== undefined ? ` pid ${a.pid}` : ""}`,
          ...(a.reason ? { reason: a.reason } : {}),
        });
      },
      persistence: (scope) => {
        const kv = systemKv(c, scope);
        return { load: () => kv.list(), commit: (ops) => kv.commit(ops) };
      },
    });
    const vm = new Vm(kernel, env, {
      processOutput: (e) => c.broadcast("processOutput", e),
      processExit: (e) => c.broadcast("processExit", e),
      shellData: (e) => c.broadcast("shellData", e),
      shellExit: (e) => c.broadcast("shellExit", e),
      dirty: () => scheduleFlush(c),
    });
    c.broadcast("vmBooted", { bootMs: Math.round((performance.now() - started) * 1000) / 1000 });
    for (const p of startup) {
      try {
        vm.spawn(p.command, p.args ?? [], {
          ...(p.cwd ? { cwd: p.cwd } : {}),
          ...(p.env ? { env: p.env } : {}),
        });
      } catch (e) {
        c.log.warn({ err: e, command: p.command }, "a startup process of the workspace did not start");
      }
    }
    if (startup.length > 0) scheduleFlushAfter(c, RUNNING_FLUSH_MS);
    return vm;
  }

  function scheduleFlush(c: ActorContext<WorkspaceState, WorkspaceVars, unknown>): void {
    if (c.vars.flushTimer) return;
    c.vars.flushTimer = setTimeout(() => {
      c.vars.flushTimer = undefined;
      const vm = c.vars.vm;
      if (!vm) return;
      c.waitUntil(
        vm.then(async (v) => {
          await v.flush();
          if (v.busy) scheduleFlushAfter(c, RUNNING_FLUSH_MS);
        }),
      );
    }, BACKGROUND_FLUSH_MS);
  }

  function scheduleFlushAfter(c: ActorContext<WorkspaceState, WorkspaceVars, unknown>, ms: number): void {
    if (c.vars.flushTimer) return;
    c.vars.flushTimer = setTimeout(() => {
      c.vars.flushTimer = undefined;
      scheduleFlush(c);
    }, ms - BACKGROUND_FLUSH_MS);
  }

  function vmOf(c: C): Promise<Vm> {
    if (!c.vars.vm) {
      const p = boot(c);
      c.vars.vm = p;
      p.catch(() => {
        if (c.vars.vm === p) c.vars.vm = undefined;
      });
    }
    return c.vars.vm;
  }

  async function fs(c: C): Promise<FsActions> {
    const vm = await vmOf(c);
    return new FsActions(vm.kernel.vfs, vm.home);
  }

  /** Runs a mutating call, then makes its effect durable before the action returns. */
  async function durable<T>(c: C, fn: (vm: Vm) => T | Promise<T>): Promise<T> {
    const vm = await vmOf(c);
    const out = await fn(vm);
    await vm.flush();
    return out;
  }

  const previews = (c: ActorContext<WorkspaceState, WorkspaceVars, unknown>) =>
    new PreviewTokens(systemKv(c, PREVIEW_SCOPE), c.actorId);

  const actions = {
    // ---- filesystem ----
    async readFile(c: C, path: string): Promise<Uint8Array> {
      return (await fs(c)).readFile(path);
    },
    async writeFile(
      c: C,
      path: string,
      content: string | Uint8Array,
      options?: WriteFileOptions,
    ): Promise<void> {
      await durable(c, (vm) => new FsActions(vm.kernel.vfs, vm.home).writeFile(path, content, options ?? {}));
    },
    async mkdir(c: C, path: string, options?: { recursive?: boolean; mode?: number }): Promise<void> {
      await durable(c, (vm) => new FsActions(vm.kernel.vfs, vm.home).mkdir(path, options ?? {}));
    },
    async readdir(c: C, path: string): Promise<string[]> {
      return (await fs(c)).readdir(path);
    },
    async readdirRecursive(c: C, path: string): Promise<TreeEntry[]> {
      return (await fs(c)).readdirRecursive(path);
    },
    async stat(c: C, path: string): Promise<FileStat> {
      return (await fs(c)).stat(path);
    },
    async exists(c: C, path: string): Promise<boolean> {
      return (await fs(c)).exists(path);
    },
    async move(c: C, from: string, to: string): Promise<void> {
      await durable(c, (vm) => new FsActions(vm.kernel.vfs, vm.home).move(from, to));
    },
    async deleteFile(c: C, path: string, options?: { recursive?: boolean }): Promise<void> {
      await durable(c, (vm) => new FsActions(vm.kernel.vfs, vm.home).deleteFile(path, options ?? {}));
    },

    // ---- processes ----
    async exec(c: C, command: string, options?: ExecOptions): Promise<ExecResult> {
      return durable(c, (vm) => vm.exec(command, options ?? {}));
    },
    async spawn(
      c: C,
      command: string,
      args?: string[],
      options?: SpawnProcessOptions,
    ): Promise<{ pid: number }> {
      const vm = await vmOf(c);
      const out = vm.spawn(command, args ?? [], options ?? {});
      // A running process keeps the workspace awake; its file writes are flushed as it goes.
      void c.keepAwake(vm.waitProcess(out.pid).catch(() => undefined));
      scheduleFlushAfter(c, RUNNING_FLUSH_MS);
      return out;
    },
    async writeProcessStdin(c: C, pid: number, data: string | Uint8Array): Promise<void> {
      await (await vmOf(c)).writeProcessStdin(pid, data);
    },
    async closeProcessStdin(c: C, pid: number): Promise<void> {
      (await vmOf(c)).closeProcessStdin(pid);
    },
    async waitProcess(c: C, pid: number): Promise<ProcessExitEvent> {
      return durable(c, (vm) => vm.waitProcess(pid));
    },
    async listProcesses(c: C): Promise<ProcessInfo[]> {
      return (await vmOf(c)).listProcesses();
    },
    async killProcess(c: C, pid: number, signal?: Signal): Promise<void> {
      (await vmOf(c)).killProcess(pid, signal ?? "SIGTERM");
    },

    // ---- network ----
    async vmFetch(c: C, port: number, path: string, init?: VmFetchInit): Promise<VmFetchResponse> {
      const vm = await vmOf(c);
      return vmFetch(vm.kernel.net, port, path, init ?? {});
    },
    async createSignedPreviewUrl(c: C, port: number, ttlSeconds?: number): Promise<SignedPreviewUrl> {
      return previews(c).create(port, ttlSeconds);
    },
    async expireSignedPreviewUrl(c: C, token: string): Promise<boolean> {
      return previews(c).expire(token);
    },
    async listSignedPreviewUrls(c: C): Promise<SignedPreviewUrl[]> {
      return previews(c).list();
    },

    // ---- shells ----
    async openShell(
      c: C,
      options?: { cols?: number; rows?: number; cwd?: string; env?: Record<string, string> },
    ) {
      const vm = await vmOf(c);
      const out = vm.openShell(options ?? {});
      void c.keepAwake(vm.shellClosed(out.shellId));
      return out;
    },
    async writeShell(c: C, shellId: string, data: string | Uint8Array): Promise<void> {
      (await vmOf(c)).writeShell(shellId, data);
    },
    async resizeShell(c: C, shellId: string, cols: number, rows: number): Promise<void> {
      (await vmOf(c)).resizeShell(shellId, cols, rows);
    },
    async closeShell(c: C, shellId: string): Promise<void> {
      await durable(c, (vm) => vm.closeShell(shellId));
    },
  };

  return actor<WorkspaceState, WorkspaceVars, undefined, unknown, typeof actions>({
    state: {},
    createVars: () => ({ vm: undefined, flushTimer: undefined }),
    actions,
    ...(config.onBeforeConnect ? { onBeforeConnect: config.onBeforeConnect } : {}),
    async onWake(c) {
      // Expired preview tokens go at every wake (the gateway refuses them meanwhile).
      await previews(c).purge();
    },
    // `/port/{port}/...`: an authenticated HTTP proxy into a guest port; preview URLs land here
    // once the gateway has checked their token.
    async onRequest(c, request) {
      const url = new URL(request.url);
      const m = /^\/port\/(\d{1,5})(\/.*)?$/.exec(url.pathname);
      if (!m) {
        return Response.json(
          { group: "workspace", code: "no_such_route", message: "A workspace serves /port/{port}/... only" },
          { status: 404 },
        );
      }
      const port = checkPort(Number(m[1]));
      const vm = await vmOf(c as C);
      // Right after a boot the startup processes may not be listening yet.
      if (startup.length > 0) await vm.waitForListener(port, STARTUP_LISTEN_WAIT_MS);
      const headers: Record<string, string> = {};
      request.headers.forEach((value, name) => {
        if (!HOP_BY_HOP.has(name)) headers[name] = value;
      });
      const body =
        request.method === "GET" || request.method === "HEAD"
          ? undefined
          : new Uint8Array(await request.arrayBuffer());
      const res = await vmFetch(vm.kernel.net, port, `${m[2] ?? "/"}${url.search}`, {
        method: request.method,
        headers,
        ...(body && body.length > 0 ? { body } : {}),
      });
      const out = new Headers();
      for (const [name, value] of Object.entries(res.headers)) {
        if (HOP_BY_HOP.has(name) || name === "content-length") continue;
        if (name === "set-cookie") for (const v of value.split("\n")) out.append(name, v);
        else out.set(name, value);
      }
      const nullBody = request.method === "HEAD" || res.status === 204 || res.status === 304;
      return new Response(nullBody ? null : res.body, {
        status: res.status,
        statusText: res.statusText,
        headers: out,
      });
    },
    // Preview WebSockets: a byte stream into a guest port (the gateway speaks WebSocket over it).
    async onTunnel(c, target) {
      const m = /^port:(\d{1,5})$/.exec(target);
      if (!m) throw err(Errors.badRequest, `Unknown tunnel target ${JSON.stringify(target)}`);
      const port = checkPort(Number(m[1]));
      const vm = await vmOf(c as C);
      if (startup.length > 0) await vm.waitForListener(port, STARTUP_LISTEN_WAIT_MS);
      return connectToGuest(vm.kernel.net, port);
    },
    async onSleep(c) {
      if (c.vars.flushTimer) clearTimeout(c.vars.flushTimer);
      c.vars.flushTimer = undefined;
      const pending = c.vars.vm;
      if (!pending) return;
      c.vars.vm = undefined;
      let vm: Vm;
      try {
        vm = await pending;
      } catch {
        return; // It never booted; nothing to stop.
      }
      await vm.shutdown();
      c.broadcast("vmShutdown", { reason: "sleep" });
    },
    options: { actionTimeout: 300_000, ...(config.options ?? {}) },
  });
}

/** The type of a workspace actor definition, for typing clients. */
export type WorkspaceDefinition = ReturnType<typeof workspace>;
