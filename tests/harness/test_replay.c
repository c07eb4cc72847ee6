/* test_replay.c — traces and replay through the treeproof executable: a
 * traced run holds the lifecycle and replay events (:scenario first, one
 * :step per step, :spawned/:exited/:signal, :verdict last) and every node's
 * file its children's :spawned/:exited; a replay of a passing trace passes
 * with "same outcome"; a trace recorded under WATVM_FAULT=swallow-panic
 * replays to the same containment failure with the fault and to a
 * different outcome without it; a bad trace exits 2 naming file:line. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../conformance/common.h"
#include "edn.h"
#include "replay.h"
#include "scenario.h"

/* treeproof run --trace DIR SCENARIO (under `fault`); its exit status. */
static int traced_run(const char *dir, const char *rel, const char *fault) {
  char *sc = tp_source(rel);
  const char *args[] = {"run", "--trace", dir, sc, NULL};
  struct tp_run r;
  cr_assert(tp_run_args(&r, fault, 60., args) == 0, "treeproof run did not finish");
  int st = r.status;
  tp_run_free(&r);
  free(sc);
  return st;
}

/* The harness trace file in dir (malloc'ed path). */
static char *harness_file(const char *dir) {
  DIR *d = opendir(dir);
  cr_assert(d);
  struct dirent *e;
  char *found = NULL;
  while ((e = readdir(d)))
    if (!strncmp(e->d_name, "harness-", 8))
      cr_assert(asprintf(&found, "%s/%s", dir, e->d_name) > 0);
  closedir(d);
  cr_assert(found, "no harness-*.ednl in %s", dir);
  return found;
}

/* Every line of `path` as an EDN value in `a`; *n gets the count. */
static edn_value **read_events(edn_arena *a, const char *path, size_t *n) {
  FILE *f = fopen(path, "re");
  cr_assert(f, "cannot open %s", path);
  edn_value **v = NULL;
  *n = 0;
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  while ((len = getline(&line, &cap, f)) > 0) {
    v = realloc(v, (*n + 1) * sizeof *v);
    cr_assert(v);
    struct edn_error err;
    cr_assert(edn_read(a, line, (size_t)len, NULL, &v[*n], &err) == EDN_OK,
              "%s: line %zu is not EDN: %s", path, *n + 1, err.message);
    cr_assert(v[*n]->type == EDN_MAP);
    cr_assert(edn_map_getk(v[*n], "t-us") && edn_map_getk(v[*n], "edge"),
              "%s: line %zu lacks :t-us or :edge", path, *n + 1);
    (*n)++;
  }
  free(line);
  fclose(f);
  return v;
}

static size_t count_event(edn_value **v, size_t n, const char *kind) {
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    k += edn_is_keyword(edn_map_getk(v[i], "event"), kind);
  return k;
}

/* A passing traced run of `rel` in a fresh directory, its harness file read. */
struct traced {
  char *dir, *hf;
  edn_arena *a;
  edn_value **v;
  size_t n;
};

static void traced_open(struct traced *t, const char *rel) {
  tp_subreaper();
  t->dir = tp_temp_dir("replay");
  cr_assert_eq(traced_run(t->dir, rel, NULL), 0, "%s held", rel);
  t->hf = harness_file(t->dir);
  t->a = edn_arena_new();
  t->v = read_events(t->a, t->hf, &t->n);
}

static void traced_close(struct traced *t) {
  free(t->v);
  edn_arena_free(t->a);
  free(t->hf);
  tp_rm_dir(t->dir);
  cr_expect_eq(tp_leftovers(), 0);
}

