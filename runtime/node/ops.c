/* ops.c — the op table of docs/node-contract.md and one handler per op. A handler gets a
 * request and its message and answers it, now or later, exactly once (or
 * drops it: :panic). Framing and id checks happen in ops_handle_line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node.h"
#include "procfs.h"

/* One request of this node, by its :op (below); :route and :fan recurse. */
static void ops_dispatch(struct req *r, edn_value *msg);

typedef void op_fn(struct req *r, edn_value *msg);

static edn_value *reply_map(struct req *r) {
  edn_value *m = edn_coll(r->a, EDN_MAP);
  const char *name = r->n->spec.name;
  if (m) edn_map_putk(r->a, m, "node", edn_string(r->a, name, strlen(name)));
  return m;
}

static edn_value *str(edn_arena *a, const char *s) {
  return edn_string(a, s, strlen(s));
}

static void op_ping(struct req *r, edn_value *msg) {
  (void)msg;
  edn_value *m = reply_map(r);
  if (m) edn_map_putk(r->a, m, "pong", edn_bool(r->a, true));
  req_reply(r, m);
}

static void op_echo(struct req *r, edn_value *msg) {
  edn_value *body = edn_map_getk(msg, "body");
  edn_value *m = reply_map(r);
  if (m) edn_map_putk(r->a, m, "body", body ? body : edn_nil(r->a));
  req_reply(r, m);
}

/* A vector or list of strings, or NULL. */
static bool is_path(const edn_value *p) {
  if (!p || (p->type != EDN_VECTOR && p->type != EDN_LIST)) return false;
  for (size_t i = 0; i < p->u.seq.len; i++)
    if (p->u.seq.items[i]->type != EDN_STRING) return false;
  return true;
}

static edn_value *request(edn_arena *a, const char *op) {
  edn_value *m = edn_coll(a, EDN_MAP);
  if (m) edn_map_putk(a, m, "id", edn_nil(a)); /* set by child_send; first */
  if (m) edn_map_putk(a, m, "op", edn_keyword(a, op));
  return m;
}

static void fail_child(struct req *r, const char *type, const char *fmt,
                       const char *child) {
  char msg[256];
  snprintf(msg, sizeof msg, fmt, child);
  edn_value *m = reply_map(r);
  edn_value *e = wat_error(r->a, type, msg);
  if (m && e) {
    edn_map_putk(r->a, e, "child", str(r->a, child));
    edn_map_putk(r->a, m, "error", e);
  }
  req_reply(r, m);
}

/* The request a route sends c, as the bytes it came in (fwd.c): 0 sent,
 * -1 out of memory, 1 when inner has no bytes to pass (built, or nested
 * deeper than the line's spans go). rest: the path after c, NULL at the
 * last hop. */
static int route_bytes(struct req *r, struct child *c, const edn_value *rest,
                       const edn_value *inner) {
  struct fwd f;
  int rc = fwd_route(&f, r->n, r->a, rest, inner);
  return rc == 0 ? child_send_bytes(c, &f, r, -1) : rc;
}

/* The same request as a value, printed: 0 or -1. */
static int route_value(struct req *r, struct child *c, edn_value *rest,
                       edn_value *inner) {
  edn_value *fwd = inner;
  if (rest && (fwd = request(r->a, "route"))) {
    edn_map_putk(r->a, fwd, "path", rest);
    edn_map_putk(r->a, fwd, "req", inner);
  }
  return fwd ? child_send(c, fwd, r, -1, r->a) : -1;
}

static void op_route(struct req *r, edn_value *msg) {
  edn_value *path = edn_map_getk(msg, "path");
  edn_value *inner = edn_map_getk(msg, "req");
  if (!is_path(path) || !inner || inner->type != EDN_MAP) {
    req_fail(r, "bad-request", ":route needs :path (vector of names) and :req (a map)");
    return;
  }
  if (path->u.seq.len == 0) {
    ops_dispatch(r, inner);
    return;
  }
  const char *name = path->u.seq.items[0]->u.text.ptr;
  struct child *c = child_find(r->n, name);
  if (!c) {
    fail_child(r, "no-such-child", "no child named %s", name);
    return;
  }
  if (c->restarting) {
    fail_child(r, "restarting", "child %s is restarting", name);
    return;
  }
  if (!c->alive) {
    fail_child(r, "dead", "child %s is dead", name);
    return;
  }
  edn_value *rest = NULL;
  if (path->u.seq.len > 1 && (rest = edn_coll(r->a, EDN_VECTOR)))
    for (size_t i = 1; i < path->u.seq.len; i++)
      edn_push(r->a, rest, path->u.seq.items[i]);
  int rc = path->u.seq.len > 1 && !rest ? -1 : route_bytes(r, c, rest, inner);
  if (rc == 1) rc = route_value(r, c, rest, inner);
  if (rc < 0) req_fail(r, "bad-request", "out of memory");
}

