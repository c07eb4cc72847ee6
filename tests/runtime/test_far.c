/* test_far.c — far children (a spec with :host), over two test hosts that
 * scripts/test-hosts brings up once for this file (a private state dir
 * under /tmp, its own port range; hosts_once.c) and takes down when the
 * run ends, even after a failure. A far node's pid is read on its host, through ssh in
 * that host's namespaces, never in our /proc. Tests skip, saying why, when
 * hosts cannot start here (not root, no unshare, sshd or ssh). Tests run
 * two at a time on the same two hosts: each checks the pids it knows of,
 * never a count of what runs on a host. Every wait is bounded. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hosts_once.h"
#include "tree_util.h"

#ifndef TREEPROOF_SOURCE_DIR_DEFAULT
#define TREEPROOF_SOURCE_DIR_DEFAULT "."
#endif

/* ---- The hosts, once per run (hosts_once.c) ------------------------- */

ReportHook(PRE_ALL)(struct criterion_test_set *set) {
  (void)set;
  const char *src = getenv("TREEPROOF_SOURCE_DIR");
  char script[4096];
  snprintf(script, sizeof script, "%s/scripts/test-hosts",
           src && *src ? src : TREEPROOF_SOURCE_DIR_DEFAULT);
  hosts_once_up(script, "test_far", "25550");
}

ReportHook(POST_ALL)(struct criterion_global_stats *stats) {
  (void)stats;
  hosts_once_down();
}

/* ---- Per test --------------------------------------------------------- */

static int fds0;
static const char *cfg;

static void setup(void) {
  tree_subreaper();
  fds0 = fd_count();
}

TestSuite(far, .init = setup, .timeout = 90.);

#define NEED_HOSTS() (cfg = hosts_once_config())

static int64_t next_id = 1;

static edn_value *ask(struct tree *t, const char *req) {
  char line[2048];
  snprintf(line, sizeof line, "{:id %lld %s", (long long)next_id++, req + 1);
  return tree_ask(t, line, 20000);
}

static edn_value *route(struct tree *t, const char *path, const char *req) {
  char line[2048];
  return tree_ask(t, route_line(line, sizeof line, next_id++, path, req), 20000);
}

static const char *error_type(const edn_value *r) {
  const edn_value *e = r ? edn_map_getk(r, "error") : NULL;
  const edn_value *k = e ? edn_map_getk(e, "type") : NULL;
  return k && k->type == EDN_KEYWORD ? k->u.text.ptr : "";
}

/* Run `cmd` on `host` through ssh (bounded); its stdout into out. Returns
 * its exit status, -1 when it could not run. */
static int on_host(const char *host, const char *cmd, char *out, size_t cap) {
  char line[4096];
  snprintf(line, sizeof line, "timeout 20 ssh -F '%s' %s '%s' </dev/null", cfg,
           host, cmd);
  FILE *p = popen(line, "r");
  if (!p) return -1;
  size_t n = fread(out, 1, cap - 1, p);
  out[n] = '\0';
  int st = pclose(p);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The comm of pid on host, or "" when no such process is there. */
static const char *comm_on(const char *host, pid_t pid, char *buf, size_t cap) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "cat /proc/%d/comm 2>/dev/null", (int)pid);
  if (on_host(host, cmd, buf, cap) != 0) buf[0] = '\0';
  buf[strcspn(buf, "\n")] = '\0';
  return buf;
}

/* Wait (15 s at most) until no watvm has `pid` on `host`. */
static bool gone_on(const char *host, pid_t pid) {
  char buf[64];
  for (int64_t end = now_ms() + 15000; now_ms() < end; usleep(100000))
    if (strcmp(comm_on(host, pid, buf, sizeof buf), "watvm") != 0) return true;
  return false;
}

/* The one child of the root, the local ssh client; -1 if not exactly one. */
static pid_t ssh_client(pid_t root) {
  char path[64], buf[256];
  snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)root, (int)root);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  int a = -1, b = -1;
  int k = fscanf(f, "%d %d", &a, &b);
  fclose(f);
  if (k != 1) return -1;
  snprintf(path, sizeof path, "/proc/%d/comm", a);
  f = fopen(path, "r");
  bool ssh = f && fgets(buf, sizeof buf, f) && strcmp(buf, "ssh\n") == 0;
  if (f) fclose(f);
  return ssh ? a : -1;
}

static void start(struct tree *t, const char *fmt, const char *a1,
                  const char *a2) {
  char spec[4096];
  snprintf(spec, sizeof spec, fmt, a1, a2);
  cr_assert_eq(tree_start(t, spec, false, NULL), 0, "the root starts: %s", spec);
}

