/**
 * Commands the shell runs itself, because they change the shell's own state (cd, export, set,
 * read ...) or control its flow (exit, return, break). Everything else is a program.
 */
import { posix } from "node:path";
import type { Program } from "../kernel/types.js";
import { errorMessage } from "./io.js";
import { ExitRequest, LoopControl, ReturnRequest } from "./control.js";
import type { Io, Shell } from "./interpreter.js";

export type Builtin = (sh: Shell, argv: string[], io: Io) => number | Promise<number>;

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const KEYWORDS = new Set([
  "if",
  "then",
  "elif",
  "else",
  "fi",
  "for",
  "in",
  "do",
  "done",
  "while",
  "until",
  "case",
  "esac",
  "{",
  "}",
  "!",
]);

/** POSIX "special" builtins: assignments before them stay, and they are found before functions. */
export const SPECIAL_BUILTINS = new Set([
  ":",
  ".",
  "break",
  "continue",
  "eval",
  "exec",
  "exit",
  "export",
  "return",
  "set",
  "shift",
  "unset",
]);

function quote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

function parseCount(
  sh: Shell,
  io: Io,
  name: string,
  arg: string | undefined,
  fallback: number,
): number | undefined {
  if (arg === undefined) return fallback;
  if (!/^[0-9]+$/.test(arg)) {
    void sh.error(io, `${name}: ${arg}: numeric argument required`);
    return undefined;
  }
  return Number(arg);
}

const cd: Builtin = async (sh, argv, io) => {
  let args = argv.slice(1);
  if (args[0] === "-L" || args[0] === "-P") args = args.slice(1);
  if (args[0] === "--") args = args.slice(1);
  let dir = args[0];
  let print = false;
  if (dir === undefined || dir === "") {
    dir = sh.getVar("HOME");
    if (!dir) {
      await sh.error(io, "cd: HOME not set");
      return 1;
    }
  } else if (dir === "-") {
    dir = sh.getVar("OLDPWD");
    if (!dir) {
      await sh.error(io, "cd: OLDPWD not set");
      return 1;
    }
    print = true;
  }
  // Logical, like `cd -L`: ".." drops the last component of the path as typed.
  let target = posix.normalize(sh.resolvePath(dir));
  if (target.length > 1 && target.endsWith("/")) target = target.slice(0, -1);
  try {
    const st = sh.kernel.vfs.stat(target);
    if (st.type !== "directory") {
      await sh.error(io, `cd: ${dir}: Not a directory`);
      return 1;
    }
  } catch (e) {
    await sh.error(io, `cd: ${dir}: ${errorMessage(e)}`);
    return 1;
  }
  sh.setCwd(target);
  if (print) await sh.write(io, 1, `${target}\n`);
  return 0;
};

const pwd: Builtin = async (sh, argv, io) => {
  let dir = sh.cwd;
  if (argv[1] === "-P") {
    try {
      dir = sh.kernel.vfs.realpath(dir);
    } catch (e) {
      await sh.error(io, `pwd: ${errorMessage(e)}`);
      return 1;
    }
  }
  await sh.write(io, 1, `${dir}\n`);
  return 0;
};

const exportBuiltin: Builtin = async (sh, argv, io) => {
  const args = argv.slice(1).filter((a) => a !== "-p");
  if (args.length === 0) {
    const names = [...sh.vars.entries()].filter(([, v]) => v.exported).map(([k]) => k);
    names.sort();
    await sh.write(io, 1, names.map((k) => `export ${k}=${quote(sh.getVar(k) ?? "")}\n`).join(""));
    return 0;
  }
  let status = 0;
  for (const arg of args) {
    const eq = arg.indexOf("=");
    const name = eq < 0 ? arg : arg.slice(0, eq);
    if (!NAME_RE.test(name)) {
      await sh.error(io, `export: ${arg}: bad variable name`);
      status = 1;
    } else if (eq < 0) sh.exportVar(name);
    else sh.setVar(name, arg.slice(eq + 1), true);
  }
  return status;
};

const unset: Builtin = (sh, argv) => {
  let functions = false;
  for (const arg of argv.slice(1)) {
    if (arg === "-f") functions = true;
    else if (arg === "-v") functions = false;
    else if (functions) sh.functions.delete(arg);
    else sh.unsetVar(arg);
  }
  return 0;
};

const exit: Builtin = async (sh, argv, io) => {
  const n = parseCount(sh, io, "exit", argv[1], sh.status);
  throw new ExitRequest(n === undefined ? 2 : n & 255);
};

