/* test_chaos.c — `treeproof chaos`: the plan is a pure function of the seed
 * (same seed, same schedule; another seed, another one); the model follows
 * crashes through :restart (within the limit, and across it only where the
 * counts must agree) and :escalate and never takes the root down; a run on
 * the seed tree and one with every policy in play hold and leave nothing
 * behind; a node that ignores stdin EOF, and a root that leaves an orphan
 * behind, make it fail with exit 1 and the command that reproduces it;
 * hostile children (babble, stderr-flood) inside the tree change nothing;
 * bad arguments exit 2. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../conformance/common.h"
#include "chaos.h"

#define FRACTAL "trees/seed-fractal.yaml"
#define SUPERVISION "tests/harness/trees/chaos-supervision.yaml"
#define POLICIES "tests/harness/trees/chaos-policies.yaml"

/* The plan of `rel` for `seed`, made in-process (chaos.h). */
static void plan_of(const char *rel, const char *yaml, uint64_t seed,
                    unsigned rounds, struct chaos_plan *p) {
  struct scenario_error se;
  char *file = tp_source(rel);
  struct scenario *s = yaml ? scenario_load_mem(file, yaml, strlen(yaml), &se)
                            : scenario_load(file, &se);
  cr_assert(s, "%s: %s", rel, se.message);
  cr_assert_eq(chaos_plan_make(s, seed, rounds, p), 0);
  scenario_free(s);
  free(file);
}

/* How many of the plan's step descriptions contain `text`. */
static size_t steps_saying(const struct chaos_plan *p, const char *text) {
  size_t n = 0;
  for (size_t i = 0; i < p->nsteps; i++)
    n += p->what[i] && strstr(p->what[i], text) != NULL;
  return n;
}

static int chaos(struct tp_run *r, const char *fault, const char *seed,
                 const char *rounds, const char *flag) {
  char *file = tp_source(FRACTAL);
  const char *args[] = {"chaos", file, "--seed", seed, "--rounds", rounds,
                        flag, NULL};
  /* a bound: under ASan a failing round waits out the 20 s slack */
  int rc = tp_run_args(r, fault, 90., args);
  free(file);
  return rc;
}

Test(chaos, same_seed_same_schedule, .timeout = 20) {
  struct tp_run a, b, c;
  cr_assert_eq(chaos(&a, NULL, "42", "30", "--dry-run"), 0);
  cr_assert_eq(chaos(&b, NULL, "42", "30", "--dry-run"), 0);
  cr_assert_eq(chaos(&c, NULL, "43", "30", "--dry-run"), 0);
  cr_expect_eq(a.status, 0, "%s", a.err);
  cr_expect(strstr(a.out, "# round 30\n") != NULL, "%s", a.out);
  cr_expect(strstr(a.out, "# round 31\n") == NULL);
  cr_expect_str_eq(a.out, b.out);
  cr_expect_str_neq(a.out, c.out);
  /* --opt=value is the same option */
  struct tp_run d;
  char *file = tp_source(FRACTAL);
  const char *args[] = {"chaos", "--dry-run", "--seed=42", file, "--rounds=30", NULL};
  cr_assert_eq(tp_run_args(&d, NULL, 30., args), 0);
  cr_expect_eq(d.status, 0, "%s", d.err);
  cr_expect_str_eq(a.out, d.out);
  free(file);
  cr_expect_eq(tp_leftovers(), 0, "a dry run launched something");
  tp_run_free(&a);
  tp_run_free(&b);
  tp_run_free(&c);
  tp_run_free(&d);
}

