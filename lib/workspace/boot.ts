/**
 * Builds a workspace's kernel: the in-memory root with the usual directories, the software
 * packages read-only at /usr (one mount object per engine, shared by every VM), /home/user and
 * any persistent mount loaded from the actor's storage, WASI programs on the shared worker pool
 * and the shell as a host program.
 */
import { Errors, err } from "../errors.js";
import {
  Kernel,
  MemoryMount,
  StoreMount,
  createSoftwareMount,
  type Mount,
  type SoftwareMount,
  type PersistBackend,
  type FilesystemPolicy,
  type ListenPolicy,
  type NetworkAttempt,
  type NetworkPolicy,
} from "./kernel/index.js";
import { createNodeProgram } from "./node/index.js";
import { shellHostPrograms } from "./shell/index.js";
import { SoftwareError, type SoftwarePackage } from "./software/index.js";
import { WasiExecutor } from "./wasi/index.js";

export interface MountSpec {
  /** Absolute directory path, e.g. "/data". */
  path: string;
  /** "persistent": kept in the actor's storage like /home/user; "memory": empty on every boot. */
  type: "persistent" | "memory";
}

export interface ResourceLimits {
  /** Processes of this workspace computing at once (processes blocked on I/O do not count). */
  cpuCount?: number;
  maxProcesses?: number;
  maxFilesystemBytes?: number;
  /** Linear memory of each WASI program (growing past it fails inside the program). */
  maxWasmMemoryBytes?: number;
  /** CPU time of each process before it is ended with SIGXCPU (exit 152); 0 = no limit. */
  cpuTimeMs?: number;
}

export interface BootOptions {
  software: readonly SoftwarePackage[];
  mounts: readonly MountSpec[];
  limits: ResourceLimits;
  network?: NetworkPolicy;
  filesystem?: FilesystemPolicy;
  listen?: ListenPolicy;
  loopbackExemptPorts?: number[];
  /** Refused outbound attempts of guest programs, for the egress audit. */
  onNetworkAttempt?: (attempt: NetworkAttempt) => void;
  /** Storage for a persistent mount, by scope (one scope per mount path). */
  persistence: (scope: string) => PersistBackend;
}

export interface BootedKernel extends Kernel {
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

/** One mount per distinct package list, shared by every workspace that uses that list. */
const softwareMounts = new Map<string, SoftwareMount>();

function softwareMount(packages: readonly SoftwarePackage[]): SoftwareMount | undefined {
  if (packages.length === 0) return undefined;
  const id = packages.map((p) => p.name).join("\u0000");
  const cached = softwareMounts.get(id);
  if (cached) return cached;
  const files = [];
  for (const pkg of packages) {
    let list;
    try {
      list = pkg.files();
    } catch (e) {
      if (e instanceof SoftwareError) throw err(Errors.wsSoftwareMissing, e.message, { package: pkg.name });
      throw e;
    }
    for (const f of list) {
      const rel = (p: string): string => p.replace(/^\/usr\/?/, "");
      files.push({
        path: rel(f.path),
        ...(f.data ? { data: f.data } : {}),
        ...(f.mode !== undefined ? { mode: f.mode } : {}),
        ...(f.linkTo !== undefined ? { linkTo: rel(f.linkTo) } : {}),
        ...(f.symlink !== undefined ? { symlink: f.symlink } : {}),
      });
    }
  }
  const mount = createSoftwareMount(files);
  softwareMounts.set(id, mount);
  return mount;
}

const PASSWD = "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n";
const GROUP = "root:x:0:\nuser:x:1000:\n";

export const HOME_SCOPE = "fs:/home/user";

export async function bootKernel(options: BootOptions): Promise<BootedKernel> {
  const usr = softwareMount(options.software);
  const persistent: { path: string; scope: string }[] = [{ path: "/home/user", scope: HOME_SCOPE }];
  const memory: string[] = [];
  for (const m of options.mounts) {
    if (m.path === "/home/user") continue;
    if (m.type === "persistent") persistent.push({ path: m.path, scope: `fs:${m.path}` });
    else memory.push(m.path);
  }
  const stores = await Promise.all(persistent.map((p) => StoreMount.open(options.persistence(p.scope))));
  const mounts: { path: string; mount: Mount }[] = [];
  if (usr) mounts.push({ path: "/usr", mount: usr });
  persistent.forEach((p, i) => mounts.push({ path: p.path, mount: stores[i]! }));
  for (const path of memory) mounts.push({ path, mount: new MemoryMount() });

  let kernel: Kernel | undefined = undefined;
  const limits = options.limits;
  const executor = new WasiExecutor({
    kernel: () => kernel!,
    ...(limits.cpuTimeMs ? { cpuTimeLimitMs: limits.cpuTimeMs } : {}),
    ...(limits.maxWasmMemoryBytes ? { maxWasmMemoryBytes: limits.maxWasmMemoryBytes } : {}),
  });
  kernel = new Kernel({
    mounts,
    limits: {
      ...(limits.cpuCount !== undefined ? { cpuCount: limits.cpuCount } : {}),
      ...(limits.maxProcesses !== undefined ? { maxProcesses: limits.maxProcesses } : {}),
      ...(limits.maxFilesystemBytes !== undefined ? { maxFilesystemBytes: limits.maxFilesystemBytes } : {}),
    },
    ...(options.network ? { network: options.network } : {}),
    ...(options.filesystem ? { filesystem: options.filesystem } : {}),
    ...(options.listen ? { listen: options.listen } : {}),
    ...(options.loopbackExemptPorts ? { loopbackExemptPorts: options.loopbackExemptPorts } : {}),
    ...(options.onNetworkAttempt ? { onNetworkAttempt: options.onNetworkAttempt } : {}),
    executors: { wasm: executor },
    hostPrograms: {
      ...shellHostPrograms,
      node: createNodeProgram({
        ...(limits.maxWasmMemoryBytes ? { maxWasmMemoryBytes: limits.maxWasmMemoryBytes } : {}),
        ...(limits.cpuTimeMs ? { cpuTimeLimitMs: limits.cpuTimeMs } : {}),
      }),
    },
  });
  const vfs = kernel.vfs;
  if (usr) vfs.symlink("/usr/bin", "/bin");
  vfs.mkdir("/etc");
  vfs.writeFile("/etc/passwd", PASSWD);
  vfs.writeFile("/etc/group", GROUP);
  vfs.writeFile("/etc/hostname", "workspace\n");
  vfs.mkdir("/root", { mode: 0o700 });
  return kernel as BootedKernel;
}
