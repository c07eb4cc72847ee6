/* edge.c — the hop of a far node, which is no node: its two halves as
 * /proc shows them on their hosts (the ssh client under the parent here,
 * the sshd session above the far node there), found so that a step can
 * fault them, and the bounded wait for the far side of a partitioned hop
 * to go by itself. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* Is pi an ssh client of parent `ppid` that may carry t? On this
 * machine its command line must name t's destination (so a parent's far
 * children on different hosts are told apart); a far host's probe shows
 * no command lines, so there any ssh child may. */
static bool may_carry(const struct proc_info *pi, pid_t ppid,
                      const struct host *near, const struct tree_node *t) {
  if (pi->ppid != ppid || pi->state == 'Z' || strcmp(pi->comm, "ssh"))
    return false;
  return !host_is_local(near) || proctree_has_arg(pi->pid, node_host(t));
}

/* The one ssh client in pt that may carry t: 1 found, else how many. */
static int ssh_child(const struct proc_table *pt, pid_t ppid,
                     const struct host *near, const struct tree_node *t,
                     const struct proc_info **out) {
  int n = 0;
  for (size_t i = 0; i < pt->n; i++)
    if (may_carry(&pt->v[i], ppid, near, t)) {
      *out = &pt->v[i];
      n++;
    }
  return n;
}

static int find_client(struct engine *e, const struct tree_node *t,
                       struct edge_ends *out, char *why, size_t whylen) {
  struct live_node *pl = engine_live(e, t->parent);
  if (!pl || pl->state != NODE_ALIVE || !pl->pid) {
    snprintf(why, whylen, "its parent %s has no known process",
             t->parent->path);
    return -1;
  }
  /* here, the reading below the harness holds every local node's ssh
   * clients; on a probed host, the probe's reading */
  struct proc_table pt = {0};
  int rc = host_is_local(out->near) ? engine_read_local(e, &pt)
                                    : host_scan(out->near, &pt);
  const struct proc_info *c = NULL;
  int n = rc < 0 ? 0 : ssh_child(&pt, pl->pid, out->near, t, &c);
  if (n == 1) {
    out->client = c->pid;
    out->client_start = c->start;
  } else if (rc < 0) {
    snprintf(why, whylen, "the probe on %s does not answer: %s",
             host_name(out->near), host_error(out->near));
  } else {
    snprintf(why, whylen, "its parent %s (pid %d on %s) has %d ssh client "
             "children that may carry it (to %s), not one, so the one "
             "carrying it cannot be told apart", t->parent->path,
             (int)pl->pid, host_name(out->near), n, node_host(t));
  }
  proctree_free(&pt);
  return n == 1 ? 0 : -1;
}

static int find_session(struct engine *e, const struct tree_node *t,
                        struct edge_ends *out, char *why, size_t whylen) {
  struct live_node *ln = engine_live(e, t);
  struct proc_info pi, pp;
  if (!ln || ln->state != NODE_ALIVE || !ln->pid ||
      host_read(out->far, ln->pid, &pi) < 0 ||
      (ln->start && pi.start != ln->start)) {
    snprintf(why, whylen, "it has no known process on %s",
             host_name(out->far));
    return -1;
  }
  if (host_read(out->far, pi.ppid, &pp) < 0 || strncmp(pp.comm, "sshd", 4)) {
    snprintf(why, whylen, "its parent on %s (pid %d) is no sshd session",
             host_name(out->far), (int)pi.ppid);
    return -1;
  }
  out->session = pp.pid;
  out->session_start = pp.start;
  return 0;
}

int engine_edge_find(struct engine *e, const struct tree_node *t,
                     struct edge_ends *out, char *why, size_t whylen) {
  memset(out, 0, sizeof *out);
  if (!t->parent || !node_host(t)) {
    snprintf(why, whylen, "it is not started over ssh");
    return -1;
  }
  out->near = engine_host(e, t->parent);
  out->far = engine_host(e, t);
  if (host_is_local(out->far)) {
    snprintf(why, whylen, "its host %s is not probed", node_host(t));
    return -1;
  }
  if (find_client(e, t, out, why, whylen) < 0)
    return -1;
  return find_session(e, t, out, why, whylen);
}

bool engine_edge_client_alive(const struct edge_ends *x) {
  return x->client && host_alive(x->near, x->client, x->client_start);
}

bool engine_edge_session_alive(const struct edge_ends *x) {
  return x->session && host_alive(x->far, x->session, x->session_start);
}

/* How many of t's subtree, alive before, still run on their hosts. */
static int far_left(struct engine *e, const struct tree_node *t,
                    const struct live_node *before, size_t nbefore) {
  int n = 0;
  for (size_t i = 0; i < nbefore; i++) {
    const struct live_node *b = &before[i];
    if (b->state == NODE_ALIVE && b->pid && tree_in_subtree(b->t, t) &&
        host_alive(engine_host(e, b->t), b->pid, b->start))
      n++;
  }
  return n;
}

int engine_edge_far_gone(struct engine *e, const struct tree_node *t,
                         const struct live_node *before, size_t nbefore,
                         const struct edge_ends *x, double deadline) {
  for (;;) {
    /* a probe is one ssh round trip: polling every 100 ms is plenty for
     * a bound of seconds, and light on a 2-core machine */
    int left = far_left(e, t, before, nbefore) + engine_edge_session_alive(x);
    if (!left || engine_now_ms() > deadline)
      return left;
    if (engine_pump(e, 100, false) == -EINTR || e->interrupted)
      return -EINTR;
  }
}

double engine_partition_bound_ms(const struct tree_node *t) {
  return PARTITION_BOUND_MS + (double)node_end_bound_ms(t, false) +
         CASCADE_SLACK_MS;
}