Test(chaos, rounds_hold_and_leave_nothing, .timeout = 30) {
  tp_subreaper();
  struct tp_run r;
  cr_assert_eq(chaos(&r, NULL, "7", "20", "--verbose"), 0);
  cr_expect_eq(r.status, 0, "exit %d\n%s%s", r.status, r.out, r.err);
  cr_expect(strstr(r.out, "20 rounds held: 20 actions") != NULL, "%s", r.out);
  cr_expect(strstr(r.out, "0 orphans, 0 zombies, 0 lost replies") != NULL,
            "%s", r.out);
  /* the verbose plan shows every kind of action over 20 rounds */
  cr_expect(strstr(r.out, "- kill: ") != NULL, "%s", r.out);
  cr_expect(strstr(r.out, ":op :panic") != NULL, "%s", r.out);
  cr_expect(strstr(r.out, "- hold: ") != NULL, "%s", r.out);
  cr_expect(strstr(r.out, ":op :spawn") != NULL, "%s", r.out);
  cr_expect_eq(tp_leftovers(), 0, "processes left behind");
  tp_kill_leftovers();
  tp_run_free(&r);
}

/* Every node deaf to EOF: a panicking parent's ladder waits out each
 * child's shutdown (2 s) before its SIGKILL, and the failing round its
 * slack: minutes under ASan at load, so the bound is generous. */
Test(chaos, ignore_eof_fails_with_reproducer, .timeout = 100) {
  tp_subreaper();
  struct tp_run r;
  cr_assert_eq(chaos(&r, "ignore-eof", "3", "4", NULL), 0);
  cr_expect_eq(r.status, 1, "exit %d\n%s%s", r.status, r.out, r.err);
  cr_expect(strstr(r.out, "chaos: FAIL") != NULL, "%s", r.out);
  cr_expect(strstr(r.out, "cascade: ") != NULL, "%s", r.out);
  cr_expect(strstr(r.out, "reproduce: treeproof chaos ") != NULL &&
                strstr(r.out, FRACTAL " --seed 3 --rounds 4\n") != NULL,
            "%s", r.out);
  cr_expect_eq(tp_leftovers(), 0, "processes left behind");
  tp_kill_leftovers();
  tp_run_free(&r);
}

static void expect_usage(const char *const *args, const char *msg) {
  struct tp_run r;
  cr_assert_eq(tp_run_args(&r, NULL, 10., args), 0);
  cr_expect_eq(r.status, 2, "%s: exit %d\n%s", args[1] ? args[1] : "", r.status,
               r.err);
  cr_expect(strstr(r.err, msg) != NULL, "no '%s' in\n%s", msg, r.err);
  tp_run_free(&r);
}

Test(chaos, bad_arguments_exit_2, .timeout = 20) {
  char *f = tp_source(FRACTAL);
  const char *a1[] = {"chaos", NULL};
  expect_usage(a1, "no scenario file");
  const char *a2[] = {"chaos", f, "--seed", "1", NULL};
  expect_usage(a2, "--rounds K are both required");
  const char *a3[] = {"chaos", f, "--seed", "x", "--rounds", "3", NULL};
  expect_usage(a3, "--seed needs");
  const char *a4[] = {"chaos", f, "--seed", "1", "--rounds", "0", NULL};
  expect_usage(a4, "--rounds needs");
  const char *a5[] = {"chaos", f, "--seed", "1", "--rounds", "2", "--bogus", NULL};
  expect_usage(a5, "unknown option");
  const char *a6[] = {"chaos", "/nonexistent/x.yaml", "--seed", "1", "--rounds",
                      "2", NULL};
  expect_usage(a6, "x.yaml");
  const char *a7[] = {"chaos", f, f, "--seed", "1", "--rounds", "2", NULL};
  expect_usage(a7, "exactly one scenario");
  free(f);
}

