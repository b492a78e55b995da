/**
 * Executes the syntax tree. Each external command is a kernel process started with
 * `proc.spawn`; pipeline stages are joined by kernel pipes; builtins and compound commands run
 * in the shell's own process with their own view of fds 0..9 (an `Io`), so concurrent pipeline
 * stages never touch one shared fd table.
 */
import type { FileHandle, KernelApi, KernelProcess, ProcessHandle, Signal } from "../kernel/types.js";
import type { AndOr, Command, List, Pipeline, Redirect, Script, SimpleCommand, Word } from "./ast.js";
import { BUILTINS, SPECIAL_BUILTINS } from "./builtins.js";
import { ExitRequest, Interrupted, LoopControl, ReturnRequest } from "./control.js";
import {
  collectSubstitutions,
  expandFields,
  expandPattern,
  expandString,
  type ExpandContext,
  ExpansionError,
  type SubstitutionPart,
} from "./expand.js";
import { MAX_CAPTURE_BYTES, errnoOf, errorMessage, readAll, writeAll } from "./io.js";

/** One variable's value, and all of a shell's variables together, in UTF-16 characters. */
export const MAX_VAR_CHARS = 16 * 1024 * 1024;
export const MAX_VARS_CHARS = 64 * 1024 * 1024;
import { parse, ShellSyntaxError } from "./parser.js";
import { matchPattern } from "./pattern.js";
import { applyRedirections, type Io } from "./redirect.js";

export type { Io };

export interface ShellVar {
  value: string;
  exported: boolean;
}

const SIGNAL_STATUS: Record<Signal, number> = {
  SIGHUP: 129,
  SIGINT: 130,
  SIGKILL: 137,
  SIGPIPE: 141,
  SIGTERM: 143,
  SIGXCPU: 152,
};

/** How long the interpreter may run builtins without letting the event loop in. */
const YIELD_EVERY_MS = 8;
const MAX_FUNCTION_DEPTH = 500;
const PARSE_CACHE_SIZE = 256;
const parseCache = new Map<string, Script>();

/** Parses with a small cache: the same command strings come again and again (exec, loops, eval). */
export function parseCached(source: string): Script {
  let script = parseCache.get(source);
  if (script === undefined) {
    script = parse(source);
    if (parseCache.size >= PARSE_CACHE_SIZE) parseCache.delete(parseCache.keys().next().value!);
    parseCache.set(source, script);
  }
  return script;
}

const decoder = new TextDecoder();

/** State shared by a shell process and all its subshells. */
export class ShellRuntime {
  /** Running children; the value says whether they run in the background. */
  readonly children = new Map<ProcessHandle, boolean>();
  /** Set by a signal (the shell's own) or Ctrl-C; stops the command list at the next command. */
  interrupt: Interrupted | undefined;
  private lastYield = performance.now();
  private nul: FileHandle | undefined;

  constructor(
    readonly kernel: KernelApi,
    readonly proc: KernelProcess,
  ) {}

  /** A null device for closed stdio (spawn needs three handles). */
  nullHandle(): FileHandle {
    this.nul ??= this.kernel.nullHandle();
    return this.nul;
  }

  /** Kills running children (foreground only, or all). */
  killChildren(signal: Signal, foregroundOnly: boolean): void {
    for (const [child, background] of this.children) {
      if (foregroundOnly && background) continue;
      try {
        child.kill(signal);
      } catch {
        // Already gone.
      }
    }
  }

  /** Called by the shell process when it is signalled. */
  signalled(signal: Signal): void {
    this.interrupt = new Interrupted(SIGNAL_STATUS[signal]);
    this.killChildren(signal === "SIGINT" ? "SIGINT" : signal, false);
  }

  shouldYield(): boolean {
    const now = performance.now();
    if (now - this.lastYield < YIELD_EVERY_MS) return false;
    this.lastYield = now;
    return true;
  }
}

