/* common.h — what every conformance suite shares: running the built
 * treeproof (env TREEPROOF) on a scenario with an optional WATVM_FAULT,
 * capturing its exit status and TAP output, reading the TAP points, and
 * proving nothing was left running. */
#ifndef TREEPROOF_CONFORMANCE_COMMON_H
#define TREEPROOF_CONFORMANCE_COMMON_H

#include <stdbool.h>
#include <stddef.h>

/* A shipped scenario a parameterized test runs: arrays, not pointers, since
 * Criterion hands each test its own copy in a new process. */
struct tree_case {
  char rel[64], name[32];
};
/* The shipped trees/ that every property listed in them must hold on:
 * replies, topology, isolation and cascade run all of them. The 1,111-node
 * generated-10x3 is not among them: the generated suite judges all of its
 * properties from one run (generated.c says why). */
extern struct tree_case tp_shipped_trees[];
extern const size_t tp_nshipped_trees;

struct tp_run {
  int status;  /* exit status of treeproof, or 128+signal, or -1 */
  char *out;   /* its stdout (TAP when --tap was given), malloc'ed */
  char *err;   /* its stderr, malloc'ed */
};

/* A path under the repository (env TREEPROOF_SOURCE_DIR), malloc'ed. */
char *tp_source(const char *rel);
/* Run `treeproof run --tap SCENARIO...` (paths relative to the repo) with
 * WATVM_FAULT=fault (NULL: unset; words after the first that are
 * VAR=VALUE are set too: "skip-child WATVM_FAULT_NODE=L2a"), within
 * timeout_s. 0, or -1 when it could
 * not be run or timed out (it is then killed). */
int tp_run_tap(struct tp_run *r, const char *fault, double timeout_s,
               const char *const *scenarios);
/* Run treeproof with exactly these arguments (argv[0] is added). */
int tp_run_args(struct tp_run *r, const char *fault, double timeout_s,
                const char *const *args);
void tp_run_free(struct tp_run *r);
/* The verdict of TAP point "NAME" ("seed-fractal: isolation"): 1 ok,
 * 0 not ok, -1 absent. */
int tap_verdict(const char *tap, const char *name);
/* How many "not ok" points the TAP output holds; when `names` is given,
 * the failing points' names are written there (comma-separated). */
int tap_failures(const char *tap, char *names, size_t len);
/* Processes this test process has as children or adopted orphans (it is a
 * child subreaper): a conforming run leaves none. */
int tp_leftovers(void);
/* SIGKILL and reap every process tp_leftovers() counts (cleanup after a
 * failed check, so one failure does not leak into the next test). */
void tp_kill_leftovers(void);
/* True in an ASan build (this suite and every node it spawns sanitized). */
bool tp_sanitized(void);
/* Make this process a child subreaper, so leftovers of a run land here. */
void tp_subreaper(void);

/* A new directory /tmp/treeproof-TAG-XXXXXX (malloc'ed path), and its
 * removal with everything in it (frees the path). */
char *tp_temp_dir(const char *tag);
void tp_rm_dir(char *dir);

#endif

/* ---- assertions shared by the suites (Criterion) ---- */

/* The Python interpreter to run the stand-in node with: $TREEPROOF_PYTHON
 * (ctest sets it, CMakeLists.txt says why), else "python3". */
const char *tp_python(void);
/* "PYTHON -S SRC/fixtures/nodes/node.py": the Python node as a --node-cmd,
 * malloc'ed. */
char *tp_python_node(void);
/* Skip the test in a sanitized build: "WHAT run in the plain build" (the
 * Python node is no C program to sanitize; a control that waits out the
 * sanitized slack judges the same harness code in the plain build). */
void tp_plain_build_only(const char *what);

/* A negative control as a table row: the scenario, its name, the fault
 * (as tp_run_tap takes it), the property that must fail and the evidence
 * its diagnostics must hold; node_cmd NULL for watvm. `only`: no other
 * check may fail (else others may, as when one mistake breaks two
 * properties, each naming its own cause). `held_by`: NULL, or the test of
 * the same suite that runs `rel` with the same node and no fault and
 * wants exit 0 with every point ok (tp_assert_holds, or the Python
 * node's like of it) — the run without the fault would repeat it; the
 * control fails when the suite has no test of that name. */
struct tp_control {
  const char *rel, *name, *fault, *prop, *evidence, *node_cmd;
  bool only;
  const char *held_by;
};
/* Run the control with its fault (exit 1, prop failing with the
 * evidence, nothing left behind) and, unless `held_by` names the test
 * that does, without it (exit 0, prop holding). */
void tp_assert_control_run(const struct tp_control *c, double timeout_s);

/* Run `rel` (a scenario under the repo) and assert: exit 0, the scenario's
 * steps and `prop` ok in TAP, nothing left running. `name` is the
 * scenario's name. */
void tp_assert_holds(const char *rel, const char *name, const char *prop,
                     double timeout_s);
/* The same for each of `props` (NULL-terminated), from one run: a tree
 * too big to build once per property. */
void tp_assert_holds_each(const char *rel, const char *name,
                          const char *const *props, double timeout_s);
/* The negative control: with WATVM_FAULT=fault, `rel` must make treeproof
 * exit 1 with exactly "NAME: prop" failing, its diagnostics holding
 * `evidence` (e.g. "pipe:[" or "pgid"); without the fault, it must pass. */
void tp_assert_control(const char *rel, const char *name, const char *fault,
                       const char *prop, const char *evidence,
                       double timeout_s);
