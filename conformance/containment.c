/* containment.c — the containment property at every crash step of the
 * shipped crash scenarios (isolate, escalate, restart, kill): the report
 * reaches the parent intact, the policy is visible, every node outside the
 * crashed subtree keeps its pid and answers; and `swallow-panic` (a node
 * that dies without its panic report) makes treeproof fail exactly
 * containment. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "common.h"

ParameterizedTestParameters(containment, shipped_trees) {
  static struct tree_case c[] = {
      {"trees/seed-fractal.yaml", "seed-fractal"},
      {"trees/crash-isolate.yaml", "crash-isolate"},
      {"trees/crash-escalate.yaml", "crash-escalate"},
      {"trees/crash-restart.yaml", "crash-restart"},
      {"trees/kill-middle.yaml", "kill-middle"},
  };
  return cr_make_param_array(struct tree_case, c, sizeof c / sizeof c[0]);
}

ParameterizedTest(struct tree_case *c, containment, shipped_trees,
                  .timeout = 120.) {
  tp_assert_holds(c->rel, c->name, "containment", 100.);
}

Test(containment, control_swallow_panic, .timeout = 120.) {
  tp_assert_control("conformance/trees/control-all.yaml", "control-all",
                    "swallow-panic", "containment", ":panic nil", 60.);
}

/* A crash every level passes up ends at the harness: the root's own panic
 * on stderr carries the chain. */
Test(containment, escalation_to_the_root, .timeout = 60.) {
  tp_assert_holds("conformance/trees/escalate-root.yaml", "escalate-root",
                  "containment", 50.);
}

Test(containment, control_swallow_panic_escalated, .timeout = 120.) {
  tp_assert_control("conformance/trees/escalate-root.yaml", "escalate-root",
                    "swallow-panic", "containment", "never showed", 60.);
}

/* The harness counts restarts as the runtime does: a crash escalated into a
 * node counts toward that node's restart limit, and counts start again
 * below a restarted node. (Before this was so, the harness expected M to
 * restart E a second time and Q1's second kill to take Q down.) */
Test(containment, restart_counts_follow_the_runtime, .timeout = 60.) {
  tp_assert_holds("conformance/trees/restart-counts.yaml", "restart-counts",
                  "containment", 50.);
  tp_assert_holds("conformance/trees/restart-counts.yaml", "restart-counts",
                  "cascade", 50.);
}

/* A :restart parent that ignores :max-restarts: containment names it
 * (topology also sees the parent that should be gone, in its own words). */
Test(containment, control_no_restart_limit, .timeout = 200.) {
  static const struct tp_control c = {
      "conformance/trees/restart-limit.yaml", "restart-limit",
      "no-restart-limit", "containment",
      "M stays up after M/C exited, crossing its restart intensity", NULL,
      false, NULL};
  tp_assert_control_run(&c, 90.);
}
