/* drive.c — the steps of a scenario, one function each: send (and expect),
 * expect, expect_exit, kill, hold, release, wait_ms, spawn. Every wait is
 * bounded by the step's timeout; a failed step leaves its evidence (the
 * step, the expected pattern, the actual reply, the node path) behind. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "htrace.h"
#include "internal.h"
#include "pattern.h"

static const char *action_name(enum step_action a) {
  static const char *names[] = {"send", "expect", "expect_exit", "kill",
                                "hold", "release", "wait_ms", "spawn"};
  return names[a];
}

double drive_step_deadline(const struct engine *e, const struct step *st) {
  long t = st->timeout_ms > 0 ? st->timeout_ms : e->s->timeout_ms;
  return engine_now_ms() + (double)(t > 0 ? t : SCENARIO_DEFAULT_TIMEOUT_MS);
}

static long step_timeout(const struct engine *e, const struct step *st) {
  return st->timeout_ms > 0 ? st->timeout_ms : e->s->timeout_ms;
}

void drive_step_where(const struct engine *e, size_t i, char *buf, size_t n) {
  const struct step *st = &e->s->steps[i];
  snprintf(buf, n, "step %zu (%s:%d:%d) %s", i + 1, e->s->file, st->pos.line,
           st->pos.column, action_name(st->action));
}

static char *pretty(const edn_value *v) {
  struct edn_buf b = {0};
  if (!v || edn_print_pretty(&b, v) < 0 || edn_buf_append(&b, "", 1) < 0) {
    edn_buf_free(&b);
    return strdup("?");
  }
  return b.ptr;
}

/* ---- send / expect ------------------------------------------------------ */

static int expect_reply(struct engine *e, size_t i, int64_t id,
                        const edn_value *pattern, double deadline) {
  char where[600];
  drive_step_where(e, i, where, sizeof where);
  edn_value *rep = NULL;
  int rc = engine_await(e, id, deadline, &rep);
  if (rc == -EINTR)
    return rc;
  char *want = pretty(pattern);
  if (rc < 0) {
    const char *why = rc == -ETIMEDOUT ? "no reply within the timeout"
                                       : "the root's stdout closed first";
    engine_step_fail(e, "%s: expect :id %" PRId64 ": %s (%ld ms)\n"
                     "  expected:\n%s", where, id, why,
                     step_timeout(e, &e->s->steps[i]), want);
    engine_fail(e, PROP_REPLIES, "replies: %s: :id %" PRId64 ": %s", where, id,
                why);
    free(want);
    return -1;
  }
  struct edn_buf why = {0};
  bool ok = pattern_match(pattern, rep, &why);
  if (!ok) {
    const edn_value *node = edn_map_getk(rep, "node");
    engine_step_fail(e, "%s: expect :id %" PRId64 ": the reply%s%s does not "
                     "match\n  expected:\n%s\n  %.*s", where, id,
                     node && node->type == EDN_STRING ? " from node " : "",
                     node && node->type == EDN_STRING ? node->u.text.ptr : "",
                     want, (int)why.len, why.ptr ? why.ptr : "");
    engine_fail(e, PROP_REPLIES, "replies: %s: :id %" PRId64 ": reply does "
                "not match the pattern", where, id);
  }
  edn_buf_free(&why);
  free(want);
  return ok ? 0 : -1;
}

static struct tree_node *child_named(struct tree_node *t, const char *name,
                                     size_t len) {
  for (size_t i = 0; i < t->nchildren; i++)
    if (strlen(t->children[i]->name) == len &&
        !memcmp(t->children[i]->name, name, len))
      return t->children[i];
  return NULL;
}

/* The node a request would crash (a :panic, possibly inside :route), or
 * NULL; *reason gets the :reason. */
