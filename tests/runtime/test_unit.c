/* test_unit.c — the runtime's internals on their own: spawn_process (exec
 * failure is an error with no zombie and no fd left), line framing with
 * partial reads and overlong lines, the id map, the spec checker, faults. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "idmap.h"
#include "linebuf.h"
#include "node.h"
#include "spawn_process.h"
#include "spec.h"
#include "tree_util.h"

static int fds0;
static void setup(void) {
  tree_subreaper();
  fds0 = fd_count();
}

TestSuite(unit, .init = setup, .timeout = 120.);

static void exec_failure(bool fork_only) {
  char *argv[] = {"nope", NULL};
  struct spawn_options o = {.file = "/nonexistent/watvm", .argv = argv, .leak_fd = -1, .fork_only = fork_only};
  struct spawn_child c;
  int e = spawn_process(&o, &c);
  cr_expect_eq(e, -ENOENT, "exec failure comes back as -ENOENT (got %d)", e);
  errno = 0;
  cr_expect(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD, "no zombie");
  cr_expect_eq(fd_count(), fds0, "no fd left");
}

static void three_pipes(bool fork_only) {
  char *argv[] = {"cat", NULL};
  struct spawn_options o = {.file = "/bin/cat", .argv = argv, .leak_fd = -1,
                            .fork_only = fork_only};
  struct spawn_child c;
  cr_assert_eq(spawn_process(&o, &c), 0);
  cr_expect_eq(getpgid(c.pid), c.pid, "its own process group");
  cr_expect(fcntl(c.in_fd, F_GETFD) & FD_CLOEXEC);
  cr_expect(fcntl(c.out_fd, F_GETFL) & O_NONBLOCK);
  /* 0..2 are its pipes and no other pipe reached it (valgrind, when it
   * runs the child, keeps its own fds far above 1023) */
  char path[64], link[256];
  int pipes = 0;
  for (int fd = 0; fd < 1024; fd++) {
    snprintf(path, sizeof path, "/proc/%d/fd/%d", c.pid, fd);
    ssize_t k = readlink(path, link, sizeof link - 1);
    if (k <= 0) continue;
    link[k] = '\0';
    if (strncmp(link, "pipe:", 5) == 0) {
      pipes++;
      cr_expect(fd < 3, "fd %d of the child is a pipe: %s", fd, link);
    }
  }
  cr_expect_eq(pipes, 3, "the child holds only its three stdio pipes");
  cr_assert_eq(write(c.in_fd, "hi\n", 3), 3);
  close(c.in_fd);
  char buf[16];
  ssize_t k = -1;
  struct pollfd pf = {.fd = c.out_fd, .events = POLLIN};
  if (poll(&pf, 1, 5000) == 1) k = read(c.out_fd, buf, sizeof buf);
  cr_expect_eq(k, 3);
  int st;
  cr_expect_eq(waitpid(c.pid, &st, 0), c.pid);
  cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  close(c.out_fd);
  close(c.err_fd);
  cr_expect_eq(fd_count(), fds0);
}

Test(unit, spawn_exec_failure_is_an_error_and_leaves_no_zombie) { exec_failure(false); }
Test(unit, spawn_exec_failure_by_fork_too) { exec_failure(true); }
Test(unit, spawn_gives_three_pipes_and_a_new_group) { three_pipes(false); }
Test(unit, spawn_by_fork_gives_the_same) { three_pipes(true); }

static void on_usr1(int sig) { (void)sig; }

