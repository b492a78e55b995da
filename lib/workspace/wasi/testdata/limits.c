/*
 * Test program for the workspace limits (lib/workspace/limits.test.ts):
 *   limits spin N     N million rounds of arithmetic, no calls; prints when it ran (monotonic ms)
 *   limits forever    computes until killed
 *   limits hog        allocates and touches 1 MiB blocks until malloc fails, then exits 3
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static unsigned spin(unsigned long rounds) {
  /* volatile keeps the compiler from folding the loop away. */
  volatile unsigned x = 1;
  for (unsigned long i = 0; i < rounds; i++) x = x * 1103515245u + 12345u;
  return x;
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "";
  if (strcmp(mode, "spin") == 0 && argc > 2) {
    double start = now_ms();
    unsigned x = spin(strtoul(argv[2], NULL, 10) * 1000000ul);
    printf("ran %.3f %.3f %u\n", start, now_ms(), x);
    return 0;
  }
  if (strcmp(mode, "forever") == 0) {
    for (;;) spin(1000000);
  }
  if (strcmp(mode, "hog") == 0) {
    unsigned blocks = 0;
    char *volatile last = NULL;
    for (;;) {
      char *p = malloc(1 << 20);
      if (p == NULL) break;
      /* Touched, so the pages are really used; kept in a volatile, so the compiler cannot drop the allocation. */
      memset(p, 0xa5, 1 << 20);
      *(char **)p = last;
      last = p;
      blocks++;
    }
    printf("allocated %u MiB\n", blocks);
    fprintf(stderr, "hog: out of memory\n");
    return 3;
  }
  fprintf(stderr, "usage: limits spin N | forever | hog\n");
  return 2;
}
