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
