/* audit_containment.c — the containment property, judged at each crash
 * step (a :panic sent, or a kill): the crashed node's report reaches its
 * parent intact (its :stats :exits), the parent's policy is visible
 * (:isolate — parent alive, child listed dead; :restart — a new pid under
 * the same name; :escalate — the parent gone too, its own report carrying
 * the child's as :cause, judged one level up the same way), and every node
 * outside the affected subtree is alive with its pid and answers. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "internal.h"

static char *show(const edn_value *v) {
  char *s = v ? edn_to_string(v) : NULL;
  return s ? s : strdup("nil");
}

/* What the report of one crashed node must say. */
struct expect {
  const struct tree_node *node;
  pid_t pid;
  int signal;                        /* killed with it (0: a panic) */
  const char *reason;                /* the :reason sent, or NULL */
  const struct tree_node *child;     /* escalated for this child, or NULL */
  pid_t child_pid;
  bool edge;                         /* its hop was cut (client, session) */
};

static bool int_is(const edn_value *v, long long x) {
  return v && v->type == EDN_INT && v->u.integer == x;
}

static bool str_is(const edn_value *v, const char *s) {
  return v && v->type == EDN_STRING && !strcmp(v->u.text.ptr, s);
}

/* Check one child-exit map against what the crash must have produced. */
static void check_report(struct engine *e, const struct expect *x,
                         const edn_value *rep, const char *seen_by) {
  const edn_value *status = edn_map_getk(rep, "status");
  const edn_value *panic = edn_map_getk(rep, "panic");
  char *text = show(rep);
  const char *path = x->node->path;
  bool catchable = x->signal == SIGTERM || x->signal == SIGINT ||
                   x->signal == SIGHUP;
  /* a signal cannot cross an ssh hop: a far node killed reads as lost */
  const edn_value *lost = edn_map_getk(status, "lost");
  bool far_lost = node_host(x->node) && lost && lost->type == EDN_BOOL &&
                  lost->u.boolean;
  if (x->edge && !far_lost) {
    /* ssh ends 255 or by a signal when its hop is cut: never the far
     * node's own status */
    char *had = status ? show(status) : NULL;
    engine_fail(e, PROP_CONTAINMENT, "containment: the hop of %s (pid %d) "
                "was cut but %s reports :status %s, not {:lost true}", path,
                (int)x->pid, seen_by, had ? had : "missing");
    free(had);
  } else if (x->signal) {
    if (!int_is(edn_map_getk(status, "signal"), x->signal) && !far_lost &&
        !(catchable && edn_map_getk(status, "exit"))) {
      /* the :status as it came ({:exit -9}, {:weird 1}) */
      char *had = status ? show(status) : NULL;
      engine_fail(e, PROP_CONTAINMENT, "containment: %s (pid %d) was killed "
                  "with signal %d but %s reports :status %s", path,
                  (int)x->pid, x->signal, seen_by, had ? had : "missing");
      free(had);
    }
  } else {
    if (!int_is(edn_map_getk(status, "exit"), 70))
      engine_fail(e, PROP_CONTAINMENT, "containment: %s (pid %d) panicked "
                  "but %s reports no :status {:exit 70}: %.300s", path,
                  (int)x->pid, seen_by, text);
    if (!panic || panic->type != EDN_MAP) {
      engine_fail(e, PROP_CONTAINMENT, "containment: the panic report of %s "
                  "(pid %d) did not reach %s intact: :panic is %s in %.300s",
                  path, (int)x->pid, seen_by, panic ? "not a map" : "nil",
                  text);
    } else {
      if (!str_is(edn_map_getk(panic, "node"), x->node->name) ||
          !int_is(edn_map_getk(panic, "pid"), x->pid))
        engine_fail(e, PROP_CONTAINMENT, "containment: the panic report %s "
                    "holds for %s does not name %s with pid %d: %.300s",
                    seen_by, path, x->node->name, (int)x->pid, text);
      if (x->reason && !x->child &&
          !str_is(edn_map_getk(panic, "reason"), x->reason))
        engine_fail(e, PROP_CONTAINMENT, "containment: the panic report of "
                    "%s lost its :reason \"%s\" on the way to %s: %.300s",
                    path, x->reason, seen_by, text);
      if (x->child) {
        const edn_value *cause = edn_map_getk(panic, "cause");
        const edn_value *inner =
            cause ? edn_map_getk(cause, "wat/child-exit") : NULL;
        if (!inner || !str_is(edn_map_getk(inner, "node"), x->child->name) ||
            !int_is(edn_map_getk(inner, "pid"), x->child_pid))
          engine_fail(e, PROP_CONTAINMENT, "containment: %s (pid %d) "
                      "escalated the exit of %s (pid %d) but its report's "
                      ":cause does not carry it: %.300s", path, (int)x->pid,
                      x->child->path, (int)x->child_pid, text);
      }
    }
  }
  free(text);
}

