/* test_cov_run.c — `treeproof run` on the scenarios in tests/harness/trees/
 * (cov-*.yaml) that exercise the drive's less common steps and failure
 * paths and the containment auditor at kill steps: each run must exit as
 * the scenario's first comment says, name the failing check and carry its
 * message, and leave no process behind. Also `graph` on spawned nodes and
 * on names that repeat or need escaping. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../conformance/common.h"

#define TREES "tests/harness/trees/"

/* Run one scenario with --tap; expect `status`, the TAP point "NAME: steps"
 * to be `steps_ok`, and the output to hold `evidence` (when given). */
static void run_expect(const char *rel, const char *name, int status,
                       int steps_ok, const char *evidence) {
  tp_subreaper();
  struct tp_run r;
  const char *sc[] = {rel, NULL};
  int rc = tp_run_tap(&r, NULL, 30., sc);
  cr_expect_eq(rc, 0, "%s: treeproof did not finish", rel);
  cr_expect_eq(r.status, status, "%s: exit %d, expected %d\n%s%s", rel,
               r.status, status, r.out, r.err);
  char point[128];
  snprintf(point, sizeof point, "%s: steps", name);
  cr_expect_eq(tap_verdict(r.out, point), steps_ok, "%s:\n%s", point, r.out);
  if (evidence)
    cr_expect(strstr(r.out, evidence) != NULL, "%s: no '%s' in\n%s", rel,
              evidence, r.out);
  cr_expect_eq(tp_leftovers(), 0, "%s: processes left behind", rel);
  tp_kill_leftovers();
  tp_run_free(&r);
}

/* Only the steps failed: every other listed property still held. */
static void steps_fail(const char *file, const char *evidence) {
  char rel[256], name[128];
  snprintf(rel, sizeof rel, TREES "%s.yaml", file);
  snprintf(name, sizeof name, "%s", file);
  run_expect(rel, name, 1, 0, evidence);
}

TestSuite(cov_run, .timeout = 60.);

Test(cov_run, spawn_step_holds) {
  tp_assert_holds("trees/spawn-runtime.yaml", "spawn-runtime", "containment",
                  30.);
  tp_assert_holds("trees/spawn-runtime.yaml", "spawn-runtime", "isolation",
                  30.);
}

Test(cov_run, spawn_under_a_dead_parent_fails) {
  steps_fail("cov-spawn-dead-parent", "L2a did not spawn L3n");
}

Test(cov_run, root_exit_status_mismatch) {
  steps_fail("cov-root-wrong-exit", "exited with {:exit 70}, expected {:exit 3}");
}

Test(cov_run, root_that_never_exits) {
  steps_fail("cov-root-stays", "did not exit within 300 ms");
}

Test(cov_run, child_that_never_exits) {
  steps_fail("cov-child-stays", "no exit of L2a");
}

Test(cov_run, child_killed_by_another_signal) {
  steps_fail("cov-child-wrong-signal",
             "exited with :status {:signal 9}, not {:signal 15}");
}

Test(cov_run, kill_of_a_node_already_gone) {
  steps_fail("cov-kill-twice", "kill: L2a is not alive");
}

Test(cov_run, stop_and_continue_by_kill_steps) {
  run_expect(TREES "cov-stop-cont.yaml", "cov-stop-cont", 0, 1, NULL);
}

Test(cov_run, containment_at_kill_steps_under_restart_and_escalate) {
  tp_assert_holds(TREES "cov-contain-kills.yaml", "cov-contain-kills",
                  "containment", 30.);
}

Test(cov_run, containment_of_a_killed_root) {
  tp_assert_holds(TREES "cov-kill-root.yaml", "cov-kill-root", "containment",
                  30.);
}

static char *graph_of(const char *rel) {
  char *path = tp_source(rel);
  const char *args[] = {"graph", path, NULL};
  struct tp_run r;
  cr_assert_eq(tp_run_args(&r, NULL, 10., args), 0);
  free(path);
  cr_expect_eq(r.status, 0, "graph %s: exit %d\n%s", rel, r.status, r.err);
  free(r.err);
  return r.out;
}

Test(cov_run, graph_marks_spawned_nodes) {
  char *dot = graph_of("trees/spawn-runtime.yaml");
  cr_expect(strstr(dot, "\"L2a\" -> \"L3n\";"), "%s", dot);
  cr_expect(strstr(dot, "\"L3n\" [label=\"L3n\", style=dashed];"), "%s", dot);
  cr_expect(strstr(dot, "\"L3a\" [label=\"L3a\"];"), "not dashed:\n%s", dot);
  free(dot);
}

