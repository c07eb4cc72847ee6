/* shrink.c — delta debugging of a failing scenario (shrink.h).
 *
 * The current scenario is always one the loader produced from emitted YAML,
 * so every kept candidate is exactly what the reproducer file will say.
 * Passes, each repeated until it changes nothing, and the round of them
 * until a whole round keeps nothing: ddmin over the steps
 * (chunks removed, then chunks kept alone, granularity doubling as in
 * Zeller's ddmin), an expect dropped from a send, a subtree removed (the
 * largest first: breadth-first order), a long string halved, a property
 * other than the failing one dropped. Each candidate costs one run (two
 * with a control). The search stops at max_runs; the result is run three
 * more times to confirm. */
#define _GNU_SOURCE
#include "shrink.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario_emit.h"

struct shrinker {
  const struct shrink_opts *o;
  struct shrink_result *r;
  struct scenario *cur;
  unsigned max_runs;
  bool use_control;
  bool stop;             /* interrupted, or the node cannot be started */
  unsigned kept;         /* candidates kept so far */
  char *err;
  size_t errlen;
};

static void progress(struct shrinker *sh, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void progress(struct shrinker *sh, const char *fmt, ...) {
  if (!sh->o->progress)
    return;
  char line[600];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  sh->o->progress(sh->o->ctx, line);
}

static bool out_of_runs(const struct shrinker *sh) {
  return sh->stop || sh->r->runs >= sh->max_runs;
}

/* ---- running -------------------------------------------------------------- */

/* Run `s` with `argv`: 0 with *res filled, or -1 (and sh->stop) when the run
 * could not be made or was interrupted. */
static int run_once(struct shrinker *sh, const struct scenario *s, char **argv,
                    struct scenario_result *res) {
  struct run_opts ro = {argv, NULL, NULL, NULL};
  int rc = run_scenario(s, &ro, res);
  sh->r->runs++;
  if (rc < 0 || session_interrupted()) {
    snprintf(sh->err, sh->errlen, "%s",
             session_interrupted() ? "interrupted"
                               : res->steps.summary ? res->steps.summary
                                                    : "cannot run the scenario");
    scenario_result_free(res);
    sh->stop = true;
    return -1;
  }
  return 0;
}

static const struct check_result *check_of(const struct scenario_result *res,
                                           int c) {
  return c == REPLAY_STEPS ? &res->steps : &res->props[c];
}

/* 1 when the target check fails in a run of `s`, 0 when not, -1 stop. */
static int fails(struct shrinker *sh, const struct scenario *s) {
  struct scenario_result res;
  if (run_once(sh, s, sh->o->node_argv, &res) < 0)
    return -1;
  const struct check_result *c = check_of(&res, sh->r->check);
  int v = c->verdict == VERDICT_FAIL;
  if (v) {
    free(sh->r->summary);
    sh->r->summary = c->summary ? strdup(c->summary) : NULL;
  }
  scenario_result_free(&res);
  return v;
}

/* 1 when `s` holds with the control command, 0 when not, -1 stop. */
static int control_holds(struct shrinker *sh, const struct scenario *s) {
  struct scenario_result res;
  if (run_once(sh, s, sh->o->control_argv, &res) < 0)
    return -1;
  int v = scenario_result_passed(&res);
  scenario_result_free(&res);
  return v;
}

/* ---- candidates ----------------------------------------------------------- */

static struct scenario *load_yaml(struct shrinker *sh, const struct edn_buf *y) {
  struct scenario_error se;
  return scenario_load_mem(sh->cur->file, y->ptr, y->len, &se);
}

static void report_size(struct shrinker *sh, const char *what) {
  progress(sh, "shrink: run %u: %s: %zu steps, %zu nodes", sh->r->runs, what,
           sh->cur->nsteps, sh->cur->nnodes);
}

/* Try a candidate: 1 kept (it is now sh->cur), 0 not, -1 stop. */
static int try_yaml(struct shrinker *sh, const struct edn_buf *y,
                    const char *what) {
  if (out_of_runs(sh))
    return sh->stop ? -1 : 0;
  struct scenario *c = load_yaml(sh, y);
  if (!c)
    return 0; /* names a removed node, or containment without a crash */
  int v = fails(sh, c);
  if (v == 1 && sh->use_control)
    v = control_holds(sh, c);
  if (v == 1) {
    scenario_free(sh->cur);
    sh->cur = c;
    sh->kept++;
    report_size(sh, what);
    return 1;
  }
  scenario_free(c);
  return v;
}

static int emit_cur(struct shrinker *sh, const bool *skip, const bool *props,
                    struct edn_buf *y) {
  struct emit_opts eo = {NULL, skip, props};
  y->len = 0;
  return scenario_emit(sh->cur, &eo, y);
}

/* A fresh copy of the current scenario, to change in place. */
static struct scenario *clone_cur(struct shrinker *sh) {
  struct edn_buf y = {0};
  struct scenario *c = emit_cur(sh, NULL, NULL, &y) == 0 ? load_yaml(sh, &y) : NULL;
  edn_buf_free(&y);
  return c;
}

static int try_scenario(struct shrinker *sh, const struct scenario *c,
                        const char *what) {
  struct edn_buf y = {0};
  struct emit_opts eo = {0};
  int rc = scenario_emit(c, &eo, &y) == 0 ? try_yaml(sh, &y, what) : 0;
  edn_buf_free(&y);
  return rc;
}

/* ---- steps: ddmin --------------------------------------------------------- */

/* Try the current steps without [lo, hi) (keep = false) or with only them. */
static int try_chunk(struct shrinker *sh, size_t lo, size_t hi, bool keep) {
  size_t n = sh->cur->nsteps;
  bool *skip = calloc(n ? n : 1, sizeof *skip);
  if (!skip)
    return -1;
  for (size_t i = 0; i < n; i++)
    skip[i] = keep ? (i < lo || i >= hi) : (i >= lo && i < hi);
  struct edn_buf y = {0};
  int rc = emit_cur(sh, skip, NULL, &y) == 0 ? try_yaml(sh, &y, "steps") : -1;
  edn_buf_free(&y);
  free(skip);
  return rc;
}

static int ddmin_steps(struct shrinker *sh) {
  size_t gran = 2;
  while (sh->cur->nsteps >= 1 && !out_of_runs(sh)) {
    size_t len = sh->cur->nsteps;
    if (gran > len)
      gran = len;
    int kept = 0;
    for (size_t k = 0; k < gran && !kept; k++)
      kept = try_chunk(sh, k * len / gran, (k + 1) * len / gran, false);
    if (kept == 1) {
      gran = gran > 2 ? gran - 1 : 2;
      continue;
    }
    for (size_t k = 0; gran > 2 && k < gran && !kept; k++)
      kept = try_chunk(sh, k * len / gran, (k + 1) * len / gran, true);
    if (kept == 1) {
      gran = 2;
      continue;
    }
    if (kept < 0 || gran >= len)
      break;
    gran = gran * 2 < len ? gran * 2 : len;
  }
  return sh->stop ? -1 : 0;
}

static int drop_expects(struct shrinker *sh) {
  for (size_t i = 0; i < sh->cur->nsteps && !out_of_runs(sh); i++) {
    if (sh->cur->steps[i].action != STEP_SEND || !sh->cur->steps[i].expect)
      continue;
    struct scenario *c = clone_cur(sh);
    if (!c)
      continue;
    c->steps[i].expect = NULL;
    int rc = try_scenario(sh, c, "an expect dropped");
    scenario_free(c);
    if (rc < 0)
      return -1;
  }
  return 0;
}

/* ---- the tree --------------------------------------------------------------- */

static bool is_under(const struct tree_node *n, const struct tree_node *top) {
  for (; n; n = n->parent)
    if (n == top)
      return true;
  return false;
}

/* Paths of the initial tree below the root, breadth first. */
static char **tree_paths(const struct scenario *s, size_t *count) {
  size_t cap = s->nnodes + 1, n = 0, head = 0;
  const struct tree_node **q = calloc(cap, sizeof *q);
  char **paths = calloc(cap, sizeof *paths);
  if (!q || !paths) {
    free(q);
    free(paths);
    return NULL;
  }
  q[n++] = s->root;
  while (head < n) {
    const struct tree_node *t = q[head++];
    for (size_t i = 0; i < t->nchildren && n < cap; i++)
      if (t->children[i]->spawn_step < 0)
        q[n++] = t->children[i];
  }
  for (size_t i = 1; i < n; i++)
    paths[i - 1] = strdup(q[i]->path);
  *count = n - 1;
  free(q);
  return paths;
}

/* The current scenario without node `t` (and its subtree), as YAML. */
static int emit_without(struct shrinker *sh, struct tree_node *t,
                        struct edn_buf *y) {
  struct tree_node *p = t->parent, *hold = sh->cur->bp_hold;
  if (hold && is_under(hold, t)) {
    if (sh->cur->properties[PROP_BACKPRESSURE])
      return -1; /* the held node would go */
    sh->cur->bp_hold = NULL;
  }
  size_t j = 0;
  while (p->children[j] != t)
    j++;
  memmove(p->children + j, p->children + j + 1,
          (p->nchildren - j - 1) * sizeof *p->children);
  p->nchildren--;
  int rc = emit_cur(sh, NULL, NULL, y);
  memmove(p->children + j + 1, p->children + j,
          (p->nchildren - j) * sizeof *p->children);
  p->children[j] = t;
  p->nchildren++;
  sh->cur->bp_hold = hold;
  return rc;
}

static int drop_subtrees(struct shrinker *sh) {
  for (bool changed = true; changed && !out_of_runs(sh);) {
    changed = false;
    size_t n = 0;
    char **paths = tree_paths(sh->cur, &n);
    if (!paths)
      return -1;
    for (size_t i = 0; i < n && !out_of_runs(sh); i++) {
      struct tree_node *t = paths[i] ? scenario_find(sh->cur, paths[i]) : NULL;
      struct edn_buf y = {0};
      if (t && t->parent && emit_without(sh, t, &y) == 0) {
        char what[300];
        snprintf(what, sizeof what, "without %s", paths[i]);
        int rc = try_yaml(sh, &y, what);
        changed = changed || rc == 1;
      }
      edn_buf_free(&y);
    }
    for (size_t i = 0; i < n; i++)
      free(paths[i]);
    free(paths);
  }
  return sh->stop ? -1 : 0;
}

/* ---- strings ---------------------------------------------------------------- */

#define LONG_STRING 8

/* `v` with every string equal to `from` replaced by `to`, in `a` (parts
 * without one are shared). NULL when out of memory. */
static edn_value *subst(edn_arena *a, edn_value *v, const struct edn_text *from,
                        const edn_value *to) {
  if (!v)
    return NULL;
  if (v->type == EDN_STRING)
    return v->u.text.len == from->len && !memcmp(v->u.text.ptr, from->ptr, from->len)
               ? (edn_value *)to : v;
  if (v->type == EDN_TAGGED)
    return edn_tagged(a, v->u.tagged.tag.ptr, subst(a, v->u.tagged.value, from, to));
  if (v->type == EDN_MAP) {
    edn_value *m = edn_coll(a, EDN_MAP);
    for (size_t i = 0; m && i < v->u.map.len; i++)
      if (edn_map_put(a, m, subst(a, v->u.map.entries[i].key, from, to),
                      subst(a, v->u.map.entries[i].val, from, to)) < 0)
        return NULL;
    return m;
  }
  if (v->type == EDN_LIST || v->type == EDN_VECTOR || v->type == EDN_SET) {
    edn_value *s = edn_coll(a, v->type);
    for (size_t i = 0; s && i < v->u.seq.len; i++)
      if (edn_push(a, s, subst(a, v->u.seq.items[i], from, to)) < 0)
        return NULL;
    return s;
  }
  return v;
}

/* The first string in `v` longer than LONG_STRING bytes, or NULL. */
static const edn_value *long_string(const edn_value *v, size_t skip, size_t *seen) {
  if (!v)
    return NULL;
  if (v->type == EDN_STRING)
    return v->u.text.len > LONG_STRING && (*seen)++ == skip ? v : NULL;
  const edn_value *hit = NULL;
  if (v->type == EDN_TAGGED)
    return long_string(v->u.tagged.value, skip, seen);
  if (v->type == EDN_MAP)
    for (size_t i = 0; !hit && i < v->u.map.len; i++)
      hit = long_string(v->u.map.entries[i].val, skip, seen);
  if (v->type == EDN_LIST || v->type == EDN_VECTOR || v->type == EDN_SET)
    for (size_t i = 0; !hit && i < v->u.seq.len; i++)
      hit = long_string(v->u.seq.items[i], skip, seen);
  return hit;
}

/* In a copy: the k-th long string of step i's request halved, in the
 * request and in every pattern. 1 kept, 0 not (or no such string), -1. */
static int halve_string(struct shrinker *sh, size_t i, size_t k) {
  size_t seen = 0;
  if (!long_string(sh->cur->steps[i].send, k, &seen))
    return 0;
  struct scenario *c = clone_cur(sh);
  if (!c)
    return 0;
  seen = 0;
  const edn_value *s = long_string(c->steps[i].send, k, &seen);
  if (!s) {
    scenario_free(c);
    return 0;
  }
  struct edn_text from = s->u.text;
  edn_value *to = edn_string(c->arena, from.ptr, from.len / 2);
  edn_value *send = to ? subst(c->arena, c->steps[i].send, &from, to) : NULL;
  char *text = send ? edn_to_string(send) : NULL;
  int rc = 0;
  if (text) {
    free(c->steps[i].send_text);
    c->steps[i].send_text = text;
    c->steps[i].send = send;
    for (size_t j = 0; j < c->nsteps; j++)
      c->steps[j].expect = subst(c->arena, c->steps[j].expect, &from, to);
    rc = try_scenario(sh, c, "a string halved");
  }
  scenario_free(c);
  return rc;
}

static int shorten_strings(struct shrinker *sh) {
  for (bool changed = true; changed && !out_of_runs(sh);) {
    changed = false;
    for (size_t i = 0; i < sh->cur->nsteps && !out_of_runs(sh); i++) {
      if (!sh->cur->steps[i].send)
        continue;
      for (size_t k = 0; k < 64 && !out_of_runs(sh); k++) {
        size_t seen = 0;
        if (!long_string(sh->cur->steps[i].send, k, &seen))
          break;
        int rc = halve_string(sh, i, k);
        if (rc < 0)
          return -1;
        changed = changed || rc == 1;
      }
    }
  }
  return sh->stop ? -1 : 0;
}

/* ---- properties ----------------------------------------------------------- */

static int drop_properties(struct shrinker *sh) {
  for (int p = 0; p < PROP_COUNT && !out_of_runs(sh); p++) {
    if (p == sh->r->check || !sh->cur->properties[p])
      continue;
    bool props[PROP_COUNT];
    memcpy(props, sh->cur->properties, sizeof props);
    props[p] = false;
    struct edn_buf y = {0};
    char what[80];
    snprintf(what, sizeof what, "without property %s",
             property_name((enum property)p));
    int rc = emit_cur(sh, NULL, props, &y) == 0 ? try_yaml(sh, &y, what) : -1;
    edn_buf_free(&y);
    if (rc < 0)
      return -1;
  }
  return 0;
}

/* ---- the whole search ----------------------------------------------------- */

static int pick_check(const struct scenario_result *res) {
  static const int order[] = {PROP_CONTAINMENT, PROP_CASCADE, PROP_ISOLATION,
                              PROP_BACKPRESSURE, PROP_REPLIES, REPLAY_STEPS};
  for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
    if (check_of(res, order[i])->verdict == VERDICT_FAIL)
      return order[i];
  return -1;
}

/* The first run: which check fails (or none). 0, or -1 stop. */
static int first_run(struct shrinker *sh) {
  struct scenario_result res;
  if (run_once(sh, sh->cur, sh->o->node_argv, &res) < 0)
    return -1;
  int c = sh->o->check >= 0
              ? (check_of(&res, sh->o->check)->verdict == VERDICT_FAIL ? sh->o->check : -1)
              : pick_check(&res);
  sh->r->held = c < 0;
  sh->r->check = c;
  if (c >= 0) {
    const char *sum = check_of(&res, c)->summary;
    sh->r->summary = sum ? strdup(sum) : NULL;
    progress(sh, "shrink: %s fails: %s", replay_check_name((unsigned)c),
             sum ? sum : "(no summary)");
  }
  scenario_result_free(&res);
  return 0;
}

static int search(struct shrinker *sh) {
  if (sh->o->control_argv) {
    int v = control_holds(sh, sh->cur);
    if (v < 0)
      return -1;
    sh->use_control = v == 1;
    sh->r->control_failed = v == 0;
    if (!v)
      progress(sh, "shrink: it fails with the control command too: "
               "candidates are not checked against it");
  }
  /* Again until a whole round keeps nothing: a later pass can unlock an
   * earlier one (without containment listed, the last crash step can go). */
  for (unsigned kept = ~0u; kept != sh->kept && !out_of_runs(sh);) {
    kept = sh->kept;
    if (ddmin_steps(sh) < 0 || drop_expects(sh) < 0 || drop_subtrees(sh) < 0 ||
        shorten_strings(sh) < 0 || drop_properties(sh) < 0)
      return -1;
  }
  if (out_of_runs(sh))
    progress(sh, "shrink: stopped at the bound of %u runs",
             sh->o->max_runs ? sh->o->max_runs : 200);
  return 0;
}

static int confirm(struct shrinker *sh) {
  for (int k = 0; k < 3; k++) {
    int v = fails(sh, sh->cur);
    if (v < 0)
      return -1;
    sh->r->confirmed += (unsigned)v;
  }
  progress(sh, "shrink: confirmed: %s failed in %u of 3 runs",
           replay_check_name((unsigned)sh->r->check), sh->r->confirmed);
  return 0;
}

int shrink_scenario(const struct scenario *s, const struct shrink_opts *o,
                    struct shrink_result *r, char *err, size_t errlen) {
  memset(r, 0, sizeof *r);
  r->check = -1;
  struct shrinker sh = {.o = o, .r = r, .err = err, .errlen = errlen,
                        .max_runs = o->max_runs ? o->max_runs : 200};
  struct edn_buf y = {0};
  struct emit_opts eo = {0};
  /* the original's file name stays, so evidence still points at it */
  struct scenario_error se;
  if (scenario_emit(s, &eo, &y) < 0 ||
      !(sh.cur = scenario_load_mem(s->file, y.ptr, y.len, &se))) {
    snprintf(err, errlen, "the scenario does not survive being written "
             "back (%d:%d: %s)", se.pos.line, se.pos.column, se.message);
    edn_buf_free(&y);
    return -1;
  }
  edn_buf_free(&y);
  r->steps0 = sh.cur->nsteps;
  r->nodes0 = sh.cur->nnodes;
  int rc = first_run(&sh);
  if (rc == 0 && !r->held) {
    sh.max_runs += r->runs;
    rc = search(&sh);
    if (rc == 0)
      rc = confirm(&sh);
  }
  r->s = sh.cur;
  r->steps = sh.cur->nsteps;
  r->nodes = sh.cur->nnodes;
  if (rc < 0 || r->held) {
    scenario_free(sh.cur);
    r->s = NULL;
  }
  return rc;
}

void shrink_result_free(struct shrink_result *r) {
  scenario_free(r->s);
  free(r->summary);
  memset(r, 0, sizeof *r);
}
