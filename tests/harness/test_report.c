/* test_report.c — the reporters on hand-made results: the human line and
 * its indented evidence, TAP 13 (plan, points, YAML diagnostics) read back
 * by Perl's TAP::Parser (what `prove` uses), JUnit XML checked by xmllint;
 * hostile text (control bytes, invalid UTF-8, '#', '<&>') stays valid. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "report.h"

static struct scenario sc_a, sc_b;
static struct scenario_result rs[2];

static void setup(void) {
  memset(&sc_a, 0, sizeof sc_a);
  memset(&sc_b, 0, sizeof sc_b);
  memset(rs, 0, sizeof rs);
  sc_a.name = "seed-fractal";
  sc_a.properties[PROP_REPLIES] = sc_a.properties[PROP_ISOLATION] = true;
  sc_a.properties[PROP_CASCADE] = true;
  rs[0].scenario = &sc_a;
  rs[0].failed_step = -1;
  rs[0].ms = 412.3;
  rs[0].steps = (struct check_result){VERDICT_PASS, NULL, NULL, 300};
  rs[0].props[PROP_REPLIES] = (struct check_result){VERDICT_PASS, NULL, NULL, 1};
  rs[0].props[PROP_ISOLATION] =
      (struct check_result){VERDICT_PASS, "8 nodes, 24 pipes checked", NULL, 12.5};
  rs[0].props[PROP_CASCADE] = (struct check_result){VERDICT_PASS, NULL, NULL, 40};
  sc_b.name = "crash-isolate";
  sc_b.properties[PROP_REPLIES] = sc_b.properties[PROP_CONTAINMENT] = true;
  sc_b.properties[PROP_BACKPRESSURE] = true;
  rs[1].scenario = &sc_b;
  rs[1].failed_step = 3;
  rs[1].ms = 1030;
  rs[1].steps = (struct check_result){
      VERDICT_FAIL, "step 4 (line 22): reply 3 does not match # not a directive",
      "expected {:id 3 :replies [_]}\nat [:replies]: expected 1 items, got 2\n"
      "\n    {:id 3\n>>>  :replies [1 2]}\nbad bytes: \x01\x7f \xff\xfe <&> \"q\" 'a'",
      1001};
  rs[1].props[PROP_REPLIES] =
      (struct check_result){VERDICT_FAIL, "1 expect failed", NULL, 0.5};
  rs[1].props[PROP_CONTAINMENT] =
      (struct check_result){VERDICT_PASS, NULL, NULL, 2};
  rs[1].props[PROP_BACKPRESSURE] = (struct check_result){VERDICT_SKIP, NULL, NULL, 0};
}

/* Under memcheck with --trace-children, perl and xmllint would be judged
 * too (and they leak by design): the outside consumers run in plain builds. */
static bool under_valgrind(void) {
  const char *p = getenv("LD_PRELOAD");
  return p && strstr(p, "vgpreload");
}

static bool starts(const char *s, const char *prefix) {
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

static char *capture_human(const struct scenario_result *r) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  report_human(f, r);
  fclose(f);
  return buf;
}

Test(report, human_pass_is_one_line, .init = setup) {
  char *s = capture_human(&rs[0]);
  cr_expect_str_eq(s, "PASS seed-fractal (412 ms)\n");
  free(s);
}

Test(report, human_fail_shows_checks_and_evidence, .init = setup) {
  char *s = capture_human(&rs[1]);
  cr_expect(starts(s, "FAIL crash-isolate (1030 ms)\n  steps: step 4 (line 22)"), "%s", s);
  cr_expect(strstr(s, "\n    expected {:id 3 :replies [_]}\n    at [:replies]") != NULL, "%s", s);
  cr_expect(strstr(s, "\n    >>>  :replies [1 2]}") != NULL, "%s", s);
  cr_expect(strstr(s, "\n  replies: 1 expect failed\n") != NULL, "%s", s);
  cr_expect_null(strstr(s, "containment"), "passing checks are not listed");
  free(s);
}

