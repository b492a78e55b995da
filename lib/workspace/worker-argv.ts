/**
 * Node flags for the workspaces' eval'd worker threads. A worker inherits the process's
 * execArgv, and `--input-type=module` (e.g. `node --input-type=module -e ...` embedding the
 * engine) would make Node read the workers' CommonJS source as an ES module and fail.
 */
export function evalWorkerExecArgv(argv: readonly string[] = process.execArgv): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--input-type") {
      i++; // and its value
      continue;
    }
    if (a.startsWith("--input-type=")) continue;
    out.push(a);
  }
  return out;
}
