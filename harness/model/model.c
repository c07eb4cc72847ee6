/* model.c — the policy walk: from an exited node up, each parent's policy
 * and the child's restart type decide whether the crash stops there (dead,
 * removed, or restarted within the intensity, alone or with its group) or
 * goes on up (escalated, or the intensity crossed), until the root ends
 * the tree. */
#include <string.h>

#include "model.h"

/* Does the exited child's restart type let its parent restart it? */
static bool wants_restart(enum restart_type r, bool normal) {
  if (r == RESTART_TEMPORARY)
    return false;
  return !(r == RESTART_TRANSIENT && normal);
}

void model_outcome(const struct model_view *v, int node, bool normal,
                   struct model_outcome *o) {
  memset(o, 0, sizeof *o);
  o->certain = true;
  o->crossed = -1;
  for (int x = node;; normal = false) { /* a node going down panics */
    int p = v->parent(v->ctx, x);
    o->down = x;
    o->by = p;
    if (p < 0) {
      o->tree_ends = true;
      return;
    }
    enum policy pol = v->policy(v->ctx, p);
    enum restart_type r = v->restart(v->ctx, x);
    o->fate = r == RESTART_TEMPORARY ? MODEL_REMOVED : MODEL_DEAD;
    if (pol == POLICY_ISOLATE)
      return;
    if (pol != POLICY_ESCALATE) {
      if (!wants_restart(r, normal))
        return;
      int crossed = v->limit_crossed(v->ctx, p);
      if (crossed < 0)
        o->certain = false;
      if (crossed <= 0) {
        o->fate = MODEL_RESTARTED;
        o->strategy = pol;
        return;
      }
      o->crossed = p;
    }
    o->escalations++; /* escalate, or the intensity crossed: p goes down */
    x = p;
  }
}

bool model_in_group(enum policy strategy, size_t i, size_t down) {
  if (i == down)
    return false; /* the exited child itself: not a sibling */
  if (strategy == POLICY_ONE_FOR_ALL)
    return true;
  return strategy == POLICY_REST_FOR_ONE && i > down;
}

enum model_fate model_sibling_fate(enum restart_type r) {
  return r == RESTART_TEMPORARY ? MODEL_REMOVED : MODEL_RESTARTED;
}

bool model_comes_back(long top_group, long node_group, bool is_top) {
  return is_top || node_group == top_group;
}