Test(cov_run, graph_names_by_path_when_names_repeat) {
  char *dot = graph_of(TREES "cov-graph-names.yaml");
  cr_expect(strstr(dot, "\"q\\\"a\" -> \"q\\\"a/x\";"), "%s", dot);
  cr_expect(strstr(dot, "\"b\\\\s\" -> \"b\\\\s/x\";"), "%s", dot);
  cr_expect(strstr(dot, "\"b\\\\s/x\" [label=\"x\"];"), "%s", dot);
  free(dot);
}

Test(cov_run, send_after_the_root_is_gone) {
  steps_fail("cov-root-gone", "the root is gone (EPIPE)");
}

Test(cov_run, multiline_send_goes_as_one_line) {
  run_expect(TREES "cov-multiline-send.yaml", "cov-multiline-send", 0, 1,
             NULL);
}

/* A root that reads the harness's first :inspect and exits without an
 * answer: the steps fail and say how it ended (sh expands ${IFS}: the
 * harness splits the command on whitespace itself). */
Test(cov_run, root_that_exits_without_answering) {
  tp_subreaper();
  char *path = tp_source(TREES "cov-kill-twice.yaml");
  const char *args[] = {"run", "--node-cmd", "sh -c read${IFS}x", path, NULL};
  struct tp_run r;
  cr_assert_eq(tp_run_args(&r, NULL, 30., args), 0);
  free(path);
  cr_expect_eq(r.status, 1, "exit %d\n%s%s", r.status, r.out, r.err);
  cr_expect(strstr(r.out, "the root did not answer") &&
                strstr(r.out, "it exited with status 0"),
            "%s%s", r.out, r.err);
  cr_expect_eq(tp_leftovers(), 0);
  tp_run_free(&r);
}

/* Output paths that cannot be written: exit 2 and the path named. */
static void unwritable(const char *const *args, const char *msg) {
  struct tp_run r;
  cr_assert_eq(tp_run_args(&r, NULL, 30., args), 0);
  cr_expect_eq(r.status, 2, "%s: exit %d\n%s", args[1], r.status, r.err);
  cr_expect(strstr(r.err, msg), "%s: no '%s' in\n%s", args[1], msg, r.err);
  tp_run_free(&r);
}

Test(cov_run, unwritable_outputs_exit_2) {
  tp_subreaper();
  char *path = tp_source(TREES "cov-multiline-send.yaml");
  const char *svg[] = {"graph", "--svg", "/nonexistent/g.svg", path, NULL};
  unwritable(svg, "unable to render /nonexistent/g.svg");
  const char *junit[] = {"run", "--junit", "/nonexistent/r.xml", path, NULL};
  unwritable(junit, "unable to write /nonexistent/r.xml");
  const char *trace[] = {"run", "--trace", "/nonexistent/t/u", path, NULL};
  unwritable(trace, "unable to create /nonexistent/t/u");
  free(path);
  cr_expect_eq(tp_leftovers(), 0);
}

/* Two scenarios with the same name traced into one directory get their own
 * subdirectories: NAME and NAME.2. */
Test(cov_run, trace_dirs_of_scenarios_with_one_name) {
  tp_subreaper();
  char *dir = tp_temp_dir("cov-trace");
  char *path = tp_source(TREES "cov-multiline-send.yaml");
  const char *args[] = {"run", "--trace", dir, path, path, NULL};
  struct tp_run r;
  int rc = tp_run_args(&r, NULL, 30., args);
  free(path);
  char one[300], two[300];
  snprintf(one, sizeof one, "%s/cov-multiline-send", dir);
  snprintf(two, sizeof two, "%s/cov-multiline-send.2", dir);
  struct stat a, b;
  bool have_one = stat(one, &a) == 0 && S_ISDIR(a.st_mode),
       have_two = stat(two, &b) == 0 && S_ISDIR(b.st_mode);
  tp_rm_dir(dir);
  cr_expect_eq(rc, 0);
  cr_expect_eq(r.status, 0, "exit %d\n%s%s", r.status, r.out, r.err);
  cr_expect(have_one, "no %s", one);
  cr_expect(have_two, "no %s", two);
  cr_expect_eq(tp_leftovers(), 0);
  tp_run_free(&r);
}

/* A spec over 64 KiB travels on the root's stdin; a root that exits at once
 * cannot take it, and the launch failure says so. */
Test(cov_run, big_spec_to_a_root_that_is_gone) {
  tp_subreaper();
  char *path = tp_source(TREES "cov-big-spec-dead-root.yaml");
  const char *args[] = {"run", "--node-cmd", "true", path, NULL};
  struct tp_run r;
  cr_assert_eq(tp_run_args(&r, NULL, 30., args), 0);
  free(path);
  cr_expect_eq(r.status, 1, "exit %d\n%s%s", r.status, r.out, r.err);
  cr_expect(strstr(r.out, "launch: unable to write the spec to the root's "
                          "stdin"), "%s%s", r.out, r.err);
  cr_expect_eq(tp_leftovers(), 0);
  tp_run_free(&r);
}