Test(chaos, crashes_follow_the_policies_above) {
  size_t restarted = 0, escalated = 0, crashes = 0;
  for (uint64_t seed = 1; seed <= 100; seed++) {
    struct chaos_plan p;
    plan_of(POLICIES, NULL, seed, 60, &p);
    crashes += p.crashes;
    restarted += p.restarts;
    escalated += p.escalations;
    /* the root is never taken down, and the plan says so when it counts */
    cr_expect_eq(steps_saying(&p, "(L1 gone)") + steps_saying(&p, ", L1 gone"),
                 0, "seed %llu crashes the root", (unsigned long long)seed);
    cr_expect_eq(steps_saying(&p, "restarted"), p.restarts);
    /* a leaf of E takes E down, and the root restarts E */
    for (size_t i = 0; i < p.nsteps; i++)
      if (p.what[i] && (!strncmp(p.what[i], "kill E/E1 ", 10) ||
                        !strncmp(p.what[i], "kill E/E2 ", 10) ||
                        !strncmp(p.what[i], ":panic E/E1 ", 12) ||
                        !strncmp(p.what[i], ":panic E/E2 ", 12)))
        cr_expect(strstr(p.what[i], "escalated 1 level, E restarted"),
                  "seed %llu: %s", (unsigned long long)seed, p.what[i]);
    chaos_plan_free(&p);
  }
  cr_expect(crashes > 1000 && restarted > crashes / 2 && escalated > 100,
            "%zu crashes, %zu restarted, %zu escalation levels", crashes,
            restarted, escalated);
}

/* A :restart parent with the default 5 s period: its limit is never
 * crossed (whether it is depends on the clock), and a parent's restart
 * limit is crossed only by crashes of the same child. */
Test(chaos, restart_limits_only_where_certain) {
  static const char *yaml =
      "name: short\ntree: {name: L1, children: [{name: P, on_child_exit: "
      "restart, max_restarts: 1, children: [{name: A}, {name: B}]}]}\n"
      "steps: [{send: '{:id 1 :op :ping}'}]\n";
  for (uint64_t seed = 1; seed <= 200; seed++) {
    struct chaos_plan p;
    plan_of("trees/x.yaml", yaml, seed, 40, &p);
    cr_expect_eq(steps_saying(&p, "escalated"), 0, "seed %llu",
                 (unsigned long long)seed);
    cr_expect_leq(steps_saying(&p, "P/A restarted"), 1);
    cr_expect_leq(steps_saying(&p, "P/B restarted"), 1);
    chaos_plan_free(&p);
  }
  /* crash-restart.yaml: max 1 in a 60 s period — the second crash of the
   * same leaf escalates to the :isolate root, which keeps the rest */
  size_t crossed = 0;
  for (uint64_t seed = 1; seed <= 200; seed++) {
    struct chaos_plan p;
    plan_of("trees/crash-restart.yaml", NULL, seed, 40, &p);
    crossed += steps_saying(&p, "escalated 1 level, L2a gone");
    static const char *const leaves[] = {"L2a/L3a", "L2a/L3b"};
    for (size_t k = 0; k < 2; k++) {
      char again[64];
      snprintf(again, sizeof again, "%s restarted", leaves[k]);
      cr_expect_leq(steps_saying(&p, again), 1, "seed %llu: %s restarted twice",
                   (unsigned long long)seed, leaves[k]);
    }
    chaos_plan_free(&p);
  }
  cr_expect(crossed > 5, "the limit was crossed in %zu plans", crossed);
}

Test(chaos, every_policy_in_play_holds, .timeout = 60) {
  tp_subreaper();
  struct tp_run r;
  char *file = tp_source(POLICIES);
  const char *args[] = {"chaos", file, "--seed", "2", "--rounds", "50", NULL};
  cr_assert_eq(tp_run_args(&r, NULL, 50., args), 0);
  cr_expect_eq(r.status, 0, "exit %d\n%s%s", r.status, r.out, r.err);
  cr_expect(strstr(r.out, "50 rounds held") && strstr(r.out, "50 scans: 0 "
                                                          "orphans"),
            "%s", r.out);
  cr_expect(!strstr(r.out, "(0 restarted"), "restarts happened: %s", r.out);
  cr_expect_eq(tp_leftovers(), 0, "processes left behind");
  tp_kill_leftovers();
  tp_run_free(&r);
  free(file);
}

/* Every strategy and restart type under seeded crashes: the model follows
 * each round (one_for_all and rest_for_one groups, transient and temporary
 * children, a backoff), and holds for watvm. */
