/* result_wire.c — encoding a scenario_result as EDN and back, for the pipe
 * between a `run -j N` worker and the parent:
 *   {:ms 412.0 :failed-step -1
 *    :checks [{:verdict :pass :summary "..." :evidence "..." :ms 1.0} ...]
 *    :nodes [{:path "L2a/L3a" :pid 4242 :outcome :crashed :signal 0
 *             :failed 8 :crashed true} ...]}
 * with :checks holding the steps first, then each property in enum order,
 * :nodes each node's outcome in depth-first order (absent when the run
 * produced none), and :trace-error what went wrong collecting the far
 * hosts' traces (absent when nothing did). */
#include "result_wire.h"

#include <stdlib.h>
#include <string.h>

#include "report_text.h"

static const char *const verdicts[] = {"skip", "pass", "fail"};
/* enum node_outcome order */
static const char *const outcomes[] = {"passed", "crashed", "killed", "failed"};

/* `s` as an EDN string, invalid UTF-8 replaced by '?' (the reader on the
 * other end refuses it, and a node's stderr may hold anything). */
static edn_value *text_edn(edn_arena *a, const char *s) {
  size_t len = strlen(s);
  char *clean = malloc(len + 1);
  if (!clean)
    return NULL;
  for (size_t i = 0; i < len;) {
    size_t n = report_utf8_len((const unsigned char *)s + i, len - i);
    if (n == 0) {
      clean[i++] = '?';
      continue;
    }
    memcpy(clean + i, s + i, n);
    i += n;
  }
  edn_value *v = edn_string(a, clean, len);
  free(clean);
  return v;
}

static edn_value *check_edn(edn_arena *a, const struct check_result *c) {
  edn_value *m = edn_coll(a, EDN_MAP);
  if (!m || edn_map_putk(a, m, "verdict", edn_keyword(a, verdicts[c->verdict])) < 0 ||
      edn_map_putk(a, m, "ms", edn_float(a, c->ms)) < 0)
    return NULL;
  if (c->summary &&
      edn_map_putk(a, m, "summary", text_edn(a, c->summary)) < 0)
    return NULL;
  if (c->evidence &&
      edn_map_putk(a, m, "evidence", text_edn(a, c->evidence)) < 0)
    return NULL;
  return m;
}

static edn_value *node_edn(edn_arena *a, const struct node_result *n) {
  edn_value *m = edn_coll(a, EDN_MAP);
  if (!m || edn_map_putk(a, m, "path", text_edn(a, n->path)) < 0 ||
      edn_map_putk(a, m, "pid", edn_int(a, n->pid)) < 0 ||
      edn_map_putk(a, m, "outcome", edn_keyword(a, outcomes[n->outcome])) < 0 ||
      edn_map_putk(a, m, "signal", edn_int(a, n->signal)) < 0 ||
      edn_map_putk(a, m, "failed", edn_int(a, n->failed)) < 0 ||
      edn_map_putk(a, m, "crashed", edn_bool(a, n->crashed)) < 0)
    return NULL;
  return m;
}

/* :nodes, or 0 without adding anything when r has none. */
static int put_nodes(edn_arena *a, edn_value *m, const struct scenario_result *r) {
  if (!r->nodes)
    return 0;
  edn_value *v = edn_coll(a, EDN_VECTOR);
  if (!v)
    return -1;
  for (size_t i = 0; i < r->nnodes; i++) {
    edn_value *n = node_edn(a, &r->nodes[i]);
    if (!n || edn_push(a, v, n) < 0)
      return -1;
  }
  return edn_map_putk(a, m, "nodes", v);
}

char *result_to_edn(const struct scenario_result *r) {
  edn_arena *a = edn_arena_new();
  if (!a)
    return NULL;
  char *out = NULL;
  edn_value *m = edn_coll(a, EDN_MAP), *checks = edn_coll(a, EDN_VECTOR);
  if (!m || !checks || edn_map_putk(a, m, "ms", edn_float(a, r->ms)) < 0 ||
      edn_map_putk(a, m, "failed-step", edn_int(a, r->failed_step)) < 0)
    goto done;
  for (int i = -1; i < PROP_COUNT; i++) {
    edn_value *c = check_edn(a, i < 0 ? &r->steps : &r->props[i]);
    if (!c || edn_push(a, checks, c) < 0)
      goto done;
  }
  if (r->trace_error &&
      edn_map_putk(a, m, "trace-error", text_edn(a, r->trace_error)) < 0)
    goto done;
  if (edn_map_putk(a, m, "checks", checks) == 0 && put_nodes(a, m, r) == 0)
    out = edn_to_string(m);
done:
  edn_arena_free(a);
  return out;
}

