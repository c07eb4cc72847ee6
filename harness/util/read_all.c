/* read_all.c — the whole of a file descriptor in memory, with a bound:
 * scenario files, trace files and dot's output are each read whole, and
 * one loop (EINTR, growth, the bound, the NUL) serves them all. */
#include "read_all.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

char *read_all(int fd, size_t max, size_t *len, int *err) {
  size_t cap = 65536, used = 0;
  char *buf = malloc(cap);
  *err = ENOMEM;
  while (buf) {
    if (used == cap) {
      char *b = realloc(buf, cap * 2);
      if (!b)
        break;
      buf = b;
      cap *= 2;
    }
    ssize_t n = read(fd, buf + used, cap - used);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      *err = errno;
      break;
    }
    if (n == 0) {
      buf[used] = '\0'; /* used < cap: read was offered cap - used > 0 */
      *len = used;
      *err = 0;
      return buf;
    }
    used += (size_t)n;
    if (used > max) {
      *err = EFBIG;
      break;
    }
  }
  free(buf);
  return NULL;
}