const read: Builtin = async (sh, argv, io) => {
  let raw = false;
  const names: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "-r") raw = true;
    else if (a === "-p") await sh.write(io, 2, argv[++i] ?? "");
    else names.push(a);
  }
  if (names.length === 0) names.push("REPLY");
  const input = io[0];
  let line = "";
  let eof = false;
  if (input) {
    const bytes: number[] = [];
    const one = new Uint8Array(1);
    try {
      // One byte at a time: whatever follows the line belongs to the next reader.
      for (;;) {
        const r = input.read(one);
        const n = typeof r === "number" ? r : await r;
        if (n <= 0) {
          eof = true;
          break;
        }
        if (one[0] === 10) {
          if (!raw && bytes[bytes.length - 1] === 92) {
            bytes.pop();
            continue;
          }
          break;
        }
        bytes.push(one[0]!);
      }
    } catch {
      return 1;
    }
    line = new TextDecoder().decode(new Uint8Array(bytes));
  } else {
    eof = true;
  }
  if (!raw) line = line.replace(/\\(.)/g, "$1");
  const ifs = sh.getVar("IFS") ?? " \t\n";
  const ws = [...ifs].filter((c) => c === " " || c === "\t" || c === "\n").join("");
  const isWs = (c: string | undefined): boolean => c !== undefined && ws.includes(c);
  let rest = line;
  let start = 0;
  while (isWs(rest[start])) start++;
  rest = rest.slice(start);
  names.forEach((name, i) => {
    if (i === names.length - 1) {
      let end = rest.length;
      while (end > 0 && isWs(rest[end - 1])) end--;
      sh.setVar(name, rest.slice(0, end));
      return;
    }
    let j = 0;
    while (j < rest.length && !ifs.includes(rest[j]!)) j++;
    sh.setVar(name, rest.slice(0, j));
    while (isWs(rest[j])) j++;
    if (j < rest.length && ifs.includes(rest[j]!)) {
      j++;
      while (isWs(rest[j])) j++;
    }
    rest = rest.slice(j);
  });
  return eof && line === "" ? 1 : eof ? 1 : 0;
};

const OPTION_NAMES: Record<string, "errexit" | "noglob" | "allexport" | undefined> = {
  errexit: "errexit",
  noglob: "noglob",
  allexport: "allexport",
};
const OPTION_LETTERS: Record<string, "errexit" | "noglob" | "allexport" | undefined> = {
  e: "errexit",
  f: "noglob",
  a: "allexport",
};

const set: Builtin = async (sh, argv, io) => {
  const args = argv.slice(1);
  if (args.length === 0) {
    const names = [...sh.vars.keys()].sort();
    await sh.write(io, 1, names.map((k) => `${k}=${quote(sh.getVar(k) ?? "")}\n`).join(""));
    return 0;
  }
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") {
      sh.positional = args.slice(i + 1);
      return 0;
    }
    if ((a[0] === "-" || a[0] === "+") && a.length > 1) {
      const on = a[0] === "-";
      if (a.slice(1) === "o") {
        const name = args[++i];
        if (name === undefined) return 0;
        const opt = OPTION_NAMES[name];
        // Options we do not implement (pipefail, nounset, xtrace ...) are accepted and ignored.
        if (opt) sh[opt] = on;
        continue;
      }
      for (const letter of a.slice(1)) {
        const opt = OPTION_LETTERS[letter];
        if (opt) sh[opt] = on;
        else if (!"uxvhbmnCT".includes(letter)) {
          await sh.error(io, `set: -${letter}: invalid option`);
          return 2;
        }
      }
      continue;
    }
    sh.positional = args.slice(i);
    return 0;
  }
  return 0;
};

const shift: Builtin = async (sh, argv, io) => {
  const n = parseCount(sh, io, "shift", argv[1], 1);
  if (n === undefined) return 2;
  if (n > sh.positional.length) {
    await sh.error(io, "shift: can't shift that many");
    return 1;
  }
  sh.positional = sh.positional.slice(n);
  return 0;
};

type Description =
  { kind: "function" | "builtin" | "keyword" } | { kind: "program"; program: Program } | { kind: "none" };

function describe(sh: Shell, name: string, skipFunctions = false): Description {
  if (KEYWORDS.has(name)) return { kind: "keyword" };
  if (!skipFunctions && sh.functions.has(name)) return { kind: "function" };
  if (BUILTINS.has(name)) return { kind: "builtin" };
  try {
    return { kind: "program", program: sh.kernel.resolveProgram(name, sh.cwd, sh.exportedEnv()) };
  } catch {
    return { kind: "none" };
  }
}

function describeText(name: string, d: Description): string {
  switch (d.kind) {
    case "keyword":
      return `${name} is a shell keyword`;
    case "function":
      return `${name} is a function`;
    case "builtin":
      return `${name} is a shell builtin`;
    case "program":
      return `${name} is ${d.program.path}`;
    case "none":
      return `${name}: not found`;
  }
}

const type: Builtin = async (sh, argv, io) => {
  let status = 0;
  for (const name of argv.slice(1)) {
    const d = describe(sh, name);
    if (d.kind === "none") {
      await sh.error(io, `type: ${name}: not found`);
      status = 1;
    } else {
      await sh.write(io, 1, `${describeText(name, d)}\n`);
    }
  }
  return status;
};

