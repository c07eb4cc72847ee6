/* test_cov_containment.c — the containment auditor's verdict on a parent
 * whose behaviour does not match the policy the scenario gives it. L1 is a
 * scripted sh (answering the wire by hand) with one child, a `sleep`; the
 * scenario SIGKILLs the child. The script reports the exit honestly but
 * neither goes down (:escalate) nor restarts the child (:restart): each
 * policy must be found broken, with its own evidence. In "garbled" mode
 * it reports a panicked child's exit with the wrong status, node, pid and
 * reason, each of which must be caught. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "run.h"
#include "scenario.h"
#include "stand_in.h"

static const char *fake_parent =
    "sleep 300 & kid=$!\n"
    "dead() { case \"$(cut -d' ' -f3 /proc/$kid/stat 2>/dev/null)\" in "
    "Z|'') return 0;; esac; return 1; }\n"
    "while IFS= read -r line; do\n"
    "  id=$(printf '%s\\n' \"$line\" | sed -n 's/.*:id \\(-*[0-9][0-9]*\\).*/\\1/p')\n"
    "  me=\"{:node \\\"L1\\\" :pid $$ :ppid $PPID :pgid $$}\"\n"
    "  if dead; then\n"
    "    kidrep='{:node \"L2a\" :error {:type :wat/dead :message \"dead\"}}'\n"
    "    exits=\"[{:node \\\"L2a\\\" :pid $kid :status {:signal 9} :panic nil}]\"\n"
    "    [ \"$1\" = garbled ] && exits=\"[{:node \\\"L2a\\\" :pid $kid "
    ":status {:exit 3} :panic {:node \\\"X\\\" :pid 1 :reason \\\"other\\\"}}]\"\n"
    "  else\n"
    "    kidrep=\"{:node \\\"L2a\\\" :result {:node \\\"L2a\\\" :pid $kid} "
    ":replies []}\"\n"
    "    exits='[]'\n"
    "  fi\n"
    "  case \"$line\" in\n"
    "  *:panic*) kill -9 $kid; wait $kid; echo \"{:id $id :node \\\"L1\\\" "
    ":error {:type :wat/child-exited :message \\\"x\\\"}}\" ;;\n"
    "  *:inspect*) echo \"{:id $id :node \\\"L1\\\" :result $me :replies "
    "[$kidrep]}\" ;;\n"
    "  *:stats*) echo \"{:id $id :node \\\"L1\\\" :exits $exits :restarts 0}\" ;;\n"
    "  *:fan*) echo \"{:id $id :node \\\"L1\\\" :result {:node \\\"L1\\\" "
    ":pong true} :replies [$kidrep]}\" ;;\n"
    "  *) echo \"{:id $id :node \\\"L1\\\" :pong true}\" ;;\n"
    "  esac\n"
    "done\n"
    "kill $kid 2>/dev/null; wait\n";

static void run_fake(const char *policy, const char *step, const char *mode,
                     struct scenario_result *r) {
  char text[512];
  snprintf(text, sizeof text,
           "name: fake-policy\n"
           "timeout_ms: 1500\n"
           "tree: {name: L1, on_child_exit: %s, children: [{name: L2a}]}\n"
           "steps:\n"
           "  - %s\n"
           "properties: [containment]\n", policy, step);
  stand_in_run(text, fake_parent, mode, r);
}

static void run_policy(const char *policy, struct scenario_result *r) {
  run_fake(policy, "kill: {node: L2a, signal: KILL}", "honest", r);
}

static void expect_containment_fails(const char *policy, const char *evidence) {
  struct scenario_result r;
  run_policy(policy, &r);
  const struct check_result *c = &r.props[PROP_CONTAINMENT];
  cr_expect_eq(c->verdict, VERDICT_FAIL, "%s: containment: %s", policy,
               c->summary);
  cr_expect(c->evidence && strstr(c->evidence, evidence),
            "%s: no '%s' in the evidence:\n%s", policy, evidence, c->evidence);
  scenario_result_free(&r);
}

TestSuite(cov_containment, .timeout = 90.);

/* The same script passes when the scenario says what it does (isolate). */
Test(cov_containment, isolate_matches_the_script) {
  struct scenario_result r;
  run_policy("isolate", &r);
  cr_expect_eq(r.props[PROP_CONTAINMENT].verdict, VERDICT_PASS,
               "containment: %s\n%s", r.props[PROP_CONTAINMENT].summary,
               r.props[PROP_CONTAINMENT].evidence);
  scenario_result_free(&r);
}

Test(cov_containment, escalate_but_the_parent_stays_up) {
  expect_containment_fails("escalate",
                           "L1 has policy :escalate but stays up after L2a");
}

Test(cov_containment, restart_but_no_new_child) {
  expect_containment_fails("restart", "L1 has policy :restart but L2a did not "
                                      "come back under a new pid");
}

Test(cov_containment, a_garbled_panic_report) {
  struct scenario_result r;
  run_fake("isolate",
           "send: '{:id 1 :op :route :path [\"L2a\"] :req {:op :panic "
           ":reason \"boom\"}}'", "garbled", &r);
  const struct check_result *c = &r.props[PROP_CONTAINMENT];
  cr_expect_eq(c->verdict, VERDICT_FAIL, "containment: %s", c->summary);
  const char *want[] = {"reports no :status {:exit 70}",
                        "does not name L2a with pid",
                        "lost its :reason \"boom\""};
  for (size_t i = 0; i < sizeof want / sizeof *want; i++)
    cr_expect(c->evidence && strstr(c->evidence, want[i]),
              "no '%s' in the evidence:\n%s", want[i], c->evidence);
  scenario_result_free(&r);
}

