/**
 * Node flags for the workspaces' eval'd worker threads. A worker inherits the process's
 * execArgv, and `--input-type=module` (e.g. `node --input-type=module -e ...` embedding the
 * engine) would make Node read the workers' CommonJS source as an ES module and fail. Then the
 * workers get no flags at all: their source is plain JavaScript that needs no loader, and an
 * explicit list may not hold process-wide flags (`--expose-gc` throws ERR_WORKER_INVALID_EXEC_ARGV),
 * which apply to every thread anyway. Otherwise `undefined`: Node's own inheritance.
 */
export function evalWorkerExecArgv(argv: readonly string[] = process.execArgv): string[] | undefined {
  return argv.some((a) => a === "--input-type" || a.startsWith("--input-type=")) ? [] : undefined;
}
