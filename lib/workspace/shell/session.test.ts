import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Kernel } from "../kernel/kernel.js";
import { ShellSession } from "./session.js";
import { TEST_ENV, testKernel } from "./test-kernel.js";

const PROMPT = "user@workspace:/home/user$ ";

let kernel: Kernel;
let session: ShellSession;
let screen: string;

/** The output with cursor-movement and erase sequences dropped. */
function plain(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9]*[A-Za-z]/g, "");
}

async function waitFor(predicate: (out: string) => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 3000;
  while (!predicate(screen)) {
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}; screen: ${JSON.stringify(screen)}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Waits until the screen ends with a fresh prompt, `count` prompts in all. */
function prompts(count: number): Promise<void> {
  return waitFor((s) => s.split(PROMPT).length - 1 >= count && s.endsWith(PROMPT), `${count} prompts`);
}

beforeEach(async () => {
  kernel = testKernel();
  screen = "";
  session = new ShellSession(kernel, { cwd: "/home/user", env: TEST_ENV, cols: 80, rows: 24 });
  session.onData((d) => (screen += d));
  await prompts(1);
});

afterEach(() => {
  session.close();
});

describe("ShellSession", () => {
  it("shows a prompt, echoes typing and runs the line", async () => {
    expect(screen).toBe(PROMPT);
    session.write("echo hi\r");
    await prompts(2);
    expect(screen).toBe(`${PROMPT}echo hi\r\nhi\r\n${PROMPT}`);
  });

  it("runs the shell as a kernel process with the terminal as its stdio", () => {
    const info = kernel.processes().find((p) => p.pid === session.pid)!;
    expect(info).toMatchObject({ argv: ["sh", "-i"], status: "running", cwd: "/home/user" });
  });

  it("edits the line: backspace, Ctrl-U, arrows", async () => {
    session.write("echo helo\x7f\x7flo\r");
    await prompts(2);
    expect(plain(screen)).toContain("\r\nhelo\r\n");
    session.write("garbage\x15echo fresh\r");
    await prompts(3);
    expect(plain(screen)).toContain("\r\nfresh\r\n");
    // Two lefts, insert X: "echo abc" becomes "echo aXbc".
    session.write("echo abc\x1b[D\x1b[DX\r");
    await prompts(4);
    expect(plain(screen)).toContain("\r\naXbc\r\n");
  });

  it("walks history with up and down", async () => {
    session.write("echo first\r");
    await prompts(2);
    session.write("echo second\r");
    await prompts(3);
    session.write("\x1b[A\x1b[A\x1b[B\r");
    await prompts(4);
    expect(screen.endsWith(`second\r\n${PROMPT}`)).toBe(true);
    session.write("\x1b[A\x1b[A\r");
    await prompts(5);
    expect(screen.endsWith(`first\r\n${PROMPT}`)).toBe(true);
  });

  it("Ctrl-C cancels the line being typed", async () => {
    session.write("echo never\x03");
    await prompts(2);
    expect(screen).toBe(`${PROMPT}echo never^C\r\n${PROMPT}`);
    session.write("echo $?\r");
    await prompts(3);
  });

  it("Ctrl-C interrupts the foreground command with SIGINT", async () => {
    session.write("sleep 10; echo not-reached\r");
    await waitFor(
      () => kernel.processes().some((p) => p.argv[0] === "sleep" && p.status === "running"),
      "sleep",
    );
    session.write("\x03");
    await prompts(2);
    expect(screen).not.toContain("\r\nnot-reached\r\n");
    session.write("echo status=$?\r");
    await prompts(3);
    expect(screen).toContain("status=130\r\n");
    expect(session.running).toBe(true);
  });

  it("Ctrl-C stops a loop of builtins", async () => {
    session.write("while true; do :; done\r");
    await new Promise((r) => setTimeout(r, 30));
    session.write("\x03");
    await prompts(2);
  });

  it("delivers lines typed while a command runs to its stdin, Ctrl-D ends them", async () => {
    session.write("tr a-z A-Z\r");
    await waitFor(() => kernel.processes().some((p) => p.argv[0] === "tr" && p.status === "running"), "tr");
    session.write("typed line\r");
    session.write("\x04");
    await prompts(2);
    expect(screen).toContain("typed line\r\nTYPED LINE\r\n");
  });

  it("prompts for continuation lines", async () => {
    session.write("for i in 1 2\r");
    await waitFor((s) => s.endsWith("> "), "PS2");
    session.write("do echo n$i; done\r");
    await prompts(2);
    expect(screen).toContain("n1\r\nn2\r\n");
  });

  it("keeps the cwd across commands and shows it in the prompt", async () => {
    session.write("cd /tmp\r");
    await waitFor((s) => s.endsWith("user@workspace:/tmp$ "), "prompt in /tmp");
    expect(kernel.processes().find((p) => p.pid === session.pid)!.cwd).toBe("/tmp");
  });

  it("exits on Ctrl-D at an empty line, and on exit", async () => {
    const codes: number[] = [];
    session.onExit((c) => codes.push(c));
    session.write("\x04");
    expect(await session.exited).toBe(0);
    expect(screen.endsWith("exit\r\n")).toBe(true);
    expect(codes).toEqual([0]);

    const other = new ShellSession(kernel, { cwd: "/home/user", env: TEST_ENV });
    other.write("exit 7\r");
    expect(await other.exited).toBe(7);
  });

  it("close() ends the shell and its children", async () => {
    session.write("sleep 10\r");
    await waitFor(
      () => kernel.processes().some((p) => p.argv[0] === "sleep" && p.status === "running"),
      "sleep",
    );
    session.close();
    expect(await session.exited).toBe(129);
    await waitFor(() => kernel.processes().every((p) => p.status === "exited"), "all exited");
  });
});
