/* chaos.c — `treeproof chaos SCENARIO --seed N --rounds K`: a seeded,
 * reproducible schedule of faults against a live tree while requests flow.
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
 * :route), then 1-2 requests again. Kills and panics only hit nodes whose
 * parent isolates (:isolate, the default): with :restart or :escalate the
 * outcome depends on timing the model cannot know. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "chaos.h"
#include "node_cmd.h"
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
  bool isolated;     /* its parent isolates: a kill or panic is contained */
};

struct model {
  struct mnode *v;
  size_t n, cap;
};

static int model_add(struct model *m, const char *name, int parent,
                     bool isolated) {
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
  x->isolated = isolated;
  m->n++;
  return (int)(m->n - 1);
}

static int model_load(struct model *m, const struct tree_node *t, int parent) {
  bool iso = !t->parent || t->parent->on_child_exit == POLICY_UNSET ||
             t->parent->on_child_exit == POLICY_ISOLATE;
  int me = model_add(m, t->name, parent, iso);
  if (me < 0)
    return -1;
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
static bool crashable(const struct model *m, size_t i, size_t arg) {
  (void)arg;
  return m->v[i].parent >= 0 && m->v[i].isolated;
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

static void put_yaml_str(struct gen *g, const char *s) {
  put(g, "'");
  for (; *s; s++)
    put(g, *s == '\'' ? "''" : "%c", *s);
  put(g, "'");
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

static void gen_kill(struct gen *g, size_t i) {
  bool term = pick(&g->rng, 2);
  step_begin(g, "kill %s with SIG%s", g->m.v[i].path, term ? "TERM" : "KILL");
  put(g, "  - kill: {node: ");
  put_yaml_str(g, g->m.v[i].path);
  put(g, ", signal: %s}\n", term ? "TERM" : "KILL");
  model_kill(&g->m, i);
}

static void gen_panic(struct gen *g, size_t i) {
  int64_t id = g->next_id++;
  step_begin(g, ":panic %s (:id %" PRId64 ")", g->m.v[i].path, id);
  char inner[64];
  snprintf(inner, sizeof inner, ":op :panic :reason \"chaos r%u\"", g->round);
  put(g, "  - send: '");
  put_request(g, i, id, inner);
  put(g, "'\n");
  model_kill(&g->m, i);
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
  if (model_add(&g->m, name, (int)parent, true) < 0)
    g->oom = true;
}

static void gen_round(struct gen *g) {
  gen_requests(g, any_node, 0);
  /* kill, panic, hold, spawn; without a target, a spawn under the root */
  size_t what = pick(&g->rng, 4);
  int i = -1;
  if (what == 0 || what == 1)
    i = pick_node(&g->m, &g->rng, crashable, 0);
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
    gen_kill(g, (size_t)i);
  else if (what == 1)
    gen_panic(g, (size_t)i);
  else if (what == 2)
    gen_hold(g, (size_t)i);
  else
    gen_spawn(g, (size_t)i);
  gen_requests(g, any_node, 0);
}

static void put_tree(struct gen *g, const struct tree_node *t) {
  static const char *pol[] = {"", "isolate", "escalate", "restart"};
  put(g, "{name: ");
  put_yaml_str(g, t->name);
  if (t->on_child_exit != POLICY_UNSET)
    put(g, ", on_child_exit: %s", pol[t->on_child_exit]);
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
  bool crash = strstr(p->yaml.ptr ? p->yaml.ptr : "", "kill:") ||
               strstr(p->yaml.ptr ? p->yaml.ptr : "", ":op :panic");
  put(&g, "properties: [replies, cascade%s]\n", crash ? ", containment" : "");
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

/* ---- the command ----------------------------------------------------------- */

struct chaos_args {
  const char *file, *node_cmd;
  uint64_t seed;
  unsigned long rounds;
  bool dry_run, verbose, have_seed, have_rounds;
};

static int bad_usage(FILE *err, const char *what, const char *arg) {
  fprintf(err, "treeproof: fatal: chaos: %s%s%s\n(see treeproof --help)\n",
          what, arg ? " " : "", arg ? arg : "");
  return 2;
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out) {
  if (!s || !*s || *s == '-')
    return -1;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 0);
  if (errno || *end || v > max)
    return -1;
  *out = v;
  return 0;
}

static int parse_args(int argc, char **argv, struct chaos_args *a, FILE *err) {
  memset(a, 0, sizeof *a);
  for (int i = 1; i < argc; i++) {
    const char *s = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    uint64_t x;
    if (!strcmp(s, "--dry-run")) {
      a->dry_run = true;
    } else if (!strcmp(s, "--verbose") || !strcmp(s, "-v")) {
      a->verbose = true;
    } else if (!strcmp(s, "--seed")) {
      if (parse_u64(v, UINT64_MAX, &a->seed) < 0)
        return bad_usage(err, "--seed needs a non-negative integer, not", v ? v : "nothing");
      a->have_seed = true;
      i++;
    } else if (!strcmp(s, "--rounds")) {
      if (parse_u64(v, 100000, &x) < 0 || x == 0)
        return bad_usage(err, "--rounds needs an integer from 1 to 100000, not", v ? v : "nothing");
      a->rounds = (unsigned long)x;
      a->have_rounds = true;
      i++;
    } else if (!strcmp(s, "--node-cmd")) {
      if (!v || !*v)
        return bad_usage(err, "--node-cmd needs a value", NULL);
      a->node_cmd = v;
      i++;
    } else if (s[0] == '-' && s[1]) {
      return bad_usage(err, "unknown option", s);
    } else if (a->file) {
      return bad_usage(err, "give exactly one scenario; extra:", s);
    } else {
      a->file = s;
    }
  }
  if (!a->file)
    return bad_usage(err, "no scenario file given", NULL);
  if (!a->have_seed || !a->have_rounds)
    return bad_usage(err, "--seed N and --rounds K are both required", NULL);
  return 0;
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

static void print_failure(FILE *out, const struct chaos_args *a,
                          const struct chaos_plan *p,
                          const struct scenario_result *r) {
  long st = r->failed_step;
  const char *ev = NULL, *sum = NULL, *name = "steps";
  if (r->steps.verdict == VERDICT_FAIL) {
    ev = r->steps.evidence;
    sum = r->steps.summary;
  }
  for (int k = 0; k < PROP_COUNT && !sum; k++)
    if (r->props[k].verdict == VERDICT_FAIL) {
      ev = r->props[k].evidence;
      sum = r->props[k].summary;
      name = property_name((enum property)k);
    }
  if (st < 0 && ev)
    st = step_in(ev);
  if (st >= 0 && (size_t)st < p->nsteps)
    fprintf(out, "chaos: FAIL round %u, step %ld: %s\n", p->round_of[st],
            st + 1, p->what[st] ? p->what[st] : "?");
  else
    fprintf(out, "chaos: FAIL at the end (after round %lu): %s\n", a->rounds,
            name);
  fprintf(out, "  %s: %s\n", name, sum ? sum : "failed");
  if (ev)
    fprintf(out, "%s%s", ev, ev[strlen(ev) - 1] == '\n' ? "" : "\n");
  fprintf(out, "reproduce: treeproof chaos %s --seed %" PRIu64 " --rounds %lu\n",
          a->file, a->seed, a->rounds);
}

static int run_plan(const struct chaos_args *a, const struct chaos_plan *p,
                    const struct scenario *cs, FILE *out, FILE *err) {
  char msg[512];
  char **argv_node = node_cmd_resolve(a->node_cmd, msg, sizeof msg);
  if (!argv_node) {
    fprintf(err, "treeproof: fatal: %s\n", msg);
    return 2;
  }
  run_install_signal_handlers();
  struct run_opts ro = {argv_node, NULL, NULL};
  struct scenario_result r;
  int rc = run_scenario(cs, &ro, &r);
  int status;
  if (run_interrupted()) {
    fprintf(err, "treeproof: chaos interrupted: the tree was killed\n");
    status = 128 + run_interrupted();
  } else if (rc < 0) {
    fprintf(err, "treeproof: fatal: chaos: %s\n",
            r.steps.summary ? r.steps.summary : "cannot run");
    status = 2;
  } else if (!scenario_result_passed(&r)) {
    print_failure(out, a, p, &r);
    status = 1;
  } else {
    fprintf(out, "chaos: %s seed %" PRIu64 ": %lu rounds held: %zu actions, "
            "%zu requests, 0 orphans, 0 zombies, 0 lost replies (%.0f ms)\n",
            cs->name, a->seed, a->rounds, p->actions, p->requests, r.ms);
    status = 0;
  }
  scenario_result_free(&r);
  node_cmd_free(argv_node);
  return status;
}

int chaos_cmd(int argc, char **argv, FILE *out, FILE *err) {
  struct chaos_args a;
  if (parse_args(argc, argv, &a, err) != 0)
    return 2;
  struct scenario_error se;
  struct scenario *s = scenario_load(a.file, &se);
  if (!s) {
    fprintf(err, "%s:%d:%d: error: %s\n", se.file, se.pos.line, se.pos.column,
            se.message);
    return 2;
  }
  struct chaos_plan p;
  int status = 2;
  struct scenario *cs = NULL;
  if (chaos_plan_make(s, a.seed, (unsigned)a.rounds, &p) < 0) {
    fprintf(err, "treeproof: fatal: chaos: out of memory\n");
    goto done;
  }
  if (a.dry_run || a.verbose) {
    fputs(p.yaml.ptr, out);
    fflush(out);
  }
  if (a.dry_run) {
    status = 0;
    goto done_plan;
  }
  cs = scenario_load_mem(a.file, p.yaml.ptr, p.yaml.len - 1, &se);
  if (!cs) {
    fprintf(err, "treeproof: fatal: chaos: the generated plan does not load "
            "(a harness bug): %d:%d: %s\n", se.pos.line, se.pos.column,
            se.message);
    goto done_plan;
  }
  status = run_plan(&a, &p, cs, out, err);
done_plan:
  chaos_plan_free(&p);
done:
  scenario_free(cs);
  scenario_free(s);
  return status;
}
