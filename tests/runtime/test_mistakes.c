/* test_mistakes.c — the process-tree negative controls, in both node
 * implementations: watvm's WATVM_FAULT=skip-child|restart-bare|zombie and
 * the Python node's TREENODE_MISTAKE of the same names (fixtures/nodes).
 * Each builds a wrong tree silently; every fact asserted here is read from
 * /proc (parent links, process states, a child's --spec on its command
 * line), not from the nodes' own answers, which are only used to pace the
 * polls and to see that the node still serves. Positive controls: the
 * same trees without the switch are whole, with no zombie anywhere, and a
 * restarted child gets its subtree back. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "node.h"
#include "tree_util.h"

static int fds0;
static void setup(void) {
  tree_subreaper();
  fds0 = fd_count();
}

TestSuite(mistakes, .init = setup, .timeout = 60.);

enum impl { WATVM, PYTHON };

static const char *SPEC =
    "{:name \"L1\" :children [{:name \"A\"} {:name \"B\" :children [{:name \"B1\"}]}]}";
static const char *RESTART_SPEC =
    "{:name \"L1\" :on-child-exit :restart :children [{:name \"A\"} {:name \"B\" "
    ":children [{:name \"B1\"}]}]}";

static void set_or_unset(const char *var, const char *value) {
  if (value) cr_assert_eq(setenv(var, value, 1), 0);
  else cr_assert_eq(unsetenv(var), 0);
}

/* Start SPEC's tree under `impl` with `mistake` (NULL: none) limited to the
 * nodes named in `only` (NULL: all). */
static void start(struct tree *t, enum impl impl, const char *spec,
                  const char *mistake, const char *only) {
  set_or_unset("WATVM_FAULT_NODE", impl == WATVM ? only : NULL);
  set_or_unset("TREENODE_MISTAKE", impl == PYTHON ? mistake : NULL);
  set_or_unset("TREENODE_MISTAKE_NODE", impl == PYTHON ? only : NULL);
  if (impl == WATVM) {
    cr_assert_eq(tree_start(t, spec, false, mistake), 0);
    return;
  }
  const char *src = getenv("TREEPROOF_SOURCE_DIR");
  cr_assert_not_null(src, "TREEPROOF_SOURCE_DIR must be set by ctest");
  char script[4096];
  snprintf(script, sizeof script, "%s/fixtures/nodes/node.py", src);
  /* No __pycache__ written into the source tree by these tests. */
  cr_assert_eq(setenv("PYTHONDONTWRITEBYTECODE", "1", 1), 0);
  /* $TREEPROOF_PYTHON: ctest's choice of interpreter (CMakeLists.txt). */
  const char *py = getenv("TREEPROOF_PYTHON");
  const char *cmd[] = {py && *py ? py : "python3", "-S", script, NULL};
  cr_assert_eq(tree_start_cmd(t, cmd, spec, NULL), 0);
}

static void end_clean(struct tree *t) {
  int st = tree_close(t, 15000);
  cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0,
            "the root ends with 0 (status %#x): %s", st,
            t->errbuf ? t->errbuf : "");
  tree_free(t);
  cr_expect_eq(tree_reap_orphans(5000), 0, "no process of the tree is left");
  cr_expect_eq(fd_count(), fds0, "fd count back to %d", fds0);
}

/* ---- /proc -------------------------------------------------------------- */

/* State and parent of pid from /proc/PID/stat; false when there is none. */
static bool proc_stat(pid_t pid, char *state, pid_t *ppid) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  FILE *f = fopen(path, "re");
  if (!f) return false;
  bool ok = false;
  if (fgets(buf, sizeof buf, f)) {
    char *rp = strrchr(buf, ')');
    int pp = 0;
    ok = rp && sscanf(rp + 2, "%c %d", state, &pp) == 2;
    *ppid = pp;
  }
  fclose(f);
  return ok;
}

static bool proc_exists(pid_t pid) {
  char state;
  pid_t ppid;
  return proc_stat(pid, &state, &ppid);
}

enum { MAXKIDS = 64 };
struct kids {
  int n;
  pid_t pid[MAXKIDS];
  char state[MAXKIDS];
};

/* Every process whose parent is `parent`, with its state. */
static void kids_of(pid_t parent, struct kids *k) {
  k->n = 0;
  DIR *d = opendir("/proc");
  struct dirent *de;
  while (d && (de = readdir(d)) && k->n < MAXKIDS) {
    pid_t p = atoi(de->d_name);
    char state;
    pid_t pp;
    if (p > 0 && proc_stat(p, &state, &pp) && pp == parent) {
      k->pid[k->n] = p;
      k->state[k->n++] = state;
    }
  }
  if (d) closedir(d);
}

