/**
 * The `enclave` command: `run(argv, io)` parses the arguments with commander, runs one command
 * and returns its exit code. It never exits the process (main.ts does), so tests call it
 * in-process.
 */
import { Command, CommanderError } from "commander";
import { VERSION } from "../version.js";
import { registerBackup } from "./commands/backup.js";
import { registerConfig } from "./commands/config.js";
import { registerConformance } from "./commands/conformance.js";
import { registerNamespace } from "./commands/namespace.js";
import { registerRestore } from "./commands/restore.js";
import { registerStart } from "./commands/start.js";
import { registerToken } from "./commands/token.js";
import { CliError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, line, type CliIo } from "./io.js";

export const EXIT_CODES_HELP = [
  "",
  "Exit codes:",
  "  0  success",
  "  1  runtime failure: engine unreachable or refused the request, data",
  "     directory in use, damaged backup, shutdown deadline or second signal",
  "  2  usage or configuration error: unknown command or option, bad value,",
  "     invalid configuration, refused target (e.g. a non-empty directory)",
].join("\n");

export function buildProgram(io: CliIo, done: (code: number) => void): Command {
  const program = new Command("enclave");
  program
    .description("Enclave: an embeddable actor engine for private networks")
    .version(VERSION, "-V, --version", "print the version")
    .helpOption("-h, --help", "show help")
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, write) => write(s),
    })
    .showHelpAfterError("(run with --help for usage)")
    .addHelpText("afterAll", EXIT_CODES_HELP);

  registerStart(program, io, done);
  registerConfig(program, io);
  registerToken(program, io);
  registerNamespace(program, io);
  registerBackup(program, io);
  registerRestore(program, io);
  registerConformance(program, io, done);
  return program;
}

/** Runs `enclave ARGV...` (arguments only, without node and the script) and returns the exit code. */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  let code = EXIT_OK;
  const program = buildProgram(io, (c) => (code = c));
  try {
    await program.parseAsync([...argv], { from: "user" });
    return code;
  } catch (e) {
    return report(e, io);
  }
}

function report(e: unknown, io: CliIo): number {
  if (e instanceof CommanderError) {
    // Commander has printed its message (or the help) already.
    if (e.code === "commander.helpDisplayed" || e.code === "commander.version") return EXIT_OK;
    if (e.code === "commander.help") return e.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    return EXIT_USAGE;
  }
  if (e instanceof CliError) {
    line(io.stderr, `enclave: ${e.message}`);
    for (const detail of e.details) line(io.stderr, detail);
    return e.exitCode;
  }
  // A bug or an unexpected failure: the message, and the stack for a bug report.
  const error = e instanceof Error ? e : new Error(String(e));
  line(io.stderr, `enclave: unexpected error: ${error.message}`);
  if (error.stack) line(io.stderr, error.stack);
  return EXIT_FAILURE;
}
