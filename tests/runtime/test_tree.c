/* test_tree.c — watvm trees answering over real pipes: the seed tree's
 * nested :fan, a 256-deep chain, a fan-out of 100, out-of-order replies,
 * :inspect against /proc, malformed input, --spec-stdin, bad specs. Every
 * test ends by proving no process of the tree is left and no fd leaked. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tree_util.h"

static int fds0;
static void setup(void) {
  tree_subreaper();
  fds0 = fd_count();
}

/* A tree goes down one level at a time: each parent exits after its
 * children. Under ASan every exit runs the leak check, so a deep chain on a
 * loaded machine needs far longer than a wide tree; hence the bound per call. */
static void end_clean_within(struct tree *t, int timeout_ms) {
  int st = tree_close(t, timeout_ms);
  cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0,
            "the root ends with exit 0 on EOF (status %#x); stderr: %s", st,
            t->errbuf ? t->errbuf : "");
  tree_free(t);
  cr_expect_eq(tree_reap_orphans(3000), 0, "no process of the tree is left");
  cr_expect_eq(fd_count(), fds0, "the test's fd count is back to %d", fds0);
}

static void end_clean(struct tree *t) { end_clean_within(t, 10000); }

static const char *SEED =
    "{:name \"L1\" :children [{:name \"L2a\" :children [{:name \"L3a\"} "
    "{:name \"L3b\"}]} {:name \"L2b\" :children [{:name \"L3c\"} {:name "
    "\"L3d\"}]} {:name \"L2c\"}]}";

TestSuite(tree, .init = setup, .timeout = 60.);

Test(tree, ping_echo_and_malformed_lines) {
  struct tree t;
  cr_assert_eq(tree_start(&t, NULL, false, NULL), 0);
  edn_value *r = tree_ask(&t, "{:id 1 :op :ping}", 5000);
  cr_assert(r, "a reply to :ping");
  cr_expect_str_eq(get_str(r, "node"), "L1");
  cr_expect(edn_equal(edn_map_getk(r, "pong"), edn_bool(t.a, true)));
  const char *body = "[1 -2N 3.5M \"a\\nb\" \\u00e9 #{1 2} {:k (x y)} #inst \"2020-01-01T00:00:00Z\" #my/tag nil]";
  char line[512];
  snprintf(line, sizeof line, "{:id -7 :op :echo :body %s}", body);
  r = tree_ask(&t, line, 5000);
  cr_assert(r);
  edn_value *want = NULL;
  struct edn_error err;
  cr_assert_eq(edn_read(t.a, body, strlen(body), NULL, &want, &err), EDN_OK);
  cr_expect(edn_equal(edn_map_getk(r, "body"), want), "echo returns X unchanged");

  struct { const char *line, *type; bool id_nil; } bad[] = {
      {"this is (not", "wat/parse-error", true},
      {"[1 2 3]", "wat/bad-request", true},
      {"{:id 5}", "wat/bad-request", false},
      {"{:id 6 :op :frobnicate}", "wat/unknown-op", false},
      {"{:id 7 :op :route :path \"L2a\" :req {:op :ping}}", "wat/bad-request", false},
      {"{:id 8 :op :route :path [\"nobody\"] :req {:op :ping}}", "wat/no-such-child", false},
      {"{:id 9 :op :sleep :ms -1}", "wat/bad-request", false},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    cr_assert_eq(tree_send(&t, bad[i].line, 5000), 0);
    r = tree_reply(&t, 5000);
    cr_assert(r, "a reply to %s", bad[i].line);
    edn_value *e = edn_map_getk(r, "error");
    cr_expect(e && edn_is_keyword(edn_map_getk(e, "type"), bad[i].type),
              "%s → %s", bad[i].line, bad[i].type);
    cr_expect(get_str(e, "message"), "an error carries a :message");
    if (bad[i].id_nil)
      cr_expect(edn_map_getk(r, "id") && edn_map_getk(r, "id")->type == EDN_NIL);
  }
  /* A line over 1 MiB: one error, the rest of the line dropped, serving on. */
  size_t big = (1u << 20) + 100;
  char *huge = malloc(big + 32);
  strcpy(huge, "{:id 10 :op :echo :body \"");
  size_t head = strlen(huge);
  memset(huge + head, 'x', big);
  strcpy(huge + head + big, "\"}");
  cr_assert_eq(tree_send(&t, huge, 10000), 0);
  free(huge);
  r = tree_reply(&t, 5000);
  cr_assert(r);
  cr_expect(edn_is_keyword(edn_map_getk(edn_map_getk(r, "error"), "type"),
                           "wat/line-too-long"));
  cr_expect(tree_send(&t, "", 1000) == 0, "a blank line is ignored");
  r = tree_ask(&t, "{:id 11 :op :ping}", 5000);
  cr_expect(r && get_int(r, "id") == 11, "the node keeps serving");
  end_clean(&t);
}

