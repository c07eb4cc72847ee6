/* supervise.c — what a child's exit sets off under its parent's
 * :on-child-exit (docs/node-contract.md, section 7): the child's restart
 * type (permanent, transient, temporary), the strategy (:isolate,
 * :escalate, one-for-one, one-for-all, rest-for-one), the backoff before a
 * restart, and restart intensity, counted per parent over all its
 * children. A group restart is a state machine: its siblings are stopped
 * by the stopper (shutdown.c), its wait is a timer, and it starts the
 * children again once both are over. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "node.h"

static bool wants_restart(const struct child *c, int status) {
  unsigned f = c->n->faults;
  switch (c->keys.restart) {
  case RESTART_TEMPORARY: return f & FAULT_TEMPORARY_RESTART;
  case RESTART_TRANSIENT:
    return !(WIFEXITED(status) && WEXITSTATUS(status) == 0) ||
           (f & FAULT_TRANSIENT_RESTART);
  default: return true;
  }
}

/* A temporary child leaves its parent's list when it exits. */
static bool removable(const struct child *c) {
  return c->keys.restart == RESTART_TEMPORARY &&
         !(c->n->faults & FAULT_TEMPORARY_RESTART);
}

/* {:wat/child-exit MAP} of c's last exit, in a. */
static edn_value *exit_cause(struct child *c, edn_arena *a) {
  edn_value *cause = edn_coll(a, EDN_MAP);
  if (cause) edn_map_putk(a, cause, "wat/child-exit", child_report(c, a));
  return cause;
}

static void panic_for(struct child *c, const char *why, bool give_up) {
  edn_arena *a = edn_arena_new();
  edn_value *cause = a ? exit_cause(c, a) : NULL;
  if (give_up) node_give_up(c->n, why, cause);
  else node_panic(c->n, why, cause);
  edn_arena_free(a);
}

/* ---- Intensity ---------------------------------------------------------- */

/* Record a restart now, unless it would be one more than :max-restarts
 * within :restart-period-ms: then the parent gives up (panics, c's report
 * as cause) and this returns false. Counted per parent (per child with
 * the intensity-per-child fault). */
static bool intensity_take(struct node *n, struct child *c) {
  bool per_child = n->faults & FAULT_INTENSITY_PER_CHILD;
  int64_t **ts = per_child ? &c->restart_ms : &n->restart_ms;
  size_t *len = per_child ? &c->nrestart : &n->nrestart, k = 0;
  int64_t now = loop_now_ms();
  for (size_t i = 0; i < *len; i++)
    if (now - (*ts)[i] <= n->spec.restart_period_ms) (*ts)[k++] = (*ts)[i];
  *len = k;
  if ((int64_t)k >= n->spec.max_restarts && !(n->faults & FAULT_NO_RESTART_LIMIT)) {
    char why[300];
    snprintf(why, sizeof why, "restart intensity: more than %lld restarts "
             "within %lld ms (last: child %s)", (long long)n->spec.max_restarts,
             (long long)n->spec.restart_period_ms, c->name);
    panic_for(c, why, true);
    return false;
  }
  int64_t *p = realloc(*ts, (k + 1) * sizeof *p);
  if (p) { /* out of memory: this one restart goes uncounted */
    *ts = p;
    p[(*len)++] = now;
  }
  n->restarts++;
  return true;
}

/* ---- Starting again ----------------------------------------------------- */

/* The n-th restart in a row of c waits min(BASE * 2^(n-1), MAX) ms; the
 * count starts again once c had stayed up :restart-period-ms. */
static int64_t backoff_next(struct child *c) {
  const struct spec *k = &c->keys;
  struct node *n = c->n;
  if (!k->backoff) return 0;
  if (!(n->faults & FAULT_BACKOFF_NO_RESET) &&
      loop_now_ms() - c->spawned_ms >= n->spec.restart_period_ms)
    c->backoff_n = 0;
  int64_t d = k->backoff_base_ms;
  for (unsigned i = 0; i < c->backoff_n && d < k->backoff_max_ms; i++)
    d = d > k->backoff_max_ms / 2 ? k->backoff_max_ms : d * 2;
  c->backoff_n++;
  return d < k->backoff_max_ms ? d : k->backoff_max_ms;
}

/* Spawn c again; false when that failed (the parent panicked). */
static bool respawn(struct child *c) {
  struct node *n = c->n;
  c->restarting = false;
  c->in_group = false;
  if (c->alive) return true;
  if (n->faults & FAULT_RESTART_BARE) { /* {:name NAME}: a leaf from now on */
    edn_value *bare = edn_coll(n->spec_arena, EDN_MAP);
    edn_value *name = edn_string(n->spec_arena, c->name, strlen(c->name));
    if (bare && name && edn_map_putk(n->spec_arena, bare, "name", name) == 0) {
      c->spec = bare;
      spec_read_child(bare, &c->keys);
    }
  }
  int e = child_spawn(c);
  if (e == 0) return true;
  char why[300];
  snprintf(why, sizeof why, "restart failed: child %s: %s", c->name, strerror(-e));
  panic_for(c, why, false);
  return false;
}

/* ---- One for one ------------------------------------------------------ */

