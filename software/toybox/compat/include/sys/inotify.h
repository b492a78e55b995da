// Stand-in for <sys/inotify.h>: WASI has no change notification; the calls
// fail with ENOSYS (compat/stubs.c), so `tail -f` reports it cannot follow.
#ifndef ENCLAVE_SYS_INOTIFY_H
#define ENCLAVE_SYS_INOTIFY_H
#include <stdint.h>
struct inotify_event {
  int wd;
  uint32_t mask, cookie, len;
  char name[];
};
#define IN_MODIFY 0x00000002
#define IN_ATTRIB 0x00000004
#define IN_CLOSE_WRITE 0x00000008
#define IN_CREATE 0x00000100
#define IN_DELETE 0x00000200
#define IN_DELETE_SELF 0x00000400
#define IN_MOVE_SELF 0x00000800
#define IN_ALL_EVENTS 0x00000fff
int inotify_init(void);
int inotify_init1(int flags);
int inotify_add_watch(int fd, const char *path, uint32_t mask);
int inotify_rm_watch(int fd, int wd);
#endif
