// Stand-in for <sys/statvfs.h>: WASI preview 1 cannot ask about filesystems.
#ifndef ENCLAVE_SYS_STATVFS_H
#define ENCLAVE_SYS_STATVFS_H
#include <sys/types.h>

typedef unsigned long long fsblkcnt_t;
typedef unsigned long long fsfilcnt_t;

struct statvfs {
  unsigned long f_bsize, f_frsize;
  fsblkcnt_t f_blocks, f_bfree, f_bavail;
  fsfilcnt_t f_files, f_ffree, f_favail;
  unsigned long f_fsid, f_flag, f_namemax;
};

#define ST_RDONLY 1
#define ST_NOSUID 2

int statvfs(const char *path, struct statvfs *buf);
int fstatvfs(int fd, struct statvfs *buf);

#endif
