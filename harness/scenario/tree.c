/* tree.c — facts about a scenario's tree that every layer asks: how many
 * nodes a subtree has, which leaf comes first depth-first, and the value in
 * effect for each node key left unset (the node defaults, in one place). */
#include "scenario.h"

size_t tree_count(const struct tree_node *t) {
  size_t n = 1;
  for (size_t i = 0; i < t->nchildren; i++)
    n += tree_count(t->children[i]);
  return n;
}

struct tree_node *tree_first_leaf(const struct tree_node *t) {
  while (t->nchildren && t->children[0]->spawn_step < 0)
    t = t->children[0];
  return (struct tree_node *)t;
}

long node_queue_bytes(const struct tree_node *t) {
  return t->queue_bytes >= 0 ? t->queue_bytes : NODE_DEFAULT_QUEUE_BYTES;
}

enum policy node_policy(const struct tree_node *t) {
  return t->on_child_exit == POLICY_UNSET ? POLICY_ISOLATE : t->on_child_exit;
}

long node_max_restarts(const struct tree_node *t) {
  return t->max_restarts >= 0 ? t->max_restarts : NODE_DEFAULT_MAX_RESTARTS;
}

long node_restart_period_ms(const struct tree_node *t) {
  return t->restart_period_ms >= 0 ? t->restart_period_ms
                                   : NODE_DEFAULT_RESTART_PERIOD_MS;
}

long node_grace_ms(const struct tree_node *t) {
  return t->grace_ms >= 0 ? t->grace_ms : NODE_DEFAULT_GRACE_MS;
}

bool tree_in_subtree(const struct tree_node *n, const struct tree_node *top) {
  for (; n; n = n->parent)
    if (n == top)
      return true;
  return false;
}

enum restart_type node_restart(const struct tree_node *t) {
  return t->restart == RESTART_UNSET ? RESTART_PERMANENT : t->restart;
}

enum stop_order node_stop_order(const struct tree_node *t) {
  return t->stop_order == STOP_UNSET ? STOP_PARALLEL : t->stop_order;
}

const char *node_host(const struct tree_node *t) {
  for (; t; t = t->parent)
    if (t->host)
      return t->host;
  return NULL;
}

bool policy_restarts(enum policy p) {
  return p == POLICY_RESTART || p == POLICY_ONE_FOR_ALL ||
         p == POLICY_REST_FOR_ONE;
}

/* A node whose spawn step is later than its parent's is not in the spec
 * the parent was started with (scenario_node_spec() leaves it out), so it
 * does not count as a child of the spec: only children born with t. */
static bool has_spec_children(const struct tree_node *t) {
  for (size_t i = 0; i < t->nchildren; i++)
    if (t->children[i]->spawn_step == t->spawn_step)
      return true;
  return false;
}

long node_shutdown_bound_ms(const struct tree_node *t) {
  switch (t->shutdown) {
  case SHUTDOWN_MS: return t->shutdown_ms;
  case SHUTDOWN_BRUTAL_KILL: return 0;
  case SHUTDOWN_INFINITY: return -1;
  default: break;
  }
  if (has_spec_children(t))
    return -1;
  return t->parent ? node_grace_ms(t->parent) : node_grace_ms(t);
}

long node_backoff_ms(const struct tree_node *t, unsigned n) {
  if (t->backoff_base_ms < 0 || n == 0)
    return 0;
  long d = t->backoff_base_ms;
  for (unsigned i = 1; i < n && d < t->backoff_max_ms; i++)
    d *= 2;
  return d < t->backoff_max_ms ? d : t->backoff_max_ms;
}

long node_end_bound_ms(const struct tree_node *t, bool one_at_a_time) {
  long sum = 0, max = 0;
  for (size_t i = 0; i < t->nchildren; i++) {
    long c = node_stop_bound_ms(t->children[i]);
    sum += c;
    max = c > max ? c : max;
  }
  return one_at_a_time || node_stop_order(t) == STOP_REVERSE ? sum : max;
}

long node_stop_bound_ms(const struct tree_node *t) {
  long b = node_shutdown_bound_ms(t);
  return (b > 0 ? b : 0) + node_end_bound_ms(t, false);
}
