/* model.h — the model layer: what a crash does to a tree, by the policies
 * above the crashed node, in one place for everything that predicts it —
 * the engine (which judges a run against the model), chaos (which plans
 * only crashes whose outcome the model can follow), replay and shrink
 * (which run through the engine).
 *
 * The caller keeps its own nodes and answers three questions about them
 * through a model_view: a node's parent, the policy a node applies when
 * one of its children exits, and whether a child's latest exit crosses its
 * parent's restart limit. Nodes are small integers the caller chooses.
 *
 * The semantics (the node contract's "Crash containment"):
 *   :isolate   the parent stays; the exited child's subtree is gone;
 *   :restart   within the limit, the parent starts the child again from its
 *              spec, its whole subtree with it; past the limit the parent
 *              gives up and goes down itself, as under :escalate;
 *   :escalate  the parent goes down too, and the same question is asked
 *              one level up;
 *   the root going down ends the tree. */
#ifndef TREEPROOF_MODEL_H
#define TREEPROOF_MODEL_H

#include <stdbool.h>

#include "scenario.h"

struct model_view {
  const void *ctx;
  /* the parent of `node`, or -1 for the root */
  int (*parent)(const void *ctx, int node);
  /* what `node` does when one of its children exits */
  enum policy (*policy)(const void *ctx, int node);
  /* 1 when the latest exit of `child` crosses its parent's restart limit
   * (more than :max-restarts within :restart-period-ms), 0 when it does
   * not, -1 when the caller cannot know */
  int (*limit_crossed)(const void *ctx, int child);
};

struct model_outcome {
  int down;        /* the topmost node whose subtree goes down */
  bool revive;     /* and comes back: its parent restarts it */
  bool tree_ends;  /* the root goes down: nothing comes back */
  int escalations; /* levels the crash went up before it stopped */
  bool certain;    /* false when a limit the caller could not know was
                      in the way (limit_crossed answered -1) */
};

/* What an exit of `node` does (nothing is changed: the caller applies the
 * outcome to its own nodes; model_comes_back() says which nodes a revive
 * brings back). */
void model_outcome(const struct model_view *v, int node,
                   struct model_outcome *o);

/* After a restart of `top`: does `n`, a node of top's subtree, come back?
 * Yes when it came with top's spec, made by the same spawn (the scenario's
 * tree, or one `spawn` step) — a node a later step spawned under top is
 * not in the spec its parent keeps, and is gone. `group` is the spawn that
 * made a node (tree_node.spawn_step). */
bool model_comes_back(long top_group, long node_group, bool is_top);

#endif