function yieldNow(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export interface ShellInit {
  env: Record<string, string>;
  cwd: string;
  arg0: string;
  positional: string[];
}

export class Shell {
  vars: Map<string, ShellVar>;
  positional: string[];
  arg0: string;
  /** $? */
  status = 0;
  cwd: string;
  functions: Map<string, Command>;
  errexit = false;
  noglob = false;
  allexport = false;
  interactive = false;
  /** Runs as an asynchronous (`&`) list: children are not foreground. */
  background = false;
  /** $! */
  lastBgPid: number | undefined;
  /** Asynchronous lists started by this shell, by pid (or a negative job id). */
  readonly jobs = new Map<number, Promise<number>>();
  /** Is this a subshell (`( )`, a pipeline stage, `$( )`)? The top shell also updates proc.cwd. */
  readonly isSubshell: boolean;
  /** Per running function: the values its `local`s shadowed, restored when it returns. */
  localFrames: Map<string, ShellVar | undefined>[] = [];
  private conditionDepth = 0;
  private functionDepth = 0;
  private envCache: Record<string, string> | undefined;
  private onSpawn: ((child: ProcessHandle) => void) | undefined;
  private nextJobId = 1;
  /**
   * A subshell counts as a process (kernel fork slot) while it runs, as a forked shell would:
   * that is what stops a fork bomb written in shell language. One whose whole job is a simple
   * command takes its slot only if that command is a function (a program counts as itself).
   */
  private forkPending = false;
  private forkRelease: (() => void) | undefined;

  constructor(
    readonly rt: ShellRuntime,
    init: ShellInit | Shell,
  ) {
    if (init instanceof Shell) {
      this.vars = new Map(init.vars);
      this.positional = init.positional;
      this.arg0 = init.arg0;
      this.status = init.status;
      this.cwd = init.cwd;
      this.functions = new Map(init.functions);
      this.localFrames = init.localFrames.map((frame) => new Map(frame));
      this.errexit = init.errexit;
      this.noglob = init.noglob;
      this.allexport = init.allexport;
      this.background = init.background;
      this.lastBgPid = init.lastBgPid;
      this.envCache = init.envCache;
      this.onSpawn = init.onSpawn;
      this.isSubshell = true;
    } else {
      this.vars = new Map();
      for (const [k, v] of Object.entries(init.env)) this.vars.set(k, { value: v, exported: true });
      this.positional = init.positional;
      this.arg0 = init.arg0;
      this.cwd = init.cwd;
      this.functions = new Map();
      this.isSubshell = false;
      if (!this.vars.has("IFS")) this.vars.set("IFS", { value: " \t\n", exported: false });
      if (!this.vars.has("PATH")) {
        this.vars.set("PATH", { value: "/usr/local/bin:/usr/bin:/bin", exported: true });
      }
      this.vars.set("PWD", { value: this.cwd, exported: true });
    }
  }

  get kernel(): KernelApi {
    return this.rt.kernel;
  }

  subshell(): Shell {
    return new Shell(this.rt, this);
  }

  /** A subshell holding a fork slot (`lazy`: taken only if it calls a function); EAGAIN past maxProcesses. */
  private fork(lazy = false): Shell {
    const sub = this.subshell();
    if (lazy) sub.forkPending = true;
    else sub.takeForkSlot();
    return sub;
  }

  private takeForkSlot(): void {
    this.forkPending = false;
    this.forkRelease = this.rt.proc.forkSlot?.();
  }

  /** Ends the subshell's life as a process. */
  private exitFork(): void {
    this.forkPending = false;
    this.forkRelease?.();
    this.forkRelease = undefined;
  }

  private async forkFailed(io: Io, e: unknown): Promise<number> {
    if (errnoOf(e) !== "EAGAIN") throw e;
    await this.error(io, `fork: ${errorMessage(e)}`);
    return 2;
  }

  // ---- variables ----------------------------------------------------------------------------

  /** Characters held in variable values (bounded by MAX_VARS_CHARS). */
  #varChars = 0;

  getVar(name: string): string | undefined {
    return this.vars.get(name)?.value;
  }

  setVar(name: string, value: string, exported?: boolean): void {
    const old = this.vars.get(name);
    // Variables live in the engine's heap: a doubling loop (x="$x$x") must hit a wall, not OOM.
    if (value.length > MAX_VAR_CHARS) {
      throw new ExpansionError(
        `${name}: value too large (${value.length} characters; the limit is ${MAX_VAR_CHARS})`,
      );
    }
    const total = this.#varChars - (old?.value.length ?? 0) + value.length;
    if (total > MAX_VARS_CHARS) {
      throw new ExpansionError(`${name}: the shell's variables would exceed ${MAX_VARS_CHARS} characters`);
    }
    this.#varChars = total;
    const exp = exported ?? old?.exported ?? this.allexport;
    this.vars.set(name, { value, exported: exp });
    if (exp || old?.exported) this.envCache = undefined;
  }

  unsetVar(name: string): void {
    const old = this.vars.get(name);
    this.vars.delete(name);
    if (old) this.#varChars = Math.max(0, this.#varChars - old.value.length);
    if (old?.exported) this.envCache = undefined;
  }

  exportVar(name: string): void {
    const old = this.vars.get(name);
    if (old) this.vars.set(name, { value: old.value, exported: true });
    else this.vars.set(name, { value: "", exported: true });
    this.envCache = undefined;
  }

  /** The environment children get: the exported variables. */
  exportedEnv(): Record<string, string> {
    if (this.envCache === undefined) {
      const env: Record<string, string> = {};
      for (const [k, v] of this.vars) if (v.exported) env[k] = v.value;
      this.envCache = env;
    }
    return this.envCache;
  }

  setCwd(dir: string): void {
    const old = this.cwd;
    this.cwd = dir;
    this.setVar("OLDPWD", old);
    this.setVar("PWD", dir);
    if (!this.isSubshell) this.rt.proc.cwd = dir;
  }

  /** An absolute path for `path` relative to the shell's cwd (the VFS resolves "..", "."). */
  resolvePath(path: string): string {
    if (path.startsWith("/")) return path;
    return this.cwd === "/" ? `/${path}` : `${this.cwd}/${path}`;
  }

  private special(name: string): string | undefined {
    switch (name) {
      case "?":
        return String(this.status);
      case "#":
        return String(this.positional.length);
      case "$":
        return String(this.rt.proc.pid);
      case "!":
        return this.lastBgPid === undefined ? undefined : String(this.lastBgPid);
      case "-":
        return (this.errexit ? "e" : "") + (this.noglob ? "f" : "") + (this.interactive ? "i" : "");
      case "0":
        return this.arg0;
      default: {
        const n = Number(name);
        return Number.isInteger(n) && n > 0 ? this.positional[n - 1] : undefined;
      }
    }
  }

  private context(subs: Map<SubstitutionPart, string> | undefined): ExpandContext {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const sh = this;
    return {
      getVar: (n) => sh.getVar(n),
      setVar: (n, v) => sh.setVar(n, v),
      special: (n) => sh.special(n),
      get positional() {
        return sh.positional;
      },
      cwd: sh.cwd,
      vfs: sh.kernel.vfs,
      noglob: sh.noglob,
      substitution: (part) => subs?.get(part) ?? "",
    };
  }

  // ---- output -------------------------------------------------------------------------------

  /** Writes to an fd of `io`; a closed fd or a broken pipe is not the writer's problem. */
  async write(io: Io, fd: number, text: string): Promise<boolean> {
    const h = io[fd];
    if (!h) return false;
    try {
      await writeAll(h, text);
      return true;
    } catch {
      return false;
    }
  }

  async error(io: Io, message: string): Promise<void> {
    await this.write(io, 2, `sh: ${message}\n`);
  }

  // ---- running source -----------------------------------------------------------------------

  /** Parses and runs `source` in this shell (`sh -c`, `eval`, `.`); syntax errors give status 2. */
  async runSource(source: string, io: Io): Promise<number> {
    let script: Script;
    try {
      script = parseCached(source);
    } catch (e) {
      if (e instanceof ShellSyntaxError) {
        await this.error(io, e.message);
        this.status = 2;
        return 2;
      }
      throw e;
    }
    return this.execList(script.body, io);
  }

  /** Runs a list at a shell boundary: `exit`, stray `break`/`return` and errors end here. */
  async runGuarded(list: List, io: Io): Promise<number> {
    try {
      return await this.execList(list, io);
    } catch (e) {
      return this.boundaryStatus(e, io);
    }
  }

  async boundaryStatus(e: unknown, io: Io): Promise<number> {
    if (e instanceof ExitRequest || e instanceof ReturnRequest || e instanceof Interrupted) return e.status;
    if (e instanceof LoopControl) return 0;
    await this.error(io, errorMessage(e));
    return 1;
  }

  async execList(list: List, io: Io): Promise<number> {
    let status = 0;
    for (const item of list) {
      if (item.background) {
        status = await this.launchBackground(item.andOr, io);
        this.status = status;
      } else {
        status = await this.execAndOr(item.andOr, io);
      }
    }
    return status;
  }

  private checkInterrupt(): void {
    const interrupt = this.rt.interrupt;
    if (interrupt) throw interrupt;
  }

  private async launchBackground(andOr: AndOr, io: Io): Promise<number> {
    let sub: Shell;
    try {
      sub = this.fork(andOr.rest.length === 0 && isSimplePipeline(andOr.first));
    } catch (e) {
      return this.forkFailed(io, e);
    }
    sub.background = true;
    let pid: number | undefined;
    sub.onSpawn = (child) => (pid ??= child.pid);
    // An asynchronous list reads /dev/null, and holds its fds until it ends.
    const bio = [...io];
    bio[0] = this.rt.nullHandle();
    const held = bio.filter((h): h is FileHandle => h !== undefined).map((h) => h.ref());
    const done = sub.runGuarded([{ andOr, background: false }], bio).finally(() => {
      sub.exitFork();
      held.forEach((h) => h.close());
    });
    // A plain command is spawned before the first await, so its pid is known now.
    const id = pid ?? -this.nextJobId++;
    this.lastBgPid = pid ?? this.lastBgPid;
    this.jobs.set(id, done);
    void done.then(() => this.jobs.delete(id));
    return 0;
  }

  async execAndOr(andOr: AndOr, io: Io): Promise<number> {
    this.checkInterrupt();
    if (this.rt.shouldYield()) await yieldNow();
    const rest = andOr.rest;
    let last: Pipeline = andOr.first;
    let status: number;
    if (rest.length === 0) {
      status = await this.execPipeline(andOr.first, io);
    } else {
      this.conditionDepth++;
      try {
        status = await this.execPipeline(andOr.first, io);
        for (let i = 0; i < rest.length; i++) {
          const { op, pipeline } = rest[i]!;
          if (op === "&&" ? status !== 0 : status === 0) continue;
          const final = i === rest.length - 1;
          if (final) this.conditionDepth--;
          try {
            status = await this.execPipeline(pipeline, io);
          } finally {
            if (final) this.conditionDepth++;
          }
          last = pipeline;
        }
      } finally {
        this.conditionDepth--;
      }
    }
    this.status = status;
    const lastRan = rest.length === 0 || last === rest[rest.length - 1]!.pipeline;
    if (status !== 0 && this.errexit && this.conditionDepth === 0 && lastRan && !last.negated) {
      throw new ExitRequest(status);
    }
    return status;
  }

  private async execPipeline(p: Pipeline, io: Io): Promise<number> {
    let status: number;
    if (p.negated) this.conditionDepth++;
    try {
      status =
        p.commands.length === 1 ? await this.execCommand(p.commands[0]!, io) : await this.execStages(p, io);
    } finally {
      if (p.negated) this.conditionDepth--;
    }
    if (p.negated) status = status === 0 ? 1 : 0;
    this.status = status;
    return status;
  }

  /** A multi-stage pipeline: every stage runs at once, each as a subshell; status of the last. */
  private async execStages(p: Pipeline, io: Io): Promise<number> {
    const stages: Promise<number>[] = [];
    let input = io[0];
    const n = p.commands.length;
    for (let i = 0; i < n; i++) {
      let output = io[1];
      let nextInput: FileHandle | undefined;
      if (i < n - 1) [nextInput, output] = this.kernel.createPipe();
      const sio = [...io];
      sio[0] = input;
      sio[1] = output;
      // The pipeline owns the pipe ends; a stage's ends close when that stage is done.
      const ownIn = i > 0 ? input : undefined;
      const ownOut = i < n - 1 ? output : undefined;
      const command = p.commands[i]!;
      let stage: Promise<number>;
      try {
        const sub = this.fork(command.kind === "simple");
        stage = sub.execCommandGuarded(command, sio).finally(() => sub.exitFork());
      } catch (e) {
        stage = this.forkFailed(sio, e);
      }
      stages.push(
        stage.finally(() => {
          ownIn?.close();
          ownOut?.close();
        }),
      );
      input = nextInput;
    }
    const statuses = await Promise.all(stages);
    this.checkInterrupt();
    return statuses[n - 1]!;
  }

  async execCommandGuarded(cmd: Command, io: Io): Promise<number> {
    try {
      return await this.execCommand(cmd, io);
    } catch (e) {
      return this.boundaryStatus(e, io);
    }
  }

  async execCommand(cmd: Command, io: Io): Promise<number> {
    if (cmd.kind === "simple") return this.execSimple(cmd, io);
    if (cmd.kind === "function") {
      this.functions.set(cmd.name, cmd.body);
      return 0;
    }
    let rio = io;
    let opened: FileHandle[] = [];
    if (cmd.redirects.length > 0) {
      const r = await this.redirect(cmd.redirects, io);
      if (r === undefined) return 1;
      rio = r.io;
      opened = r.opened;
    }
    try {
      switch (cmd.kind) {
        case "group":
          return await this.execList(cmd.body, rio);
        case "subshell": {
          let sub: Shell;
          try {
            sub = this.fork();
          } catch (e) {
            return await this.forkFailed(rio, e);
          }
          try {
            return await sub.runGuarded(cmd.body, rio);
          } finally {
            sub.exitFork();
          }
        }
        case "if":
          for (const clause of cmd.clauses) {
            if ((await this.condition(clause.cond, rio)) === 0) return await this.execList(clause.body, rio);
          }
          return cmd.elseBody ? await this.execList(cmd.elseBody, rio) : 0;
        case "loop": {
          let status = 0;
          for (;;) {
            const c = await this.condition(cmd.cond, rio);
            if ((c === 0) === cmd.until) break;
            const r = await this.loopBody(cmd.body, rio);
            if (r === "break") break;
            if (typeof r === "number") status = r;
          }
          return status;
        }
        case "for": {
          let values: string[];
          if (cmd.words === undefined) values = [...this.positional];
          else {
            const subs = await this.substitutions(cmd.words, rio);
            values = expandFields(cmd.words, this.context(subs));
          }
          let status = 0;
          for (const value of values) {
            this.setVar(cmd.name, value);
            const r = await this.loopBody(cmd.body, rio);
            if (r === "break") break;
            if (typeof r === "number") status = r;
          }
          return status;
        }
        case "case": {
          const words = [cmd.word, ...cmd.items.flatMap((item) => item.patterns)];
          const ctx = this.context(await this.substitutions(words, rio));
          const subject = expandString(cmd.word, ctx);
          for (const item of cmd.items) {
            if (item.patterns.some((p) => matchPattern(expandPattern(p, ctx), subject))) {
              return await this.execList(item.body, rio);
            }
          }
          return 0;
        }
        default:
          return 0;
      }
    } catch (e) {
      if (e instanceof ExpansionError) {
        await this.error(rio, e.message);
        return 1;
      }
      throw e;
    } finally {
      for (const h of opened) h.close();
    }
  }

  private async condition(list: List, io: Io): Promise<number> {
    this.conditionDepth++;
    try {
      return await this.execList(list, io);
    } finally {
      this.conditionDepth--;
    }
  }

  /** One loop iteration: its status, or what a break/continue aimed at this loop asks. */
  private async loopBody(body: List, io: Io): Promise<number | "break" | "continue"> {
    try {
      return await this.execList(body, io);
    } catch (e) {
      if (!(e instanceof LoopControl)) throw e;
      if (e.levels > 1) {
        e.levels--;
        throw e;
      }
      return e.kind;
    }
  }

  // ---- simple commands ----------------------------------------------------------------------

  /** Runs the command substitutions of the words, each in a subshell, in order. */
  private async substitutions(
    words: readonly (Word | undefined)[],
    io: Io,
  ): Promise<Map<SubstitutionPart, string> | undefined> {
    const parts = collectSubstitutions(words);
    if (parts.length === 0) return undefined;
    const out = new Map<SubstitutionPart, string>();
    for (const part of parts) out.set(part, await this.captureOutput(part.script.body, io));
    return out;
  }

  /** $(...): runs the list in a subshell with stdout into a pipe; trailing newlines dropped. */
  async captureOutput(list: List, io: Io): Promise<string> {
    const [r, w] = this.kernel.createPipe();
    // Closed as soon as reading ends, so a writer past the cap fails (EPIPE) instead of waiting forever.
    const reading = readAll(r, undefined, MAX_CAPTURE_BYTES).finally(() => r.close());
    // Awaited below once the subshell is done; a failure before that is not unhandled.
    reading.catch(() => undefined);
    const sio = [...io];
    sio[1] = w;
    let status: number;
    try {
      const sub = this.fork();
      try {
        status = await sub.runGuarded(list, sio);
      } finally {
        sub.exitFork();
      }
    } catch (e) {
      status = await this.forkFailed(io, e);
    } finally {
      w.close();
    }
    let bytes: Uint8Array;
    try {
      bytes = await reading;
    } catch (e) {
      if (errnoOf(e) !== "EFBIG") throw e;
      await this.error(io, `command substitution: output over ${MAX_CAPTURE_BYTES} bytes`);
      bytes = new Uint8Array(0);
      status = 1;
    }
    this.status = status;
    this.checkInterrupt();
    return decoder.decode(bytes).replace(/\n+$/, "");
  }

  private async execSimple(cmd: SimpleCommand, io: Io): Promise<number> {
    let subs: Map<SubstitutionPart, string> | undefined;
    let substStatus = 0;
    if (hasSubstitution(cmd)) {
      const words: (Word | undefined)[] = [...cmd.assigns.map((a) => a.value), ...cmd.words];
      for (const r of cmd.redirects) words.push(r.target, r.body);
      // $? in this command is the status from before it; its own substitutions set it after.
      const before = this.status;
      subs = await this.substitutions(words, io);
      substStatus = this.status;
      this.status = before;
    }
    const ctx = this.context(subs);
    let argv: string[];
    let assigns: [string, string][];
    try {
      argv = expandFields(cmd.words, ctx);
      assigns = cmd.assigns.map((a) => [a.name, expandString(a.value, ctx)]);
    } catch (e) {
      if (e instanceof ExpansionError) {
        await this.error(io, e.message);
        return 1;
      }
      throw e;
    }
    if (argv.length === 0) {
      for (const [name, value] of assigns) this.setVar(name, value);
      if (cmd.redirects.length > 0) {
        const r = await this.applyRedirects(cmd.redirects, io, ctx);
        if (r === undefined) return 1;
        for (const h of r.opened) h.close();
      }
      return substStatus;
    }
    let rio = io;
    let opened: FileHandle[] = [];
    if (cmd.redirects.length > 0) {
      const r = applyRedirections(this, cmd.redirects, io, ctx);
      if ("error" in r) {
        await this.error(io, r.error);
        return 1;
      }
      rio = r.io;
      opened = r.opened;
    }
    try {
      return await this.invoke(argv, assigns, rio);
    } finally {
      for (const h of opened) h.close();
    }
  }

  /** Runs a command by name: function, builtin, or program. */
  async invoke(argv: string[], assigns: [string, string][], io: Io, skipFunctions = false): Promise<number> {
    const name = argv[0]!;
    const fn = skipFunctions ? undefined : this.functions.get(name);
    if (fn && this.forkPending) {
      try {
        this.takeForkSlot();
      } catch (e) {
        return this.forkFailed(io, e);
      }
    }
    if (fn) return this.withTempVars(assigns, () => this.callFunction(fn, argv, io));
    const builtin = BUILTINS.get(name);
    if (builtin) {
      if (SPECIAL_BUILTINS.has(name)) {
        for (const [k, v] of assigns) this.setVar(k, v);
        return builtin(this, argv, io);
      }
      return this.withTempVars(assigns, async () => builtin(this, argv, io));
    }
    return this.spawn(argv, assigns, io);
  }

  private async withTempVars(assigns: [string, string][], run: () => Promise<number>): Promise<number> {
    if (assigns.length === 0) return run();
    const saved = assigns.map(([k]) => [k, this.vars.get(k)] as const);
    for (const [k, v] of assigns) this.setVar(k, v, true);
    try {
      return await run();
    } finally {
      for (const [k, old] of saved) {
        if (old) this.vars.set(k, old);
        else this.vars.delete(k);
      }
      this.envCache = undefined;
    }
  }

  private async callFunction(body: Command, argv: string[], io: Io): Promise<number> {
    if (this.functionDepth >= MAX_FUNCTION_DEPTH) {
      await this.error(io, `${argv[0]}: maximum function nesting exceeded`);
      return 2;
    }
    const saved = this.positional;
    this.positional = argv.slice(1);
    this.functionDepth++;
    const frame = new Map<string, ShellVar | undefined>();
    this.localFrames.push(frame);
    try {
      return await this.execCommand(body, io);
    } catch (e) {
      if (e instanceof ReturnRequest) return e.status;
      throw e;
    } finally {
      this.localFrames.pop();
      for (const [name, old] of frame) {
        if (old) this.vars.set(name, old);
        else this.vars.delete(name);
      }
      if (frame.size > 0) this.envCache = undefined;
      this.functionDepth--;
      this.positional = saved;
    }
  }

  /** Starts a program as a child process and waits for it. */
  private async spawn(argv: string[], assigns: [string, string][], io: Io): Promise<number> {
    const rt = this.rt;
    let env = this.exportedEnv();
    if (assigns.length > 0) {
      env = { ...env };
      for (const [k, v] of assigns) env[k] = v;
    }
    const nul = rt.nullHandle();
    // A signal that arrived while this command was being prepared must not be outlived by a new child.
    this.checkInterrupt();
    let child: ProcessHandle;
    try {
      child = rt.proc.spawn({ argv, env, cwd: this.cwd, stdio: [io[0] ?? nul, io[1] ?? nul, io[2] ?? nul] });
    } catch (e) {
      return this.spawnFailed(argv, e, io);
    }
    this.onSpawn?.(child);
    rt.children.set(child, this.background);
    try {
      const status = await child.wait();
      return status.exitCode;
    } finally {
      rt.children.delete(child);
    }
  }

  private async spawnFailed(argv: string[], e: unknown, io: Io): Promise<number> {
    const name = argv[0]!;
    const code = errnoOf(e);
    if (code === "ENOENT") {
      await this.error(io, `${name}: not found`);
      return 127;
    }
    if (code === "ENOEXEC" && name.includes("/")) {
      // Like execvp: an executable text file without "#!" is a shell script.
      return this.runScriptFile(this.resolvePath(name), argv, io);
    }
    if (code === "EACCES" || code === "ENOEXEC" || code === "EISDIR") {
      await this.error(io, `${name}: ${code === "EACCES" ? "Permission denied" : errorMessage(e)}`);
      return 126;
    }
    if (code === undefined) throw e;
    await this.error(io, `${name}: ${errorMessage(e)}`);
    return 126;
  }

  /** Runs a script file in a subshell with its own positional parameters. */
  async runScriptFile(path: string, argv: string[], io: Io): Promise<number> {
    let source: string;
    try {
      source = decoder.decode(this.kernel.vfs.readFile(path));
    } catch (e) {
      await this.error(io, `${argv[0]}: ${errorMessage(e)}`);
      return 127;
    }
    let sub: Shell;
    try {
      sub = this.fork();
    } catch (e) {
      return this.forkFailed(io, e);
    }
    sub.arg0 = argv[0]!;
    sub.positional = argv.slice(1);
    sub.functions = new Map();
    try {
      return await sub.runSource(source, io);
    } catch (e) {
      return sub.boundaryStatus(e, io);
    } finally {
      sub.exitFork();
    }
  }

  // ---- redirections -------------------------------------------------------------------------

  /** Redirections of a compound command (may need command substitutions first). */
  private async redirect(
    redirects: Redirect[],
    io: Io,
  ): Promise<{ io: Io; opened: FileHandle[] } | undefined> {
    const subs = await this.substitutions(
      redirects.flatMap((r) => [r.target, r.body]),
      io,
    );
    return this.applyRedirects(redirects, io, this.context(subs));
  }

  /** Applies redirections, printing the error on failure (then undefined). */
  private async applyRedirects(
    redirects: Redirect[],
    io: Io,
    ctx: ExpandContext,
  ): Promise<{ io: Io; opened: FileHandle[] } | undefined> {
    const r = applyRedirections(this, redirects, io, ctx);
    if ("error" in r) {
      await this.error(io, r.error);
      return undefined;
    }
    return r;
  }
}

/** Does the command need command substitutions run before expansion? (Cached per node.) */
const substitutionCache = new WeakMap<SimpleCommand, boolean>();
function hasSubstitution(cmd: SimpleCommand): boolean {
  let has = substitutionCache.get(cmd);
  if (has === undefined) {
    const words: (Word | undefined)[] = [...cmd.assigns.map((a) => a.value), ...cmd.words];
    for (const r of cmd.redirects) words.push(r.target, r.body);
    has = collectSubstitutions(words).length > 0;
    substitutionCache.set(cmd, has);
  }
  return has;
}

/** A single-stage pipeline whose command is a simple command (it becomes one process, not a shell). */
function isSimplePipeline(p: Pipeline): boolean {
  return p.commands.length === 1 && p.commands[0]!.kind === "simple";
}
