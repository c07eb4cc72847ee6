/* req.c — requests in flight and their replies: a request from stdin gets
 * exactly one reply line; a fan's parts are sub-requests that fill its slots.
 * Each top request owns one arena (from the node's pool) that its
 * sub-requests share; answering or dropping a top request frees it. */
#include <stdlib.h>
#include <string.h>

#include "node.h"

static edn_arena *node_arena_get(struct node *n) {
  if (n->npool) return n->pool[--n->npool];
  return edn_arena_new();
}

static void node_arena_put(struct node *n, edn_arena *a) {
  if (!a) return;
  if (n->npool == n->cappool && n->npool < 64) {
    size_t cap = n->cappool ? n->cappool * 2 : 8;
    edn_arena **p = realloc(n->pool, cap * sizeof *p);
    if (p) {
      n->pool = p;
      n->cappool = cap;
    }
  }
  if (n->npool < n->cappool) {
    edn_arena_reset(a);
    n->pool[n->npool++] = a;
  } else {
    edn_arena_free(a);
  }
}

static void link_req(struct node *n, struct req *r) {
  r->next = n->reqs;
  if (n->reqs) n->reqs->prev = r;
  n->reqs = r;
}

static void unlink_req(struct node *n, struct req *r) {
  if (r->prev) r->prev->next = r->next;
  else n->reqs = r->next;
  if (r->next) r->next->prev = r->prev;
}

struct req *req_new_top(struct node *n) {
  struct req *r = calloc(1, sizeof *r);
  if (!r) return NULL;
  r->a = node_arena_get(n);
  if (!r->a) {
    free(r);
    return NULL;
  }
  r->n = n;
  r->top = true;
  link_req(n, r);
  n->ntop++;
  return r;
}

struct req *req_new_sub(struct req *parent, int slot) {
  struct req *r = calloc(1, sizeof *r);
  if (!r) return NULL;
  r->n = parent->n;
  r->a = parent->a;
  r->parent = parent;
  r->pslot = slot;
  link_req(r->n, r);
  return r;
}

static void req_free(struct req *r) {
  struct node *n = r->n;
  loop_timer_stop(n->loop, &r->timer);
  unlink_req(n, r);
  free(r->slots);
  if (r->top) {
    n->ntop--;
    node_arena_put(n, r->a);
  }
  free(r);
}

void req_drop(struct req *r) { req_free(r); }

edn_value *wat_error(edn_arena *a, const char *type, const char *msg) {
  edn_value *e = edn_coll(a, EDN_MAP);
  char kw[64] = "wat/";
  strncat(kw, type, sizeof kw - 5);
  if (!e) return NULL;
  edn_map_putk(a, e, "type", edn_keyword(a, kw));
  edn_map_putk(a, e, "message", edn_string(a, msg, strlen(msg)));
  return e;
}

edn_value *map_without_id(edn_arena *a, const edn_value *m) {
  edn_value *out = edn_coll(a, EDN_MAP);
  if (!out) return NULL;
  for (size_t i = 0; i < m->u.map.len; i++) {
    const struct edn_entry *e = &m->u.map.entries[i];
    if (edn_is_keyword(e->key, "id")) continue;
    /* m's keys are distinct already: no search for an equal one */
    edn_value *k = edn_copy(a, e->key), *v = edn_copy(a, e->val);
    if (!k || !v || edn_map_push(a, out, k, v) < 0) return NULL;
  }
  return out;
}

/* {:id ID ...m} with :id first, sharing m's entries. */
static edn_value *with_id(edn_arena *a, edn_value *id, const edn_value *m) {
  edn_value *out = edn_coll(a, EDN_MAP);
  if (!out || edn_map_putk(a, out, "id", id ? id : edn_nil(a)) < 0) return NULL;
  for (size_t i = 0; i < m->u.map.len; i++) {
    const struct edn_entry *e = &m->u.map.entries[i];
    if (edn_is_keyword(e->key, "id")) continue;
    if (edn_map_push(a, out, e->key, e->val) < 0) return NULL;
  }
  return out;
}

static void write_top(struct req *r, edn_value *m) {
  struct node *n = r->n;
  edn_value *line = m ? with_id(r->a, r->id, m) : NULL;
  if (line && !n->out_dead && outq_line(&n->out, line) == 0 &&
      (n->faults & FAULT_BABBLE))
    fault_babble(n);
}

