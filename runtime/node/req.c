/* req.c — requests in flight and their replies: a request from stdin gets
 * exactly one reply line; a fan's parts are sub-requests that fill its slots.
 * Each top request owns one arena (from the node's pool) that its
 * sub-requests share; answering or dropping a top request frees it. A
 * child's reply is passed on as the bytes it came in, only its :id
 * spliced (a route's) or cut out (a fan's part), and a fan's reply is
 * put together from those bytes, not printed again. */
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

/* A zeroed request: a spare one if there is one. A node answering a
 * stream of requests frees one per reply and makes one per line; keeping
 * a few spares takes malloc and free out of that path. */
#if defined(__SANITIZE_ADDRESS__)
/* ASan sees a use after free only of memory that was freed: no spares. */
static struct req *req_alloc(struct node *n) {
  (void)n;
  return calloc(1, sizeof(struct req));
}

static void req_release(struct node *n, struct req *r) {
  (void)n;
  free(r);
}
#else
enum { REQ_SPARES_MAX = 64 };

static struct req *req_alloc(struct node *n) {
  struct req *r = n->spare;
  if (!r) return calloc(1, sizeof *r);
  n->spare = r->next;
  n->nspare--;
  memset(r, 0, sizeof *r);
  return r;
}

static void req_release(struct node *n, struct req *r) {
  if (n->nspare >= REQ_SPARES_MAX) {
    free(r);
    return;
  }
  r->next = n->spare;
  n->spare = r;
  n->nspare++;
}
#endif

void req_spares_free(struct node *n) {
  while (n->spare) {
    struct req *r = n->spare;
    n->spare = r->next;
    free(r);
  }
  n->nspare = 0;
}

struct req *req_new_top(struct node *n) {
  struct req *r = req_alloc(n);
  if (!r) return NULL;
  r->a = node_arena_get(n);
  if (!r->a) {
    req_release(n, r);
    return NULL;
  }
  r->n = n;
  r->top = true;
  link_req(n, r);
  n->ntop++;
  return r;
}