/* Run `cmd` with `input` on its stdin; its stdout as a string. */
static char *pipe_through(const char *cmd, const char *input) {
  char in[] = "/tmp/treeproof-report-XXXXXX";
  int fd = mkstemp(in);
  cr_assert_geq(fd, 0);
  cr_assert_eq(write(fd, input, strlen(input)), (ssize_t)strlen(input));
  close(fd);
  char *full = NULL;
  cr_assert(asprintf(&full, "%s < %s", cmd, in) > 0);
  FILE *p = popen(full, "r");
  cr_assert_not_null(p);
  char *out = NULL;
  size_t cap = 0, len = 0;
  FILE *m = open_memstream(&out, &cap);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0)
    fwrite(buf, 1, n, m);
  (void)len;
  pclose(p);
  fclose(m);
  unlink(in);
  free(full);
  return out;
}

static char *tap_text(void) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  cr_assert_eq(report_tap(f, rs, 2), 0);
  fclose(f);
  return buf;
}

Test(report, tap_points_and_plan, .init = setup) {
  char *t = tap_text();
  cr_expect(starts(t, "TAP version 13\n1..8\nok 1 - seed-fractal: steps\n"
                       "ok 2 - seed-fractal: replies\nok 3 - seed-fractal: isolation\n"
                       "  ---\n  message: \"8 nodes, 24 pipes checked\"\n"),
            "%s", t);
  cr_expect(strstr(t, "\nnot ok 5 - crash-isolate: steps\n  ---\n") != NULL, "%s", t);
  cr_expect(strstr(t, "\nnot ok 6 - crash-isolate: replies\n") != NULL, "%s", t);
  cr_expect(strstr(t, "\nok 7 - crash-isolate: backpressure # SKIP not judged\n") != NULL,
            "points follow property order; unjudged ones are skipped: %s", t);
  cr_expect(strstr(t, "\nok 8 - crash-isolate: containment\n") != NULL, "%s", t);
  free(t);
}

Test(report, tap_read_by_tap_parser, .init = setup, .timeout = 30.) {
  if (access("/usr/bin/perl", X_OK) != 0 || under_valgrind())
    cr_skip_test("perl is not installed (or we run under valgrind)");
  char *t = tap_text();
  char *out = pipe_through(
      "perl -MTAP::Parser -e '$/=undef; my $p = TAP::Parser->new({tap => <STDIN>});"
      " my $y = 0; my @m; my $ev; while (my $r = $p->next) { if ($r->is_yaml) { $y++;"
      " push @m, $r->data->{message} // q(); $ev //= $r->data->{evidence}; } }"
      " printf(qq(errors=%d plan=%s passed=%d failed=%d skipped=%d yaml=%d version=%d\\n),"
      " scalar($p->parse_errors), $p->plan, scalar($p->passed), scalar($p->failed),"
      " scalar($p->skipped), $y, $p->version); print qq($_\\n) for @m;"
      " print qq(EVIDENCE\\n), $ev'",
      t);
  cr_expect(starts(out, "errors=0 plan=1..8 passed=6 failed=2 skipped=1 yaml=3 version=13\n"),
            "TAP::Parser says: %s\n--- for ---\n%s", out, t);
  cr_expect(strstr(out, "step 4 (line 22): reply 3 does not match # not a directive") != NULL,
            "the YAML message survives: %s", out);
  /* YAMLish drops the blank line; every other line survives, indented */
  cr_expect(strstr(out, "EVIDENCE\nexpected {:id 3 :replies [_]}\nat [:replies]: "
                        "expected 1 items, got 2\n") != NULL &&
            strstr(out, "\n    {:id 3\n>>>  :replies [1 2]}\n"
                        "bad bytes: ?? ?? <&> \"q\" 'a'\n") != NULL,
            "the evidence block survives line by line: %s", out);
  free(out);
  free(t);
}