static char *text_of(const edn_value *m, const char *k) {
  const edn_value *v = edn_map_getk(m, k);
  if (!v || v->type != EDN_STRING)
    return NULL;
  return strndup(v->u.text.ptr, v->u.text.len);
}

static double num_of(const edn_value *m, const char *k) {
  const edn_value *v = edn_map_getk(m, k);
  if (v && v->type == EDN_FLOAT)
    return v->u.real;
  if (v && v->type == EDN_INT)
    return (double)v->u.integer;
  return 0;
}

static void check_from(const edn_value *m, struct check_result *c) {
  c->verdict = VERDICT_SKIP;
  for (int i = 0; i < 3; i++)
    if (edn_is_keyword(edn_map_getk(m, "verdict"), verdicts[i]))
      c->verdict = (enum verdict)i;
  c->summary = text_of(m, "summary");
  c->evidence = text_of(m, "evidence");
  c->ms = num_of(m, "ms");
}

/* One :nodes entry into n; -1 when it is not one (n->path then NULL). */
static int node_from(const edn_value *m, struct node_result *n) {
  const edn_value *pid = edn_map_getk(m, "pid"), *sig = edn_map_getk(m, "signal"),
                  *failed = edn_map_getk(m, "failed");
  if (!pid || pid->type != EDN_INT || !sig || sig->type != EDN_INT ||
      !failed || failed->type != EDN_INT)
    return -1;
  int outcome = -1;
  for (int i = 0; i < 4; i++)
    if (edn_is_keyword(edn_map_getk(m, "outcome"), outcomes[i]))
      outcome = i;
  n->path = text_of(m, "path");
  if (outcome < 0 || !n->path)
    return -1;
  n->pid = (long)pid->u.integer;
  n->outcome = (enum node_outcome)outcome;
  n->signal = (int)sig->u.integer;
  n->failed = (unsigned)failed->u.integer;
  const edn_value *crashed = edn_map_getk(m, "crashed");
  n->crashed = crashed && crashed->type == EDN_BOOL && crashed->u.boolean;
  return 0;
}

/* :nodes into r->nodes; absent is fine (no nodes), malformed is not. */
static int nodes_from(const edn_value *v, struct scenario_result *r) {
  const edn_value *nodes = edn_map_getk(v, "nodes");
  if (!nodes)
    return 0;
  if (nodes->type != EDN_VECTOR)
    return -1;
  r->nodes = calloc(nodes->u.seq.len + 1, sizeof *r->nodes);
  if (!r->nodes)
    return -1;
  for (size_t i = 0; i < nodes->u.seq.len; i++) {
    int rc = node_from(nodes->u.seq.items[i], &r->nodes[r->nnodes]);
    if (r->nodes[r->nnodes].path)
      r->nnodes++; /* owned by r from here on, even when malformed */
    if (rc < 0)
      return -1;
  }
  return 0;
}

int result_from_edn(const char *text, size_t len, struct scenario_result *r) {
  edn_arena *a = edn_arena_new();
  if (!a)
    return -1;
  struct edn_limits lim = {0, (size_t)64 << 20};
  edn_value *v = NULL;
  struct edn_error err;
  int rc = -1;
  if (edn_read(a, text, len, &lim, &v, &err) != EDN_OK || v->type != EDN_MAP)
    goto done;
  const edn_value *checks = edn_map_getk(v, "checks");
  const edn_value *fs = edn_map_getk(v, "failed-step");
  if (!checks || checks->type != EDN_VECTOR ||
      checks->u.seq.len != 1 + PROP_COUNT || !fs || fs->type != EDN_INT)
    goto done;
  r->ms = num_of(v, "ms");
  r->failed_step = (long)fs->u.integer;
  r->trace_error = text_of(v, "trace-error");
  check_from(checks->u.seq.items[0], &r->steps);
  for (int i = 0; i < PROP_COUNT; i++)
    check_from(checks->u.seq.items[1 + i], &r->props[i]);
  rc = nodes_from(v, r);
  if (rc < 0) { /* leave nothing half-filled for the caller to overwrite */
    const struct scenario *sc = r->scenario;
    scenario_result_free(r);
    r->scenario = sc;
    r->failed_step = -1;
  }
done:
  edn_arena_free(a);
  return rc;
}