Test(chaos, every_strategy_in_play_holds, .timeout = 120) {
  tp_subreaper();
  char *file = tp_source(SUPERVISION);
  const char *seeds[] = {"1", "4"};
  for (size_t i = 0; i < 2; i++) {
    struct tp_run r;
    const char *args[] = {"chaos", file, "--seed", seeds[i], "--rounds", "30",
                          NULL};
    cr_assert_eq(tp_run_args(&r, NULL, 100., args), 0);
    cr_expect_eq(r.status, 0, "seed %s: exit %d\n%s%s", seeds[i], r.status,
                 r.out, r.err);
    cr_expect(strstr(r.out, "30 rounds held"), "%s", r.out);
    tp_run_free(&r);
  }
  cr_expect_eq(tp_leftovers(), 0, "processes left behind");
  tp_kill_leftovers();
  free(file);
}

/* ...and a one_for_all that forgets a sibling fails the same plan. */
Test(chaos, a_forgotten_sibling_fails_the_plan, .timeout = 120) {
  tp_subreaper();
  char *file = tp_source(SUPERVISION);
  struct tp_run r;
  const char *args[] = {"chaos", file, "--seed", "4", "--rounds", "30", NULL};
  cr_assert_eq(tp_run_args(&r, "ofa-forget", 100., args), 0);
  cr_expect_eq(r.status, 1, "exit %d\n%s%s", r.status, r.out, r.err);
  cr_expect(strstr(r.out, "A/A1 says its pid is"), "%s", r.out);
  tp_run_free(&r);
  cr_expect_eq(tp_leftovers(), 0, "processes left behind");
  tp_kill_leftovers();
  free(file);
}

/* The scan after each round: a root that leaves an orphan behind (the
 * wrapper's background sleep, adopted by the harness) fails round 1. */
Test(chaos, orphan_fails_the_round_it_appears_in, .timeout = 60) {
  tp_subreaper();
  char *dir = tp_temp_dir("chaos");
  char script[300];
  snprintf(script, sizeof script, "%s/node.sh", dir);
  FILE *f = fopen(script, "w");
  cr_assert(f);
  fprintf(f, "#!/bin/sh\n( sleep 30 & )\nexec \"$WATVM\" \"$@\"\n");
  fclose(f);
  chmod(script, 0700);
  char *file = tp_source(FRACTAL);
  const char *args[] = {"chaos", file, "--seed", "5", "--rounds", "2",
                        "--node-cmd", script, NULL};
  struct tp_run r;
  cr_assert_eq(tp_run_args(&r, NULL, 50., args), 0);
  tp_rm_dir(dir);
  cr_expect_eq(r.status, 1, "exit %d\n%s%s", r.status, r.out, r.err);
  cr_expect(strstr(r.out, "chaos: FAIL round 1,") &&
                strstr(r.out, "an orphan adopted by the harness"),
            "%s", r.out);
  cr_expect(strstr(r.out, "--seed 5 --rounds 2\n"), "%s", r.out);
  cr_expect_eq(tp_leftovers(), 0, "the sleep was killed at the end");
  tp_kill_leftovers();
  tp_run_free(&r);
  free(file);
}

/* Hostile children inside the tree (runtime/node/noise.c): E and R1 write
 * garbage among their replies and flood their stderr, and are crashed and
 * restarted with it; the rounds hold all the same. */
Test(chaos, hostile_children_change_nothing, .timeout = 90) {
  tp_subreaper();
  cr_assert_eq(setenv("WATVM_FAULT_NODE", "E,R1", 1), 0);
  struct tp_run r;
  char *file = tp_source(POLICIES);
  const char *args[] = {"chaos", file, "--seed", "3", "--rounds", "30", NULL};
  cr_assert_eq(tp_run_args(&r, "babble,stderr-flood", 80., args), 0);
  cr_expect_eq(r.status, 0, "exit %d\n%s%s", r.status, r.out, r.err);
  cr_expect(strstr(r.out, "30 rounds held") != NULL, "%s", r.out);
  cr_expect_eq(tp_leftovers(), 0, "processes left behind");
  tp_kill_leftovers();
  tp_run_free(&r);
  free(file);
}