/* Check a :fan reply's shape against the seed tree. */
static void expect_node(edn_value *r, const char *name, size_t nkids) {
  cr_assert(r && r->type == EDN_MAP, "a fan reply for %s", name);
  cr_expect_str_eq(get_str(r, "node"), name);
  edn_value *res = edn_map_getk(r, "result");
  cr_expect(res && edn_map_getk(res, "pong"), "%s answered :ping", name);
  cr_expect_str_eq(get_str(res, "node"), name);
  edn_value *reps = edn_map_getk(r, "replies");
  cr_assert(reps && reps->type == EDN_VECTOR && reps->u.seq.len == nkids,
            "%s has %zu replies", name, nkids);
}

Test(tree, seed_tree_fan_has_the_nested_shape) {
  struct tree t;
  cr_assert_eq(tree_start(&t, SEED, false, NULL), 0);
  edn_value *r = tree_ask(&t, "{:id 1 :op :fan :req {:op :ping}}", 10000);
  expect_node(r, "L1", 3);
  edn_value **k = edn_map_getk(r, "replies")->u.seq.items;
  expect_node(k[0], "L2a", 2);
  expect_node(k[1], "L2b", 2);
  expect_node(k[2], "L2c", 0);
  edn_value **a = edn_map_getk(k[0], "replies")->u.seq.items;
  edn_value **b = edn_map_getk(k[1], "replies")->u.seq.items;
  expect_node(a[0], "L3a", 0);
  expect_node(a[1], "L3b", 0);
  expect_node(b[0], "L3c", 0);
  expect_node(b[1], "L3d", 0);
  cr_expect(!edn_map_getk(k[0], "id"), "children's fan replies carry no :id");
  /* A :fan without :req means :ping. */
  r = tree_ask(&t, "{:id 2 :op :fan}", 10000);
  expect_node(r, "L1", 3);
  end_clean(&t);
}

static char *chain_spec(int depth) {
  size_t cap = (size_t)depth * 40 + 16, n = 0;
  char *s = malloc(cap);
  for (int i = 1; i <= depth; i++)
    n += (size_t)snprintf(s + n, cap - n, i < depth ? "{:name \"C%d\" :children [" : "{:name \"C%d\"", i);
  for (int i = 1; i <= depth; i++) n += (size_t)snprintf(s + n, cap - n, i == 1 ? "}" : "]}");
  return s;
}

Test(tree, chain_256_deep_routes_and_fans, .timeout = 120.) {
  struct tree t;
  char *spec = chain_spec(256);
  cr_assert_eq(tree_start(&t, spec, false, NULL), 0);
  free(spec);
  size_t cap = 256 * 8 + 64, n = 0;
  char *path = malloc(cap);
  for (int i = 2; i <= 256; i++) n += (size_t)snprintf(path + n, cap - n, i > 2 ? "/C%d" : "C%d", i);
  char *line = malloc(cap * 2);
  route_line(line, cap * 2, 1, path, "{:op :inspect}");
  edn_value *r = tree_ask(&t, line, 30000);
  cr_assert(r, "the 256th node answers through 255 hops");
  cr_expect_str_eq(get_str(r, "node"), "C256");
  cr_expect_eq(get_int(r, "depth"), 256);
  r = tree_ask(&t, "{:id 2 :op :fan}", 30000);
  cr_assert(r);
  int levels = 0;
  for (edn_value *x = r; x; levels++) {
    edn_value *reps = edn_map_getk(x, "replies");
    x = reps && reps->u.seq.len ? reps->u.seq.items[0] : NULL;
  }
  cr_expect_eq(levels, 256, "the fan reply nests 256 levels");
  free(path);
  free(line);
  end_clean_within(&t, 60000); /* 256 exits in series */
}

