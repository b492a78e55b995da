// Child processes for toybox under WASI, through the host's "enclave" imports
// (see README.md, "Host imports"). WASI has no fork/exec/wait, so:
//  - exec*() runs the program as a child, waits, and exits with its status
//    (a process that "replaces itself" looks the same from outside);
//  - xpopen_setup() (toybox's one place that forks for xrun/xpopen/find
//    -exec) starts a child with the requested stdin/stdout;
//  - waitpid()/wait()/wait4() collect children from a small table.
// Built as part of toybox's lib/, so it may use toybox's helpers.

#include "toys.h"

__attribute__((import_module("enclave"), import_name("proc_spawn")))
int enclave_proc_spawn(const char *argv, size_t argv_len, const char *env,
  size_t env_len, const char *cwd, size_t cwd_len, int *exit_code);

__attribute__((import_module("enclave"), import_name("proc_spawn_io")))
int enclave_proc_spawn_io(const char *argv, size_t argv_len, const char *env,
  size_t env_len, const char *cwd, size_t cwd_len, int stdin_fd, int stdout_fd,
  int *pid);

__attribute__((import_module("enclave"), import_name("proc_wait")))
int enclave_proc_wait(int pid, int *exit_code);

__attribute__((import_module("enclave"), import_name("fd_pipe")))
int enclave_fd_pipe(int *read_fd, int *write_fd);

// Children already finished (blocking spawns) or still running (spawn_io).
struct child {
  pid_t pid;
  int running, status;
};
static struct child *children;
static int nchildren;

// Pids of blocking spawns are ours to invent: keep them clear of the host's.
static pid_t next_local_pid = 0x40000000;

// Set when the starting directory came from $PWD or the program chdir()ed,
// so getcwd() is worth passing on; otherwise the host's idea of our cwd wins.
static int cwd_known;

// The host starts us with PWD naming our working directory; wasi-libc always
// starts at "/", so move there before main().
__attribute__((constructor)) static void enclave_init_cwd(void)
{
  char *pwd = getenv("PWD");

  if (pwd && *pwd == '/' && !chdir(pwd)) cwd_known = 1;
}

// Pack NUL-terminated strings end to end, as the import ABI wants them.
static char *pack(char *const *list, char *first, size_t *len)
{
  size_t total = 0, n;
  char *buf, *at;
  int i;

  for (i = 0; list && list[i]; i++)
    total += strlen((i || !first) ? list[i] : first)+1;
  at = buf = xmalloc(total ? total : 1);
  for (i = 0; list && list[i]; i++) {
    n = strlen((i || !first) ? list[i] : first)+1;
    memcpy(at, (i || !first) ? list[i] : first, n);
    at += n;
  }
  *len = total;

  return buf;
}

static char *spawn_cwd(size_t *len)
{
  char *cwd = getcwd(0, 0);

  if (cwd && !cwd_known && !strcmp(cwd, "/")) *cwd = 0;
  *len = cwd ? strlen(cwd) : 0;

  return cwd;
}

// Start argv (argv[0] replaced by path when given) with env. With in/out
// both -1 the child inherits our stdio and this blocks until it exits,
// filling *status; otherwise *pid gets a running child. Returns a WASI errno.
static int spawn(char *path, char *const *argv, char *const *env, int in,
  int out, int *pid, int *status)
{
  size_t alen, elen, clen;
  char *a = pack(argv, path, &alen), *e = pack(env, 0, &elen),
       *c = spawn_cwd(&clen);
  int err;

  // Anything we buffered must reach the shared stdout before the child's.
  fflush(0);
  if (in == -1 && out == -1)
    err = enclave_proc_spawn(a, alen, e, elen, c ? c : "", clen, status);
  else err = enclave_proc_spawn_io(a, alen, e, elen, c ? c : "", clen, in,
    out, pid);
  free(a);
  free(e);
  free(c);

  return err;
}

static struct child *add_child(pid_t pid, int running, int status)
{
  struct child *ch;

  children = xrealloc(children, (nchildren+1)*sizeof(*children));
  ch = children+nchildren++;
  ch->pid = pid;
  ch->running = running;
  ch->status = status;

  return ch;
}

// Exit codes become wait statuses (the host reports 128+signal as a code).
static int code_to_status(int code)
{
  return (code&255)<<8;
}

// "Replace" this process: run the program, then leave with its status.
static int exec_and_exit(char *path, char *const argv[], char *const envp[])
{
  int code = 0, err;

  if (!argv || !*argv) return errno = EINVAL, -1;
  err = spawn(path, argv, envp, -1, -1, 0, &code);
  if (err) return errno = err, -1;
  _exit(code);
}

int execve(const char *path, char *const argv[], char *const envp[])
{
  return exec_and_exit((char *)path, argv, envp);
}

int execv(const char *path, char *const argv[])
{
  return exec_and_exit((char *)path, argv, environ);
}

// The host searches PATH for names without a slash.
int execvp(const char *file, char *const argv[])
{
  return exec_and_exit((char *)file, argv, environ);
}

int execvpe(const char *file, char *const argv[], char *const envp[])
{
  return exec_and_exit((char *)file, argv, envp);
}

static int execl_common(const char *path, const char *arg, va_list ap,
  int with_env)
{
  char **argv, **envp = environ;
  int n = 1, i;
  va_list count;

  va_copy(count, ap);
  while (va_arg(count, char *)) n++;
  va_end(count);
  argv = xmalloc((n+1)*sizeof(char *));
  argv[0] = (char *)arg;
  for (i = 1; i<=n; i++) argv[i] = va_arg(ap, char *);
  if (with_env) envp = va_arg(ap, char **);
  exec_and_exit((char *)path, argv, envp);
  free(argv);

  return -1;
}