Test(report, tap_through_prove, .init = setup, .timeout = 30.) {
  if (access("/usr/bin/prove", X_OK) != 0 || under_valgrind())
    cr_skip_test("prove is not installed (or we run under valgrind)");
  char path[] = "/tmp/treeproof-tap-XXXXXX";
  int fd = mkstemp(path);
  cr_assert_geq(fd, 0);
  FILE *f = fdopen(fd, "w");
  report_tap(f, rs, 1); /* the passing scenario alone: prove says PASS */
  fclose(f);
  char *cmd = NULL;
  cr_assert(asprintf(&cmd, "prove -e cat %s >/dev/null 2>&1", path) > 0);
  int st = system(cmd);
  cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "prove accepts a passing run");
  f = fopen(path, "w");
  report_tap(f, rs, 2);
  fclose(f);
  st = system(cmd);
  cr_expect(WIFEXITED(st) && WEXITSTATUS(st) != 0, "prove fails a failing run");
  free(cmd);
  unlink(path);
}

Test(report, junit_valid_and_counted, .init = setup, .timeout = 30.) {
  char path[] = "/tmp/treeproof-junit-XXXXXX";
  int fd = mkstemp(path);
  cr_assert_geq(fd, 0);
  close(fd);
  cr_assert_eq(report_junit(path, rs, 2), 0);
  FILE *f = fopen(path, "r");
  char text[8192];
  size_t n = fread(text, 1, sizeof text - 1, f);
  text[n] = '\0';
  fclose(f);
  cr_expect(strstr(text, "<testsuites name=\"treeproof\" tests=\"8\" failures=\"2\"") != NULL, "%s", text);
  cr_expect(strstr(text, "name=\"seed-fractal: isolation\"") != NULL, "%s", text);
  cr_expect(strstr(text, "&lt;&amp;&gt;") != NULL, "%s", text);
  cr_expect(strstr(text, "<skipped") != NULL, "%s", text);
  cr_expect(memchr(text, 0x01, n) == NULL && memchr(text, 0xff, n) == NULL,
            "no control byte, no invalid UTF-8");
  if (access("/usr/bin/xmllint", X_OK) == 0 && !under_valgrind()) {
    char *cmd = NULL;
    cr_assert(asprintf(&cmd, "xmllint --noout %s", path) > 0);
    int st = system(cmd);
    cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "xmllint accepts %s:\n%s", path, text);
    free(cmd);
    char *count = NULL;
    cr_assert(asprintf(&count, "xmllint --xpath 'count(//testcase/failure)' %s", path) > 0);
    char *out = pipe_through(count, "");
    cr_expect(starts(out, "2") && strlen(out) <= 2, "two <failure>s, got %s", out);
    free(out);
    free(count);
  }
  unlink(path);
}

Test(report, junit_unwritable) {
  cr_expect_eq(report_junit("/nonexistent-dir/x.xml", NULL, 0), -1);
}

/* ---- the worker → parent wire (result_wire.h) and the node command ---- */

#include "node_cmd.h"
#include "result_wire.h"