Test(tree, fan_out_of_100) {
  struct tree t;
  size_t cap = 100 * 24 + 64, n = 0;
  char *spec = malloc(cap);
  n += (size_t)snprintf(spec, cap, "{:name \"L1\" :children [");
  for (int i = 1; i <= 100; i++) n += (size_t)snprintf(spec + n, cap - n, "{:name \"K%d\"} ", i);
  snprintf(spec + n, cap - n, "]}");
  cr_assert_eq(tree_start(&t, spec, false, NULL), 0);
  free(spec);
  for (int round = 0; round < 3; round++) {
    char line[64];
    snprintf(line, sizeof line, "{:id %d :op :fan :req {:op :ping}}", round);
    edn_value *r = tree_ask(&t, line, 20000);
    cr_assert(r);
    edn_value *reps = edn_map_getk(r, "replies");
    cr_assert(reps && reps->u.seq.len == 100);
    for (int i = 0; i < 100; i++) {
      char name[16];
      snprintf(name, sizeof name, "K%d", i + 1);
      cr_expect_str_eq(get_str(reps->u.seq.items[i], "node"), name, "spec order");
    }
  }
  end_clean(&t);
}

Test(tree, replies_out_of_order_match_their_ids) {
  struct tree t;
  cr_assert_eq(tree_start(&t, "{:name \"L1\" :children [{:name \"A\"}]}", false, NULL), 0);
  char line[256];
  /* Pipelined on one edge; the child answers out of order. */
  cr_assert_eq(tree_send(&t, route_line(line, sizeof line, 1, "A", "{:op :sleep :ms 400}"), 5000), 0);
  cr_assert_eq(tree_send(&t, route_line(line, sizeof line, 2, "A", "{:op :sleep :ms 100}"), 5000), 0);
  cr_assert_eq(tree_send(&t, route_line(line, sizeof line, 3, "A", "{:op :ping}"), 5000), 0);
  cr_assert_eq(tree_send(&t, "{:id 4 :op :sleep :ms 200}", 5000), 0);
  int64_t order[4], want[4] = {3, 2, 4, 1};
  for (int i = 0; i < 4; i++) {
    edn_value *r = tree_reply(&t, 5000);
    cr_assert(r);
    order[i] = get_int(r, "id");
    if (order[i] == 1) cr_expect_eq(get_int(r, "slept"), 400);
    if (order[i] == 2) cr_expect_eq(get_int(r, "slept"), 100);
    if (order[i] == 1 || order[i] == 2 || order[i] == 3) cr_expect_str_eq(get_str(r, "node"), "A");
  }
  for (int i = 0; i < 4; i++) cr_expect_eq(order[i], want[i], "reply %d is id %lld", i, (long long)want[i]);
  end_clean(&t);
}

/* One node's :fds as seen from outside: readlink /proc/PID/fd/N. */
static void expect_fds_match_proc(edn_value *r) {
  int64_t pid = get_int(r, "pid");
  edn_value *fds = edn_map_getk(r, "fds");
  cr_assert(fds && fds->type == EDN_VECTOR);
  int pipes = 0;
  for (size_t i = 0; i < fds->u.seq.len; i++) {
    edn_value *e = fds->u.seq.items[i];
    cr_assert(e->type == EDN_VECTOR && e->u.seq.len == 3);
    int64_t fd = e->u.seq.items[0]->u.integer;
    char path[64], link[512], want[600];
    snprintf(path, sizeof path, "/proc/%lld/fd/%lld", (long long)pid, (long long)fd);
    ssize_t k = readlink(path, link, sizeof link - 1);
    cr_assert(k > 0, "fd %lld exists in /proc", (long long)fd);
    link[k] = '\0';
    edn_value *kind = e->u.seq.items[1], *x = e->u.seq.items[2];
    if (edn_is_keyword(kind, "pipe")) {
      snprintf(want, sizeof want, "pipe:[%lld]", (long long)x->u.integer);
      pipes++;
    } else if (edn_is_keyword(kind, "anon")) {
      snprintf(want, sizeof want, "anon_inode:[%s]", x->u.text.ptr);
    } else {
      snprintf(want, sizeof want, "%s", x->u.text.ptr);
    }
    cr_expect_str_eq(link, want, "fd %lld", (long long)fd);
  }
  char dir[64];
  snprintf(dir, sizeof dir, "/proc/%lld/fd", (long long)pid);
  (void)dir;
  cr_expect_eq(pipes, 3 + 3 * (int)edn_map_getk(r, "children")->u.seq.len,
               "three stdio pipes and three per child");
}

