// A small HTTP/1.1 server over the runtime's socket imports (see ../README.md), for tests:
//   httpd PORT [COUNT]
// listens on PORT, prints "listening on PORT" once it does, and answers COUNT connections
// (default: forever), one request each, with a body echoing the method, the path, the x-test
// request header and the request body. Exits with the errno when listen fails.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

__attribute__((import_module("enclave"), import_name("sock_listen")))
int enclave_sock_listen(int port, int backlog, int *fd);

#define MAX_HEAD 16384

static int send_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = send(fd, p, n, 0);
    if (w <= 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

// The value of header `name` in the head (lines after the request line), copied into `out`.
static int header(const char *head, const char *name, char *out, size_t cap) {
  size_t len = strlen(name);
  for (const char *line = strstr(head, "\r\n"); line && line[2] != '\r'; line = strstr(line + 2, "\r\n")) {
    const char *h = line + 2;
    if (strncasecmp(h, name, len) == 0 && h[len] == ':') {
      const char *v = h + len + 1;
      while (*v == ' ') v++;
      const char *end = strstr(v, "\r\n");
      size_t n = end ? (size_t)(end - v) : strlen(v);
      if (n >= cap) n = cap - 1;
      memcpy(out, v, n);
      out[n] = 0;
      return 1;
    }
  }
  return 0;
}

static void serve(int conn) {
  static char buf[MAX_HEAD + 1];
  size_t used = 0;
  char *end = NULL;
  while (!end) {
    if (used == MAX_HEAD) return;
    ssize_t n = recv(conn, buf + used, MAX_HEAD - used, 0);
    if (n <= 0) return;
    used += (size_t)n;
    buf[used] = 0;
    end = strstr(buf, "\r\n\r\n");
  }
  size_t head_len = (size_t)(end - buf) + 4;
  char method[16] = "", path[1024] = "", xtest[256] = "(none)", clen[32] = "0";
  if (sscanf(buf, "%15s %1023s", method, path) != 2) return;
  header(buf, "x-test", xtest, sizeof xtest);
  header(buf, "content-length", clen, sizeof clen);
  size_t body_len = strtoul(clen, NULL, 10);
  char *body = malloc(body_len + 1);
  if (!body) return;
  size_t have = used - head_len < body_len ? used - head_len : body_len;
  memcpy(body, buf + head_len, have);
  while (have < body_len) {
    // Plain read(2) works on sockets too.
    ssize_t n = read(conn, body + have, body_len - have);
    if (n <= 0) break;
    have += (size_t)n;
  }
  body[have] = 0;
  size_t cap = have + 2048;
  char *out = malloc(cap);
  int out_len = snprintf(out, cap, "method=%s\npath=%s\nx-test=%s\nbody=%s\n", method, path, xtest, body);
  char head[256];
  int n = snprintf(head, sizeof head,
                   "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
                   "Connection: close\r\n\r\n",
                   out_len);
  if (send_all(conn, head, (size_t)n) == 0) {
    // write(2) for the body, send(2) for the head: both paths must work.
    if (write(conn, out, (size_t)out_len) != out_len) perror("write");
  }
  shutdown(conn, SHUT_WR);
  free(out);
  free(body);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: httpd PORT [COUNT]\n");
    return 64;
  }
  int port = atoi(argv[1]);
  long count = argc > 2 ? atol(argv[2]) : -1;
  int lfd;
  int err = enclave_sock_listen(port, 16, &lfd);
  if (err != 0) {
    fprintf(stderr, "httpd: listen %d: %s\n", port, strerror(err));
    return err;
  }
  printf("listening on %d\n", port);
  fflush(stdout);
  for (long served = 0; count < 0 || served < count; served++) {
    int conn = accept(lfd, NULL, NULL);
    if (conn < 0) {
      fprintf(stderr, "httpd: accept: %s\n", strerror(errno));
      return 1;
    }
    serve(conn);
    close(conn);
  }
  close(lfd);
  return 0;
}
