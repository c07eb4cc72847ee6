/* test_run.c — run_scenario against stand-in nodes: a command that cannot
 * start, and `cat` (it echoes requests instead of answering them). Either
 * way the run is judged, and nothing is left behind. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <sys/wait.h>

#include "run.h"
#include "scenario.h"

static const char *one_node =
    "name: one\n"
    "timeout_ms: 2000\n"
    "tree: {name: L1}\n"
    "steps:\n"
    "  - send: '{:id 1 :op :ping}'\n"
    "    expect: '{:id 1 :pong true}'\n"
    "properties: [replies, isolation, cascade]\n";

static struct scenario *load(const char *text) {
  struct scenario_error err;
  struct scenario *s = scenario_load_mem("one.yaml", text, strlen(text), &err);
  cr_assert(s, "load: %d:%d: %s", err.pos.line, err.pos.column, err.message);
  return s;
}

static void nothing_left(void) {
  errno = 0;
  cr_expect_eq(waitpid(-1, NULL, WNOHANG), -1, "a child is left");
  cr_expect_eq(errno, ECHILD);
}

Test(run, a_node_command_that_cannot_start, .timeout = 20.) {
  struct scenario *s = load(one_node);
  char *argv[] = {"/nonexistent/watvm", NULL};
  struct run_opts o = {.node_argv = argv};
  struct scenario_result r;
  cr_expect_eq(run_scenario(s, &o, &r), -1);
  cr_expect_eq(r.steps.verdict, VERDICT_FAIL);
  cr_expect(r.steps.summary && strstr(r.steps.summary, "No such file"),
            "summary: %s", r.steps.summary);
  cr_expect(!scenario_result_passed(&r));
  nothing_left();
  scenario_result_free(&r);
  scenario_free(s);
}

Test(run, a_node_that_lies_is_caught, .timeout = 20.) {
  struct scenario *s = load(one_node);
  /* cat echoes each request back: no :result :pid anywhere */
  char *argv[] = {"sh", "-c", "exec cat", "node", NULL};
  struct run_opts o = {.node_argv = argv};
  struct scenario_result r;
  cr_expect_eq(run_scenario(s, &o, &r), 0);
  cr_expect_eq(r.steps.verdict, VERDICT_FAIL);
  cr_expect(r.steps.summary && strstr(r.steps.summary, "own pid"),
            "summary: %s", r.steps.summary);
  cr_expect_eq(r.props[PROP_CASCADE].verdict, VERDICT_PASS,
               "cat ends at EOF: %s", r.props[PROP_CASCADE].summary);
  cr_expect(!scenario_result_passed(&r));
  nothing_left();
  scenario_result_free(&r);
  scenario_free(s);
}
