/* test_cov_evidence.c — what the evidence says when a scripted node (sh
 * answering the wire by hand) gets one thing wrong:
 *  - a root that answers the backpressure flood with two replies swapped
 *    fails backpressure saying "out of order" once, and calls nothing a
 *    duplicate; one that answers a flood request twice is a duplicate and
 *    nothing else;
 *  - a parent whose :stats :exits gives a killed child a :status that is
 *    neither {:exit N} nor {:signal N} is shown with that very value;
 *  - a parent that answers the harness's own :stats twice, or never, is
 *    caught, and the evidence names the request (not its internal :id). */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <string.h>

#include "run.h"
#include "stand_in.h"

/* ---- the backpressure flood -------------------------------------------- */

/* L1 alone: the leaf the backpressure auditor holds. It answers each :echo
 * with its :body; in mode "swap" it keeps the reply to the 3rd :echo back
 * until it has written the 4th's, in mode "dup" it writes the 3rd's twice.
 * No command substitution: the loop forks nothing. */
static const char *echo_root =
    "n=0 held=\n"
    "while IFS= read -r line; do\n"
    "  id=${line##*:id }; id=${id%%[ \\}]*}\n"
    "  case \"$line\" in\n"
    "  *:inspect*) echo \"{:id $id :node \\\"L1\\\" :result {:node \\\"L1\\\" "
    ":pid $$ :ppid $PPID :pgid $$ :depth 1 :children []} :replies []}\" ;;\n"
    "  *:echo*) n=$((n + 1)); body=${line#*:body \\\"}; body=${body%%\\\"*}\n"
    "    rep=\"{:id $id :node \\\"L1\\\" :body \\\"$body\\\"}\"\n"
    "    case $1:$n in\n"
    "    swap:3) held=$rep; continue ;;\n"
    "    dup:3) echo \"$rep\" ;;\n"
    "    esac\n"
    "    echo \"$rep\"\n"
    "    if [ -n \"$held\" ]; then echo \"$held\"; held=; fi ;;\n"
    "  *) echo \"{:id $id :node \\\"L1\\\" :pong true}\" ;;\n"
    "  esac\n"
    "done\n";

static const char *flood =
    "name: flood\n"
    "timeout_ms: 5000\n"
    "tree: {name: L1}\n"
    "steps:\n"
    "  - send: '{:id 1 :op :ping}'\n"
    "    expect: '{:id 1 :pong true}'\n"
    "properties: [backpressure]\n";

/* How many lines of `text` mention `what`. */
static size_t lines_with(const char *text, const char *what) {
  size_t n = 0;
  for (const char *p = text; p && *p;) {
    const char *nl = strchr(p, '\n');
    size_t len = nl ? (size_t)(nl - p) : strlen(p);
    const char *hit = memmem(p, len, what, strlen(what));
    n += hit != NULL;
    p = nl ? nl + 1 : NULL;
  }
  return n;
}

/* No evidence line or summary of `r` shows a negative :id: the harness's
 * own requests (and the flood's) are named by what they were. */
static void no_internal_id(const struct scenario_result *r) {
  const struct check_result *c[PROP_COUNT + 1] = {&r->steps};
  for (size_t p = 0; p < PROP_COUNT; p++)
    c[p + 1] = &r->props[p];
  for (size_t i = 0; i <= PROP_COUNT; i++) {
    cr_expect(!c[i]->summary || !strstr(c[i]->summary, ":id -"),
              "an internal :id in a summary: %s", c[i]->summary);
    cr_expect(!c[i]->evidence || !strstr(c[i]->evidence, ":id -"),
              "an internal :id in the evidence:\n%s", c[i]->evidence);
  }
}

TestSuite(cov_evidence, .timeout = 90.);

/* The control: the same script answering in order passes. */
Test(cov_evidence, a_flood_answered_in_order_passes) {
  struct scenario_result r;
  stand_in_run(flood, echo_root, "ok", &r);
  const struct check_result *c = &r.props[PROP_BACKPRESSURE];
  cr_expect_eq(r.steps.verdict, VERDICT_PASS, "steps: %s", r.steps.summary);
  cr_expect_eq(c->verdict, VERDICT_PASS, "backpressure: %s\n%s", c->summary,
               c->evidence);
  scenario_result_free(&r);
}

