// The rest of the POSIX surface toybox links against that a WASI preview 1
// guest cannot have: process groups, signal masks, terminals, sockets,
// mount tables, change notification, syslog. Each answers the way a
// restricted Unix process would be answered (ENOTTY, ENOSYS, EPERM, an
// empty table), so toybox takes its ordinary error or fallback path.

#include "toys.h"

// Process identity: the host owns the process tree, we only know ourselves.
pid_t getppid(void) { return 1; }
pid_t getpgrp(void) { return getpid(); }
pid_t getpgid(pid_t pid) { return getpid(); }
pid_t getsid(pid_t pid) { return getpid(); }
pid_t setsid(void) { return errno = EPERM, -1; }
int setpgid(pid_t pid, pid_t pgid) { return errno = EPERM, -1; }

// Scheduling priority is the host's business; report the default.
int nice(int inc)
{
  return inc>0 ? 0 : (inc ? (errno = EPERM, -1) : 0);
}

// Signals: wasi-libc emulates signal()/raise() inside this process; there is
// no mask to block with and nothing arrives from outside.
int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
  void (*prev)(int) = SIG_DFL;

  if (act) {
    if (SIG_ERR == (prev = signal(sig, act->sa_handler))) return -1;
  } else if (old) {
    // Read the handler by setting it back to what it was.
    if (SIG_ERR == (prev = signal(sig, SIG_DFL))) return -1;
    signal(sig, prev);
  }
  if (old) {
    memset(old, 0, sizeof(*old));
    old->sa_handler = prev;
  }

  return 0;
}

int sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
  if (old) memset(old, 0, sizeof(*old));

  return 0;
}

int sigemptyset(sigset_t *set)
{
  memset(set, 0, sizeof(*set));

  return 0;
}

int sigfillset(sigset_t *set)
{
  memset(set, 0xff, sizeof(*set));

  return 0;
}

#define SIGBIT(set, sig) (((unsigned char *)(set))[((sig)-1)/8])
#define SIGMASK(sig) (1<<(((sig)-1)%8))

static int bad_sig(int sig)
{
  return sig<1 || sig>8*sizeof(sigset_t);
}

int sigaddset(sigset_t *set, int sig)
{
  if (bad_sig(sig)) return errno = EINVAL, -1;
  SIGBIT(set, sig) |= SIGMASK(sig);

  return 0;
}

int sigdelset(sigset_t *set, int sig)
{
  if (bad_sig(sig)) return errno = EINVAL, -1;
  SIGBIT(set, sig) &= ~SIGMASK(sig);

  return 0;
}

int sigismember(const sigset_t *set, int sig)
{
  if (bad_sig(sig)) return errno = EINVAL, -1;

  return !!(SIGBIT(set, sig)&SIGMASK(sig));
}

// No timers deliver signals: an alarm never rings.
unsigned alarm(unsigned seconds)
{
  return 0;
}

int pause(void)
{
  return errno = ENOSYS, -1;
}

// setjmp() in compat/include/setjmp.h always returns 0, so a jump back has
// nowhere to land. toybox jumps only from xexit() to turn an error_exit()
// inside WOULD_EXIT() (gzip's inflate/deflate) into a return; the message is
// already out, so finish the exit instead.
_Noreturn void longjmp(jmp_buf env, int val)
{
  fflush(0);
  _exit(toys.exitval ? toys.exitval : 1);
}

_Noreturn void siglongjmp(sigjmp_buf env, int val)
{
  longjmp(env, val);
}

// No raw system calls in wasm.
long syscall(long nr, ...)
{
  return errno = ENOSYS, -1;
}

// The clock is the host's.
int settimeofday(const struct timeval *tv, const void *tz)
{
  return errno = EPERM, -1;
}

// UTC only: wasi-libc has no zone database, so there is nothing to load.
void tzset(void)
{
}

// Terminals: the workspace terminal is the host's, guests see a stream.
char *ttyname(int fd)
{
  return errno = isatty(fd) ? ENOSYS : ENOTTY, (char *)0;
}

int tcgetattr(int fd, struct termios *t) { return errno = ENOTTY, -1; }
int tcsetattr(int fd, int act, const struct termios *t)
{
  return errno = ENOTTY, -1;
}
int tcflush(int fd, int queue) { return errno = ENOTTY, -1; }
int tcdrain(int fd) { return errno = ENOTTY, -1; }
int tcsendbreak(int fd, int dur) { return errno = ENOTTY, -1; }
pid_t tcgetpgrp(int fd) { return errno = ENOTTY, -1; }
int tcsetpgrp(int fd, pid_t pgrp) { return errno = ENOTTY, -1; }
pid_t tcgetsid(int fd) { return errno = ENOTTY, -1; }
speed_t cfgetospeed(const struct termios *t) { return t->__c_ospeed; }
speed_t cfgetispeed(const struct termios *t) { return t->__c_ispeed; }
int cfsetospeed(struct termios *t, speed_t s) { t->__c_ospeed = s; return 0; }
int cfsetispeed(struct termios *t, speed_t s) { t->__c_ispeed = s; return 0; }
int cfsetspeed(struct termios *t, speed_t s)
{
  t->__c_ispeed = t->__c_ospeed = s;

  return 0;
}

