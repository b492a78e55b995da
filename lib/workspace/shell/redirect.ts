/**
 * Redirections (`<`, `>`, `>>`, `2>&1`, `&>`, heredocs ...) applied to a command's view of its
 * fds. Files open through the kernel VFS relative to the shell's cwd.
 */
import type { FileHandle, KernelApi, OpenOptions } from "../kernel/types.js";
import type { Redirect } from "./ast.js";
import { type ExpandContext, expandString } from "./expand.js";
import { errorMessage, writeAll } from "./io.js";

/** fds 0..9 as a command sees them (undefined: closed). */
export type Io = (FileHandle | undefined)[];

/** What redirections need of the shell. */
export interface RedirectHost {
  readonly kernel: KernelApi;
  resolvePath(path: string): string;
}

/**
 * Applies redirections to a copy of `io`. Returns the new fds and the handles opened for them
 * (the caller closes them after the command), or the error message.
 */
export function applyRedirections(
  shell: RedirectHost,
  redirects: readonly Redirect[],
  io: Io,
  ctx: ExpandContext,
): { io: Io; opened: FileHandle[] } | { error: string } {
  const out = [...io];
  const opened: FileHandle[] = [];
  const fail = (error: string): { error: string } => {
    for (const h of opened) h.close();
    return { error };
  };
  for (const r of redirects) {
    let target: string;
    try {
      target = r.op === "<<" || r.op === "<<-" ? "" : expandString(r.target, ctx);
    } catch (e) {
      return fail(errorMessage(e));
    }
    const op = r.op;
    if (op === "<<" || op === "<<-") {
      const [rd, wr] = shell.kernel.createPipe();
      let body: string;
      try {
        body = r.body ? expandString(r.body, ctx) : "";
      } catch (e) {
        rd.close();
        wr.close();
        return fail(errorMessage(e));
      }
      // Written in the background: a body over the pipe's capacity waits for the reader.
      void writeAll(wr, body)
        .catch(() => undefined)
        .finally(() => wr.close());
      out[r.fd ?? 0] = rd;
      opened.push(rd);
      continue;
    }
    if (op === "<&" || op === ">&") {
      const fd = r.fd ?? (op === "<&" ? 0 : 1);
      if (target === "-") {
        out[fd] = undefined;
        continue;
      }
      if (/^[0-9]+$/.test(target)) {
        const src = out[Number(target)];
        if (!src) return fail(`${target}: Bad file descriptor`);
        out[fd] = src;
        continue;
      }
      if (op === "<&" || r.fd !== undefined) return fail(`${target}: ambiguous redirect`);
      // `>&file` is `&>file`.
    }
    const options: OpenOptions =
      op === "<"
        ? { read: true }
        : op === "<>"
          ? { read: true, write: true, create: true }
          : op === ">>" || op === "&>>"
            ? { write: true, create: true, append: true }
            : { write: true, create: true, truncate: true };
    let handle: FileHandle;
    try {
      handle = openFile(shell, target, options, out);
    } catch (e) {
      return fail(`${target}: ${errorMessage(e)}`);
    }
    opened.push(handle);
    if (op === "&>" || op === "&>>" || op === ">&") {
      out[1] = handle;
      out[2] = handle;
    } else {
      out[r.fd ?? (op === "<" || op === "<>" ? 0 : 1)] = handle;
    }
  }
  return { io: out, opened };
}

/** /dev/stdin, /dev/stdout, /dev/stderr and /dev/fd/N name the command's own fds. */
function openFile(shell: RedirectHost, target: string, options: OpenOptions, io: Io): FileHandle {
  const dev = /^\/dev\/(stdin|stdout|stderr|fd\/([0-9]+))$/.exec(target);
  if (dev) {
    const fd = dev[1] === "stdin" ? 0 : dev[1] === "stdout" ? 1 : dev[1] === "stderr" ? 2 : Number(dev[2]);
    const h = io[fd];
    if (h) return h.ref();
  }
  const path = shell.resolvePath(target);
  // The shell is a guest program too: its redirections obey the workspace's filesystem rules.
  const guard = shell.kernel.guestFilesystem;
  if (guard) {
    const follow = options.noFollow !== true;
    if (options.read !== false && !options.write) guard.check(path, "read", "open", { follow });
    if (options.write || options.create || options.truncate || options.append) {
      guard.check(path, "write", "open", { follow });
      if (options.read) guard.check(path, "read", "open", { follow });
    }
  }
  return shell.kernel.vfs.open(path, options);
}
