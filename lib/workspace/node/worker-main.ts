/**
 * The code a node worker thread runs. It is one self-contained function (only its arguments and
 * globals at run time) because the pool starts workers from its source text: that works the same
 * from TypeScript sources under a test runner and from the compiled package.
 *
 * At start the worker instantiates its own QuickJS module on a fresh WebAssembly.Memory whose
 * maximum is the memory cap (the engine refuses growth past it, so a guest that allocates without
 * end gets "out of memory" inside QuickJS, never a host crash), creates the runtime and context,
 * and evaluates the guest prelude; then it reports ready and waits for its one job. Worker threads
 * are single-use: a guest never sees a heap another guest ran in.
 *
 * The guest reaches the host through a bridge object of a few functions: synchronous file calls
 * (proxied to the kernel on the main thread), asynchronous socket operations, timers, hashes and
 * exit. Host events (timers, socket data, stdin, signals) enter the guest through its dispatcher,
 * after which pending promise jobs are run. The process ends when the guest says nothing keeps it
 * alive, like Node's event loop running empty.
 */
import type * as WorkerThreads from "node:worker_threads";
import type * as NodeCrypto from "node:crypto";
import type {
  QuickJSContext,
  QuickJSHandle,
  QuickJSRuntime,
  QuickJSWASMModule,
  newQuickJSWASMModuleFromVariant as NewModuleFn,
  newVariant as NewVariantFn,
  QuickJSSyncVariant,
} from "quickjs-emscripten";
import type { EventMessage, JobMessage, NodeWorkerBoot, RpcResponse, WorkerMessage } from "./protocol.js";

interface Core {
  newQuickJSWASMModuleFromVariant: typeof NewModuleFn;
  newVariant: typeof NewVariantFn;
}

interface WasmMemoryCtor {
  Memory: new (descriptor: { initial: number; maximum: number }) => { buffer: ArrayBuffer };
}

