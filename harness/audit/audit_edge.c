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

/* One process of the hop's far side or of its halves still there:
 * cascade when the scenario lists it, else the steps (what lingers on a
 * host is never let pass silently). "cascade: WHAT of NODE's hop: on
 * HOST, WHO (pid P) is still there TAIL". */
static void fail(struct engine *e, const char *what, const char *node,
                 const char *host, const char *who, pid_t pid,
                 const char *tail) {
  const char *fmt = "cascade: %s of %s's hop: on %s, %s (pid %d) is still "
                    "there %s";
  if (engine_listed(e, PROP_CASCADE))
    engine_fail(e, PROP_CASCADE, fmt, what, node, host, who, (int)pid, tail);
  else
    engine_step_fail(e, fmt, what, node, host, who, (int)pid, tail);
}

void audit_edge_partition(struct engine *e, const struct crash *k) {
  double took = engine_now_ms() - k->t0;
  double bound = engine_partition_bound_ms(k->node);
  char tail[200];
  snprintf(tail, sizeof tail, "%.0f ms after its ssh client was held (the "
           "far side must go by itself within %.0f ms: the hosts' "
           "ClientAlive bound, its own end and the slack)", took, bound);
  size_t left = 0;
  for (size_t i = 0; i < k->nbefore; i++) {
    const struct live_node *b = &k->before[i];
    struct host *h = engine_host(e, b->t);
    if (b->state != NODE_ALIVE || !b->pid || !tree_in_subtree(b->t, k->node) ||
        !host_alive(h, b->pid, b->start))
      continue;
    left++;
    fail(e, "the partition", k->node->path, host_name(h), b->t->path, b->pid,
         tail);
  }
  if (engine_edge_session_alive(&k->ends)) {
    left++;
    fail(e, "the partition", k->node->path, host_name(k->ends.far),
         "its sshd session", k->ends.session, tail);
  }
  if (!left && engine_listed(e, PROP_CASCADE) && !e->fail[PROP_CASCADE])
    engine_summary(e, PROP_CASCADE, "far side of %s's hop gone %.0f ms into "
                   "a partition (bound %.0f ms)", k->node->path, took, bound);
}

void audit_edge_crash(struct engine *e, const struct crash *k,
                      double deadline) {
  const struct edge_ends *x = &k->ends;
  while ((engine_edge_client_alive(x) || engine_edge_session_alive(x)) &&
         engine_now_ms() < deadline && !e->interrupted)
    if (engine_pump(e, 50, false) < 0)
      break;
  char tail[200];
  snprintf(tail, sizeof tail, "%.0f ms after %s (an orphan of the hop)",
           engine_now_ms() - k->t0,
           k->edge == EDGE_SESSION ? "its sshd session was killed"
                                   : "the fault on its ssh client");
  if (engine_edge_client_alive(x))
    fail(e, "the end", k->node->path, host_name(x->near), "its ssh client",
         x->client, tail);
  if (engine_edge_session_alive(x))
    fail(e, "the end", k->node->path, host_name(x->far), "its sshd session",
         x->session, tail);
}