Test(trace, lifecycle_and_replay_events, .timeout = 60.) {
  struct traced t;
  traced_open(&t, "trees/kill-middle.yaml");
  const char *dir = t.dir;
  edn_arena *a = t.a;
  edn_value **v = t.v;
  size_t n = t.n;
  cr_assert_gt(n, 3);
  cr_expect(edn_is_keyword(edn_map_getk(v[0], "event"), "scenario"),
            "the first line is the :scenario header");
  cr_expect(edn_map_getk(v[0], "spec") && edn_map_getk(v[0], "properties"));
  cr_expect(edn_is_keyword(edn_map_getk(v[n - 1], "event"), "verdict"),
            "the last line is the :verdict");
  const edn_value *failed = edn_map_getk(v[n - 1], "failed");
  cr_expect(failed && failed->type == EDN_VECTOR && failed->u.seq.len == 0);
  char *sc = tp_source("trees/kill-middle.yaml");
  struct scenario_error se;
  struct scenario *s = scenario_load(sc, &se);
  cr_assert(s);
  cr_expect_eq(count_event(v, n, "step"), s->nsteps, "one :step per step");
  cr_expect_eq(count_event(v, n, "spawned"), 1, "the root's :spawned");
  /* :exited: the root's, and L2a's two children's, whom the harness
   * reaped (SIGKILL took their parent) */
  cr_expect_eq(count_event(v, n, "exited"), 3, "the root's :exited and two :by :harness");
  size_t adopted = 0;
  for (size_t i = 0; i < n; i++)
    if (edn_is_keyword(edn_map_getk(v[i], "event"), "exited") &&
        edn_is_keyword(edn_map_getk(v[i], "by"), "harness")) {
      const edn_value *node = edn_map_getk(v[i], "node");
      cr_expect(node && node->type == EDN_STRING &&
                    (!strcmp(node->u.text.ptr, "L2a/L3a") ||
                     !strcmp(node->u.text.ptr, "L2a/L3b")),
                "an orphan of L2a: %s", node ? node->u.text.ptr : "(no :node)");
      adopted++;
    }
  cr_expect_eq(adopted, 2, "L3a and L3b reaped by the harness, traced");
  cr_expect_eq(count_event(v, n, "signal"), 2, "two kill steps, two :signal");
  for (size_t i = 0; i < n; i++)
    if (edn_is_keyword(edn_map_getk(v[i], "event"), "signal")) {
      const edn_value *sig = edn_map_getk(v[i], "signal");
      const edn_value *pid = edn_map_getk(v[i], "pid");
      cr_expect(sig && sig->type == EDN_INT && pid && pid->type == EDN_INT &&
                pid->u.integer > 0);
    }
  /* the nodes' files: every spawned child is reaped, each with a status */
  size_t spawned = 0, exited = 0, signals = 0;
  DIR *d = opendir(dir);
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9')
      continue;
    char *p = NULL;
    cr_assert(asprintf(&p, "%s/%s", dir, e->d_name) > 0);
    size_t k;
    edn_value **w = read_events(a, p, &k);
    spawned += count_event(w, k, "spawned");
    exited += count_event(w, k, "exited");
    signals += count_event(w, k, "signal");
    for (size_t i = 0; i < k; i++)
      if (edn_is_keyword(edn_map_getk(w[i], "event"), "exited"))
        cr_expect(edn_map_getk(w[i], "status") &&
                  edn_map_getk(w[i], "status")->type == EDN_MAP);
    free(w);
    free(p);
  }
  closedir(d);
  cr_expect_eq(spawned, s->nnodes - 1, "every node below the root :spawned "
               "once (%zu of %zu)", spawned, s->nnodes - 1);
  /* every child is reaped by its parent but L3a and L3b: SIGKILL took
   * their parent L2a, so the harness (subreaper) reaps them; their
   * :exited is in the harness file (above) */
  cr_expect_eq(exited, spawned - 2, ":exited for every :spawned but L2a's "
               "two children (%zu of %zu)", exited, spawned);
  cr_expect_geq(signals, 1, "L2b's SIGTERM reaches its child: a :signal");
  scenario_free(s);
  free(sc);
  traced_close(&t);
}

/* The backpressure auditor's hold is in the trace too, marked :by so it
 * is no step: a SIGSTOP then a SIGCONT of the held node, beside the
 * scenario's own hold and release steps (no :by). */