/* The root crashed: its own exit status and its stderr panic line. */
static void judge_root(struct engine *e, const struct expect *x,
                       double deadline) {
  while (!engine_reap_root(e) && engine_now_ms() < deadline)
    if (engine_pump(e, 20, false) < 0)
      break;
  if (!e->root_reaped) {
    engine_fail(e, PROP_CONTAINMENT, "containment: the root %s (pid %d) "
                "crashed but did not exit in time", x->node->path,
                (int)x->pid);
    return;
  }
  int s = e->root_status;
  if (!x->signal && !(WIFEXITED(s) && WEXITSTATUS(s) == 70))
    engine_fail(e, PROP_CONTAINMENT, "containment: the root %s (pid %d) "
                "panicked but exited with status 0x%x, not 70", x->node->path,
                (int)x->pid, s);
  /* its report is the last {:wat/panic ...} line on its stderr */
  while (!e->err_eof && engine_now_ms() < deadline)
    if (engine_pump(e, 20, false) < 0)
      break;
  if (x->signal)
    return;
  const edn_value *last = NULL;
  size_t at = 0;
  for (const edn_value *v; (v = engine_next_root_panic(e, &at));)
    last = v;
  if (!last) {
    engine_fail(e, PROP_CONTAINMENT, "containment: the root %s (pid %d) "
                "exited without a {:wat/panic ...} line on its stderr",
                x->node->path, (int)x->pid);
    return;
  }
  edn_arena *a = e->arena;
  edn_value *as_exit = edn_coll(a, EDN_MAP), *st = edn_coll(a, EDN_MAP);
  if (!as_exit || !st)
    return;
  edn_map_putk(a, st, "exit", edn_int(a, WIFEXITED(s) ? WEXITSTATUS(s) : -1));
  edn_map_putk(a, as_exit, "status", st);
  edn_map_putk(a, as_exit, "panic", edn_map_getk(last, "wat/panic"));
  check_report(e, x, as_exit, "the harness (the root's stderr)");
}

/* Poll until `x->node`'s exit shows up at its nearest live ancestor. */
static const edn_value *await_report(struct engine *e, const struct expect *x,
                                     double deadline,
                                     const struct tree_node **from) {
  for (;;) {
    const edn_value *r = engine_exit_report(e, x->node, x->pid, deadline, from);
    if (r)
      return r; /* *from NULL: found in the root's own panic */
    if (engine_now_ms() > deadline || e->interrupted)
      return r;
    /* nobody left to ask and the root's stderr is complete: it never
     * will show */
    if (!*from && e->err_eof && engine_reap_root(e))
      return NULL;
    if (engine_pump(e, 25, false) < 0)
      return NULL;
  }
}

/* The parent P stayed (its policy isolate, or a child its restart type
 * keeps dead): alive, same pid, lists the child dead. */
static void judge_isolate(struct engine *e, const struct crash *k,
                          const struct expect *x, double deadline) {
  const struct tree_node *p = x->node->parent;
  unsigned long long start = 0;
  pid_t ppid = crash_before_pid(k, p, &start);
  if (!host_alive(engine_host(e, p), ppid, start)) {
    engine_fail(e, PROP_CONTAINMENT, "containment: %s (pid %d) should have "
                "stayed up (its policy, or %s's restart type) but went down "
                "with its child", p->path, (int)ppid, x->node->path);
    return;
  }
  edn_value *req = edn_coll(e->arena, EDN_MAP), *rep = NULL;
  edn_map_putk(e->arena, req, "op", edn_keyword(e->arena, "fan"));
  if (engine_any_held(e) || engine_request(e, p, req, deadline, &rep) < 0)
    return; /* cannot ask without waiting on a held node */
  const edn_value *reps = edn_map_getk(rep, "replies");
  for (size_t i = 0; reps && reps->type == EDN_VECTOR && i < reps->u.seq.len;
       i++) {
    const edn_value *c = reps->u.seq.items[i];
    if (!str_is(edn_map_getk(c, "node"), x->node->name))
      continue;
    const edn_value *err = edn_map_getk(c, "error");
    if (!err || !edn_is_keyword(edn_map_getk(err, "type"), "wat/dead")) {
      char *t = show(c);
      engine_fail(e, PROP_CONTAINMENT, "containment: %s does not list its "
                  "exited, not restarted child %s as :wat/dead: %.300s",
                  p->path, x->node->path, t);
      free(t);
    }
    return;
  }
  engine_fail(e, PROP_CONTAINMENT, "containment: %s's :fan does not list its "
              "crashed child %s at all", p->path, x->node->path);
}

