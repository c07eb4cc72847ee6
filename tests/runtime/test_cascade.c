/* test_cascade.c — lifecycle: SIGKILL of a middle node removes exactly its
 * subtree; SIGTERM of the root removes everything within the grace; stdin
 * EOF ends the tree after answering what is in flight; :exit; the
 * ignore-eof and no-pgrp switches break what they should. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tree_util.h"

static int fds0;
static void setup(void) {
  tree_subreaper();
  fds0 = fd_count();
}

static void expect_nothing_left(void) {
  cr_expect_eq(tree_reap_orphans(3000), 0, "no process of the tree is left");
  cr_expect_eq(fd_count(), fds0, "fd count back to %d", fds0);
}

TestSuite(cascade, .init = setup, .timeout = 60.);

static const char *SEED =
    "{:name \"L1\" :children [{:name \"L2a\" :children [{:name \"L3a\"} "
    "{:name \"L3b\"}]} {:name \"L2b\" :children [{:name \"L3c\"} {:name "
    "\"L3d\"}]} {:name \"L2c\"}]}";
static const char *PATHS[] = {"L2a", "L2a/L3a", "L2a/L3b", "L2b",
                              "L2b/L3c", "L2b/L3d", "L2c"};

static void all_pids(struct tree *t, pid_t *pids) {
  for (int i = 0; i < 7; i++) {
    pids[i] = tree_node_pid(t, PATHS[i], 5000);
    cr_assert(pids[i] > 0, "%s answers", PATHS[i]);
  }
}

Test(cascade, sigkill_of_a_middle_node_removes_exactly_its_subtree) {
  struct tree t;
  cr_assert_eq(tree_start(&t, SEED, false, NULL), 0);
  pid_t p[7];
  all_pids(&t, p);
  cr_assert_eq(kill(p[0], SIGKILL), 0);
  cr_expect(pid_wait_gone(p[0], 5000), "L2a is gone");
  cr_expect(pid_wait_gone(p[1], 3000) && pid_wait_gone(p[2], 3000),
            "L2a's children saw EOF and went");
  edn_value *r = tree_ask(&t, "{:id 1 :op :fan}", 5000);
  cr_assert(r);
  edn_value *reps = edn_map_getk(r, "replies");
  cr_expect(edn_map_getk(reps->u.seq.items[0], "error"), "L2a is listed dead");
  for (int i = 3; i < 7; i++)
    cr_expect_eq(tree_node_pid(&t, PATHS[i], 5000), p[i], "%s untouched", PATHS[i]);
  int st = tree_close(&t, 10000);
  cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  tree_free(&t);
  expect_nothing_left();
}

Test(cascade, sigterm_of_the_root_removes_all_within_the_grace) {
  struct tree t;
  cr_assert_eq(tree_start(&t, SEED, false, NULL), 0);
  pid_t p[7];
  all_pids(&t, p);
  int64_t t0 = now_ms();
  cr_assert_eq(kill(t.pid, SIGTERM), 0);
  int st = tree_wait(&t, 5000);
  int64_t took = now_ms() - t0;
  cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %#x", st);
  cr_expect(took < 2000, "within the 2 s grace (%lld ms)", (long long)took);
  for (int i = 0; i < 7; i++) cr_expect(!pid_alive(p[i]), "%s gone", PATHS[i]);
  tree_free(&t);
  expect_nothing_left();
}

Test(cascade, sigterm_kills_a_stopped_child_after_the_grace) {
  struct tree t;
  cr_assert_eq(tree_start(&t, "{:name \"L1\" :grace-ms 300 :children [{:name \"A\" :shutdown-ms 300 :children [{:name \"B\"}]}]}", false, NULL), 0);
  pid_t a = tree_node_pid(&t, "A", 5000), b = tree_node_pid(&t, "A/B", 5000);
  cr_assert_eq(kill(a, SIGSTOP), 0);
  int64_t t0 = now_ms();
  cr_assert_eq(kill(t.pid, SIGTERM), 0);
  int st = tree_wait(&t, 5000);
  int64_t took = now_ms() - t0;
  cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  cr_expect(took >= 250 && took < 2000, "SIGKILL after the grace (%lld ms)", (long long)took);
  cr_expect(!pid_alive(a));
  cr_expect(pid_wait_gone(b, 3000), "B saw EOF when A was killed");
  tree_free(&t);
  expect_nothing_left();
}

Test(cascade, eof_answers_in_flight_then_ends) {
  struct tree t;
  cr_assert_eq(tree_start(&t, SEED, false, NULL), 0);
  cr_assert_eq(tree_send(&t, "{:id 1 :op :fan :req {:op :sleep :ms 300}}", 5000), 0);
  cr_assert_eq(tree_send(&t, "{:id 2 :op :echo :body 2}", 5000), 0);
  int st = tree_close(&t, 10000);
  cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  char *l1 = tree_line(&t, 0), *l2 = tree_line(&t, 0);
  cr_assert(l1 && l2, "both replies arrived before the end");
  cr_expect(strstr(l1, ":id 2") && strstr(l2, ":id 1") && strstr(l2, ":slept 300"));
  free(l1);
  free(l2);
  tree_free(&t);
  expect_nothing_left();
}

Test(cascade, exit_op_ends_the_subtree) {
  struct tree t;
  cr_assert_eq(tree_start(&t, SEED, false, NULL), 0);
  pid_t l2b = tree_node_pid(&t, "L2b", 5000), l3c = tree_node_pid(&t, "L2b/L3c", 5000);
  char line[256];
  edn_value *r = tree_ask(&t, route_line(line, sizeof line, 1, "L2b", "{:op :exit}"), 5000);
  cr_expect(r && edn_map_getk(r, "exiting"), ":exiting true");
  cr_expect(pid_wait_gone(l2b, 5000) && pid_wait_gone(l3c, 5000));
  /* One write: the ping is already buffered when :exit is served. */
  cr_assert_eq(tree_send(&t, "{:id 2 :op :exit}\n{:id 3 :op :ping}", 5000), 0);
  r = tree_reply(&t, 5000);
  cr_expect(r && get_int(r, "id") == 2 && edn_map_getk(r, "exiting"));
  r = tree_reply(&t, 5000);
  cr_expect(r && get_int(r, "id") == 3 && edn_map_getk(r, "error") &&
            edn_is_keyword(edn_map_getk(edn_map_getk(r, "error"), "type"), "wat/shutting-down"),
            "a request after :exit gets :wat/shutting-down");
  int st = tree_wait(&t, 5000);
  cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "exit 0 after :exit without EOF");
  tree_free(&t);
  expect_nothing_left();
}