void cfmakeraw(struct termios *t)
{
  t->c_iflag &= ~(IGNBRK|BRKINT|PARMRK|ISTRIP|INLCR|IGNCR|ICRNL|IXON);
  t->c_oflag &= ~OPOST;
  t->c_lflag &= ~(ECHO|ECHONL|ICANON|ISIG|IEXTEN);
  t->c_cflag &= ~(CSIZE|PARENB);
  t->c_cflag |= CS8;
  t->c_cc[VMIN] = 1;
  t->c_cc[VTIME] = 0;
}

int openpty(int *amaster, int *aslave, char *name, const struct termios *t,
  const struct winsize *w)
{
  return errno = ENOSYS, -1;
}

int forkpty(int *amaster, char *name, const struct termios *t,
  const struct winsize *w)
{
  return errno = ENOSYS, -1;
}

// Sockets: WASI preview 1 can only use sockets it was handed.
int socket(int d, int t, int p) { return errno = ENOSYS, -1; }
int socketpair(int d, int t, int p, int sv[2]) { return errno = ENOSYS, -1; }
int bind(int fd, const struct sockaddr *a, socklen_t l)
{
  return errno = ENOSYS, -1;
}
int connect(int fd, const struct sockaddr *a, socklen_t l)
{
  return errno = ENOSYS, -1;
}
int listen(int fd, int backlog) { return errno = ENOSYS, -1; }
int setsockopt(int fd, int lvl, int opt, const void *v, socklen_t l)
{
  return errno = ENOSYS, -1;
}
int getsockopt(int fd, int lvl, int opt, void *v, socklen_t *l)
{
  return errno = ENOSYS, -1;
}
int getsockname(int fd, struct sockaddr *a, socklen_t *l)
{
  return errno = ENOSYS, -1;
}
int getpeername(int fd, struct sockaddr *a, socklen_t *l)
{
  return errno = ENOSYS, -1;
}
ssize_t sendto(int fd, const void *b, size_t n, int f,
  const struct sockaddr *a, socklen_t l)
{
  return errno = ENOSYS, -1;
}
ssize_t recvfrom(int fd, void *b, size_t n, int f, struct sockaddr *a,
  socklen_t *l)
{
  return errno = ENOSYS, -1;
}

int getaddrinfo(const char *node, const char *service,
  const struct addrinfo *hints, struct addrinfo **res)
{
  return EAI_FAIL;
}

void freeaddrinfo(struct addrinfo *res)
{
}

const char *gai_strerror(int err)
{
  return "name resolution unavailable";
}

int getnameinfo(const struct sockaddr *sa, socklen_t salen, char *host,
  socklen_t hostlen, char *serv, socklen_t servlen, int flags)
{
  return EAI_FAIL;
}

unsigned if_nametoindex(const char *name)
{
  return 0;
}

char *if_indextoname(unsigned index, char *name)
{
  return errno = ENXIO, (char *)0;
}

// Mounts: the table is the host's and is not visible, so it reads empty.
// The stream is a token that getmntent() never reads from.
static char mount_table;

FILE *setmntent(const char *file, const char *mode)
{
  return (FILE *)&mount_table;
}

struct mntent *getmntent(FILE *fp)
{
  return 0;
}

int endmntent(FILE *fp)
{
  return 1;
}

char *hasmntopt(const struct mntent *m, const char *opt)
{
  return 0;
}

// No change notification: `tail -f` reports it cannot follow.
int inotify_init(void) { return errno = ENOSYS, -1; }
int inotify_init1(int flags) { return errno = ENOSYS, -1; }
int inotify_add_watch(int fd, const char *path, uint32_t mask)
{
  return errno = ENOSYS, -1;
}
int inotify_rm_watch(int fd, int wd) { return errno = ENOSYS, -1; }

// Syslog goes to stderr, the only log a guest has.
static const char *log_ident;

void openlog(const char *ident, int option, int facility)
{
  log_ident = ident;
}

void vsyslog(int priority, const char *fmt, va_list ap)
{
  if (log_ident) fprintf(stderr, "%s: ", log_ident);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
}

void syslog(int priority, const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  vsyslog(priority, fmt, ap);
  va_end(ap);
}

void closelog(void)
{
  log_ident = 0;
}

int setlogmask(int mask)
{
  return 0xff;
}
