/* audit_cascade.c — the cascade property: killing (or crashing) a node
 * removes exactly its subtree within the grace — the subtree the parents'
 * policies take down, no more, no less — and at the end, closing the root's
 * stdin removes the whole tree. As child subreaper the harness adopts every
 * orphan, so whatever is left at the end (an orphan, a zombie) is seen,
 * reported, killed and reaped. The end runs for every scenario: nothing is
 * ever left behind. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"

/* Which subtree a crash takes down, by the policies above it (the
 * model's answer, from engine_crash_count()). */
static const struct tree_node *affected_top(const struct crash *k) {
  return k->down ? k->down : k->node;
}

/* Reap `pid` if it is our zombie (an orphan we adopted, or the root). */
static void reap_if_ours(struct engine *e, pid_t pid) {
  if (pid == e->root_pid) {
    engine_reap_root(e);
    return;
  }
  struct proc_info pi;
  if (proctree_read(pid, &pi) == 0 && pi.ppid == e->self && pi.state == 'Z')
    engine_reap_adopted(e, pid);
}

/* Gone: no /proc entry on t's host, or a zombie of ours (reaped here). A
 * zombie whose parent is alive is not gone yet: its parent owes it a
 * waitpid. */
static bool gone(struct engine *e, const struct tree_node *t, pid_t pid,
                 unsigned long long start) {
  struct proc_info pi;
  struct host *h = engine_host(e, t);
  if (host_read(h, pid, &pi) < 0 || (start && pi.start != start))
    return true;
  if (!host_is_local(h))
    return false; /* a far zombie is its sshd session's to reap */
  if (pi.state == 'Z' && (pi.ppid == e->self || pid == e->root_pid)) {
    reap_if_ours(e, pid);
    return true;
  }
  return false;
}

/* How long the crash may take to stop everything it touches: the node
 * that went down stops its children, and a group restart stops its
 * siblings one at a time, each by its ladder (scenario/tree.c). */
static double stop_bound(const struct crash *k) {
  const struct tree_node *top = affected_top(k);
  bool crossed = k->o.crossed >= 0 && k->o.down == k->o.crossed;
  long ms = node_end_bound_ms(top, crossed);
  for (size_t i = 0; top->parent && i < top->parent->nchildren; i++) {
    const struct tree_node *s = top->parent->children[i];
    if (s != top && engine_crash_touches(k, s))
      ms += node_stop_bound_ms(s);
  }
  return (double)ms;
}

/* Touched by the crash: in the subtree that went down, or a sibling's
 * that its parent's group restart stopped. */
static bool touched(const struct crash *k, const struct tree_node *t) {
  return engine_crash_touches(k, t) || tree_in_subtree(t, affected_top(k));
}

void audit_cascade_crash(struct engine *e, const struct crash *k) {
  double deadline = k->t0 + stop_bound(k) + CASCADE_SLACK_MS;
  const struct tree_node *top = k->node;
  size_t left = 0;
  for (;;) {
    top = affected_top(k);
    left = 0;
    for (size_t i = 0; i < k->nbefore; i++) {
      const struct live_node *b = &k->before[i];
      if (b->state == NODE_ALIVE && touched(k, b->t) &&
          !gone(e, b->t, b->pid, b->start))
        left++;
    }
    if (!left || engine_now_ms() > deadline || e->interrupted)
      break;
    if (engine_pump(e, 20, false) < 0)
      break;
  }
  double took = engine_now_ms() - k->t0;
  char how[160]; /* what ended the subtree, as the evidence says it */
  if (k->edge)
    snprintf(how, sizeof how, "the fault on the %s hop", node_host(k->node));
  else
    snprintf(how, sizeof how, "%s", k->closing ? "the :exit"
             : k->signal ? "the kill" : "the panic");
  for (size_t i = 0; left && i < k->nbefore; i++) {
    const struct live_node *b = &k->before[i];
    struct proc_info pi;
    if (b->state == NODE_ALIVE && touched(k, b->t) &&
        !gone(e, b->t, b->pid, b->start) &&
        host_read(engine_host(e, b->t), b->pid, &pi) == 0)
      engine_fail(e, PROP_CASCADE, "cascade: %s%s%s%s (pid %d, state %c, "
                  "parent %d) is still there %.0f ms after %s of %s (pid %d); "
                  "its whole subtree should be gone",
                  node_where(b->t) ? "on " : "",
                  node_where(b->t) ? node_where(b->t) : "",
                  node_where(b->t) ? ", " : "", b->t->path, (int)b->pid,
                  pi.state, (int)pi.ppid, took, how, k->node->path,
                  (int)k->pid);
  }
  if (k->edge) /* and the hop's two halves, which are no nodes */
    audit_edge_crash(e, k, deadline);
  /* and nothing outside it went down */
  for (size_t i = 0; i < k->nbefore; i++) {
    const struct live_node *b = &k->before[i];
    if (b->state == NODE_ALIVE && b->pid && !touched(k, b->t) &&
        !host_alive(engine_host(e, b->t), b->pid, b->start))
      engine_fail(e, PROP_CASCADE, "cascade: %s (pid %d) is outside the "
                  "subtree of %s but went down with it", b->t->path,
                  (int)b->pid, top->path);
  }
  if (!e->fail[PROP_CASCADE])
    engine_summary(e, PROP_CASCADE, "subtree of %s gone in %.0f ms",
                   top->path, took);
}

