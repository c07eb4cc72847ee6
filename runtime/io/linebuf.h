/* linebuf.h — line framing on a byte stream: read what an fd offers, hand out
 * whole '\n'-terminated lines, survive partial reads and overlong lines.
 *
 * A line longer than the limit is reported once (LINEBUF_TOO_LONG) and the
 * rest of it, up to its '\n', is dropped as it arrives, so the buffer never
 * holds more than limit + one read chunk. */
#ifndef TREEPROOF_LINEBUF_H
#define TREEPROOF_LINEBUF_H

#include <stdbool.h>
#include <stddef.h>

#define LINEBUF_CHUNK 65536

struct linebuf {
  char *buf;       /* malloc'ed, freed by linebuf_free */
  size_t start;    /* first unconsumed byte */
  size_t len;      /* bytes held */
  size_t cap;
  size_t scan;     /* bytes before this hold no '\n' */
  size_t limit;    /* longest line accepted */
  bool discard;    /* dropping the rest of an overlong line */
  bool eof;        /* the fd said EOF */
};

enum { LINEBUF_NONE = 0, LINEBUF_LINE = 1, LINEBUF_TOO_LONG = 2 };

void linebuf_init(struct linebuf *lb, size_t limit);
void linebuf_free(struct linebuf *lb);
/* read() once from fd into the buffer. Returns bytes read (> 0), 0 at EOF
 * (lb->eof set), or a negative errno (-EAGAIN when nothing is there). */
long linebuf_read(struct linebuf *lb, int fd);
/* The next line, without its '\n', valid until the next linebuf call:
 * LINEBUF_LINE with *line and *len set, LINEBUF_TOO_LONG once per overlong
 * line, LINEBUF_NONE when no whole line is held. After EOF an unterminated
 * last line is handed out as a line. */
int linebuf_next(struct linebuf *lb, const char **line, size_t *len);
/* True when linebuf_next would return something. */
bool linebuf_has_line(struct linebuf *lb);

#endif