static bool dead_state(char s) { return s == 'Z' || s == 'X'; }

static int live_kids(pid_t parent) {
  struct kids k;
  int n = 0;
  kids_of(parent, &k);
  for (int i = 0; i < k.n; i++) n += !dead_state(k.state[i]);
  return n;
}

static int zombie_kids(pid_t parent, pid_t *first) {
  struct kids k;
  int n = 0;
  kids_of(parent, &k);
  for (int i = 0; i < k.n; i++)
    if (k.state[i] == 'Z' && n++ == 0 && first) *first = k.pid[i];
  return n;
}

/* The --spec a node was started with (its command line), parsed into `a`;
 * NULL before it exec'ed or when it has none. */
static edn_value *spec_of(pid_t pid, edn_arena *a) {
  char path[64];
  static char buf[1 << 17];
  snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
  FILE *f = fopen(path, "re");
  if (!f) return NULL;
  size_t len = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[len] = '\0';
  for (size_t i = 0; i < len; i += strlen(buf + i) + 1) {
    if (strcmp(buf + i, "--spec") != 0) continue;
    const char *text = buf + i + strlen(buf + i) + 1;
    edn_value *v = NULL;
    struct edn_error err;
    if (text < buf + len &&
        edn_read(a, text, strlen(text), NULL, &v, &err) == EDN_OK &&
        v->type == EDN_MAP)
      return v;
    return NULL;
  }
  return NULL;
}

/* The live child of `parent` started as the node `name`, or -1. */
static pid_t child_named(pid_t parent, const char *name) {
  struct kids k;
  pid_t found = -1;
  kids_of(parent, &k);
  edn_arena *a = edn_arena_new();
  for (int i = 0; i < k.n && found < 0; i++) {
    if (dead_state(k.state[i])) continue;
    edn_value *s = spec_of(k.pid[i], a);
    const char *n = s ? get_str(s, "name") : NULL;
    if (n && strcmp(n, name) == 0) found = k.pid[i];
  }
  edn_arena_free(a);
  return found;
}

/* Pace a poll of /proc: one round trip to the root (a 5 ms :sleep), so the
 * test waits on the tree, not on a clock. */
static void pace(struct tree *t) {
  static int64_t id = 1000000;
  char line[64];
  snprintf(line, sizeof line, "{:id %lld :op :sleep :ms 5}", (long long)id++);
  cr_assert(tree_ask(t, line, 5000), "the root still serves");
}

static pid_t await_child(struct tree *t, pid_t parent, const char *name) {
  int64_t deadline = now_ms() + 15000;
  pid_t p;
  while ((p = child_named(parent, name)) < 0 && now_ms() < deadline) pace(t);
  return p;
}

static pid_t await_zombie(struct tree *t, pid_t parent) {
  int64_t deadline = now_ms() + 15000;
  pid_t z = -1;
  while (zombie_kids(parent, &z) == 0 && now_ms() < deadline) pace(t);
  return z;
}

/* Until pid has no /proc entry at all (not even a zombie's). */
static bool await_no_proc(struct tree *t, pid_t pid) {
  int64_t deadline = now_ms() + 15000;
  while (proc_exists(pid) && now_ms() < deadline) pace(t);
  return !proc_exists(pid);
}

/* A node that has answered a request has started every spec child it is
 * going to start (both implementations start them before serving). */
static void sync_node(struct tree *t, const char *path) {
  static int64_t id = 2000000;
  char line[256];
  if (*path) route_line(line, sizeof line, id++, path, "{:op :ping}");
  else snprintf(line, sizeof line, "{:id %lld :op :ping}", (long long)id++);
  edn_value *r = tree_ask(t, line, 10000);
  cr_assert(r && edn_map_getk(r, "pong"), "%s answers a ping", *path ? path : "L1");
}

static bool is_error(edn_value *r, const char *type) {
  edn_value *e = r ? edn_map_getk(r, "error") : NULL;
  return e && edn_is_keyword(edn_map_getk(e, "type"), type);
}

/* ---- the switch table -------------------------------------------------- */

