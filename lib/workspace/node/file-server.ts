/**
 * The main-thread half of a guest's synchronous calls: file operations against the process's fd
 * table and the workspace's live VFS, writes to stdio, chdir, and running a child to completion
 * (`child_process.*Sync`). Calls that can block (pipe reads and writes, a child) settle later;
 * the worker sleeps meanwhile and the main thread stays free.
 */
import { KernelError } from "../kernel/errno.js";
import { resolvePath } from "../kernel/path.js";
import type { FileHandle, KernelApi, KernelProcess, OpenOptions, Signal, Stat } from "../kernel/types.js";
import type { RpcRequest, RpcResponse } from "./protocol.js";

/** Largest single read a guest call returns (bigger files are read in several calls). */
const MAX_READ = 4 * 1024 * 1024;
/** Output a `spawnSync` child may produce before it is cut off, like Node's maxBuffer. */
const MAX_CHILD_OUTPUT = 16 * 1024 * 1024;

type Answer = Omit<RpcResponse, "seq">;

/** Node's open flags ("r", "w+", "ax" ...) as kernel open options. */
export function openOptions(flags: string, mode: number | undefined): OpenOptions {
  const plus = flags.includes("+");
  const base = flags.replace(/[+sx]/g, "");
  const options: OpenOptions = { read: base === "r" || plus, write: base !== "r" || plus };
  if (base === "w" || base === "a") options.create = true;
  if (base === "w") options.truncate = true;
  if (base === "a") options.append = true;
  if (flags.includes("x")) options.exclusive = true;
  if (mode !== undefined) options.mode = mode;
  if (!["r", "w", "a"].includes(base))
    throw new KernelError("EINVAL", "open", undefined, `bad flags ${flags}`);
  return options;
}

function statJson(stat: Stat): Record<string, unknown> {
  return { ...stat };
}

async function writeAll(handle: FileHandle, data: Uint8Array, position: number | undefined): Promise<number> {
  let done = 0;
  while (done < data.length) {
    const chunk = data.subarray(done);
    const r = position === undefined ? handle.write(chunk) : handle.write(chunk, position + done);
    const n = typeof r === "number" ? r : await r;
    if (n <= 0) break;
    done += n;
  }
  return done;
}

