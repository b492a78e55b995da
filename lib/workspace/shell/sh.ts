/**
 * `sh` as a kernel host program: `sh -c CMD [name [args...]]`, `sh SCRIPT [args...]`, `sh` (the
 * script on stdin), and `sh -i` (interactive: prompt, line by line, Ctrl-C handling) which it
 * also becomes when stdin is a terminal.
 */
import type { FileHandle, HostProgram, KernelProcess, Signal } from "../kernel/types.js";
import type { Script } from "./ast.js";
import { ExitRequest, Interrupted } from "./control.js";
import { MAX_CAPTURE_BYTES, errnoOf, errorMessage, LineReader, readAll } from "./io.js";
import { type Io, Shell, ShellRuntime } from "./interpreter.js";
import { parse, ShellSyntaxError } from "./parser.js";
import { Terminal } from "./terminal.js";

const decoder = new TextDecoder();

interface Invocation {
  command?: string;
  script?: string;
  interactive: boolean;
  errexit: boolean;
  arg0: string;
  positional: string[];
}

function parseArgs(argv: string[]): Invocation | string {
  const args = argv.slice(1);
  const inv: Invocation = { interactive: false, errexit: false, arg0: argv[0] ?? "sh", positional: [] };
  let commandMode = false;
  let stdinMode = false;
  while (args.length > 0) {
    const a = args[0]!;
    if (a === "--") {
      args.shift();
      break;
    }
    if (a.length < 2 || (a[0] !== "-" && a[0] !== "+")) break;
    args.shift();
    for (const letter of a.slice(1)) {
      if (letter === "c") commandMode = true;
      else if (letter === "i") inv.interactive = true;
      else if (letter === "s") stdinMode = true;
      else if (letter === "e") inv.errexit = a[0] === "-";
      else if (letter === "o") args.shift();
      else if (!"xvuafnlC".includes(letter)) return `sh: -${letter}: invalid option`;
    }
  }
  if (commandMode) {
    const command = args.shift();
    if (command === undefined) return "sh: -c requires an argument";
    inv.command = command;
    inv.arg0 = args.shift() ?? inv.arg0;
  } else if (!stdinMode && args.length > 0) {
    inv.script = args.shift()!;
    inv.arg0 = inv.script;
  }
  inv.positional = args;
  return inv;
}

function stdio(proc: KernelProcess, rt: ShellRuntime): Io {
  const io: Io = [];
  for (let fd = 0; fd < 3; fd++) {
    try {
      io[fd] = proc.fds.get(fd);
    } catch {
      io[fd] = rt.nullHandle();
    }
  }
  return io;
}

export const sh: HostProgram = async (proc, kernel) => {
  const rt = new ShellRuntime(kernel, proc);
  const io = stdio(proc, rt);
  const inv = parseArgs(proc.argv);
  if (typeof inv === "string") {
    await new Shell(rt, { env: {}, cwd: proc.cwd, arg0: "sh", positional: [] }).write(io, 2, `${inv}\n`);
    return 2;
  }
  const shell = new Shell(rt, { env: proc.env, cwd: proc.cwd, arg0: inv.arg0, positional: inv.positional });
  shell.errexit = inv.errexit;
  const onAbort = (): void => rt.signalled((proc.signal.reason as Signal | undefined) ?? "SIGTERM");
  proc.signal.addEventListener("abort", onAbort, { once: true });
  try {
    if (inv.command !== undefined) return await top(shell, io, () => shell.runSource(inv.command!, io));
    if (inv.script !== undefined) {
      let source: string;
      try {
        const scriptPath = shell.resolvePath(inv.script);
        kernel.guestFilesystem?.check(scriptPath, "read", "open");
        source = decoder.decode(kernel.vfs.readFile(scriptPath));
      } catch (e) {
        await shell.error(io, `${inv.script}: ${errorMessage(e)}`);
        return 127;
      }
      return await top(shell, io, () => shell.runSource(source, io));
    }
    const tty = io[0] instanceof Terminal ? io[0] : undefined;
    if (inv.interactive || tty) return await interactive(shell, io, tty);
    let script: Uint8Array;
    try {
      script = await readAll(io[0]!, undefined, MAX_CAPTURE_BYTES);
    } catch (e) {
      await shell.error(io, `reading the script from stdin: ${errorMessage(e)}`);
      return 2;
    }
    const source = decoder.decode(script);
    return await top(shell, io, () => shell.runSource(source, io));
  } finally {
    proc.signal.removeEventListener("abort", onAbort);
  }
};

