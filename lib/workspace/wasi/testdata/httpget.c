// A minimal HTTP client over the runtime's socket imports, for tests:
//   httpget HOST PORT PATH [BODY]
// sends one request (GET, or POST with BODY; header x-test: guest), prints the whole response
// to stdout, and exits 0; when the connect fails it prints the error and exits with the errno.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

__attribute__((import_module("enclave"), import_name("sock_connect")))
int enclave_sock_connect(const char *host, size_t host_len, int port, int *fd);

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: httpget HOST PORT PATH [BODY]\n");
    return 64;
  }
  const char *host = argv[1];
  const char *body = argc > 4 ? argv[4] : NULL;
  int fd;
  int err = enclave_sock_connect(host, strlen(host), atoi(argv[2]), &fd);
  if (err != 0) {
    fprintf(stderr, "httpget: connect %s:%s: %s\n", host, argv[2], strerror(err));
    return err;
  }
  char req[4096];
  int n = body ? snprintf(req, sizeof req,
                          "POST %s HTTP/1.1\r\nHost: %s\r\nx-test: guest\r\nContent-Length: %zu\r\n"
                          "Connection: close\r\n\r\n%s",
                          argv[3], host, strlen(body), body)
               : snprintf(req, sizeof req,
                          "GET %s HTTP/1.1\r\nHost: %s\r\nx-test: guest\r\nConnection: close\r\n\r\n", argv[3],
                          host);
  if (send(fd, req, (size_t)n, 0) != n) {
    fprintf(stderr, "httpget: send: %s\n", strerror(errno));
    return 1;
  }
  char buf[4096];
  ssize_t r;
  while ((r = recv(fd, buf, sizeof buf, 0)) > 0) fwrite(buf, 1, (size_t)r, stdout);
  if (r < 0) {
    fprintf(stderr, "httpget: recv: %s\n", strerror(errno));
    return 1;
  }
  close(fd);
  return 0;
}
