/* outq.c — an out-queue of bytes toward one non-blocking fd (see outq.h). */
#define _GNU_SOURCE /* pipe2, close_range, signalfd */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "outq.h"

size_t outq_bytes(const struct outq *q) { return q->b.len - q->head; }

/* Reclaim written bytes before growing, so a busy queue stays small. */
static void compact(struct outq *q) {
  if (q->head == 0) return;
  if (q->head == q->b.len) {
    q->head = q->b.len = 0;
    return;
  }
  if (q->head < q->b.cap / 2) return;
  memmove(q->b.ptr, q->b.ptr + q->head, q->b.len - q->head);
  q->b.len -= q->head;
  q->head = 0;
}

int outq_append(struct outq *q, const char *s, size_t len) {
  compact(q);
  return edn_buf_append(&q->b, s, len);
}

int outq_line(struct outq *q, const edn_value *v) {
  compact(q);
  size_t mark = q->b.len;
  if (edn_print(&q->b, v) < 0 || edn_buf_append(&q->b, "\n", 1) < 0) {
    q->b.len = mark;
    return -1;
  }
  return 0;
}

int outq_pieces(struct outq *q, const struct outq_piece *p, size_t n) {
  compact(q);
  size_t mark = q->b.len;
  for (size_t i = 0; i < n; i++) {
    struct edn_buf *b = &q->b;
    if (b->cap - b->len > p[i].len) { /* room (and a byte to spare, as
                                          edn_buf_append keeps): no call */
      memcpy(b->ptr + b->len, p[i].ptr, p[i].len);
      b->len += p[i].len;
    } else if (edn_buf_append(b, p[i].ptr, p[i].len) < 0) {
      b->len = mark;
      return -1;
    }
  }
  return 0;
}

int outq_line_joined(struct outq *q, const struct outq_piece *p, size_t n,
                     const edn_value *v, char first) {
  compact(q);
  struct edn_buf *b = &q->b;
  size_t mark = b->len;
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < n; i++)
    rc = edn_buf_append(b, p[i].ptr, p[i].len);
  size_t at = b->len;
  if (rc < 0 || edn_print(b, v) < 0 || b->len == at) {
    b->len = mark;
    return -1;
  }
  if (first) {
    b->ptr[at] = first;
  } else {
    memmove(b->ptr + at, b->ptr + at + 1, b->len - at - 1);
    b->len--;
  }
  if (edn_buf_append(b, "\n", 1) < 0) {
    b->len = mark;
    return -1;
  }
  return 0;
}

int outq_flush(struct outq *q, int fd) {
  while (q->head < q->b.len) {
    ssize_t n = write(fd, q->b.ptr + q->head, q->b.len - q->head);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return 0;
      return -errno;
    }
    q->head += (size_t)n;
  }
  q->head = q->b.len = 0;
  return 0;
}

void outq_free(struct outq *q) {
  edn_buf_free(&q->b);
  q->head = 0;
}
