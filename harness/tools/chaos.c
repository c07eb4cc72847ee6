/* chaos.c — the plan and the run behind `treeproof chaos SCENARIO --seed N
 * --rounds K` (its command line: cli_chaos.c): a seeded, reproducible
 * schedule of faults against a live tree while requests flow.
 *
 * The schedule is generated as scenario steps (splitmix64, never rand()),
 * over a model of which nodes are alive, then loaded and run by the ordinary
 * engine: its drive sends and checks each request, kills, holds and
 * releases; its crash auditors (cascade, containment) judge every kill and
 * panic right after it; the replies and cascade auditors judge the end (every
 * request to a live node answered exactly once, nothing orphaned or left a
 * zombie). The scenario's own steps are not run: only its tree is used.
 *
 * One round: 1-2 requests (:ping or :echo routed to live nodes), one action
 * (kill TERM/KILL, hold + wait + release with requests to nodes outside the
 * held subtree meanwhile, :panic via :route, or :spawn of a new leaf via
 * :route), then 1-2 requests again; after its last step the engine scans
 * for orphans and zombies (audit_leftovers.c).
 *
 * Kills and panics hit any non-root node whose crash the model can follow
 * through the policies above it: :isolate — its subtree is gone; :restart —
 * it comes back under a new pid with the children of its spec (children
 * spawned at run time are gone), while its restarts stay within
 * :max-restarts; :escalate — its parent goes down too and the policy above
 * that one applies, one level up. A crash that would take the root down is
 * never planned (nothing would be left to judge). Restart counts are kept
 * for the whole run, never forgotten, so the model is never less deadly
 * than the runtime (whose counts live in a window); a crash beyond the limit
 * is planned only when the runtime's count, the engine's count and the
 * model's must agree: the target itself crashed each time (no restart by
 * escalation from below), its parent never restarted, and the period is a
 * minute or more (the run is assumed to fit in it). */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chaos.h"
#include "model.h"
#include "scenario_emit.h"
#include "run.h"

/* ---- the generator -------------------------------------------------------- */

