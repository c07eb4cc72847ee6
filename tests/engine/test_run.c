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
#include "stand_in.h"


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

Test(run, a_node_command_that_cannot_start, .timeout = 90.) {
  struct scenario *s = load(stand_in_one_node);
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

Test(run, a_node_that_lies_is_caught, .timeout = 90.) {
  struct scenario *s = load(stand_in_one_node);
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

/* ---- a scripted stand-in node: right about itself, wrong on the wire --- */

/* $1 is the mode; the harness appends --spec EDN after it. */
static const char *fake_node =
    "mode=$1\n"
    "pg=$$; [ \"$mode\" = liar ] && pg=1\n"
    "while IFS= read -r line; do\n"
    "  id=$(printf '%s\\n' \"$line\" | sed -n 's/.*:id \\(-*[0-9][0-9]*\\).*/\\1/p')\n"
    "  case \"$line\" in\n"
    "  *:inspect*) echo \"{:id $id :node \\\"L1\\\" :result {:node \\\"L1\\\" "
    ":pid $$ :ppid $PPID :pgid $pg} :replies []}\" ;;\n"
    "  *) case \"$mode\" in\n"
    "     dup) echo \"{:id $id :pong true}\"; echo \"{:id $id :pong true}\" ;;\n"
    "     mute) : ;;\n"
    "     garbage) echo 'this is not edn {' ;;\n"
    "     stray) echo '{:id 99 :pong true}'; echo \"{:id $id :pong true}\" ;;\n"
    "     long) printf '{:id %s :pong true :junk \"' \"$id\";\n"
    "           head -c 134217728 /dev/zero | tr '\\000' x; echo '\"}' ;;\n"
    "     flood) yes '{:id 99 :pong true}' | head -n 1000000;\n"
    "            echo \"{:id $id :pong true}\" ;;\n"
    "     endless) head -c 301989888 /dev/zero | tr '\\000' x; echo;\n"
    "              echo \"{:id $id :pong true}\" ;;\n"
    "     *) echo \"{:id $id :pong true}\" ;;\n"
    "     esac ;;\n"
    "  esac\n"
    "done\n"
    "if [ \"$mode\" = stubborn ]; then trap '' TERM INT; while :; do sleep 1; "
    "done; fi\n";

static const char *counting =
    "name: counting\n"
    "timeout_ms: 30000\n" /* slow under valgrind */
    "tree: {name: L1}\n"
    "steps:\n"
    "  - send: '{:id 1 :op :ping}'\n"
    "  - wait_ms: 100\n"
    "properties: [replies, cascade]\n";

static void run_fake(const char *mode, struct scenario_result *r) {
  stand_in_run(counting, fake_node, mode, r);
}

static void expect_replies_fail(const char *mode, const char *why) {
  struct scenario_result r;
  run_fake(mode, &r);
  cr_expect_eq(r.steps.verdict, VERDICT_PASS, "%s: steps: %s", mode,
               r.steps.summary);
  cr_expect_eq(r.props[PROP_REPLIES].verdict, VERDICT_FAIL, "%s", mode);
  cr_expect(r.props[PROP_REPLIES].summary &&
                strstr(r.props[PROP_REPLIES].summary, why),
            "%s: replies summary '%s' lacks '%s'", mode,
            r.props[PROP_REPLIES].summary, why);
  cr_expect_eq(r.props[PROP_CASCADE].verdict, VERDICT_PASS, "%s: %s", mode,
               r.props[PROP_CASCADE].summary);
  scenario_result_free(&r);
}

static void expect_passes(const char *mode) {
  struct scenario_result r;
  run_fake(mode, &r);
  cr_expect(scenario_result_passed(&r), "%s: steps: %s / replies: %s", mode,
            r.steps.summary, r.props[PROP_REPLIES].summary);
  scenario_result_free(&r);
}

Test(run, an_honest_fake_node_passes, .timeout = 90.) {
  expect_passes("ok");
}

Test(run, a_duplicated_reply_fails_replies, .timeout = 90.) {
  expect_replies_fail("dup", "answered 2 time(s)");
}

Test(run, a_lost_reply_fails_replies, .timeout = 90.) {
  expect_replies_fail("mute", "was lost");
}

Test(run, a_reply_that_is_not_edn_fails_replies, .timeout = 90.) {
  expect_replies_fail("garbage", "not an EDN map");
}

Test(run, a_reply_for_an_id_never_sent_fails_replies, .timeout = 90.) {
  expect_replies_fail("stray", "never sent");
}

/* The peak RSS of this test process in kB (Criterion runs each test in
 * a process of its own), or -1. */
static long peak_rss_kb(void) {
  FILE *f = fopen("/proc/self/status", "re");
  char line[256];
  long kb = -1;
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
      break;
  if (f)
    fclose(f);
  return kb;
}

/* A million stray replies (an :id never sent) fail replies and are not
 * kept: the harness's memory does not grow with what a broken root writes
 * (it kept every one, some 300 MB). The real reply still counts. */
Test(run, a_flood_of_stray_replies_costs_no_memory, .timeout = 90.) {
  long before = peak_rss_kb();
  struct scenario_result r;
  run_fake("flood", &r);
  long grew = peak_rss_kb() - before;
  const char *why = r.props[PROP_REPLIES].summary;
  cr_expect_eq(r.props[PROP_REPLIES].verdict, VERDICT_FAIL);
  cr_expect(why && strstr(why, "never sent"), "replies: %s", why);
  cr_expect(why && !strstr(why, "lost"), "the real reply counts: %s", why);
  cr_expect(grew < 32 * 1024, "the harness grew by %ld kB", grew);
  scenario_result_free(&r);
}

/* A 128 MiB reply line is read once, not rescanned from its start on
 * each 64 KiB read (which took minutes: the step timed out). */
Test(run, a_128_mib_reply_line_is_read_in_one_pass, .timeout = 90.) {
  expect_passes("long");
}

/* The same, but the step waits for the reply after the long line: 288
 * MiB through `tr` can outlast the end's grace on a loaded machine, and
 * the harness then rightly reads the cut-off rest as a line of its own. */
static const char *awaiting =
    "name: awaiting\n"
    "timeout_ms: 60000\n"
    "tree: {name: L1}\n"
    "steps:\n"
    "  - send: '{:id 1 :op :ping}'\n"
    "    expect: '{:id 1 :pong true}'\n"
    "properties: [replies, cascade]\n";

/* A line over 256 MiB fails replies and is dropped as it streams; the
 * reply after it still counts. */
Test(run, a_line_over_256_mib_fails_replies, .timeout = 90.) {
  struct scenario_result r;
  stand_in_run(awaiting, fake_node, "endless", &r);
  cr_expect_eq(r.steps.verdict, VERDICT_PASS, "steps: %s", r.steps.summary);
  const char *why = r.props[PROP_REPLIES].summary;
  cr_expect_eq(r.props[PROP_REPLIES].verdict, VERDICT_FAIL);
  cr_expect(why && strstr(why, "a line over 256 MiB"), "replies: %s", why);
  cr_expect(why && !strstr(why, "lost"), "the reply after it counts: %s", why);
  scenario_result_free(&r);
}

/* A root that outlives its stdin (and ignores SIGTERM) fails cascade, and
 * is killed and reaped all the same. */
Test(run, a_root_that_stays_is_killed, .timeout = 90.) {
  struct scenario_result r;
  run_fake("stubborn", &r);
  cr_expect_eq(r.props[PROP_CASCADE].verdict, VERDICT_FAIL);
  cr_expect(r.props[PROP_CASCADE].summary &&
                strstr(r.props[PROP_CASCADE].summary, "still there"),
            "cascade: %s", r.props[PROP_CASCADE].summary);
  scenario_result_free(&r);
}

/* What a node says about itself is checked against /proc. */
Test(run, an_inspect_that_lies_about_its_group_is_caught, .timeout = 90.) {
  struct scenario_result r;
  run_fake("liar", &r);
  cr_expect_eq(r.steps.verdict, VERDICT_FAIL);
  cr_expect(r.steps.summary && strstr(r.steps.summary, ":pgid 1, but /proc"),
            "steps: %s", r.steps.summary);
  scenario_result_free(&r);
}

/* ---- a scripted parent: containment judged on any implementation ----- */

/* L1 is sh, L2a a sleep it started. After L2a is killed, "honest" reports
 * {:status {:signal 9} :panic nil} and lists it :wat/dead; "lying" reports
 * an exit status and keeps listing it alive. */
static const char *fake_parent =
    "mode=$1\n"
    "sleep 300 & kid=$!\n"
    "dead() { case \"$(cut -d' ' -f3 /proc/$kid/stat 2>/dev/null)\" in "
    "Z|'') return 0;; esac; return 1; }\n"
    "while IFS= read -r line; do\n"
    "  id=$(printf '%s\\n' \"$line\" | sed -n 's/.*:id \\(-*[0-9][0-9]*\\).*/\\1/p')\n"
    "  me=\"{:node \\\"L1\\\" :pid $$ :ppid $PPID :pgid $$}\"\n"
    "  if dead && [ \"$mode\" = honest ]; then\n"
    "    kidrep='{:node \"L2a\" :error {:type :wat/dead :message \"dead\"}}'\n"
    "    exits=\"[{:node \\\"L2a\\\" :pid $kid :status {:signal 9} :panic nil}]\"\n"
    "  else\n"
    "    kidrep=\"{:node \\\"L2a\\\" :result {:node \\\"L2a\\\" :pid $kid} "
    ":replies []}\"\n"
    "    exits='[]'\n"
    "    dead && exits=\"[{:node \\\"L2a\\\" :pid $kid :status {:exit 3} "
    ":panic nil}]\"\n"
    "  fi\n"
    "  case \"$line\" in\n"
    "  *:inspect*) echo \"{:id $id :node \\\"L1\\\" :result $me :replies "
    "[$kidrep]}\" ;;\n"
    "  *:stats*) echo \"{:id $id :node \\\"L1\\\" :exits $exits :restarts 0}\" ;;\n"
    "  *:fan*) echo \"{:id $id :node \\\"L1\\\" :result {:node \\\"L1\\\" "
    ":pong true} :replies [$kidrep]}\" ;;\n"
    "  *) echo \"{:id $id :node \\\"L1\\\" :pong true}\" ;;\n"
    "  esac\n"
    "done\n"
    "kill $kid 2>/dev/null; wait\n";

static const char *kill_child =
    "name: fake-crash\n"
    "timeout_ms: 30000\n" /* slow under valgrind */
    "tree: {name: L1, children: [{name: L2a}]}\n"
    "steps:\n"
    "  - kill: {node: L2a, signal: KILL}\n"
    "properties: [containment]\n";

static void run_parent(const char *mode, struct scenario_result *r) {
  stand_in_run(kill_child, fake_parent, mode, r);
}

Test(run, an_honest_scripted_parent_contains_a_kill, .timeout = 90.) {
  struct scenario_result r;
  run_parent("honest", &r);
  cr_expect_eq(r.steps.verdict, VERDICT_PASS, "steps: %s", r.steps.summary);
  cr_expect_eq(r.props[PROP_CONTAINMENT].verdict, VERDICT_PASS,
               "containment: %s\n%s", r.props[PROP_CONTAINMENT].summary,
               r.props[PROP_CONTAINMENT].evidence);
  scenario_result_free(&r);
}

Test(run, a_lying_parent_fails_containment, .timeout = 90.) {
  struct scenario_result r;
  run_parent("lying", &r);
  cr_expect_eq(r.props[PROP_CONTAINMENT].verdict, VERDICT_FAIL);
  const char *ev = r.props[PROP_CONTAINMENT].evidence;
  cr_expect(ev && strstr(ev, "killed with signal 9"), "evidence: %s", ev);
  cr_expect(ev && strstr(ev, "as :wat/dead"), "evidence: %s", ev);
  scenario_result_free(&r);
}
