/* other_node.c — treeproof judges the contract, not one program: a second
 * node implementation, fixtures/nodes/node.py (Python standard library
 * only, different from watvm in every internal), is run through the same
 * shipped scenarios with `treeproof run --node-cmd "python3 .../node.py"`.
 * It must hold the seed scenario and every scenario of the replies,
 * isolation, containment and cascade suites (and the conformance trees
 * those suites run without a fault switch); a wrong expectation and a lost
 * reply must fail it exactly as they fail watvm; its own EDN codec must
 * read the shared fixtures/edn/ as the contract says. Where it differs from
 * watvm — generated-10x3, 1,111 Python processes, is bound by interpreter
 * start-up (~70 ms of CPU each) — the test records exactly how the
 * harness reports it (fixtures/nodes/README.md says the same). */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

/* `treeproof run --tap --node-cmd "PYTHON -S SRC/fixtures/nodes/node.py"
 * SCENARIO` (scenario relative to the repository). */
static int run_python_file(struct tp_run *r, const char *sc, double timeout_s) {
  char *cmd = tp_python_node();
  const char *args[] = {"run", "--tap", "--node-cmd", cmd, sc, NULL};
  int rc = tp_run_args(r, NULL, timeout_s, args);
  free(cmd);
  return rc;
}

static int run_python(struct tp_run *r, const char *rel, double timeout_s) {
  char *sc = tp_source(rel);
  int rc = run_python_file(r, sc, timeout_s);
  free(sc);
  return rc;
}

/* A copy of scenario `rel` in a new temporary directory with its
 * `timeout_ms:` line set to `ms`: the path (malloc'ed; remove it and its
 * directory with drop_copy). */
static char *copy_with_timeout(const char *rel, long ms) {
  char *src = tp_source(rel);
  FILE *in = fopen(src, "r");
  cr_assert_not_null(in, "cannot read %s", src);
  char *dir = tp_temp_dir("other"), *path;
  cr_assert_geq(asprintf(&path, "%s/scenario.yaml", dir), 0);
  free(dir); /* drop_copy finds it again from the path */
  FILE *out = fopen(path, "w");
  cr_assert_not_null(out, "cannot write %s", path);
  char line[4096];
  while (fgets(line, sizeof line, in)) {
    if (!strncmp(line, "timeout_ms:", 11))
      fprintf(out, "timeout_ms: %ld\n", ms);
    else
      fputs(line, out);
  }
  fclose(in);
  cr_assert_eq(fclose(out), 0, "cannot write %s", path);
  free(src);
  return path;
}

static void drop_copy(char *path) {
  *strrchr(path, '/') = '\0';
  tp_rm_dir(path);
}

/* Criterion runs tests side by side (--jobs 2): the small trees may share
 * the machine, but the 1,111-process tree takes it alone, or the small
 * trees' interpreters starve while it starts and miss their timeouts. The
 * lock is flock(2) on node.py itself (no file is created); it goes with
 * the test's process. LOCK_SH or LOCK_EX. */
static int take_machine(int how) {
  char *node = tp_source("fixtures/nodes/node.py");
  int fd = open(node, O_RDONLY | O_CLOEXEC);
  free(node);
  cr_assert_geq(fd, 0, "fixtures/nodes/node.py is missing");
  int rc;
  while ((rc = flock(fd, how)) < 0 && errno == EINTR) {
  }
  cr_assert_eq(rc, 0, "flock on node.py failed");
  return fd;
}

static void expect_point(const struct tp_run *r, const char *scenario,
                         const char *prop, int verdict) {
  char point[256];
  snprintf(point, sizeof point, "%s: %s", scenario, prop);
  cr_expect_eq(tap_verdict(r->out, point), verdict,
               "'%s' should be %s:\n%s", point, verdict ? "ok" : "not ok",
               r->out);
}

/* The diagnostic block's message under TAP point "SCENARIO: PROP" holds
 * `text`. */
