/* nodes.c — the node table: one entry per node of the scenario's tree
 * (pending until a step spawns it), its state, pid and start time, sorted
 * for bsearch; and every pid the scenario ever knew (orphans adopted by
 * the harness are attributed by it). */
#define _GNU_SOURCE
#include <stdlib.h>

#include "internal.h"

static int cmp_live(const void *a, const void *b) {
  const struct live_node *x = a, *y = b;
  return (x->t > y->t) - (x->t < y->t);
}

struct live_node *engine_live(struct engine *e, const struct tree_node *t) {
  struct live_node key = {.t = (struct tree_node *)t};
  return bsearch(&key, e->nodes, e->nnodes, sizeof key, cmp_live);
}

void engine_mark_subtree(struct engine *e, struct tree_node *t,
                         enum node_state st) {
  struct live_node *ln = engine_live(e, t);
  if (ln) {
    if (st == NODE_GONE && ln->state == NODE_PENDING)
      return; /* never was */
    ln->state = st;
    if (st != NODE_ALIVE)
      ln->held = false;
  }
  for (size_t i = 0; i < t->nchildren; i++)
    engine_mark_subtree(e, t->children[i], st);
}

bool engine_any_held(const struct engine *e) {
  for (size_t i = 0; i < e->nnodes; i++)
    if (e->nodes[i].held || e->nodes[i].edge_held)
      return true; /* a held hop stops a :fan as a held node does */
  return false;
}

static void fill_nodes(struct engine *e, struct tree_node *t, size_t *k) {
  /* nodes a step spawns (a spawn step, or a :spawn sent) come later */
  e->nodes[(*k)++] = (struct live_node){
      .t = t, .state = t->spawn_step >= 0 ? NODE_PENDING : NODE_ALIVE};
  for (size_t i = 0; i < t->nchildren; i++)
    fill_nodes(e, t->children[i], k);
}

int nodes_init(struct engine *e) {
  size_t n = tree_count(e->s->root), k = 0;
  e->nodes = calloc(n, sizeof *e->nodes);
  if (!e->nodes)
    return -1;
  fill_nodes(e, e->s->root, &k);
  e->nnodes = n;
  qsort(e->nodes, n, sizeof *e->nodes, cmp_live);
  return 0;
}

void engine_seen(struct engine *e, pid_t pid, unsigned long long start) {
  for (size_t i = 0; i < e->nseen; i++)
    if (e->seen[i] == pid && e->seen_start[i] == start)
      return;
  if (e->nseen == e->capseen) {
    size_t cap = e->capseen ? e->capseen * 2 : 256;
    pid_t *v = realloc(e->seen, cap * sizeof *v);
    if (!v)
      return;
    e->seen = v;
    unsigned long long *s = realloc(e->seen_start, cap * sizeof *s);
    if (!s)
      return;
    e->seen_start = s;
    e->capseen = cap;
  }
  e->seen[e->nseen] = pid;
  e->seen_start[e->nseen++] = start;
}

bool engine_orphan_is_ours(const struct engine *e, const struct proc_info *pi,
                           bool alone) {
  if (pi->ppid != e->self || pi->pid == e->root_pid)
    return false;
  for (size_t i = 0; i < e->nhosts; i++) /* our own probes' ssh clients */
    if (e->hosts[i].h && host_ssh_pid(e->hosts[i].h) == pi->pid)
      return false;
  if (alone && !session_other_root(pi->pid, e->root_pid))
    return true;
  for (size_t j = 0; j < e->nseen; j++)
    if (e->seen[j] == pi->pid && e->seen_start[j] == pi->start)
      return true;
  return false;
}