/* A fan's entry for a child that cannot answer: {:node NAME :error
 * {:type :wat/restarting}} while it waits to start again, else :wat/dead. */
static edn_value *dead_entry(edn_arena *a, const struct child *c) {
  edn_value *m = edn_coll(a, EDN_MAP);
  const char *type = c->restarting ? "restarting" : "dead";
  char msg[256];
  snprintf(msg, sizeof msg, "child %s is %s", c->name, type);
  if (m) {
    edn_map_putk(a, m, "node", str(a, c->name));
    edn_map_putk(a, m, "error", wat_error(a, type, msg));
  }
  return m;
}

/* The fan's request to every child that can take it, as bytes (f) or
 * printed (fwd, when f is NULL); the others' slots are filled now. */
static void fan_out(struct req *r, const struct fwd *f, edn_value *fwd) {
  struct node *n = r->n;
  for (size_t i = 0; i < n->nkids; i++) {
    struct child *c = n->kids[i];
    int slot = (int)i + 1;
    if (c->alive && !c->restarting &&
        (f ? child_send_bytes(c, f, r, slot) : child_send(c, fwd, r, slot, r->a)) == 0)
      continue;
    r->slots[slot] = dead_entry(r->a, c);
    r->remaining--;
  }
}

static void op_fan(struct req *r, edn_value *msg) {
  struct node *n = r->n;
  edn_value *inner = edn_map_getk(msg, "req");
  if (!inner) inner = request(r->a, "ping");
  if (!inner || inner->type != EDN_MAP) {
    req_fail(r, "bad-request", ":fan's :req must be a map");
    return;
  }
  int slots = req_fan_slots(r, 1 + n->nkids);
  /* A leaf (most of a tree's nodes) forwards nothing: build no request.
   * Else the request goes as bytes, the :req as it came (raw == 0), or
   * printed when it has no bytes to pass (raw == 1). */
  struct fwd f;
  int raw = n->nkids ? fwd_fan(&f, n, inner) : 1;
  edn_value *fwd = n->nkids && raw == 1 ? request(r->a, "fan") : NULL;
  if (slots < 0 || (raw == 1 && n->nkids && !fwd)) {
    req_fail(r, "bad-request", "out of memory");
    return;
  }
  if (fwd) edn_map_putk(r->a, fwd, "req", inner);
  fan_out(r, raw == 0 ? &f : NULL, fwd);
  /* Our own part last: it may complete (and free) r. */
  struct req *self = req_new_sub(r, 0);
  if (!self) {
    req_fill(r, 0, NULL);
    return;
  }
  ops_dispatch(self, inner);
}

/* :ms as a non-negative integer, or -1. */
static int64_t get_ms(edn_value *msg) {
  edn_value *ms = edn_map_getk(msg, "ms");
  if (!ms || ms->type != EDN_INT || ms->u.integer < 0) return -1;
  return ms->u.integer;
}

static void sleep_done(void *data) {
  struct req *r = data;
  edn_value *m = reply_map(r);
  if (m) edn_map_putk(r->a, m, "slept", edn_int(r->a, r->ms));
  req_reply(r, m);
}

static void op_sleep(struct req *r, edn_value *msg) {
  r->ms = get_ms(msg);
  if (r->ms < 0) {
    req_fail(r, "bad-request", ":sleep needs :ms, a non-negative integer");
    return;
  }
  loop_timer_start(r->n->loop, &r->timer, r->ms, sleep_done, r);
}

static void hold_over(void *data) {
  struct node *n = data;
  n->hold_until_ms = 0; /* the pump serves stdin again */
}

static void op_hold(struct req *r, edn_value *msg) {
  struct node *n = r->n;
  int64_t ms = get_ms(msg);
  if (ms < 0) {
    req_fail(r, "bad-request", ":hold needs :ms, a non-negative integer");
    return;
  }
  int64_t until = loop_now_ms() + (ms < LOOP_FOREVER_MS ? ms : LOOP_FOREVER_MS);
  if (until > n->hold_until_ms) {
    n->hold_until_ms = until;
    loop_timer_start(n->loop, &n->hold_timer, ms, hold_over, n);
  }
  edn_value *m = reply_map(r);
  if (m) edn_map_putk(r->a, m, "held", edn_int(r->a, ms));
  req_reply(r, m);
}

