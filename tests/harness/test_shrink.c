/* test_shrink.c — shrinking failing scenarios: the library on a scenario
 * with one wrong expect (down to that step on the root alone, its long
 * echo body halved in request and pattern alike, progress reported), and
 * the treeproof command on real fault-switch failures: crash-isolate under
 * WATVM_FAULT=swallow-panic (fewer steps and nodes, containment still
 * fails with the fault and holds without it, the header says so), the
 * same from a recorded trace, a scenario that holds (exit 1, nothing
 * written), the --max-runs bound, and bad input (exit 2). */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../conformance/common.h"
#include "scenario.h"
#include "shrink.h"

static char *slurp(const char *path) {
  FILE *f = fopen(path, "re");
  if (!f)
    return NULL;
  char *buf = calloc(1, 1 << 20);
  size_t n = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
  (void)n;
  fclose(f);
  return buf;
}

/* ---- the library ------------------------------------------------------------ */

static void count_line(void *ctx, const char *line) {
  (void)line;
  (*(int *)ctx)++;
}

Test(shrink, library_wrong_expect, .timeout = 120.) {
  tp_subreaper();
  static const char y[] =
      "name: wrong-expect\n"
      "tree:\n"
      "  name: L1\n"
      "  children:\n"
      "    - name: L2a\n"
      "      children: [{name: L3a}, {name: L3b}]\n"
      "    - name: L2b\n"
      "steps:\n"
      "  - send: '{:id 1 :op :fan :req {:op :ping}}'\n"
      "    expect: '{:id 1 :replies [_ _]}'\n"
      "  - send: '{:id 2 :op :route :path [\"L2a\" \"L3b\"] :req {:op :ping}}'\n"
      "    expect: '{:id 2 :pong true}'\n"
      "  - send: '{:id 3 :op :echo :body \"abcdefghijklmnopqrstuvwxyz0123456789\"}'\n"
      "    expect: '{:id 3 :body \"abcdefghijklmnopqrstuvwxyz0123456789\" :extra 1}'\n"
      "  - wait_ms: 10\n"
      "  - send: '{:id 4 :op :route :path [\"L2b\"] :req {:op :ping}}'\n"
      "    expect: '{:id 4 :pong true}'\n"
      "properties: [replies, isolation, cascade]\n";
  struct scenario_error se;
  struct scenario *s = scenario_load_mem("wrong-expect.yaml", y, sizeof y - 1, &se);
  cr_assert(s, "%d:%d: %s", se.pos.line, se.pos.column, se.message);
  char *argv[] = {getenv("WATVM"), NULL};
  cr_assert(argv[0]);
  int lines = 0;
  struct shrink_opts o = {argv, NULL, -1, 100, count_line, &lines};
  struct shrink_result r;
  char err[512];
  cr_assert(shrink_scenario(s, &o, &r, err, sizeof err) == 0, "%s", err);
  cr_assert(!r.held && r.s);
  cr_expect_eq(r.check, PROP_REPLIES, "replies is the first that fails");
  cr_expect_eq(r.confirmed, 3);
  cr_expect_eq(r.steps0, 5);
  cr_expect_eq(r.nodes0, 5);
  cr_expect_eq(r.s->nsteps, 1, "only the wrong expect is left (%zu)", r.s->nsteps);
  cr_expect_eq(r.s->nnodes, 1, "the root alone answers :echo (%zu)", r.s->nnodes);
  cr_expect(r.s->properties[PROP_REPLIES] && !r.s->properties[PROP_ISOLATION] &&
            !r.s->properties[PROP_CASCADE]);
  const edn_value *body = edn_map_getk(r.s->steps[0].send, "body");
  cr_assert(body && body->type == EDN_STRING);
  cr_expect_leq(body->u.text.len, 8, "the body was halved down to %zu bytes",
                body->u.text.len);
  const edn_value *want = edn_map_getk(r.s->steps[0].expect, "body");
  cr_expect(want && edn_equal(want, body), "the pattern's copy was halved too");
  cr_expect_leq(r.runs, 100 + 1 + 3);
  cr_expect_gt(lines, 3, "progress was reported");
  shrink_result_free(&r);
  scenario_free(s);
  cr_expect_eq(tp_leftovers(), 0);
}