Test(cascade, ignore_eof_breaks_the_cascade) {
  struct tree t;
  cr_assert_eq(tree_start(&t, "{:name \"L1\" :children [{:name \"A\"}]}", false, "ignore-eof"), 0);
  pid_t a = tree_node_pid(&t, "A", 5000);
  int st = tree_close(&t, 500);
  cr_expect_eq(st, -1, "with ignore-eof the root does not end on EOF");
  tree_free(&t); /* killed the root's group: A is orphaned to us */
  cr_expect(pid_alive(a), "A outlived its parent: the fault shows");
  kill(a, SIGKILL);
  tree_reap_orphans(3000);
  cr_expect_eq(fd_count(), fds0);
}

Test(cascade, no_pgrp_and_leak_fd_break_isolation) {
  struct tree t;
  cr_assert_eq(tree_start(&t, "{:name \"L1\" :children [{:name \"A\"}]}", false, "no-pgrp,leak-fd"), 0);
  char line[256];
  edn_value *r = tree_ask(&t, route_line(line, sizeof line, 1, "A", "{:op :inspect}"), 5000);
  cr_assert(r);
  cr_expect_eq(get_int(r, "pgid"), t.pid, "A stays in its parent's group");
  edn_value *fds = edn_map_getk(r, "fds");
  int pipes = 0;
  for (size_t i = 0; i < fds->u.seq.len; i++)
    pipes += edn_is_keyword(fds->u.seq.items[i]->u.seq.items[1], "pipe");
  cr_expect_eq(pipes, 4, "three stdio pipes and a leaked one");
  int st = tree_close(&t, 5000);
  cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  tree_free(&t);
  expect_nothing_left();
}

Test(cascade, sigint_acts_as_sigterm) {
  struct tree t;
  cr_assert_eq(tree_start(&t, SEED, false, NULL), 0);
  pid_t p[7];
  all_pids(&t, p);
  cr_assert_eq(kill(t.pid, SIGINT), 0);
  int st = tree_wait(&t, 5000);
  cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %#x", st);
  for (int i = 0; i < 7; i++) cr_expect(!pid_alive(p[i]), "%s gone", PATHS[i]);
  tree_free(&t);
  expect_nothing_left();
}

Test(cascade, sigkill_of_the_root_cascades_by_eof) {
  struct tree t;
  cr_assert_eq(tree_start(&t, SEED, false, NULL), 0);
  pid_t p[7];
  all_pids(&t, p);
  cr_assert_eq(kill(t.pid, SIGKILL), 0);
  int st = tree_wait(&t, 5000);
  cr_expect(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
  /* Its children are orphans now (handed to us, the subreaper): each sees
   * EOF, takes its own subtree down and exits. */
  for (int i = 0; i < 7; i++) cr_expect(pid_wait_gone(p[i], 5000), "%s gone", PATHS[i]);
  tree_free(&t);
  expect_nothing_left();
}
