/* crash.c — the bookkeeping of a crash the scenario caused (a :panic sent,
 * a kill): the node table copied before it, the crash counted as the
 * runtime counts exits (escalations and restart limits included), and the
 * table updated after it has been judged. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

int engine_crash_begin(struct engine *e, struct tree_node *n, struct crash *k,
                       double deadline) {
  memset(k, 0, sizeof *k);
  int rc = engine_ensure_map(e, deadline);
  if (rc == -EINTR)
    return rc;
  struct live_node *ln = engine_live(e, n);
  if (!ln || ln->state != NODE_ALIVE)
    return -1;
  k->node = n;
  k->pid = ln->pid;
  k->start = ln->start;
  k->before = malloc(e->nnodes * sizeof *k->before);
  if (k->before) {
    memcpy(k->before, e->nodes, e->nnodes * sizeof *k->before);
    k->nbefore = e->nnodes;
  }
  k->t0 = engine_now_ms();
  k->t0_boot_ns = engine_boottime_ns();
  k->watch = watch_start(e, k);
  return 0;
}

/* A restarted node's subtree is new: what its processes counted (their
 * restarts as parents, their backoff as children) starts again. */
static void forget_counts(struct engine *e, const struct tree_node *t,
                          bool is_top) {
  struct live_node *ln = engine_live(e, t);
  if (ln) {
    ln->nrestart = 0;
    if (!is_top)
      ln->backoff_row = 0;
  }
  for (size_t i = 0; i < t->nchildren; i++)
    forget_counts(e, t->children[i], false);
}

/* The model: `top`'s parent started it again from its spec, so `top` and
 * the nodes that spec holds (model_comes_back()) are alive with processes
 * not yet known; nodes a later step spawned below it are gone; pending
 * ones stay pending. */
static void restart_subtree(struct engine *e, const struct tree_node *top,
                            const struct tree_node *t) {
  struct live_node *ln = engine_live(e, t);
  if (ln && ln->state != NODE_PENDING &&
      !model_comes_back(top->spawn_step, t->spawn_step, t == top)) {
    engine_mark_subtree(e, (struct tree_node *)t, NODE_GONE);
    return;
  }
  if (ln && ln->state != NODE_PENDING) {
    ln->state = NODE_ALIVE;
    ln->removed = false; /* its parent's spec names it again */
    ln->held = false;
    if (ln->pid) {
      ln->prev_pid = ln->pid;
      ln->prev_start = ln->start;
    }
    ln->pid = 0;
    ln->start = 0;
    ln->said_ppid = ln->said_pgid = -1;
  }
  for (size_t i = 0; i < t->nchildren; i++)
    restart_subtree(e, top, t->children[i]);
}

/* The engine's nodes as the model sees them: indexes into e->nodes. */
struct view {
  struct engine *e;
  double t0; /* when the crash happened */
};

static int view_index(const struct engine *e, const struct tree_node *t) {
  struct live_node *ln = t ? engine_live((struct engine *)e, t) : NULL;
  return ln ? (int)(ln - e->nodes) : -1;
}

static int view_parent(const void *ctx, int i) {
  const struct view *v = ctx;
  return view_index(v->e, v->e->nodes[i].t->parent);
}

static enum policy view_policy(const void *ctx, int i) {
  const struct view *v = ctx;
  return node_policy(v->e->nodes[i].t);
}

static enum restart_type view_restart(const void *ctx, int i) {
  const struct view *v = ctx;
  return node_restart(v->e->nodes[i].t);
}

/* With one more restart now: more than :max-restarts within the period,
 * over all of the parent's children? */
static int view_limit(const void *ctx, int p) {
  const struct view *v = ctx;
  const struct live_node *ln = &v->e->nodes[p];
  long n = 1, period = node_restart_period_ms(ln->t);
  for (unsigned k = 0; k < ln->nrestart && k < 16; k++)
    if (v->t0 - ln->restart_ms[(ln->nrestart - 1 - k) % 16] <= (double)period)
      n++;
  return n > node_max_restarts(ln->t);
}

/* The spec index of t among its parent's children. */
static size_t index_of(const struct tree_node *t) {
  for (size_t i = 0; t->parent && i < t->parent->nchildren; i++)
    if (t->parent->children[i] == t)
      return i;
  return 0;
}

/* Is sibling s stopped by the group restart of k (alive before it, or
 * dead but still listed: a group starts every child it names again)? */
static bool in_group(const struct crash *k, const struct tree_node *s) {
  if (k->o.fate != MODEL_RESTARTED || !k->down || s->parent != k->down->parent ||
      !model_in_group(k->o.strategy, index_of(s), index_of(k->down)))
    return false;
  for (size_t i = 0; i < k->nbefore; i++)
    if (k->before[i].t == s)
      return k->before[i].state == NODE_ALIVE ||
             (k->before[i].state == NODE_GONE && !k->before[i].removed);
  return false;
}

