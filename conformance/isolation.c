/* isolation.c — the isolation property: every shipped tree that lists it
 * (generated-10x3 in generated.c) holds it (exactly the stdio pipes plus
 * three per child, anon inodes otherwise, one edge per pipe inode, each
 * node its own group leader), and the two switches that break it — a
 * leaked pipe end (leak-fd) and children left in their parent's group
 * (no-pgrp) — make treeproof fail exactly isolation. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "common.h"

ParameterizedTestParameters(isolation, shipped_trees) {
  return cr_make_param_array(struct tree_case, tp_shipped_trees, tp_nshipped_trees);
}

ParameterizedTest(struct tree_case *c, isolation, shipped_trees,
                  .timeout = 120.) {
  tp_assert_holds(c->rel, c->name, "isolation", 100.);
}

Test(isolation, control_leak_fd, .timeout = 120.) {
  tp_assert_control("conformance/trees/control-all.yaml", "control-all",
                    "leak-fd", "isolation", "belongs to no edge", 60.);
}

Test(isolation, control_no_pgrp, .timeout = 120.) {
  tp_assert_control("conformance/trees/control-all.yaml", "control-all",
                    "no-pgrp", "isolation", "process-group leader", 60.);
}