/* A restart shows in the parent's :stats :restarts. */
static void check_restart_counted(struct engine *e, const struct tree_node *p,
                                  double deadline) {
  edn_value *req = edn_coll(e->arena, EDN_MAP), *rep = NULL;
  edn_map_putk(e->arena, req, "op", edn_keyword(e->arena, "stats"));
  if (engine_request(e, p, req, deadline, &rep) < 0)
    return;
  const edn_value *n = edn_map_getk(rep, "restarts");
  if (!n || n->type != EDN_INT || n->u.integer < 1)
    engine_fail(e, PROP_CONTAINMENT, "containment: %s restarted a child but "
                "its :stats :restarts is %s", p->path,
                n && n->type == EDN_INT ? "0" : "missing");
}

/* `restart`: the same name under a new pid, child of the same parent.
 * Returns 1 when the parent went down instead (its restart limit). */
static int judge_restart(struct engine *e, const struct expect *x,
                          double deadline) {
  const struct tree_node *p = x->node->parent;
  struct live_node *pl = engine_live(e, p);
  for (;;) {
    edn_value *req = edn_coll(e->arena, EDN_MAP), *rep = NULL;
    edn_map_putk(e->arena, req, "op", edn_keyword(e->arena, "inspect"));
    if (!engine_any_held(e) &&
        engine_request(e, x->node, req, deadline, &rep) == 0) {
      const edn_value *pid = edn_map_getk(rep, "pid");
      if (pid && pid->type == EDN_INT && pid->u.integer != x->pid) {
        struct proc_info pi;
        struct host *h = engine_host(e, x->node);
        /* a child started over ssh hangs from an sshd session there */
        if (host_read(h, (pid_t)pid->u.integer, &pi) == 0 &&
            (node_host(x->node) || pi.ppid == pl->pid)) {
          check_restart_counted(e, p, deadline);
          return 0;
        }
        engine_fail(e, PROP_CONTAINMENT, "containment: %s says it restarted "
                    "as pid %lld, but /proc does not show that pid under "
                    "%s (pid %d)", x->node->path,
                    (long long)pid->u.integer, p->path, (int)pl->pid);
        return 0;
      }
    }
    if (!host_alive(engine_host(e, p), pl->pid, pl->start))
      return 1;
    if (engine_now_ms() > deadline || e->interrupted)
      break;
    if (engine_pump(e, 25, false) < 0)
      break;
  }
  engine_fail(e, PROP_CONTAINMENT, "containment: %s has policy :restart but "
              "%s did not come back under a new pid", p->path, x->node->path);
  return 0;
}

/* Wait (bounded) for `t`, alive before the crash, to be gone. */
static bool goes_down(struct engine *e, const struct crash *k,
                      const struct tree_node *t, double deadline) {
  unsigned long long start = 0;
  pid_t pid = crash_before_pid(k, t, &start);
  deadline = crash_death_deadline(e, k, deadline);
  while (host_alive(engine_host(e, t), pid, start)) {
    if (engine_now_ms() > deadline || e->interrupted)
      return false;
    if (engine_pump(e, 20, false) < 0)
      return false;
  }
  return true;
}

