/* refresh.c — learning the tree's pids: one `:fan :inspect` at the root,
 * walked against the scenario's tree, every pid cross-checked with /proc
 * (its parent link, its process group) before anyone relies on it. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Forget what the last :inspect said of t's subtree: a node the reply
 * does not name has no known process until a later one names it. */
static void unclaim(struct engine *e, const struct tree_node *t) {
  struct live_node *ln = engine_live(e, t);
  if (ln && ln->state == NODE_ALIVE) {
    ln->pid = 0;
    ln->start = 0;
    ln->said_ppid = ln->said_pgid = -1;
  }
  for (size_t i = 0; i < t->nchildren; i++)
    unclaim(e, t->children[i]);
}

/* The child of t that a :fan reply entry names, or NULL (evidence). */
static struct tree_node *named_child(struct engine *e, struct tree_node *t,
                                     const struct live_node *ln,
                                     const edn_value *c) {
  const edn_value *name = edn_map_getk(c, "node");
  for (size_t j = 0; name && name->type == EDN_STRING && j < t->nchildren; j++)
    if (!strcmp(t->children[j]->name, name->u.text.ptr))
      return t->children[j];
  char *s = edn_to_string(c);
  engine_step_fail(e, "tree: %s (pid %d) reports a child the scenario "
                   "does not have: %.200s", t->path, ln->pid, s ? s : "?");
  free(s);
  return NULL;
}

/* Walk one node's :fan reply (and its children's, recursively), taking
 * from it only what each node says about itself: its pid, parent and
 * group, claims to be checked against /proc. Which nodes should exist is
 * the model's to say, not the reply's: a node the model holds alive that
 * the reply leaves out, or answers for with an error, stays alive in the
 * model with no known process (audit_topology.c judges that), and a node
 * the model holds gone stays gone whatever the reply says. */
static void walk_fan(struct engine *e, struct tree_node *t, const edn_value *r) {
  struct live_node *ln = engine_live(e, t);
  if (!ln)
    return;
  const edn_value *res = edn_map_getk(r, "result");
  const edn_value *pid = res ? edn_map_getk(res, "pid") : NULL;
  if (ln->state != NODE_ALIVE || edn_map_getk(r, "error") || !pid ||
      pid->type != EDN_INT)
    return;
  ln->pid = (pid_t)pid->u.integer;
  const edn_value *pp = edn_map_getk(res, "ppid"), *pg = edn_map_getk(res, "pgid");
  ln->said_ppid = pp && pp->type == EDN_INT ? (long)pp->u.integer : -1;
  ln->said_pgid = pg && pg->type == EDN_INT ? (long)pg->u.integer : -1;
  const edn_value *reps = edn_map_getk(r, "replies");
  for (size_t i = 0; reps && reps->type == EDN_VECTOR && i < reps->u.seq.len;
       i++) {
    struct tree_node *c = named_child(e, t, ln, reps->u.seq.items[i]);
    if (c)
      walk_fan(e, c, reps->u.seq.items[i]);
  }
}

/* Is `pi`'s parent as the model says? A node its parent started over ssh
 * (`host:`) is a child of an sshd session on its own host; any other
 * node, of its parent node's process (the root's: the harness). */
static const char *wrong_parent(const struct engine *e,
                                const struct proc_table *pt,
                                const struct live_node *ln,
                                const struct proc_info *pi) {
  if (node_host(ln->t)) {
    const struct proc_info *pp = proctree_find(pt, pi->ppid);
    return pp && !strncmp(pp->comm, "sshd", 4)
               ? NULL
               : "gives it a parent that is no sshd session on its host";
  }
  struct live_node *pl = ln->t->parent ? engine_live((struct engine *)e,
                                                     ln->t->parent) : NULL;
  pid_t want = pl ? pl->pid : e->self;
  return pi->ppid == want ? NULL : "gives it another parent";
}

/* Every live node's pid must be a live process on its host whose parent
 * is as the model says (wrong_parent()). */