Test(tree, inspect_fds_match_proc) {
  struct tree t;
  cr_assert_eq(tree_start(&t, SEED, false, NULL), 0);
  edn_value *r = tree_ask(&t, "{:id 1 :op :inspect}", 5000);
  cr_assert(r);
  cr_expect_eq(get_int(r, "pid"), t.pid);
  cr_expect_eq(get_int(r, "pgid"), t.pid);
  cr_expect_eq(get_int(r, "ppid"), getpid());
  cr_expect_eq(get_int(r, "depth"), 1);
  expect_fds_match_proc(r);
  char line[256];
  r = tree_ask(&t, route_line(line, sizeof line, 2, "L2a", "{:op :inspect}"), 5000);
  cr_assert(r);
  cr_expect_eq(get_int(r, "ppid"), t.pid);
  cr_expect_eq(get_int(r, "pgid"), get_int(r, "pid"), "each node leads its own group");
  cr_expect_eq(get_int(r, "depth"), 2);
  edn_value *kids = edn_map_getk(r, "children");
  cr_expect(kids && kids->u.seq.len == 2 && strcmp(kids->u.seq.items[1]->u.text.ptr, "L3b") == 0);
  expect_fds_match_proc(r);
  end_clean(&t);
}

Test(tree, spec_over_64k_goes_through_stdin) {
  struct tree t;
  /* L1 → L2 → 40 leaves with long names: L1's and L2's specs are > 64 KiB. */
  size_t cap = 40 * 2100 + 128, n = 0;
  char *spec = malloc(cap);
  n += (size_t)snprintf(spec, cap, "{:name \"L1\" :children [{:name \"L2\" :children [");
  for (int i = 0; i < 40; i++) {
    n += (size_t)snprintf(spec + n, cap - n, "{:name \"%d-", i);
    memset(spec + n, 'n', 2000);
    n += 2000;
    n += (size_t)snprintf(spec + n, cap - n, "\"} ");
  }
  snprintf(spec + n, cap - n, "]}]}");
  cr_assert(strlen(spec) > 65536);
  cr_assert_eq(tree_start(&t, spec, true, NULL), 0);
  free(spec);
  edn_value *r = tree_ask(&t, "{:id 1 :op :fan}", 20000);
  cr_assert(r, "a tree whose specs travel on stdin answers");
  edn_value *l2 = edn_map_getk(r, "replies")->u.seq.items[0];
  cr_expect_eq(edn_map_getk(l2, "replies")->u.seq.len, 40);
  end_clean(&t);
}

Test(tree, bad_spec_exits_64_with_a_message) {
  const char *bad[] = {"{:name \"L1\" :colour :red}", "{:name 7}", "[1 2]",
                       "{:children [{:no-name 1}]}", "{:on-child-exit :explode}",
                       "{:children [{:name \"a\"} {:name \"a\"}]}", "{:queue-bytes \"x\"}",
                       "{:name \"L1\""};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    struct tree t;
    cr_assert_eq(tree_start(&t, bad[i], false, NULL), 0);
    int st = tree_close(&t, 5000);
    cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 64, "%s → exit 64", bad[i]);
    cr_expect(t.errbuf && strstr(t.errbuf, "watvm: fatal: bad spec:"), "%s → message", bad[i]);
    tree_free(&t);
  }
  cr_expect_eq(tree_reap_orphans(2000), 0);
  cr_expect_eq(fd_count(), fds0);
}

