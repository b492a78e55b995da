// Stand-in for <net/if.h>: no network interfaces in a WASI guest.
#ifndef ENCLAVE_NET_IF_H
#define ENCLAVE_NET_IF_H
#define IF_NAMESIZE 16
#define IFNAMSIZ IF_NAMESIZE
unsigned if_nametoindex(const char *name);
char *if_indextoname(unsigned index, char *name);
#endif
