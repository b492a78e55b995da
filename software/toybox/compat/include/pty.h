// Stand-in for <pty.h>: no pseudo-terminals in a WASI guest.
#ifndef ENCLAVE_PTY_H
#define ENCLAVE_PTY_H
#include <termios.h>
int openpty(int *amaster, int *aslave, char *name, const struct termios *t,
  const struct winsize *w);
int forkpty(int *amaster, char *name, const struct termios *t,
  const struct winsize *w);
#endif
