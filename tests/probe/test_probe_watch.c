/* test_probe_watch.c — the probe's death watches over pipes: :watch-start
 * watches processes of this test (a child at the wrong start time reads
 * as :gone at once), :watch-read stamps each exit with CLOCK_BOOTTIME
 * between the kill and its reaping, later exits later, the living nil;
 * :watch-stop gives a last reading and ends the watch; what it may not
 * watch is refused (bad :procs, pid 1, too many, another user's process),
 * the bounds on watches open hold, and EOF with watches open ends the
 * probe cleanly. Every test ends by proving nothing was left behind. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "probe_util.h"

static int fds0;
static void setup(void) {
  tree_subreaper();
  fds0 = fd_count();
}

TestSuite(probe_watch, .init = setup, .timeout = 60.);

static const int W = 10000;

static long long boottime_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_BOOTTIME, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static pid_t idle_child(void) {
  pid_t kid = fork();
  if (kid == 0) {
    pause();
    _exit(0);
  }
  cr_assert(kid > 0);
  return kid;
}

/* The reading of `pid` in reply r's :procs (the i-th entry): 0 for nil,
 * -2 for :gone, else the stamp; -1 when it is not there. */
static long long reading(const edn_value *r, size_t i, pid_t pid) {
  const edn_value *p = r ? edn_map_getk(r, "procs") : NULL;
  if (!p || p->type != EDN_VECTOR || i >= p->u.seq.len) return -1;
  const edn_value *x = p->u.seq.items[i];
  if (x->u.seq.len != 2 || x->u.seq.items[0]->u.integer != pid) return -1;
  const edn_value *d = x->u.seq.items[1];
  return d->type == EDN_NIL ? 0 : edn_is_keyword(d, "gone") ? -2
         : d->type == EDN_INT ? d->u.integer : -1;
}

/* Ask :watch-read of watch `id` until entry i (pid) has a stamp. */
static long long await_stamp(struct tree *t, long long id, size_t i, pid_t pid) {
  char line[96];
  for (int tries = 0; tries < 500; tries++) {
    snprintf(line, sizeof line, "{:id 9 :op :watch-read :watch %lld}", id);
    long long d = reading(tree_ask(t, line, W), i, pid);
    if (d > 0) return d;
    usleep(10000);
  }
  return 0;
}

static void kill_and_reap(pid_t kid) {
  cr_assert_eq(kill(kid, SIGKILL), 0);
  cr_assert_eq(waitpid(kid, NULL, 0), kid);
}

Test(probe_watch, each_exit_is_stamped_in_order_with_boottime) {
  pid_t a = idle_child(), b = idle_child();
  unsigned long long sa = probe_stat_start(a), sb = probe_stat_start(b);
  struct tree t;
  probe_start(&t, NULL);
  char line[256];
  snprintf(line, sizeof line, "{:id 1 :op :watch-start :procs [[%d %llu] [%d %llu] [%d %llu]]}",
           (int)a, sa, (int)b, sb, (int)b, sb + 7);
  edn_value *r = tree_ask(&t, line, W);
  long long id = get_int(r, "watch");
  cr_assert(id > 0, "a watch id (error %s)", probe_error_type(r));
  cr_expect_eq(reading(r, 0, a), 0, "a lives: nil");
  cr_expect_eq(reading(r, 1, b), 0, "b lives: nil");
  cr_expect_eq(reading(r, 2, b), -2, "b at another start time is another process: :gone");
  /* The stamp is taken when the probe's thread wakes for the exit, which
   * on a loaded machine may be after this test has reaped a (CI saw it
   * 0.36 ms later): its upper bound is the reading that shows it. */
  long long before = boottime_ns();
  kill_and_reap(a);
  long long da = await_stamp(&t, id, 0, a);
  long long after = boottime_ns();
  cr_expect(da >= before && da <= after, "a's stamp %lld lies between its kill %lld and "
            "the reading that shows it %lld (CLOCK_BOOTTIME)", da, before, after);
  snprintf(line, sizeof line, "{:id 2 :op :watch-read :watch %lld}", id);
  cr_expect_eq(reading(tree_ask(&t, line, W), 1, b), 0, "b still lives");
  kill_and_reap(b);
  long long db = await_stamp(&t, id, 1, b);
  cr_expect(db > da, "b died after a: %lld > %lld", db, da);
  snprintf(line, sizeof line, "{:id 3 :op :watch-stop :watch %lld}", id);
  r = tree_ask(&t, line, W);
  cr_expect(r && edn_map_getk(r, "stopped"), "stopped (error %s)", probe_error_type(r));
  cr_expect_eq(reading(r, 1, b), db, "the last reading is the same");
  snprintf(line, sizeof line, "{:id 4 :op :watch-read :watch %lld}", id);
  cr_expect_str_eq(probe_error_type(tree_ask(&t, line, W)), "wat/no-such-watch", "a stopped watch is gone");
  probe_end(&t, fds0);
}

