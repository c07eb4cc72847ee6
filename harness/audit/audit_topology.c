/* audit_topology.c — the topology property: the live processes form
 * exactly the model's tree. From the root's process down, every node the
 * model holds alive must be a live child process of its parent's process,
 * and every child process of a node's process must be a node the model
 * holds alive: none missing (a child the runtime never started, a
 * restarted subtree that came back without its children), none extra,
 * none a zombie. The observed tree is /proc's (parent links, states,
 * start times); which pid is which child comes from the node's own
 * :inspect, a claim the match checks, never the verdict: a declared child
 * no :inspect names and no process stands for is missing, whatever the
 * node says about itself.
 *
 * Judged at the start, after each step that changes the tree and at the
 * end. A restart or a cascade may still be in flight when a step ends, so
 * the reading is repeated (the claims learnt again every 200 ms) for up
 * to TOPOLOGY_SETTLE_MS plus the scheduling slack, counted from the change
 * (the step's end), before it fails. A tree still wrong when the audit
 * begins after that (cascade and containment judged the step's crash
 * first, waiting out bounds of their own) is read once more with fresh
 * claims and then judged: waiting the settle time again would give the
 * tree no chance it did not have. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"

/* How long a tree that is changing may take to match its model: a
 * restart's spawn, a subtree's cascade (each node's grace is separate:
 * cascade judges that), on a loaded machine. */
#define TOPOLOGY_SETTLE_MS 2000
#define TOPOLOGY_REFRESH_MS 200

/* One reading of /proc against the model: its evidence lines. */
struct reading {
  struct edn_buf ev;
  size_t bad, nodes;
};

