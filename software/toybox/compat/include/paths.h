// Stand-in for <paths.h> with the workspace's layout.
#ifndef ENCLAVE_PATHS_H
#define ENCLAVE_PATHS_H
#define _PATH_DEFPATH "/usr/local/bin:/usr/bin:/bin"
#define _PATH_STDPATH "/usr/local/bin:/usr/bin:/bin"
#define _PATH_BSHELL "/bin/sh"
#define _PATH_DEVNULL "/dev/null"
#define _PATH_TTY "/dev/tty"
#define _PATH_TMP "/tmp/"
#define _PATH_UTMP "/var/run/utmp"
#define _PATH_WTMP "/var/log/wtmp"
#define _PATH_MOUNTED "/etc/mtab"
#endif
