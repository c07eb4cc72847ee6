/* test_cov_isolation.c — the isolation auditor against a scripted root (sh
 * answering the wire by hand) that breaks one rule at a time: an extra
 * file fd, a duplicated stdin pipe, stderr that is not a pipe, stderr on
 * the wrong end of a pipe, a process under the root that is no node. Each
 * must fail isolation with its own evidence; the same script without a
 * fault must pass, so the failures are the faults' and not the script's. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <sys/wait.h>

#include "run.h"
#include "scenario.h"
#include "stand_in.h"

static const char *fake_root =
    "case $1 in\n"
    "file) exec 7</dev/null ;;\n"
    "dup) exec 8<&0 ;;\n"
    "stderr-file) exec 2>/dev/null ;;\n"
    "stderr-wrong-end) exec 2<&0 ;;\n"
    "kid) sleep 300 & ;;\n"
    "esac\n"
    /* no command substitution: a forked helper would be a stray process */
    "while IFS= read -r line; do\n"
    "  id=${line#*:id }; id=${id%%[ \\}]*}\n"
    "  case \"$line\" in\n"
    "  *:inspect*) echo \"{:id $id :node \\\"L1\\\" :result {:node \\\"L1\\\" "
    ":pid $$ :ppid $PPID :pgid $$ :depth 1 :children []} :replies []}\" ;;\n"
    "  *:fan*) echo \"{:id $id :node \\\"L1\\\" :result {:node \\\"L1\\\" "
    ":pong true} :replies []}\" ;;\n"
    "  *) echo \"{:id $id :node \\\"L1\\\" :pong true}\" ;;\n"
    "  esac\n"
    "done\n"
    "[ \"$1\" = kid ] && kill $! && wait\n"
    "exit 0\n";

static void run_fake_root(const char *mode, struct scenario_result *r) {
  stand_in_run(stand_in_one_node, fake_root, mode, r);
}

static void expect_isolation_fails(const char *mode, const char *evidence) {
  struct scenario_result r;
  run_fake_root(mode, &r);
  const struct check_result *c = &r.props[PROP_ISOLATION];
  cr_expect_eq(c->verdict, VERDICT_FAIL, "%s: isolation %d: %s", mode,
               c->verdict, c->summary);
  cr_expect(c->evidence && strstr(c->evidence, evidence),
            "%s: no '%s' in the evidence:\n%s", mode, evidence, c->evidence);
  cr_expect_eq(r.steps.verdict, VERDICT_PASS, "%s: steps: %s", mode,
               r.steps.summary);
  scenario_result_free(&r);
}

TestSuite(cov_isolation, .timeout = 90.);

Test(cov_isolation, the_honest_script_passes) {
  struct scenario_result r;
  run_fake_root("none", &r);
  cr_expect_eq(r.steps.verdict, VERDICT_PASS, "steps: %s", r.steps.summary);
  cr_expect_eq(r.props[PROP_ISOLATION].verdict, VERDICT_PASS,
               "isolation: %s\n%s", r.props[PROP_ISOLATION].summary,
               r.props[PROP_ISOLATION].evidence);
  scenario_result_free(&r);
}

Test(cov_isolation, a_file_fd) {
  expect_isolation_fails("file", "holds fd 7 -> /dev/null (a file;");
}

Test(cov_isolation, a_duplicated_stdin_pipe) {
  expect_isolation_fails("dup", "L1's fd 0 (stdin, pid");
  expect_isolation_fails("dup", "belongs to no edge of it");
}

Test(cov_isolation, stderr_not_a_pipe) {
  expect_isolation_fails("stderr-file", "fd 2 (stderr) is /dev/null, not a pipe");
}

Test(cov_isolation, stderr_on_the_wrong_end) {
  expect_isolation_fails("stderr-wrong-end", "fd 2 (stderr) is the read end");
}

Test(cov_isolation, a_process_that_is_no_node) {
  expect_isolation_fails("kid", "runs under the root but is no node");
}