Test(mistakes, watvm_switch_names_and_fault_node) {
  cr_expect_eq(fault_parse("skip-child"), FAULT_SKIP_CHILD);
  cr_expect_eq(fault_parse("restart-bare"), FAULT_RESTART_BARE);
  cr_expect_eq(fault_parse("zombie"), FAULT_ZOMBIE);
  cr_expect_eq(fault_parse("skip-child,restart-bare zombie,leak-fd"),
               FAULT_SKIP_CHILD | FAULT_RESTART_BARE | FAULT_ZOMBIE | FAULT_LEAK_FD);
  cr_expect_eq(fault_select("zombie,skip-child", "A,B", "B"),
               FAULT_ZOMBIE | FAULT_SKIP_CHILD);
  cr_expect_eq(fault_select("zombie,skip-child", "A,B", "L1"), 0u);
  unsigned all = FAULT_LEAK_FD | FAULT_NO_PGRP | FAULT_UNBOUNDED_QUEUE |
                 FAULT_IGNORE_EOF | FAULT_SWALLOW_PANIC | FAULT_BABBLE |
                 FAULT_STDERR_FLOOD | FAULT_STDOUT_FLOOD;
  cr_expect_eq((FAULT_SKIP_CHILD | FAULT_RESTART_BARE | FAULT_ZOMBIE) & all, 0u,
               "three new bits");
}

/* ---- positive control: no switch, a whole tree, no zombie -------------- */

static void whole_tree(enum impl impl) {
  struct tree t;
  start(&t, impl, SPEC, NULL, NULL);
  pid_t root = t.pid, a = await_child(&t, root, "A"), b = await_child(&t, root, "B");
  cr_assert(a > 0 && b > 0, "A and B run under L1");
  pid_t b1 = await_child(&t, b, "B1");
  cr_assert(b1 > 0, "B1 runs under B");
  sync_node(&t, "");
  sync_node(&t, "B");
  sync_node(&t, "B/B1");
  sync_node(&t, "A");
  cr_expect_eq(live_kids(root), 2);
  cr_expect_eq(live_kids(b), 1);
  cr_expect_eq(live_kids(a), 0);
  pid_t nodes[] = {root, a, b, b1};
  for (size_t i = 0; i < 4; i++) {
    struct kids k;
    kids_of(nodes[i], &k);
    cr_expect_eq(zombie_kids(nodes[i], NULL), 0, "no zombie under %d", nodes[i]);
    cr_expect_eq(k.n, live_kids(nodes[i]), "no helper process under %d", nodes[i]);
  }
  end_clean(&t);
}

Test(mistakes, watvm_whole_tree_without_switches) { whole_tree(WATVM); }
Test(mistakes, python_whole_tree_without_mistakes) { whole_tree(PYTHON); }

/* ---- skip-child -------------------------------------------------------- */

static void skip_child(enum impl impl) {
  struct tree t;
  start(&t, impl, SPEC, "skip-child", NULL);
  pid_t root = t.pid, a = await_child(&t, root, "A");
  cr_assert(a > 0, "A (not the last child) runs under L1");
  sync_node(&t, "");
  cr_expect_eq(child_named(root, "B"), -1, "B (the last child) has no process");
  cr_expect_eq(live_kids(root), 1, "L1 has one child process only");
  struct kids k;
  kids_of(root, &k);
  cr_expect_eq(k.n, 1, "and no other process under it");
  /* No error anywhere: the node serves, and B is simply not one of its
   * children. */
  char line[256];
  edn_value *r = tree_ask(&t, route_line(line, sizeof line, 1, "B", "{:op :ping}"), 5000);
  cr_expect(is_error(r, "wat/no-such-child"), "a :route to B: no such child");
  r = tree_ask(&t, "{:id 2 :op :fan}", 5000);
  edn_value *rep = r ? edn_map_getk(r, "replies") : NULL;
  cr_assert(rep && rep->type == EDN_VECTOR, ":fan answers");
  cr_expect_eq(rep->u.seq.len, 1u, ":fan lists A only");
  r = tree_ask(&t, "{:id 3 :op :inspect}", 5000);
  edn_value *kids = r ? edn_map_getk(r, "children") : NULL;
  cr_assert(kids && kids->type == EDN_VECTOR, ":inspect answers");
  cr_expect(kids->u.seq.len == 1 && !strcmp(kids->u.seq.items[0]->u.text.ptr, "A"),
            ":inspect lists A only");
  cr_expect(t.errbuf == NULL || !strstr(t.errbuf, "wat/panic"), "no panic: %s",
            t.errbuf ? t.errbuf : "");
  end_clean(&t);
}

Test(mistakes, watvm_skip_child) { skip_child(WATVM); }
Test(mistakes, python_skip_child) { skip_child(PYTHON); }

/* ---- restart-bare (and its positive control) -------------------------- */