Test(trace, auditor_signals_say_who_sent_them, .timeout = 90.) {
  struct traced t;
  traced_open(&t, "trees/backpressure.yaml");
  edn_value **v = t.v;
  int by_auditor[4], by_step[4], na = 0, ns = 0;
  for (size_t i = 0; i < t.n; i++) {
    if (!edn_is_keyword(edn_map_getk(v[i], "event"), "signal"))
      continue;
    const edn_value *by = edn_map_getk(v[i], "by"), *sig = edn_map_getk(v[i], "signal");
    const edn_value *node = edn_map_getk(v[i], "node");
    cr_assert(sig && sig->type == EDN_INT);
    cr_expect(node && node->type == EDN_STRING &&
                  !strcmp(node->u.text.ptr, "L2a/L3a"), "the held node");
    if (by) {
      cr_expect(edn_is_keyword(by, "backpressure"), "only the auditor signals");
      if (na < 4) by_auditor[na] = (int)sig->u.integer;
      na++;
    } else {
      if (ns < 4) by_step[ns] = (int)sig->u.integer;
      ns++;
    }
  }
  cr_assert_eq(ns, 2, "the hold and release steps: %d :signal events", ns);
  cr_expect(by_step[0] == SIGSTOP && by_step[1] == SIGCONT);
  cr_assert_eq(na, 2, "the auditor's hold and release: %d :signal events", na);
  cr_expect(by_auditor[0] == SIGSTOP && by_auditor[1] == SIGCONT);
  /* and replay, which rebuilds steps only, still gives the same outcome */
  const char *args[] = {"replay", t.hf, NULL};
  struct tp_run r;
  cr_assert(tp_run_args(&r, NULL, 60., args) == 0);
  cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
  cr_expect(strstr(r.out, "replay: same outcome"), "%s", r.out);
  tp_run_free(&r);
  traced_close(&t);
}

/* Traces saved by this version keep loading: each fixture rebuilds its
 * scenario, with the verdict it recorded. */
Test(replay, saved_trace_fixtures_load) {
  static const struct {
    const char *name;
    unsigned failed;
  } fx[] = {
      {"crash-isolate", 0},
      {"kill-middle", 0},
      {"spawn-runtime", 0},
      {"crash-escalate-swallow-panic", 1u << REPLAY_STEPS | 1u << PROP_REPLIES |
                                           1u << PROP_CONTAINMENT},
  };
  for (size_t i = 0; i < sizeof fx / sizeof *fx; i++) {
    char *path = NULL, *rel = NULL;
    cr_assert(asprintf(&rel, "fixtures/traces/%s.ednl", fx[i].name) > 0);
    path = tp_source(rel);
    struct replay r;
    struct replay_error err;
    cr_assert_eq(replay_load(path, &r, &err), 0, "%s:%ld: %s", err.file,
                 err.line, err.message);
    cr_expect(r.s->nsteps > 0 && r.s->nnodes > 1, "%s", fx[i].name);
    cr_expect_eq(r.failed, fx[i].failed, "%s: the recorded verdict", fx[i].name);
    if (fx[i].failed)
      cr_expect(r.summary[PROP_CONTAINMENT] && *r.summary[PROP_CONTAINMENT],
                "%s: the recorded summary", fx[i].name);
    replay_free(&r);
    free(path);
    free(rel);
  }
}

Test(replay, passing_trace_same_outcome, .timeout = 60.) {
  tp_subreaper();
  char *dir = tp_temp_dir("replay");
  cr_assert_eq(traced_run(dir, "trees/crash-isolate.yaml", NULL), 0);
  const char *args[] = {"replay", dir, NULL};
  struct tp_run r;
  cr_assert(tp_run_args(&r, NULL, 60., args) == 0);
  cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
  cr_expect(strstr(r.out, "PASS crash-isolate"), "%s", r.out);
  cr_expect(strstr(r.out, "replay: same outcome: every check held (as recorded)"),
            "%s", r.out);
  tp_run_free(&r);
  /* the rebuilt scenario is the one that ran */
  struct replay rp;
  struct replay_error err;
  cr_assert(replay_load(dir, &rp, &err) == 0, "%s:%ld: %s", err.file, err.line,
            err.message);
  cr_expect_eq(rp.s->nsteps, 7);
  cr_expect_eq(rp.s->nnodes, 6);
  cr_expect(rp.s->properties[PROP_CONTAINMENT] && rp.s->has_crash);
  cr_expect_eq(rp.failed, 0);
  cr_expect_null(rp.fault);
  replay_free(&rp);
  tp_rm_dir(dir);
  cr_expect_eq(tp_leftovers(), 0);
}

