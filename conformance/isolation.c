/* isolation.c — the isolation property: every shipped tree that lists it
 * holds it (exactly the stdio pipes plus three per child, anon inodes
 * otherwise, one edge per pipe inode, each node its own group leader), and
 * the two switches that break it — a leaked pipe end (leak-fd) and children
 * left in their parent's group (no-pgrp) — make treeproof fail exactly
 * isolation. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "common.h"

struct tree_case {
  char rel[64], name[32]; /* arrays, not pointers: each test runs in a new process */
};

ParameterizedTestParameters(isolation, shipped_trees) {
  static struct tree_case c[] = {
      {"trees/seed-fractal.yaml", "seed-fractal"},
      {"trees/deep-chain.yaml", "deep-chain"},
      {"trees/wide.yaml", "wide"},
      {"trees/crash-isolate.yaml", "crash-isolate"},
      {"trees/crash-escalate.yaml", "crash-escalate"},
      {"trees/crash-restart.yaml", "crash-restart"},
      {"trees/kill-middle.yaml", "kill-middle"},
      {"trees/backpressure.yaml", "backpressure"},
      {"trees/generated-10x3.yaml", "generated-10x3"},
  };
  return cr_make_param_array(struct tree_case, c, sizeof c / sizeof c[0]);
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