static struct tree_node *crash_target(struct engine *e, const edn_value *req,
                                      const char **reason) {
  struct tree_node *n = e->s->root;
  *reason = NULL;
  for (int depth = 0; req && req->type == EDN_MAP && depth < 4096; depth++) {
    const edn_value *op = edn_map_getk(req, "op");
    if (edn_is_keyword(op, "exit")) {
      *reason = "exit"; /* a close, not a crash: cascade only */
      return n;
    }
    if (edn_is_keyword(op, "panic")) {
      const edn_value *r = edn_map_getk(req, "reason");
      if (r && r->type == EDN_STRING)
        *reason = r->u.text.ptr;
      return n;
    }
    if (!edn_is_keyword(op, "route"))
      return NULL;
    const edn_value *path = edn_map_getk(req, "path");
    if (!path || (path->type != EDN_VECTOR && path->type != EDN_LIST))
      return NULL;
    for (size_t k = 0; k < path->u.seq.len; k++) {
      const edn_value *s = path->u.seq.items[k];
      if (s->type != EDN_STRING ||
          !(n = child_named(n, s->u.text.ptr, s->u.text.len)))
        return NULL;
    }
    req = edn_map_getk(req, "req");
  }
  return NULL;
}

/* True when the innermost request of `req` (through :route) is :exit. */
static bool drive_is_exit(const edn_value *req) {
  for (int depth = 0; req && req->type == EDN_MAP && depth < 4096; depth++) {
    const edn_value *op = edn_map_getk(req, "op");
    if (edn_is_keyword(op, "exit"))
      return true;
    if (!edn_is_keyword(op, "route"))
      return false;
    req = edn_map_getk(req, "req");
  }
  return false;
}

static int step_send(struct engine *e, size_t i, struct crash *out) {
  const struct step *st = &e->s->steps[i];
  double deadline = drive_step_deadline(e, st);
  char where[600];
  drive_step_where(e, i, where, sizeof where);
  const edn_value *idv = edn_map_getk(st->send, "id");
  int64_t id = idv && idv->type == EDN_INT ? idv->u.integer : INT64_MIN;

  const char *reason = NULL;
  struct tree_node *target = crash_target(e, st->send, &reason);
  struct crash k;
  bool crashing = false;
  if (target) {
    int rc = engine_crash_begin(e, target, &k, deadline);
    if (rc == -EINTR)
      return rc;
    crashing = rc == 0;
    k.closing = drive_is_exit(st->send);
    k.reason = k.closing ? NULL : reason;
    k.step = i;
  }
  char *printed = NULL;
  const char *line = st->send_text;
  if (!line || strchr(line, '\n'))
    line = printed = edn_to_string(st->send);
  int rc = line ? engine_send(e, id, line, strlen(line), deadline) : -ENOMEM;
  free(printed);
  if (rc < 0) {
    if (crashing)
      engine_crash_drop(&k);
    if (rc == -EINTR)
      return rc;
    engine_step_fail(e, "%s: cannot write to the root's stdin: %s", where,
                     rc == -ETIMEDOUT ? "it stays full (timeout)"
                                      : "the root is gone (EPIPE)");
    return -1;
  }
  if (target && !target->parent && !(crashing && k.closing))
    engine_exempt(e, id); /* the root itself panics: nobody answers */
  rc = 0;
  if (st->expect)
    rc = expect_reply(e, i, id, st->expect, deadline);
  if (crashing && rc != -EINTR)
    *out = k; /* the caller judges it */
  else if (crashing)
    engine_crash_drop(&k);
  return rc;
}

static int step_expect(struct engine *e, size_t i) {
  const struct step *st = &e->s->steps[i];
  const edn_value *idv = edn_map_getk(st->expect, "id");
  if (!idv || idv->type != EDN_INT) {
    char where[600];
    drive_step_where(e, i, where, sizeof where);
    engine_step_fail(e, "%s: the pattern has no integer :id", where);
    return -1;
  }
  return expect_reply(e, i, idv->u.integer, st->expect, drive_step_deadline(e, st));
}

/* ---- exits -------------------------------------------------------------- */

/* A child-exit map for `name`/`pid` in `v`: `v` itself, or nested in a
 * report's :panic :cause {:wat/child-exit ...} (an escalation carries the
 * exit it escalates). */
