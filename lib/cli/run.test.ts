/** Argument handling shared by every command: help, version, usage errors and exit codes. */
import type { Command } from "commander";
import { describe, expect, it } from "vitest";
import { VERSION } from "../version.js";
import { EXIT_OK, EXIT_USAGE } from "./io.js";
import { buildProgram } from "./run.js";
import { captureIo, cli } from "./testing/io.js";

function commandPaths(cmd: Command, prefix: string[] = []): string[][] {
  const out: string[][] = [];
  for (const sub of cmd.commands) {
    const p = [...prefix, sub.name()];
    out.push(p, ...commandPaths(sub, p));
  }
  return out;
}

describe("enclave (no command)", () => {
  it("--version prints the package version", async () => {
    for (const flag of ["--version", "-V"]) {
      const r = await cli([flag]);
      expect(r.code).toBe(EXIT_OK);
      expect(r.out.trim()).toBe(VERSION);
    }
  });

  it("--help lists every command and the exit codes", async () => {
    const r = await cli(["--help"]);
    expect(r.code).toBe(EXIT_OK);
    for (const name of ["start", "config", "token", "namespace", "backup", "restore"]) {
      expect(r.out).toMatch(new RegExp(`^  ${name}\\b`, "m"));
    }
    expect(r.out).toContain("Exit codes:");
    expect(r.out).toMatch(/^ {2}0 {2}success/m);
    expect(r.out).toMatch(/^ {2}1 {2}runtime failure/m);
    expect(r.out).toMatch(/^ {2}2 {2}usage or configuration error/m);
  });

  it("no command at all is a usage error (help on stderr, exit 2)", async () => {
    const r = await cli([]);
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.err).toContain("Usage: enclave");
    expect(r.out).toBe("");
  });

  it("an unknown command or option is a usage error, exit 2", async () => {
    const unknown = await cli(["frobnicate"]);
    expect(unknown.code).toBe(EXIT_USAGE);
    expect(unknown.err).toMatch(/unknown command 'frobnicate'/);
    const option = await cli(["--frobnicate"]);
    expect(option.code).toBe(EXIT_USAGE);
    expect(option.err).toMatch(/unknown option '--frobnicate'/);
  });
});

describe("--help on every command", () => {
  const paths = commandPaths(buildProgram(captureIo(), () => undefined)).filter((p) => p.at(-1) !== "help");

  it("covers the commands the brief asks for", () => {
    const names = paths.map((p) => p.join(" "));
    for (const expected of [
      "start",
      "config",
      "config show",
      "config validate",
      "token",
      "token create",
      "token list",
      "token revoke",
      "namespace",
      "namespace create",
      "namespace list",
      "backup",
      "restore",
    ]) {
      expect(names).toContain(expected);
    }
  });

  it.each(paths.map((p) => [p.join(" "), p] as const))("enclave %s --help", async (_name, p) => {
    const r = await cli([...p, "--help"]);
    expect(r.code).toBe(EXIT_OK);
    expect(r.out).toContain(`Usage: enclave ${p.join(" ")}`);
    expect(r.out).toContain("Exit codes:");
    expect(r.err).toBe("");
  });

  it("`enclave help CMD` works too", async () => {
    const r = await cli(["help", "backup"]);
    expect(r.code).toBe(EXIT_OK);
    expect(r.out).toContain("Usage: enclave backup");
  });
});

describe("usage errors exit 2 before anything runs", () => {
  it.each([
    ["an unknown option of a command", ["start", "--prot", "1"], /unknown option '--prot'/],
    ["an excess argument", ["start", "extra"], /too many arguments/],
    ["a port that is not a number", ["start", "--port", "http"], /expected a port number/],
    ["a port out of range", ["start", "--port", "70000"], /expected a port number/],
    ["a missing required argument", ["config", "validate"], /missing required argument 'file'/],
    ["a subcommand group without a subcommand", ["token"], /Usage: enclave token/],
    ["an unknown subcommand", ["token", "mint"], /unknown command 'mint'/],
    ["token create without --kind", ["token", "create", "--namespace", "a"], /--kind <kind>' not specified/],
    [
      "a --kind that is not secret|public",
      ["token", "create", "--kind", "admin"],
      /Allowed choices are secret, public/,
    ],
    [
      "an --expires-at that is not a time",
      ["token", "create", "--kind", "secret", "--expires-at", "soon"],
      /ISO-8601/,
    ],
    [
      "an --expires-at in the past",
      ["token", "create", "--kind", "secret", "--expires-at", "2001-01-01"],
      /in the past/,
    ],
    ["restore without --data", ["restore", "/tmp/x"], /--data <dir>' not specified/],
    ["backup without a directory", ["backup"], /missing required argument 'dir'/],
    ["an option missing its value", ["backup", "x", "--endpoint"], /argument missing/],
  ])("%s", async (_what, argv, message) => {
    const r = await cli(argv, {});
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.err).toMatch(message);
    expect(r.out).toBe("");
  });
});