static void expect_message(const struct tp_run *r, const char *scenario,
                           const char *prop, const char *text) {
  char point[256];
  snprintf(point, sizeof point, " - %s: %s\n", scenario, prop);
  const char *p = strstr(r->out, point);
  const char *next = p ? strstr(p + 1, "\nok ") : NULL;
  const char *next2 = p ? strstr(p + 1, "\nnot ok ") : NULL;
  if (!next || (next2 && next2 < next))
    next = next2;
  const char *hit = p ? strstr(p, text) : NULL;
  cr_expect(hit && (!next || hit < next),
            "'%s: %s' does not say \"%s\":\n%s", scenario, prop, text,
            r->out);
}

static void expect_nothing_left(const char *rel) {
  cr_expect_eq(tp_leftovers(), 0, "%s: processes left behind", rel);
  tp_kill_leftovers();
}

/* ---- the scenarios it must hold -------------------------------------- */

struct held_case {
  char rel[64], name[32];
  char props[96]; /* the scenario's properties, space-separated */
  long timeout_ms; /* 0: as shipped; else the step timeout it is run with */
};

ParameterizedTestParameters(other_node, holds) {
  static struct held_case c[] = {
      {"trees/seed-fractal.yaml", "seed-fractal",
       "replies isolation backpressure containment cascade", 0},
      /* 64 interpreters start one after the other before the chain can
       * answer: ~3 s on a quiet 2-core machine, but over 10 s once seen
       * at load 70, so 60 s per step here. */
      {"trees/deep-chain.yaml", "deep-chain", "replies isolation cascade",
       60000},
      {"trees/wide.yaml", "wide", "replies isolation cascade", 0},
      {"trees/crash-isolate.yaml", "crash-isolate",
       "replies isolation containment cascade", 0},
      {"trees/crash-escalate.yaml", "crash-escalate",
       "replies isolation containment cascade", 0},
      {"trees/crash-restart.yaml", "crash-restart",
       "replies isolation containment cascade", 0},
      {"trees/kill-middle.yaml", "kill-middle",
       "replies isolation containment cascade", 0},
      {"trees/backpressure.yaml", "backpressure",
       "replies isolation backpressure cascade", 0},
      {"trees/spawn-runtime.yaml", "spawn-runtime",
       "replies isolation containment cascade", 0},
      {"conformance/trees/control-all.yaml", "control-all",
       "replies isolation backpressure containment cascade", 0},
      {"conformance/trees/close-subtree.yaml", "close-subtree",
       "replies isolation cascade", 0},
      {"conformance/trees/inflight-at-close.yaml", "inflight-at-close",
       "replies cascade", 0},
      {"conformance/trees/escalate-root.yaml", "escalate-root",
       "replies containment cascade", 0},
      /* supervision, judged the same for both implementations */
      {"trees/supervise-one-for-all.yaml", "supervise-one-for-all",
       "replies topology containment cascade", 0},
      {"trees/supervise-rest-for-one.yaml", "supervise-rest-for-one",
       "replies topology containment cascade", 0},
      {"trees/supervise-transient.yaml", "supervise-transient",
       "replies topology containment cascade", 0},
      {"trees/supervise-temporary.yaml", "supervise-temporary",
       "replies topology containment cascade", 0},
      {"trees/supervise-shutdown.yaml", "supervise-shutdown",
       "replies topology containment cascade", 0},
      {"trees/supervise-backoff.yaml", "supervise-backoff",
       "replies topology containment cascade", 0},
      {"trees/supervise-intensity.yaml", "supervise-intensity",
       "replies topology containment cascade", 0},
      {"trees/supervise-stop-order.yaml", "supervise-stop-order",
       "replies topology containment cascade", 0},
  };
  return cr_make_param_array(struct held_case, c, sizeof c / sizeof c[0]);
}

/* Every point ok — steps and each listed property, none skipped — exit 0,
 * nothing left running. */