static void signals_reset(bool fork_only, bool only_changed) {
  /* Ignored SIGPIPE and SIGHUP and a blocked SIGTERM must not survive
   * into the child, whether it resets every signal or only those
   * spawn_changed_signals names. */
  sigset_t term, old, changed;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  sigprocmask(SIG_BLOCK, &term, &old);
  void (*prev)(int) = signal(SIGPIPE, SIG_IGN);
  void (*prev_hup)(int) = signal(SIGHUP, SIG_IGN);
  void (*prev_usr1)(int) = signal(SIGUSR1, on_usr1);
  if (only_changed) {
    cr_assert_eq(spawn_changed_signals(&changed), 0);
    cr_expect(sigismember(&changed, SIGPIPE) == 1 &&
              sigismember(&changed, SIGHUP) == 1, "ignored: changed");
    cr_expect(sigismember(&changed, SIGUSR1) == 1, "caught: changed");
    /* under memcheck the kernel sees valgrind's handlers, on every signal:
     * the child then resets all of them, as without `changed` */
    if (!getenv("TREEPROOF_MEMCHECK"))
      cr_expect(sigismember(&changed, SIGUSR2) == 0, "SIG_DFL: not changed");
  }
  char *argv[] = {"sh", "-c", "grep -E '^(SigBlk|SigIgn)' /proc/self/status", NULL};
  struct spawn_options o = {.file = "/bin/sh", .argv = argv, .leak_fd = -1,
                            .fork_only = fork_only,
                            .changed = only_changed ? &changed : NULL};
  struct spawn_child c;
  int e = spawn_process(&o, &c);
  sigprocmask(SIG_SETMASK, &old, NULL);
  signal(SIGPIPE, prev);
  signal(SIGHUP, prev_hup);
  signal(SIGUSR1, prev_usr1);
  cr_assert_eq(e, 0);
  close(c.in_fd);
  char buf[256] = "";
  size_t n = 0;
  struct pollfd pf = {.fd = c.out_fd, .events = POLLIN};
  /* slow under valgrind (sh and grep run under memcheck too): wait long */
  while (n < sizeof buf - 1 && poll(&pf, 1, 60000) == 1) {
    ssize_t k = read(c.out_fd, buf + n, sizeof buf - 1 - n);
    if (k <= 0) break;
    n += (size_t)k;
  }
  buf[n] = '\0';
  char *blk = strstr(buf, "SigBlk:"), *ign = strstr(buf, "SigIgn:");
  cr_assert(blk && ign, "%s", buf);
  cr_expect_eq(strtoull(blk + 7, NULL, 16), 0ull, "mask emptied: %s", buf);
  cr_expect_eq(strtoull(ign + 7, NULL, 16) & (1ull << (SIGPIPE - 1)), 0ull,
               "SIGPIPE not ignored: %s", buf);
  cr_expect_eq(strtoull(ign + 7, NULL, 16) & (1ull << (SIGHUP - 1)), 0ull,
               "SIGHUP not ignored: %s", buf);
  waitpid(c.pid, NULL, 0);
  close(c.out_fd);
  close(c.err_fd);
  cr_expect_eq(fd_count(), fds0);
}
Test(unit, spawn_resets_signals) { signals_reset(false, false); }
Test(unit, spawn_by_fork_resets_signals) { signals_reset(true, false); }
Test(unit, spawn_resets_the_changed_signals) { signals_reset(false, true); }
Test(unit, spawn_by_fork_resets_the_changed_signals) { signals_reset(true, true); }

