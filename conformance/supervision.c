/* supervision.c — supervision as OTP knows it, judged from outside: every
 * supervise-*.yaml tree holds (its strategy, restart types, shutdown
 * ladder, backoff, intensity and stop order, each predicted by the
 * harness's model and observed by its own pidfds and /proc), and each of
 * seven ways a runtime can get supervision subtly wrong fails the
 * containment property, naming what it saw — in watvm (WATVM_FAULT) and in
 * the Python node (TREENODE_MISTAKE), which make each mistake on its own:
 *
 *   ofa-forget           one_for_all leaves one sibling running
 *   rfo-early            rest_for_one starts the later siblings first
 *   stop-spec-order      siblings stopped first to last, not last first
 *   transient-restart    a transient child restarted after exit 0
 *   temporary-restart    a temporary child restarted, not removed
 *   intensity-per-child  restarts counted per child, not per parent
 *   backoff-no-reset     the backoff never starts again after a healthy run */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>

#include "common.h"

ParameterizedTestParameters(supervision, trees_hold) {
  static struct tree_case c[] = {
      {"trees/supervise-one-for-all.yaml", "supervise-one-for-all"},
      {"trees/supervise-rest-for-one.yaml", "supervise-rest-for-one"},
      {"trees/supervise-transient.yaml", "supervise-transient"},
      {"trees/supervise-temporary.yaml", "supervise-temporary"},
      {"trees/supervise-shutdown.yaml", "supervise-shutdown"},
      {"trees/supervise-backoff.yaml", "supervise-backoff"},
      {"trees/supervise-intensity.yaml", "supervise-intensity"},
      {"trees/supervise-stop-order.yaml", "supervise-stop-order"},
  };
  return cr_make_param_array(struct tree_case, c, sizeof c / sizeof c[0]);
}

ParameterizedTest(struct tree_case *c, supervision, trees_hold, .timeout = 120.) {
  tp_assert_holds(c->rel, c->name, "containment", 100.);
}

struct sup_control {
  const char *tree, *name, *mistake, *evidence;
};

/* Each mistake on the tree that shows it; the evidence is the words the
 * containment auditor must use (other properties may fail too: a sibling
 * left running also answers with a pid the model says is gone). */
static const struct sup_control controls[] = {
    {"trees/supervise-one-for-all.yaml", "supervise-one-for-all", "ofa-forget",
     "(one_for_all) did not stop its child L2a"},
    {"trees/supervise-rest-for-one.yaml", "supervise-rest-for-one", "rfo-early",
     "L1 started L2b (pid"},
    {"trees/supervise-one-for-all.yaml", "supervise-one-for-all",
     "stop-spec-order", "L1 stopped L2a before L2c"},
    {"trees/supervise-transient.yaml", "supervise-transient",
     "transient-restart", "does not list its exited, not restarted child T1"},
    {"trees/supervise-temporary.yaml", "supervise-temporary",
     "temporary-restart", "still lists its temporary child X1"},
    {"trees/supervise-intensity.yaml", "supervise-intensity",
     "intensity-per-child", "crossing its restart intensity"},
    {"trees/supervise-backoff.yaml", "supervise-backoff", "backoff-no-reset",
     "but restart 1 in a row waits 100 ms"},
};

static void run_control(size_t i, bool python) {
  /* the Python node is no C program to sanitize, and its controls judge
   * the same harness code: they run in the plain build */
  if (python)
    tp_plain_build_only("the Python node's controls");
  const struct sup_control *s = &controls[i];
  char fault[128];
  if (python)
    snprintf(fault, sizeof fault, "TREENODE_MISTAKE=%s", s->mistake);
  else
    snprintf(fault, sizeof fault, "%s", s->mistake);
  char *cmd = python ? tp_python_node() : NULL;
  /* watvm's run without the mistake is trees_hold's; node.py's is not */
  struct tp_control c = {s->tree,      s->name, fault,
                         "containment", s->evidence, cmd,
                         false,        python ? NULL : "trees_hold"};
  tp_assert_control_run(&c, 90.);
  free(cmd);
}

#define CONTROL(ix, id)                                                    \
  Test(supervision, control_##id, .timeout = 200.) { run_control(ix, false); } \
  Test(supervision, python_##id, .timeout = 300.) { run_control(ix, true); }

CONTROL(0, ofa_forget)
CONTROL(1, rfo_early)
CONTROL(2, stop_spec_order)
CONTROL(3, transient_restart)
CONTROL(4, temporary_restart)
CONTROL(5, intensity_per_child)
CONTROL(6, backoff_no_reset)
