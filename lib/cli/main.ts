#!/usr/bin/env node
/**
 * The `enclave` bin. Runs one command and exits with its code at once: after a second signal or
 * a passed shutdown deadline nothing else must be waited for.
 */
import { run } from "./run.js";

const code = await run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
});
process.exit(code);