static uint64_t splitmix64(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/* Uniform in [0, n) (n > 0); the tiny modulo bias does not matter here. */
static size_t pick(uint64_t *s, size_t n) { return (size_t)(splitmix64(s) % n); }

/* ---- the model of the tree ------------------------------------------------ */

struct mnode {
  char *name, *path; /* path: "" for the root, "L2a/L3a" below it */
  int parent;        /* index, -1 for the root */
  bool alive;
  bool in_spec;      /* in its parent's spec: a restart of the parent
                        brings it back (not so a node spawned at run time) */
  enum policy pol;   /* what it does when one of its children exits */
  enum restart_type restart; /* as its parent's child */
  long max_restarts;
  bool long_period;  /* :restart-period-ms >= 60 s */
  unsigned restarts; /* restarts of its children it made since its
                        process began (its intensity count) */
  bool removed;      /* a temporary child gone: no node to crash again */
};

struct model {
  struct mnode *v;
  size_t n, cap;
};

static int model_add(struct model *m, const char *name, int parent,
                     bool in_spec) {
  if (m->n == m->cap) {
    size_t cap = m->cap ? m->cap * 2 : 32;
    struct mnode *v = realloc(m->v, cap * sizeof *v);
    if (!v)
      return -1;
    m->v = v;
    m->cap = cap;
  }
  struct mnode *x = &m->v[m->n];
  memset(x, 0, sizeof *x);
  x->name = strdup(name);
  if (parent < 0)
    x->path = strdup("");
  else if (!*m->v[parent].path)
    x->path = strdup(name);
  else if (asprintf(&x->path, "%s/%s", m->v[parent].path, name) < 0)
    x->path = NULL;
  if (!x->name || !x->path) {
    free(x->name);
    free(x->path);
    return -1;
  }
  x->parent = parent;
  x->alive = true;
  x->in_spec = in_spec;
  x->pol = POLICY_ISOLATE;
  x->restart = RESTART_PERMANENT;
  x->max_restarts = 3;
  m->n++;
  return (int)(m->n - 1);
}

/* docs/node-contract.md defaults: :isolate, :max-restarts 3, :restart-period-ms 5000. */
static int model_load(struct model *m, const struct tree_node *t, int parent) {
  int me = model_add(m, t->name, parent, true);
  if (me < 0)
    return -1;
  struct mnode *x = &m->v[me];
  if (t->on_child_exit != POLICY_UNSET)
    x->pol = t->on_child_exit;
  if (t->max_restarts >= 0)
    x->max_restarts = t->max_restarts;
  x->restart = node_restart(t);
  x->long_period = t->restart_period_ms >= 60000;
  for (size_t i = 0; i < t->nchildren; i++)
    if (t->children[i]->spawn_step < 0 &&
        model_load(m, t->children[i], me) < 0)
      return -1;
  return 0;
}

static void model_free(struct model *m) {
  for (size_t i = 0; i < m->n; i++) {
    free(m->v[i].name);
    free(m->v[i].path);
  }
  free(m->v);
}

static bool under(const struct model *m, size_t i, size_t top) {
  for (int k = (int)i; k >= 0; k = m->v[k].parent)
    if ((size_t)k == top)
      return true;
  return false;
}

static void model_kill(struct model *m, size_t top) {
  for (size_t i = 0; i < m->n; i++)
    if (under(m, i, top))
      m->v[i].alive = false;
}

/* `top` restarted: it and the nodes of its spec are back, as new
 * processes (model_comes_back(): a node spawned at run time is not in the
 * spec its parent keeps), their intensity counts at 0. */
static void model_revive(struct model *m, size_t top) {
  for (size_t i = 0; i < m->n; i++)
    if (under(m, i, top) &&
        model_comes_back(m->v[top].in_spec ? -1 : (long)top,
                         m->v[i].in_spec ? -1 : (long)i, i == top)) {
      m->v[i].alive = true;
      m->v[i].removed = false; /* its parent's spec names it again */
      m->v[i].restarts = 0;
    }
}

/* The plan's nodes as the shared model (model.h) sees them. */
struct plan_view {
  const struct model *m;
};

static int plan_parent(const void *ctx, int i) {
  const struct plan_view *v = ctx;
  return v->m->v[i].parent;
}

static enum policy plan_policy(const void *ctx, int i) {
  const struct plan_view *v = ctx;
  return v->m->v[i].pol;
}

static enum restart_type plan_restart(const void *ctx, int i) {
  const struct plan_view *v = ctx;
  return v->m->v[i].restart;
}

/* The plan counts restarts, not time: a parent's intensity is crossed for
 * certain only where every restart it counted is surely within its period
 * (a period of a minute or more: a chaos run is shorter); below the count
 * it cannot be crossed; else the plan cannot know (-1). */
static int plan_limit(const void *ctx, int p) {
  const struct plan_view *v = ctx;
  const struct mnode *P = &v->m->v[p];
  if ((long)P->restarts + 1 <= P->max_restarts)
    return 0;
  return P->long_period ? 1 : -1;
}

/* What a crash of node i does, by the policies above it (`normal`: it
 * ends with status 0, a SIGTERM). False when the root would go down, or
 * when the outcome depends on what the plan cannot know. */
static bool crash_outcome(const struct model *m, size_t i, bool normal,
                          struct model_outcome *o) {
  struct plan_view v = {m};
  struct model_view mv = {&v, plan_parent, plan_policy, plan_restart,
                          plan_limit};
  model_outcome(&mv, (int)i, normal, o);
  return o->certain && !o->tree_ends;
}

/* The spec index of node i among its parent's children. */
static size_t sibling_index(const struct model *m, size_t i) {
  size_t k = 0;
  for (size_t j = 0; j < i; j++)
    k += m->v[j].parent == m->v[i].parent && !m->v[j].removed;
  return k;
}

static void crash_apply(struct model *m, const struct model_outcome *o) {
  size_t down = (size_t)o->down;
  model_kill(m, down);
  if (o->fate == MODEL_REMOVED)
    m->v[down].removed = true;
  if (o->fate != MODEL_RESTARTED)
    return;
  int p = m->v[down].parent;
  m->v[p].restarts++;
  size_t at = sibling_index(m, down);
  for (size_t j = 0; j < m->n; j++) {
    if (j == down || m->v[j].parent != p || m->v[j].removed ||
        !model_in_group(o->strategy, sibling_index(m, j), at))
      continue;
    model_kill(m, j);
    if (model_sibling_fate(m->v[j].restart) == MODEL_REMOVED)
      m->v[j].removed = true;
    else
      model_revive(m, j);
  }
  model_revive(m, down);
}

/* A live node chosen at random among those `ok` accepts, or -1. */
static int pick_node(const struct model *m, uint64_t *s,
                     bool (*ok)(const struct model *, size_t, size_t),
                     size_t arg) {
  size_t n = 0;
  for (size_t i = 0; i < m->n; i++)
    n += m->v[i].alive && ok(m, i, arg);
  if (!n)
    return -1;
  size_t k = pick(s, n);
  for (size_t i = 0; i < m->n; i++)
    if (m->v[i].alive && ok(m, i, arg) && k-- == 0)
      return (int)i;
  return -1;
}

static bool any_node(const struct model *m, size_t i, size_t arg) {
  (void)m, (void)i, (void)arg;
  return true;
}
static bool non_root(const struct model *m, size_t i, size_t arg) {
  (void)arg;
  return m->v[i].parent >= 0;
}
/* arg: 1 for a normal exit (SIGTERM), 0 for a crash */
static bool crashable(const struct model *m, size_t i, size_t arg) {
  struct model_outcome o;
  return m->v[i].parent >= 0 && crash_outcome(m, i, arg == 1, &o);
}
static bool outside(const struct model *m, size_t i, size_t held) {
  return !under(m, i, held);
}

/* ---- writing the plan ------------------------------------------------------ */

struct gen {
  struct chaos_plan *p;
  struct model m;
  uint64_t rng;
  unsigned round;
  int64_t next_id;
  bool oom;
};

static void put(struct gen *g, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void put(struct gen *g, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s = NULL;
  int n = vasprintf(&s, fmt, ap);
  va_end(ap);
  if (n < 0 || edn_buf_append(&g->p->yaml, s, (size_t)n) < 0)
    g->oom = true;
  free(s);
}

/* Names and paths go inside an EDN string inside a YAML single-quoted
 * scalar: both kinds of quote are escaped. */
static void put_edn_str(struct gen *g, const char *s) {
  put(g, "\"");
  for (; *s; s++) {
    if (*s == '"' || *s == '\\')
      put(g, "\\%c", *s);
    else if (*s == '\'')
      put(g, "''");
    else
      put(g, "%c", *s);
  }
  put(g, "\"");
}

/* A name or path as a YAML scalar, quoted as the scenario emitter quotes
 * it (plain when safe). */
static void put_yaml_str(struct gen *g, const char *s) {
  if (scenario_emit_str(&g->p->yaml, s, strlen(s)) < 0)
    g->oom = true;
}

/* Begin step: record its round and description. */
static void step_begin(struct gen *g, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void step_begin(struct gen *g, const char *fmt, ...) {
  struct chaos_plan *p = g->p;
  size_t n = p->nsteps + 1;
  unsigned *ro = realloc(p->round_of, n * sizeof *ro);
  if (ro)
    p->round_of = ro;
  char **w = realloc(p->what, n * sizeof *w);
  if (w)
    p->what = w;
  if (!ro || !w) {
    g->oom = true;
    return;
  }
  va_list ap;
  va_start(ap, fmt);
  if (vasprintf(&p->what[p->nsteps], fmt, ap) < 0)
    p->what[p->nsteps] = NULL;
  va_end(ap);
  p->round_of[p->nsteps] = g->round;
  p->nsteps++;
}

/* The EDN of a request `inner` (a fragment like ":op :ping") sent to
 * node i under :id id: routed unless i is the root. */
static void put_request(struct gen *g, size_t i, int64_t id,
                        const char *inner) {
  const struct mnode *x = &g->m.v[i];
  if (x->parent < 0) {
    put(g, "{:id %" PRId64 " %s}", id, inner);
    return;
  }
  put(g, "{:id %" PRId64 " :op :route :path [", id);
  int chain[4096], n = 0;
  for (int k = (int)i; k > 0 && n < 4096; k = g->m.v[k].parent)
    chain[n++] = k;
  for (int k = n - 1; k >= 0; k--) {
    put_edn_str(g, g->m.v[chain[k]].name);
    put(g, k ? " " : "");
  }
  put(g, "] :req {%s}}", inner);
}

static void gen_request(struct gen *g, size_t i) {
  int64_t id = g->next_id++;
  bool echo = pick(&g->rng, 2);
  const char *path = *g->m.v[i].path ? g->m.v[i].path : g->m.v[i].name;
  step_begin(g, "%s :id %" PRId64 " to %s", echo ? ":echo" : ":ping", id, path);
  g->p->requests++;
  char inner[64], want[80];
  if (echo) {
    snprintf(inner, sizeof inner, ":op :echo :body \"r%u-%" PRId64 "\"",
             g->round, id);
    snprintf(want, sizeof want, ":body \"r%u-%" PRId64 "\"", g->round, id);
  } else {
    snprintf(inner, sizeof inner, ":op :ping");
    snprintf(want, sizeof want, ":pong true");
  }
  put(g, "  - send: '");
  put_request(g, i, id, inner);
  put(g, "'\n    expect: '{:id %" PRId64 " %s}'\n", id, want);
}

static void gen_requests(struct gen *g, bool (*ok)(const struct model *, size_t,
                                                    size_t), size_t arg) {
  size_t n = 1 + pick(&g->rng, 2);
  for (size_t k = 0; k < n; k++) {
    int i = pick_node(&g->m, &g->rng, ok, arg);
    if (i >= 0)
      gen_request(g, (size_t)i);
  }
}

/* Follow a crash of node i through the model; `what` gets the outcome in
 * words for the step's description. */
static void model_crash(struct gen *g, size_t i, bool normal, char *what,
                        size_t len) {
  struct model_outcome o;
  crash_outcome(&g->m, i, normal, &o); /* true: picked as crashable */
  const struct mnode *top = &g->m.v[o.down];
  const char *where = *top->path ? top->path : top->name;
  char up[48] = "";
  if (o.escalations)
    snprintf(up, sizeof up, "escalated %d level%s, ", o.escalations,
             o.escalations > 1 ? "s" : "");
  static const char *const fate[] = {"gone", "removed", "restarted"};
  static const char *const group[] = {"", "", "", "", " with all its siblings",
                                      " with the siblings after it"};
  snprintf(what, len, "%s%s %s%s", up, where, fate[o.fate],
           o.fate == MODEL_RESTARTED ? group[o.strategy] : "");
  crash_apply(&g->m, &o);
  g->p->crashes++;
  g->p->escalations += (size_t)o.escalations;
  g->p->restarts += o.fate == MODEL_RESTARTED;
}

static void gen_kill(struct gen *g, size_t i, bool term) {
  char what[4200];
  model_crash(g, i, term, what, sizeof what);
  step_begin(g, "kill %s with SIG%s (%s)", g->m.v[i].path,
             term ? "TERM" : "KILL", what);
  put(g, "  - kill: {node: ");
  put_yaml_str(g, g->m.v[i].path);
  put(g, ", signal: %s}  # %s\n", term ? "TERM" : "KILL", what);
}

static void gen_panic(struct gen *g, size_t i) {
  int64_t id = g->next_id++;
  char what[4200];
  model_crash(g, i, false, what, sizeof what);
  step_begin(g, ":panic %s (:id %" PRId64 ", %s)", g->m.v[i].path, id, what);
  char inner[64];
  snprintf(inner, sizeof inner, ":op :panic :reason \"chaos r%u\"", g->round);
  put(g, "  - send: '");
  put_request(g, i, id, inner);
  put(g, "'  # %s\n", what);
}

static void gen_hold(struct gen *g, size_t i) {
  long ms = 20 + (long)pick(&g->rng, 60);
  step_begin(g, "hold %s", g->m.v[i].path);
  put(g, "  - hold: ");
  put_yaml_str(g, g->m.v[i].path);
  put(g, "\n");
  gen_requests(g, outside, i); /* the rest of the tree keeps answering */
  step_begin(g, "wait %ld ms while %s is held", ms, g->m.v[i].path);
  put(g, "  - wait_ms: %ld\n", ms);
  step_begin(g, "release %s", g->m.v[i].path);
  put(g, "  - release: ");
  put_yaml_str(g, g->m.v[i].path);
  put(g, "\n");
}

static void gen_spawn(struct gen *g, size_t parent) {
  char name[48];
  snprintf(name, sizeof name, "c%u", g->round);
  /* a tree may already name a child so: never ask for a :wat/exists */
  for (unsigned k = 2;; k++) {
    bool taken = false;
    for (size_t i = 0; i < g->m.n && !taken; i++)
      taken = g->m.v[i].parent == (int)parent && !strcmp(g->m.v[i].name, name);
    if (!taken)
      break;
    snprintf(name, sizeof name, "c%u-%u", g->round, k);
  }
  int64_t id = g->next_id++;
  const char *pp = *g->m.v[parent].path ? g->m.v[parent].path
                                        : g->m.v[parent].name;
  step_begin(g, ":spawn %s under %s (:id %" PRId64 ")", name, pp, id);
  g->p->requests++;
  char inner[96];
  snprintf(inner, sizeof inner, ":op :spawn :spec {:name \"%s\"}", name);
  put(g, "  - send: '");
  put_request(g, parent, id, inner);
  put(g, "'\n    expect: '{:id %" PRId64 " :spawned \"%s\"}'\n", id, name);
  if (model_add(&g->m, name, (int)parent, false) < 0)
    g->oom = true;
}

static void gen_round(struct gen *g) {
  gen_requests(g, any_node, 0);
  /* kill, panic, hold, spawn; without a target, a spawn under the root */
  size_t what = pick(&g->rng, 4);
  bool term = what == 0 && pick(&g->rng, 2);
  int i = -1;
  if (what == 0 || what == 1)
    i = pick_node(&g->m, &g->rng, crashable, term);
  else if (what == 2)
    i = pick_node(&g->m, &g->rng, non_root, 0);
  else
    i = pick_node(&g->m, &g->rng, any_node, 0);
  if (i < 0) {
    what = 3;
    i = 0;
  }
  g->p->actions++;
  if (what == 0)
    gen_kill(g, (size_t)i, term);
  else if (what == 1)
    gen_panic(g, (size_t)i);
  else if (what == 2)
    gen_hold(g, (size_t)i);
  else
    gen_spawn(g, (size_t)i);
  gen_requests(g, any_node, 0);
}

static void put_tree(struct gen *g, const struct tree_node *t) {
  static const char *pol[] = {"", "isolate", "escalate", "restart",
                              "one_for_all", "rest_for_one"};
  static const char *rst[] = {"", "permanent", "transient", "temporary"};
  static const char *shut[] = {"", "", "brutal_kill", "infinity"};
  put(g, "{name: ");
  put_yaml_str(g, t->name);
  if (t->on_child_exit != POLICY_UNSET)
    put(g, ", on_child_exit: %s", pol[t->on_child_exit]);
  if (t->restart != RESTART_UNSET)
    put(g, ", restart: %s", rst[t->restart]);
  if (t->shutdown == SHUTDOWN_MS)
    put(g, ", shutdown_ms: %ld", t->shutdown_ms);
  else if (t->shutdown != SHUTDOWN_UNSET)
    put(g, ", shutdown: %s", shut[t->shutdown]);
  if (t->backoff_base_ms >= 0)
    put(g, ", restart_backoff_ms: [%ld, %ld]", t->backoff_base_ms,
        t->backoff_max_ms);
  if (t->stop_order == STOP_REVERSE)
    put(g, ", stop_order: reverse");
  if (t->max_restarts >= 0)
    put(g, ", max_restarts: %ld", t->max_restarts);
  if (t->restart_period_ms >= 0)
    put(g, ", restart_period_ms: %ld", t->restart_period_ms);
  if (t->queue_bytes >= 0)
    put(g, ", queue_bytes: %ld", t->queue_bytes);
  if (t->grace_ms >= 0)
    put(g, ", grace_ms: %ld", t->grace_ms);
  bool first = true;
  for (size_t i = 0; i < t->nchildren; i++) {
    if (t->children[i]->spawn_step >= 0)
      continue;
    put(g, first ? ", children: [" : ", ");
    first = false;
    put_tree(g, t->children[i]);
  }
  put(g, first ? "}" : "]}");
}

int chaos_plan_make(const struct scenario *s, uint64_t seed, unsigned rounds,
                    struct chaos_plan *p) {
  memset(p, 0, sizeof *p);
  struct gen g = {.p = p, .rng = seed, .next_id = 1};
  if (model_load(&g.m, s->root, -1) < 0)
    g.oom = true;
  put(&g, "# treeproof chaos --seed %" PRIu64 " --rounds %u\nname: ", seed,
      rounds);
  put_yaml_str(&g, s->name);
  put(&g, "\ntimeout_ms: %ld\ntree: ", s->timeout_ms);
  put_tree(&g, s->root);
  put(&g, "\nsteps:\n");
  for (g.round = 1; g.round <= rounds && !g.oom; g.round++) {
    put(&g, "  # round %u\n", g.round);
    gen_round(&g);
  }
  put(&g, "properties: [replies, cascade%s]\n",
      p->crashes ? ", containment" : "");
  if (edn_buf_append(&p->yaml, "", 1) < 0)
    g.oom = true;
  model_free(&g.m);
  if (g.oom) {
    chaos_plan_free(p);
    return -1;
  }
  return 0;
}

void chaos_plan_free(struct chaos_plan *p) {
  for (size_t i = 0; i < p->nsteps; i++)
    free(p->what[i]);
  free(p->what);
  free(p->round_of);
  edn_buf_free(&p->yaml);
  memset(p, 0, sizeof *p);
}

/* ---- running a plan ------------------------------------------------------- */

int chaos_run(const struct chaos_plan *p, const char *file, char **node_argv,
              struct chaos_run *out, char *msg, size_t msglen) {
  memset(out, 0, sizeof *out);
  out->r.failed_step = -1;
  struct scenario_error se;
  out->cs = scenario_load_mem(file, p->yaml.ptr, p->yaml.len - 1, &se);
  if (!out->cs) {
    snprintf(msg, msglen, "the generated plan does not load (a harness "
             "bug): %d:%d: %s", se.pos.line, se.pos.column, se.message);
    return -1;
  }
  if (out->cs->nsteps != p->nsteps) {
    snprintf(msg, msglen, "the generated plan has %zu steps, not %zu (a "
             "harness bug)", out->cs->nsteps, p->nsteps);
    return -1;
  }
  /* the orphan and zombie scan after each round's last step */
  for (size_t i = 0; i < p->nsteps; i++)
    if (i + 1 == p->nsteps || p->round_of[i + 1] != p->round_of[i]) {
      out->cs->steps[i].scan_after = true;
      out->scans++;
    }
  struct run_opts ro = {.node_argv = node_argv};
  if (run_scenario(out->cs, &ro, &out->r) < 0) {
    snprintf(msg, msglen, "%s", out->r.steps.summary ? out->r.steps.summary
                                                     : "cannot run");
    return -1;
  }
  out->ran = true;
  return 0;
}

void chaos_run_free(struct chaos_run *c) {
  scenario_result_free(&c->r); /* safe on a zeroed result */
  scenario_free(c->cs);
  memset(c, 0, sizeof *c);
}

/* The step an evidence text names first ("step 12 (...)"), 0-based, or -1. */
static long step_in(const char *text) {
  const char *p = text;
  while (p && (p = strstr(p, "step "))) {
    char *end;
    long n = strtol(p + 5, &end, 10);
    if (end != p + 5 && *end == ' ' && n > 0)
      return n - 1;
    p += 5;
  }
  return -1;
}

void chaos_failure(const struct chaos_plan *p, const struct scenario_result *r,
                   struct chaos_failure *f) {
  memset(f, 0, sizeof *f);
  f->check = "steps";
  if (r->steps.verdict == VERDICT_FAIL) {
    f->evidence = r->steps.evidence;
    f->summary = r->steps.summary;
  }
  for (int k = 0; k < PROP_COUNT && !f->summary; k++)
    if (r->props[k].verdict == VERDICT_FAIL) {
      f->evidence = r->props[k].evidence;
      f->summary = r->props[k].summary;
      f->check = property_name((enum property)k);
    }
  long st = r->failed_step;
  if (st < 0 && f->evidence)
    st = step_in(f->evidence);
  f->step = -1;
  if (st >= 0 && (size_t)st < p->nsteps) {
    f->step = st;
    f->round = p->round_of[st];
    f->what = p->what[st];
  }
}
