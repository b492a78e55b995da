// Stand-in for <pwd.h>: the workspace has a fixed user database (root and
// "user", see compat/users.c) so ls/id/whoami agree with each other.
#ifndef ENCLAVE_PWD_H
#define ENCLAVE_PWD_H
#include <sys/types.h>
#include <stdio.h>

struct passwd {
  char *pw_name, *pw_passwd;
  uid_t pw_uid;
  gid_t pw_gid;
  char *pw_gecos, *pw_dir, *pw_shell;
};

struct passwd *getpwuid(uid_t uid);
struct passwd *getpwnam(const char *name);
int getpwuid_r(uid_t, struct passwd *, char *, size_t, struct passwd **);
int getpwnam_r(const char *, struct passwd *, char *, size_t, struct passwd **);
struct passwd *getpwent(void);
void setpwent(void);
void endpwent(void);
#endif