/* ---- the end ------------------------------------------------------------ */

/* The processes of this scenario still there: the root's descendants, our
 * adopted orphans that were nodes (or any orphan of ours, when this is the
 * only scenario running), and the root. */
static size_t leftovers(struct engine *e, const struct proc_table *pt,
                        pid_t *out, size_t max) {
  size_t n = 0;
  pid_t *d = NULL;
  if (!e->root_reaped && proctree_find(pt, e->root_pid) && n < max)
    out[n++] = e->root_pid;
  long nd = e->root_reaped ? 0 : proctree_descendants(pt, e->root_pid, &d);
  for (long i = 0; i < nd && n < max; i++)
    out[n++] = d[i];
  free(d);
  bool alone = session_active() <= 1;
  for (size_t i = 0; i < pt->n && n < max; i++) {
    const struct proc_info *pi = &pt->v[i];
    if (!engine_orphan_is_ours(e, pi, alone))
      continue;
    out[n++] = pi->pid;
    pid_t *dd = NULL;
    long k = proctree_descendants(pt, pi->pid, &dd);
    for (long j = 0; j < k && n < max; j++)
      out[n++] = dd[j];
    free(dd);
  }
  return n;
}

static const char *node_of(struct engine *e, pid_t pid) {
  for (size_t i = 0; i < e->nnodes; i++)
    if (e->nodes[i].pid == pid)
      return e->nodes[i].t->path;
  return "no node";
}

/* Wait for the tree to go down by itself after EOF on the root's stdin.
 * Replies still in flight are read meanwhile (the replies auditor counts). */
/* Requests still waiting for their reply (the grace counts from the last
 * one answered: a node answers what is in flight before it goes). */
static size_t outstanding(const struct engine *e) {
  size_t n = 0;
  for (size_t i = 0; i < e->capids; i++)
    if (e->ids[i].used && !e->ids[i].exempt && e->ids[i].got < e->ids[i].sent)
      n++;
  return n;
}

static size_t wait_down(struct engine *e, double deadline, pid_t *left,
                        size_t max) {
  size_t n = 0;
  struct proc_table pt = {0};
  double t0 = engine_now_ms(), grace = deadline - t0;
  double cap = deadline + (double)e->s->timeout_ms; /* never unbounded */
  bool waited = false;
  for (;;) {
    double now = engine_now_ms();
    if (!e->out_eof && outstanding(e)) { /* grace from the last answer */
      waited = true;
      deadline = now + grace < cap ? now + grace : cap;
    } else if (waited) {
      waited = false;
      deadline = now + grace;
    }
    engine_reap_root(e);
    engine_read_local(e, &pt);
    if (engine_reap_orphans(e, &pt))
      engine_read_local(e, &pt);
    n = leftovers(e, &pt, left, max);
    /* zombies of ours are reaped above; count only what still runs or
     * waits for a parent that is not us */
    size_t keep = 0;
    for (size_t i = 0; i < n; i++) {
      const struct proc_info *pi = proctree_find(&pt, left[i]);
      if (pi && !(pi->state == 'Z' && pi->ppid == e->self))
        left[keep++] = left[i];
    }
    n = keep;
    if ((!n && e->out_eof) || engine_now_ms() > deadline || e->interrupted)
      break;
    double t = engine_now_ms();
    engine_pump(e, engine_poll_ms(t - t0, deadline - t), false);
  }
  proctree_free(&pt);
  return n;
}

