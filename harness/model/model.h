/* model.h — the model layer: what a child's exit does to a tree, by the
 * policies above it, in one place for everything that predicts it — the
 * engine (which judges a run against the model), chaos (which plans only
 * crashes whose outcome the model can follow), replay and shrink (which
 * run through the engine).
 *
 * The caller keeps its own nodes and answers questions about them through
 * a model_view. Nodes are small integers the caller chooses.
 *
 * The semantics (the node contract's "Crash containment", as OTP's
 * supervisor):
 *   isolate       the parent stays; the exited child is dead (listed so);
 *   escalate      the parent goes down too, and the same question is asked
 *                 one level up (its exit is abnormal: a panic);
 *   restart (one_for_one), one_for_all, rest_for_one
 *                 the exited child is restarted unless its restart type
 *                 says no (temporary: never, and it is removed; transient:
 *                 not after a normal exit) — then nothing else happens;
 *                 a restart that crosses the parent's intensity (more than
 *                 :max-restarts restarts of its children within
 *                 :restart-period-ms, a group restart counted once) takes
 *                 the parent down instead, as under escalate; otherwise
 *                 the child comes back, and under one_for_all every
 *                 sibling, under rest_for_one the siblings after it, are
 *                 stopped and started again too (temporary ones removed);
 *   the root going down ends the tree. */
#ifndef TREEPROOF_MODEL_H
#define TREEPROOF_MODEL_H

#include <stdbool.h>
#include <stddef.h>

#include "scenario.h"

struct model_view {
  const void *ctx;
  /* the parent of `node`, or -1 for the root */
  int (*parent)(const void *ctx, int node);
  /* what `node` does when one of its children exits */
  enum policy (*policy)(const void *ctx, int node);
  /* `node`'s restart type, as its parent reads it */
  enum restart_type (*restart)(const void *ctx, int node);
  /* 1 when one more restart by `parent` now crosses its intensity, 0 when
   * it does not, -1 when the caller cannot know */
  int (*limit_crossed)(const void *ctx, int parent);
};

enum model_fate {
  MODEL_DEAD,      /* gone, and its parent lists it :wat/dead */
  MODEL_REMOVED,   /* gone, and unlisted (a temporary child) */
  MODEL_RESTARTED  /* back with new processes, its whole subtree */
};

struct model_outcome {
  int down;          /* the topmost node whose subtree goes down */
  int by;            /* its parent, whose policy decided; -1: tree ends */
  enum model_fate fate;     /* of `down` */
  enum policy strategy;     /* by's policy, when fate is MODEL_RESTARTED:
                               a one_for_all or rest_for_one group too */
  bool tree_ends;    /* the root goes down: nothing comes back */
  int escalations;   /* levels the crash went up before it stopped */
  int crossed;       /* the node whose intensity the crash crossed last
                        (it stops its children one at a time), or -1 */
  bool certain;      /* false when a limit the caller could not know was
                        in the way (limit_crossed answered -1) */
};

/* What an exit of `node` does; `normal` when it exited with status 0 (a
 * closed stdin, :exit, SIGTERM), which a transient child is not restarted
 * after. Nothing is changed: the caller applies the outcome to its own
 * nodes (model_in_group() says which siblings a group restart takes along,
 * model_comes_back() which nodes of a restarted subtree come back). */
void model_outcome(const struct model_view *v, int node, bool normal,
                   struct model_outcome *o);

/* Under `strategy`, after the child at spec index `down` exited and is
 * restarted: is its sibling at index `i` stopped and started again too?
 * (one_for_all: every sibling; rest_for_one: those after it.) */
bool model_in_group(enum policy strategy, size_t i, size_t down);

/* What becomes of a sibling a group restart stopped: back, unless it is
 * temporary (removed). */
enum model_fate model_sibling_fate(enum restart_type r);

/* After a restart of `top`: does `n`, a node of top's subtree, come back?
 * Yes when it came with top's spec, made by the same spawn (the scenario's
 * tree, or one `spawn` step) — a node a later step spawned under top is
 * not in the spec its parent keeps, and is gone. `group` is the spawn that
 * made a node (tree_node.spawn_step). */
bool model_comes_back(long top_group, long node_group, bool is_top);

#endif
