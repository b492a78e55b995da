/**
 * `workspace({...})`: an actor type that owns a small VM. The VM boots on the first action that
 * needs it (clients see `vmBooted`), and shuts down when the actor sleeps (`vmShutdown`); files
 * under /home/user (and any persistent mount) are made durable before an action that changed
 * them returns, and within a moment for changes made by background processes.
 */
import { actor, systemKv, type ActorDefinition, type ActorOptions } from "../actor/index.js";
import type { ActionContext, ActorContext, ConnectContext } from "../actor/context.js";
import { Errors, err } from "../errors.js";
import { bootKernel, type MountSpec } from "./boot.js";
import { FsActions, type FileStat, type TreeEntry, type WriteFileOptions } from "./fs-actions.js";
import type { ProcessInfo, Signal } from "./kernel/types.js";
import { baseSoftware } from "./software/index.js";
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
    /** Most processes running at once (spawn fails with EAGAIN beyond). Default 64. */
    maxProcesses?: number;
    /** Most bytes stored in the VM's filesystem (writes fail with ENOSPC beyond). Default 256 MiB. */
    maxFilesystemBytes?: number;
  };
}

export interface WorkspaceConfig {
  /** Software packages laid out read-only under /usr. Default: the base package. `[]` gives an empty VM. */
  software?: SoftwarePackage[];
  /** Extra environment for every process (the host environment is never inherited). */
  env?: Record<string, string>;
  /** Extra mounts; /home/user is always persistent. */
  mounts?: MountSpec[];
  limits?: WorkspaceLimits;
  /** Actor options; workspaces default to a 5-minute action timeout. */
  options?: ActorOptions;
  /** Gate connections: throw a UserError to refuse. */
  onBeforeConnect?: (
    c: ConnectContext<WorkspaceState, WorkspaceVars, unknown>,
    params: unknown,
  ) => void | Promise<void>;
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

  async function boot(c: ActorContext<WorkspaceState, WorkspaceVars, unknown>): Promise<Vm> {
    const started = performance.now();
    const kernel = await bootKernel({
      software,
      mounts,
      limits: config.limits?.resources ?? {},
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
export type { ActorDefinition };

/** Validates a mount list eagerly (so mistakes fail at setup). */
export function checkMounts(mounts: unknown): void {
  if (mounts === undefined) return;
  if (!Array.isArray(mounts)) throw err(Errors.badRequest, "mounts must be an array");
}
