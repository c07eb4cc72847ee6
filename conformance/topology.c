/* topology.c — the topology property, and the zombies cascade judges in
 * every run: every shipped tree (generated-10x3 in generated.c) holds
 * topology (its processes, read from /proc, form exactly the tree the
 * scenario declares and its steps and policies imply), and three mistakes
 * a runtime can make without any node saying so each fail a plain
 * `treeproof run` naming the node and the cause — in watvm (WATVM_FAULT)
 * and in the Python node (TREENODE_MISTAKE), which make them
 * independently:
 *
 *   skip-child    a node never starts its last child
 *   restart-bare  a restart brings the child back without its children
 *   zombie        a node forks a helper and never reaps it */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>

#include "common.h"

ParameterizedTestParameters(topology, shipped_trees) {
  return cr_make_param_array(struct tree_case, tp_shipped_trees, tp_nshipped_trees);
}

ParameterizedTest(struct tree_case *c, topology, shipped_trees,
                  .timeout = 120.) {
  tp_assert_holds(c->rel, c->name, "topology", 100.);
}

/* L2a skips L3b; nothing in seed-fractal talks to L3b, so only topology
 * can notice. */
static const struct tp_control skip_child = {
    "trees/seed-fractal.yaml", "seed-fractal", NULL, "topology",
    "L2a/L3b: declared, no process under L2a (pid", NULL, true, NULL};

/* L2a comes back from its panic as a leaf; every step still answers. */
static const struct tp_control restart_bare = {
    "trees/restart-subtree.yaml", "restart-subtree", NULL, "topology",
    "L2a/L3a: declared, no process under L2a (pid", NULL, true, NULL};

/* L2b/L3d keeps a zombie: cascade names its parent (topology and the
 * pipe count of isolation notice it too, each in its own words). */
static const struct tp_control zombie = {
    "trees/seed-fractal.yaml", "seed-fractal", NULL, "cascade",
    "a zombie its parent L2b/L3d (pid", NULL, false, NULL};

static void run_control(struct tp_control c, const char *fault, bool python) {
  /* The Python node is no C program to sanitize, and each of its controls
   * waits out the sanitized build's 20 s slack: they run in the plain
   * build, where they judge the same harness code. */
  if (python)
    tp_plain_build_only("the Python node's controls");
  char *cmd = python ? tp_python_node() : NULL;
  c.fault = fault;
  c.node_cmd = cmd;
  /* watvm's run without the fault is shipped_trees'; node.py's is not */
  c.held_by = python ? NULL : "shipped_trees";
  tp_assert_control_run(&c, 90.);
  free(cmd);
}

Test(topology, control_skip_child, .timeout = 200.) {
  run_control(skip_child, "skip-child WATVM_FAULT_NODE=L2a", false);
}

Test(topology, control_restart_bare, .timeout = 200.) {
  run_control(restart_bare, "restart-bare", false);
}

Test(topology, control_zombie_fails_cascade, .timeout = 200.) {
  run_control(zombie, "zombie WATVM_FAULT_NODE=L3d", false);
}

Test(topology, python_skip_child, .timeout = 300.) {
  run_control(skip_child, "TREENODE_MISTAKE=skip-child TREENODE_MISTAKE_NODE=L2a",
              true);
}

Test(topology, python_restart_bare, .timeout = 300.) {
  run_control(restart_bare, "TREENODE_MISTAKE=restart-bare", true);
}

Test(topology, python_zombie_fails_cascade, .timeout = 300.) {
  run_control(zombie, "TREENODE_MISTAKE=zombie TREENODE_MISTAKE_NODE=L3d", true);
}