/* Two replies swapped: "out of order", once, naming the two requests; no
 * reply is called a duplicate (the late one was counted as one). */
Test(cov_evidence, two_swapped_replies_are_out_of_order_not_duplicated) {
  struct scenario_result r;
  stand_in_run(flood, echo_root, "swap", &r);
  const struct check_result *c = &r.props[PROP_BACKPRESSURE];
  cr_expect_eq(c->verdict, VERDICT_FAIL, "backpressure: %s", c->summary);
  cr_expect_eq(lines_with(c->evidence, "out of order"), 1,
               "not one line 'out of order' in the evidence:\n%s",
               c->evidence);
  cr_expect(c->evidence && strstr(c->evidence, "the reply to request 3 came "
                                  "after the reply to request 4 (1 of "),
            "the swap is not named:\n%s", c->evidence);
  cr_expect(!c->evidence || !strstr(c->evidence, "duplicated"),
            "a reordered reply called a duplicate:\n%s", c->evidence);
  cr_expect(!c->evidence || !strstr(c->evidence, "never arrived"),
            "a reordered reply called lost:\n%s", c->evidence);
  no_internal_id(&r);
  scenario_result_free(&r);
}

/* The same reply twice is a duplicate, and no reordering. */
Test(cov_evidence, a_reply_written_twice_is_duplicated_not_out_of_order) {
  struct scenario_result r;
  stand_in_run(flood, echo_root, "dup", &r);
  const struct check_result *c = &r.props[PROP_BACKPRESSURE];
  cr_expect_eq(c->verdict, VERDICT_FAIL, "backpressure: %s", c->summary);
  cr_expect(c->evidence && strstr(c->evidence, "1 duplicated repl"),
            "no duplicate in the evidence:\n%s", c->evidence);
  cr_expect(!c->evidence || !strstr(c->evidence, "out of order"),
            "a duplicate called a reordering:\n%s", c->evidence);
  no_internal_id(&r);
  scenario_result_free(&r);
}

/* ---- a parent's reports ------------------------------------------------ */

/* L1 is sh, L2a a sleep it started; after L2a is gone, :stats :exits
 * lists it. Modes: "weird" gives it :status {:weird 1}; "stats-twice"
 * answers every :stats twice; "stats-mute" never answers a :stats. */
static const char *parent =
    "mode=$1\n"
    "sleep 300 & kid=$!\n"
    "dead() { case \"$(cut -d' ' -f3 /proc/$kid/stat 2>/dev/null)\" in "
    "Z|'') return 0;; esac; return 1; }\n"
    "while IFS= read -r line; do\n"
    "  id=${line##*:id }; id=${id%%[ \\}]*}\n"
    "  me=\"{:node \\\"L1\\\" :pid $$ :ppid $PPID :pgid $$}\"\n"
    "  status='{:signal 9}'; [ \"$mode\" = weird ] && status='{:weird 1}'\n"
    "  if dead; then\n"
    "    kidrep='{:node \"L2a\" :error {:type :wat/dead :message \"dead\"}}'\n"
    "    exits=\"[{:node \\\"L2a\\\" :pid $kid :status $status :panic nil}]\"\n"
    "  else\n"
    "    kidrep=\"{:node \\\"L2a\\\" :result {:node \\\"L2a\\\" :pid $kid} "
    ":replies []}\"\n"
    "    exits='[]'\n"
    "  fi\n"
    "  stats=\"{:id $id :node \\\"L1\\\" :exits $exits :restarts 0}\"\n"
    "  case \"$line\" in\n"
    "  *:inspect*) echo \"{:id $id :node \\\"L1\\\" :result $me :replies "
    "[$kidrep]}\" ;;\n"
    "  *:stats*) case $mode in\n"
    "    stats-mute) : ;;\n"
    "    stats-twice) echo \"$stats\"; echo \"$stats\" ;;\n"
    "    *) echo \"$stats\" ;;\n"
    "    esac ;;\n"
    "  *:fan*) echo \"{:id $id :node \\\"L1\\\" :result {:node \\\"L1\\\" "
    ":pong true} :replies [$kidrep]}\" ;;\n"
    "  *) echo \"{:id $id :node \\\"L1\\\" :pong true}\" ;;\n"
    "  esac\n"
    "done\n"
    "kill $kid 2>/dev/null; wait\n";