/* A child that runs as another user: its pid, or 0 when this test may
 * not make one (not root). */
static pid_t other_users_child(void) {
  if (geteuid() != 0) return 0;
  int p[2];
  cr_assert_eq(pipe(p), 0);
  pid_t kid = fork();
  if (kid == 0) {
    close(p[0]);
    if (setgid(65534) < 0 || setuid(65534) < 0) _exit(1);
    close(p[1]); /* the switch is done */
    pause();
    _exit(0);
  }
  close(p[1]);
  char c;
  cr_assert_eq(read(p[0], &c, 1), 0, "the child switched its user");
  close(p[0]);
  return kid;
}

Test(probe_watch, refuses_what_it_may_not_watch) {
  struct tree t;
  probe_start(&t, NULL);
  static const char *bad[] = {
      "{:id 1 :op :watch-start}",
      "{:id 2 :op :watch-start :procs []}",
      "{:id 3 :op :watch-start :procs [[1 0]]}",
      "{:id 4 :op :watch-start :procs [[0 5]]}",
      "{:id 5 :op :watch-start :procs [[42]]}",
      "{:id 6 :op :watch-start :procs [[42 -1]]}",
      "{:id 7 :op :watch-start :procs [\"42\"]}",
      "{:id 8 :op :watch-read}",
      "{:id 9 :op :watch-stop :watch 0}",
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    cr_expect_str_eq(probe_error_type(tree_ask(&t, bad[i], W)), "wat/bad-request", "%s", bad[i]);
  cr_expect_str_eq(probe_error_type(tree_ask(&t, "{:id 10 :op :watch-read :watch 99}", W)),
                   "wat/no-such-watch");
  /* 257 processes: over the bound of one watch */
  size_t cap = 64 + 257 * 32, k = 0;
  char *big = malloc(cap);
  cr_assert(big);
  k += (size_t)snprintf(big, cap, "{:id 11 :op :watch-start :procs [");
  for (int i = 0; i < 257; i++)
    k += (size_t)snprintf(big + k, cap - k, "[%d %llu]", (int)getpid(), probe_stat_start(getpid()));
  snprintf(big + k, cap - k, "]}");
  cr_expect_str_eq(probe_error_type(tree_ask(&t, big, W)), "wat/bad-request", "257 processes");
  free(big);
  pid_t other = other_users_child();
  if (other) {
    char line[128];
    snprintf(line, sizeof line, "{:id 12 :op :watch-start :procs [[%d %llu]]}", (int)other,
             probe_stat_start(other));
    edn_value *r = tree_ask(&t, line, W);
    cr_expect_str_eq(probe_error_type(r), "wat/refused", "another user's process is refused");
    kill_and_reap(other);
  }
  probe_end(&t, fds0);
}

/* `n` entries, each this test's own process, in one :watch-start. */
static edn_value *watch_self(struct tree *t, int n) {
  size_t cap = 64 + (size_t)n * 32, k = 0;
  char *line = malloc(cap);
  cr_assert(line);
  k += (size_t)snprintf(line, cap, "{:id 1 :op :watch-start :procs [");
  for (int i = 0; i < n; i++)
    k += (size_t)snprintf(line + k, cap - k, "[%d %llu]", (int)getpid(), probe_stat_start(getpid()));
  snprintf(line + k, cap - k, "]}");
  edn_value *r = tree_ask(t, line, W);
  free(line);
  return r;
}

Test(probe_watch, watches_open_are_bounded_and_end_with_the_probe) {
  struct tree t;
  probe_start(&t, NULL);
  edn_value *r = watch_self(&t, 256);
  long long first = get_int(r, "watch");
  cr_assert(first > 0, "256 processes in one watch (error %s)", probe_error_type(r));
  r = watch_self(&t, 256);
  cr_assert(get_int(r, "watch") > 0, "512 in all (error %s)", probe_error_type(r));
  cr_expect_str_eq(probe_error_type(watch_self(&t, 1)), "wat/refused", "a 513th is refused");
  char line[96];
  snprintf(line, sizeof line, "{:id 2 :op :watch-stop :watch %lld}", first);
  cr_expect(edn_map_getk(tree_ask(&t, line, W), "stopped"), "one stopped");
  for (int i = 0; i < 7; i++) /* 1 + 7 = 8 open */
    cr_expect(get_int(watch_self(&t, 1), "watch") > 0, "watch %d opens", i + 2);
  cr_expect_str_eq(probe_error_type(watch_self(&t, 1)), "wat/refused", "a 9th watch is refused");
  probe_end(&t, fds0); /* EOF with eight watches open: each closed, exit 0 */
}
