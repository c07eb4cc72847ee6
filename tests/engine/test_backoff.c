/* test_backoff.c — the restarts-in-a-row set the harness keeps for a child
 * with a restart backoff (engine_backoff_step, crash.c): a run surely as
 * long as the period starts the count again, a run surely shorter adds
 * one, a run whose length the harness knows only within bounds that span
 * the period keeps both; counts saturate; an empty set is "none yet". */
#include <criterion/criterion.h>

#include "engine.h"

#define BIT(n) (1u << (n))

Test(backoff, first_restart_is_the_first_in_a_row) {
  cr_expect_eq(engine_backoff_step(0, 10, 20, 400), BIT(1));
  cr_expect_eq(engine_backoff_step(BIT(0), 10, 20, 400), BIT(1));
}

Test(backoff, short_runs_add_one) {
  uint32_t row = BIT(1);
  row = engine_backoff_step(row, 30, 60, 400);
  cr_expect_eq(row, BIT(2));
  row = engine_backoff_step(row, 30, 60, 400);
  cr_expect_eq(row, BIT(3));
}

Test(backoff, a_run_surely_past_the_period_starts_again) {
  cr_expect_eq(engine_backoff_step(BIT(3), 400, 900, 400), BIT(1));
  cr_expect_eq(engine_backoff_step(BIT(2) | BIT(5), 650, 700, 400), BIT(1));
}

Test(backoff, a_run_spanning_the_period_keeps_both) {
  /* the ASan stage's case: the harness saw 150..900 ms up, the runtime
   * may have counted either way */
  cr_expect_eq(engine_backoff_step(BIT(3), 150, 900, 400), BIT(1) | BIT(4));
  /* and an unknown end (the count, before the death is seen) likewise */
  cr_expect_eq(engine_backoff_step(BIT(1) | BIT(2), 20, 1e300, 400),
               BIT(1) | BIT(2) | BIT(3));
}

Test(backoff, counts_saturate_at_31) {
  cr_expect_eq(engine_backoff_step(BIT(31), 1, 2, 400), BIT(31));
  cr_expect_eq(engine_backoff_step(BIT(30), 1, 2, 400), BIT(31));
}

Test(backoff, the_longest_wait_is_the_highest_count) {
  cr_expect_eq(engine_backoff_most(0), 0);
  cr_expect_eq(engine_backoff_most(BIT(1) | BIT(4)), 4);
  cr_expect_eq(engine_backoff_most(BIT(0)), 0, "bit 0 is no restart");
}
