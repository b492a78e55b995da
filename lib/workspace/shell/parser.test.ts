import { describe, expect, it } from "vitest";
import type { Command, SimpleCommand } from "./ast.js";
import { parse, ShellSyntaxError } from "./parser.js";

function first(source: string): Command {
  const item = parse(source).body[0];
  if (!item) throw new Error("empty script");
  return item.andOr.first.commands[0]!;
}

function simple(source: string): SimpleCommand {
  const cmd = first(source);
  if (cmd.kind !== "simple") throw new Error(`not a simple command: ${cmd.kind}`);
  return cmd;
}

function syntaxError(source: string, options = {}): ShellSyntaxError {
  try {
    parse(source, options);
  } catch (e) {
    if (e instanceof ShellSyntaxError) return e;
    throw e;
  }
  throw new Error(`parsed: ${source}`);
}

describe("parser", () => {
  it("keeps quoting in word parts", () => {
    const cmd = simple(`echo a'b c'"d $x"\\e`);
    expect(cmd.words[1]!.parts).toEqual([
      { kind: "lit", value: "a" },
      { kind: "sq", value: "b c" },
      {
        kind: "dq",
        parts: [
          { kind: "lit", value: "d " },
          { kind: "param", name: "x" },
        ],
      },
      { kind: "sq", value: "e" },
    ]);
  });

  it("parses assignments, redirections and io numbers", () => {
    const cmd = simple("A=1 B=two cmd arg 2>&1 >out <in 3>>log");
    expect(cmd.assigns.map((a) => a.name)).toEqual(["A", "B"]);
    expect(cmd.words.map((w) => w.text)).toEqual(["cmd", "arg"]);
    expect(cmd.redirects.map((r) => [r.fd, r.op, r.target.text])).toEqual([
      [2, ">&", "1"],
      [undefined, ">", "out"],
      [undefined, "<", "in"],
      [3, ">>", "log"],
    ]);
  });

  it("parses lists, and-or chains, negation and background", () => {
    const script = parse("a && b || ! c | d; e &\nf");
    expect(script.body).toHaveLength(3);
    const [x, y] = script.body;
    expect(x!.andOr.rest.map((r) => r.op)).toEqual(["&&", "||"]);
    expect(x!.andOr.rest[1]!.pipeline.negated).toBe(true);
    expect(x!.andOr.rest[1]!.pipeline.commands).toHaveLength(2);
    expect(y!.background).toBe(true);
  });

  it("parses parameter expansions", () => {
    const parts = simple("echo ${x:-def} ${#y} ${z%%.*} $? $1 ${10} $@")
      .words.slice(1)
      .map((w) => w.parts[0]);
    expect(parts[0]).toMatchObject({ kind: "param", name: "x", op: "-", colon: true });
    expect(parts[1]).toMatchObject({ kind: "param", name: "y", length: true });
    expect(parts[2]).toMatchObject({ kind: "param", name: "z", op: "%%" });
    expect(parts.slice(3).map((p) => (p?.kind === "param" ? p.name : "?"))).toEqual(["?", "1", "10", "@"]);
  });

  it("parses command substitutions, backticks and arithmetic", () => {
    const [, a, b, c] = simple("echo $(cat f | wc) `date` $((1 + $x))").words;
    expect(a!.parts[0]).toMatchObject({ kind: "cmd" });
    expect(b!.parts[0]).toMatchObject({ kind: "cmd" });
    expect(c!.parts[0]).toMatchObject({ kind: "arith", expr: { text: "1 + $x" } });
  });

  it("parses compound commands", () => {
    expect(first("if a; then b; elif c; then d; else e; fi")).toMatchObject({ kind: "if" });
    expect(first("for x in 1 2; do echo $x; done")).toMatchObject({ kind: "for", name: "x" });
    expect(first("while a; do b; done")).toMatchObject({ kind: "loop", until: false });
    expect(first("until a; do b; done")).toMatchObject({ kind: "loop", until: true });
    expect(first("case $x in a|b) one;; (*) two;; esac")).toMatchObject({ kind: "case" });
    expect(first("{ a; b; } > f")).toMatchObject({ kind: "group", redirects: [{ op: ">" }] });
    expect(first("(a; b)")).toMatchObject({ kind: "subshell" });
    expect(first("f() { echo hi; }")).toMatchObject({ kind: "function", name: "f" });
  });

  it("reads heredoc bodies after the line, quoted or not", () => {
    const cmd = simple("cat <<EOF\nhello $USER\nEOF\n");
    expect(cmd.redirects[0]!.body!.parts[0]).toMatchObject({ kind: "dq" });
    const quoted = simple("cat <<'EOF'\nhello $USER\nEOF\n");
    expect(quoted.redirects[0]!.body!.parts).toEqual([{ kind: "sq", value: "hello $USER\n" }]);
    const stripped = simple("cat <<-EOF\n\tindented\n\tEOF\n");
    expect(stripped.redirects[0]!.body!.text).toBe("indented\n");
  });

  it("skips comments and line continuations", () => {
    const script = parse("# a comment\necho a \\\n b # trailing\n");
    expect(script.body).toHaveLength(1);
    expect(simple("echo a \\\n b").words.map((w) => w.text)).toEqual(["echo", "a", "b"]);
  });

  it("reports syntax errors with a position", () => {
    const e = syntaxError("echo hi; fi");
    expect(e.message).toBe("syntax error: unexpected 'fi' at 1:10");
    expect(e.incomplete).toBe(false);
    expect(syntaxError("a |\n| b").message).toBe("syntax error: unexpected '|' at 2:1");
    expect(syntaxError("echo )").message).toBe("syntax error: unexpected ')' at 1:6");
  });

  it("marks input that more lines could complete", () => {
    expect(syntaxError("if true; then").incomplete).toBe(true);
    expect(syntaxError("echo 'abc").incomplete).toBe(true);
    expect(syntaxError("echo $(ls").incomplete).toBe(true);
    expect(syntaxError("cat <<EOF\nbody\n", { interactive: true }).incomplete).toBe(true);
    // A script (not interactive) ends an unterminated heredoc at the end of input.
    expect(simple("cat <<EOF\nbody\n").redirects[0]!.body!.text).toBe("body\n");
  });
});
