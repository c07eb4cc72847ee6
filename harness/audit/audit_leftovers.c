/* audit_leftovers.c — the cascade property between steps, in every run:
 * after each step that changes the tree (and each that chaos marks), and
 * at the end before the root is closed, nothing of the tree may linger
 * that is not a live node — no orphan adopted by the harness (we are the
 * child subreaper), no zombie its parent does not reap. Both may exist for
 * a moment (a node just exited, its children are still going down), so
 * the scan is repeated before it fails: an orphan gets the grace, a zombie
 * under a live node ZOMBIE_BOUND_MS (a parent reaps a child the moment
 * its SIGCHLD arrives), each plus the scheduling slack. Zombies of our own
 * are reaped as they are found. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "audit.h"

struct leftover {
  pid_t pid, ppid;
  char state;
  bool orphan;
};

/* What lingers now: every adopted process of this scenario (and what runs
 * below it), every zombie below the root. Returns how many (at most max). */
static size_t lingering(struct engine *e, const struct proc_table *pt,
                        struct leftover *out, size_t max) {
  size_t n = 0;
  bool alone = session_active() <= 1;
  for (size_t i = 0; i < pt->n && n < max; i++) {
    const struct proc_info *pi = &pt->v[i];
    bool mine = engine_orphan_is_ours(e, pi, alone);
    if (mine && pi->state == 'Z') /* gone already: ours to reap */
      engine_reap_adopted(e, pi->pid);
    else if (mine)
      out[n++] = (struct leftover){pi->pid, pi->ppid, pi->state, true};
  }
  pid_t *d = NULL;
  long nd = e->root_reaped ? 0 : proctree_descendants(pt, e->root_pid, &d);
  for (long i = 0; i < nd && n < max; i++) {
    const struct proc_info *pi = proctree_find(pt, d[i]);
    if (pi && pi->state == 'Z')
      out[n++] = (struct leftover){pi->pid, pi->ppid, pi->state, false};
  }
  free(d);
  return n;
}

/* The node whose process is `pid`, for evidence; "a node" if none. */
static const char *node_of(const struct engine *e, pid_t pid) {
  for (size_t i = 0; pid > 0 && i < e->nnodes; i++)
    if (e->nodes[i].pid == pid)
      return e->nodes[i].t->path;
  return pid == e->root_pid ? e->s->root->path : "a node";
}

/* How long the leftovers still get (an orphan the grace, a zombie its
 * bound): the most any of them has left, negative once none has any. */
static double time_left(const struct leftover *left, size_t n, double took) {
  double most = -1;
  for (size_t i = 0; i < n; i++) {
    double bound = (left[i].orphan ? CASCADE_GRACE_MS : ZOMBIE_BOUND_MS) +
                   CASCADE_SLACK_MS;
    if (bound - took > most)
      most = bound - took;
  }
  return most;
}

void audit_leftovers(struct engine *e, const char *when) {
  /* once cascade failed, the first failure is the one to report: later
   * scans would only wait again for the same leftovers */
  if (!engine_listed(e, PROP_CASCADE) || e->fail[PROP_CASCADE] ||
      e->root_reaped)
    return;
  double t0 = engine_now_ms();
  struct proc_table pt = {0};
  struct leftover left[64];
  size_t n = 0;
  for (;;) {
    engine_read_local(e, &pt);
    if (engine_reap_orphans(e, &pt)) /* our zombies: reaped, not lingering */
      engine_read_local(e, &pt);
    n = lingering(e, &pt, left, sizeof left / sizeof *left);
    double took = engine_now_ms() - t0, rest = time_left(left, n, took);
    if (!n || rest < 0 || e->interrupted)
      break;
    if (engine_pump(e, engine_poll_ms(took, rest), false) < 0)
      break;
  }
  proctree_free(&pt);
  double took = engine_now_ms() - t0;
  for (size_t i = 0; i < n; i++)
    if (left[i].orphan)
      engine_fail(e, PROP_CASCADE, "cascade: %s, pid %d (state %c, parent "
                  "%d) is an orphan adopted by the harness %.0f ms later",
                  when, (int)left[i].pid, left[i].state, (int)left[i].ppid,
                  took);
    else
      engine_fail(e, PROP_CASCADE, "cascade: %s, pid %d, a zombie its parent "
                  "%s (pid %d) never reaped, is still there %.0f ms later",
                  when, (int)left[i].pid, node_of(e, left[i].ppid),
                  (int)left[i].ppid, took);
  e->ms[PROP_CASCADE] += took;
}