Test(unit, linebuf_frames_partial_and_overlong_lines) {
  int p[2];
  cr_assert_eq(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
  struct linebuf lb;
  linebuf_init(&lb, 8);
  const char *line;
  size_t len;
  cr_assert_eq(write(p[1], "ab", 2), 2);
  cr_expect_eq(linebuf_read(&lb, p[0]), 2);
  cr_expect_eq(linebuf_next(&lb, &line, &len), LINEBUF_NONE);
  cr_assert_eq(write(p[1], "c\n0123456789abc", 15), 15);
  linebuf_read(&lb, p[0]);
  cr_assert_eq(linebuf_next(&lb, &line, &len), LINEBUF_LINE);
  cr_expect(len == 3 && memcmp(line, "abc", 3) == 0);
  cr_expect_eq(linebuf_next(&lb, &line, &len), LINEBUF_TOO_LONG);
  cr_expect_eq(linebuf_next(&lb, &line, &len), LINEBUF_NONE);
  cr_assert_eq(write(p[1], "def\nok\n", 7), 7);
  linebuf_read(&lb, p[0]);
  cr_assert_eq(linebuf_next(&lb, &line, &len), LINEBUF_LINE, "the overlong tail is dropped");
  cr_expect(len == 2 && memcmp(line, "ok", 2) == 0);
  cr_assert_eq(write(p[1], "tail", 4), 4);
  close(p[1]);
  linebuf_read(&lb, p[0]);
  linebuf_read(&lb, p[0]);
  cr_assert_eq(linebuf_next(&lb, &line, &len), LINEBUF_LINE, "an unterminated last line at EOF");
  cr_expect(len == 4 && memcmp(line, "tail", 4) == 0);
  linebuf_free(&lb);
  close(p[0]);
}

Test(unit, idmap_puts_takes_and_pops) {
  struct idmap m = {0};
  struct req *r = (struct req *)&m;
  for (int64_t i = -500; i < 500; i++) cr_assert_eq(idmap_put(&m, i * 7, r, (int)i), 0);
  struct idmap_entry e;
  for (int64_t i = -500; i < 500; i += 2) {
    cr_assert_eq(idmap_take(&m, i * 7, &e), 1);
    cr_expect_eq(e.slot, (int)i);
  }
  cr_expect_eq(idmap_take(&m, -500 * 7, &e), 0, "taken ids are gone");
  int n = 0;
  while (idmap_pop(&m, &e)) n++;
  cr_expect_eq(n, 500);
  idmap_free(&m);
}

Test(unit, spec_defaults_and_errors) {
  edn_arena *a = edn_arena_new();
  struct spec s;
  char why[256];
  cr_assert_eq(spec_parse(NULL, &s, why, sizeof why), 0);
  cr_expect_str_eq(s.name, "L1");
  cr_expect(s.on_child_exit == POLICY_ISOLATE && s.max_restarts == 3 &&
            s.restart_period_ms == 5000 && s.queue_bytes == 65536 && s.grace_ms == 2000);
  const char *ok = "{:name \"X\" :depth 3 :on-child-exit :restart :children [{:name \"Y\"}]}";
  edn_value *v;
  struct edn_error err;
  cr_assert_eq(edn_read(a, ok, strlen(ok), NULL, &v, &err), EDN_OK);
  cr_assert_eq(spec_parse(v, &s, why, sizeof why), 0, "%s", why);
  cr_expect(s.on_child_exit == POLICY_RESTART && s.depth == 3);
  const char *bad = "{:name \"X\" :children [{:name \"Y\" :children [{:name \"Z\" :max-restarts -1}]}]}";
  cr_assert_eq(edn_read(a, bad, strlen(bad), NULL, &v, &err), EDN_OK);
  cr_expect_eq(spec_parse(v, &s, why, sizeof why), -1, "a bad grandchild spec is caught");
  cr_expect(strstr(why, "Z") && strstr(why, "max-restarts"), "%s", why);
  edn_arena_free(a);
}

/* The tier-3 keys: accepted as given, refused when malformed; a child's
 * spec gets the inherited values and the parent's :env under its own. */
Test(unit, spec_far_keys) {
  edn_arena *a = edn_arena_new();
  struct spec s;
  char why[256];
  edn_value *v;
  struct edn_error err;
  const char *ok = "{:name \"X\" :ssh-config \"/c\" :env {\"WATVM_FAULT\" \"leak-fd\" "
                   "\"WATVM_TRACE\" \"/t\"} :children [{:name \"Y\" :host \"h1\" "
                   ":remote-watvm \"/w\" :env {\"WATVM_TRACE\" \"/u\"}}]}";
  cr_assert_eq(edn_read(a, ok, strlen(ok), NULL, &v, &err), EDN_OK);
  cr_assert_eq(spec_parse(v, &s, why, sizeof why), 0, "%s", why);
  cr_expect(s.host == NULL && !strcmp(s.ssh_config, "/c") && s.env);
  edn_value *c = spec_for_child(a, s.children->u.seq.items[0], 2, &s);
  char *text = c ? edn_to_string(c) : NULL;
  cr_expect(text && strstr(text, ":ssh-config \"/c\"") && strstr(text, ":remote-watvm \"/w\"") &&
                strstr(text, "\"WATVM_FAULT\" \"leak-fd\"") &&
                strstr(text, "\"WATVM_TRACE\" \"/u\"") && !strstr(text, "\"/t\""),
            "inherited keys, the child's own :env entry wins: %s", text);
  free(text);
  static const char *const bad[] = {
      "{:host \"\"}", "{:host \"-oProxyCommand=x\"}", "{:host 1}",
      "{:ssh-config :k}", "{:remote-watvm \"\"}", "{:env [\"WATVM_X\" \"1\"]}",
      "{:env {\"PATH\" \"/x\"}}", "{:env {\"WATVM_x\" \"1\"}}",
      "{:env {\"WATVM_X\" 1}}", "{:env {\"WATVM_\" \"1\"}}"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    cr_assert_eq(edn_read(a, bad[i], strlen(bad[i]), NULL, &v, &err), EDN_OK);
    cr_expect_eq(spec_parse(v, &s, why, sizeof why), -1, "%s is a bad spec", bad[i]);
  }
  edn_arena_free(a);
}

Test(unit, fault_list_parses) {
  cr_expect_eq(fault_parse(NULL), 0u);
  cr_expect_eq(fault_parse("leak-fd"), (unsigned)FAULT_LEAK_FD);
  cr_expect_eq(fault_parse("no-pgrp,swallow-panic"), (unsigned)(FAULT_NO_PGRP | FAULT_SWALLOW_PANIC));
  cr_expect_eq(fault_parse("bogus, ignore-eof"), (unsigned)FAULT_IGNORE_EOF);
}

Test(unit, spawn_op_with_a_missing_binary_is_spawn_failed) {
  /* A copy of watvm deleted while it runs: its exec of itself must fail. */
  char path[] = "/tmp/watvm-gone-XXXXXX";
  int fd = mkstemp(path);
  cr_assert(fd >= 0);
  int src = open(watvm_path(), O_RDONLY | O_CLOEXEC);
  char buf[65536];
  ssize_t n;
  while ((n = read(src, buf, sizeof buf)) > 0) cr_assert_eq(write(fd, buf, (size_t)n), n);
  close(src);
  fchmod(fd, 0755);
  close(fd);
  setenv("WATVM", path, 1);
  struct tree t;
  int rc = tree_start(&t, NULL, false, NULL);
  unsetenv("WATVM");
  cr_assert_eq(rc, 0);
  edn_value *r = tree_ask(&t, "{:id 1 :op :ping}", 5000); /* it runs */
  cr_assert(r);
  unlink(path);
  r = tree_ask(&t, "{:id 2 :op :spawn :spec {:name \"K\"}}", 5000);
  cr_assert(r);
  edn_value *e = edn_map_getk(r, "error");
  cr_expect(e && edn_is_keyword(edn_map_getk(e, "type"), "wat/spawn-failed"), "an error, not a missing child");
  edn_value *who = e ? edn_map_getk(e, "child") : NULL;
  cr_expect(who && who->type == EDN_STRING && !strcmp(who->u.text.ptr, "K"),
            ":child names the child, not the message");
  r = tree_ask(&t, "{:id 3 :op :inspect}", 5000);
  cr_expect(r && edn_map_getk(r, "children")->u.seq.len == 0);
  edn_value *fds = r ? edn_map_getk(r, "fds") : NULL;
  int pipes = 0;
  for (size_t i = 0; fds && i < fds->u.seq.len; i++) /* valgrind's own fds sit high */
    pipes += fds->u.seq.items[i]->u.seq.items[0]->u.integer < 1024 &&
             edn_is_keyword(fds->u.seq.items[i]->u.seq.items[1], "pipe");
  cr_expect_eq(pipes, 3, "no pipe left behind in the node");
  int st = tree_close(&t, 5000);
  cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "no zombie kept it waiting");
  tree_free(&t);
  cr_expect_eq(tree_reap_orphans(2000), 0);
  cr_expect_eq(fd_count(), fds0);
}
