// File calls WASI preview 1 lacks or answers only in part, built on what it
// has. Permission bits and owners are not part of WASI's file model: stat()
// reports conventional modes and the workspace user, chmod()/chown() check
// the file exists and otherwise have no effect, and access(X_OK) looks at
// the file's first bytes the way the workspace kernel decides what can run.

#include "toys.h"
#include <wasi/api.h>

// The real wasi-libc calls, reached through the linker's --wrap.
int __real_stat(const char *, struct stat *);
int __real_lstat(const char *, struct stat *);
int __real_fstat(int, struct stat *);
int __real_fstatat(int, const char *, struct stat *, int);
int __real_close(int);
int __real_open(const char *, int, ...);
int __real_openat(int, const char *, int, ...);

static mode_t cur_umask = 022;

// toybox assumes O_RDONLY is 0 (true on Linux) and opens for reading with
// bare flags like O_CLOEXEC; wasi-libc's O_RDONLY is a bit of its own and
// an open without an access mode fails with EINVAL. Supply the missing
// read mode. O_PATH/O_NOATIME from lib/portability.h mean nothing here.
static int open_flags(int flags)
{
  flags &= ~(O_PATH|O_NOATIME);
  if (!(flags&O_ACCMODE)) flags |= O_RDONLY;

  return flags;
}

// Paths of open descriptors, so fchdir() can become chdir(): wasi-libc keeps
// the working directory as a path, and a WASI descriptor cannot name its
// own. Built from the arguments of each open (no extra host calls).
#define MAX_TRACKED 1024
static char *fd_paths[MAX_TRACKED];

// Join dir and path, dropping "." and resolving ".." textually (the
// directories were just opened through these names).
static char *join_path(const char *dir, const char *path)
{
  char *out = xmprintf("%s/%s", dir, path), *r = out, *w = out;

  while (*r) {
    if (*r == '/') {
      while (*r == '/') r++;
      if (w == out || w[-1] != '/') *w++ = '/';
      continue;
    }
    if (r[0] == '.' && (!r[1] || r[1] == '/')) {
      r++;
      continue;
    }
    if (r[0] == '.' && r[1] == '.' && (!r[2] || r[2] == '/')) {
      r += 2;
      if (w>out+1) for (w--; w>out+1 && w[-1] != '/'; w--);
      continue;
    }
    while (*r && *r != '/') *w++ = *r++;
  }
  if (w>out+1 && w[-1] == '/') w--;
  *w = 0;

  return out;
}

static int track(int dirfd, const char *path, int fd)
{
  char *base = 0, *cwd = 0;

  if (fd<0 || fd>=MAX_TRACKED) return fd;
  free(fd_paths[fd]);
  fd_paths[fd] = 0;
  if (*path == '/') base = "/";
  else if (dirfd == AT_FDCWD) base = cwd = getcwd(0, 0);
  else if (dirfd>=0 && dirfd<MAX_TRACKED) base = fd_paths[dirfd];
  if (base) fd_paths[fd] = join_path(base, path);
  free(cwd);

  return fd;
}

int __wrap_open(const char *path, int flags, ...)
{
  va_list ap;
  mode_t mode;

  va_start(ap, flags);
  mode = (flags&O_CREAT) ? va_arg(ap, mode_t) : 0;
  va_end(ap);

  return track(AT_FDCWD, path, __real_open(path, open_flags(flags), mode));
}

int __wrap_openat(int dirfd, const char *path, int flags, ...)
{
  va_list ap;
  mode_t mode;

  va_start(ap, flags);
  mode = (flags&O_CREAT) ? va_arg(ap, mode_t) : 0;
  va_end(ap);

  return track(dirfd, path,
    __real_openat(dirfd, path, open_flags(flags), mode));
}

// Fill in what WASI leaves out: rwx bits by file type, owner "user".
static int fixup(int rc, struct stat *st)
{
  if (rc) return rc;
  if (!(st->st_mode&07777)) {
    if (S_ISDIR(st->st_mode) || S_ISLNK(st->st_mode)) st->st_mode |= 0777;
    else if (S_ISCHR(st->st_mode)) st->st_mode |= 0666;
    else st->st_mode |= 0666;
    if (!S_ISLNK(st->st_mode)) st->st_mode &= ~cur_umask;
  }
  st->st_uid = ENCLAVE_UID;
  st->st_gid = ENCLAVE_GID;
  // Nor does it count blocks; du and ls -s want the usual 512-byte units.
  if (!st->st_blocks && S_ISREG(st->st_mode))
    st->st_blocks = (st->st_size+511)/512;

  return rc;
}

int __wrap_stat(const char *path, struct stat *st)
{
  return fixup(__real_stat(path, st), st);
}

int __wrap_lstat(const char *path, struct stat *st)
{
  return fixup(__real_lstat(path, st), st);
}

int __wrap_fstat(int fd, struct stat *st)
{
  return fixup(__real_fstat(fd, st), st);
}

