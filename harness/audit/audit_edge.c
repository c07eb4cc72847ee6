/* audit_edge.c — cascade on the hop of a far node (DESIGN.md: its two
 * halves are not nodes, and must be gone when the edge ends). After a
 * partition (the ssh client held), the far side must have gone by itself
 * within the stated bound while the client is still held; after a crash on
 * the hop (client or session killed, or the held client released), both
 * halves must be gone: a lingering one is an orphan of the hop. What is
 * left is named with its host. */
#define _GNU_SOURCE
#include <stdio.h>

#include "audit.h"

/* Cascade when the scenario lists it, else the steps: what lingers on a
 * far host is never silently let pass. */
static enum property where_to(const struct engine *e) {
  return engine_listed(e, PROP_CASCADE) ? PROP_CASCADE : PROP_COUNT;
}

static void fail(struct engine *e, const char *fmt, const char *host,
                 const char *path, int pid, double took, const char *what,
                 const char *node) {
  if (where_to(e) == PROP_CASCADE)
    engine_fail(e, PROP_CASCADE, fmt, host, path, pid, took, what, node);
  else
    engine_step_fail(e, fmt, host, path, pid, took, what, node);
}

void audit_edge_partition(struct engine *e, const struct crash *k) {
  double took = engine_now_ms() - k->t0;
  double bound = engine_partition_bound_ms(k->node);
  const char *fmt = "cascade: on %s, %s (pid %d) is still there %.0f ms "
                    "after %s of %s was held (a partition: the far side "
                    "must be gone by itself within the hosts' ClientAlive "
                    "bound)";
  size_t left = 0;
  for (size_t i = 0; i < k->nbefore; i++) {
    const struct live_node *b = &k->before[i];
    struct host *h = engine_host(e, b->t);
    if (b->state != NODE_ALIVE || !b->pid || !tree_in_subtree(b->t, k->node) ||
        !host_alive(h, b->pid, b->start))
      continue;
    left++;
    fail(e, fmt, host_name(h), b->t->path, (int)b->pid, took,
         "the ssh client", k->node->path);
  }
  if (engine_edge_session_alive(&k->ends)) {
    left++;
    fail(e, fmt, host_name(k->ends.far), "its sshd session",
         (int)k->ends.session, took, "the ssh client", k->node->path);
  }
  if (!left && where_to(e) == PROP_CASCADE && !e->fail[PROP_CASCADE])
    engine_summary(e, PROP_CASCADE, "far side of %s's hop gone in %.0f ms "
                   "of a partition (bound %.0f ms)", k->node->path, took,
                   bound);
}

void audit_edge_crash(struct engine *e, const struct crash *k,
                      double deadline) {
  const struct edge_ends *x = &k->ends;
  while ((engine_edge_client_alive(x) || engine_edge_session_alive(x)) &&
         engine_now_ms() < deadline && !e->interrupted)
    if (engine_pump(e, 50, false) < 0)
      break;
  double took = engine_now_ms() - k->t0;
  const char *fmt = "cascade: on %s, %s (pid %d) is still there %.0f ms "
                    "after %s of %s's hop ended it (an orphan of the hop)";
  const char *how = k->partition || k->edge != EDGE_SESSION
                        ? "the fault on the ssh client"
                        : "the kill of the sshd session";
  if (engine_edge_client_alive(x))
    fail(e, fmt, host_name(x->near), "its ssh client", (int)x->client, took,
         how, k->node->path);
  if (engine_edge_session_alive(x))
    fail(e, fmt, host_name(x->far), "its sshd session", (int)x->session,
         took, how, k->node->path);
}
