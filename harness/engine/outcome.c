/* outcome.c — what became of each node, for the pictures of a run.
 *
 * After the audits, every node of the tree gets one outcome: FAILED when a
 * failed check's evidence names it, else KILLED or CRASHED when the
 * scenario did that to it (a node whose policy escalates a child's crash
 * or kill crashes too), else PASSED. Evidence lines name nodes by path
 * ("L2b/L3c"), so a node is "named" when its path appears as a whole token:
 * not inside a longer name ("L2" is not named by "L2-1" nor by "L2/L3"). */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '/' ||
         c == '.';
}

bool result_names_node(const char *text, size_t len, const char *path) {
  size_t n = strlen(path);
  if (!text || !n)
    return false;
  for (const char *p = text, *end = text + len; (size_t)(end - p) >= n; p++) {
    p = memmem(p, (size_t)(end - p), path, n);
    if (!p)
      return false;
    bool left = p == text || !name_char(p[-1]);
    bool right = p + n == end || !name_char(p[n]);
    if (left && right)
      return true;
  }
  return false;
}

static unsigned failed_bits(const struct engine *e, const char *path) {
  unsigned bits = 0;
  for (int p = 0; p < PROP_COUNT; p++)
    if (e->fail[p] && result_names_node(e->ev[p].ptr, e->ev[p].len, path))
      bits |= 1u << p;
  const char *st = e->r->steps.evidence;
  if (e->steps_failed && st && result_names_node(st, strlen(st), path))
    bits |= 1u << PROP_COUNT;
  return bits;
}

/* Fill the result of t and its subtree (depth-first). Returns whether t
 * died of a crash: the scenario panicked or killed it, or it escalated a
 * child's crash (on_child_exit: escalate), which makes it crash too. */
static bool add_node(struct engine *e, struct tree_node *t) {
  struct scenario_result *r = e->r;
  struct node_result *nr = &r->nodes[r->nnodes];
  struct live_node *ln = engine_live(e, t);
  nr->path = strdup(t->path);
  if (!nr->path)
    return false;
  r->nnodes++;
  nr->pid = ln ? ln->pid : 0;
  nr->signal = ln ? ln->kill_signal : 0;
  nr->failed = failed_bits(e, t->path);
  bool child_died = false;
  for (size_t i = 0; i < t->nchildren; i++)
    child_died |= add_node(e, t->children[i]);
  bool escalated = child_died && t->on_child_exit == POLICY_ESCALATE;
  nr->crashed = (ln && ln->panicked) || escalated;
  if (nr->failed)
    nr->outcome = OUTCOME_FAILED;
  else if (ln && ln->kill_signal)
    nr->outcome = OUTCOME_KILLED;
  else if (nr->crashed)
    nr->outcome = OUTCOME_CRASHED;
  else
    nr->outcome = OUTCOME_PASSED;
  return (ln && (ln->kill_signal || ln->panicked)) || escalated;
}

void engine_outcomes(struct engine *e) {
  struct scenario_result *r = e->r;
  r->nnodes = 0;
  r->nodes = calloc(tree_count(e->s->root), sizeof *r->nodes);
  if (r->nodes)
    add_node(e, e->s->root);
}
