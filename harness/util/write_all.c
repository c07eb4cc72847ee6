/* write_all.c — the whole of a buffer written to a file descriptor: a
 * worker's result to its parent (run/jobs.c) and a far host's trace file
 * copied here (observe/host_trace.c) share one loop (EINTR, short
 * writes). */
#include "write_all.h"

#include <errno.h>
#include <unistd.h>

int write_all(int fd, const void *p, size_t n) {
  const char *s = p;
  while (n > 0) {
    ssize_t w = write(fd, s, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0)
      return -errno;
    if (w == 0)
      return -EIO;
    s += w;
    n -= (size_t)w;
  }
  return 0;
}