Test(shrink, library_holds) {
  tp_subreaper();
  static const char y[] = "name: fine\ntree: {name: L1}\nsteps:\n"
                          "  - send: '{:id 1 :op :ping}'\n"
                          "    expect: '{:id 1 :pong true}'\n";
  struct scenario_error se;
  struct scenario *s = scenario_load_mem("fine.yaml", y, sizeof y - 1, &se);
  cr_assert(s);
  char *argv[] = {getenv("WATVM"), NULL};
  struct shrink_opts o = {argv, NULL, -1, 0, NULL, NULL};
  struct shrink_result r;
  char err[512];
  cr_assert(shrink_scenario(s, &o, &r, err, sizeof err) == 0, "%s", err);
  cr_expect(r.held);
  cr_expect_null(r.s);
  cr_expect_eq(r.runs, 1);
  shrink_result_free(&r);
  scenario_free(s);
}

/* ---- the command --------------------------------------------------------------- */

static void check_reproducer(const char *out, const char *name) {
  char *text = slurp(out);
  cr_assert(text, "%s was not written", out);
  cr_expect(strstr(text, "# property: containment\n"), "%s", text);
  cr_expect(strstr(text, "# fails-with: WATVM_FAULT=swallow-panic\n"), "%s", text);
  cr_expect(strstr(text, "# reproduces: containment fails: "), "%s", text);
  cr_expect(strstr(text, "# reproduce: WATVM_FAULT=swallow-panic treeproof run "),
            "%s", text);
  cr_expect(strstr(text, "holds without the fault"), "%s", text);
  free(text);
  struct scenario_error se;
  struct scenario *s = scenario_load(out, &se);
  cr_assert(s, "%s: %d:%d: %s", out, se.pos.line, se.pos.column, se.message);
  cr_expect_lt(s->nsteps, 7, "fewer steps than crash-isolate's 7: %zu", s->nsteps);
  cr_expect_lt(s->nnodes, 6, "fewer nodes than crash-isolate's 6: %zu", s->nnodes);
  cr_expect_str_eq(s->name, name);
  scenario_free(s);
  /* it fails exactly the same check with the fault, and holds without */
  char point[200], failed[1024];
  snprintf(point, sizeof point, "%s: containment", name);
  const char *args[] = {"run", "--tap", out, NULL};
  struct tp_run r;
  cr_assert(tp_run_args(&r, "swallow-panic", 60., args) == 0);
  cr_expect_eq(r.status, 1, "%s%s", r.out, r.err);
  cr_expect_eq(tap_failures(r.out, failed, sizeof failed), 1, "[%s]", failed);
  cr_expect_eq(tap_verdict(r.out, point), 0, "%s", r.out);
  cr_expect(strstr(r.out, ":panic nil"), "%s", r.out);
  tp_run_free(&r);
  cr_assert(tp_run_args(&r, NULL, 60., args) == 0);
  cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
  cr_expect_eq(tap_verdict(r.out, point), 1, "%s", r.out);
  tp_run_free(&r);
  cr_expect_eq(tp_leftovers(), 0);
}

Test(shrink, command_swallow_panic, .timeout = 120.) {
  tp_subreaper();
  char *dir = tp_temp_dir("shrink"), *out = NULL, *sc = tp_source("trees/crash-isolate.yaml");
  cr_assert(asprintf(&out, "%s/min.yaml", dir) > 0);
  const char *args[] = {"shrink", "--out", out, sc, NULL};
  struct tp_run r;
  cr_assert(tp_run_args(&r, "swallow-panic", 100., args) == 0);
  cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
  cr_expect(strstr(r.out, "shrink: containment fails with"), "%s", r.out);
  cr_expect(strstr(r.err, "shrink: confirmed: containment failed in 3 of 3 runs"),
            "%s", r.err);
  tp_run_free(&r);
  check_reproducer(out, "crash-isolate-swallow-panic");
  free(sc);
  free(out);
  tp_rm_dir(dir);
}

