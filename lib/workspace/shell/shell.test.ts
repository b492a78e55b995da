import { beforeEach, describe, expect, it } from "vitest";
import type { Kernel } from "../kernel/kernel.js";
import { runShellCommand, type RunShellOptions } from "./run.js";
import { TEST_ENV, testKernel } from "./test-kernel.js";

let kernel: Kernel;

beforeEach(() => {
  kernel = testKernel();
});

function run(command: string, options: Partial<RunShellOptions> = {}) {
  return runShellCommand(kernel, command, { cwd: "/home/user", env: TEST_ENV, ...options });
}

function file(path: string): string {
  return new TextDecoder().decode(kernel.vfs.readFile(path));
}

describe("sh: commands and pipelines", () => {
  it("runs a command as a child process of the shell", async () => {
    const r = await run("echo hi");
    expect(r).toMatchObject({ exitCode: 0, stdout: "hi\n", stderr: "" });
    const procs = kernel.processes();
    const shell = procs.find((p) => p.pid === r.pid)!;
    expect(shell.argv).toEqual(["sh", "-c", "echo hi"]);
    expect(procs.find((p) => p.argv[0] === "echo")!.ppid).toBe(r.pid);
  });

  it("joins pipeline stages with kernel pipes", async () => {
    expect((await run("echo hello | tr a-z A-Z")).stdout).toBe("HELLO\n");
    expect((await run("echo a b c | tr a-z A-Z | tr ' ' '\\n' | wc")).stdout).toBe("3\n");
  });

  it("gives a pipeline the status of its last stage, negated by !", async () => {
    expect((await run("true | false; echo $?; false | true; echo $?")).stdout).toBe("1\n0\n");
    expect((await run("! false; echo $?; ! true; echo $?")).stdout).toBe("0\n1\n");
  });

  it("runs && || ; lists by status", async () => {
    const r = await run("false && echo no; true && echo yes; false || echo alt; true || echo never");
    expect(r.stdout).toBe("yes\nalt\n");
  });

  it("reports a missing command with status 127", async () => {
    const r = await run("nosuch arg; echo status=$?");
    expect(r.stdout).toBe("status=127\n");
    expect(r.stderr).toBe("sh: nosuch: not found\n");
  });

  it("reports a non-executable file with status 126", async () => {
    kernel.vfs.writeFile("/home/user/script", "echo hi\n", { mode: 0o644 });
    const r = await run("./script; echo $?");
    expect(r.stdout).toBe("126\n");
    expect(r.stderr).toContain("Permission denied");
  });

  it("runs an executable text file without #! as a shell script", async () => {
    kernel.vfs.writeFile("/home/user/script", "echo from script $1\n", { mode: 0o755 });
    expect((await run("./script arg")).stdout).toBe("from script arg\n");
  });

  it("returns the status of the last command, or of exit", async () => {
    expect((await run("status 3")).exitCode).toBe(3);
    expect((await run("exit 42; echo no")).exitCode).toBe(42);
    expect((await run("false; exit")).exitCode).toBe(1);
  });

  it("gives syntax errors status 2 and a position", async () => {
    const r = await run("echo hi; fi");
    expect(r).toMatchObject({
      exitCode: 2,
      stdout: "",
      stderr: "sh: syntax error: unexpected 'fi' at 1:10\n",
    });
  });

  it("feeds stdin to the command", async () => {
    expect((await run("cat | tr a-z A-Z", { stdin: "from stdin\n" })).stdout).toBe("FROM STDIN\n");
    const big = "x".repeat(200_000) + "\n";
    expect((await run("cat", { stdin: big })).stdout.length).toBe(big.length);
  });

  it("streams output through the callbacks", async () => {
    const chunks: string[] = [];
    const errs: string[] = [];
    await run("echo one; echo two >&2", { onStdout: (c) => chunks.push(c), onStderr: (c) => errs.push(c) });
    expect(chunks.join("")).toBe("one\n");
    expect(errs.join("")).toBe("two\n");
  });
});

describe("sh: redirections", () => {
  it("writes, appends and reads files relative to the cwd", async () => {
    const r = await run("echo a > out.txt; echo b >> out.txt; cat < out.txt");
    expect(r.stdout).toBe("a\nb\n");
    expect(file("/home/user/out.txt")).toBe("a\nb\n");
    await run("echo c > out.txt");
    expect(file("/home/user/out.txt")).toBe("c\n");
  });

  it("redirects stderr, and duplicates fds", async () => {
    await run("status 1 2> err.txt");
    expect(file("/home/user/err.txt")).toBe("status 1\n");
    expect((await run("status 1 2>&1")).stdout).toBe("status 1\n");
    const r = await run("echo to-err >&2");
    expect(r).toMatchObject({ stdout: "", stderr: "to-err\n" });
    await run("{ echo out; status 2; } &> both.txt");
    expect(file("/home/user/both.txt")).toBe("out\nstatus 2\n");
    await run("status 4 > only-out.txt 2>&1");
    expect(file("/home/user/only-out.txt")).toBe("status 4\n");
  });

  it("redirects compound commands and creates files for bare redirections", async () => {
    await run("for i in 1 2; do echo $i; done > loop.txt; > empty.txt");
    expect(file("/home/user/loop.txt")).toBe("1\n2\n");
    expect(file("/home/user/empty.txt")).toBe("");
  });

  it("reports a file that cannot be opened", async () => {
    const r = await run("cat < missing.txt; echo $?");
    expect(r.stdout).toBe("1\n");
    expect(r.stderr).toBe("sh: missing.txt: No such file or directory\n");
  });

  it("feeds heredocs, expanding them unless the delimiter is quoted", async () => {
    expect((await run("cat <<EOF\nhello $USER $((1+1))\nEOF")).stdout).toBe("hello user 2\n");
    expect((await run("cat <<'EOF'\nhello $USER\nEOF")).stdout).toBe("hello $USER\n");
    expect((await run("cat <<-EOF | tr a-z A-Z\n\tindented\n\tEOF\necho after")).stdout).toBe(
      "INDENTED\nafter\n",
    );
  });
});

