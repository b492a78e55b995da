/**
 * One command line run to completion (the workspace's `exec`): `sh -c COMMAND` as a kernel
 * process, stdout and stderr collected (and streamed) through kernel pipes.
 */
import type { FileHandle, KernelApi, ProcessHandle, Signal } from "../kernel/types.js";
import { errnoOf, writeAll } from "./io.js";

export interface RunShellOptions {
  cwd: string;
  env: Record<string, string>;
  stdin?: Uint8Array | string;
  onStdout?: (chunk: string) => void;
  onStderr?: (chunk: string) => void;
  /** Aborting kills the shell (and so its children) with the reason as the signal (default SIGKILL). */
  signal?: AbortSignal;
}

export interface RunShellResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** Set when the shell was killed by a signal. */
  signal?: Signal;
  pid: number;
}

const SIGNALS = new Set<string>(["SIGKILL", "SIGTERM", "SIGINT", "SIGHUP", "SIGPIPE", "SIGXCPU"]);
/** Where to look for the shell when the caller's PATH does not lead to it. */
const SHELL_PATHS = ["/usr/bin/sh", "/bin/sh"];

/**
 * Output of one stream kept by `exec`. It is held in the engine's heap, so `cat /dev/zero` must
 * not be able to fill it: past this the pipe is closed (the writer gets EPIPE, a WASI program
 * SIGPIPE) and the result says what was dropped.
 */
export const MAX_EXEC_OUTPUT_BYTES = 16 * 1024 * 1024;

/** Collects one pipe's output as text until end of file (or until told to stop, or the cap). */
class Collector {
  text = "";
  done = false;
  stopped = false;
  truncated = false;
  private bytes = 0;
  readonly finished: Promise<void>;
  private readonly decoder = new TextDecoder();

  constructor(
    private readonly handle: FileHandle,
    private readonly onChunk: ((chunk: string) => void) | undefined,
  ) {
    this.finished = this.pump().finally(() => (this.done = true));
  }

  private async pump(): Promise<void> {
    const buf = new Uint8Array(65536);
    for (;;) {
      let n: number;
      try {
        const r = this.handle.read(buf);
        n = typeof r === "number" ? r : await r;
      } catch {
        n = 0;
      }
      if (this.stopped || n <= 0) break;
      const room = MAX_EXEC_OUTPUT_BYTES - this.bytes;
      this.bytes += Math.min(n, room);
      this.add(this.decoder.decode(buf.subarray(0, Math.min(n, room)), { stream: true }));
      if (n > room) {
        this.truncated = true;
        this.stop();
        break;
      }
    }
  }

  private add(chunk: string): void {
    if (chunk === "") return;
    this.text += chunk;
    this.onChunk?.(chunk);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.add(this.decoder.decode());
    this.handle.close();
  }
}

function spawnShell(
  kernel: KernelApi,
  command: string,
  options: RunShellOptions,
  stdio: [FileHandle, FileHandle, FileHandle],
): ProcessHandle {
  const spawn = (argv0: string): ProcessHandle =>
    kernel.spawn({ argv: [argv0, "-c", command], env: options.env, cwd: options.cwd, stdio });
  try {
    return spawn("sh");
  } catch (e) {
    if (errnoOf(e) !== "ENOENT") throw e;
    for (const path of SHELL_PATHS) {
      try {
        return spawn(path);
      } catch {
        // Next place.
      }
    }
    throw e;
  }
}

export async function runShellCommand(
  kernel: KernelApi,
  command: string,
  options: RunShellOptions,
): Promise<RunShellResult> {
  const [outR, outW] = kernel.createPipe();
  const [errR, errW] = kernel.createPipe();
  let stdin: FileHandle;
  const input = options.stdin;
  if (input !== undefined && input.length > 0) {
    const [inR, inW] = kernel.createPipe();
    stdin = inR;
    // Fed in the background: input over the pipe's capacity waits for the shell to read it.
    void writeAll(inW, input)
      .catch(() => undefined)
      .finally(() => inW.close());
  } else {
    stdin = kernel.nullHandle();
  }
  let child: ProcessHandle;
  try {
    child = spawnShell(kernel, command, options, [stdin, outW, errW]);
  } catch (e) {
    outR.close();
    errR.close();
    throw e;
  } finally {
    // The child holds its own references now.
    stdin.close();
    outW.close();
    errW.close();
  }
  const stdout = new Collector(outR, options.onStdout);
  const stderr = new Collector(errR, options.onStderr);
  const signal = options.signal;
  const onAbort = (): void => {
    const reason: unknown = signal?.reason;
    try {
      child.kill(typeof reason === "string" && SIGNALS.has(reason) ? (reason as Signal) : "SIGKILL");
    } catch {
      // Already exited.
    }
  };
  if (signal?.aborted) onAbort();
  else signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const status = await child.wait();
    // Normally both pipes are at end of file now. A background job (`cmd &`) may still hold them:
    // then take what has arrived and stop, as the command itself has ended.
    if (!stdout.done || !stderr.done) {
      await Promise.race([
        Promise.all([stdout.finished, stderr.finished]),
        new Promise((resolve) => setImmediate(resolve)),
      ]);
    }
    stdout.stop();
    stderr.stop();
    let errText = stderr.text;
    for (const [name, c] of [["stdout", stdout] as const, ["stderr", stderr] as const]) {
      if (c.truncated) errText += `sh: ${name} past ${MAX_EXEC_OUTPUT_BYTES} bytes was dropped\n`;
    }
    const result: RunShellResult = {
      exitCode: status.exitCode,
      stdout: stdout.text,
      stderr: errText,
      pid: child.pid,
    };
    if (status.signal !== undefined) result.signal = status.signal;
    return result;
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
}
