/* stand_in.c — see stand_in.h. */
#define _GNU_SOURCE
#include "stand_in.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <sys/wait.h>

#include "scenario.h"

const char *const stand_in_one_node =
    "name: one\n"
    "timeout_ms: 30000\n" /* slow under valgrind */
    "tree: {name: L1}\n"
    "steps:\n"
    "  - send: '{:id 1 :op :ping}'\n"
    "    expect: '{:id 1 :pong true}'\n"
    "properties: [replies, isolation, cascade]\n";

void stand_in_run(const char *yaml, const char *script, const char *mode,
                  struct scenario_result *r) {
  struct scenario_error err;
  struct scenario *s = scenario_load_mem("stand-in.yaml", yaml, strlen(yaml), &err);
  cr_assert(s, "load: %d:%d: %s", err.pos.line, err.pos.column, err.message);
  char *argv[] = {"sh", "-c", (char *)script, "node", (char *)mode, NULL};
  struct run_opts o = {.node_argv = argv};
  cr_assert_eq(run_scenario(s, &o, r), 0);
  r->scenario = NULL; /* freed below; the verdicts stay */
  scenario_free(s);
  errno = 0;
  cr_expect_eq(waitpid(-1, NULL, WNOHANG), -1, "a child is left");
  cr_expect_eq(errno, ECHILD);
}