static bool status_matches(const edn_value *status, const struct step *st) {
  if (st->exit_lost) { /* {:lost true}: the hop's end, not the node's */
    const edn_value *l = edn_map_getk(status, "lost");
    return l && l->type == EDN_BOOL && l->u.boolean;
  }
  const edn_value *x = st->exit_code >= 0 ? edn_map_getk(status, "exit")
                                          : edn_map_getk(status, "signal");
  long want = st->exit_code >= 0 ? st->exit_code : st->exit_signal;
  return x && x->type == EDN_INT && x->u.integer == want;
}

static void want_status(const struct step *st, char *buf, size_t n) {
  if (st->exit_lost)
    snprintf(buf, n, "{:lost true}");
  else if (st->exit_code >= 0)
    snprintf(buf, n, "{:exit %d}", st->exit_code);
  else
    snprintf(buf, n, "{:signal %d}", st->exit_signal);
}

static int exit_of_root(struct engine *e, size_t i, double deadline) {
  const struct step *st = &e->s->steps[i];
  char where[600], want[64];
  drive_step_where(e, i, where, sizeof where);
  want_status(st, want, sizeof want);
  while (!engine_reap_root(e)) {
    double left = deadline - engine_now_ms();
    if (left <= 0) {
      engine_step_fail(e, "%s: %s (pid %d) did not exit within %ld ms "
                       "(expected %s)", where, e->s->root->path,
                       (int)e->root_pid, step_timeout(e, st), want);
      return -1;
    }
    if (engine_pump(e, left < 20 ? (int)left + 1 : 20, false) == -EINTR)
      return -EINTR;
  }
  int s = e->root_status;
  bool ok = st->exit_code >= 0
                ? WIFEXITED(s) && WEXITSTATUS(s) == st->exit_code
                : WIFSIGNALED(s) && WTERMSIG(s) == st->exit_signal;
  engine_mark_subtree(e, e->s->root, NODE_GONE);
  if (!ok) {
    engine_step_fail(e, "%s: %s (pid %d) exited with %s %d}, expected %s",
                     where, e->s->root->path, (int)e->root_pid,
                     WIFEXITED(s) ? "{:exit" : "{:signal",
                     WIFEXITED(s) ? WEXITSTATUS(s) : WTERMSIG(s), want);
    return -1;
  }
  return 0;
}

static int step_expect_exit(struct engine *e, size_t i) {
  const struct step *st = &e->s->steps[i];
  double deadline = drive_step_deadline(e, st);
  if (!st->node->parent)
    return exit_of_root(e, i, deadline);
  char where[600], want[64];
  drive_step_where(e, i, where, sizeof where);
  want_status(st, want, sizeof want);
  /* The pid the node had when it went down (a restart in the model keeps
   * it as prev_pid: pid is then its successor's, or 0), else when last
   * seen. Only a node never seen needs the map. */
  struct live_node *ln = engine_live(e, st->node);
  if ((!ln || (!ln->pid && !ln->prev_pid)) &&
      engine_ensure_map(e, deadline) == -EINTR)
    return -EINTR;
  pid_t pid = !ln ? 0 : ln->prev_pid ? ln->prev_pid : ln->pid;
  struct host *h = engine_host(e, st->node); /* where that pid means it */
  const edn_value *rep = NULL;
  for (;;) {
    rep = engine_exit_report(e, st->node, pid, deadline, NULL);
    if (rep && !host_alive(h, pid, 0)) {
      struct proc_info pi;
      if (pid <= 0 || host_read(h, pid, &pi) < 0)
        break; /* reported and reaped */
    }
    if (e->interrupted)
      return -EINTR;
    double left = deadline - engine_now_ms();
    if (left <= 0)
      break;
    if (engine_pump(e, left < 25 ? (int)left + 1 : 25, false) == -EINTR)
      return -EINTR;
  }
  if (!rep) {
    engine_step_fail(e, "%s: no exit of %s (pid %d) in its parent's :stats "
                     ":exits within %ld ms (expected %s)", where,
                     st->node->path, (int)pid, step_timeout(e, st), want);
    return -1;
  }
  const edn_value *status = edn_map_getk(rep, "status");
  if (!status_matches(status, st)) {
    /* the :status as it came, whatever it is ({:exit -9}, {:weird 1}) */
    char *had = edn_to_string(status), *got = pretty(rep);
    engine_step_fail(e, "%s: %s (pid %d) exited with :status %s, not %s:\n%s",
                     where, st->node->path, (int)pid, had ? had : "?", want,
                     got);
    free(had);
    free(got);
    return -1;
  }
  struct proc_info pi;
  if (pid > 0 && host_read(h, pid, &pi) == 0) {
    engine_step_fail(e, "%s: %s (pid %d) exited with %s but its parent has "
                     "not reaped it (state %c)", where, st->node->path,
                     (int)pid, want, pi.state);
    return -1;
  }
  if (!policy_restarts(node_policy(st->node->parent)) ||
      node_restart(st->node) == RESTART_TEMPORARY)
    engine_mark_subtree(e, st->node, NODE_GONE);
  if (ln)
    ln->prev_pid = 0; /* that exit is seen: the next is its successor's */
  e->map_dirty = true;
  return 0;
}

