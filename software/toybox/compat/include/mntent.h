// Stand-in for <mntent.h>: a WASI guest cannot list mounts, so the mount
// table reads as empty (compat/stubs.c).
#ifndef ENCLAVE_MNTENT_H
#define ENCLAVE_MNTENT_H
#include <stdio.h>
struct mntent {
  char *mnt_fsname, *mnt_dir, *mnt_type, *mnt_opts;
  int mnt_freq, mnt_passno;
};
FILE *setmntent(const char *file, const char *mode);
struct mntent *getmntent(FILE *fp);
int endmntent(FILE *fp);
char *hasmntopt(const struct mntent *m, const char *opt);
#endif