static void end_clean(struct tree *t) {
  int st = tree_close(t, 30000);
  cr_expect(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
            "the root exits 0 at stdin EOF (status %#x)", st);
  tree_free(t);
  cr_expect_eq(tree_reap_orphans(5000), 0, "no local process of the tree is left");
  cr_expect_eq(fd_count(), fds0, "fd count back to %d", fds0);
}

/* The root's :stats once its :exits holds an entry for `node` (20 s). */
static const edn_value *exit_of(struct tree *t, const char *node) {
  for (int64_t end = now_ms() + 20000; now_ms() < end;) {
    edn_value *r = ask(t, "{:op :stats}");
    edn_value *x = r ? edn_map_getk(r, "exits") : NULL;
    for (size_t i = 0; x && i < x->u.seq.len; i++)
      if (get_str(x->u.seq.items[i], "node") &&
          strcmp(get_str(x->u.seq.items[i], "node"), node) == 0)
        return x->u.seq.items[i];
    ask(t, "{:op :sleep :ms 50}");
  }
  cr_assert_fail("the root's :exits never named %s", node);
  return NULL;
}

static int64_t status_int(const edn_value *x, const char *kw) {
  return get_int(edn_map_getk(x, "status"), kw);
}


/* ---- Cases -------------------------------------------------------------- */

/* F on h1 answers; its pid is h1's watvm (read there), not the local ssh
 * client's; the root's :fds hold its three pipe ends to that client. The
 * far watvm's path has a space and a quote in it (a symlink): the ssh
 * command quotes it for the far shell. */
Test(far, ping_inspect_quoted_path) {
  NEED_HOSTS();
  char dir[] = "/tmp/test_far_q.XXXXXX", link[256], buf[512];
  cr_assert(mkdtemp(dir));
  snprintf(link, sizeof link, "%s/it's here", dir);
  cr_assert_eq(mkdir(link, 0755), 0);
  strncat(link, "/watvm", sizeof link - strlen(link) - 1);
  cr_assert_eq(symlink(watvm_path(), link), 0);
  struct tree t;
  start(&t, "{:name \"R\" :children [{:name \"F\" :host \"h1\" :ssh-config \"%s\" "
            ":remote-watvm \"%s\"}]}", cfg, link);
  edn_value *r = route(&t, "F", "{:op :ping}");
  cr_assert(r && edn_map_getk(r, "pong"), "F answers :ping");
  r = route(&t, "F", "{:op :inspect}");
  pid_t far = r ? (pid_t)get_int(r, "pid") : -1, via = ssh_client(t.pid);
  cr_assert(far > 0 && via > 0, "F's pid %d, the ssh client %d", far, via);
  cr_expect_neq(far, via, "F's pid is not the ssh client's");
  cr_expect_str_eq(comm_on("h1", far, buf, sizeof buf), "watvm",
                   "pid %d on h1 is a watvm", far);
  char cmd[64];
  snprintf(cmd, sizeof cmd, "cat /proc/%d/stat", (int)far);
  cr_assert_eq(on_host("h1", cmd, buf, sizeof buf), 0);
  int ppid = -1;
  const char *rp = strrchr(buf, ')');
  cr_expect(rp && sscanf(rp + 2, "%*c %d", &ppid) == 1 && ppid == get_int(r, "ppid"),
            "h1's /proc says F's ppid is %d, F says %lld", ppid,
            (long long)get_int(r, "ppid"));
  r = ask(&t, "{:op :inspect}");
  const edn_value *fds = r ? edn_map_getk(r, "fds") : NULL;
  size_t pipes = 0;
  for (size_t i = 0; fds && i < fds->u.seq.len; i++)
    pipes += edn_is_keyword(fds->u.seq.items[i]->u.seq.items[1], "pipe");
  cr_expect_eq(pipes, 6, "the root holds 3 pipes of its own and 3 to ssh (%zu)", pipes);
  end_clean(&t);
  cr_expect(gone_on("h1", far), "F is gone from h1 after the root's EOF");
  unlink(link);
  *strrchr(link, '/') = '\0';
  rmdir(link);
  rmdir(dir);
}

/* R (here) → F (h1) → G (h2) → GL (h2): :fan across two hops; stdin EOF
 * on R takes the whole far tree down, nothing left on either host. */
