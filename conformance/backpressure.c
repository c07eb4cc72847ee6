/* backpressure.c — the backpressure property: with a leaf held, the bytes
 * the root accepts stay under the bound of the path's pipes and queues, RSS
 * stays bounded, and every reply arrives in order after release — on every
 * shipped tree that lists it (generated-10x3's is in generated.c); and
 * `unbounded-queue` (a node that reads its stdin without limit) makes
 * treeproof fail exactly backpressure. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "common.h"

ParameterizedTestParameters(backpressure, shipped_trees) {
  static struct tree_case c[] = {
      {"trees/backpressure.yaml", "backpressure"},
      {"trees/seed-fractal.yaml", "seed-fractal"},
  };
  return cr_make_param_array(struct tree_case, c, sizeof c / sizeof c[0]);
}

ParameterizedTest(struct tree_case *c, backpressure, shipped_trees,
                  .timeout = 120.) {
  tp_assert_holds(c->rel, c->name, "backpressure", 100.);
}

Test(backpressure, control_unbounded_queue, .timeout = 120.) {
  tp_assert_control("conformance/trees/control-all.yaml", "control-all",
                    "unbounded-queue", "backpressure", "over the bound", 60.);
}
