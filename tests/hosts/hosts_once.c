/* hosts_once.c — the test hosts, up once per Criterion run (see
 * hosts_once.h). Every command is bounded by timeout(1). */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hosts_once.h"

static pid_t runner_pid;
static char hosts_dir[64];
static char script_path[4096];

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

/* `SCRIPT WHAT`, its first output line into out (empty on failure). */
static int run_script(const char *what, char *out, size_t cap) {
  char cmd[4300];
  snprintf(cmd, sizeof cmd, "timeout 60 '%s' %s%s", script_path, what,
           out ? "" : " >/dev/null 2>&1");
  FILE *p = popen(cmd, "r");
  if (out) {
    out[0] = '\0';
    if (p && !fgets(out, (int)cap, p))
      out[0] = '\0';
    out[strcspn(out, "\n")] = '\0';
  }
  int st = p ? pclose(p) : -1;
  if (out && st != 0)
    out[0] = '\0';
  return st;
}

void hosts_once_down(void) {
  if (getpid() != runner_pid || !hosts_dir[0])
    return;
  if (run_script("down", NULL, 0) != 0)
    fprintf(stderr, "hosts_once: %s down failed\n", script_path);
  hosts_dir[0] = '\0';
}

void hosts_once_up(const char *script, const char *tag, const char *port_base) {
  snprintf(script_path, sizeof script_path, "%s", script);
  runner_pid = getpid();
  const char *why = cannot_start();
  snprintf(hosts_dir, sizeof hosts_dir, "/tmp/%s.XXXXXX", tag);
  if (!why && (!mkdtemp(hosts_dir) || rmdir(hosts_dir) < 0))
    why = "no temporary directory";
  char cfg[4096] = "";
  if (!why) {
    setenv("TREEPROOF_HOSTS_DIR", hosts_dir, 1);
    setenv("TREEPROOF_HOSTS_PORT_BASE", port_base, 0);
    atexit(hosts_once_down); /* also when POST_ALL never runs */
    run_script("up 2", cfg, sizeof cfg);
    if (!cfg[0])
      why = "scripts/test-hosts up 2 failed";
  }
  if (why) {
    if (!cfg[0] && hosts_dir[0] && access(hosts_dir, F_OK) == 0)
      hosts_once_down(); /* a half-up: up cleans itself, but be sure */
    hosts_dir[0] = '\0';
    setenv("TP_HOSTS_SKIP", why, 1);
  } else {
    setenv("TREEPROOF_SSH_CONFIG", cfg, 1);
  }
}

const char *hosts_once_config(void) {
  const char *cfg = getenv("TREEPROOF_SSH_CONFIG");
  const char *why = getenv("TP_HOSTS_SKIP");
  if (why || !cfg || !*cfg)
    cr_skip_test("no test hosts: %s", why ? why : "not brought up");
  return cfg;
}