static void kill_all(struct engine *e) {
  pid_t left[8192];
  struct proc_table pt = {0};
  double until = engine_now_ms() + 5000;
  for (;;) {
    engine_read_local(e, &pt);
    size_t n = leftovers(e, &pt, left, sizeof left / sizeof left[0]);
    size_t alive = 0;
    for (size_t i = 0; i < n; i++) {
      const struct proc_info *pi = proctree_find(&pt, left[i]);
      if (!pi)
        continue;
      if (pi->state == 'Z') {
        reap_if_ours(e, left[i]);
        continue;
      }
      kill(left[i], SIGCONT);
      kill(left[i], SIGKILL);
      alive++;
    }
    engine_reap_root(e);
    if ((!alive && e->root_reaped) || engine_now_ms() > until)
      break;
    struct timespec ts = {0, 5 * 1000 * 1000};
    nanosleep(&ts, NULL); /* the kernel needs a moment to tear them down */
  }
  proctree_free(&pt);
  if (!e->root_reaped) {
    kill(e->root_pid, SIGKILL);
    while (waitpid(e->root_pid, &e->root_status, 0) < 0 && errno == EINTR) {
    }
    e->root_reaped = true;
  }
}

void audit_cascade_end(struct engine *e) {
  pid_t left[8192];
  size_t nleft = 0;
  enum property p = engine_listed(e, PROP_CASCADE) ? PROP_CASCADE : PROP_COUNT;
  if (e->root_pid > 0 && !e->interrupted) {
    /* orphans of earlier kills, zombies of ours: not left behind by the
     * close, so not its failure */
    struct proc_table pt = {0};
    engine_read_local(e, &pt);
    engine_reap_orphans(e, &pt);
    proctree_free(&pt);
    double t0 = engine_now_ms();
    if (e->in_fd >= 0) {
      close(e->in_fd);
      e->in_fd = -1;
    }
    nleft = wait_down(e, t0 + (double)node_end_bound_ms(e->s->root, false) +
                             CASCADE_SLACK_MS, left,
                      sizeof left / sizeof left[0]);
    double took = engine_now_ms() - t0;
    for (size_t i = 0; i < nleft && i < 32; i++) {
      struct proc_info pi = {0};
      proctree_read(left[i], &pi);
      const char *msg = "cascade: %s (pid %d, state %c, parent %d) still "
                        "there %.0f ms after the root's stdin was closed%s";
      const char *orphan = pi.ppid == e->self && left[i] != e->root_pid
                               ? " (an orphan, adopted by the harness)"
                               : "";
      if (p == PROP_CASCADE)
        engine_fail(e, p, msg, node_of(e, left[i]), (int)left[i], pi.state,
                    (int)pi.ppid, took, orphan);
      else
        engine_step_fail(e, msg, node_of(e, left[i]), (int)left[i], pi.state,
                         (int)pi.ppid, took, orphan);
    }
    if (nleft > 32 && p == PROP_CASCADE)
      engine_fail(e, p, "cascade: ... and %zu more processes", nleft - 32);
    audit_hosts_end(e, t0 + (double)node_end_bound_ms(e->s->root, false) +
                           CASCADE_SLACK_MS);
    if (!nleft && p == PROP_CASCADE && !e->fail[p])
      engine_summary(e, p, "tree gone %.0f ms after closing the root's stdin%s",
                     took, e->nfar ? ", on every host" : "");
  }
  if (e->in_fd >= 0) {
    close(e->in_fd);
    e->in_fd = -1;
  }
  kill_all(e); /* whatever is left, even on a timeout or an interruption */
  /* the last replies, if the root wrote any before going */
  double until = engine_now_ms() + 200;
  while (!e->out_eof && engine_now_ms() < until)
    if (engine_pump(e, 20, false) < 0)
      break;
}