int __wrap_fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
  return fixup(__real_fstatat(dirfd, path, st, flags), st);
}

// Executable means a directory, a wasm module or a #! script, as for the
// kernel's exec (files have no x bit to consult).
static int runnable(int dirfd, const char *path)
{
  struct stat st;
  char head[4];
  int fd, len;

  if (__real_fstatat(dirfd, path, &st, 0)) return -1;
  if (S_ISDIR(st.st_mode)) return 0;
  if (!S_ISREG(st.st_mode)) return errno = EACCES, -1;
  if (-1 == (fd = openat(dirfd, path, O_RDONLY))) return -1;
  len = read(fd, head, 4);
  __real_close(fd);
  if ((len == 4 && !memcmp(head, "\0asm", 4)) || (len>=2 && !memcmp(head, "#!", 2)))
    return 0;

  return errno = EACCES, -1;
}

int __wrap_faccessat(int dirfd, const char *path, int mode, int flags)
{
  struct stat st;

  if (mode&X_OK) return runnable(dirfd, path);

  return __real_fstatat(dirfd, path, &st, 0);
}

int __wrap_access(const char *path, int mode)
{
  return __wrap_faccessat(AT_FDCWD, path, mode, 0);
}

mode_t umask(mode_t mask)
{
  mode_t old = cur_umask;

  cur_umask = mask&0777;

  return old;
}

// Modes and owners: nothing to store them in, so succeed if the file exists.
static int exists_at(int dirfd, const char *path, int flags)
{
  struct stat st;

  return __real_fstatat(dirfd, path, &st, flags);
}

int chmod(const char *path, mode_t mode)
{
  return exists_at(AT_FDCWD, path, 0);
}

int lchmod(const char *path, mode_t mode)
{
  return exists_at(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW);
}

int fchmodat(int dirfd, const char *path, mode_t mode, int flags)
{
  return exists_at(dirfd, path, flags);
}

int fchmod(int fd, mode_t mode)
{
  struct stat st;

  return __real_fstat(fd, &st);
}

// Giving a file to the workspace user (or leaving it alone) is a no-op; no
// other owner exists to give it to.
static int owner_ok(uid_t uid, gid_t gid)
{
  if ((uid == -1 || uid == ENCLAVE_UID) && (gid == -1 || gid == ENCLAVE_GID))
    return 0;

  return errno = EPERM, -1;
}

int chown(const char *path, uid_t uid, gid_t gid)
{
  return exists_at(AT_FDCWD, path, 0) || owner_ok(uid, gid);
}

int lchown(const char *path, uid_t uid, gid_t gid)
{
  return exists_at(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW) || owner_ok(uid, gid);
}

int fchownat(int dirfd, const char *path, uid_t uid, gid_t gid, int flags)
{
  return exists_at(dirfd, path, flags) || owner_ok(uid, gid);
}

int fchown(int fd, uid_t uid, gid_t gid)
{
  struct stat st;

  return __real_fstat(fd, &st) || owner_ok(uid, gid);
}

// Special files cannot be created through WASI.
int mknodat(int dirfd, const char *path, mode_t mode, dev_t dev)
{
  return errno = EPERM, -1;
}

int mknod(const char *path, mode_t mode, dev_t dev)
{
  return mknodat(AT_FDCWD, path, mode, dev);
}

int mkfifoat(int dirfd, const char *path, mode_t mode)
{
  return errno = ENOSYS, -1;
}

int mkfifo(const char *path, mode_t mode)
{
  return mkfifoat(AT_FDCWD, path, mode);
}

int chroot(const char *path)
{
  return errno = EPERM, -1;
}

// Every write the workspace kernel accepts is already as durable as it gets.
void sync(void)
{
}

// Temporary names: every trailing X replaced from WASI's random source (as
// BSD and bionic do; toybox's mktemp uses ten), retried on collision.
static int fill_template(char *tmpl)
{
  static const char set[] =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  size_t len = strlen(tmpl), n = 0;
  unsigned char rnd[64];

  while (n<len && n<sizeof(rnd) && tmpl[len-1-n] == 'X') n++;
  if (n<3) return errno = EINVAL, -1;
  if (getentropy(rnd, n)) return -1;
  while (n--) tmpl[len-1-n] = set[rnd[n]%(sizeof(set)-1)];

  return 0;
}

// Put the X's back so a retry draws a fresh name.
static void reset_template(char *tmpl, size_t xs)
{
  memset(tmpl+strlen(tmpl)-xs, 'X', xs);
}

static size_t count_xs(char *tmpl)
{
  size_t len = strlen(tmpl), n = 0;

  while (n<len && n<64 && tmpl[len-1-n] == 'X') n++;

  return n;
}

int mkostemp(char *tmpl, int flags)
{
  size_t xs = count_xs(tmpl);
  int tries, fd;

  for (tries = 0; tries<100; tries++) {
    if (fill_template(tmpl)) return -1;
    fd = open(tmpl, O_RDWR|O_CREAT|O_EXCL|(flags&~O_ACCMODE), 0600);
    if (fd != -1 || errno != EEXIST) return fd;
    reset_template(tmpl, xs);
  }

  return errno = EEXIST, -1;
}

