// Build smoke test: runs a few applets of a freshly built toybox.wasm under
// Node's built-in node:wasi, against a temporary directory, and exits
// non-zero if any check fails. node:wasi maps real host directories and is
// no sandbox, which is fine for checking our own build output here; the
// workspace runtime (lib/workspace/wasi) is what runs toybox for real.
//
// Usage: node smoke.mjs path/to/toybox.wasm applet [applet ...]
// The applet names let the enclave.proc_spawn stand-in below resolve
// commands the way the workspace's /usr/bin links would.

/* global console, WebAssembly */
import { Buffer } from "node:buffer";
import {
  closeSync,
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import process from "node:process";
import { WASI } from "node:wasi";

const [wasmPath, ...applets] = process.argv.slice(2);
if (!wasmPath || applets.length === 0) {
  console.error("usage: node smoke.mjs toybox.wasm applet...");
  process.exit(2);
}
const known = new Set(applets);
const module = new WebAssembly.Module(readFileSync(wasmPath));
const root = mkdtempSync(join(tmpdir(), "toybox-smoke-"));

// The base package's layout: /usr/bin/toybox plus one hard link per applet.
mkdirSync(join(root, "usr/bin"), { recursive: true });
copyFileSync(wasmPath, join(root, "usr/bin/toybox"));
for (const name of known)
  if (!name.includes("/")) linkSync(join(root, "usr/bin/toybox"), join(root, "usr/bin", name));

// WASI errnos the spawn import answers with.
const ENOENT = 44;
const ENOSYS = 52;

/** NUL-separated strings packed end to end, as the enclave import ABI passes them. */
function unpack(memory, ptr, len) {
  const text = Buffer.from(memory.buffer, ptr, len).toString("utf8");
  return text.split("\0").slice(0, -1);
}

/** Find a command as the workspace kernel would: a path, or a PATH search. Guest paths. */
function resolve(cmd, path, cwd) {
  const candidates = cmd.includes("/")
    ? [posix.resolve(cwd, cmd)]
    : path.split(":").map((dir) => posix.join(posix.resolve(cwd, dir || "."), cmd));
  return candidates.find((p) => known.has(posix.basename(p)) && existsSync(join(root, p)));
}

/**
 * Run toybox with argv/env, guest cwd `cwd`, and host fds for stdio.
 * Children started through enclave.proc_spawn run nested, synchronously,
 * on the caller's stdio: enough for the blocking import; the optional
 * pipe/async imports answer ENOSYS so the compat layer takes its fallbacks.
 */
function run(argv, env, cwd, stdio) {
  let memory;
  const wasi = new WASI({
    version: "preview1",
    args: argv,
    env: { ...env, PWD: cwd },
    preopens: { "/": root },
    stdin: stdio[0],
    stdout: stdio[1],
    stderr: stdio[2],
    returnOnExit: true,
  });
  const enclave = {
    proc_spawn(a, al, e, el, c, cl, exitPtr) {
      const childArgv = unpack(memory, a, al);
      const envList = unpack(memory, e, el);
      const childCwd = Buffer.from(memory.buffer, c, cl).toString("utf8") || cwd;
      const childEnv = Object.fromEntries(
        envList.map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
      );
      if (!resolve(childArgv[0], childEnv.PATH ?? "", childCwd)) return ENOENT;
      const code = run(childArgv, childEnv, childCwd, stdio);
      new DataView(memory.buffer).setInt32(exitPtr, code, true);
      return 0;
    },
    proc_spawn_io: () => ENOSYS,
    proc_wait: () => ENOSYS,
    fd_pipe: () => ENOSYS,
  };
  const instance = new WebAssembly.Instance(module, { wasi_snapshot_preview1: wasi.wasiImport, enclave });
  memory = instance.exports.memory;
  return wasi.start(instance);
}

let counter = 0;
/** Run one command line; stdin text in, {code, stdout, stderr} out. */
function exec(argv, { stdin = "", env = {}, cwd = "/" } = {}) {
  const base = join(root, `.io-${counter++}`);
  writeFileSync(`${base}.in`, stdin);
  const fds = [openSync(`${base}.in`, "r"), openSync(`${base}.out`, "w"), openSync(`${base}.err`, "w")];
  let code;
  try {
    code = run(argv, { PATH: "/usr/bin:/bin", HOME: "/home/user", ...env }, cwd, fds);
  } finally {
    fds.forEach((fd) => closeSync(fd));
  }
  const read = (ext) => readFileSync(`${base}.${ext}`, "utf8");
  const result = { code, stdout: read("out"), stderr: read("err") };
  for (const ext of ["in", "out", "err"]) rmSync(`${base}.${ext}`);
  return result;
}

writeFileSync(join(root, "data.txt"), "hello world\n");
const dataSha = createHash("sha256").update("hello world\n").digest("hex");

const checks = [
  ["echo hello", () => exec(["echo", "hello"]), (r) => r.stdout === "hello\n"],
  ["printf", () => exec(["printf", "%s-%03d\\n", "x", "7"]), (r) => r.stdout === "x-007\n"],
  ["seq 3", () => exec(["seq", "3"]), (r) => r.stdout === "1\n2\n3\n"],
  ["ls", () => exec(["ls"]), (r) => r.stdout.split("\n").includes("data.txt")],
  ["sha256sum", () => exec(["sha256sum", "data.txt"]), (r) => r.stdout === `${dataSha}  data.txt\n`],
  ["tr stdin", () => exec(["tr", "a-z", "A-Z"], { stdin: "hello\n" }), (r) => r.stdout === "HELLO\n"],
  ["wc -l", () => exec(["wc", "-l"], { stdin: "a\nb\nc\n" }), (r) => r.stdout.trim() === "3"],
  ["sort | uniq", () => exec(["sort", "-u"], { stdin: "b\na\nb\n" }), (r) => r.stdout === "a\nb\n"],
  ["sed", () => exec(["sed", "s/world/there/", "data.txt"]), (r) => r.stdout === "hello there\n"],
  [
    "mkdir, touch, stat",
    () => {
      exec(["mkdir", "-p", "d/e"]);
      exec(["touch", "d/e/f"]);
      return exec(["stat", "-c", "%F %U", "d/e/f"]);
    },
    (r) => r.stdout === "regular empty file user\n",
  ],
  ["cwd from PWD", () => exec(["pwd"], { cwd: "/d" }), (r) => r.stdout === "/d\n"],
  ["id", () => exec(["id"]), (r) => r.stdout.startsWith("uid=1000(user) gid=1000(user)")],
  ["false exit 1", () => exec(["false"]), (r) => r.code === 1],
  ["env CMD (spawn)", () => exec(["env", "GREETING=hi", "printenv", "GREETING"]), (r) => r.stdout === "hi\n"],
  [
    "xargs (spawn)",
    () => exec(["xargs", "echo", "got"], { stdin: "a b\nc\n" }),
    (r) => r.stdout === "got a b c\n",
  ],
  [
    "find -exec (spawn)",
    () => exec(["find", "d", "-type", "f", "-exec", "echo", "found", "{}", ";"]),
    (r) => r.stdout === "found d/e/f\n",
  ],
  ["missing command 127", () => exec(["env", "no-such-cmd"]), (r) => r.code === 127],
  [
    "tar round trip",
    () => {
      exec(["tar", "-cf", "t.tar", "d"]);
      exec(["mkdir", "x"]);
      exec(["tar", "-xf", "../t.tar"], { cwd: "/x" });
      return exec(["find", "x", "-name", "f"]);
    },
    (r) => r.stdout === "x/d/e/f\n",
  ],
];

let failed = 0;
for (const [name, runCheck, ok] of checks) {
  let result;
  let pass = false;
  try {
    result = runCheck();
    pass = ok(result);
  } catch (err) {
    result = { error: String(err) };
  }
  if (!pass) failed++;
  console.log(`[toybox] smoke ${pass ? "pass" : "FAIL"}: ${name}${pass ? "" : ` ${JSON.stringify(result)}`}`);
}
rmSync(root, { recursive: true, force: true });
console.log(`[toybox] smoke: ${checks.length - failed}/${checks.length} passed`);
process.exit(failed ? 1 : 0);