static void restart_case(enum impl impl, bool bare) {
  struct tree t;
  start(&t, impl, RESTART_SPEC, bare ? "restart-bare" : NULL, NULL);
  pid_t root = t.pid, a = await_child(&t, root, "A"), b = await_child(&t, root, "B");
  cr_assert(a > 0 && b > 0);
  pid_t b1 = await_child(&t, b, "B1");
  cr_assert(b1 > 0, "the first start is whole: B1 under B");
  char line[256];
  edn_value *r = tree_ask(&t, route_line(line, sizeof line, 1, "B", "{:op :panic :reason \"again\"}"), 10000);
  cr_expect(is_error(r, "wat/child-exited"), "the panicking B's request fails");
  cr_expect(pid_wait_gone(b, 10000) && pid_wait_gone(b1, 10000), "B and B1 are gone");
  pid_t nb = await_child(&t, root, "B");
  cr_assert(nb > 0 && nb != b, "B restarted under a new pid (%d, was %d)", nb, b);
  sync_node(&t, "B");
  edn_arena *ar = edn_arena_new();
  edn_value *s = spec_of(nb, ar);
  cr_expect(s, "the new B's --spec is on its command line");
  if (bare) {
    cr_expect_eq(live_kids(nb), 0, "the restarted B is a leaf: no B1 under it");
    struct kids k;
    kids_of(nb, &k);
    cr_expect_eq(k.n, 0, "no process at all under the new B");
    cr_expect(s && !edn_map_getk(s, "children"), "started without :children");
  } else {
    pid_t nb1 = await_child(&t, nb, "B1");
    cr_expect(nb1 > 0 && nb1 != b1, "B1 came back under the new B");
    cr_expect_eq(live_kids(nb), 1);
    cr_expect(s && edn_map_getk(s, "children"), "started with its :children");
  }
  edn_arena_free(ar);
  cr_expect_eq(child_named(root, "A"), a, "A is untouched");
  end_clean(&t);
}

Test(mistakes, watvm_restart_bare) { restart_case(WATVM, true); }
Test(mistakes, watvm_restart_brings_the_subtree_back) { restart_case(WATVM, false); }
Test(mistakes, python_restart_bare) { restart_case(PYTHON, true); }
Test(mistakes, python_restart_brings_the_subtree_back) { restart_case(PYTHON, false); }

/* ---- zombie ------------------------------------------------------------ */

static void zombie_case(enum impl impl) {
  struct tree t;
  start(&t, impl, SPEC, "zombie", NULL);
  pid_t root = t.pid, a = await_child(&t, root, "A"), b = await_child(&t, root, "B");
  cr_assert(a > 0 && b > 0);
  pid_t b1 = await_child(&t, b, "B1");
  cr_assert(b1 > 0);
  pid_t z = await_zombie(&t, root);
  cr_assert(z > 0, "a zombie under the live L1");
  cr_expect(await_zombie(&t, b) > 0, "and one under B (the switch is inherited)");
  /* Its real children are still reaped: A, killed, leaves no zombie. */
  cr_assert_eq(kill(a, SIGKILL), 0);
  cr_expect(await_no_proc(&t, a), "L1 reaped A (no /proc entry left)");
  /* It stays: twice over ~200 ms of the root serving (its reaper runs at
   * every loop turn and on every SIGCHLD). */
  for (int i = 0; i < 2; i++) {
    char line[64];
    snprintf(line, sizeof line, "{:id %d :op :sleep :ms 100}", 10 + i);
    cr_assert(tree_ask(&t, line, 5000), "the root serves");
    char state = 0;
    pid_t ppid = 0;
    cr_expect(proc_stat(z, &state, &ppid) && state == 'Z' && ppid == root,
              "the zombie %d stays under L1 (state %c, parent %d)", z, state, ppid);
    cr_expect_eq(zombie_kids(root, NULL), 1, "exactly one zombie under L1");
  }
  cr_expect_eq(live_kids(root), 1, "B is still L1's live child");
  end_clean(&t);
  cr_expect(!proc_exists(z), "once the tree ended the zombie was reaped");
}

Test(mistakes, watvm_zombie) { zombie_case(WATVM); }
Test(mistakes, python_zombie) { zombie_case(PYTHON); }

/* ---- limited to one node ----------------------------------------------- */

static void only_b(enum impl impl) {
  struct tree t;
  start(&t, impl, SPEC, "zombie,skip-child", "B");
  pid_t root = t.pid, a = await_child(&t, root, "A"), b = await_child(&t, root, "B");
  cr_assert(a > 0 && b > 0, "L1 is not touched: both children run");
  cr_expect(await_zombie(&t, b) > 0, "B has its zombie");
  sync_node(&t, "");
  sync_node(&t, "B");
  struct kids k;
  kids_of(root, &k);
  cr_expect_eq(k.n, 2, "nothing but A and B under L1");
  cr_expect_eq(live_kids(b), 0, "B skipped its only (last) child B1");
  kids_of(a, &k);
  cr_expect_eq(k.n, 0, "nothing under A");
  end_clean(&t);
}

Test(mistakes, watvm_fault_node_limits_them) { only_b(WATVM); }
Test(mistakes, python_mistake_node_limits_them) { only_b(PYTHON); }