/** Runs the shell's top level: `exit` and signals end it here with their status. */
async function top(shell: Shell, io: Io, run: () => Promise<number>): Promise<number> {
  try {
    return await run();
  } catch (e) {
    return shell.boundaryStatus(e, io);
  }
}

function prompt(shell: Shell): string {
  const ps1 = shell.getVar("PS1");
  const user = shell.getVar("USER") ?? "user";
  const host = shell.getVar("HOSTNAME") ?? "workspace";
  if (ps1 === undefined) return `${user}@${host}:${shell.cwd}$ `;
  return ps1.replace(/\\([uhwW$\\])/g, (_m, c: string) =>
    c === "u"
      ? user
      : c === "h"
        ? host
        : c === "w"
          ? shell.cwd
          : c === "W"
            ? shell.cwd.split("/").pop() || "/"
            : c === "$"
              ? "$"
              : "\\",
  );
}

/** Does the text end inside a line continuation (an odd number of trailing backslashes)? */
function continues(source: string): boolean {
  const m = /(\\+)\n$/.exec(source);
  return m !== null && m[1]!.length % 2 === 1;
}

/** Words after which a line break needs no ";" when a multi-line command becomes one history line. */
const OPENERS = /(?:^|\s)(?:then|do|else|elif|in|\{|\(|\||&&|\|\|)\s*$/;

/**
 * A command typed over several lines, as one line for the history; undefined when joining would
 * change it (heredocs, quotes spanning lines).
 */
function historyLine(source: string): string | undefined {
  const lines = source.replace(/\n+$/, "").split("\n");
  if (lines.length > 1 && (source.includes("<<") || lines.some((l) => /^[^'"]*(['"])[^'"]*$/.test(l)))) {
    return undefined;
  }
  let out = lines[0]!;
  for (const line of lines.slice(1)) {
    if (/\\$/.test(out)) out = out.slice(0, -1) + line;
    else out += (OPENERS.test(out) || /;\s*$/.test(out) ? " " : "; ") + line;
  }
  return out;
}

type ReadResult = { script: Script; source: string } | "eof" | "interrupted" | "empty" | "error";

async function readCommand(shell: Shell, reader: LineReader, io: Io): Promise<ReadResult> {
  let source = "";
  for (;;) {
    let line: string | undefined;
    try {
      line = await reader.readLine();
    } catch (e) {
      if (errnoOf(e) !== "EINTR") throw e;
      reader.discard();
      return "interrupted";
    }
    if (line === undefined) {
      if (source === "") return "eof";
      // End of input in the middle of a command: run what parses, as a script would.
      try {
        return { script: parse(source), source };
      } catch (e) {
        await shell.error(io, errorMessage(e));
        shell.status = 2;
        return "error";
      }
    }
    source += line;
    if (source.trim() === "") return "empty";
    if (continues(source)) {
      await shell.write(io, 2, "> ");
      continue;
    }
    try {
      return { script: parse(source, { interactive: true }), source };
    } catch (e) {
      if (e instanceof ShellSyntaxError && e.incomplete) {
        await shell.write(io, 2, shell.getVar("PS2") ?? "> ");
        continue;
      }
      await shell.error(io, errorMessage(e));
      shell.status = 2;
      return "error";
    }
  }
}

/** The interactive loop. With a terminal, Ctrl-C interrupts the foreground command. */
async function interactive(shell: Shell, io: Io, tty: Terminal | undefined): Promise<number> {
  const rt = shell.rt;
  const proc = rt.proc;
  shell.interactive = true;
  const reader = new LineReader(io[0] as FileHandle);
  let running = false;
  const removeListener = tty?.onInterrupt(() => {
    if (!running) return;
    rt.interrupt = new Interrupted(130);
    rt.killChildren("SIGINT", true);
  });
  try {
    for (;;) {
      if (proc.signal.aborted) return rt.interrupt?.status ?? 129;
      await shell.write(io, 2, prompt(shell));
      const read = await readCommand(shell, reader, io);
      if (read === "eof") {
        await shell.write(io, 2, "exit\n");
        return shell.status;
      }
      if (typeof read === "string") continue;
      const entry = historyLine(read.source);
      if (entry !== undefined) tty?.addHistory(entry);
      running = true;
      try {
        await shell.execList(read.script.body, io);
      } catch (e) {
        if (e instanceof ExitRequest) return e.status;
        shell.status = e instanceof Interrupted ? e.status : await shell.boundaryStatus(e, io);
      } finally {
        running = false;
        if (!proc.signal.aborted) rt.interrupt = undefined;
      }
    }
  } finally {
    removeListener?.();
  }
}
