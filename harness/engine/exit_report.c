/* exit_report.c — how a node's exit is learnt from outside the node: the
 * child-exit map its nearest live ancestor keeps in `:stats :exits` (an
 * escalation nests the exit it escalates in :panic :cause), or the root's
 * own panic line on its stderr. */
#define _GNU_SOURCE
#include <string.h>

#include "internal.h"

static const edn_value *find_exit(const edn_value *v, const char *name,
                                  pid_t pid, int depth) {
  if (!v || v->type != EDN_MAP || depth > 4096)
    return NULL;
  const edn_value *n = edn_map_getk(v, "node"), *p = edn_map_getk(v, "pid");
  if (n && n->type == EDN_STRING && !strcmp(n->u.text.ptr, name) &&
      edn_map_getk(v, "status") &&
      (pid <= 0 || (p && p->type == EDN_INT && p->u.integer == pid)))
    return v;
  const edn_value *panic = edn_map_getk(v, "panic");
  const edn_value *cause = panic ? edn_map_getk(panic, "cause") : NULL;
  const edn_value *inner = cause ? edn_map_getk(cause, "wat/child-exit") : NULL;
  return find_exit(inner, name, pid, depth + 1);
}

const edn_value *engine_next_root_panic(struct engine *e, size_t *at) {
  const char *end = e->errtext.ptr + e->errtext.len;
  while (e->errtext.ptr && *at < e->errtext.len) {
    const char *p = e->errtext.ptr + *at;
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
    *at += len + 1;
    edn_value *v = NULL;
    struct edn_error err;
    if (edn_read(e->arena, p, len, NULL, &v, &err) == EDN_OK &&
        edn_map_getk(v, "wat/panic"))
      return v;
  }
  return NULL;
}

/* The panic maps in the root's stderr, as child-exit-like maps. */
static const edn_value *find_exit_in_stderr(struct engine *e, const char *name,
                                            pid_t pid) {
  size_t at = 0;
  for (const edn_value *v; (v = engine_next_root_panic(e, &at));) {
    const edn_value *cause = edn_map_getk(edn_map_getk(v, "wat/panic"), "cause");
    const edn_value *inner = cause ? edn_map_getk(cause, "wat/child-exit") : NULL;
    const edn_value *hit = find_exit(inner, name, pid, 0);
    if (hit)
      return hit;
  }
  return NULL;
}

const edn_value *engine_exit_report(struct engine *e, const struct tree_node *n,
                                    pid_t pid, double deadline,
                                    const struct tree_node **from) {
  for (const struct tree_node *a = n->parent; a; a = a->parent) {
    struct live_node *al = engine_live(e, a);
    if (!al || !al->pid || al->held ||
        !host_alive(engine_host(e, a), al->pid, al->start))
      continue;
    edn_value *req = edn_coll(e->arena, EDN_MAP), *rep = NULL;
    if (!req || edn_map_putk(e->arena, req, "op",
                             edn_keyword(e->arena, "stats")) < 0)
      return NULL;
    if (engine_request(e, a, req, deadline, &rep) < 0)
      return NULL;
    const edn_value *exits = edn_map_getk(rep, "exits");
    for (size_t i = 0; exits && exits->type == EDN_VECTOR && i < exits->u.seq.len;
         i++) {
      const edn_value *hit = find_exit(exits->u.seq.items[i], n->name, pid, 0);
      if (hit) {
        if (from)
          *from = a;
        return hit;
      }
    }
    return NULL; /* the nearest live ancestor has not seen it (yet) */
  }
  if (from)
    *from = NULL;
  return find_exit_in_stderr(e, n->name, pid);
}