static const char *kill_and_expect =
    "name: stand-in-exit\n"
    "timeout_ms: 1500\n"
    "tree: {name: L1, children: [{name: L2a}]}\n"
    "steps:\n"
    "  - kill: {node: L2a, signal: KILL}\n"
    "  - expect_exit: {node: L2a, status: {signal: KILL}}\n"
    "properties: [containment, replies]\n";

/* The control: reported as {:signal 9}, everything passes. */
Test(cov_evidence, an_honest_exit_report_passes) {
  struct scenario_result r;
  stand_in_run(kill_and_expect, parent, "honest", &r);
  cr_expect(scenario_result_passed(&r), "steps: %s\n%s\ncontainment: %s\n%s",
            r.steps.summary, r.steps.evidence,
            r.props[PROP_CONTAINMENT].summary,
            r.props[PROP_CONTAINMENT].evidence);
  scenario_result_free(&r);
}

/* A :status that is neither {:exit N} nor {:signal N} is shown as it came
 * (containment printed "other"). */
Test(cov_evidence, a_status_that_is_no_exit_nor_signal_is_shown) {
  struct scenario_result r;
  stand_in_run(kill_and_expect, parent, "weird", &r);
  const struct check_result *c = &r.props[PROP_CONTAINMENT];
  cr_expect_eq(c->verdict, VERDICT_FAIL, "containment: %s", c->summary);
  cr_expect(c->evidence && strstr(c->evidence, "reports :status {:weird 1}"),
            "containment evidence:\n%s", c->evidence);
  cr_expect(!c->evidence || !strstr(c->evidence, "other"),
            "containment evidence:\n%s", c->evidence);
  cr_expect_eq(r.steps.verdict, VERDICT_FAIL, "steps: %s", r.steps.summary);
  cr_expect(r.steps.evidence &&
                strstr(r.steps.evidence, "exited with :status {:weird 1}, "
                                         "not {:signal 9}"),
            "steps evidence:\n%s", r.steps.evidence);
  scenario_result_free(&r);
}

/* The harness's :stats answered twice: a duplicate of "the harness's :stats
 * request to L1", not of ":id -2". */
Test(cov_evidence, an_internal_request_answered_twice_is_named) {
  struct scenario_result r;
  stand_in_run(kill_and_expect, parent, "stats-twice", &r);
  const struct check_result *c = &r.props[PROP_REPLIES];
  cr_expect_eq(c->verdict, VERDICT_FAIL, "replies: %s", c->summary);
  cr_expect(c->evidence && strstr(c->evidence, "the harness's :stats request "
                                  "to L1 was answered 2 time(s)"),
            "replies evidence:\n%s", c->evidence);
  no_internal_id(&r);
  scenario_result_free(&r);
}

/* The harness's :stats never answered: lost, and named. */
Test(cov_evidence, an_internal_request_never_answered_is_named) {
  struct scenario_result r;
  stand_in_run(kill_and_expect, parent, "stats-mute", &r);
  const struct check_result *c = &r.props[PROP_REPLIES];
  cr_expect_eq(c->verdict, VERDICT_FAIL, "replies: %s", c->summary);
  cr_expect(c->evidence && strstr(c->evidence, "the harness's :stats request "
                                  "to L1 was sent 1 time(s) but answered 0 "
                                  "time(s)"),
            "replies evidence:\n%s", c->evidence);
  no_internal_id(&r);
  scenario_result_free(&r);
}