Test(replay, fault_trace_reproduces_with_the_fault_only, .timeout = 90.) {
  tp_subreaper();
  char *dir = tp_temp_dir("replay");
  cr_assert_eq(traced_run(dir, "trees/crash-isolate.yaml", "swallow-panic"), 1);
  char *hf = harness_file(dir);
  const char *args[] = {"replay", hf, NULL};
  struct tp_run r;
  cr_assert(tp_run_args(&r, "swallow-panic", 60., args) == 0);
  cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
  cr_expect(strstr(r.out, "replay: same outcome: ") &&
            strstr(r.out, "containment failed (as recorded)"), "%s", r.out);
  tp_run_free(&r);
  cr_assert(tp_run_args(&r, NULL, 60., args) == 0);
  cr_expect_eq(r.status, 1, "%s%s", r.out, r.err);
  cr_expect(strstr(r.out, "replay: different outcome: recorded ["), "%s", r.out);
  cr_expect(strstr(r.out, "containment], now []"), "%s", r.out);
  cr_expect(strstr(r.err, "recorded with WATVM_FAULT=swallow-panic"), "%s", r.err);
  tp_run_free(&r);
  struct replay rp;
  struct replay_error err;
  cr_assert(replay_load(hf, &rp, &err) == 0);
  cr_expect(rp.failed & (1u << PROP_CONTAINMENT));
  cr_expect(rp.summary[PROP_CONTAINMENT] &&
            strstr(rp.summary[PROP_CONTAINMENT], "did not reach L2a intact"));
  cr_expect_str_eq(rp.fault, "swallow-panic");
  replay_free(&rp);
  free(hf);
  tp_rm_dir(dir);
  cr_expect_eq(tp_leftovers(), 0);
}

/* ---- bad traces ------------------------------------------------------------ */

static const char header[] =
    "{:t-us 1 :edge [\"harness\" \"L1\"] :event :scenario :name \"t\" "
    ":timeout-ms 500 :properties [:replies] :spec {:name \"L1\" :children "
    "[{:name \"A\"}]}}\n";
static const char step1[] =
    "{:t-us 2 :edge [\"harness\" \"L1\"] :event :step :index 1 :kind :send "
    ":send \"{:id 1 :op :ping}\" :expect {:id 1 :pong true} :timeout-ms 500}\n";
static const char verdict[] =
    "{:t-us 3 :edge [\"harness\" \"L1\"] :event :verdict :failed []}\n";

struct bad_case {
  char text[1024];
  long line;          /* expected in the message; 0: no line */
  char words[64];     /* expected in the message */
};

static void write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "we");
  cr_assert(f);
  fputs(text, f);
  fclose(f);
}

Test(replay, bad_traces_exit_2_with_file_line, .timeout = 60.) {
  static struct bad_case cases[8];
  snprintf(cases[0].text, sizeof cases[0].text, "%s%s{:t-us 3 oops\n%s", header,
           step1, verdict);
  cases[0].line = 3;
  snprintf(cases[0].words, sizeof cases[0].words, "not one EDN value");
  snprintf(cases[1].text, sizeof cases[1].text, "%s%s", header, step1);
  cases[1].line = 2;
  snprintf(cases[1].words, sizeof cases[1].words, "no :verdict");
  snprintf(cases[2].text, sizeof cases[2].text, "%s%s%s%s", header, step1,
           "{:t-us 2 :edge [] :event :step :index 3 :kind :wait :wait-ms 1}\n",
           verdict);
  cases[2].line = 3;
  snprintf(cases[2].words, sizeof cases[2].words, "expected 2");
  snprintf(cases[3].text, sizeof cases[3].text, "%s%s%s%s", header, step1,
           "{:t-us 2 :edge [] :event :step :index 2 :kind :kill :node \"B\" "
           ":signal 9}\n", verdict);
  cases[3].line = 3;
  snprintf(cases[3].words, sizeof cases[3].words, "does not load");
  snprintf(cases[4].text, sizeof cases[4].text, "%s%s", step1, verdict);
  cases[4].line = 1;
  snprintf(cases[4].words, sizeof cases[4].words, "before the :scenario");
  snprintf(cases[5].text, sizeof cases[5].text, "%s%s%s", header,
           "{:t-us 2 :edge [] :event :step :index 1 :kind :fly}\n", verdict);
  cases[5].line = 2;
  snprintf(cases[5].words, sizeof cases[5].words, "unknown step :kind :fly");
  /* a fault on a hop: an unknown half, and a hop where there is none */
  snprintf(cases[6].text, sizeof cases[6].text, "%s%s%s%s", header, step1,
           "{:t-us 2 :edge [] :event :step :index 2 :kind :kill :node \"A\" "
           ":hop :socket :signal 9}\n", verdict);
  cases[6].line = 3;
  snprintf(cases[6].words, sizeof cases[6].words, ":hop: expected :client");
  snprintf(cases[7].text, sizeof cases[7].text, "%s%s%s%s", header, step1,
           "{:t-us 2 :edge [] :event :step :index 2 :kind :hold :node \"A\" "
           ":hop :client}\n", verdict);
  cases[7].line = 3;
  snprintf(cases[7].words, sizeof cases[7].words, "does not load");
  char *dir = tp_temp_dir("replay");
  char *path = NULL;
  cr_assert(asprintf(&path, "%s/harness-1-t.ednl", dir) > 0);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    write_text(path, cases[i].text);
    const char *args[] = {"replay", path, NULL};
    struct tp_run r;
    cr_assert(tp_run_args(&r, NULL, 30., args) == 0);
    char where[700];
    snprintf(where, sizeof where, "%s:%ld: error: ", path, cases[i].line);
    cr_expect_eq(r.status, 2, "case %zu: exit %d\n%s", i, r.status, r.err);
    cr_expect(strstr(r.err, where), "case %zu: no '%s' in\n%s", i, where, r.err);
    cr_expect(strstr(r.err, cases[i].words), "case %zu: no '%s' in\n%s", i,
              cases[i].words, r.err);
    tp_run_free(&r);
  }
  /* the good one replays (A answers :ping) */
  char good[2048];
  snprintf(good, sizeof good, "%s%s%s", header, step1, verdict);
  write_text(path, good);
  /* a far host's files beside it (DIR/h1/, from --trace across hosts)
   * are no harness trace: the directory still names one */
  char *h1 = NULL, *far = NULL;
  cr_assert(asprintf(&h1, "%s/h1", dir) > 0 && asprintf(&far, "%s/h1/210.ednl", dir) > 0);
  cr_assert_eq(mkdir(h1, 0755), 0);
  write_text(far, "{:t-us 3 :edge [\"L2b\" \"L3d\"] :event :spawned :pid 311}\n");
  free(far);
  free(h1);
  const char *args[] = {"replay", dir, NULL};
  struct tp_run r;
  cr_assert(tp_run_args(&r, NULL, 30., args) == 0);
  cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
  tp_run_free(&r);
  /* two traces in one directory: name one */
  char *second = NULL;
  cr_assert(asprintf(&second, "%s/harness-2-t.ednl", dir) > 0);
  write_text(second, good);
  cr_assert(tp_run_args(&r, NULL, 30., args) == 0);
  cr_expect_eq(r.status, 2);
  cr_expect(strstr(r.err, "several harness-*.ednl"), "%s", r.err);
  tp_run_free(&r);
  free(second);
  free(path);
  tp_rm_dir(dir);
}

