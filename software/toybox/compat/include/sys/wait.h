// Stand-in for <sys/wait.h>. Children are started through the host's
// enclave.proc_spawn import (see compat/spawn.c); statuses use the usual
// encoding so toybox's WIFEXITED/WEXITSTATUS logic works unchanged.
#ifndef ENCLAVE_SYS_WAIT_H
#define ENCLAVE_SYS_WAIT_H
#include <sys/types.h>
#include <sys/resource.h>

#define WNOHANG 1
#define WUNTRACED 2

#define WEXITSTATUS(s) (((s) & 0xff00) >> 8)
#define WTERMSIG(s) ((s) & 0x7f)
#define WSTOPSIG(s) WEXITSTATUS(s)
#define WIFEXITED(s) (!WTERMSIG(s))
#define WIFSIGNALED(s) (((s) & 0xffff) - 1U < 0xffu)
#define WIFSTOPPED(s) 0
#define WCOREDUMP(s) 0

pid_t wait(int *status);
pid_t waitpid(pid_t pid, int *status, int options);
pid_t wait4(pid_t pid, int *status, int options, struct rusage *ru);

#endif