/* ---- signals ------------------------------------------------------------ */

struct live_node *drive_alive_node(struct engine *e, size_t i,
                                   double deadline, int *rc) {
  const struct step *st = &e->s->steps[i];
  char where[600];
  drive_step_where(e, i, where, sizeof where);
  *rc = engine_ensure_map(e, deadline);
  if (*rc == -EINTR)
    return NULL;
  struct live_node *ln = engine_live(e, st->node);
  if (!ln || ln->state != NODE_ALIVE || !ln->pid ||
      !host_alive(engine_host(e, st->node), ln->pid, ln->start)) {
    engine_step_fail(e, "%s: %s is not alive (pid %d)", where, st->node->path,
                     ln ? (int)ln->pid : 0);
    *rc = -1;
    return NULL;
  }
  *rc = 0;
  return ln;
}

/* Does `sig` end a process that does not handle it? (Only then is a kill
 * a crash for containment and cascade.) */
static bool fatal_signal(int sig) {
  switch (sig) {
  case 0: case SIGSTOP: case SIGCONT: case SIGTSTP: case SIGTTIN:
  case SIGTTOU: case SIGCHLD: case SIGWINCH: case SIGURG:
    return false;
  default:
    return true;
  }
}

void drive_wait_state(struct engine *e, struct host *h, pid_t pid,
                      bool stopped, double deadline) {
  while (engine_now_ms() < deadline) {
    struct proc_info pi;
    if (host_read(h, pid, &pi) < 0)
      return;
    if ((pi.state == 'T') == stopped)
      return;
    if (engine_pump(e, 5, false) == -EINTR)
      return;
  }
}

