/* far.c — what differs for a child on another host (a spec with :host):
 * the ssh command that starts it, the started line it sends first, the
 * ssh client's last stderr line, and how the ssh client's exit reads in
 * the child-exit map. Also the far node's own side: :env set into its
 * environment, and its started line. Everything else about the edge (the
 * wire, the policies, the ladder's timers) is child.c's and shutdown.c's:
 * the three pipes of a far edge are the local ssh client's stdio. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "node.h"

/* ssh's status when it failed itself or the far command died by a signal. */
#define SSH_FAILED 255
/* Of ssh's last stderr line, what the :message keeps. */
#define FAR_ERR_KEPT 512

/* ---- The ssh command ----------------------------------------------------- */

/* `name` searched in PATH (as execvp would) into out. 0 or -ENOENT. */
static int find_on_path(const char *name, char *out, size_t cap) {
  const char *path = getenv("PATH");
  if (!path || !*path) path = "/usr/local/bin:/usr/bin:/bin";
  for (const char *p = path;; p++) {
    const char *end = strchrnul(p, ':');
    int len = (int)(end - p);
    if (len == 0) snprintf(out, cap, "./%s", name); /* empty entry: cwd */
    else snprintf(out, cap, "%.*s/%s", len, p, name);
    if (access(out, X_OK) == 0) return 0;
    if (!*end) return -ENOENT;
    p = end;
  }
}

/* `s` single-quoted for a POSIX shell: each ' becomes '\''. Malloc'ed. */
static char *shell_quote(const char *s) {
  size_t n = 3;
  for (const char *p = s; *p; p++) n += *p == '\'' ? 4 : 1;
  char *q = malloc(n), *w = q;
  if (!q) return NULL;
  *w++ = '\'';
  for (const char *p = s; *p; p++) {
    if (*p == '\'') {
      memcpy(w, "'\\''", 4);
      w += 4;
    } else *w++ = *p;
  }
  *w++ = '\'';
  *w = '\0';
  return q;
}

int far_command(const struct child *c, struct far_cmd *fc) {
  const struct node *n = c->n;
  const char *config = c->keys.ssh_config ? c->keys.ssh_config : n->spec.ssh_config;
  const char *watvm = c->keys.remote_watvm ? c->keys.remote_watvm
                      : n->spec.remote_watvm ? n->spec.remote_watvm
                                             : n->exe;
  memset(fc, 0, sizeof *fc);
  int e = find_on_path("ssh", fc->file, sizeof fc->file);
  if (e < 0) return e;
  if (!(fc->quoted = shell_quote(watvm))) return -ENOMEM;
  size_t k = 0;
  fc->argv[k++] = "ssh";
  fc->argv[k++] = "-T";
  fc->argv[k++] = "-o";
  fc->argv[k++] = "BatchMode=yes";
  if (config) {
    fc->argv[k++] = "-F";
    fc->argv[k++] = (char *)config;
  }
  fc->argv[k++] = (char *)c->keys.host;
  fc->argv[k++] = fc->quoted;
  fc->argv[k++] = "--spec-stdin";
  fc->argv[k] = NULL;
  return 0;
}

void far_command_free(struct far_cmd *fc) {
  free(fc->quoted);
  fc->quoted = NULL;
}

/* ---- A far child seen from its parent ------------------------------------ */

void far_spawned(struct child *c) {
  c->far = c->keys.host != NULL;
  c->far_first = c->far_started = false;
  c->far_pid = 0;
  free(c->far_err);
  c->far_err = NULL;
}

bool far_first_line(struct child *c, const edn_value *v) {
  if (!c->far || c->far_first) return false;
  c->far_first = true;
  const edn_value *s = v->type == EDN_MAP ? edn_map_getk(v, "wat/started") : NULL;
  const edn_value *pid = s && s->type == EDN_MAP ? edn_map_getk(s, "pid") : NULL;
  if (!pid || pid->type != EDN_INT || pid->u.integer <= 0) return false;
  c->far_started = true;
  c->far_pid = (pid_t)pid->u.integer;
  return true;
}

void far_err_line(struct child *c, const char *line, size_t len) {
  if (!c->far) return;
  while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' '))
    len--; /* ssh ends its own messages with "\r\n" */
  size_t k = len < FAR_ERR_KEPT ? len : FAR_ERR_KEPT;
  char *s = malloc(k + 1);
  if (!s) return; /* out of memory: the older line stays */
  memcpy(s, line, k);
  s[k] = '\0';
  free(c->far_err);
  c->far_err = s;
}

/* :error {:type :wat/host-unreachable :message LINE} of an ssh that never
 * saw its far node start. */
static edn_value *unreachable(struct child *c, edn_arena *a) {
  char msg[FAR_ERR_KEPT + 64];
  if (c->far_err && *c->far_err) snprintf(msg, sizeof msg, "%s", c->far_err);
  else snprintf(msg, sizeof msg, "ssh to %s exited 255 before the node started",
                c->keys.host);
  return wat_error(a, "host-unreachable", msg);
}

edn_value *far_exit_status(struct child *c, int status, edn_arena *a,
                           edn_value *m) {
  edn_value *st = edn_coll(a, EDN_MAP);
  pid_t pid = c->far_pid ? c->far_pid : c->pid;
  if (!st) return NULL;
  edn_map_putk(a, m, "pid", edn_int(a, pid));
  edn_map_putk(a, m, "via-pid", edn_int(a, c->pid));
  edn_map_putk(a, m, "host", edn_string(a, c->keys.host, strlen(c->keys.host)));
  bool failed = WIFEXITED(status) && WEXITSTATUS(status) == SSH_FAILED;
  /* A signal cannot cross the hop: a killed ssh client, like ssh's 255
   * after the started line, says only that the far node is lost to us. */
  if (WIFSIGNALED(status) || (failed && c->far_started))
    edn_map_putk(a, st, "lost", edn_bool(a, true));
  else
    edn_map_putk(a, st, "exit", edn_int(a, WEXITSTATUS(status)));
  return st;
}

edn_value *far_exit_error(struct child *c, int status, edn_arena *a) {
  if (c->far_started || !WIFEXITED(status) || WEXITSTATUS(status) != SSH_FAILED)
    return NULL;
  return unreachable(c, a);
}

/* ---- The far node's own side --------------------------------------------- */

int far_apply_env(const struct spec *s, char *why, size_t whylen) {
  const edn_value *env = s->env;
  for (size_t i = 0; env && i < env->u.map.len; i++) {
    const char *k = env->u.map.entries[i].key->u.text.ptr;
    const char *v = env->u.map.entries[i].val->u.text.ptr;
    if (setenv(k, v, 1) < 0) {
      snprintf(why, whylen, "unable to set %s: %s", k, strerror(errno));
      return -1;
    }
  }
  return 0;
}

void far_announce(struct node *n) {
  if (!n->spec.host) return;
  edn_arena *a = edn_arena_new();
  if (!a) return;
  edn_value *in = edn_coll(a, EDN_MAP), *out = edn_coll(a, EDN_MAP);
  if (in && out) {
    edn_map_putk(a, in, "node", edn_string(a, n->spec.name, strlen(n->spec.name)));
    edn_map_putk(a, in, "pid", edn_int(a, getpid()));
    edn_map_putk(a, out, "wat/started", in);
    outq_line(&n->out, out);
  }
  edn_arena_free(a);
}
