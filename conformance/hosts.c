/* hosts.c — tier 3: the same tree across hosts, judged on every host. Two
 * test hosts (scripts/test-hosts: sshds in PID and mount namespaces of
 * their own) are brought up once for this suite; the far trees in
 * trees/hosts/ must hold — replies, topology found through each host's
 * probe, containment of a far panic and of a far node killed on its own
 * host, nothing of the run left on any host — and two mistakes must fail:
 *
 *   ignore-eof on a node on h2     cascade, naming h2
 *   a probe told to skip h2        the run (its nodes looked for in local
 *   (TREEPROOF_PROBE_SKIP=h2)      /proc, where their pids mean nothing)
 *
 * and a tree naming a host nobody can reach fails, naming it.
 *
 * The suite skips, saying why, only where hosts cannot start (not root, no
 * unshare, no sshd); CI can start them, and runs it. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

static pid_t runner_pid;
static char hosts_dir[64];

static bool on_path(const char *name) {
  char cmd[256];
  snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", name);
  return system(cmd) == 0;
}

static const char *cannot_start(void) {
  if (geteuid() != 0)
    return "not root (the test hosts' sshd needs root)";
  if (!on_path("unshare"))
    return "no unshare (util-linux)";
  if (access("/usr/sbin/sshd", X_OK) != 0)
    return "no /usr/sbin/sshd (scripts/setup installs openssh-server)";
  return on_path("ssh") ? NULL : "no ssh client";
}

static void hosts_run(const char *what, char *out, size_t cap) {
  char *script = tp_source("scripts/test-hosts"), cmd[4300];
  snprintf(cmd, sizeof cmd, "timeout 60 '%s' %s%s", script, what,
           out ? "" : " >/dev/null 2>&1");
  free(script);
  FILE *p = popen(cmd, "r");
  if (out)
    out[0] = '\0';
  if (p && out && !fgets(out, (int)cap, p))
    out[0] = '\0';
  int st = p ? pclose(p) : -1;
  if (out && st != 0)
    out[0] = '\0';
  if (out)
    out[strcspn(out, "\n")] = '\0';
}

static void hosts_down(void) {
  if (getpid() != runner_pid || !hosts_dir[0])
    return;
  hosts_run("down", NULL, 0);
  hosts_dir[0] = '\0';
}

ReportHook(PRE_ALL)(struct criterion_test_set *set) {
  (void)set;
  const char *why = cannot_start();
  runner_pid = getpid();
  snprintf(hosts_dir, sizeof hosts_dir, "/tmp/tp-conf-hosts.XXXXXX");
  if (!why && (!mkdtemp(hosts_dir) || rmdir(hosts_dir) < 0))
    why = "no temporary directory";
  char cfg[4096] = "";
  if (!why) {
    setenv("TREEPROOF_HOSTS_DIR", hosts_dir, 1);
    setenv("TREEPROOF_HOSTS_PORT_BASE", "25650", 0); /* not the other suites' */
    atexit(hosts_down);
    hosts_run("up 2", cfg, sizeof cfg);
    if (!cfg[0])
      why = "scripts/test-hosts up 2 failed";
  }
  if (why) {
    hosts_dir[0] = '\0';
    setenv("TP_HOSTS_SKIP", why, 1);
  } else {
    setenv("TREEPROOF_SSH_CONFIG", cfg, 1);
  }
}

ReportHook(POST_ALL)(struct criterion_global_stats *stats) {
  (void)stats;
  hosts_down();
}

static void need_hosts(void) {
  if (getenv("TP_HOSTS_SKIP"))
    cr_skip_test("no test hosts: %s", getenv("TP_HOSTS_SKIP"));
}

Test(hosts, far_seed_fractal_holds, .timeout = 120.) {
  need_hosts();
  tp_assert_holds("trees/hosts/far-seed-fractal.yaml", "far-seed-fractal",
                  "topology", 100.);
}

Test(hosts, far_crash_is_contained, .timeout = 120.) {
  need_hosts();
  tp_assert_holds("trees/hosts/far-crash.yaml", "far-crash", "containment",
                  100.);
}

/* A far leaf that ignores EOF outlives the tree on its own host: cascade
 * names the host. */
Test(hosts, control_ignore_eof_on_h2_fails_cascade_there, .timeout = 200.) {
  need_hosts();
  static const struct tp_control c = {
      "trees/hosts/far-seed-fractal.yaml", "far-seed-fractal",
      "ignore-eof WATVM_FAULT_NODE=L3d", "cascade",
      "cascade: on h2, L2b/L3d (pid", NULL, true};
  tp_assert_control_run(&c, 90.);
}

/* No probe on h2: its node is looked for here, and the run fails. */
Test(hosts, control_a_skipped_probe_fails_the_run, .timeout = 200.) {
  need_hosts();
  static const struct tp_control c = {
      "trees/hosts/far-seed-fractal.yaml", "far-seed-fractal",
      "TREEPROOF_PROBE_SKIP=h2", "steps",
      "tree: L2b/L3d says its pid is", NULL, false};
  tp_assert_control_run(&c, 90.);
}

/* A host nobody can reach: the run fails, naming it, at once. */
Test(hosts, an_unreachable_host_fails_the_run_naming_it, .timeout = 120.) {
  need_hosts();
  tp_subreaper();
  struct tp_run r;
  char *sc = tp_source("conformance/trees/far-unreachable.yaml");
  const char *args[] = {"run", "--tap", sc, NULL};
  cr_assert_eq(tp_run_args(&r, NULL, 60., args), 0);
  cr_expect_eq(r.status, 1, "exit %d\n%s%s", r.status, r.out, r.err);
  cr_expect_eq(tap_verdict(r.out, "far-unreachable: steps"), 0, "%s", r.out);
  cr_expect(strstr(r.out, "host h9: the harness cannot probe it"), "%s", r.out);
  cr_expect_eq(tp_leftovers(), 0, "processes left behind");
  tp_kill_leftovers();
  tp_run_free(&r);
  free(sc);
}
