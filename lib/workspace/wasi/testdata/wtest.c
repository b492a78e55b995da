// A small WASI program for the runtime's tests: one subcommand per behaviour under test.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <wasi/api.h>

__attribute__((import_module("enclave"), import_name("proc_spawn")))
int enclave_proc_spawn(const char *argv, size_t argv_len, const char *env, size_t env_len,
                       const char *cwd, size_t cwd_len, int *exit_code);
__attribute__((import_module("enclave"), import_name("proc_spawn_io")))
int enclave_proc_spawn_io(const char *argv, size_t argv_len, const char *env, size_t env_len,
                          const char *cwd, size_t cwd_len, int stdin_fd, int stdout_fd, int *pid);
__attribute__((import_module("enclave"), import_name("proc_wait")))
int enclave_proc_wait(int pid, int *exit_code);
__attribute__((import_module("enclave"), import_name("fd_pipe")))
int enclave_fd_pipe(int *read_fd, int *write_fd);

// wasi-libc starts every program in "/": the runtime passes the real cwd as PWD.
__attribute__((constructor)) static void init_cwd(void) {
  const char *pwd = getenv("PWD");
  if (pwd && *pwd == '/') chdir(pwd);
}

static size_t pack(char **list, int n, char *out) {
  size_t len = 0;
  for (int i = 0; i < n; i++) {
    size_t l = strlen(list[i]) + 1;
    memcpy(out + len, list[i], l);
    len += l;
  }
  return len;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static int copy(int in) {
  char buf[4096];
  ssize_t n;
  while ((n = read(in, buf, sizeof buf)) > 0) {
    if (write(1, buf, n) != n) return 1;
  }
  return n < 0 ? 2 : 0;
}

int main(int argc, char **argv) {
  if (argc < 2) return 64;
  const char *cmd = argv[1];
  if (!strcmp(cmd, "echo")) {
    for (int i = 2; i < argc; i++) printf("%s%s", i > 2 ? " " : "", argv[i]);
    printf("\n");
    return 0;
  }
  if (!strcmp(cmd, "exit")) return atoi(argv[2]);
  if (!strcmp(cmd, "env")) {
    const char *v = getenv(argv[2]);
    printf("%s\n", v ? v : "(unset)");
    return 0;
  }
  if (!strcmp(cmd, "stderr")) {
    fprintf(stderr, "%s\n", argv[2]);
    return 0;
  }
  if (!strcmp(cmd, "cat")) {
    if (argc < 3) return copy(0);
    int fd = open(argv[2], O_RDONLY);
    if (fd < 0) {
      fprintf(stderr, "cat: %s: %s\n", argv[2], strerror(errno));
      return 1;
    }
    int r = copy(fd);
    close(fd);
    return r;
  }
  if (!strcmp(cmd, "write")) {
    FILE *f = fopen(argv[2], argc > 4 ? argv[4] : "w");
    if (!f) {
      fprintf(stderr, "write: %s: %s\n", argv[2], strerror(errno));
      return 1;
    }
    fputs(argv[3], f);
    return fclose(f) ? 1 : 0;
  }
  if (!strcmp(cmd, "waitfile")) {
    // Polls until another process has written the file (one write: non-empty = complete), then prints it.
    for (int i = 0; i < 2000; i++) {
      struct stat st;
      if (stat(argv[2], &st) == 0 && st.st_size > 0) {
        int fd = open(argv[2], O_RDONLY);
        return copy(fd);
      }
      sleep_ms(5);
    }
    return 1;
  }
  if (!strcmp(cmd, "pwd")) {
    char buf[512];
    printf("%s\n", getcwd(buf, sizeof buf));
    return 0;
  }
  if (!strcmp(cmd, "sleep")) {
    sleep_ms(atol(argv[2]));
    return 0;
  }
  if (!strcmp(cmd, "spin")) {
    volatile uint64_t n = 0;
    for (;;) n++;
  }
  if (!strcmp(cmd, "trap")) __builtin_trap();
  if (!strcmp(cmd, "oob")) {
    volatile int *p = (int *)0x7ffffff0;
    return *p;
  }
  if (!strcmp(cmd, "recurse")) {
    // Unbounded recursion: the engine's stack limit ends it as a trap.
    volatile char pad[256];
    pad[0] = (char)argc;
    char *args[] = {argv[0], "recurse", NULL};
    return main(2, args) + pad[0];
  }
  if (!strcmp(cmd, "alloc")) {
    // Allocates 1 MiB blocks (touching them) until malloc fails; prints how many.
    // The blocks are kept in a global so the compiler cannot drop the allocations.
    static char *volatile blocks[1024];
    long limit = atol(argv[2]), n = 0;
    while (n < limit && n < 1024) {
      char *p = malloc(1 << 20);
      if (!p) break;
      memset(p, 1, 1 << 20);
      blocks[n++] = p;
    }
    printf("%ld\n", n);
    return n < limit ? 3 : 0;
  }
  if (!strcmp(cmd, "seek")) {
    // Write, seek back, overwrite, read it all: offsets live in the kernel.
    int fd = open(argv[2], O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (write(fd, "hello world", 11) != 11) return 1;
    printf("tell=%lld\n", (long long)lseek(fd, 0, SEEK_CUR));
    lseek(fd, 0, SEEK_SET);
    if (write(fd, "J", 1) != 1) return 1;
    lseek(fd, 0, SEEK_SET);
    char buf[32] = {0};
    ssize_t n = read(fd, buf, sizeof buf - 1);
    printf("read=%zd %s\n", n, buf);
    printf("end=%lld\n", (long long)lseek(fd, -5, SEEK_END));
    close(fd);
    return 0;
  }
  if (!strcmp(cmd, "ls")) {
    DIR *d = opendir(argc > 2 ? argv[2] : ".");
    if (!d) {
      fprintf(stderr, "ls: %s\n", strerror(errno));
      return 1;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
      if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
      printf("%s%s\n", e->d_name, e->d_type == DT_DIR ? "/" : e->d_type == DT_LNK ? "@" : "");
    }
    closedir(d);
    return 0;
  }
  if (!strcmp(cmd, "stat")) {
    struct stat st;
    int r = argc > 3 ? lstat(argv[2], &st) : stat(argv[2], &st);
    if (r) {
      printf("%s\n", strerror(errno));
      return 1;
    }
    printf("%s %lld\n", S_ISDIR(st.st_mode) ? "dir" : S_ISLNK(st.st_mode) ? "link" : S_ISREG(st.st_mode) ? "file" : "other",
           (long long)st.st_size);
    return 0;
  }
  if (!strcmp(cmd, "fsops")) {
    // mkdir, symlink, readlink, rename, unlink, rmdir under a directory.
    char p[256], q[256], buf[256];
    snprintf(p, sizeof p, "%s/d", argv[2]);
    if (mkdir(p, 0755)) return 1;
    snprintf(p, sizeof p, "%s/d/f", argv[2]);
    FILE *f = fopen(p, "w");
    fputs("x", f);
    fclose(f);
    snprintf(q, sizeof q, "%s/d/link", argv[2]);
    if (symlink("f", q)) return 2;
    ssize_t n = readlink(q, buf, sizeof buf - 1);
    if (n < 0) return 3;
    buf[n] = 0;
    printf("readlink=%s\n", buf);
    snprintf(q, sizeof q, "%s/d/g", argv[2]);
    if (rename(p, q)) return 4;
    if (unlink(q)) return 5;
    snprintf(q, sizeof q, "%s/d/link", argv[2]);
    if (unlink(q)) return 6;
    snprintf(p, sizeof p, "%s/d", argv[2]);
    if (rmdir(p)) return 7;
    printf("ok\n");
    return 0;
  }
  if (!strcmp(cmd, "isatty")) {
    printf("%d %d\n", isatty(0), isatty(1));
    return 0;
  }
  if (!strcmp(cmd, "spawn")) {
    // spawn CMD ARGS...: runs a child through the host, prints its exit status.
    char buf[4096];
    size_t alen = pack(argv + 2, argc - 2, buf);
    char *env[] = {"CHILD=1", "PATH=/bin"};
    char ebuf[64];
    size_t elen = pack(env, 2, ebuf);
    int code = -1;
    int err = enclave_proc_spawn(buf, alen, ebuf, elen, "", 0, &code);
    fflush(stdout);
    printf("spawn errno=%d exit=%d\n", err, code);
    return 0;
  }
  if (!strcmp(cmd, "popen")) {
    // popen CMD ARGS...: runs a child writing into a pipe, reads it back, waits for it.
    int rfd, wfd, pid, code = -1;
    if (enclave_fd_pipe(&rfd, &wfd)) return 1;
    char buf[4096];
    size_t alen = pack(argv + 2, argc - 2, buf);
    char *env[] = {"PATH=/bin"};
    char ebuf[64];
    size_t elen = pack(env, 1, ebuf);
    if (enclave_proc_spawn_io(buf, alen, ebuf, elen, "", 0, -1, wfd, &pid)) return 2;
    close(wfd);
    char out[256] = {0};
    size_t got = 0;
    ssize_t n;
    while ((n = read(rfd, out + got, sizeof out - 1 - got)) > 0) got += n;
    if (enclave_proc_wait(pid, &code)) return 3;
    printf("child said: %s", out);
    printf("child exit=%d\n", code);
    return 0;
  }
  if (!strcmp(cmd, "renumber")) {
    // Moves an open file to fd 10 (free before), writes through it; the old number is gone.
    int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return 1;
    if (__wasi_fd_renumber(fd, 10)) return 2;
    if (write(10, "moved", 5) != 5) return 3;
    struct stat st;
    printf("old fd %s\n", fstat(fd, &st) == 0 ? "open" : strerror(errno));
    return close(10) ? 4 : 0;
  }
  if (!strcmp(cmd, "calls")) {
    // N fstat calls: the cost of one proxied call.
    long n = atol(argv[2]);
    struct stat st;
    for (long i = 0; i < n; i++) fstat(1, &st);
    return 0;
  }
  return 64;
}