export function nodeWorkerMain(require: NodeJS.Require, boot: NodeWorkerBoot): void {
  const threads = require("node:worker_threads") as typeof WorkerThreads;
  const parentPort = threads.parentPort!;
  const crypto = require("node:crypto") as typeof NodeCrypto;
  const core = require(boot.corePath) as Core;
  const variantExports = require(boot.variantPath) as { default: QuickJSSyncVariant };
  const WA = (globalThis as unknown as { WebAssembly: WasmMemoryCtor }).WebAssembly;
  const PAGE = 65536;
  const encoder = new TextEncoder();

  let runtime: QuickJSRuntime;
  let ctx: QuickJSContext;
  let memory: { buffer: ArrayBuffer };
  /** The guest's internal API: { start, dispatch, alive, finish }. */
  let guest: QuickJSHandle;
  let job: JobMessage | undefined;
  let flagI32: Int32Array;
  let flagF64: Float64Array;
  let rpcSeq = 0;
  let pendingBytes: Uint8Array | undefined;
  let exitCode: number | undefined;
  let cpuExceeded = false;
  let finished = false;
  let depth = 0;
  const timers = new Map<number, ReturnType<typeof setTimeout>>();
  const queued: EventMessage[] = [];

  // ---- CPU meter: guest time only, not time asleep in file calls or idle between events ----
  let cpuUsed = 0;
  let cpuSince = 0;
  const now = (): number => performance.timeOrigin + performance.now();
  function cpuStart(): void {
    if (cpuSince !== 0) return;
    cpuSince = now();
    if (flagF64 !== undefined) flagF64[2] = cpuSince;
  }
  function cpuStop(): void {
    if (cpuSince === 0) return;
    cpuUsed += now() - cpuSince;
    cpuSince = 0;
    if (flagF64 !== undefined) {
      flagF64[1] = cpuUsed;
      flagF64[2] = 0;
    }
  }
  function cpuOver(): boolean {
    const limit = job?.cpuTimeLimitMs ?? 0;
    if (limit <= 0) return false;
    const used = cpuUsed + (cpuSince === 0 ? 0 : now() - cpuSince);
    return used > limit;
  }

  // ---- synchronous file calls ----
  function rpc(op: string, args: unknown[], data?: Uint8Array): RpcResponse {
    const j = job!;
    const seq = ++rpcSeq;
    const running = cpuSince !== 0;
    cpuStop();
    j.rpcPort.postMessage({ seq, op, args, data });
    for (;;) {
      const answered = Atomics.load(flagI32, 0);
      if (answered === seq) break;
      // The process is over (killed): the main thread will not answer, the worker is ending.
      if (answered < 0) return { seq, error: { code: "EINTR", message: "the process was killed" } };
      Atomics.wait(flagI32, 0, answered);
    }
    const received = threads.receiveMessageOnPort(j.rpcPort);
    if (running) cpuStart();
    if (received === undefined) return { seq, error: { code: "EIO", message: "lost answer" } };
    return received.message as RpcResponse;
  }

  function post(message: WorkerMessage): void {
    parentPort.postMessage(message);
  }

  function writeStderr(text: string): void {
    if (job === undefined) return;
    rpc("write", [2, null], encoder.encode(text));
  }

  // ---- bridge helpers ----
  function str(h: QuickJSHandle | undefined): string {
    return h === undefined ? "" : ctx.getString(h);
  }
  function bytesOf(h: QuickJSHandle | undefined): Uint8Array | undefined {
    if (h === undefined || ctx.typeof(h) !== "object") return undefined;
    const life = ctx.getArrayBuffer(h);
    const copy = life.value.slice();
    life.dispose();
    return copy;
  }
  function abOf(bytes: Uint8Array): QuickJSHandle {
    const exact =
      bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
        ? bytes.buffer
        : bytes.slice().buffer;
    return ctx.newArrayBuffer(exact as ArrayBuffer);
  }

  function makeBridge(): QuickJSHandle {
    const bridge = ctx.newObject();
    type Result = QuickJSHandle | { error: QuickJSHandle } | undefined;
    const fn = (name: string, impl: (...args: QuickJSHandle[]) => Result): void => {
      const f = ctx.newFunction(name, (...args) => impl(...args));
      ctx.setProp(bridge, name, f);
      f.dispose();
    };
    // call(op, argsJson, bytes?) -> JSON {v} | {e}; bytes of the answer via take().
    fn("call", (op, args, data) => {
      if (exitCode !== undefined) return ctx.newString('{"e":{"code":"EINTR","message":"exiting"}}');
      const res = rpc(str(op), JSON.parse(str(args)) as unknown[], bytesOf(data));
      pendingBytes = res.data;
      return ctx.newString(JSON.stringify(res.error === undefined ? { v: res.value } : { e: res.error }));
    });
    fn("take", () => {
      const b = pendingBytes;
      pendingBytes = undefined;
      return b === undefined ? ctx.undefined : abOf(b);
    });
    fn("post", (op, info, data) => {
      if (exitCode !== undefined) return undefined;
      const message: WorkerMessage = {
        type: "op",
        op: str(op),
        info: JSON.parse(str(info)) as Record<string, unknown>,
      };
      const bytes = bytesOf(data);
      if (bytes !== undefined) message.data = bytes;
      post(message);
      return undefined;
    });
    fn("timer", (id, ms) => {
      const n = ctx.getNumber(id);
      const old = timers.get(n);
      if (old !== undefined) clearTimeout(old);
      timers.set(
        n,
        setTimeout(
          () => {
            timers.delete(n);
            dispatch("timer", JSON.stringify({ id: n }));
          },
          Math.max(0, ctx.getNumber(ms)),
        ),
      );
      return undefined;
    });
    fn("untimer", (id) => {
      const n = ctx.getNumber(id);
      const t = timers.get(n);
      if (t !== undefined) clearTimeout(t);
      timers.delete(n);
      return undefined;
    });
    fn("exit", (code) => {
      exitCode ??= ctx.getNumber(code) | 0;
      return undefined;
    });
    fn("compile", (source, filename) => {
      const result = ctx.evalCode(str(source), str(filename), { type: "global", strict: false });
      return result.error === undefined ? result.value : { error: result.error };
    });
    fn("builtin", (name) => {
      const n = str(name);
      const source = boot.builtins[n];
      if (source === undefined) return ctx.undefined;
      const result = ctx.evalCode(`(${source})`, `node:${n}`, { type: "global" });
      return result.error === undefined ? result.value : { error: result.error };
    });
    fn("hash", (alg, data, key) => {
      const keyBytes = bytesOf(key);
      const input = bytesOf(data) ?? new Uint8Array(0);
      try {
        const h =
          keyBytes === undefined ? crypto.createHash(str(alg)) : crypto.createHmac(str(alg), keyBytes);
        return abOf(new Uint8Array(h.update(input).digest()));
      } catch (err) {
        throw new Error((err as Error).message);
      }
    });
    fn("random", (n) => abOf(crypto.randomBytes(Math.min(65536, Math.max(0, ctx.getNumber(n) | 0)))));
    fn("now", () => ctx.newNumber(performance.now()));
    fn("memory", () => ctx.newNumber(memory.buffer.byteLength));
    fn("cpu", () => ctx.newNumber(cpuUsed + (cpuSince === 0 ? 0 : now() - cpuSince)));
    return bridge;
  }

  // ---- running guest code ----
  /** Handles an error that escaped the guest's own handlers: exit, CPU limit, OOM, engine trap. */
  function fatal(error: unknown): void {
    if (finished) return;
    if (exitCode !== undefined) return finish(exitCode);
    if (cpuExceeded || cpuOver()) {
      cpuExceeded = true;
      writeStderr(`node: CPU time limit of ${job?.cpuTimeLimitMs ?? 0} ms exceeded\n`);
      return finish(152, "SIGXCPU");
    }
    const text = describe(error);
    if (/out of memory|memory access out of bounds|unreachable|Aborted/i.test(text)) {
      writeStderr(
        `FATAL ERROR: JavaScript heap out of memory (the limit is ${boot.maxWasmMemoryBytes} bytes)\n`,
      );
      return finish(134);
    }
    writeStderr(`${text}\n`);
    finish(1);
  }

  function describe(error: unknown): string {
    if (error instanceof Error) return error.stack ?? error.message;
    try {
      const dumped = ctx.dump(error as QuickJSHandle) as { name?: string; message?: string; stack?: string };
      if (dumped !== null && typeof dumped === "object") {
        return `${dumped.name ?? "Error"}: ${dumped.message ?? ""}\n${dumped.stack ?? ""}`;
      }
      return String(dumped);
    } catch {
      return "uncaught error";
    }
  }

  /** Calls a method of the guest API with string args, then runs pending promise jobs. */
  function enter(method: string, args: string[], data?: Uint8Array): QuickJSHandle | undefined {
    depth++;
    cpuStart();
    let out: QuickJSHandle | undefined;
    try {
      const fnHandle = ctx.getProp(guest, method);
      const handles = args.map((a) => ctx.newString(a));
      if (data !== undefined) handles.push(abOf(data));
      const result = ctx.callFunction(fnHandle, guest, ...handles);
      fnHandle.dispose();
      for (const h of handles) h.dispose();
      if (result.error !== undefined) {
        const err = result.error;
        fatal(err);
        err.dispose();
      } else {
        out = result.value;
      }
      if (!finished) pump();
    } catch (err) {
      // A trap inside the engine (abort, out-of-bounds): the module cannot be used any more.
      fatal(err);
    } finally {
      depth--;
      cpuStop();
    }
    return out;
  }

  function pump(): void {
    for (;;) {
      const jobs = runtime.executePendingJobs(-1);
      if (jobs.error !== undefined) {
        const err = jobs.error;
        fatal(err);
        err.dispose();
        return;
      }
      if (exitCode !== undefined) return finish(exitCode);
      if (!runtime.hasPendingJob()) return;
    }
  }

  function dispatch(ev: string, info: string, data?: Uint8Array): void {
    if (finished) return;
    const out = enter("dispatch", [ev, info], data);
    out?.dispose();
    afterTask();
  }

  /** After each macrotask: exit when asked to, or when nothing keeps the loop alive. */
  function afterTask(): void {
    if (finished || depth > 0) return;
    if (exitCode !== undefined) return finish(exitCode);
    const alive = enter("alive", []);
    if (finished) return;
    const keep = alive !== undefined && ctx.dump(alive) === true;
    alive?.dispose();
    if (keep) return;
    const code = enter("finish", []);
    if (finished) return;
    const value = code === undefined ? 0 : (ctx.dump(code) as unknown);
    code?.dispose();
    if (value === false) return; // beforeExit scheduled more work
    finish(typeof value === "number" ? value : 0);
  }

  function finish(code: number, signal?: "SIGXCPU"): void {
    if (finished) return;
    finished = true;
    cpuStop();
    for (const t of timers.values()) clearTimeout(t);
    timers.clear();
    post(signal === undefined ? { type: "exit", code } : { type: "exit", code, signal });
  }

  async function prepare(): Promise<void> {
    const max = Math.max(256, Math.floor(boot.maxWasmMemoryBytes / PAGE));
    memory = new WA.Memory({ initial: 256, maximum: max });
    const quickjs: QuickJSWASMModule = await core.newQuickJSWASMModuleFromVariant(
      core.newVariant(variantExports.default, {
        wasmModule: boot.wasmModule,
        wasmMemory: memory as unknown as NonNullable<Parameters<typeof NewVariantFn>[1]["wasmMemory"]>,
      }),
    );
    runtime = quickjs.newRuntime();
    // The Wasm maximum is the hard wall; QuickJS's own limit, a little below it, makes most
    // allocation failures plain "out of memory" errors while the allocator still has room.
    runtime.setMemoryLimit(Math.max(8 * 1024 * 1024, boot.maxWasmMemoryBytes - 8 * 1024 * 1024));
    runtime.setMaxStackSize(1024 * 1024);
    runtime.setInterruptHandler(() => {
      if (exitCode !== undefined) return true;
      if (cpuOver()) {
        cpuExceeded = true;
        return true;
      }
      return false;
    });
    ctx = runtime.newContext();
    // Loaders that keep function names (tsx, esbuild's keepNames) wrap the guest's functions in
    // `__name(...)` when its source comes from TypeScript: give the guest the no-op it expects.
    ctx
      .unwrapResult(ctx.evalCode("var __name = function (target) { return target; };", "node:internal/names"))
      .dispose();
    const preludeResult = ctx.evalCode(`(${boot.prelude})`, "node:internal/prelude", { type: "global" });
    const preludeFn = ctx.unwrapResult(preludeResult);
    const bridge = makeBridge();
    guest = ctx.unwrapResult(ctx.callFunction(preludeFn, ctx.undefined, bridge));
    preludeFn.dispose();
    bridge.dispose();
  }

  function start(message: JobMessage): void {
    job = message;
    flagI32 = new Int32Array(message.flag);
    flagF64 = new Float64Array(message.flag);
    const info = {
      argv: message.argv,
      env: message.env,
      cwd: message.cwd,
      pid: message.pid,
      ppid: message.ppid,
    };
    const out = enter("start", [JSON.stringify(info)]);
    out?.dispose();
    for (const ev of queued.splice(0)) dispatch(ev.ev, JSON.stringify(ev.info ?? {}), ev.data);
    afterTask();
  }

  parentPort.on("message", (message: JobMessage | EventMessage) => {
    if (message.type === "job") start(message);
    else if (job === undefined) queued.push(message);
    else dispatch(message.ev, JSON.stringify(message.info ?? {}), message.data);
  });

  prepare().then(
    () => post({ type: "ready" }),
    (err: unknown) => {
      // Reported as a crash by the pool: the worker ends.
      throw err;
    },
  );
}