async function readAll(handle: FileHandle, limit: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const buf = new Uint8Array(65536);
  for (;;) {
    const r = handle.read(buf);
    const n = typeof r === "number" ? r : await r;
    if (n <= 0) break;
    if (total < limit) chunks.push(buf.slice(0, Math.min(n, limit - total)));
    total += n;
  }
  const out = new Uint8Array(Math.min(total, limit));
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

export class FileServer {
  constructor(
    private readonly proc: KernelProcess,
    private readonly kernel: KernelApi,
  ) {}

  /** Answers one call (an error answer for anything the kernel throws). */
  handle(request: RpcRequest): Answer | Promise<Answer> {
    try {
      const result = this.#dispatch(request.op, request.args, request.data);
      if (result instanceof Promise) return result.catch((err: unknown) => failure(err));
      return result;
    } catch (err) {
      return failure(err);
    }
  }

  #path(p: unknown): string {
    if (typeof p !== "string") throw new KernelError("EINVAL", undefined, undefined, "path must be a string");
    return resolvePath(this.proc.cwd, p);
  }

  /** A path the guest may read (the workspace's filesystem policy, when it has one). */
  #read(p: unknown, syscall: string, follow = true): string {
    const path = this.#path(p);
    this.kernel.guestFilesystem?.check(path, "read", syscall, { follow });
    return path;
  }

  /** A path the guest may write. */
  #write(p: unknown, syscall: string, follow = false): string {
    const path = this.#path(p);
    this.kernel.guestFilesystem?.check(path, "write", syscall, { follow });
    return path;
  }

  #dispatch(op: string, args: unknown[], data: Uint8Array | undefined): Answer | Promise<Answer> {
    const vfs = this.kernel.vfs;
    const fds = this.proc.fds;
    const num = (i: number): number => Number(args[i]);
    const opt = (i: number): number | undefined =>
      args[i] === null || args[i] === undefined ? undefined : num(i);
    switch (op) {
      case "write": {
        const handle = fds.get(num(0));
        return writeAll(handle, data ?? new Uint8Array(0), opt(1)).then((n) => ({ value: n }));
      }
      case "read": {
        const handle = fds.get(num(0));
        const buf = new Uint8Array(Math.min(MAX_READ, Math.max(0, num(1))));
        const position = opt(2);
        const r = position === undefined ? handle.read(buf) : handle.read(buf, position);
        if (typeof r === "number") return { value: r, data: buf.slice(0, r) };
        return r.then((n) => ({ value: n, data: buf.slice(0, n) }));
      }
      case "open": {
        const options = openOptions(String(args[1] ?? "r"), opt(2));
        const path = this.#path(args[0]);
        if (options.read === true) this.#read(path, "open");
        if (options.write === true) this.#write(path, "open", true);
        const handle = vfs.open(path, options);
        try {
          return { value: fds.install(handle) };
        } catch (err) {
          handle.close();
          throw err;
        }
      }
      case "close":
        fds.close(num(0));
        return {};
      case "fstat":
        return { value: statJson(fds.get(num(0)).stat()) };
      case "ftruncate":
        fds.get(num(0)).truncate(num(1));
        return {};
      case "stat":
        return { value: statJson(vfs.stat(this.#read(args[0], "stat"))) };
      case "lstat":
        return { value: statJson(vfs.lstat(this.#read(args[0], "lstat", false))) };
      case "exists":
        return { value: vfs.exists(this.#read(args[0], "access")) };
      case "kind": {
        // Module resolution probes many paths: a miss is an answer, not an error.
        try {
          return { value: vfs.stat(this.#read(args[0], "stat")).type };
        } catch {
          return { value: null };
        }
      }
      case "kill":
        this.kernel.kill(num(0), String(args[1] ?? "SIGTERM") as Signal);
        return {};
      case "readFile":
        return { data: vfs.readFile(this.#read(args[0], "open")) };
      case "writeFile": {
        const mode = opt(2);
        vfs.writeFile(this.#write(args[0], "open", true), data ?? new Uint8Array(0), {
          append: args[1] === true,
          ...(mode === undefined ? {} : { mode }),
        });
        return {};
      }
      case "readdir":
        return {
          value: vfs.readdir(this.#read(args[0], "scandir")).map((e) => ({ name: e.name, type: e.type })),
        };
      case "mkdir": {
        const path = this.#write(args[0], "mkdir");
        const existed = args[1] === true && vfs.exists(path);
        const mode = opt(2);
        vfs.mkdir(path, { recursive: args[1] === true, ...(mode === undefined ? {} : { mode }) });
        return { value: existed ? undefined : path };
      }
      case "rmdir":
        vfs.rmdir(this.#write(args[0], "rmdir"));
        return {};
      case "unlink":
        vfs.unlink(this.#write(args[0], "unlink"));
        return {};
      case "rm":
        vfs.rm(this.#write(args[0], "rm"), { recursive: args[1] === true, force: args[2] === true });
        return {};
      case "rename":
        vfs.rename(this.#write(args[0], "rename"), this.#write(args[1], "rename"));
        return {};
      case "copyFile": {
        const to = this.#write(args[1], "copyfile", true);
        if (args[2] === true && vfs.exists(to)) throw new KernelError("EEXIST", "copyfile", to);
        vfs.writeFile(to, vfs.readFile(this.#read(args[0], "copyfile")));
        return {};
      }
      case "realpath":
        return { value: vfs.realpath(this.#read(args[0], "realpath")) };
      case "readlink":
        return { value: vfs.readlink(this.#read(args[0], "readlink", false)) };
      case "symlink":
        vfs.symlink(String(args[0]), this.#write(args[1], "symlink"));
        return {};
      case "link":
        vfs.link(this.#read(args[0], "link"), this.#write(args[1], "link"));
        return {};
      case "chmod":
        vfs.chmod(this.#write(args[0], "chmod", true), num(1));
        return {};
      case "utimes":
        vfs.utimes(this.#write(args[0], "utime", true), num(1), num(2));
        return {};
      case "truncate":
        vfs.truncate(this.#write(args[0], "truncate", true), num(1));
        return {};
      case "chdir": {
        const path = this.#path(args[0]);
        if (vfs.stat(path).type !== "directory") throw new KernelError("ENOTDIR", "chdir", path);
        this.proc.cwd = path;
        return { value: path };
      }
      case "spawnSync":
        return this.#spawnSync(args[0] as SpawnSyncArgs, data);
      default:
        throw new KernelError("ENOSYS", op);
    }
  }

  /** Runs a child to completion with its own pipes (what `child_process.execSync` and friends need). */
  async #spawnSync(options: SpawnSyncArgs, input: Uint8Array | undefined): Promise<Answer> {
    const kernel = this.kernel;
    const [inR, inW] = kernel.createPipe();
    const [outR, outW] = kernel.createPipe();
    const [errR, errW] = kernel.createPipe();
    let child;
    try {
      child = this.proc.spawn({
        argv: options.argv,
        env: options.env ?? this.proc.env,
        cwd: options.cwd === undefined ? this.proc.cwd : this.#path(options.cwd),
        stdio: [inR, outW, errW],
      });
    } finally {
      inR.close();
      outW.close();
      errW.close();
    }
    const feed = (async () => {
      try {
        if (input !== undefined && input.length > 0) await writeAll(inW, input, undefined);
      } catch {
        // The child stopped reading: what it got is what it gets.
      } finally {
        inW.close();
      }
    })();
    let timer: ReturnType<typeof setTimeout> | undefined;
    if (options.timeoutMs !== undefined && options.timeoutMs > 0) {
      timer = setTimeout(() => {
        try {
          child.kill("SIGTERM");
        } catch {
          // Already gone.
        }
      }, options.timeoutMs);
    }
    try {
      const [stdout, stderr, status] = await Promise.all([
        readAll(outR, MAX_CHILD_OUTPUT),
        readAll(errR, MAX_CHILD_OUTPUT),
        child.wait(),
        feed,
      ]);
      const out = new Uint8Array(stdout.length + stderr.length);
      out.set(stdout, 0);
      out.set(stderr, stdout.length);
      return {
        value: {
          pid: child.pid,
          status: status.exitCode,
          signal: status.signal ?? null,
          split: stdout.length,
        },
        data: out,
      };
    } finally {
      if (timer !== undefined) clearTimeout(timer);
      outR.close();
      errR.close();
    }
  }
}

interface SpawnSyncArgs {
  argv: string[];
  env?: Record<string, string>;
  cwd?: string;
  timeoutMs?: number;
}

function failure(err: unknown): Answer {
  if (err instanceof KernelError) return { error: { code: err.code, message: err.message } };
  const code = (err as { code?: unknown } | null)?.code;
  return {
    error: {
      code: typeof code === "string" ? code : "EIO",
      message: err instanceof Error ? err.message : String(err),
    },
  };
}
