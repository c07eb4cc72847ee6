/* replies.c — the replies property: on every shipped tree (generated-10x3
 * in generated.c) each `expect` matches in time and each request sent gets
 * exactly one reply; a wrong expectation fails (exit 1) with the expected
 * pattern, the actual reply and the differing part marked; a reply that
 * cannot come fails within the step's timeout instead of hanging. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <string.h>

#include "common.h"

ParameterizedTestParameters(replies, shipped_trees) {
  return cr_make_param_array(struct tree_case, tp_shipped_trees, tp_nshipped_trees);
}

ParameterizedTest(struct tree_case *c, replies, shipped_trees,
                  .timeout = 120.) {
  tp_assert_holds(c->rel, c->name, "replies", 100.);
}

Test(replies, wrong_expectation_fails_with_a_diff, .timeout = 60.) {
  tp_subreaper();
  struct tp_run r;
  const char *sc[] = {"conformance/trees/wrong-expect.yaml", NULL};
  cr_assert_eq(tp_run_tap(&r, NULL, 50., sc), 0);
  char failed[1024];
  int n = tap_failures(r.out, failed, sizeof failed);
  cr_expect_eq(r.status, 1, "exit %d, expected 1\n%s", r.status, r.out);
  cr_expect_eq(n, 2, "expected steps and replies to fail, failed: [%s]",
               failed);
  cr_expect_eq(tap_verdict(r.out, "wrong-expect: steps"), 0);
  cr_expect_eq(tap_verdict(r.out, "wrong-expect: replies"), 0);
  cr_expect_eq(tap_verdict(r.out, "wrong-expect: isolation"), 1);
  cr_expect_eq(tap_verdict(r.out, "wrong-expect: cascade"), 1);
  cr_expect(strstr(r.out, "expected 3 items, got 2"),
            "the diff does not say what differs:\n%s", r.out);
  cr_expect(strstr(r.out, "wrong-expect.yaml:12:5"),
            "the failure does not point at the step:\n%s", r.out);
  cr_expect_eq(tp_leftovers(), 0);
  tp_kill_leftovers();
  tp_run_free(&r);
}

Test(replies, missing_reply_fails_within_the_timeout, .timeout = 60.) {
  tp_subreaper();
  struct tp_run r;
  const char *sc[] = {"conformance/trees/lost-reply.yaml", NULL};
  cr_assert_eq(tp_run_tap(&r, NULL, 50., sc), 0);
  cr_expect_eq(r.status, 1, "exit %d, expected 1\n%s", r.status, r.out);
  cr_expect_eq(tap_verdict(r.out, "lost-reply: steps"), 0);
  cr_expect_eq(tap_verdict(r.out, "lost-reply: replies"), 0);
  cr_expect_eq(tap_verdict(r.out, "lost-reply: cascade"), 1,
               "the held node must be released and go down:\n%s", r.out);
  cr_expect(strstr(r.out, "no reply within the timeout (300 ms)"),
            "the failure does not say it timed out:\n%s", r.out);
  cr_expect_eq(tp_leftovers(), 0);
  tp_kill_leftovers();
  tp_run_free(&r);
}

/* EOF while requests are in flight: every one is still answered. */
Test(replies, in_flight_requests_are_answered_after_eof, .timeout = 60.) {
  tp_assert_holds("conformance/trees/inflight-at-close.yaml",
                  "inflight-at-close", "replies", 50.);
}
