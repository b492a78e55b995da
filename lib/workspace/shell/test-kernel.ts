/**
 * Test support: a real Kernel with `sh` and a few small host programs standing in for the toybox
 * commands (echo, cat, tr, wc, test ...), installed as "#!enclave-host NAME" files in /bin.
 */
import { Kernel } from "../kernel/kernel.js";
import type { HostProgram, KernelProcess } from "../kernel/types.js";
import { readAll, writeAll } from "./io.js";
import { sh } from "./sh.js";

const decoder = new TextDecoder();

async function out(proc: KernelProcess, text: string, fd = 1): Promise<void> {
  await writeAll(proc.fds.get(fd), text);
}

async function stdinText(proc: KernelProcess): Promise<string> {
  return decoder.decode(await readAll(proc.fds.get(0)));
}

function expandSet(raw: string): string {
  const set = raw.replace(/\\n/g, "\n");
  let s = "";
  for (let i = 0; i < set.length; i++) {
    if (set[i + 1] === "-" && i + 2 < set.length) {
      for (let c = set.charCodeAt(i); c <= set.charCodeAt(i + 2); c++) s += String.fromCharCode(c);
      i += 2;
    } else s += set[i];
  }
  return s;
}

function testExpr(args: string[], proc: KernelProcess, kernel: Kernel): boolean {
  if (args[0] === "!") return !testExpr(args.slice(1), proc, kernel);
  if (args.length === 1) return args[0] !== "";
  if (args.length === 2) {
    const [op, v] = args as [string, string];
    const path = v.startsWith("/") ? v : `${proc.cwd}/${v}`;
    if (op === "-n") return v !== "";
    if (op === "-z") return v === "";
    try {
      const st = kernel.vfs.stat(path);
      if (op === "-e") return true;
      if (op === "-f") return st.type === "file";
      if (op === "-d") return st.type === "directory";
    } catch {
      return false;
    }
  }
  const [a, op, b] = args as [string, string, string];
  switch (op) {
    case "=":
      return a === b;
    case "!=":
      return a !== b;
    case "-eq":
      return Number(a) === Number(b);
    case "-ne":
      return Number(a) !== Number(b);
    case "-lt":
      return Number(a) < Number(b);
    case "-le":
      return Number(a) <= Number(b);
    case "-gt":
      return Number(a) > Number(b);
    case "-ge":
      return Number(a) >= Number(b);
  }
  throw new Error(`test: unknown operator ${op}`);
}

export function testPrograms(kernel: () => Kernel): Record<string, HostProgram> {
  return {
    sh,
    echo: async (proc) => {
      const args = proc.argv.slice(1);
      const newline = args[0] !== "-n";
      if (!newline) args.shift();
      await out(proc, args.join(" ") + (newline ? "\n" : ""));
      return 0;
    },
    /** Prints each argument in brackets: shows exactly how words were split. */
    args: async (proc) => {
      await out(
        proc,
        proc.argv
          .slice(1)
          .map((a) => `[${a}]`)
          .join("") + "\n",
      );
      return 0;
    },
    cat: async (proc) => {
      const files = proc.argv.slice(1);
      if (files.length === 0) files.push("-");
      for (const f of files) {
        if (f === "-") await out(proc, await stdinText(proc));
        else {
          try {
            await writeAll(
              proc.fds.get(1),
              kernel().vfs.readFile(f.startsWith("/") ? f : `${proc.cwd}/${f}`),
            );
          } catch {
            await out(proc, `cat: ${f}: No such file or directory\n`, 2);
            return 1;
          }
        }
      }
      return 0;
    },
    tr: async (proc) => {
      const from = expandSet(proc.argv[1] ?? "");
      const to = expandSet(proc.argv[2] ?? "");
      const text = await stdinText(proc);
      let result = "";
      for (const c of text) {
        const i = from.indexOf(c);
        result += i < 0 ? c : (to[Math.min(i, to.length - 1)] ?? c);
      }
      await out(proc, result);
      return 0;
    },
    wc: async (proc) => {
      const text = await stdinText(proc);
      await out(proc, `${text.split("\n").length - 1}\n`);
      return 0;
    },
    env: async (proc) => {
      const lines = Object.entries(proc.env).map(([k, v]) => `${k}=${v}\n`);
      await out(proc, lines.sort().join(""));
      return 0;
    },
    /** `status N`: exits with N (after writing "status N" to stderr). */
    status: async (proc) => {
      await out(proc, `status ${proc.argv[1]}\n`, 2);
      return Number(proc.argv[1] ?? 0);
    },
    sleep: (proc) =>
      new Promise((resolve) => {
        const timer = setTimeout(() => resolve(0), Number(proc.argv[1] ?? 0) * 1000);
        proc.signal.addEventListener("abort", () => {
          clearTimeout(timer);
          resolve(130);
        });
      }),
    test: async (proc) => (testExpr(proc.argv.slice(1), proc, kernel()) ? 0 : 1),
    "[": async (proc) => {
      const args = proc.argv.slice(1);
      if (args[args.length - 1] !== "]") {
        await out(proc, "[: missing ]\n", 2);
        return 2;
      }
      return testExpr(args.slice(0, -1), proc, kernel()) ? 0 : 1;
    },
  };
}

/** A kernel with /bin holding sh and the test programs, /home/user as HOME. */
export function testKernel(): Kernel {
  const holder: { kernel?: Kernel } = {};
  const programs = testPrograms(() => holder.kernel!);
  const kernel = new Kernel({ hostPrograms: programs });
  holder.kernel = kernel;
  const vfs = kernel.vfs;
  vfs.mkdir("/bin", { recursive: true });
  vfs.mkdir("/home/user", { recursive: true });
  for (const name of Object.keys(programs)) {
    vfs.writeFile(`/bin/${name}`, `#!enclave-host ${name}\n`, { mode: 0o755 });
  }
  return kernel;
}

export const TEST_ENV: Record<string, string> = {
  PATH: "/bin",
  HOME: "/home/user",
  USER: "user",
};
