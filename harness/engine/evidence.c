/* evidence.c — the clock and the evidence: lines recorded per property (a
 * failure, or a note) and per step, and the pass summaries. */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

double engine_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int engine_poll_ms(double waited_ms, double left_ms) {
  double ms = waited_ms / 8;
  ms = ms < 20 ? 20 : ms > 100 ? 100 : ms;
  if (left_ms < ms)
    ms = left_ms < 1 ? 1 : left_ms;
  return (int)ms;
}

double engine_slack_ms(void) {
  const char *v = getenv("TREEPROOF_SLACK_MS");
  char *end;
  double ms = v ? strtod(v, &end) : 0;
  return v && end != v && ms >= 0 && ms <= 600000 ? ms : 1500.0;
}

static void buf_vprintf(struct edn_buf *b, const char *fmt, va_list ap) {
  char *s = NULL;
  int n = vasprintf(&s, fmt, ap);
  if (n < 0)
    return;
  if (b->len)
    edn_buf_append(b, "\n", 1);
  edn_buf_append(b, s, (size_t)n);
  free(s);
}

/* at most this many evidence lines per property: the first ones tell */
#define EVIDENCE_MAX (64 * 1024)

void engine_fail(struct engine *e, enum property p, const char *fmt, ...) {
  if (!e->fail[p]) /* the summary is the first failure, not a note */
    e->fail_at[p] = e->ev[p].len ? e->ev[p].len + 1 : 0;
  e->fail[p] = true;
  if (e->ev[p].len > EVIDENCE_MAX)
    return;
  va_list ap;
  va_start(ap, fmt);
  buf_vprintf(&e->ev[p], fmt, ap);
  va_end(ap);
}

void engine_note(struct engine *e, enum property p, const char *fmt, ...) {
  if (e->ev[p].len > EVIDENCE_MAX)
    return;
  va_list ap;
  va_start(ap, fmt);
  buf_vprintf(&e->ev[p], fmt, ap);
  va_end(ap);
}

/* Is `line` one of b's lines already? */
static bool has_line(const struct edn_buf *b, const char *line, size_t n) {
  const char *p = b->ptr, *end = b->ptr + b->len;
  while (p && p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t len = (size_t)((nl ? nl : end) - p);
    if (len == n && !memcmp(p, line, n))
      return true;
    p = nl ? nl + 1 : NULL;
  }
  return false;
}

/* A step's failure, once: a refresh retried until its deadline finds the
 * same fault each time, and the 16th copy of a line tells nothing. */
void engine_step_fail(struct engine *e, const char *fmt, ...) {
  e->steps_failed = true;
  if (e->steps_ev.len > EVIDENCE_MAX)
    return;
  va_list ap;
  va_start(ap, fmt);
  char *s = NULL;
  int n = vasprintf(&s, fmt, ap);
  va_end(ap);
  if (n < 0)
    return;
  if (!has_line(&e->steps_ev, s, (size_t)n)) {
    if (e->steps_ev.len)
      edn_buf_append(&e->steps_ev, "\n", 1);
    edn_buf_append(&e->steps_ev, s, (size_t)n);
  }
  free(s);
}

void engine_summary(struct engine *e, enum property p, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s = NULL;
  if (vasprintf(&s, fmt, ap) < 0)
    s = NULL;
  va_end(ap);
  free(e->sum[p]);
  e->sum[p] = s;
}

bool engine_listed(const struct engine *e, enum property p) {
  return e->s->properties[p];
}