Test(report, result_wire_round_trip, .init = setup) {
  struct node_result nodes[] = {
      {"L1", 100, OUTCOME_PASSED, 0, 0, false},
      {"L2a/L3a", 4242, OUTCOME_FAILED, 0, (1u << PROP_CONTAINMENT) | (1u << PROP_COUNT), true},
      {"L2b", 4243, OUTCOME_KILLED, 9, 0, false},
      {"L2b/L3\"c\xff", 0, OUTCOME_CRASHED, 0, 0, true}};
  rs[1].nodes = nodes;
  rs[1].nnodes = 4;
  char *text = result_to_edn(&rs[1]);
  cr_assert_not_null(text);
  struct scenario_result back;
  memset(&back, 0, sizeof back);
  back.scenario = &sc_b;
  cr_assert_eq(result_from_edn(text, strlen(text), &back), 0, "%s", text);
  cr_expect_eq(back.failed_step, 3);
  cr_expect_eq(back.ms, 1030);
  cr_expect_eq(back.steps.verdict, VERDICT_FAIL);
  cr_expect_str_eq(back.steps.summary, rs[1].steps.summary);
  cr_expect(strncmp(back.steps.evidence, rs[1].steps.evidence, 60) == 0, "%s",
            back.steps.evidence);
  cr_expect(strstr(back.steps.evidence, "bad bytes: \x01\x7f ?? <&>") != NULL,
            "invalid UTF-8 crosses as '?': %s", back.steps.evidence);
  cr_expect_eq(back.steps.ms, 1001);
  cr_expect_eq(back.props[PROP_REPLIES].verdict, VERDICT_FAIL);
  cr_expect_eq(back.props[PROP_BACKPRESSURE].verdict, VERDICT_SKIP);
  cr_expect_null(back.props[PROP_CONTAINMENT].summary);
  cr_assert_eq(back.nnodes, 4, "every node crosses: %s", text);
  for (size_t i = 0; i < 3; i++) {
    cr_expect_str_eq(back.nodes[i].path, nodes[i].path);
    cr_expect_eq(back.nodes[i].pid, nodes[i].pid);
    cr_expect_eq(back.nodes[i].outcome, nodes[i].outcome, "node %zu", i);
    cr_expect_eq(back.nodes[i].signal, nodes[i].signal);
    cr_expect_eq(back.nodes[i].failed, nodes[i].failed);
    cr_expect_eq(back.nodes[i].crashed, nodes[i].crashed, "node %zu", i);
  }
  cr_expect_str_eq(back.nodes[3].path, "L2b/L3\"c?", "quote kept, bad byte as '?'");
  cr_expect_eq(back.nodes[3].outcome, OUTCOME_CRASHED);
  scenario_result_free(&back);
  free(text);
  rs[1].nodes = NULL;
  rs[1].nnodes = 0;
  /* without nodes, none come back (a worker that produced none) */
  text = result_to_edn(&rs[0]);
  cr_assert_not_null(text);
  memset(&back, 0, sizeof back);
  cr_assert_eq(result_from_edn(text, strlen(text), &back), 0, "%s", text);
  cr_expect(back.nodes == NULL && back.nnodes == 0);
  scenario_result_free(&back);
  free(text);
  /* a malformed node is no result, and leaves nothing allocated */
  const char *bad = "{:ms 1 :failed-step -1 :checks [{} {} {} {} {} {}] "
                    ":nodes [{:path \"L1\" :pid 1 :outcome :passed :signal 0 "
                    ":failed 0} {:path \"L2\" :pid 2 :outcome :weird :signal 0 "
                    ":failed 0}]}";
  memset(&back, 0, sizeof back);
  cr_expect_eq(result_from_edn(bad, strlen(bad), &back), -1);
  cr_expect(back.nodes == NULL && back.steps.summary == NULL);
  struct scenario_result junk;
  memset(&junk, 0, sizeof junk);
  cr_expect_eq(result_from_edn("{:ms 1}", 7, &junk), -1);
  cr_expect_eq(result_from_edn("not edn {", 9, &junk), -1);
}

Test(report, node_cmd_split_and_resolve) {
  char msg[256];
  char **argv = node_cmd_resolve("  sh   -c\t'x'  ", msg, sizeof msg);
  cr_assert_not_null(argv, "%s", msg);
  cr_expect(strstr(argv[0], "/sh") != NULL, "found on PATH: %s", argv[0]);
  cr_expect_str_eq(argv[1], "-c");
  cr_expect_str_eq(argv[2], "'x'", "no shell: quotes stay");
  cr_expect_null(argv[3]);
  node_cmd_free(argv);
  cr_expect_null(node_cmd_resolve("   ", msg, sizeof msg));
  cr_expect(strstr(msg, "empty") != NULL, "%s", msg);
  cr_expect_null(node_cmd_resolve("/nonexistent/watvm --x", msg, sizeof msg));
  cr_expect(strstr(msg, "/nonexistent/watvm") != NULL, "%s", msg);
  cr_expect_null(node_cmd_resolve("no-such-program-anywhere", msg, sizeof msg));
  argv = node_cmd_resolve("/bin/sh", msg, sizeof msg);
  cr_assert_not_null(argv, "%s", msg);
  cr_expect_str_eq(argv[0], "/bin/sh");
  node_cmd_free(argv);
}