const command: Builtin = async (sh, argv, io) => {
  let i = 1;
  let mode: "run" | "v" | "V" = "run";
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "-v") mode = "v";
    else if (a === "-V") mode = "V";
    else if (a === "-p") continue;
    else if (a === "--") {
      i++;
      break;
    } else break;
  }
  const names = argv.slice(i);
  if (names.length === 0) return 0;
  if (mode === "run") return sh.invoke(names, [], io, true);
  let status = 0;
  for (const name of names) {
    const d = describe(sh, name);
    if (d.kind === "none") {
      if (mode === "V") await sh.error(io, `command: ${name}: not found`);
      status = 1;
    } else if (mode === "v") {
      await sh.write(io, 1, `${d.kind === "program" ? d.program.path : name}\n`);
    } else {
      await sh.write(io, 1, `${describeText(name, d)}\n`);
    }
  }
  return status;
};

const evalBuiltin: Builtin = (sh, argv, io) => sh.runSource(argv.slice(1).join(" "), io);

const source: Builtin = async (sh, argv, io) => {
  const file = argv[1];
  if (file === undefined) {
    await sh.error(io, `${argv[0]}: filename argument required`);
    return 2;
  }
  const candidates = file.includes("/")
    ? [sh.resolvePath(file)]
    : [
        ...(sh.getVar("PATH") ?? "").split(":").map((d) => sh.resolvePath(`${d || "."}/${file}`)),
        sh.resolvePath(file),
      ];
  let text: string | undefined;
  for (const path of candidates) {
    try {
      if (sh.kernel.vfs.stat(path).type !== "file") continue;
      sh.kernel.guestFilesystem?.check(path, "read", "open");
      text = new TextDecoder().decode(sh.kernel.vfs.readFile(path));
      break;
    } catch {
      // Next candidate.
    }
  }
  if (text === undefined) {
    await sh.error(io, `${argv[0]}: ${file}: not found`);
    return 1;
  }
  const saved = sh.positional;
  if (argv.length > 2) sh.positional = argv.slice(2);
  try {
    return await sh.runSource(text, io);
  } catch (e) {
    if (e instanceof ReturnRequest) return e.status;
    throw e;
  } finally {
    if (argv.length > 2) sh.positional = saved;
  }
};

const returnBuiltin: Builtin = (sh, argv, io) => {
  const n = parseCount(sh, io, "return", argv[1], sh.status);
  throw new ReturnRequest(n === undefined ? 2 : n & 255);
};

function loopControl(kind: "break" | "continue"): Builtin {
  return (sh, argv, io) => {
    const n = parseCount(sh, io, kind, argv[1], 1);
    if (n === undefined || n < 1) return 1;
    throw new LoopControl(kind, n);
  };
}

const wait: Builtin = async (sh, argv) => {
  const pids = argv.slice(1);
  if (pids.length === 0) {
    await Promise.all(sh.jobs.values());
    return 0;
  }
  let status = 0;
  for (const p of pids) {
    const job = sh.jobs.get(Number(p));
    status = job ? await job : 127;
  }
  return status;
};

const local: Builtin = async (sh, argv, io) => {
  const frame = sh.localFrames[sh.localFrames.length - 1];
  if (!frame) {
    await sh.error(io, "local: not in a function");
    return 1;
  }
  for (const arg of argv.slice(1)) {
    const eq = arg.indexOf("=");
    const name = eq < 0 ? arg : arg.slice(0, eq);
    if (!NAME_RE.test(name)) {
      await sh.error(io, `local: ${arg}: bad variable name`);
      return 1;
    }
    if (!frame.has(name)) frame.set(name, sh.vars.get(name));
    if (eq >= 0) sh.setVar(name, arg.slice(eq + 1));
    else if (!sh.vars.has(name)) sh.setVar(name, "");
  }
  return 0;
};

const exec: Builtin = async (sh, argv, io) => {
  // No fd juggling on the shell itself: `exec cmd` runs cmd and ends the shell with its status.
  if (argv.length < 2) return 0;
  throw new ExitRequest(await sh.invoke(argv.slice(1), [], io, true));
};

export const BUILTINS = new Map<string, Builtin>([
  [":", () => 0],
  ["true", () => 0],
  ["false", () => 1],
  ["cd", cd],
  ["pwd", pwd],
  ["export", exportBuiltin],
  ["unset", unset],
  ["exit", exit],
  ["read", read],
  ["set", set],
  ["shift", shift],
  ["type", type],
  ["command", command],
  ["eval", evalBuiltin],
  [".", source],
  ["source", source],
  ["return", returnBuiltin],
  ["break", loopControl("break")],
  ["continue", loopControl("continue")],
  ["wait", wait],
  ["exec", exec],
  ["local", local],
]);