static int cross_check(struct engine *e, const struct readings *rd) {
  int bad = 0;
  for (size_t i = 0; i < e->nnodes; i++) {
    struct live_node *ln = &e->nodes[i];
    if (ln->state != NODE_ALIVE || !ln->pid)
      continue; /* unclaimed: audit_topology.c says what is missing */
    const struct proc_table *pt = engine_reading(e, rd, ln->t);
    const struct proc_info *pi = proctree_find(pt, ln->pid);
    const char *wrong = !pi ? "has no such process"
                        : pi->state == 'Z' ? "shows a zombie"
                                           : wrong_parent(e, pt, ln, pi);
    const char *where = node_where(ln->t);
    if (wrong) {
      engine_step_fail(e, "tree: %s says its pid is %d, but /proc%s%s %s",
                       ln->t->path, ln->pid, where ? " on " : "",
                       where ? where : "", wrong);
      bad++;
      continue;
    }
    if ((ln->said_ppid >= 0 && ln->said_ppid != pi->ppid) ||
        (ln->said_pgid >= 0 && ln->said_pgid != pi->pgid)) {
      engine_step_fail(e, "tree: %s (pid %d) says :ppid %ld :pgid %ld, but "
                       "/proc says ppid %d pgid %d", ln->t->path, ln->pid,
                       ln->said_ppid, ln->said_pgid, (int)pi->ppid,
                       (int)pi->pgid);
      bad++;
    }
    if (ln->pid == ln->prev_pid && pi->start == ln->prev_start) {
      engine_step_fail(e, "tree: %s says its pid is %d, but that is the "
                       "process that should have died before its restart "
                       "(/proc start time %llu)", ln->t->path, ln->pid,
                       pi->start);
      bad++;
      continue;
    }
    ln->start = pi->start;
    if (!where) { /* orphans are attributed by local pids only */
      engine_seen(e, ln->pid, pi->start);
      continue;
    }
    engine_far_seen(e, ln->t, ln->pid, pi->start, false);
    const struct proc_info *pp = proctree_find(pt, pi->ppid);
    if (node_host(ln->t) && pp)
      engine_far_seen(e, ln->t, pp->pid, pp->start, true);
  }
  return bad ? -1 : 0;
}

/* The root did not answer the harness's :inspect (rc: -ETIMEDOUT, or its
 * stdout closed): say so, and how it ended. A root whose stdout closed is
 * usually exiting: give it a moment (bounded) to be reaped and to finish
 * its stderr, so the message can say how it ended instead of depending on
 * who was faster. Returns -1. */
static int unanswered(struct engine *e, int rc, double deadline) {
  double until = engine_now_ms() + 1000;
  if (until > deadline)
    until = deadline;
  while (rc != -ETIMEDOUT && (!engine_reap_root(e) || !e->err_eof) &&
         engine_now_ms() < until)
    if (engine_pump(e, 20, false) < 0)
      break;
  engine_reap_root(e);
  size_t n = e->errtext.len > 600 ? 600 : e->errtext.len;
  char how[64] = "";
  if (e->root_reaped && WIFEXITED(e->root_status))
    snprintf(how, sizeof how, ", it exited with status %d",
             WEXITSTATUS(e->root_status));
  else if (e->root_reaped)
    snprintf(how, sizeof how, ", it was killed by signal %d",
             WTERMSIG(e->root_status));
  engine_step_fail(e, "tree: the root did not answer a {:op :fan :req "
                   "{:op :inspect}} (%s)%s; its stderr: %.*s",
                   rc == -ETIMEDOUT ? "timed out" : "its stdout closed", how,
                   (int)n, e->errtext.ptr ? e->errtext.ptr + e->errtext.len - n : "");
  return -1;
}

/* {:op :fan :req {:op :inspect}}, in e->arena; NULL when out of memory. */
static edn_value *fan_inspect(struct engine *e) {
  edn_value *req = edn_coll(e->arena, EDN_MAP), *inner = edn_coll(e->arena, EDN_MAP);
  if (!req || !inner ||
      edn_map_putk(e->arena, inner, "op", edn_keyword(e->arena, "inspect")) < 0 ||
      edn_map_putk(e->arena, req, "op", edn_keyword(e->arena, "fan")) < 0 ||
      edn_map_putk(e->arena, req, "req", inner) < 0)
    return NULL;
  return req;
}

int engine_refresh(struct engine *e, double deadline) {
  if (engine_any_held(e))
    return 0;
  if (e->root_reaped || !proctree_alive(e->root_pid, e->root_start)) {
    engine_mark_subtree(e, e->s->root, NODE_GONE);
    e->map_dirty = false;
    return 0;
  }
  edn_value *req = fan_inspect(e), *rep = NULL;
  if (!req)
    return -1;
  int rc = engine_request(e, e->s->root, req, deadline, &rep);
  if (rc < 0)
    return rc == -EINTR ? rc : unanswered(e, rc, deadline);
  unclaim(e, e->s->root);
  walk_fan(e, e->s->root, rep);
  struct live_node *root = engine_live(e, e->s->root);
  if (root->state != NODE_ALIVE || root->pid != e->root_pid) {
    char *text = edn_to_string(rep);
    engine_step_fail(e, "tree: the root (pid %d) does not give its own pid in "
                     "its {:op :fan :req {:op :inspect}} reply: %.300s",
                     (int)e->root_pid, text ? text : "?");
    free(text);
    e->map_dirty = false;
    return -1;
  }
  struct readings rd;
  if (engine_read_hosts(e, &rd) < 0)
    return -1;
  rc = cross_check(e, &rd);
  engine_reap_orphans(e, &rd.v[0]);
  engine_readings_free(&rd);
  e->map_dirty = false;
  return rc;
}

int engine_ensure_map(struct engine *e, double deadline) {
  return e->map_dirty ? engine_refresh(e, deadline) : 0;
}

