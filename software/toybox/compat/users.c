// The workspace's user database. A workspace has one user, "user" (uid and
// gid 1000, home /home/user), plus root so numeric ids of system files still
// get names. There is no /etc/passwd to read: WASI preview 1 reports no
// owners, and the stat wrappers in files.c give every file to "user".

#include "toys.h"

static struct passwd users[] = {
  {"root", "x", 0, 0, "root", "/root", "/bin/sh"},
  {"user", "x", ENCLAVE_UID, ENCLAVE_GID, "user", "/home/user", "/bin/sh"},
};
static char *no_members[] = {0}, *user_members[] = {"user", 0};
static struct group groups[] = {
  {"root", "x", 0, no_members},
  {"user", "x", ENCLAVE_GID, user_members},
};
static int pw_next, gr_next;

uid_t getuid(void) { return ENCLAVE_UID; }
uid_t geteuid(void) { return ENCLAVE_UID; }
gid_t getgid(void) { return ENCLAVE_GID; }
gid_t getegid(void) { return ENCLAVE_GID; }

// Becoming who we already are succeeds; anything else is not permitted.
static int same_id(int want, int have)
{
  return (want == -1 || want == have) ? 0 : (errno = EPERM, -1);
}

int setuid(uid_t uid) { return same_id(uid, ENCLAVE_UID); }
int setgid(gid_t gid) { return same_id(gid, ENCLAVE_GID); }
int seteuid(uid_t uid) { return same_id(uid, ENCLAVE_UID); }
int setegid(gid_t gid) { return same_id(gid, ENCLAVE_GID); }

int setreuid(uid_t r, uid_t e)
{
  return same_id(r, ENCLAVE_UID) || same_id(e, ENCLAVE_UID) ? -1 : 0;
}

int setregid(gid_t r, gid_t e)
{
  return same_id(r, ENCLAVE_GID) || same_id(e, ENCLAVE_GID) ? -1 : 0;
}

int setresuid(uid_t r, uid_t e, uid_t s)
{
  return setreuid(r, e) || same_id(s, ENCLAVE_UID) ? -1 : 0;
}

int setresgid(gid_t r, gid_t e, gid_t s)
{
  return setregid(r, e) || same_id(s, ENCLAVE_GID) ? -1 : 0;
}

int getgroups(int size, gid_t list[])
{
  if (!size) return 1;
  if (size<1) return errno = EINVAL, -1;
  *list = ENCLAVE_GID;

  return 1;
}

int setgroups(size_t size, const gid_t *list)
{
  return (size == 1 && *list == ENCLAVE_GID) ? 0 : (errno = EPERM, -1);
}

int initgroups(const char *user, gid_t group)
{
  return same_id(group, ENCLAVE_GID);
}

int getgrouplist(const char *user, gid_t group, gid_t *list, int *count)
{
  int n = 0, i, want = 1+(group != ENCLAVE_GID);
  gid_t all[2] = {group, ENCLAVE_GID};

  if (*count<want) {
    *count = want;
    return -1;
  }
  for (i = 0; i<want; i++) list[n++] = all[i];
  *count = n;

  return n;
}

struct passwd *getpwuid(uid_t uid)
{
  int i;

  for (i = 0; i<ARRAY_LEN(users); i++) if (users[i].pw_uid == uid)
    return users+i;

  return 0;
}

struct passwd *getpwnam(const char *name)
{
  int i;

  for (i = 0; i<ARRAY_LEN(users); i++) if (!strcmp(users[i].pw_name, name))
    return users+i;

  return 0;
}

struct group *getgrgid(gid_t gid)
{
  int i;

  for (i = 0; i<ARRAY_LEN(groups); i++) if (groups[i].gr_gid == gid)
    return groups+i;

  return 0;
}

struct group *getgrnam(const char *name)
{
  int i;

  for (i = 0; i<ARRAY_LEN(groups); i++) if (!strcmp(groups[i].gr_name, name))
    return groups+i;

  return 0;
}

// The reentrant forms copy the static entries' strings into buf.
static char *stash(char **buf, size_t *left, const char *s)
{
  size_t n = strlen(s)+1;
  char *at = *buf;

  if (n>*left) return 0;
  memcpy(at, s, n);
  *buf += n;
  *left -= n;

  return at;
}

static int copy_pw(struct passwd *from, struct passwd *pw, char *buf,
  size_t len, struct passwd **res)
{
  *res = 0;
  if (!from) return 0;
  *pw = *from;
  if (!(pw->pw_name = stash(&buf, &len, from->pw_name))
    || !(pw->pw_passwd = stash(&buf, &len, from->pw_passwd))
    || !(pw->pw_gecos = stash(&buf, &len, from->pw_gecos))
    || !(pw->pw_dir = stash(&buf, &len, from->pw_dir))
    || !(pw->pw_shell = stash(&buf, &len, from->pw_shell))) return ERANGE;
  *res = pw;

  return 0;
}

int getpwuid_r(uid_t uid, struct passwd *pw, char *buf, size_t len,
  struct passwd **res)
{
  return copy_pw(getpwuid(uid), pw, buf, len, res);
}

int getpwnam_r(const char *name, struct passwd *pw, char *buf, size_t len,
  struct passwd **res)
{
  return copy_pw(getpwnam(name), pw, buf, len, res);
}

static int copy_gr(struct group *from, struct group *gr, char *buf,
  size_t len, struct group **res)
{
  char **mem;
  int n = 0, i;

  *res = 0;
  if (!from) return 0;
  while (from->gr_mem[n]) n++;
  // Member pointers first, aligned, then the strings.
  i = (sizeof(char *)-((unsigned long)buf%sizeof(char *)))%sizeof(char *);
  if (len<i+(n+1)*sizeof(char *)) return ERANGE;
  mem = (char **)(buf+i);
  buf += i+(n+1)*sizeof(char *);
  len -= i+(n+1)*sizeof(char *);
  *gr = *from;
  if (!(gr->gr_name = stash(&buf, &len, from->gr_name))
    || !(gr->gr_passwd = stash(&buf, &len, from->gr_passwd))) return ERANGE;
  for (i = 0; i<n; i++)
    if (!(mem[i] = stash(&buf, &len, from->gr_mem[i]))) return ERANGE;
  mem[n] = 0;
  gr->gr_mem = mem;
  *res = gr;

  return 0;
}

int getgrgid_r(gid_t gid, struct group *gr, char *buf, size_t len,
  struct group **res)
{
  return copy_gr(getgrgid(gid), gr, buf, len, res);
}

int getgrnam_r(const char *name, struct group *gr, char *buf, size_t len,
  struct group **res)
{
  return copy_gr(getgrnam(name), gr, buf, len, res);
}

void setpwent(void) { pw_next = 0; }
void endpwent(void) { pw_next = 0; }

struct passwd *getpwent(void)
{
  return pw_next<ARRAY_LEN(users) ? users+pw_next++ : 0;
}

void setgrent(void) { gr_next = 0; }
void endgrent(void) { gr_next = 0; }

struct group *getgrent(void)
{
  return gr_next<ARRAY_LEN(groups) ? groups+gr_next++ : 0;
}