static void backoff_over(void *data) {
  struct child *c = data;
  if (!c->restarting || c->n->ending) return;
  if (intensity_take(c->n, c)) respawn(c);
}

static void restart_one(struct child *c, int64_t delay) {
  if (delay > 0) { /* listed :wat/restarting meanwhile */
    c->restarting = true;
    loop_timer_start(c->n->loop, &c->start_timer, delay, backoff_over, c);
    return;
  }
  if (intensity_take(c->n, c)) respawn(c);
}

/* ---- One for all, rest for one ----------------------------------------- */

static bool is_ofa(const struct node *n) {
  return n->spec.on_child_exit == POLICY_ONE_FOR_ALL;
}

static size_t index_of(const struct node *n, const struct child *c) {
  size_t i = 0;
  while (i < n->nkids && n->kids[i] != c) i++;
  return i;
}

/* The group restart's siblings: every one (one-for-all) or those after
 * `from` (rest-for-one), marked to be started again, and the live ones to
 * be stopped first. A sibling already dead (transient after exit 0) is
 * started again with the group, as OTP's supervisor starts every child it
 * still names. */
static void group_mark(struct node *n, struct child *from) {
  bool forget = is_ofa(n) && (n->faults & FAULT_OFA_FORGET);
  for (size_t i = is_ofa(n) ? 0 : index_of(n, from) + 1; i < n->nkids; i++) {
    struct child *s = n->kids[i];
    if (s == from || s->in_group) continue;
    if (forget && s->alive) { /* the fault: neither stopped nor restarted */
      forget = false;
      continue;
    }
    s->in_group = s->restarting = true;
    s->stop_mark = s->alive;
  }
  from->in_group = from->restarting = true;
}

/* Count the group restart toward intensity once; false: the parent gave up. */
static bool group_count(struct node *n) {
  if (n->group.counted) return true;
  n->group.counted = true;
  return intensity_take(n, n->group.trigger);
}

/* Every member started again in spec order (rest-for-one: the exited child
 * first, as it is first among them; with rfo-early, last). */
static void group_start(struct node *n) {
  if (!group_count(n)) return;
  struct child *t = n->group.trigger;
  bool late = !is_ofa(n) && (n->faults & FAULT_RFO_EARLY);
  n->group.active = false;
  for (size_t i = 0; i < n->nkids; i++) {
    struct child *c = n->kids[i];
    if (!c->in_group || (late && c == t)) continue;
    if (!respawn(c)) return; /* the parent panicked: the rest stay down */
  }
  if (late && t->in_group) respawn(t);
}

static void group_stopped(struct node *n) {
  if (n->group.active && !n->group.waiting) group_start(n);
}

static void group_wait_over(void *data) {
  struct node *n = data;
  n->group.waiting = false;
  if (n->group.active && !n->stopper.active) group_start(n);
}

static void group_stop(struct node *n) {
  shutdown_marked(n, is_ofa(n) ? STOP_ONE_FOR_ALL : STOP_REST_FOR_ONE, true,
                  group_stopped);
}

/* c's exit starts a group restart. Without a backoff wait it is counted
 * at once (before any sibling is stopped, as OTP does); with one, when
 * the wait is over, since the wait itself counts nothing. */
static void group_begin(struct child *c, int64_t delay) {
  struct node *n = c->n;
  n->group.active = true;
  n->group.trigger = c;
  n->group.waiting = delay > 0;
  n->group.counted = false;
  group_mark(n, c);
  if (delay > 0) loop_timer_start(n->loop, &n->group.timer, delay, group_wait_over, n);
  else if (!group_count(n)) return;
  group_stop(n);
}

/* A child not in the group exits while the group restart is under way:
 * it is one more restart, and it joins the group (rest-for-one: with the
 * siblings after it, and it becomes the first to start). */
static void group_join(struct child *c) {
  struct node *n = c->n;
  if (!intensity_take(n, c)) return;
  group_mark(n, c);
  if (index_of(n, c) < index_of(n, n->group.trigger)) n->group.trigger = c;
  group_stop(n);
}

/* ---- Entry points ------------------------------------------------------- */

void supervise_exit(struct child *c, int status) {
  struct node *n = c->n;
  enum policy p = n->spec.on_child_exit;
  if (p == POLICY_ESCALATE) {
    char why[300];
    snprintf(why, sizeof why, "child %s exited", c->name);
    panic_for(c, why, false);
    return;
  }
  if (c->in_group || p == POLICY_ISOLATE || !wants_restart(c, status)) {
    /* in a group already: it comes back with it, unless temporary */
    if (removable(c)) child_remove(c);
    return;
  }
  if (n->group.active) {
    group_join(c);
    return;
  }
  int64_t delay = backoff_next(c);
  if (p == POLICY_RESTART) restart_one(c, delay);
  else group_begin(c, delay);
}

void supervise_stopped(struct child *c) {
  if (c->in_group && removable(c)) child_remove(c);
}

void supervise_cancel(struct node *n) {
  loop_timer_stop(n->loop, &n->group.timer);
  n->group.active = false;
  for (size_t i = 0; i < n->nkids; i++) {
    struct child *c = n->kids[i];
    loop_timer_stop(n->loop, &c->start_timer);
    c->restarting = c->in_group = false;
  }
}