Test(shrink, command_from_a_trace, .timeout = 120.) {
  tp_subreaper();
  char *dir = tp_temp_dir("shrink"), *out = NULL, *tr = NULL;
  char *sc = tp_source("trees/crash-isolate.yaml");
  cr_assert(asprintf(&out, "%s/min.yaml", dir) > 0);
  cr_assert(asprintf(&tr, "%s/trace", dir) > 0);
  const char *run[] = {"run", "--trace", tr, sc, NULL};
  struct tp_run r;
  cr_assert(tp_run_args(&r, "swallow-panic", 60., run) == 0);
  cr_expect_eq(r.status, 1);
  tp_run_free(&r);
  const char *args[] = {"shrink", "--name", "from-trace", "--out", out, tr, NULL};
  cr_assert(tp_run_args(&r, "swallow-panic", 100., args) == 0);
  cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
  tp_run_free(&r);
  char *text = slurp(out);
  cr_assert(text);
  cr_expect(strstr(text, "(recorded in "), "the header names the trace:\n%s", text);
  free(text);
  check_reproducer(out, "from-trace");
  free(sc);
  free(tr);
  free(out);
  tp_rm_dir(dir);
}

Test(shrink, command_holds_writes_nothing, .timeout = 60.) {
  tp_subreaper();
  char *dir = tp_temp_dir("shrink"), *out = NULL, *sc = tp_source("trees/crash-isolate.yaml");
  cr_assert(asprintf(&out, "%s/min.yaml", dir) > 0);
  const char *args[] = {"shrink", "--out", out, sc, NULL};
  struct tp_run r;
  cr_assert(tp_run_args(&r, NULL, 60., args) == 0);
  cr_expect_eq(r.status, 1, "%s%s", r.out, r.err);
  cr_expect(strstr(r.out, "nothing to shrink"), "%s", r.out);
  cr_expect(access(out, F_OK) != 0, "nothing may be written");
  tp_run_free(&r);
  free(sc);
  free(out);
  tp_rm_dir(dir);
  cr_expect_eq(tp_leftovers(), 0);
}

Test(shrink, command_max_runs_bounds_the_search, .timeout = 60.) {
  tp_subreaper();
  char *dir = tp_temp_dir("shrink"), *out = NULL, *sc = tp_source("trees/crash-isolate.yaml");
  cr_assert(asprintf(&out, "%s/min.yaml", dir) > 0);
  char *out_opt = NULL; /* --opt=value, as `run` takes it */
  cr_assert(asprintf(&out_opt, "--out=%s", out) > 0);
  const char *args[] = {"shrink", "--max-runs=3", out_opt, sc, NULL};
  struct tp_run r;
  cr_assert(tp_run_args(&r, "swallow-panic", 60., args) == 0);
  cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
  const char *p = strstr(r.out, "; ");
  unsigned runs = 0;
  cr_assert(p && sscanf(p, "; %u runs)", &runs) == 1, "%s", r.out);
  cr_expect_leq(runs, 1 + 3 + 3, "first run + 3 + 3 confirmations, not %u", runs);
  cr_expect(strstr(r.err, "stopped at the bound"), "%s", r.err);
  cr_expect(access(out, F_OK) == 0, "--out=%s was not written", out);
  tp_run_free(&r);
  free(sc);
  free(out);
  free(out_opt);
  tp_rm_dir(dir);
}

Test(shrink, command_bad_input, .timeout = 30.) {
  struct tp_run r;
  const char *missing[] = {"shrink", "/nonexistent/x.yaml", NULL};
  cr_assert(tp_run_args(&r, NULL, 20., missing) == 0);
  cr_expect_eq(r.status, 2);
  cr_expect(strstr(r.err, "/nonexistent/x.yaml"), "%s", r.err);
  tp_run_free(&r);
  const char *nothing[] = {"shrink", NULL};
  cr_assert(tp_run_args(&r, NULL, 20., nothing) == 0);
  cr_expect_eq(r.status, 2);
  tp_run_free(&r);
  char *sc = tp_source("trees/crash-isolate.yaml");
  const char *check[] = {"shrink", "--check", "speed", sc, NULL};
  cr_assert(tp_run_args(&r, NULL, 20., check) == 0);
  cr_expect_eq(r.status, 2);
  cr_expect(strstr(r.err, "--check"), "%s", r.err);
  tp_run_free(&r);
  const char *runs[] = {"shrink", "--max-runs", "0", sc, NULL};
  cr_assert(tp_run_args(&r, NULL, 20., runs) == 0);
  cr_expect_eq(r.status, 2);
  tp_run_free(&r);
  free(sc);
}
