/* crash.c — the bookkeeping of a crash the scenario caused (a :panic sent,
 * a kill): the node table copied before it, the crash counted as the
 * runtime counts exits (escalations and restart limits included), and the
 * table updated after it has been judged. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
  return 0;
}

bool engine_restart_limit(struct engine *e, const struct tree_node *child) {
  const struct tree_node *p = child->parent;
  struct live_node *ln = engine_live(e, child);
  if (!p || !ln || !ln->ncrash)
    return false;
  long max = node_max_restarts(p);
  long period = node_restart_period_ms(p);
  double last = ln->crash_ms[(ln->ncrash - 1) % 16];
  long n = 0;
  for (unsigned i = 0; i < ln->ncrash && i < 16; i++)
    if (last - ln->crash_ms[(ln->ncrash - 1 - i) % 16] <= (double)period)
      n++;
  return n > max;
}

/* A restarted node's subtree is new: the runtime's restart counts for the
 * children below it start again. */
static void forget_crashes_below(struct engine *e, const struct tree_node *t) {
  for (size_t i = 0; i < t->nchildren; i++) {
    struct live_node *ln = engine_live(e, t->children[i]);
    if (ln)
      ln->ncrash = 0;
    forget_crashes_below(e, t->children[i]);
  }
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

/* With this crash counted: more than :max-restarts within the period? */
static int view_limit(const void *ctx, int i) {
  const struct view *v = ctx;
  const struct live_node *ln = &v->e->nodes[i];
  const struct tree_node *p = ln->t->parent;
  long n = 1, period = node_restart_period_ms(p);
  for (unsigned k = 0; k < ln->ncrash && k < 16; k++)
    if (v->t0 - ln->crash_ms[(ln->ncrash - 1 - k) % 16] <= (double)period)
      n++;
  return n > node_max_restarts(p);
}

/* Count a crash of `n` as the runtime counts exits — every node the crash
 * takes down with it (an :escalate parent, a :restart parent past its
 * limit) has crashed too — and change the node table as the model says:
 * the subtree that goes down is gone, or back with new processes when its
 * parent restarts it. Returns the node its parent restarts
 * (forget_crashes_below() once the auditors have judged this crash), or
 * NULL. */
static const struct tree_node *count_crash(struct engine *e, struct crash *k) {
  const struct tree_node *n = k->node;
  double t0 = k->t0;
  struct view v = {e, t0};
  struct model_view mv = {&v, view_parent, view_policy, view_limit};
  struct model_outcome o;
  int at = view_index(e, n);
  if (at < 0)
    return NULL;
  model_outcome(&mv, at, &o);
  for (int x = at; x >= 0; x = view_parent(&v, x)) {
    struct live_node *ln = &e->nodes[x];
    ln->crash_ms[ln->ncrash++ % 16] = t0;
    if (x == o.down)
      break;
  }
  const struct tree_node *down = e->nodes[o.down].t;
  k->down = down;
  if (o.revive) {
    restart_subtree(e, down, down);
    return down;
  }
  engine_mark_subtree(e, (struct tree_node *)down, NODE_GONE);
  return NULL;
}

const struct tree_node *engine_crash_count(struct engine *e, struct crash *k) {
  if (k->closing) /* a graceful exit: no crash, but the policy applies */
    return count_crash(e, k);
  struct live_node *ln = engine_live(e, k->node);
  e->ncrashes++;
  if (ln && k->signal)
    ln->kill_signal = k->signal;
  else if (ln)
    ln->panicked = true;
  return count_crash(e, k);
}

void engine_crash_end(struct engine *e, struct crash *k,
                      const struct tree_node *restarted) {
  if (restarted)
    forget_crashes_below(e, restarted);
  e->map_dirty = true;
  free(k->before);
  k->before = NULL;
}
