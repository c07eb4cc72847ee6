/* shutdown.c — stopping children. Each child has a shutdown ladder: close
 * its stdin (SIGTERM to its group instead when the node itself got
 * SIGTERM/SIGINT), wait up to its shutdown time, SIGKILL its group. The
 * stopper runs ladders for a set of children (those with stop_mark), all
 * at once or one at a time in reverse spec order, the next only once the
 * previous has been reaped. Nothing here blocks: the stopper is a state
 * machine driven by reaps (shutdown_pump) and the ladders' timers.
 * A far child's ladder has no SIGTERM rung: a signal to the local ssh
 * client would not cross the hop, only cut it (ssh exits 255 at once, the
 * far node sees EOF anyway), so even after our own SIGTERM its stdin is
 * closed and the far node stops its subtree in order; SIGKILL of the ssh
 * client's group stays the last rung. */
#include <signal.h>

#include "node.h"
#include "trace.h"

const char *shutdown_why_name(enum stop_why why) {
  static const char *const names[] = {"none", "one-for-all", "rest-for-one",
                                      "intensity", "end"};
  return names[why];
}

const char *shutdown_rung_name(enum stop_rung rung) {
  static const char *const names[] = {"none", "eof", "term", "kill"};
  return names[rung];
}

/* How long c's ladder waits after its first rung: -1 for ever. Default, as
 * OTP's: for ever for a child with children of its own (it is bounded by
 * theirs), the parent's :grace-ms for a leaf. */
static int64_t wait_ms(const struct child *c) {
  const edn_value *kids = c->keys.children;
  switch (c->keys.shutdown) {
  case SHUTDOWN_MS: return c->keys.shutdown_ms;
  case SHUTDOWN_INFINITY: return -1;
  case SHUTDOWN_BRUTAL: return 0;
  default: return kids && kids->u.seq.len ? -1 : c->n->spec.grace_ms;
  }
}

static void take_rung(struct child *c, enum stop_rung rung) {
  c->rung = rung;
  trace_stop(c, rung, c->stop_why);
  if (rung == RUNG_EOF) c->in_closing = true; /* closed once its queue drains */
  else child_signal(c, rung == RUNG_TERM ? SIGTERM : SIGKILL);
}

static void ladder_timeout(void *data) {
  struct child *c = data;
  if (c->alive) take_rung(c, RUNG_KILL);
}

void shutdown_child(struct child *c, enum stop_why why) {
  if (!c->alive || c->stop_why != STOP_NONE) return;
  c->stop_why = why;
  if (c->keys.shutdown == SHUTDOWN_BRUTAL) {
    take_rung(c, RUNG_KILL);
    return;
  }
  take_rung(c, c->n->got_term && !c->far ? RUNG_TERM : RUNG_EOF);
  int64_t ms = wait_ms(c);
  if (ms >= 0) loop_timer_start(c->n->loop, &c->stop_timer, ms, ladder_timeout, c);
}

void shutdown_term_all(struct node *n) {
  for (size_t i = 0; i < n->nkids; i++)
    if (n->kids[i]->alive && n->kids[i]->rung == RUNG_EOF && !n->kids[i]->far)
      take_rung(n->kids[i], RUNG_TERM);
}

/* The marked live child to stop next one at a time: the last in spec
 * order (the first, with the stop-spec-order fault). */
static struct child *next_victim(struct node *n) {
  bool forward = n->faults & FAULT_STOP_SPEC_ORDER;
  for (size_t k = 0; k < n->nkids; k++) {
    struct child *c = n->kids[forward ? k : n->nkids - 1 - k];
    if (c->stop_mark && c->alive) return c;
  }
  return NULL;
}

void shutdown_pump(struct node *n) {
  if (!n->stopper.active) return;
  bool waiting = false;
  if (n->stopper.sequential) {
    struct child *c = next_victim(n);
    if (c) shutdown_child(c, n->stopper.why); /* no-op while on its ladder */
    waiting = c != NULL;
  } else {
    for (size_t i = 0; i < n->nkids; i++) {
      struct child *c = n->kids[i];
      if (!c->stop_mark || !c->alive) continue;
      shutdown_child(c, n->stopper.why);
      waiting = true;
    }
  }
  if (waiting) return;
  n->stopper.active = false; /* first: done may start another stop */
  for (size_t i = 0; i < n->nkids; i++) n->kids[i]->stop_mark = false;
  if (n->stopper.done) n->stopper.done(n);
}

void shutdown_marked(struct node *n, enum stop_why why, bool sequential,
                     void (*done)(struct node *n)) {
  n->stopper.active = true;
  n->stopper.why = why;
  n->stopper.sequential = sequential;
  n->stopper.done = done;
  shutdown_pump(n);
}

void shutdown_end(struct node *n) {
  n->ending = true;
  supervise_cancel(n);
  for (size_t i = 0; i < n->nkids; i++) n->kids[i]->stop_mark = n->kids[i]->alive;
  shutdown_marked(n, STOP_END, n->spec.stop_order == STOP_REVERSE, NULL);
}