bool engine_crash_touches(const struct crash *k, const struct tree_node *t) {
  if (!k->down)
    return false;
  for (const struct tree_node *a = t; a; a = a->parent)
    if (a == k->down || in_group(k, a))
      return true;
  return false;
}

bool engine_crash_normal(const struct crash *k) {
  /* a hop cut is never a normal end: ssh exits 255 whatever the signal */
  if (k->edge)
    return false;
  return k->closing || k->signal == SIGTERM || k->signal == SIGINT;
}

static void mark_gone(struct engine *e, const struct tree_node *t, bool removed) {
  engine_mark_subtree(e, (struct tree_node *)t, NODE_GONE);
  struct live_node *ln = engine_live(e, t);
  if (ln)
    ln->removed = removed;
}

/* `t` comes back: its processes new, its counts fresh. */
static void bring_back(struct engine *e, const struct tree_node *t) {
  restart_subtree(e, t, t);
  forget_counts(e, t, true);
}

/* The restart of k->down by its parent: the parent's intensity counts it
 * once, the child's backoff counts one more in a row (or starts again
 * after a healthy period), and a group's siblings come back or are
 * removed. */
static void apply_restart(struct engine *e, struct crash *k) {
  struct live_node *by = engine_live(e, k->down->parent);
  struct live_node *ln = engine_live(e, k->down);
  by->restart_ms[by->nrestart++ % 16] = k->t0;
  /* How long the runtime will say its process was up: at least from its
   * /proc start (a tick's grain) to the crash; at most, not known yet
   * (the audit, seeing the death, narrows it). The crash's instant is
   * this machine's clock; a far node's start counts from its own host's
   * boot, so for it the least is not known either (the audit narrows it
   * from the death its host's probe saw, on that host's clock). */
  unsigned long long start = 0;
  for (size_t i = 0; i < k->nbefore; i++)
    if (k->before[i].t == k->down)
      start = k->before[i].start;
  long hz = sysconf(_SC_CLK_TCK);
  double tick = 1000.0 / (double)(hz > 0 ? hz : 100);
  bool same_clock = host_is_local(engine_host(e, k->down));
  double up = start && same_clock
                  ? (double)k->t0_boot_ns / 1e6 - (double)start * tick - tick
                  : 0;
  k->down_start = start;
  k->backoff_was = ln->backoff_row;
  k->backoff_may = engine_backoff_step(ln->backoff_row, up, HUGE_VAL,
                                       (double)node_restart_period_ms(by->t));
  ln->backoff_row = k->backoff_may;
  const struct tree_node *p = k->down->parent;
  for (size_t i = 0; i < p->nchildren; i++) {
    const struct tree_node *s = p->children[i];
    if (!in_group(k, s))
      continue;
    if (model_sibling_fate(node_restart(s)) == MODEL_REMOVED)
      mark_gone(e, s, true);
    else
      bring_back(e, s);
  }
  bring_back(e, k->down);
}

void engine_crash_count(struct engine *e, struct crash *k) {
  struct live_node *ln = engine_live(e, k->node);
  if (!k->closing) {
    e->ncrashes++;
    if (ln && k->signal)
      ln->kill_signal = k->signal;
    else if (ln)
      ln->panicked = true;
  }
  struct view v = {e, k->t0};
  struct model_view mv = {&v, view_parent, view_policy, view_restart, view_limit};
  int at = view_index(e, k->node);
  if (at < 0)
    return;
  model_outcome(&mv, at, engine_crash_normal(k), &k->o);
  k->down = e->nodes[k->o.down].t;
  if (k->o.fate == MODEL_RESTARTED)
    apply_restart(e, k);
  else
    mark_gone(e, k->down, k->o.fate == MODEL_REMOVED && !k->o.tree_ends);
}

/* Bit n of a row set: n restarts in a row; 0 or bit 0: none yet. Counts
 * past 31 stay 31 (every backoff has long reached its maximum). */
uint32_t engine_backoff_step(uint32_t row, double up_lo, double up_hi,
                             double period) {
  if (!row)
    row = 1;
  uint32_t on = (row << 1) | (row & 0x80000000u);
  if (up_lo >= period)
    return 2; /* surely healthy: this is the first in a row */
  return up_hi >= period ? on | 2 : on;
}

unsigned engine_backoff_most(uint32_t may) {
  unsigned n = 0;
  for (unsigned i = 1; i < 32; i++)
    if (may & (1u << i))
      n = i;
  return n;
}

void engine_backoff_learn(struct engine *e, const struct tree_node *t,
                          uint32_t row) {
  struct live_node *ln = engine_live(e, t);
  if (ln && row)
    ln->backoff_row = row;
}

void engine_crash_end(struct engine *e, struct crash *k) {
  e->map_dirty = true;
  engine_crash_drop(k);
}

void engine_crash_drop(struct crash *k) {
  watch_free(k->watch);
  k->watch = NULL;
  free(k->before);
  k->before = NULL;
}
