/* cascade.c — the cascade property: a killed or crashed node takes exactly
 * its subtree down within the grace, closing the root's stdin takes the
 * whole tree, and no orphan or zombie is left — on every shipped tree
 * (generated-10x3's in generated.c); the `ignore-eof` switch (a node that
 * outlives its stdin) makes treeproof fail exactly cascade; and Ctrl-C on treeproof mid-scenario leaves no
 * process behind. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

ParameterizedTestParameters(cascade, shipped_trees) {
  return cr_make_param_array(struct tree_case, tp_shipped_trees, tp_nshipped_trees);
}

ParameterizedTest(struct tree_case *c, cascade, shipped_trees,
                  .timeout = 120.) {
  tp_assert_holds(c->rel, c->name, "cascade", 100.);
}

/* Closing (an :exit) rather than killing: exactly the subtree goes. */
Test(cascade, close_takes_exactly_the_subtree, .timeout = 60.) {
  tp_assert_holds("conformance/trees/close-subtree.yaml", "close-subtree",
                  "cascade", 50.);
}

/* The grace counts from the last in-flight answer, not from the close. */
Test(cascade, grace_counts_from_the_last_answer, .timeout = 60.) {
  tp_assert_holds("conformance/trees/inflight-at-close.yaml",
                  "inflight-at-close", "cascade", 50.);
}

Test(cascade, control_ignore_eof, .timeout = 320.) {
  tp_assert_control("conformance/trees/control-all.yaml", "control-all",
                    "ignore-eof", "cascade", "still there", 150.);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* How many processes descend from `pid` (via /proc/PID/task/PID/children). */
static int descendants(pid_t pid) {
  char path[96];
  snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)pid, (int)pid);
  FILE *f = fopen(path, "re");
  if (!f)
    return 0;
  int n = 0, child;
  while (fscanf(f, "%d", &child) == 1)
    n += 1 + descendants(child);
  fclose(f);
  return n;
}

/* Start treeproof on the long interrupt.yaml; return once its worker and
 * the tree's 5 nodes are up. */
/* Wait up to `secs` for treeproof (our child) to exit, polling every
 * 20 ms; past that it is SIGKILLed and reaped. True when it ended itself. */
static bool wait_for_exit(pid_t pid, double secs, int *st) {
  pid_t w = 0;
  double until = now_s() + secs;
  while ((w = waitpid(pid, st, WNOHANG)) == 0 && now_s() < until) {
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  if (w == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, st, 0);
  }
  return w != 0;
}

/* Processes still handed to this subreaper after up to `secs`. */
static int leftovers_after(double secs) {
  int left = 0;
  double until = now_s() + secs;
  while ((left = tp_leftovers()) > 0 && now_s() < until) {
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  return left;
}

static pid_t start_long_run(void) {
  tp_subreaper();
  const char *tp = getenv("TREEPROOF");
  cr_assert(tp, "TREEPROOF not set");
  char *sc = tp_source("conformance/trees/interrupt.yaml");
  pid_t pid = fork();
  cr_assert(pid >= 0);
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
    dup2(null, 1);
    dup2(null, 2);
    execl(tp, tp, "run", sc, (char *)NULL);
    _exit(127);
  }
  free(sc);
  double until = now_s() + 20;
  int n = 0;
  while ((n = descendants(pid)) < 6 && now_s() < until) {
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  cr_expect_geq(n, 6, "the tree never came up (%d processes)", n);
  return pid;
}

/* The harness's own logic dying (its worker, SIGKILLed mid-scenario) takes
 * the tree with it: nothing is left behind. */
Test(cascade, harness_crash_leaves_nothing, .timeout = 60.) {
  pid_t pid = start_long_run();
  char path[96];
  snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)pid, (int)pid);
  FILE *f = fopen(path, "re");
  int worker = 0;
  if (f) {
    if (fscanf(f, "%d", &worker) != 1)
      worker = 0;
    fclose(f);
  }
  cr_assert_gt(worker, 0, "no harness worker found");
  kill(worker, SIGKILL);
  int st = 0;
  cr_expect(wait_for_exit(pid, 20, &st),
            "treeproof did not end after its worker died");
  cr_expect(!(WIFEXITED(st) && WEXITSTATUS(st) == 0),
            "a run whose harness crashed must not report success");
  int left = leftovers_after(5);
  cr_expect_eq(left, 0, "%d processes left behind after the harness crashed",
               left);
  tp_kill_leftovers();
}

/* Ctrl-C while a scenario waits: treeproof ends, its tree with it. */
Test(cascade, interrupt_leaves_nothing, .timeout = 60.) {
  pid_t pid = start_long_run();
  kill(pid, SIGINT);
  int st = 0;
  cr_expect(wait_for_exit(pid, 15, &st),
            "treeproof did not end within 15 s of SIGINT");
  cr_expect(!(WIFEXITED(st) && WEXITSTATUS(st) == 0),
            "an interrupted run must not report success");
  /* anything left would have been adopted by this subreaper */
  int left = leftovers_after(5);
  cr_expect_eq(left, 0, "%d processes left behind after SIGINT", left);
  tp_kill_leftovers(); /* whatever the verdict, nothing for the next test */
}
