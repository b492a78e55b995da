// Stand-in for Linux <sys/mount.h>: WASI has no mounts, but toybox's
// portability layer (df, stat -f) wants struct statfs and its calls.
#ifndef ENCLAVE_SYS_MOUNT_H
#define ENCLAVE_SYS_MOUNT_H
#include <sys/types.h>

typedef struct { int __val[2]; } fsid_t;

struct statfs {
  unsigned long f_type, f_bsize, f_frsize;
  unsigned long long f_blocks, f_bfree, f_bavail, f_files, f_ffree;
  fsid_t f_fsid;
  unsigned long f_namelen, f_flags;
};

int statfs(const char *path, struct statfs *buf);
int fstatfs(int fd, struct statfs *buf);

#define MS_RDONLY 1
#define MS_NOSUID 2
#define MS_NODEV 4
#define MS_NOEXEC 8
#define MS_SYNCHRONOUS 16
#define MS_REMOUNT 32
#define MS_BIND 4096
#define MS_MOVE 8192
#define MS_REC 16384
#define MS_SILENT 32768
#define MS_NOATIME 1024
#define MS_NODIRATIME 2048
#define MS_RELATIME (1<<21)
#define MS_STRICTATIME (1<<24)
#define MS_SHARED (1<<20)
#define MS_PRIVATE (1<<18)
#define MS_SLAVE (1<<19)
#define MS_UNBINDABLE (1<<17)
#define MNT_FORCE 1
#define MNT_DETACH 2
#define MNT_EXPIRE 4
#define UMOUNT_NOFOLLOW 8

#endif