/* Every shipped tree, traced in one `run -j 2`, replays to the same
 * outcome: the trace alone rebuilds spawn steps, kills, holds, generated
 * trees and backpressure settings. */
Test(replay, every_shipped_tree, .timeout = 240.) {
  tp_subreaper();
  char *dir = tp_temp_dir("replay"), *trees = tp_source("trees");
  DIR *d = opendir(trees);
  cr_assert(d);
  const char *args[64] = {"run", "-j", "2", "--trace", dir};
  size_t n = 5;
  struct dirent *e;
  char *paths[48];
  size_t np = 0;
  while ((e = readdir(d)) && np < 48) {
    size_t len = strlen(e->d_name);
    if (len < 6 || strcmp(e->d_name + len - 5, ".yaml"))
      continue;
    cr_assert(asprintf(&paths[np], "%s/%s", trees, e->d_name) > 0);
    args[n++] = paths[np++];
  }
  closedir(d);
  args[n] = NULL;
  cr_assert_geq(np, 9);
  struct tp_run r;
  cr_assert(tp_run_args(&r, NULL, 200., args) == 0);
  cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
  tp_run_free(&r);
  d = opendir(dir);
  cr_assert(d);
  size_t replayed = 0;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.')
      continue;
    char *sub = NULL;
    cr_assert(asprintf(&sub, "%s/%s", dir, e->d_name) > 0);
    const char *rargs[] = {"replay", sub, NULL};
    cr_assert(tp_run_args(&r, NULL, 60., rargs) == 0);
    cr_expect_eq(r.status, 0, "%s: %s%s", e->d_name, r.out, r.err);
    cr_expect(strstr(r.out, "replay: same outcome: every check held"), "%s: %s",
              e->d_name, r.out);
    tp_run_free(&r);
    free(sub);
    replayed++;
  }
  closedir(d);
  cr_expect_eq(replayed, np, "one trace directory per scenario");
  for (size_t i = 0; i < np; i++)
    free(paths[i]);
  free(trees);
  tp_rm_dir(dir);
  cr_expect_eq(tp_leftovers(), 0);
}