struct req *req_new_sub(struct req *parent, int slot) {
  struct req *r = req_alloc(parent->n);
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
  free(r->slots); /* and r->raw, in the same block */
  edn_buf_free(&r->rawbuf);
  if (r->top) {
    n->ntop--;
    node_arena_put(n, r->a);
  }
  req_release(n, r);
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

/* A reply line of a top request was queued on n->out, `before` the bytes
 * queued until then: the test switches that follow a reply. */
static void top_queued(struct node *n, size_t before) {
  if (n->faults & FAULT_SPACED) fault_spaced(n, outq_bytes(&n->out) - before);
  if (n->faults & FAULT_BABBLE) fault_babble(n);
}

/* The line {:id ID ...m} as the printer would write with_id's map: "{:id
 * ID", then m printed with its '{' turned into the space before its first
 * entry (or dropped, m being empty). No map is copied. Only for an integer
 * ID and an m without an :id of its own (with_id drops that one). */
static int queue_with_id(struct outq *q, const struct req *r,
                         const edn_value *m) {
  char idt[REQ_ID_TEXT];
  size_t k = req_id_text(r->id->u.integer, idt);
  const struct outq_piece head[] = {{"{:id ", 5}, {idt, k}};
  return outq_line_joined(q, head, 2, m, m->u.map.len ? ' ' : 0);
}

static void write_top(struct req *r, edn_value *m) {
  struct node *n = r->n;
  size_t before = outq_bytes(&n->out);
  if (!m || n->out_dead) return;
  int rc;
  if (r->id && r->id->type == EDN_INT && m->type == EDN_MAP &&
      !edn_map_getk(m, "id"))
    rc = queue_with_id(&n->out, r, m);
  else {
    edn_value *line = with_id(r->a, r->id, m);
    rc = line ? outq_line(&n->out, line) : -1;
  }
  if (rc == 0) top_queued(n, before);
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
  if (!r->top) { /* a route inside a fan: its part, as bytes */
    struct req *parent = r->parent;
    int slot = r->pslot;
    req_free(r);
    req_fill_child(parent, slot, m, line, sp);
    return;
  }
  /* A route's reply goes up as it came, but for :id. */
  if (!n->out_dead) {
    size_t before = outq_bytes(&n->out);
    int rc = splice_up(r, m, line, sp);
    if (rc == 1) rc = print_up(r, m);
    if (rc == 0) top_queued(n, before);
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

int req_fan_slots(struct req *r, size_t n) {
  /* one block: n value pointers, then n fan_raw (both 8-byte aligned) */
  r->slots = calloc(n, sizeof *r->slots + sizeof *r->raw);
  if (!r->slots) return -1;
  r->raw = (struct fan_raw *)(r->slots + n);
  r->nslots = r->remaining = n;
  return 0;
}

/* Slot i as the wire spells it: its bytes, or its value printed (a reply
 * this node made, an error, nil when it has none). */
static int put_slot(struct edn_buf *b, const struct req *r, size_t i) {
  static const edn_value nil = {.type = EDN_NIL};
  const struct fan_raw *x = &r->raw[i];
  if (x->set) return edn_buf_append(b, r->rawbuf.ptr + x->off, x->len);
  return edn_print(b, r->slots[i] ? r->slots[i] : &nil);
}

static int put_s(struct edn_buf *b, const char *s) {
  return edn_buf_append(b, s, strlen(s));
}

/* The fan's reply, {:node NAME :result R :replies [...]} with :id first
 * for a top request, spelled as edn_print spells that map (one space
 * between keys, values and items), the parts copied in. 0 or -1. */
static int fan_text(struct req *r, struct edn_buf *b) {
  static const edn_value nil = {.type = EDN_NIL};
  const char *name = r->n->spec.name;
  edn_value *nv = edn_string(r->a, name, strlen(name));
  if (!nv || put_s(b, "{") < 0) return -1;
  if (r->top && (put_s(b, ":id ") < 0 || edn_print(b, r->id ? r->id : &nil) < 0 ||
                 put_s(b, " ") < 0))
    return -1;
  if (put_s(b, ":node ") < 0 || edn_print(b, nv) < 0 || put_s(b, " :result ") < 0 ||
      put_slot(b, r, 0) < 0 || put_s(b, " :replies [") < 0)
    return -1;
  for (size_t i = 1; i < r->nslots; i++)
    if ((i > 1 && put_s(b, " ") < 0) || put_slot(b, r, i) < 0) return -1;
  return put_s(b, "]}");
}

static void fill_bytes(struct req *r, int slot, const struct outq_piece *p,
                       size_t np);

/* Once every slot is in: the reply line (a top fan), or this fan's bytes
 * into its parent's slot (a fan inside a fan). */
static void fan_finish(struct req *r) {
  struct node *n = r->n;
  struct edn_buf b = {0};
  int rc = fan_text(r, &b);
  if (r->top) {
    size_t before = outq_bytes(&n->out);
    if (rc == 0 && !n->out_dead && put_s(&b, "\n") == 0 &&
        outq_append(&n->out, b.ptr, b.len) == 0)
      top_queued(n, before);
    req_free(r);
  } else {
    struct req *parent = r->parent;
    int slot = r->pslot;
    struct outq_piece p = {b.ptr, b.len};
    req_free(r);
    if (rc == 0) fill_bytes(parent, slot, &p, 1);
    else req_fill(parent, slot, NULL);
  }
  edn_buf_free(&b);
}

/* Slot `slot` of r gets the bytes of the pieces, copied (the line they
 * are cut from is gone once the caller returns); out of memory, the slot
 * says nil. */
static void fill_bytes(struct req *r, int slot, const struct outq_piece *p,
                       size_t np) {
  if (slot < 0 || (size_t)slot >= r->nslots || r->remaining == 0) return;
  size_t off = r->rawbuf.len;
  bool ok = true;
  for (size_t i = 0; ok && i < np; i++)
    ok = edn_buf_append(&r->rawbuf, p[i].ptr, p[i].len) == 0;
  if (ok) r->raw[slot] = (struct fan_raw){off, r->rawbuf.len - off, true};
  else r->rawbuf.len = off;
  if (--r->remaining == 0) fan_finish(r);
}

/* The span of the i-th key or value of map m. */
static const struct edn_span *entry_span(const struct edn_spans *sp,
                                         const edn_value *m, size_t i,
                                         bool key) {
  const struct edn_entry *e = &m->u.map.entries[i];
  return edn_span_of(sp, key ? e->key : e->val);
}

/* m's bytes in line without its :id key and value, as two pieces: the
 * cut runs from the :id key to the next key, or (:id last) from the end
 * of the value before it, so what is left keeps the child's own spelling
 * and, from a watvm, is what printing m without :id writes. False (the
 * caller prints) when a span is missing, or m has no :id or only it. */
static bool without_id(const edn_value *m, const char *line,
                       const struct edn_spans *sp, struct outq_piece p[2]) {
  const struct edn_span *all = line ? edn_span_of(sp, m) : NULL;
  size_t i = 0, len = all ? m->u.map.len : 0;
  while (i < len && !edn_is_keyword(m->u.map.entries[i].key, "id")) i++;
  if (i == len || len == 1) return false; /* no :id, or nothing but it */
  const struct edn_span *from, *to;
  size_t cut, resume;
  if (i + 1 < len) { /* {... :id 5 :next ...}: up to the next key */
    from = entry_span(sp, m, i, true);
    to = entry_span(sp, m, i + 1, true);
    if (!from || !to) return false;
    cut = from->off;
    resume = to->off;
  } else { /* {... :prev v :id 5}: from the end of the value before */
    from = entry_span(sp, m, i - 1, false);
    to = entry_span(sp, m, i, false);
    if (!from || !to) return false;
    cut = from->off + from->len;
    resume = to->off + to->len;
  }
  p[0] = (struct outq_piece){line + all->off, cut - all->off};
  p[1] = (struct outq_piece){line + resume, all->off + all->len - resume};
  return true;
}

void req_fill_child(struct req *r, int slot, const edn_value *m,
                    const char *line, const struct edn_spans *sp) {
  struct outq_piece p[2];
  if (slot >= 0 && m->type == EDN_MAP && without_id(m, line, sp, p))
    fill_bytes(r, slot, p, 2);
  else
    req_fill(r, slot, map_without_id(r->a, m));
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
