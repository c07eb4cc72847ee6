/* test_policy.c — crash containment: a leaf's panic under each
 * :on-child-exit policy, the restart limit, and requests pending on a child
 * that dies getting :wat/child-exited. */
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

static void end_clean(struct tree *t, int code) {
  int st = tree_close(t, 10000);
  cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == code,
            "the root exits %d (status %#x)", code, st);
  tree_free(t);
  cr_expect_eq(tree_reap_orphans(3000), 0, "no process of the tree is left");
  cr_expect_eq(fd_count(), fds0, "fd count back to %d", fds0);
}

TestSuite(policy, .init = setup, .timeout = 60.);

static edn_value *error_of(edn_value *r) { return r ? edn_map_getk(r, "error") : NULL; }

static bool is_type(edn_value *err, const char *type) {
  return err && edn_is_keyword(edn_map_getk(err, "type"), type);
}

/* The last exit in the :stats of the node at path ("" = root). */
/* Asks again (bounded) until the parent has reaped and recorded it. */
static edn_value *last_exit(struct tree *t, const char *path, int64_t id) {
  char line[256];
  int64_t deadline = now_ms() + 5000;
  if (*path) route_line(line, sizeof line, id, path, "{:op :stats}");
  else snprintf(line, sizeof line, "{:id %lld :op :stats}", (long long)id);
  while (now_ms() < deadline) {
    edn_value *r = tree_ask(t, line, 5000);
    edn_value *ex = r ? edn_map_getk(r, "exits") : NULL;
    if (ex && ex->u.seq.len) return ex->u.seq.items[ex->u.seq.len - 1];
  }
  return NULL;
}

Test(policy, isolate_keeps_parent_and_siblings) {
  struct tree t;
  cr_assert_eq(tree_start(&t, "{:name \"L1\" :children [{:name \"L2\" :children [{:name \"A\"} {:name \"B\"}]}]}", false, NULL), 0);
  pid_t l2 = tree_node_pid(&t, "L2", 5000), a = tree_node_pid(&t, "L2/A", 5000),
        b = tree_node_pid(&t, "L2/B", 5000);
  char line[256];
  edn_value *r = tree_ask(&t, route_line(line, sizeof line, 1, "L2/A", "{:op :panic :reason \"boom\"}"), 5000);
  cr_assert(r, "the request on the dying child is answered");
  edn_value *e = error_of(r);
  cr_expect(is_type(e, "wat/child-exited"));
  cr_expect_str_eq(get_str(e, "child"), "A");
  cr_expect(pid_wait_gone(a, 5000), "A is gone");
  edn_value *x = last_exit(&t, "L2", 2);
  cr_assert(x, "L2's :stats lists A's exit");
  cr_expect_str_eq(get_str(x, "node"), "A");
  cr_expect_eq(get_int(x, "pid"), a);
  cr_expect_eq(get_int(edn_map_getk(x, "status"), "exit"), 70);
  edn_value *p = edn_map_getk(x, "panic");
  cr_expect(p && p->type == EDN_MAP && strcmp(get_str(p, "reason"), "boom") == 0,
            "the panic report reaches the parent intact");
  cr_expect(edn_map_getk(p, "cause") && edn_map_getk(p, "cause")->type == EDN_NIL);
  r = tree_ask(&t, "{:id 3 :op :fan}", 5000);
  cr_assert(r);
  edn_value *l2r = edn_map_getk(r, "replies")->u.seq.items[0];
  edn_value *ar = edn_map_getk(l2r, "replies")->u.seq.items[0];
  cr_expect_str_eq(get_str(ar, "node"), "A");
  cr_expect(is_type(error_of(ar), "wat/dead"), "later fans list A dead");
  cr_expect_eq(tree_node_pid(&t, "L2", 5000), l2, "the parent stays up");
  cr_expect_eq(tree_node_pid(&t, "L2/B", 5000), b, "the sibling is untouched");
  r = tree_ask(&t, route_line(line, sizeof line, 4, "L2/A", "{:op :ping}"), 5000);
  cr_expect(is_type(error_of(r), "wat/dead"));
  end_clean(&t, 0);
}

Test(policy, escalate_carries_the_cause_up) {
  struct tree t;
  cr_assert_eq(tree_start(&t, "{:name \"L1\" :children [{:name \"L2\" :on-child-exit :escalate :children [{:name \"A\"} {:name \"B\"}]} {:name \"S\"}]}", false, NULL), 0);
  pid_t l2 = tree_node_pid(&t, "L2", 5000), a = tree_node_pid(&t, "L2/A", 5000),
        b = tree_node_pid(&t, "L2/B", 5000), s = tree_node_pid(&t, "S", 5000);
  char line[256];
  edn_value *r = tree_ask(&t, route_line(line, sizeof line, 1, "L2/A", "{:op :panic :reason \"boom\"}"), 5000);
  cr_assert(r);
  cr_expect(is_type(error_of(r), "wat/child-exited"));
  const char *who = get_str(error_of(r), "child");
  cr_expect(who && (strcmp(who, "L2") == 0 || strcmp(who, "A") == 0),
            "answered by L2 (A exited) or by L1 (L2 exited): %s", who);
  cr_expect(pid_wait_gone(l2, 5000) && pid_wait_gone(a, 5000) && pid_wait_gone(b, 5000),
            "L2's whole subtree is gone");
  edn_value *x = last_exit(&t, "", 2);
  cr_assert(x);
  cr_expect_str_eq(get_str(x, "node"), "L2");
  cr_expect_eq(get_int(edn_map_getk(x, "status"), "exit"), 70);
  edn_value *p = edn_map_getk(x, "panic");
  cr_assert(p && p->type == EDN_MAP);
  cr_expect_str_eq(get_str(p, "reason"), "child A exited");
  edn_value *ce = edn_map_getk(edn_map_getk(p, "cause"), "wat/child-exit");
  cr_assert(ce, ":cause is {:wat/child-exit ...}");
  cr_expect_str_eq(get_str(ce, "node"), "A");
  cr_expect_str_eq(get_str(edn_map_getk(ce, "panic"), "reason"), "boom");
  cr_expect_eq(tree_node_pid(&t, "S", 5000), s, "L2's sibling is untouched");
  end_clean(&t, 0);
}