ParameterizedTest(struct held_case *c, other_node, holds, .timeout = 240.) {
  /* The Python node is no C program to sanitize, and beside the sanitized
   * suites 100 interpreters miss their first :inspect: the plain build
   * judges it, with the same harness code. */
  tp_plain_build_only("the Python node's scenarios");
  int lock = take_machine(LOCK_SH);
  tp_subreaper();
  struct tp_run r;
  char *copy = c->timeout_ms ? copy_with_timeout(c->rel, c->timeout_ms) : NULL;
  int rc = copy ? run_python_file(&r, copy, 200.) : run_python(&r, c->rel, 100.);
  if (copy)
    drop_copy(copy);
  cr_assert_eq(rc, 0, "%s: treeproof did not finish in time", c->rel);
  char failed[4096];
  int nfail = tap_failures(r.out, failed, sizeof failed);
  cr_expect_eq(r.status, 0, "%s with node.py: exit %d, failed: [%s]\n%s%s",
               c->rel, r.status, failed, r.out, r.err);
  cr_expect_eq(nfail, 0, "%s with node.py: failed: [%s]", c->rel, failed);
  cr_expect(!strstr(r.out, "# SKIP"), "%s: a property was not judged:\n%s",
            c->rel, r.out);
  expect_point(&r, c->name, "steps", 1);
  char props[96];
  snprintf(props, sizeof props, "%s", c->props);
  for (char *save = NULL, *p = strtok_r(props, " ", &save); p;
       p = strtok_r(NULL, " ", &save))
    expect_point(&r, c->name, p, 1);
  expect_nothing_left(c->rel);
  tp_run_free(&r);
  close(lock);
}

/* ---- failures are caught in it as in watvm --------------------------- */

Test(other_node, wrong_expectation_fails_as_with_watvm, .timeout = 180.) {
  int lock = take_machine(LOCK_SH);
  tp_subreaper();
  struct tp_run r;
  cr_assert_eq(run_python(&r, "conformance/trees/wrong-expect.yaml", 50.), 0);
  cr_expect_eq(r.status, 1, "exit %d, expected 1\n%s", r.status, r.out);
  expect_point(&r, "wrong-expect", "steps", 0);
  expect_point(&r, "wrong-expect", "replies", 0);
  expect_point(&r, "wrong-expect", "isolation", 1);
  expect_point(&r, "wrong-expect", "cascade", 1);
  cr_expect(strstr(r.out, "expected 3 items, got 2"),
            "the diff does not say what differs:\n%s", r.out);
  expect_nothing_left("wrong-expect");
  tp_run_free(&r);
  close(lock);
}

Test(other_node, lost_reply_fails_as_with_watvm, .timeout = 180.) {
  int lock = take_machine(LOCK_SH);
  tp_subreaper();
  struct tp_run r;
  cr_assert_eq(run_python(&r, "conformance/trees/lost-reply.yaml", 50.), 0);
  cr_expect_eq(r.status, 1, "exit %d, expected 1\n%s", r.status, r.out);
  expect_point(&r, "lost-reply", "steps", 0);
  expect_point(&r, "lost-reply", "replies", 0);
  expect_point(&r, "lost-reply", "cascade", 1);
  cr_expect(strstr(r.out, "no reply within the timeout (300 ms)"),
            "the failure does not say it timed out:\n%s", r.out);
  expect_nothing_left("lost-reply");
  tp_run_free(&r);
  close(lock);
}

/* ---- its codec ------------------------------------------------------- */

/* The node's own EDN codec against the shared fixtures/edn/ (valid read
 * and round-tripped, malformed refused, hostile a value or a clean
 * error): fixtures/nodes/check_edn.py, exit 0 when all hold. */
/* `PYTHON SRC/REL`, waited for at most `seconds`: its exit status, or -1
 * when it did not finish (then killed). */