void req_reply(struct req *r, edn_value *m) {
  if (r->top) {
    write_top(r, m);
    req_free(r);
    return;
  }
  struct req *parent = r->parent;
  int slot = r->pslot;
  req_free(r);
  req_fill(parent, slot, m);
}

size_t req_id_text(int64_t id, char buf[REQ_ID_TEXT]) {
  /* as edn_print writes an integer: decimal, '-' if negative; by hand, as
   * snprintf costs more than the rest of a splice */
  uint64_t m = id < 0 ? 0 - (uint64_t)id : (uint64_t)id;
  char digits[REQ_ID_TEXT];
  size_t k = 0, n = 0;
  do {
    digits[k++] = (char)('0' + m % 10);
    m /= 10;
  } while (m);
  if (id < 0) buf[n++] = '-';
  while (k) buf[n++] = digits[--k];
  return n;
}

/* r's reply line from its child's: the bytes the child wrote, without the
 * blanks around them, with only the :id value swapped for r's (so a big
 * :fan reply is copied, not printed again). Returns 0, -1 out of memory,
 * or 1 when it cannot be spliced: no span for the reply or for an :id. */
static int splice_up(struct req *r, const edn_value *m, const char *line,
                     const struct edn_spans *sp) {
  const struct edn_span *all = edn_span_of(sp, m);
  const struct edn_span *id = edn_span_of(sp, edn_map_getk(m, "id"));
  char idt[REQ_ID_TEXT];
  if (!line || !all || !id || r->id->type != EDN_INT) return 1;
  size_t after = id->off + id->len;
  struct outq_piece p[] = {{line + all->off, id->off - all->off},
                           {idt, req_id_text(r->id->u.integer, idt)},
                           {line + after, all->off + all->len - after},
                           {"\n", 1}};
  return outq_pieces(&r->n->out, p, 4) < 0 ? -1 : 0;
}

/* The same by printing: the reply as parsed, :id replaced in its place
 * (or put first when it has none), without a copy. */
static int print_up(struct req *r, edn_value *m) {
  struct node *n = r->n;
  if (edn_map_getk(m, "id")) edn_map_putk(n->scratch, m, "id", r->id);
  return outq_line(&n->out, edn_map_getk(m, "id") ? m : with_id(r->a, r->id, m));
}

void req_pass_up(struct req *r, edn_value *m, const char *line,
                 const struct edn_spans *sp) {
  struct node *n = r->n;
  if (!r->top) {
    req_reply(r, map_without_id(r->a, m));
    return;
  }
  /* A route's reply goes up as it came, but for :id. */
  if (!n->out_dead) {
    int rc = splice_up(r, m, line, sp);
    if (rc == 1) rc = print_up(r, m);
    if (rc == 0 && (n->faults & FAULT_BABBLE)) fault_babble(n);
  }
  req_free(r);
}

void req_fail(struct req *r, const char *type, const char *msg) {
  edn_arena *a = r->a;
  edn_value *m = edn_coll(a, EDN_MAP);
  if (m) {
    edn_map_putk(a, m, "node", edn_string(a, r->n->spec.name,
                                          strlen(r->n->spec.name)));
    edn_map_putk(a, m, "error", wat_error(a, type, msg));
  }
  req_reply(r, m);
}

/* The fan's reply once every slot is in: {:node :result :replies [...]}. */
static void fan_finish(struct req *r) {
  edn_arena *a = r->a;
  edn_value *m = edn_coll(a, EDN_MAP);
  edn_value *v = edn_coll(a, EDN_VECTOR);
  if (m && v) {
    const char *name = r->n->spec.name;
    edn_map_putk(a, m, "node", edn_string(a, name, strlen(name)));
    edn_map_putk(a, m, "result", r->slots[0] ? r->slots[0] : edn_nil(a));
    for (size_t i = 1; i < r->nslots; i++)
      edn_push(a, v, r->slots[i] ? r->slots[i] : edn_nil(a));
    edn_map_putk(a, m, "replies", v);
  }
  req_reply(r, m);
}

void req_fill(struct req *r, int slot, edn_value *m) {
  if (slot < 0) {
    req_reply(r, m);
    return;
  }
  if ((size_t)slot >= r->nslots || r->remaining == 0) return;
  r->slots[slot] = m;
  if (--r->remaining == 0) fan_finish(r);
}