Test(policy, restart_gives_a_new_pid_then_hits_the_limit) {
  struct tree t;
  cr_assert_eq(tree_start(&t, "{:name \"L1\" :children [{:name \"L2\" :on-child-exit :restart :max-restarts 2 :restart-period-ms 60000 :children [{:name \"A\"} {:name \"B\"}]}]}", false, NULL), 0);
  pid_t l2 = tree_node_pid(&t, "L2", 5000), b = tree_node_pid(&t, "L2/B", 5000);
  char line[256];
  pid_t prev = tree_node_pid(&t, "L2/A", 5000);
  for (int i = 0; i < 2; i++) {
    edn_value *r = tree_ask(&t, route_line(line, sizeof line, 10 + i, "L2/A", "{:op :panic :reason \"again\"}"), 5000);
    cr_expect(is_type(error_of(r), "wat/child-exited"));
    cr_expect(pid_wait_gone(prev, 5000));
    pid_t now = tree_node_pid(&t, "L2/A", 5000);
    cr_expect(now > 0 && now != prev, "A restarted under a new pid");
    prev = now;
  }
  char stats[128];
  edn_value *r = tree_ask(&t, route_line(stats, sizeof stats, 20, "L2", "{:op :stats}"), 5000);
  cr_expect_eq(get_int(r, "restarts"), 2);
  cr_expect_eq(get_int(r, "children-alive"), 2);
  cr_expect_eq(tree_node_pid(&t, "L2", 5000), l2);
  cr_expect_eq(tree_node_pid(&t, "L2/B", 5000), b);
  /* A third restart within the period is one more than :max-restarts allows. */
  tree_ask(&t, route_line(line, sizeof line, 30, "L2/A", "{:op :panic :reason \"last\"}"), 5000);
  cr_expect(pid_wait_gone(l2, 5000), "L2 escalated");
  edn_value *x = last_exit(&t, "", 31);
  cr_assert(x);
  cr_expect_str_eq(get_str(edn_map_getk(x, "panic"), "reason"),
                   "restart intensity: more than 2 restarts within 60000 ms (last: child A)");
  end_clean(&t, 0);
}

Test(policy, pending_requests_on_a_dying_child_get_errors) {
  struct tree t;
  cr_assert_eq(tree_start(&t, "{:name \"L1\" :children [{:name \"A\"} {:name \"B\"}]}", false, NULL), 0);
  char line[256];
  for (int i = 1; i <= 5; i++)
    cr_assert_eq(tree_send(&t, route_line(line, sizeof line, i, "A", "{:op :sleep :ms 10000}"), 5000), 0);
  cr_assert_eq(tree_send(&t, "{:id 6 :op :fan :req {:op :sleep :ms 1500}}", 5000), 0);
  pid_t a = tree_node_pid(&t, "A", 5000);
  cr_assert(a > 0);
  cr_assert_eq(kill(a, SIGKILL), 0);
  int seen = 0;
  for (int i = 0; i < 5; i++) {
    edn_value *r = tree_reply(&t, 5000);
    cr_assert(r, "every pending request on A is answered");
    cr_expect(get_int(r, "id") >= 1 && get_int(r, "id") <= 5);
    edn_value *e = error_of(r);
    cr_expect(is_type(e, "wat/child-exited"));
    edn_value *rep = edn_map_getk(e, "report");
    cr_expect_eq(get_int(edn_map_getk(rep, "status"), "signal"), 9);
    cr_expect(edn_map_getk(rep, "panic")->type == EDN_NIL);
    seen++;
  }
  cr_expect_eq(seen, 5);
  /* The fan is still waiting on B; close stdin: it is answered before exit. */
  int st = tree_close(&t, 20000);
  char *l = tree_line(&t, 0);
  cr_assert(l, "the pending fan was answered before the node ended");
  cr_expect(strstr(l, ":id 6") && strstr(l, ":wat/child-exited") && strstr(l, ":slept 1500"),
            "fan lists A as exited while pending: %s", l);
  free(l);
  cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  tree_free(&t);
  cr_expect_eq(tree_reap_orphans(3000), 0);
  cr_expect_eq(fd_count(), fds0);
}

Test(policy, swallow_panic_exits_70_silently) {
  struct tree t;
  cr_assert_eq(tree_start(&t, NULL, false, "swallow-panic"), 0);
  cr_assert_eq(tree_send(&t, "{:id 1 :op :panic :reason \"x\"}", 5000), 0);
  int st = tree_wait(&t, 5000);
  cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 70);
  cr_expect(t.errlen == 0, "no report with swallow-panic");
  tree_free(&t);
  cr_assert_eq(tree_start(&t, NULL, false, NULL), 0);
  cr_assert_eq(tree_send(&t, "{:id 1 :op :panic :reason \"x\"}", 5000), 0);
  st = tree_wait(&t, 5000);
  cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 70);
  cr_expect(t.errbuf && strstr(t.errbuf, "{:wat/panic {:node \"L1\" :pid ") &&
            strstr(t.errbuf, ":reason \"x\" :cause nil}}\n"), "the panic line: %s", t.errbuf);
  tree_free(&t);
  cr_expect_eq(tree_reap_orphans(3000), 0);
  cr_expect_eq(fd_count(), fds0);
}