static void op_panic(struct req *r, edn_value *msg) {
  struct node *n = r->n;
  edn_value *reason = edn_map_getk(msg, "reason");
  char *text = NULL;
  if (reason && reason->type != EDN_STRING) text = edn_to_string(reason);
  const char *why = reason && reason->type == EDN_STRING ? reason->u.text.ptr
                    : text                                ? text
                                                          : "panic requested";
  char buf[1024];
  snprintf(buf, sizeof buf, "%s", why);
  free(text);
  req_drop(r);
  node_panic(n, buf, NULL);
}

static void op_inspect(struct req *r, edn_value *msg) {
  (void)msg;
  struct node *n = r->n;
  edn_arena *a = r->a;
  edn_value *m = reply_map(r);
  edn_value *kids = edn_coll(a, EDN_VECTOR);
  int err = 0;
  edn_value *fds = procfs_fds(a, 0, &err);
  if (!fds && err != -ENOMEM) fds = edn_coll(a, EDN_VECTOR); /* no /proc */
  if (!m || !kids || !fds) {
    req_fail(r, "bad-request", "out of memory");
    return;
  }
  for (size_t i = 0; i < n->nkids; i++)
    if (n->kids[i]->alive) edn_push(a, kids, str(a, n->kids[i]->name));
  edn_map_putk(a, m, "pid", edn_int(a, getpid()));
  edn_map_putk(a, m, "ppid", edn_int(a, getppid()));
  edn_map_putk(a, m, "pgid", edn_int(a, getpgrp()));
  edn_map_putk(a, m, "depth", edn_int(a, n->spec.depth));
  edn_map_putk(a, m, "children", kids);
  edn_map_putk(a, m, "fds", fds);
  req_reply(r, m);
}

static size_t queued_bytes(struct node *n) {
  size_t q = outq_bytes(&n->out);
  for (size_t i = 0; i < n->nkids; i++) q += outq_bytes(&n->kids[i]->inq);
  return q;
}

static edn_value *exits_vector(struct node *n, edn_arena *a) {
  edn_value *v = edn_coll(a, EDN_VECTOR);
  size_t kept = n->nexits < NODE_EXITS_KEPT ? n->nexits : NODE_EXITS_KEPT;
  for (size_t i = n->nexits - kept; v && i < n->nexits; i++) {
    const char *s = n->exits[i % NODE_EXITS_KEPT];
    edn_value *x = NULL;
    struct edn_error err;
    struct edn_limits lim = {.max_depth = 16384, .max_bytes = NODE_CHILD_LINE_MAX};
    if (edn_read(a, s, strlen(s), &lim, &x, &err) == EDN_OK) edn_push(a, v, x);
  }
  return v;
}

static void op_stats(struct req *r, edn_value *msg) {
  (void)msg;
  struct node *n = r->n;
  edn_arena *a = r->a;
  edn_value *m = reply_map(r);
  if (!m) {
    req_reply(r, NULL);
    return;
  }
  edn_map_putk(a, m, "rss-kb", edn_int(a, procfs_rss_kb()));
  edn_map_putk(a, m, "queued-bytes", edn_int(a, (int64_t)queued_bytes(n)));
  edn_map_putk(a, m, "children-alive", edn_int(a, (int64_t)n->nalive));
  edn_map_putk(a, m, "restarts", edn_int(a, (int64_t)n->restarts));
  edn_map_putk(a, m, "exits", exits_vector(n, a));
  req_reply(r, m);
}

static void op_spawn(struct req *r, edn_value *msg) {
  struct node *n = r->n;
  edn_value *spec = edn_map_getk(msg, "spec");
  struct spec s;
  char why[256];
  if (!spec || spec->type != EDN_MAP) {
    req_fail(r, "bad-request", ":spawn needs :spec, a map");
    return;
  }
  if (spec_parse(spec, &s, why, sizeof why) < 0 || !edn_map_getk(spec, "name")) {
    req_fail(r, "bad-request", edn_map_getk(spec, "name") ? why : "a child spec needs a :name");
    return;
  }
  struct child *c = child_find(n, s.name);
  if (c && c->alive) {
    fail_child(r, "exists", "a live child is named %s", s.name);
    return;
  }
  if (c && c->restarting) { /* its parent starts it again by itself */
    fail_child(r, "restarting", "child %s is restarting", s.name);
    return;
  }
  edn_value *kept = edn_copy(n->spec_arena, spec);
  if (!kept) {
    req_fail(r, "bad-request", "out of memory");
    return;
  }
  bool fresh = !c;
  if (fresh) c = child_add(n, kept);
  else {
    c->spec = kept;
    spec_read_child(kept, &c->keys);
  }
  int e = c ? child_spawn(c) : -ENOMEM;
  if (e < 0) {
    char fmt[300]; /* the message's format: fail_child() puts the name in */
    snprintf(fmt, sizeof fmt, "cannot spawn %%s: %s", strerror(-e));
    fail_child(r, "spawn-failed", fmt, s.name);
    if (fresh && c) { /* not a child after all */
      n->nkids--;
      child_free(c);
    }
    return;
  }
  edn_value *m = reply_map(r);
  if (m) edn_map_putk(r->a, m, "spawned", str(r->a, s.name));
  req_reply(r, m);
}