describe("sh: words and expansions", () => {
  it("keeps quoted text together and splits unquoted expansions", async () => {
    const r = await run(`x='a  b'; args $x "$x" '$x' a\\ b "q\\"uote" ''`);
    expect(r.stdout).toBe('[a][b][a  b][$x][a b][q"uote][]\n');
  });

  it("expands variables, defaults and special parameters", async () => {
    const r = await run('x=5; echo $x ${x} ${y:-def} ${y-unset} ${x:+set} $#; echo "$0"');
    expect(r.stdout).toBe("5 5 def unset set 0\nsh\n");
    expect((await run("echo $$")).stdout).toMatch(/^[0-9]+\n$/);
  });

  it("handles positional parameters and set --", async () => {
    const r = await run('set -- one "two three"; echo $#; args "$@"; args $*; args "$*"; shift; echo $1');
    expect(r.stdout).toBe("2\n[one][two three]\n[one][two][three]\n[one two three]\ntwo three\n");
  });

  it("trims patterns from parameters", async () => {
    const r = await run("f=archive.tar.gz; echo ${f%.*} ${f%%.*} ${f#*.} ${f##*.} ${#f}");
    expect(r.stdout).toBe("archive.tar archive tar.gz gz 14\n");
  });

  it("substitutes command output, stripping trailing newlines", async () => {
    const r = await run('x=$(echo hi; echo there); echo "$x"; echo `echo back` "$(echo "in $(echo deep)")"');
    expect(r.stdout).toBe("hi\nthere\nback in deep\n");
    expect((await run("x=$(status 3 2>/dev/null); echo $?")).stdout).toBe("3\n");
    expect((await run("false; echo $? $(true)")).stdout).toBe("1\n");
  });

  it("evaluates arithmetic", async () => {
    const r = await run("i=3; echo $((i * 2 + 1)) $((10 / 3)) $((10 % 3)) $((i > 2)) $((i += 1)) $i");
    expect(r.stdout).toBe("7 3 1 1 4 4\n");
    const e = await run("echo $((1 / 0))");
    expect(e.exitCode).toBe(1);
    expect(e.stderr).toContain("division by zero");
  });

  it("expands ~ to HOME", async () => {
    expect((await run('args ~ ~/x "~" a~')).stdout).toBe("[/home/user][/home/user/x][~][a~]\n");
  });

  it("globs against the VFS, keeping unmatched patterns", async () => {
    kernel.vfs.writeFile("/home/user/a.txt", "");
    kernel.vfs.writeFile("/home/user/b.txt", "");
    kernel.vfs.writeFile("/home/user/.hidden.txt", "");
    kernel.vfs.mkdir("/home/user/sub");
    kernel.vfs.writeFile("/home/user/sub/c.txt", "");
    const r = await run(
      "args *.txt; args ?.txt [a].txt; args *.none; args '*.txt'; args */*.txt; args /home/user/s*",
    );
    expect(r.stdout).toBe(
      "[a.txt][b.txt]\n[a.txt][b.txt][a.txt]\n[*.none]\n[*.txt]\n[sub/c.txt]\n[/home/user/sub]\n",
    );
  });

  it("passes exported variables to children, and assignments for one command", async () => {
    const r = await run("export FOO=bar; LOCAL=no; ONE=1 env");
    expect(r.stdout).toContain("FOO=bar\n");
    expect(r.stdout).toContain("ONE=1\n");
    expect(r.stdout).not.toContain("LOCAL");
    expect((await run("ONE=1 true; echo ${ONE:-gone}")).stdout).toBe("gone\n");
  });
});