Test(far, two_hops_fan_and_eof) {
  NEED_HOSTS();
  struct tree t;
  char buf[256];
  start(&t, "{:name \"R\" :children [{:name \"F\" :host \"h1\" :ssh-config \"%s\" "
            ":children [{:name \"G\" :host \"h2\" :children [{:name \"GL\"}]}]}]}%s",
        cfg, "");
  edn_value *r = ask(&t, "{:op :fan}");
  char *text = r ? edn_to_string(r) : NULL;
  cr_assert(text && strstr(text, "{:node \"GL\" :result {:node \"GL\" :pong true}"),
            ":fan reaches GL two hops away: %s", text ? text : "(none)");
  free(text);
  pid_t f = tree_node_pid(&t, "F", 20000), g = tree_node_pid(&t, "F/G", 20000);
  pid_t gl = tree_node_pid(&t, "F/G/GL", 20000);
  cr_assert(f > 0 && g > 0 && gl > 0);
  cr_expect_str_eq(comm_on("h2", g, buf, sizeof buf), "watvm", "G runs on h2");
  cr_expect_str_eq(comm_on("h2", gl, buf, sizeof buf), "watvm", "GL runs on h2");
  end_clean(&t);
  cr_expect(gone_on("h1", f), "F gone from h1");
  cr_expect(gone_on("h2", g), "G gone from h2");
  cr_expect(gone_on("h2", gl), "GL gone from h2");
}

/* A far leaf's panic: its report names its pid there, the ssh client's
 * pid here, its host, exit 70 and its panic line. */
Test(far, panic_report) {
  NEED_HOSTS();
  struct tree t;
  start(&t, "{:name \"R\" :children [{:name \"F\" :host \"h1\" :ssh-config \"%s\"}]}%s",
        cfg, "");
  pid_t far = tree_node_pid(&t, "F", 20000), via = ssh_client(t.pid);
  cr_assert(far > 0 && via > 0);
  edn_value *r = route(&t, "F", "{:op :panic :reason \"boom\"}");
  cr_expect_str_eq(error_type(r), "wat/child-exited");
  const edn_value *x = exit_of(&t, "F");
  cr_expect_eq(get_int(x, "pid"), far, ":pid is F's pid on h1");
  cr_expect_eq(get_int(x, "via-pid"), via, ":via-pid is the ssh client's");
  cr_expect_str_eq(get_str(x, "host"), "h1");
  cr_expect_eq(status_int(x, "exit"), 70, ":status {:exit 70}");
  const edn_value *p = edn_map_getk(x, "panic");
  cr_expect(p && p->type == EDN_MAP && get_int(p, "pid") == far &&
                get_str(p, "reason") && !strcmp(get_str(p, "reason"), "boom"),
            ":panic is F's panic line");
  cr_expect(!edn_map_getk(x, "error"), "no :error: the host was reached");
  end_clean(&t);
}

/* The local ssh client killed: :status {:lost true}; the far node sees
 * EOF and is gone from h1; the root keeps serving. */
Test(far, ssh_killed_is_lost) {
  NEED_HOSTS();
  struct tree t;
  start(&t, "{:name \"R\" :children [{:name \"F\" :host \"h1\" :ssh-config \"%s\" "
            ":children [{:name \"FL\"}]}]}%s", cfg, "");
  pid_t far = tree_node_pid(&t, "F", 20000), fl = tree_node_pid(&t, "F/FL", 20000);
  pid_t via = ssh_client(t.pid);
  cr_assert(far > 0 && fl > 0 && via > 0);
  cr_assert_eq(kill(via, SIGKILL), 0);
  const edn_value *x = exit_of(&t, "F");
  const edn_value *st = edn_map_getk(x, "status");
  cr_expect(st && edn_map_getk(st, "lost"), ":status {:lost true}");
  cr_expect_eq(get_int(x, "pid"), far);
  cr_expect_eq(get_int(x, "via-pid"), via);
  cr_expect(ask(&t, "{:op :ping}"), "the root still serves");
  cr_expect(gone_on("h1", far), "F gone from h1 once its session is");
  cr_expect(gone_on("h1", fl), "and its child FL with it");
  end_clean(&t);
}

/* The far half of the hop killed: F's sshd session on h1 (F's parent
 * there). The ssh client here finds its connection closed after F's
 * started line and exits 255, which reads :status {:lost true} as a
 * killed client does; F sees EOF and is gone from h1 with its child. */
Test(far, sshd_session_killed_is_lost) {
  NEED_HOSTS();
  struct tree t;
  start(&t, "{:name \"R\" :children [{:name \"F\" :host \"h1\" :ssh-config \"%s\" "
            ":children [{:name \"FL\"}]}]}%s", cfg, "");
  pid_t far = tree_node_pid(&t, "F", 20000), fl = tree_node_pid(&t, "F/FL", 20000);
  pid_t via = ssh_client(t.pid);
  cr_assert(far > 0 && fl > 0 && via > 0);
  char cmd[128], out[64];
  snprintf(cmd, sizeof cmd, "kill -9 $(cut -d\" \" -f4 /proc/%d/stat)", (int)far);
  cr_assert_eq(on_host("h1", cmd, out, sizeof out), 0, "F's session killed on h1");
  const edn_value *x = exit_of(&t, "F");
  const edn_value *st = edn_map_getk(x, "status");
  cr_expect(st && edn_map_getk(st, "lost"), ":status {:lost true}");
  cr_expect(!edn_map_getk(x, "error"), "no :error: the host was reached");
  cr_expect_eq(get_int(x, "pid"), far);
  cr_expect_eq(get_int(x, "via-pid"), via);
  cr_expect(ask(&t, "{:op :ping}"), "the root still serves");
  cr_expect(gone_on("h1", far), "F gone from h1 with its session");
  cr_expect(gone_on("h1", fl), "and its child FL with it");
  end_clean(&t);
}