Test(tree, spawn_at_run_time_joins_the_fan_after_spec_children) {
  struct tree t;
  cr_assert_eq(tree_start(&t, "{:name \"L1\" :children [{:name \"A\"}]}", false, NULL), 0);
  edn_value *r = tree_ask(&t, "{:id 1 :op :spawn :spec {:name \"Z\" :children [{:name \"Z1\"}]}}", 5000);
  cr_assert(r);
  cr_expect_str_eq(get_str(r, "spawned"), "Z");
  r = tree_ask(&t, "{:id 2 :op :spawn :spec {:name \"A\"}}", 5000);
  cr_expect(r && edn_is_keyword(edn_map_getk(edn_map_getk(r, "error"), "type"), "wat/exists"));
  r = tree_ask(&t, "{:id 3 :op :spawn :spec {:name \"Q\" :colour 1}}", 5000);
  cr_expect(r && edn_is_keyword(edn_map_getk(edn_map_getk(r, "error"), "type"), "wat/bad-request"));
  r = tree_ask(&t, "{:id 4 :op :fan}", 5000);
  cr_assert(r);
  edn_value *reps = edn_map_getk(r, "replies");
  cr_assert_eq(reps->u.seq.len, 2);
  cr_expect_str_eq(get_str(reps->u.seq.items[1], "node"), "Z");
  char line[128];
  r = tree_ask(&t, route_line(line, sizeof line, 5, "Z/Z1", "{:op :inspect}"), 5000);
  cr_expect(r && get_int(r, "depth") == 3, "a spawned child gets depth + 1");
  end_clean(&t);
}

Test(tree, trace_writes_each_edge_event) {
  char dir[] = "/tmp/watvm-trace-XXXXXX";
  cr_assert(mkdtemp(dir));
  setenv("WATVM_TRACE", dir, 1);
  struct tree t;
  int rc = tree_start(&t, "{:name \"L1\" :children [{:name \"A\"}]}", false, NULL);
  unsetenv("WATVM_TRACE");
  cr_assert_eq(rc, 0);
  cr_assert(tree_ask(&t, "{:id 1 :op :fan}", 5000));
  end_clean(&t);
  char path[300], buf[4096] = "";
  snprintf(path, sizeof path, "%s/%d.ednl", dir, (int)0);
  /* the root's file: the one that names the edge ["L1" "A"] */
  DIR *d = opendir(dir);
  struct dirent *de;
  int files = 0;
  bool down = false, up = false;
  while (d && (de = readdir(d))) {
    if (de->d_name[0] == '.') continue;
    files++;
    snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
    FILE *f = fopen(path, "re");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    buf[n] = '\0';
    if (f) fclose(f);
    down = down || strstr(buf, ":edge [\"L1\" \"A\"] :dir :down :msg {:id 1 :op :fan");
    up = up || strstr(buf, ":edge [\"L1\" \"A\"] :dir :up :msg {:id 1 :node \"A\"");
    unlink(path);
  }
  if (d) closedir(d);
  rmdir(dir);
  cr_expect_eq(files, 2, "one file per node");
  cr_expect(down && up, "the edge's down and up events");
}

/* Run watvm with `args` and stdin from /dev/null; its exit status. */
static int run_args(char *const args[]) {
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    execv(watvm_path(), args);
    _exit(127);
  }
  int st = -1;
  waitpid(pid, &st, 0);
  return st;
}

Test(tree, command_line_usage_and_spec_file) {
  char *unknown[] = {"watvm", "--frob", NULL};
  char *missing[] = {"watvm", "--spec-file", "/nonexistent/spec.edn", NULL};
  char *two[] = {"watvm", "--spec", "{}", "--spec-stdin", NULL};
  char *noarg[] = {"watvm", "--spec", NULL};
  char *const *bad[] = {unknown, missing, two, noarg};
  for (size_t i = 0; i < 4; i++) {
    int st = run_args(bad[i]);
    cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 64, "%s %s → 64", bad[i][1], bad[i][2] ? bad[i][2] : "");
  }
  char path[] = "/tmp/watvm-spec-XXXXXX";
  int fd = mkstemp(path);
  cr_assert(fd >= 0);
  const char *spec = "{:name \"F\" :children [{:name \"G\"}]}\n";
  cr_assert_eq(write(fd, spec, strlen(spec)), (ssize_t)strlen(spec));
  close(fd);
  char *ok[] = {"watvm", "--spec-file", path, NULL};
  int st = run_args(ok);
  unlink(path);
  cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "a spec file, EOF at once → exit 0");
  cr_expect_eq(tree_reap_orphans(3000), 0);
  cr_expect_eq(fd_count(), fds0);
}
