/* crash.c — the bookkeeping of a crash the scenario caused (a :panic sent,
 * a kill): the node table copied before it, the crash counted as the
 * runtime counts exits (escalations and restart limits included), and the
 * table updated after it has been judged. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

/* ---- crashes ------------------------------------------------------------ */

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

/* The model: `t`'s parent started it again from its spec, so `t` and the
 * nodes that spec holds (those that came with it: the same spawn step)
 * are alive with processes not yet known; nodes a later step spawned
 * below it are gone (the spec never had them); pending ones stay pending. */
static void restart_subtree(struct engine *e, const struct tree_node *t,
                            long spawn_step) {
  struct live_node *ln = engine_live(e, t);
  if (ln && ln->state != NODE_PENDING && t->spawn_step != spawn_step) {
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
    restart_subtree(e, t->children[i], spawn_step);
}

/* Count a crash of `n` as the runtime counts exits, and change the model
 * as the policies above `n` imply: every node the crash takes down with it
 * (an :escalate parent, a :restart parent past its limit) has crashed too;
 * an :isolate parent keeps the subtree gone, a :restart parent within its
 * limit starts it again, and a crash of the root ends the tree. Returns
 * the node its parent restarts (forget_crashes_below() once the auditors
 * have judged this crash), or NULL. */
static const struct tree_node *count_crash(struct engine *e,
                                           const struct tree_node *n,
                                           double t0) {
  for (;;) {
    struct live_node *ln = engine_live(e, n);
    if (ln)
      ln->crash_ms[ln->ncrash++ % 16] = t0;
    const struct tree_node *p = n->parent;
    enum policy pol = p ? node_policy(p) : POLICY_ISOLATE;
    if (pol == POLICY_RESTART && !engine_restart_limit(e, n)) {
      restart_subtree(e, n, n->spawn_step);
      return n;
    }
    if (pol == POLICY_ISOLATE) {
      engine_mark_subtree(e, (struct tree_node *)n, NODE_GONE);
      return NULL;
    }
    n = p;
  }
}

const struct tree_node *engine_crash_count(struct engine *e, struct crash *k) {
  if (k->closing) /* a graceful exit: no crash, but the policy applies */
    return count_crash(e, k->node, k->t0);
  struct live_node *ln = engine_live(e, k->node);
  e->ncrashes++;
  if (ln && k->signal)
    ln->kill_signal = k->signal;
  else if (ln)
    ln->panicked = true;
  return count_crash(e, k->node, k->t0);
}

void engine_crash_end(struct engine *e, struct crash *k,
                      const struct tree_node *restarted) {
  if (restarted)
    forget_crashes_below(e, restarted);
  e->map_dirty = true;
  free(k->before);
  k->before = NULL;
}
