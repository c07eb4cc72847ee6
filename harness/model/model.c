/* model.c — the policy walk: from an exited node up, each parent's policy
 * decides whether the crash stops there (isolated, or restarted within the
 * limit) or goes on up (escalated, or the restart limit crossed), until the
 * root ends the tree. */
#include <string.h>

#include "model.h"

void model_outcome(const struct model_view *v, int node,
                   struct model_outcome *o) {
  memset(o, 0, sizeof *o);
  o->certain = true;
  for (int x = node;;) {
    int p = v->parent(v->ctx, x);
    o->down = x;
    if (p < 0) {
      o->tree_ends = true;
      return;
    }
    enum policy pol = v->policy(v->ctx, p);
    if (pol == POLICY_ISOLATE)
      return;
    if (pol == POLICY_RESTART) {
      int crossed = v->limit_crossed(v->ctx, x);
      if (crossed < 0)
        o->certain = false;
      if (crossed <= 0) {
        o->revive = true;
        return;
      }
    }
    o->escalations++; /* :escalate, or the restart limit: p goes down */
    x = p;
  }
}

bool model_comes_back(long top_group, long node_group, bool is_top) {
  return is_top || node_group == top_group;
}