/* Everyone outside `top`'s subtree: alive with the same pid, answering. */
static void judge_outsiders(struct engine *e, const struct crash *k,
                            const struct tree_node *top, double deadline) {
  size_t checked = 0;
  for (size_t i = 0; i < k->nbefore; i++) {
    const struct live_node *b = &k->before[i];
    if (b->state != NODE_ALIVE || !b->pid || tree_in_subtree(b->t, top) ||
        engine_crash_touches(k, b->t))
      continue; /* no known process: topology says why */
    checked++;
    if (!host_alive(engine_host(e, b->t), b->pid, b->start))
      engine_fail(e, PROP_CONTAINMENT, "containment: %s (pid %d) is outside "
                  "the crashed subtree of %s but is gone", b->t->path,
                  (int)b->pid, top->path);
  }
  if (engine_any_held(e) || !proctree_alive(e->root_pid, e->root_start))
    return;
  /* they answer, with the same pids */
  edn_value *req = edn_coll(e->arena, EDN_MAP), *inner = edn_coll(e->arena, EDN_MAP);
  edn_map_putk(e->arena, inner, "op", edn_keyword(e->arena, "inspect"));
  edn_map_putk(e->arena, req, "op", edn_keyword(e->arena, "fan"));
  edn_map_putk(e->arena, req, "req", inner);
  edn_value *rep = NULL;
  if (engine_request(e, e->s->root, req, deadline, &rep) < 0) {
    engine_fail(e, PROP_CONTAINMENT, "containment: after the crash of %s the "
                "root does not answer a :fan", k->node->path);
    return;
  }
  /* walk the reply along the scenario's tree */
  struct { const struct tree_node *t; const edn_value *r; } stack[4096];
  size_t n = 0;
  stack[n++].t = e->s->root;
  stack[0].r = rep;
  while (n) {
    const struct tree_node *t = stack[n - 1].t;
    const edn_value *r = stack[--n].r;
    unsigned long long start;
    pid_t was = crash_before_pid(k, t, &start);
    const edn_value *res = edn_map_getk(r, "result");
    if (was && !tree_in_subtree(t, top) && !engine_crash_touches(k, t) &&
        !int_is(res ? edn_map_getk(res, "pid") : NULL, was))
      engine_fail(e, PROP_CONTAINMENT, "containment: %s (pid %d) is outside "
                  "the crashed subtree of %s but does not answer with its "
                  "pid", t->path, (int)was, top->path);
    const edn_value *reps = edn_map_getk(r, "replies");
    for (size_t i = 0; reps && reps->type == EDN_VECTOR && i < reps->u.seq.len;
         i++) {
      const edn_value *c = reps->u.seq.items[i];
      const edn_value *name = edn_map_getk(c, "node");
      for (size_t j = 0; j < t->nchildren && n < 4096; j++)
        if (str_is(name, t->children[j]->name)) {
          stack[n].t = t->children[j];
          stack[n++].r = c;
        }
    }
  }
  (void)checked;
}

static const char *policy_name(enum policy p) {
  static const char *const names[] = {"isolate", "isolate", "escalate",
                                      "restart", "one_for_all", "rest_for_one"};
  return names[p];
}

/* The level where the model says the crash stops: x->node exited and its
 * parent p, alive (from == p), acts by the model's outcome. */
static void judge_last(struct engine *e, const struct crash *k,
                       struct expect *x, double deadline) {
  const struct tree_node *p = x->node->parent;
  if (k->o.fate == MODEL_DEAD) {
    judge_isolate(e, k, x, deadline);
    return;
  }
  unsigned long long start = 0;
  pid_t ppid = crash_before_pid(k, p, &start);
  if (!host_alive(engine_host(e, p), ppid, start)) {
    engine_fail(e, PROP_CONTAINMENT, "containment: %s (pid %d, %s) should "
                "have stayed up after %s exited but went down", p->path,
                (int)ppid, policy_name(node_policy(p)), x->node->path);
    return;
  }
  if (k->o.fate == MODEL_REMOVED) {
    judge_removed(e, k, deadline);
    return;
  }
  /* Coming back means starting a whole subtree, which a loaded machine
   * (CI's sanitized suites) slows most: the wait adds the slack. Only the
   * wait: the backoff is timed against its own bound. */
  double backoff = (double)node_backoff_ms(k->down,
                                            engine_backoff_most(k->backoff_may));
  if (judge_restart(e, x, deadline + backoff + engine_slack_ms()) == 1) {
    engine_fail(e, PROP_CONTAINMENT, "containment: %s went down after %s "
                "exited, but a restart of it is within its intensity "
                "(:max-restarts %ld within %ld ms, counted over all its "
                "children)", p->path, x->node->path, node_max_restarts(p),
                node_restart_period_ms(p));
    return;
  }
  judge_group_restart(e, k, deadline);
}

/* x->node's parent p must have gone down (escalate, or its intensity
 * crossed). False when it did not (failed here). */
