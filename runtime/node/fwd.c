/* fwd.c — the bytes of a request a node passes on to a child: a :route's
 * or a :fan's :req goes down as it came on the node's stdin, not parsed,
 * rebuilt and printed again. The line being dispatched was read with
 * edn_read_spans (ops_handle_line), so its top-level values know where
 * they lie in it; what is built around them ({:id ID :op :fan :req ...})
 * is the few bytes the printer would write. A value without a span (one
 * built here, or nested deeper than the spans go, as a :fan's :req inside
 * a :route with an empty path) gives 1 and the caller prints it: the same
 * request, slower. */
#include <stdio.h>
#include <string.h>

#include "node.h"

const struct edn_span *fwd_span(const struct node *n, const edn_value *v) {
  return n->line.ptr ? edn_span_of(n->line.spans, v) : NULL;
}

static void head(struct fwd *f, const char *p, size_t len) {
  f->head[f->nhead++] = (struct outq_piece){p, len};
}

static void tail(struct fwd *f, const char *p, size_t len) {
  f->tail[f->ntail++] = (struct outq_piece){p, len};
}

/* A string constant as a piece. */
static void head_s(struct fwd *f, const char *s) { head(f, s, strlen(s)); }
static void tail_s(struct fwd *f, const char *s) { tail(f, s, strlen(s)); }

int fwd_fan(struct fwd *f, const struct node *n, const edn_value *req) {
  const struct edn_span *s = fwd_span(n, req);
  if (!s) return 1;
  f->nhead = f->ntail = 0;
  head_s(f, "{:id ");
  tail_s(f, " :op :fan :req ");
  tail(f, n->line.ptr + s->off, s->len);
  tail_s(f, "}");
  return 0;
}

/* Where req's own :id value lies in its bytes raw[0..len), into *out,
 * found by reading them again (rare: a request for a child seldom carries
 * an :id, so the line's spans stop at depth 1). False when it has none. */
static bool inner_id(edn_arena *a, const char *raw, size_t len,
                     struct edn_span *out) {
  static const struct edn_limits lim = {.max_depth = 512,
                                        .max_bytes = NODE_LINE_MAX};
  struct edn_spans sp = {.depth = 1};
  edn_value *v = NULL;
  if (edn_read_spans(a, raw, len, &lim, &sp, &v, NULL) != EDN_OK) return false;
  const struct edn_span *s = edn_span_of(&sp, edn_map_getk(v, "id"));
  if (s) *out = *s;
  return s != NULL;
}

/* The last hop: req itself, with the edge's id for its :id. */
static int last_hop(struct fwd *f, edn_arena *a, const char *raw, size_t len,
                    bool has_id) {
  struct edn_span id;
  if (has_id) {
    if (!inner_id(a, raw, len, &id)) return 1;
    head(f, raw, id.off);
    tail(f, raw + id.off + id.len, len - id.off - id.len);
    return 0;
  }
  /* no :id: one goes last, where edn_map_putk would have put it */
  head(f, raw, len - 1);
  head_s(f, " :id ");
  tail_s(f, "}");
  return 0;
}

int fwd_route(struct fwd *f, struct node *n, edn_arena *a,
              const edn_value *rest, const edn_value *req) {
  const struct edn_span *s = fwd_span(n, req);
  if (!s) return 1;
  const char *raw = n->line.ptr + s->off;
  f->nhead = f->ntail = 0;
  if (!rest) return last_hop(f, a, raw, s->len, edn_map_getk(req, "id") != NULL);
  n->fwd_path.len = 0;
  if (edn_print(&n->fwd_path, rest) < 0) return -1;
  head_s(f, "{:id ");
  tail_s(f, " :op :route :path ");
  tail(f, n->fwd_path.ptr, n->fwd_path.len);
  tail_s(f, " :req ");
  tail(f, raw, s->len);
  tail_s(f, "}");
  return 0;
}
