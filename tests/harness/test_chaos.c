/* test_chaos.c — `treeproof chaos`: the plan is a pure function of the seed
 * (same seed, same schedule; another seed, another one), a run on the seed
 * tree holds and leaves nothing behind, a node that ignores stdin EOF makes
 * it fail with exit 1 and the command that reproduces it, and bad arguments
 * exit 2. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../conformance/common.h"

#define FRACTAL "trees/seed-fractal.yaml"

static int chaos(struct tp_run *r, const char *fault, const char *seed,
                 const char *rounds, const char *flag) {
  char *file = tp_source(FRACTAL);
  const char *args[] = {"chaos", file, "--seed", seed, "--rounds", rounds,
                        flag, NULL};
  int rc = tp_run_args(r, fault, 30., args);
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
  cr_expect_eq(tp_leftovers(), 0, "a dry run launched something");
  tp_run_free(&a);
  tp_run_free(&b);
  tp_run_free(&c);
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

Test(chaos, ignore_eof_fails_with_reproducer, .timeout = 30) {
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