int execl(const char *path, const char *arg, ...)
{
  va_list ap;
  int rc;

  va_start(ap, arg);
  rc = execl_common(path, arg, ap, 0);
  va_end(ap);

  return rc;
}

int execlp(const char *file, const char *arg, ...)
{
  va_list ap;
  int rc;

  va_start(ap, arg);
  rc = execl_common(file, arg, ap, 0);
  va_end(ap);

  return rc;
}

int execle(const char *path, const char *arg, ...)
{
  va_list ap;
  int rc;

  va_start(ap, arg);
  rc = execl_common(path, arg, ap, 1);
  va_end(ap);

  return rc;
}

// A process cannot be cloned in wasm: callers must use the helpers above.
pid_t fork(void)
{
  return errno = ENOSYS, -1;
}

pid_t vfork(void)
{
  return errno = ENOSYS, -1;
}

int pipe(int fds[2])
{
  int err = enclave_fd_pipe(fds, fds+1);

  return err ? (errno = err, -1) : 0;
}

int pipe2(int fds[2], int flags)
{
  return pipe(fds);
}

// Collect a child: pid -1 means any. Returns its pid, 0 (WNOHANG and none
// finished) or -1 with ECHILD.
static pid_t reap(pid_t pid, int *status, int options)
{
  struct child *ch = 0;
  int i, code, err;

  for (i = 0; i<nchildren; i++) {
    if (pid != -1 && children[i].pid != pid) continue;
    if (!children[i].running) {
      ch = children+i;
      break;
    }
    if (!ch) ch = children+i;
  }
  if (!ch) return errno = ECHILD, -1;
  if (ch->running) {
    if (options&WNOHANG) return 0;
    if ((err = enclave_proc_wait(ch->pid, &code))) return errno = err, -1;
    ch->status = code_to_status(code);
  }
  pid = ch->pid;
  if (status) *status = ch->status;
  *ch = children[--nchildren];

  return pid;
}

pid_t waitpid(pid_t pid, int *status, int options)
{
  return reap(pid, status, options);
}

pid_t wait(int *status)
{
  return reap(-1, status, 0);
}

// The host does not report child CPU time, so the usage is zero.
pid_t wait4(pid_t pid, int *status, int options, struct rusage *ru)
{
  if (ru) memset(ru, 0, sizeof(*ru));

  return reap(pid, status, options);
}

// Only this process can be signalled (wasi-libc emulates raise()); other
// processes belong to the host.
int kill(pid_t pid, int sig)
{
  if (pid == getpid() || !pid) return sig ? raise(sig) : 0;

  return errno = EPERM, -1;
}

int killpg(pid_t pgrp, int sig)
{
  return kill(pgrp ? pgrp : getpid(), sig);
}

// A child that could not be started looks like one that exited 126/127
// after complaining, which is what a forked child's failed exec would do.
static pid_t failed_child(char *name, int err)
{
  errno = err;
  perror_msg("exec %s", name);

  return add_child(next_local_pid++, 0,
    code_to_status(126+(err == ENOENT)))->pid;
}

// toybox's fork point (lib/xwrap.c, compiled out by the patch under WASI).
// pipes: NULL = inherit stdin/stdout; else pipes[i] -1 = make a pipe and
// hand back our end, 0/1 = inherit, other = give the child that fd.
pid_t xpopen_setup(char **argv, int *pipes, void (*callback)(char **argv))
{
  int in = -1, out = -1, mine[2] = {-1, -1}, p[2], code = 0, pid = 0, err;

  // Re-running ourselves mid-command (nommu re-entry) or running code in the
  // child needs a real fork. Only tar gets here, when it must guess the
  // compression of data arriving on a pipe.
  if (!argv || callback)
    error_exit("cannot fork under WASI (tar: pass -z/-j/-J for piped input)");

  if (pipes) {
    if (pipes[0] == -1) {
      xpipe(p);
      in = p[0];
      mine[0] = p[1];
    } else if (pipes[0]) in = pipes[0];
    if (pipes[1] == -1) {
      xpipe(p);
      out = p[1];
      mine[1] = p[0];
    } else if (pipes[1] != 1) out = pipes[1];
  }

  // Without redirection the child can simply run to completion now.
  if (in == -1 && out == -1) {
    if ((err = spawn(0, argv, environ, -1, -1, 0, &code)))
      return failed_child(*argv, err);

    return add_child(next_local_pid++, 0, code_to_status(code))->pid;
  }

  err = spawn(0, argv, environ, in, out, &pid, 0);
  // The child holds its own copies of its ends now.
  if (mine[0] != -1) close(in);
  if (mine[1] != -1) close(out);
  // Our ends stay valid either way: a child that never ran reads as EOF.
  if (mine[0] != -1) pipes[0] = mine[0];
  if (mine[1] != -1) pipes[1] = mine[1];
  if (err) return failed_child(*argv, err);

  return add_child(pid, 1, 0)->pid;
}

// xargs' child: stdin from /dev/null (or the terminal for -o) as in other
// xargs implementations; if the host cannot redirect, inherit ours instead.
pid_t enclave_xargs_spawn(char **argv, int tty)
{
  int fd = open(tty ? "/dev/tty" : "/dev/null", O_RDONLY), pid = 0, code,
      err = ENOSYS;

  if (fd != -1) {
    err = spawn(0, argv, environ, fd, -1, &pid, 0);
    close(fd);
    if (!err) return add_child(pid, 1, 0)->pid;
    if (err != ENOSYS) return failed_child(*argv, err);
  }
  if ((err = spawn(0, argv, environ, -1, -1, 0, &code)))
    return failed_child(*argv, err);

  return add_child(next_local_pid++, 0, code_to_status(code))->pid;
}