int mkstemp(char *tmpl)
{
  return mkostemp(tmpl, 0);
}

char *mkdtemp(char *tmpl)
{
  size_t xs = count_xs(tmpl);
  int tries;

  for (tries = 0; tries<100; tries++) {
    if (fill_template(tmpl)) return 0;
    if (!mkdir(tmpl, 0700)) return tmpl;
    if (errno != EEXIST) return 0;
    reset_template(tmpl, xs);
  }

  return errno = EEXIST, (char *)0;
}

// WASI has no dup. A directory can be opened again through itself; any
// other descriptor is shared under the same number, with close() counting
// references (offsets are shared by a real dup too).
static unsigned char extra_refs[1024];

int dup(int fd)
{
  struct stat st;
  int nfd;

  if (__real_fstat(fd, &st)) return -1;
  if (S_ISDIR(st.st_mode)) {
    nfd = __wrap_openat(fd, ".", O_RDONLY|O_DIRECTORY);
    if (nfd != -1 || errno != ENOTCAPABLE) return nfd;
  }
  if (fd<0 || fd>=sizeof(extra_refs) || extra_refs[fd] == 255)
    return errno = EMFILE, -1;
  extra_refs[fd]++;

  return fd;
}

int __wrap_close(int fd)
{
  if (fd>=0 && fd<sizeof(extra_refs) && extra_refs[fd]) {
    extra_refs[fd]--;
    return 0;
  }
  if (fd>=0 && fd<MAX_TRACKED) {
    free(fd_paths[fd]);
    fd_paths[fd] = 0;
  }

  return __real_close(fd);
}

// Only a directory can be duplicated onto a chosen number: open it again
// and move the new descriptor there.
int dup3(int old, int new, int flags)
{
  struct stat st;
  int fd, err;

  if (old == new) return flags ? (errno = EINVAL, -1) : new;
  if (__real_fstat(old, &st)) return -1;
  if (!S_ISDIR(st.st_mode)) return errno = ENOSYS, -1;
  if (-1 == (fd = __wrap_openat(old, ".", O_RDONLY|O_DIRECTORY))) return -1;
  if ((err = __wasi_fd_renumber(fd, new))) {
    __wrap_close(fd);
    return errno = err, -1;
  }
  if (new>=0 && new<MAX_TRACKED) {
    free(fd_paths[new]);
    fd_paths[new] = fd<MAX_TRACKED ? fd_paths[fd] : 0;
    if (fd<MAX_TRACKED) fd_paths[fd] = 0;
  }

  return new;
}

int dup2(int old, int new)
{
  struct stat st;

  if (old == new) return __real_fstat(old, &st) ? -1 : new;

  return dup3(old, new, 0);
}

// Back to the path the descriptor was opened by (see track()).
int fchdir(int fd)
{
  struct stat st;

  if (__real_fstat(fd, &st)) return -1;
  if (!S_ISDIR(st.st_mode)) return errno = ENOTDIR, -1;
  if (fd>=MAX_TRACKED || !fd_paths[fd]) return errno = ENOSYS, -1;

  return chdir(fd_paths[fd]);
}

// No filesystem statistics in WASI preview 1.
int statfs(const char *path, struct statfs *buf)
{
  return errno = ENOSYS, -1;
}

int fstatfs(int fd, struct statfs *buf)
{
  return errno = ENOSYS, -1;
}

int statvfs(const char *path, struct statvfs *buf)
{
  return errno = ENOSYS, -1;
}

int fstatvfs(int fd, struct statvfs *buf)
{
  return errno = ENOSYS, -1;
}

// No extended attributes either.
ssize_t getxattr(const char *p, const char *n, void *v, size_t s)
{
  return errno = ENOTSUP, -1;
}

ssize_t lgetxattr(const char *p, const char *n, void *v, size_t s)
{
  return errno = ENOTSUP, -1;
}

ssize_t fgetxattr(int fd, const char *n, void *v, size_t s)
{
  return errno = ENOTSUP, -1;
}

ssize_t listxattr(const char *p, char *l, size_t s)
{
  return errno = ENOTSUP, -1;
}

ssize_t llistxattr(const char *p, char *l, size_t s)
{
  return errno = ENOTSUP, -1;
}

ssize_t flistxattr(int fd, char *l, size_t s)
{
  return errno = ENOTSUP, -1;
}

int setxattr(const char *p, const char *n, const void *v, size_t s, int f)
{
  return errno = ENOTSUP, -1;
}

int lsetxattr(const char *p, const char *n, const void *v, size_t s, int f)
{
  return errno = ENOTSUP, -1;
}

int fsetxattr(int fd, const char *n, const void *v, size_t s, int f)
{
  return errno = ENOTSUP, -1;
}