static void op_exit(struct req *r, edn_value *msg) {
  (void)msg;
  struct node *n = r->n;
  edn_value *m = reply_map(r);
  if (m) edn_map_putk(r->a, m, "exiting", edn_bool(r->a, true));
  req_reply(r, m);
  node_begin_exit(n);
}

static const struct {
  const char *name;
  op_fn *fn;
} op_table[] = {
    {"ping", op_ping},   {"echo", op_echo},       {"fan", op_fan},
    {"route", op_route}, {"inspect", op_inspect}, {"panic", op_panic},
    {"sleep", op_sleep}, {"hold", op_hold},       {"spawn", op_spawn},
    {"stats", op_stats}, {"exit", op_exit},
};

static void ops_dispatch(struct req *r, edn_value *msg) {
  edn_value *op = edn_map_getk(msg, "op");
  if (!op || op->type != EDN_KEYWORD) {
    req_fail(r, "bad-request", "a request needs :op, a keyword");
    return;
  }
  for (size_t i = 0; i < sizeof op_table / sizeof *op_table; i++) {
    if (strcmp(op->u.text.ptr, op_table[i].name) == 0) {
      op_table[i].fn(r, msg);
      return;
    }
  }
  char text[200];
  snprintf(text, sizeof text, "unknown op :%.150s", op->u.text.ptr);
  req_fail(r, "unknown-op", text);
}

/* Whether line[0..len) holds the bytes ":req" (maybe not as a key: a
 * guess on the safe side). memchr for the rare 'q' is several times
 * cheaper than memmem on a short line. */
static bool has_req_key(const char *line, size_t len) {
  const char *p = line, *end = line + len;
  while ((p = memchr(p, 'q', (size_t)(end - p)))) {
    if (p - line >= 3 && memcmp(p - 3, ":re", 3) == 0) return true;
    p++;
  }
  return false;
}

void ops_handle_line(struct node *n, const char *line, size_t len) {
  static const struct edn_limits lim = {.max_depth = 512,
                                        .max_bytes = NODE_LINE_MAX};
  struct req *r = req_new_top(n);
  if (!r) return;
  edn_value *msg = NULL;
  struct edn_error err;
  /* depth 1: where the :req of a :route or :fan lies, to pass it on. A
   * line without the bytes ":req" has none (a keyword is spelled one way
   * only): it is read without spans, as an echo's or a leaf's are. */
  struct edn_spans spans = {.depth = 1};
  bool may_pass = has_req_key(line, len);
  int rc = edn_read_spans(r->a, line, len, &lim, may_pass ? &spans : NULL,
                          &msg, &err);
  if (rc == EDN_EMPTY) { /* a blank line (or only a comment) */
    req_drop(r);
    return;
  }
  if (rc != EDN_OK) {
    char text[220];
    snprintf(text, sizeof text, "at byte %zu: %s", err.offset, err.message);
    req_fail(r, "parse-error", text);
    return;
  }
  if (msg->type != EDN_MAP) {
    req_fail(r, "bad-request", "a request must be a map");
    return;
  }
  edn_value *id = edn_map_getk(msg, "id");
  if (!id || id->type != EDN_INT) {
    req_fail(r, "bad-request", id ? ":id must be an integer" : "a request needs :id");
    return;
  }
  r->id = id;
  if (n->exiting || n->state != NODE_RUNNING) {
    req_fail(r, "shutting-down", "the node is shutting down");
    return;
  }
  n->line.ptr = may_pass ? line : NULL;
  n->line.spans = &spans;
  ops_dispatch(r, msg);
  n->line.ptr = NULL; /* the line is the linebuf's again */
  n->line.spans = NULL;
}
