/* test_limits.c — resource exhaustion in the middle of a tree: when pipe()
 * fails with EMFILE (RLIMIT_NOFILE) or fork fails with EAGAIN
 * (RLIMIT_NPROC) while a node starts its children, that node panics with a
 * report naming the child and the error, its parent isolates it, the rest
 * of the tree keeps serving, and nothing is left behind. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tree_util.h"

static void setup(void) { tree_subreaper(); }

TestSuite(limits, .init = setup, .timeout = 60.);

/* L1 -> A (twelve leaves), B: A is the node that runs out. */
static const char *SPEC =
    "{:name \"L1\" :children [{:name \"A\" :children [{:name \"A1\"} "
    "{:name \"A2\"} {:name \"A3\"} {:name \"A4\"} {:name \"A5\"} {:name \"A6\"} "
    "{:name \"A7\"} {:name \"A8\"} {:name \"A9\"} {:name \"A10\"} {:name \"A11\"} "
    "{:name \"A12\"}]} {:name \"B\"}]}";

/* The fan reply shows A dead of its own panic, whose reason names `error`,
 * and B answering. */
static void expect_a_contained(struct tree *t, const char *error) {
  edn_value *r = tree_ask(t, "{:id 1 :op :fan}", 10000);
  cr_assert(r, "the root answers a fan");
  edn_value *reps = edn_map_getk(r, "replies");
  cr_assert(reps && reps->type == EDN_VECTOR && reps->u.seq.len == 2,
            "two replies: %s", edn_to_string(r));
  edn_value *a = reps->u.seq.items[0], *b = reps->u.seq.items[1];
  edn_value *err = edn_map_getk(a, "error");
  cr_assert(err, "A answers with an error: %s", edn_to_string(a));
  cr_expect(edn_is_keyword(edn_map_getk(err, "type"), "wat/child-exited") ||
                edn_is_keyword(edn_map_getk(err, "type"), "wat/dead"),
            "A is dead: %s", edn_to_string(err));
  /* the report: from the error itself, or from the root's :stats */
  edn_value *st = tree_ask(t, "{:id 2 :op :stats}", 10000);
  cr_assert(st);
  edn_value *exits = edn_map_getk(st, "exits");
  cr_assert(exits && exits->u.seq.len == 1, "one child exit: %s", edn_to_string(st));
  edn_value *panic = edn_map_getk(exits->u.seq.items[0], "panic");
  const char *reason = panic ? get_str(panic, "reason") : NULL;
  cr_expect(reason && strstr(reason, "cannot spawn A") && strstr(reason, error),
            "A's panic names the child it could not start and why: %s",
            reason ? reason : "(none)");
  edn_value *res = edn_map_getk(b, "result");
  const char *bn = res ? get_str(res, "node") : NULL;
  cr_expect(bn && strcmp(bn, "B") == 0 && edn_map_getk(res, "pong"),
            "B still answers: %s", edn_to_string(b));
}

static void expect_clean_end(struct tree *t) {
  int st = tree_close(t, 10000);
  cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the root ends with 0");
  tree_free(t);
  cr_expect_eq(tree_reap_orphans(5000), 0, "no process of the tree is left");
}

Test(limits, emfile_while_spawning_is_a_contained_panic) {
  /* Room for the root's own fds and its two edges, not for A's twelve. */
  struct rlimit rl;
  cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
  struct rlimit low = {.rlim_cur = 40, .rlim_max = rl.rlim_max};
  cr_assert_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
  struct tree t;
  cr_assert_eq(tree_start(&t, SPEC, false, NULL), 0);
  expect_a_contained(&t, "Too many open files");
  expect_clean_end(&t);
}

/* Processes now owned by `uid`, from /proc. */
static int processes_of(uid_t uid) {
  DIR *d = opendir("/proc");
  int n = 0;
  struct dirent *e;
  while (d && (e = readdir(d))) {
    struct stat s;
    if (!isdigit((unsigned char)e->d_name[0])) continue;
    if (fstatat(dirfd(d), e->d_name, &s, 0) == 0 && s.st_uid == uid) n++;
  }
  if (d) closedir(d);
  return n;
}

Test(limits, eagain_from_fork_is_a_contained_panic) {
  /* RLIMIT_NPROC does not bind root: this test process becomes nobody. */
  if (geteuid() == 0)
    cr_assert_eq(setuid(65534), 0, "setuid(nobody): %s", strerror(errno));
  /* Under ASan, LeakSanitizer's exit check runs in a thread of its own,
   * which RLIMIT_NPROC at its bound refuses ("LeakSanitizer has
   * encountered a fatal error", when A exits before its leaves are gone):
   * no leak check for this tree; every other test has one. */
  const char *asan = getenv("ASAN_OPTIONS");
  char opts[1024];
  snprintf(opts, sizeof opts, "%s%sdetect_leaks=0", asan ? asan : "",
           asan && *asan ? ":" : "");
  cr_assert_eq(setenv("ASAN_OPTIONS", opts, 1), 0);
  /* Ourselves (counted already), L1, A and three of A's leaves. */
  rlim_t n = (rlim_t)processes_of(getuid()) + 5;
  struct rlimit low = {.rlim_cur = n, .rlim_max = n};
  cr_assert_eq(setrlimit(RLIMIT_NPROC, &low), 0);
  struct tree t;
  cr_assert_eq(tree_start(&t, "{:name \"L1\" :children [{:name \"A\" :children "
                              "[{:name \"A1\"} {:name \"A2\"} {:name \"A3\"} "
                              "{:name \"A4\"} {:name \"A5\"}]}]}",
                          false, NULL),
               0);
  edn_value *r = tree_ask(&t, "{:id 1 :op :fan}", 10000);
  cr_assert(r, "the root answers a fan");
  edn_value *st = tree_ask(&t, "{:id 2 :op :stats}", 10000);
  cr_assert(st);
  edn_value *exits = edn_map_getk(st, "exits");
  cr_assert(exits && exits->u.seq.len == 1, "A exited: %s", edn_to_string(st));
  edn_value *panic = edn_map_getk(exits->u.seq.items[0], "panic");
  const char *reason = panic ? get_str(panic, "reason") : NULL;
  cr_expect(reason && strstr(reason, "cannot spawn A") &&
                strstr(reason, "Resource temporarily unavailable"),
            "A's panic names the child and EAGAIN: %s", reason ? reason : "(none)");
  expect_clean_end(&t);
}