static void write_dead_config(char *path) {
  int fd = mkstemp(path);
  cr_assert(fd >= 0);
  /* Port 9 (discard) on 127.0.0.1: nothing listens there. */
  static const char text[] = "Host dead\n  HostName 127.0.0.1\n  Port 9\n"
                             "  BatchMode yes\n  ConnectTimeout 5\n";
  cr_assert_eq(write(fd, text, sizeof text - 1), (ssize_t)(sizeof text - 1));
  close(fd);
}

/* A host nobody answers on: :wat/host-unreachable with ssh's own words;
 * the parent keeps serving, the live far sibling too. */
Test(far, unreachable_host) {
  NEED_HOSTS();
  char dead[] = "/tmp/test_far_dead.XXXXXX";
  write_dead_config(dead);
  struct tree t;
  start(&t, "{:name \"R\" :children [{:name \"D\" :host \"dead\" :ssh-config \"%s\"} "
            "{:name \"F\" :host \"h1\" :ssh-config \"%s\"}]}", dead, cfg);
  const edn_value *x = exit_of(&t, "D");
  const edn_value *e = edn_map_getk(x, "error");
  cr_expect_str_eq(error_type(x), "wat/host-unreachable");
  const char *msg = e ? get_str(e, "message") : NULL;
  cr_expect(msg && strstr(msg, "Connection refused"), ":message is ssh's: %s",
            msg ? msg : "(none)");
  cr_expect_eq(status_int(x, "exit"), 255);
  cr_expect_str_eq(get_str(x, "host"), "dead");
  cr_expect_eq(get_int(x, "pid"), get_int(x, "via-pid"), "no far pid: the ssh client's");
  edn_value *r = route(&t, "F", "{:op :ping}");
  cr_expect(r && edn_map_getk(r, "pong"), "F still answers");
  r = route(&t, "D", "{:op :ping}");
  cr_expect_str_eq(error_type(r), "wat/dead", "D is dead under :isolate");
  end_clean(&t);
  unlink(dead);
}

/* Under :restart the unreachable child is restarted within intensity;
 * past it the parent gives up (exit 70), the report as cause. */
Test(far, unreachable_restarted_then_gives_up) {
  NEED_HOSTS();
  char dead[] = "/tmp/test_far_dead.XXXXXX";
  write_dead_config(dead);
  struct tree t;
  start(&t, "{:name \"R\" :on-child-exit :restart :max-restarts 2 "
            ":restart-period-ms 60000 :children [{:name \"D\" :host \"dead\" "
            ":ssh-config \"%s\"}]}%s", dead, "");
  int st = tree_wait(&t, 30000);
  cr_expect(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 70,
            "the root gives up after 2 restarts (status %#x)", st);
  cr_expect(t.errbuf && strstr(t.errbuf, ":wat/host-unreachable"),
            "its panic's cause is the unreachable report");
  tree_free(&t);
  cr_expect_eq(tree_reap_orphans(5000), 0);
  unlink(dead);
}

/* The root's :env reaches the far node through the spec (ssh passes no
 * environment): no-pgrp limited to F keeps F's child in F's group. */
Test(far, env_reaches_far_node) {
  NEED_HOSTS();
  struct tree t;
  start(&t, "{:name \"R\" :env {\"WATVM_FAULT\" \"no-pgrp\" \"WATVM_FAULT_NODE\" \"F\"} "
            ":children [{:name \"F\" :host \"h1\" :ssh-config \"%s\" "
            ":children [{:name \"G\"}]}]}%s", cfg, "");
  edn_value *f = route(&t, "F", "{:op :inspect}");
  int64_t fpgid = f ? get_int(f, "pgid") : -1;
  edn_value *g = route(&t, "F/G", "{:op :inspect}");
  cr_assert(g);
  cr_expect_eq(get_int(g, "pgid"), fpgid, "G stays in F's group (no-pgrp on F)");
  cr_expect_neq(get_int(g, "pgid"), get_int(g, "pid"), "G leads no group");
  edn_value *r = ask(&t, "{:op :inspect}");
  cr_expect(r && get_int(r, "pgid") == get_int(r, "pid"), "R itself unaffected");
  end_clean(&t);
}