static bool judge_went_down(struct engine *e, const struct crash *k,
                            const struct expect *x,
                            const struct tree_node *from, double deadline) {
  const struct tree_node *p = x->node->parent;
  bool crossed = k->o.crossed >= 0 && e->nodes[k->o.crossed].t == p;
  if (from == p && !goes_down(e, k, p, deadline)) {
    if (crossed)
      engine_fail(e, PROP_CONTAINMENT, "containment: %s stays up after %s "
                  "exited, crossing its restart intensity (more than "
                  ":max-restarts %ld restarts of its children within %ld "
                  "ms): it should have given up and gone down", p->path,
                  x->node->path, node_max_restarts(p),
                  node_restart_period_ms(p));
    else
      engine_fail(e, PROP_CONTAINMENT, "containment: %s has policy :%s but "
                  "stays up after %s exited", p->path,
                  policy_name(node_policy(p)), x->node->path);
    return false;
  }
  if (crossed)
    judge_intensity_stops(e, k, p, x->node, deadline);
  return true;
}

/* Judge one level of a crash: x->node exited, and its parent's policy
 * must show as the model says. Returns true when the crash went on up (x
 * and *top then name the parent, judged the same way one level up). */
static bool judge_level(struct engine *e, const struct crash *k,
                        struct expect *x, const struct tree_node **top,
                        double deadline) {
  const struct tree_node *p = x->node->parent;
  if (!p) {
    judge_root(e, x, deadline);
    return false;
  }
  const struct tree_node *from = NULL;
  const edn_value *rep = await_report(e, x, deadline, &from);
  if (!rep) {
    engine_fail(e, PROP_CONTAINMENT, "containment: the exit of %s (pid %d) "
                "never showed in an ancestor's :stats :exits%s", x->node->path,
                (int)x->pid, e->root_reaped
                ? " nor in a {:wat/panic ...} on the root's stderr (the "
                  "whole tree is gone)" : "");
    *top = k->down; /* judge the others by what the model takes down */
    return false;
  }
  check_report(e, x, rep, from ? from->path : "the root's stderr");
  if (x->node == k->down) { /* the model says the crash stops here */
    if (from == p)
      judge_last(e, k, x, deadline);
    else
      engine_fail(e, PROP_CONTAINMENT, "containment: %s (%s) went down "
                  "after its child %s exited, but should have stayed up",
                  p->path, policy_name(node_policy(p)), x->node->path);
    return false;
  }
  if (!judge_went_down(e, k, x, from, deadline))
    return false;
  /* an escalation carries the child's exit as :cause; an intensity
   * crossed, the last child's report */
  x->child = x->node;
  x->child_pid = x->pid;
  x->node = p;
  x->pid = crash_before_pid(k, p, NULL);
  x->signal = 0;
  x->reason = NULL;
  x->edge = false;
  *top = p;
  return true;
}

/* (A wait for processes to come back adds the slack on top: see
 * judge_last and judge_group_restart.) */
double crash_bound_ms(const struct engine *e, const struct crash *k) {
  long tmo = e->s->steps[k->step].timeout_ms > 0
                 ? e->s->steps[k->step].timeout_ms
                 : e->s->timeout_ms;
  return (double)(tmo > 0 ? tmo : SCENARIO_DEFAULT_TIMEOUT_MS);
}

double crash_death_deadline(const struct engine *e, const struct crash *k,
                            double deadline) {
  double from_crash = k->t0 + crash_bound_ms(e, k) + engine_slack_ms();
  return from_crash < deadline ? from_crash : deadline;
}

void audit_containment_crash(struct engine *e, const struct crash *k) {
  /* the step's bound and the slack: the answers judged here (a parent's
   * :stats, the root's :fan) are requests through a tree that a loaded
   * machine slows as much as any step's (CI, ASan: the root's :fan after
   * a restart-subtree crash once came after the bare bound) */
  double deadline = engine_now_ms() + crash_bound_ms(e, k) + engine_slack_ms();
  struct expect x = {.node = k->node, .pid = k->pid, .signal = k->signal,
                     .reason = k->reason, .edge = k->edge != EDGE_NONE};
  const struct tree_node *top = k->node;
  size_t before = e->ev[PROP_CONTAINMENT].len;
  judge_own_stop_order(e, k, deadline);
  while (judge_level(e, k, &x, &top, deadline)) {
  }
  /* a bound of its own: waiting out a backoff may have used the first */
  judge_outsiders(e, k, top, engine_now_ms() + crash_bound_ms(e, k));
  if (e->ev[PROP_CONTAINMENT].len == before && !e->fail[PROP_CONTAINMENT])
    engine_summary(e, PROP_CONTAINMENT, "%zu crash step(s) contained",
                   e->ncrashes);
}
