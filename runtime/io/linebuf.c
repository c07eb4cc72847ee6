/* linebuf.c — line framing over a non-blocking fd (see linebuf.h). */
#define _GNU_SOURCE /* pipe2, close_range, signalfd */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "linebuf.h"

void linebuf_init(struct linebuf *lb, size_t limit) {
  memset(lb, 0, sizeof *lb);
  lb->limit = limit;
}

void linebuf_free(struct linebuf *lb) {
  free(lb->buf);
  lb->buf = NULL;
  lb->start = lb->len = lb->cap = lb->scan = 0;
}

static void compact(struct linebuf *lb) {
  if (lb->start == 0) return;
  memmove(lb->buf, lb->buf + lb->start, lb->len - lb->start);
  lb->len -= lb->start;
  lb->scan = lb->scan > lb->start ? lb->scan - lb->start : 0;
  lb->start = 0;
}

static int reserve(struct linebuf *lb, size_t room) {
  if (lb->cap - lb->len >= room) return 0;
  compact(lb);
  if (lb->cap - lb->len >= room) return 0;
  size_t n = lb->cap ? lb->cap * 2 : 16384;
  while (n - lb->len < room) n *= 2;
  char *p = realloc(lb->buf, n);
  if (!p) return -ENOMEM;
  lb->buf = p;
  lb->cap = n;
  return 0;
}

long linebuf_read(struct linebuf *lb, int fd) {
  if (lb->start == lb->len) lb->start = lb->len = lb->scan = 0;
  /* Read into the room there is (at least 4 KiB, at most one chunk): a
   * quiet edge keeps a small buffer. */
  if (reserve(lb, 4096) < 0) return -ENOMEM;
  size_t room = lb->cap - lb->len;
  if (room > LINEBUF_CHUNK) room = LINEBUF_CHUNK;
  ssize_t n;
  do {
    n = read(fd, lb->buf + lb->len, room);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return -errno;
  if (n == 0) lb->eof = true;
  lb->len += (size_t)n;
  return (long)n;
}

static int take(struct linebuf *lb, size_t end, const char **line,
                size_t *len, size_t next) {
  *line = lb->buf + lb->start;
  *len = end - lb->start;
  lb->start = next;
  lb->scan = next;
  return LINEBUF_LINE;
}

int linebuf_next(struct linebuf *lb, const char **line, size_t *len) {
  for (;;) {
    size_t from = lb->scan > lb->start ? lb->scan : lb->start;
    char *nl = from < lb->len ? memchr(lb->buf + from, '\n', lb->len - from)
                              : NULL;
    if (nl) {
      size_t end = (size_t)(nl - lb->buf);
      if (lb->discard) { /* the tail of an overlong line: drop it */
        lb->discard = false;
        lb->start = lb->scan = end + 1;
        continue;
      }
      if (end - lb->start > lb->limit) {
        lb->start = lb->scan = end + 1;
        return LINEBUF_TOO_LONG;
      }
      return take(lb, end, line, len, end + 1);
    }
    lb->scan = lb->len;
    size_t held = lb->len - lb->start;
    if (lb->discard) {
      lb->start = lb->scan = lb->len;
      if (lb->eof) lb->discard = false;
      return LINEBUF_NONE;
    }
    if (held > lb->limit) {
      lb->discard = !lb->eof;
      lb->start = lb->scan = lb->len;
      return LINEBUF_TOO_LONG;
    }
    if (lb->eof && held > 0) return take(lb, lb->len, line, len, lb->len);
    return LINEBUF_NONE;
  }
}

bool linebuf_has_line(struct linebuf *lb) {
  size_t from = lb->scan > lb->start ? lb->scan : lb->start;
  if (from < lb->len && memchr(lb->buf + from, '\n', lb->len - from))
    return true;
  lb->scan = lb->len;
  size_t held = lb->len - lb->start;
  if (lb->discard) return false;
  return held > lb->limit || (lb->eof && held > 0);
}