/* Does `sig` stop a process that does not handle it? */
static bool stop_signal(int sig) {
  return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

static int step_kill(struct engine *e, size_t i, struct crash *out) {
  const struct step *st = &e->s->steps[i];
  double deadline = drive_step_deadline(e, st);
  int rc;
  struct live_node *ln = drive_alive_node(e, i, deadline, &rc);
  if (!ln)
    return rc;
  struct crash k;
  rc = engine_crash_begin(e, st->node, &k, deadline);
  if (rc == -EINTR)
    return rc;
  k.signal = st->signal;
  k.step = i;
  htrace_signal(e, st->node, ln->pid, st->signal, NULL);
  struct host *h = engine_host(e, st->node);
  int e_sig = host_signal(h, ln->pid, ln->start, st->signal);
  if (e_sig < 0) { /* on its host: a far node's pid means nothing here */
    char where[600];
    drive_step_where(e, i, where, sizeof where);
    engine_step_fail(e, "%s: kill(%d, %d) of %s on %s: %s", where,
                     (int)ln->pid, st->signal, st->node->path, host_name(h),
                     strerror(-e_sig));
    engine_crash_drop(&k);
    return -1;
  }
  if (rc == 0 && fatal_signal(st->signal))
    *out = k; /* the caller judges it */
  else if (rc == 0)
    engine_crash_drop(&k);
  if (fatal_signal(st->signal)) {
    e->map_dirty = true;
    return 0;
  }
  /* A stop or continue signal holds or releases the node as `hold` and
   * `release` do; the tree's shape is unchanged, and refreshing the map
   * would wait on the stopped node until the step's timeout. */
  if (stop_signal(st->signal) || st->signal == SIGCONT) {
    ln->held = st->signal != SIGCONT;
    drive_wait_state(e, engine_host(e, st->node), ln->pid, ln->held, deadline);
  }
  return 0;
}

static int step_hold(struct engine *e, size_t i, bool hold) {
  const struct step *st = &e->s->steps[i];
  double deadline = drive_step_deadline(e, st);
  int rc;
  struct live_node *ln = drive_alive_node(e, i, deadline, &rc);
  if (!ln)
    return rc;
  htrace_signal(e, st->node, ln->pid, hold ? SIGSTOP : SIGCONT, NULL);
  host_signal(engine_host(e, st->node), ln->pid, ln->start,
              hold ? SIGSTOP : SIGCONT);
  ln->held = hold;
  drive_wait_state(e, engine_host(e, st->node), ln->pid, hold, deadline);
  return 0;
}

static int step_wait(struct engine *e, size_t i) {
  double until = engine_now_ms() + (double)e->s->steps[i].wait_ms;
  for (;;) {
    double left = until - engine_now_ms();
    if (left <= 0)
      return 0;
    if (engine_pump(e, (int)left + 1, false) == -EINTR)
      return -EINTR;
  }
}

static int step_spawn(struct engine *e, size_t i) {
  const struct step *st = &e->s->steps[i];
  double deadline = drive_step_deadline(e, st);
  char where[600];
  drive_step_where(e, i, where, sizeof where);
  edn_value *req = edn_coll(e->arena, EDN_MAP), *rep = NULL;
  edn_value *spec = scenario_node_spec(e->arena, st->spawned);
  if (!req || !spec || engine_far_trace_env(e, spec, st->spawned) < 0 ||
      edn_map_putk(e->arena, req, "op", edn_keyword(e->arena, "spawn")) < 0 ||
      edn_map_putk(e->arena, req, "spec", spec) < 0)
    return -1;
  int rc = engine_request(e, st->node, req, deadline, &rep);
  if (rc == -EINTR)
    return rc;
  const edn_value *got = rep ? edn_map_getk(rep, "spawned") : NULL;
  if (rc < 0 || !got || got->type != EDN_STRING ||
      strcmp(got->u.text.ptr, st->spawned->name)) {
    char *text = rep ? pretty(rep) : strdup("(no reply)");
    engine_step_fail(e, "%s: %s did not spawn %s:\n%s", where, st->node->path,
                     st->spawned->name, text ? text : "?");
    free(text);
    return -1;
  }
  engine_mark_subtree(e, st->spawned, NODE_ALIVE);
  e->map_dirty = true;
  return 0;
}

int drive_step(struct engine *e, size_t i, struct crash *crashed) {
  const struct step *st = &e->s->steps[i];
  crashed->node = NULL;
  crashed->before = NULL;
  crashed->watch = NULL;
  htrace_step(e, i);
  switch (st->action) {
  case STEP_SEND:
    return step_send(e, i, crashed);
  case STEP_EXPECT:
    return step_expect(e, i);
  case STEP_EXPECT_EXIT:
    return step_expect_exit(e, i);
  case STEP_KILL:
    return st->edge ? drive_edge_kill(e, i, crashed) : step_kill(e, i, crashed);
  case STEP_HOLD:
    return st->edge ? drive_edge_hold(e, i, crashed) : step_hold(e, i, true);
  case STEP_RELEASE:
    return st->edge ? drive_edge_release(e, i, crashed)
                    : step_hold(e, i, false);
  case STEP_WAIT:
    return step_wait(e, i);
  case STEP_SPAWN:
    return step_spawn(e, i);
  }
  return -1;
}