static void note(struct reading *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void note(struct reading *r, const char *fmt, ...) {
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (n > 0 && edn_buf_append(&r->ev, line, strnlen(line, sizeof line)) == 0)
    edn_buf_append(&r->ev, "\n", 1);
  r->bad++;
}

/* The child processes of `pid` in the table (zombies included), into a
 * malloc'ed array the caller frees; the count, or -1 without memory. */
static long children_of(const struct proc_table *pt, pid_t pid,
                        const struct proc_info ***out) {
  size_t n = proctree_nchildren(pt, pid), k = 0;
  *out = calloc(n + 1, sizeof **out);
  if (!*out)
    return -1;
  for (size_t i = 0; i < pt->n && k < n; i++)
    if (pt->v[i].ppid == pid)
      (*out)[k++] = &pt->v[i];
  return (long)k;
}

/* The child process of `me` that stands for model node `c`: the pid its
 * :inspect claims, alive, with the start time seen when the claim was
 * checked. -1 when none. */
static long find_claimed(const struct live_node *ln,
                         const struct proc_info *const *kids, long nk,
                         const bool *used) {
  for (long i = 0; ln->pid && i < nk; i++)
    if (!used[i] && kids[i]->pid == ln->pid && kids[i]->state != 'Z' &&
        (!ln->start || kids[i]->start == ln->start))
      return i;
  return -1;
}

static void judge_node(struct engine *e, const struct readings *rd,
                       const struct tree_node *t, const struct proc_info *me,
                       struct reading *r);

/* The node the model holds gone whose last known process `pi` is. */
static const struct tree_node *gone_node(const struct engine *e,
                                         const struct proc_info *pi) {
  for (size_t i = 0; i < e->nnodes; i++)
    if (e->nodes[i].state == NODE_GONE && e->nodes[i].pid == pi->pid &&
        (!e->nodes[i].start || e->nodes[i].start == pi->start))
      return e->nodes[i].t;
  return NULL;
}

/* A child t started over ssh: on t's host, one child process of me is
 * its ssh client (the near half of the edge, no node); on c's host, its
 * claimed process, a child of an sshd session (the far half). */
static void judge_far_child(struct engine *e, const struct readings *rd,
                            const struct tree_node *c,
                            const struct proc_info *me,
                            const struct proc_info *const *kids, long nk,
                            bool *used, struct reading *r) {
  const struct live_node *ln = engine_live(e, c);
  long via = -1;
  for (long i = 0; i < nk && via < 0; i++)
    if (!used[i] && kids[i]->state != 'Z' && !strcmp(kids[i]->comm, "ssh"))
      via = i;
  if (via < 0) {
    note(r, "%s: declared on %s, but %s (pid %d) has no ssh client child "
         "for it", c->path, node_host(c), c->parent->path, (int)me->pid);
    return;
  }
  used[via] = true;
  const struct proc_table *pt = engine_reading(e, rd, c);
  const struct proc_info *pi = ln->pid ? proctree_find(pt, ln->pid) : NULL;
  const struct proc_info *pp = pi ? proctree_find(pt, pi->ppid) : NULL;
  if (!pi || pi->state == 'Z' || (ln->start && pi->start != ln->start) ||
      !pp || strncmp(pp->comm, "sshd", 4)) {
    note(r, "%s: declared on %s, no process there under an sshd session "
         "with that place (%s)", c->path, node_host(c),
         ln->pid ? "its :inspect claims a pid its host does not show so"
                 : "no :inspect names it");
    return;
  }
  judge_node(e, rd, c, pi, r);
}

/* t's model children against me's child processes; what is left over in
 * kids (not used) is noted by the caller. */
static void judge_children(struct engine *e, const struct readings *rd,
                           const struct tree_node *t,
                           const struct proc_info *me,
                           const struct proc_info *const *kids, long nk,
                           bool *used, struct reading *r) {
  for (size_t j = 0; j < t->nchildren; j++) {
    const struct tree_node *c = t->children[j];
    const struct live_node *ln = engine_live(e, c);
    if (!ln || ln->state != NODE_ALIVE)
      continue;
    if (node_host(c)) {
      judge_far_child(e, rd, c, me, kids, nk, used, r);
      continue;
    }
    long k = find_claimed(ln, kids, nk, used);
    if (k >= 0) {
      used[k] = true;
      judge_node(e, rd, c, kids[k], r);
    } else if (ln->pid) {
      note(r, "%s: declared, no process under %s (pid %d) with that place "
           "(its :inspect claims pid %d, which /proc does not show as a "
           "live child of %s)", c->path, t->path, (int)me->pid,
           (int)ln->pid, t->path);
    } else {
      note(r, "%s: declared, no process under %s (pid %d) with that place "
           "(no :inspect names it)", c->path, t->path, (int)me->pid);
    }
  }
}

static void judge_node(struct engine *e, const struct readings *rd,
                       const struct tree_node *t, const struct proc_info *me,
                       struct reading *r) {
  const struct proc_table *pt = engine_reading(e, rd, t);
  const struct proc_info **kids = NULL;
  long nk = children_of(pt, me->pid, &kids);
  bool *used = nk >= 0 ? calloc((size_t)nk + 1, sizeof *used) : NULL;
  r->nodes++;
  if (!used) {
    free(kids);
    e->internal_error = true;
    return;
  }
  judge_children(e, rd, t, me, kids, nk, used, r);
  for (long i = 0; i < nk; i++) {
    if (used[i])
      continue;
    const struct tree_node *was = gone_node(e, kids[i]);
    if (kids[i]->state == 'Z')
      note(r, "pid %d under %s (pid %d) is a zombie", (int)kids[i]->pid,
           t->path, (int)me->pid);
    else if (was)
      note(r, "%s (pid %d) is still there under %s, but by the steps and "
           "the policies it is gone", was->path, (int)kids[i]->pid, t->path);
    else
      note(r, "pid %d under %s (pid %d): a process the model of the tree "
           "does not have (state %c)", (int)kids[i]->pid, t->path,
           (int)me->pid, kids[i]->state);
  }
  free(used);
  free(kids);
}

/* One reading: the root's process, then everything below it. */
static void read_tree(struct engine *e, const struct readings *rd,
                      struct reading *r) {
  const struct proc_table *pt = &rd->v[0]; /* the root is local */
  r->ev.len = 0;
  r->bad = r->nodes = 0;
  const struct live_node *root = engine_live(e, e->s->root);
  if (!root || root->state != NODE_ALIVE)
    return; /* the model's tree has ended: cascade judges what is left */
  const struct proc_info *me = proctree_find(pt, e->root_pid);
  if (!me || me->state == 'Z' || (e->root_start && me->start != e->root_start)) {
    note(r, "%s: declared, its process (pid %d) is %s", e->s->root->path,
         (int)e->root_pid, !me ? "gone" : me->state == 'Z' ? "a zombie"
                                                            : "another one");
    return;
  }
  judge_node(e, rd, e->s->root, me, r);
}

/* The longest restart backoff in t's subtree: a child waiting it out is
 * alive in the model with no process yet. */
static long max_backoff(const struct tree_node *t) {
  long m = t->backoff_max_ms > 0 ? t->backoff_max_ms : 0;
  for (size_t i = 0; i < t->nchildren; i++) {
    long c = max_backoff(t->children[i]);
    m = c > m ? c : m;
  }
  return m;
}

/* Read until the tree matches its model, or the settle time counted from
 * `since` is over and a reading with claims learnt after the audit began
 * (or none can be: a held node answers nothing) still does not. */
static void settle(struct engine *e, struct reading *r, double since) {
  double t0 = engine_now_ms(), refreshed = t0;
  double deadline = since + TOPOLOGY_SETTLE_MS + CASCADE_SLACK_MS +
                    (double)max_backoff(e->s->root);
  bool fresh = false;
  struct readings rd = {0};
  for (;;) {
    engine_readings_free(&rd);
    if (engine_read_hosts(e, &rd) < 0)
      break;
    read_tree(e, &rd, r);
    double now = engine_now_ms();
    bool over = now > deadline && (fresh || engine_any_held(e));
    if (!r->bad || over || e->interrupted)
      break;
    if ((now - refreshed >= TOPOLOGY_REFRESH_MS || now > deadline) &&
        !engine_any_held(e)) {
      e->map_dirty = true; /* a restarted node's claim may be new */
      /* the request gets the step's bound, not what is left of the
       * settle time: a refresh begun just before that ran out would
       * read as a root that does not answer */
      if (engine_ensure_map(e, now + (double)e->s->timeout_ms) == -EINTR)
        break;
      refreshed = engine_now_ms();
      fresh = true;
      continue; /* read again at once with what was just learnt */
    }
    if (engine_pump(e, engine_poll_ms(now - t0, deadline - now), false) < 0)
      break;
  }
  engine_readings_free(&rd);
}

void audit_topology(struct engine *e, const char *when, double since) {
  /* once topology failed, the first failure is the one to report: later
   * readings would only wait out the settle time again */
  if (!engine_listed(e, PROP_TOPOLOGY) || e->fail[PROP_TOPOLOGY] ||
      e->interrupted)
    return;
  double t0 = engine_now_ms();
  if (engine_ensure_map(e, t0 + (double)e->s->timeout_ms) == -EINTR)
    return;
  struct reading r = {0};
  settle(e, &r, since);
  const char *p = r.ev.ptr, *end = p ? p + r.ev.len : NULL;
  while (r.bad && p && p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    int len = (int)(nl ? nl - p : end - p);
    engine_fail(e, PROP_TOPOLOGY, "topology: %s: %.*s", when, len, p);
    p = nl ? nl + 1 : end;
  }
  if (!e->fail[PROP_TOPOLOGY])
    engine_summary(e, PROP_TOPOLOGY, "%zu nodes matched their processes "
                   "(%s, %.0f ms)", r.nodes, when, engine_now_ms() - t0);
  edn_buf_free(&r.ev);
  e->ms[PROP_TOPOLOGY] += engine_now_ms() - t0;
}
