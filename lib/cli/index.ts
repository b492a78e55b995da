/** The `enclave` command as a library: `run(argv, io)` returns the exit code. */
export { run, buildProgram, EXIT_CODES_HELP } from "./run.js";
export {
  EXIT_OK,
  EXIT_FAILURE,
  EXIT_USAGE,
  CliError,
  UsageError,
  type CliIo,
  type SignalSource,
} from "./io.js";