describe("sh: control flow", () => {
  it("runs if/elif/else", async () => {
    const script =
      "for n in 1 2 3; do if [ $n = 1 ]; then echo one; elif [ $n = 2 ]; then echo two; else echo many; fi; done";
    expect((await run(script)).stdout).toBe("one\ntwo\nmany\n");
  });

  it("runs bounded while and until loops", async () => {
    expect((await run("i=0; while [ $i -lt 3 ]; do echo $i; i=$((i+1)); done")).stdout).toBe("0\n1\n2\n");
    expect((await run("i=0; until [ $i -ge 2 ]; do i=$((i+1)); done; echo $i")).stdout).toBe("2\n");
  });

  it("supports break and continue", async () => {
    const r = await run("for i in 1 2 3 4 5; do [ $i = 2 ] && continue; [ $i = 4 ] && break; echo $i; done");
    expect(r.stdout).toBe("1\n3\n");
    const nested = await run(
      "for a in 1 2; do for b in x y; do [ $b = y ] && continue 2; echo $a$b; done; done",
    );
    expect(nested.stdout).toBe("1x\n2x\n");
  });

  it("matches case patterns", async () => {
    const r = await run(
      'for f in a.txt b.md c; do case $f in *.txt|*.text) echo text;; *.md) echo md;; *) echo "other $f";; esac; done',
    );
    expect(r.stdout).toBe("text\nmd\nother c\n");
  });

  it("defines and calls functions with their own positional parameters", async () => {
    const r = await run('greet() { echo "hi $1"; return 3; }; greet you; echo $? $#');
    expect(r.stdout).toBe("hi you\n3 0\n");
  });

  it("restores local variables when a function returns", async () => {
    const r = await run('x=outer; f() { local x=inner y; y=set; echo "$x $y"; }; f; echo "$x ${y:-unset}"');
    expect(r.stdout).toBe("inner set\nouter unset\n");
  });

  it("isolates subshells and pipeline stages", async () => {
    const r = await run("x=1; (x=2; cd /tmp; echo $x $PWD); echo $x $PWD; echo 3 | read x; echo $x");
    expect(r.stdout).toBe("2 /tmp\n1 /home/user\n1\n");
  });

  it("stops at the first failure with set -e, but not in conditions", async () => {
    const r = await run("set -e; false || true; if false; then :; fi; ! true; echo alive; false; echo dead");
    expect(r).toMatchObject({ exitCode: 1, stdout: "alive\n" });
  });

  it("runs background jobs without waiting, and wait waits", async () => {
    const r = await run("sleep 0.05 & echo started; wait $!; echo done $?");
    expect(r.stdout).toBe("started\ndone 0\n");
    const t = performance.now();
    const bg = await run("sleep 5 & echo not waiting");
    expect(bg.stdout).toBe("not waiting\n");
    expect(performance.now() - t).toBeLessThan(2000);
    for (const p of kernel.processes()) if (p.status === "running") kernel.kill(p.pid, "SIGKILL");
  });

  it("reads lines with read", async () => {
    const r = await run('read a b <<EOF\nfirst second third\nEOF\necho "$a|$b"');
    expect(r.stdout).toBe("first|second third\n");
    expect((await run("echo x | { read v; echo got $v; }")).stdout).toBe("got x\n");
  });
});

describe("sh: builtins", () => {
  it("cd changes the shell's directory; cd - and cd go back and home", async () => {
    const r = await run("cd /tmp; pwd; cd -; cd /; cd; pwd; cd /nope");
    expect(r.stdout).toBe("/tmp\n/home/user\n/home/user\n");
    expect(r.stderr).toBe("sh: cd: /nope: No such file or directory\n");
    expect(r.exitCode).toBe(1);
  });

  it("resolves relative paths after cd", async () => {
    await run("cd /tmp && echo data > rel.txt");
    expect(file("/tmp/rel.txt")).toBe("data\n");
  });

  it("type and command -v find builtins, functions and programs", async () => {
    const r = await run("f() { :; }; type cd f echo; command -v cat; command -v nosuch || echo missing");
    expect(r.stdout).toBe("cd is a shell builtin\nf is a function\necho is /bin/echo\n/bin/cat\nmissing\n");
  });

  it("eval, unset and export", async () => {
    const r = await run("eval 'x=$((6*7))'; echo $x; unset x; echo ${x:-unset}; export y=1; export");
    expect(r.stdout).toContain("42\nunset\n");
    expect(r.stdout).toContain("export y='1'");
  });

  it("sh -c passes $0 and positional parameters", async () => {
    expect((await run("sh -c 'echo $0 $1 $#' name a b")).stdout).toBe("name a 2\n");
  });

  it("sh runs a script file, or a script from stdin", async () => {
    kernel.vfs.writeFile("/home/user/s.sh", "echo script $1\nexit 5\n");
    const r = await run("sh s.sh arg");
    expect(r).toMatchObject({ exitCode: 5, stdout: "script arg\n" });
    expect((await run("sh", { stdin: "echo from stdin\n" })).stdout).toBe("from stdin\n");
  });
});

describe("sh: signals", () => {
  it("killing the shell kills its running children", async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort("SIGTERM"), 30);
    const r = await run("sleep 10; echo never", { signal: ac.signal });
    expect(r.exitCode).toBe(143);
    expect(r.stdout).toBe("");
    expect(kernel.processes().filter((p) => p.status === "running")).toEqual([]);
  });

  it("a signal stops a builtin-only loop", async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort("SIGKILL"), 30);
    const r = await run("while true; do :; done", { signal: ac.signal });
    expect(r).toMatchObject({ exitCode: 137, signal: "SIGKILL" });
  });
});
