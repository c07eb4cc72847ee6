/* test_smoke.c — one small tree through every op and policy, kept short so
 * the runtime_unit suite can also run it under valgrind (memcheck follows
 * every node with --trace-children): the nodes' memory is checked, not only
 * the harness's. Waits are long because memcheck is slow. */
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

TestSuite(smoke, .init = setup, .timeout = 240.);

static const char *SPEC =
    "{:name \"L1\" :children [{:name \"R\" :on-child-exit :restart :children "
    "[{:name \"R1\"}]} {:name \"E\" :on-child-exit :escalate :children "
    "[{:name \"E1\"}]} {:name \"I\" :children [{:name \"I1\"}]}]}";

static bool has_error(edn_value *r, const char *type) {
  edn_value *e = r ? edn_map_getk(r, "error") : NULL;
  return e && edn_is_keyword(edn_map_getk(e, "type"), type);
}

Test(smoke, every_op_and_policy_then_a_clean_end) {
  const int W = 60000;
  struct tree t;
  cr_assert_eq(tree_start(&t, SPEC, false, NULL), 0);
  char line[512];
  edn_value *r = tree_ask(&t, "{:id 1 :op :fan :req {:op :echo :body [1 \"two\" #{3}]}}", W);
  cr_assert(r && edn_map_getk(r, "replies")->u.seq.len == 3);
  r = tree_ask(&t, route_line(line, sizeof line, 2, "R/R1", "{:op :panic :reason \"r\"}"), W);
  cr_expect(has_error(r, "wat/child-exited"));
  r = tree_ask(&t, route_line(line, sizeof line, 3, "I/I1", "{:op :panic :reason \"i\"}"), W);
  cr_expect(has_error(r, "wat/child-exited"));
  r = tree_ask(&t, route_line(line, sizeof line, 4, "E/E1", "{:op :panic :reason \"e\"}"), W);
  cr_expect(r && edn_map_getk(r, "error"));
  r = tree_ask(&t, route_line(line, sizeof line, 5, "R/R1", "{:op :ping}"), W);
  cr_expect(r && edn_map_getk(r, "pong"), "R1 restarted");
  r = tree_ask(&t, route_line(line, sizeof line, 6, "I/I1", "{:op :ping}"), W);
  cr_expect(has_error(r, "wat/dead"));
  cr_assert_eq(tree_send(&t, "{:id 7 :op :sleep :ms 50}", W), 0);
  cr_assert_eq(tree_send(&t, "{:id 8 :op :hold :ms 10}", W), 0);
  r = tree_ask(&t, "{:id 9 :op :spawn :spec {:name \"S\" :children [{:name \"S1\"}]}}", W);
  cr_expect(r && get_str(r, "spawned"));
  /* E's reply may pass up before E is gone: ask until L1 has reaped it. */
  int64_t deadline = now_ms() + W;
  do {
    r = tree_ask(&t, "{:id 10 :op :stats}", W);
  } while (r && edn_map_getk(r, "exits")->u.seq.len == 0 && now_ms() < deadline);
  cr_expect(r && get_int(r, "restarts") == 0 && edn_map_getk(r, "exits")->u.seq.len == 1,
            "L1 saw E escalate");
  r = tree_ask(&t, "{:id 11 :op :inspect}", W);
  cr_expect(r && edn_map_getk(r, "fds"));
  r = tree_ask(&t, route_line(line, sizeof line, 12, "S", "{:op :exit}"), W);
  cr_expect(r && edn_map_getk(r, "exiting"));
  cr_assert_eq(tree_send(&t, "not edn (", W), 0);
  r = tree_reply(&t, W);
  cr_expect(has_error(r, "wat/parse-error") || (r && get_int(r, "id") == 7));
  int st = tree_close(&t, W);
  cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %#x: %s", st, t.errbuf ? t.errbuf : "");
  tree_free(&t);
  cr_expect_eq(tree_reap_orphans(W), 0);
  cr_expect_eq(fd_count(), fds0);
}

Test(smoke, sigterm_ends_the_tree) {
  const int W = 60000;
  struct tree t;
  cr_assert_eq(tree_start(&t, SPEC, false, NULL), 0);
  cr_assert(tree_ask(&t, "{:id 1 :op :fan}", W));
  cr_assert_eq(kill(t.pid, SIGTERM), 0);
  int st = tree_wait(&t, W);
  cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  tree_free(&t);
  cr_expect_eq(tree_reap_orphans(W), 0);
  cr_expect_eq(fd_count(), fds0);
}
