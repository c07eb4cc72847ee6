/* outq.h — a bounded-by-policy out-queue of bytes toward one non-blocking fd.
 *
 * The queue is an edn_buf, so replies are printed straight into it; `head`
 * marks what was already written. The queue itself never refuses bytes: the
 * node decides when to stop producing (backpressure) from outq_bytes(). */
#ifndef TREEPROOF_OUTQ_H
#define TREEPROOF_OUTQ_H

#include <stddef.h>

#include "edn.h"

struct outq {
  struct edn_buf b; /* bytes [head, b.len) are still to be written */
  size_t head;
};

/* Bytes still to be written. */
size_t outq_bytes(const struct outq *q);
/* Append raw bytes. Returns 0 or -1 when out of memory. */
int outq_append(struct outq *q, const char *s, size_t len);
/* Append `v` printed compactly and a '\n'. Returns 0 or -1. */
int outq_line(struct outq *q, const edn_value *v);
/* Bytes to append one after another: a line put together from pieces of
 * others (a request's bytes around a new :id). */
struct outq_piece {
  const char *ptr;
  size_t len;
};
/* Append the n pieces, all of them or (out of memory) none, so the queue
 * never holds half a line. Returns 0 or -1. */
int outq_pieces(struct outq *q, const struct outq_piece *p, size_t n);
/* The pieces, then `v` printed compactly with its first byte replaced by
 * `first` (dropped when `first` is 0), then '\n': a line whose start the
 * pieces wrote ("{:id 7") and whose rest is a value's (a map's entries and
 * its '}'). All or none. Returns 0 or -1. */
int outq_line_joined(struct outq *q, const struct outq_piece *p, size_t n,
                     const edn_value *v, char first);
/* write() as much as the fd takes. Returns 0 (maybe with bytes left), or a
 * negative errno other than EAGAIN (EPIPE: the reader is gone). */
int outq_flush(struct outq *q, int fd);
/* Drop everything queued and free the memory. */
void outq_free(struct outq *q);

#endif