static int run_script(const char *rel, int seconds) {
  char *script = tp_source(rel);
  pid_t pid = fork();
  cr_assert_geq(pid, 0);
  if (pid == 0) {
    execlp(tp_python(), tp_python(), script, (char *)NULL);
    _exit(127);
  }
  free(script);
  int st = 0;
  pid_t w = 0;
  for (int i = 0; i < seconds * 100 && (w = waitpid(pid, &st, WNOHANG)) == 0; i++) {
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  if (w == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    return -1;
  }
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

Test(other_node, its_edn_codec_reads_the_shared_fixtures, .timeout = 60.) {
  int rc = run_script("fixtures/nodes/check_edn.py", 50);
  cr_expect_neq(rc, -1, "check_edn.py did not finish in 50 s");
  cr_expect_eq(rc, 0, "check_edn.py found problems (its stdout above says which)");
}

/* ---- where it differs from watvm ------------------------------------- */

/* MemAvailable in kB, or -1. */
static long mem_available_kb(void) {
  FILE *f = fopen("/proc/meminfo", "re");
  char line[256];
  long kb = -1;
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, "MemAvailable: %ld kB", &kb) == 1)
      break;
  if (f)
    fclose(f);
  return kb;
}

/* generated-10x3: 1,111 Python processes. Each costs ~70 ms of CPU to
 * start (the interpreter alone ~50) and ~8 MB of private memory, so on 2
 * cores the tree needs well over the scenario's 30 s to come up: the
 * harness's first {:op :fan :req {:op :inspect}} times out, the steps fail
 * saying so, isolation and backpressure cannot be judged (they need the
 * tree's pids), and nothing else fails: the one request the root had in
 * flight is answered once the tree is up, then closing its stdin takes
 * the whole tree down (cascade ok) and nothing is left running. A machine
 * fast enough to start it within 30 s passes it whole; that is accepted
 * and logged. Either way the harness's verdict is exact. */
Test(other_node, generated_10x3_is_bound_by_interpreter_startup,
     .timeout = 400.) {
  /* minutes of CPU and ~9 GB: not in every CI run, but one variable away */
  if (!getenv("TREEPROOF_SLOW"))
    cr_skip_test("1,111 Python nodes take minutes and ~9 GB; "
                 "set TREEPROOF_SLOW=1 to run this test");
  long avail = mem_available_kb();
  if (avail >= 0 && avail < 12L * 1024 * 1024)
    cr_skip_test("needs ~12 GB free for 1,111 Python processes, "
                 "MemAvailable is %ld MB", avail / 1024);
  int lock = take_machine(LOCK_EX);
  tp_subreaper();
  struct tp_run r;
  cr_assert_eq(run_python(&r, "trees/generated-10x3.yaml", 200.), 0,
               "treeproof did not finish in 200 s");
  char failed[4096];
  int nfail = tap_failures(r.out, failed, sizeof failed);
  if (r.status == 0) {
    cr_log_info("generated-10x3: node.py held every property on this "
                "machine (it started 1,111 interpreters within 30 s)");
    cr_expect_eq(nfail, 0);
  } else {
    cr_expect_eq(r.status, 1, "exit %d\n%s%s", r.status, r.out, r.err);
    cr_expect_eq(nfail, 3, "expected exactly steps, isolation and "
                 "backpressure to fail, failed: [%s]\n%s", failed, r.out);
    expect_point(&r, "generated-10x3", "steps", 0);
    expect_message(&r, "generated-10x3", "steps",
                   "tree: the root did not answer a {:op :fan :req "
                   "{:op :inspect}} (timed out)");
    expect_point(&r, "generated-10x3", "isolation", 0);
    expect_message(&r, "generated-10x3", "isolation",
                   "cannot be judged: the tree never answered the "
                   "harness's first :inspect");
    expect_point(&r, "generated-10x3", "backpressure", 0);
    expect_message(&r, "generated-10x3", "backpressure",
                   "cannot be judged: the tree never answered the "
                   "harness's first :inspect");
    cr_log_info("generated-10x3 with node.py, as expected: %s", failed);
  }
  expect_point(&r, "generated-10x3", "replies", 1);
  expect_point(&r, "generated-10x3", "cascade", 1);
  expect_nothing_left("generated-10x3");
  tp_run_free(&r);
  close(lock);
}
