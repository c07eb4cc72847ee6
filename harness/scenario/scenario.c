/* scenario.c — loading a scenario file: read the bytes (bounded), parse the
 * YAML (scenario_yaml.c), walk the top-level keys in a fixed order (tree,
 * steps, properties, backpressure) and keep the first error. Also the
 * scenario's public helpers: find a node by path, a node's spec as EDN. */
#include "internal.h"
#include "read_all.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const top_keys[] = {
    "name", "description", "timeout_ms", "tree", "generate", "steps",
    "properties", "backpressure", "ssh_config", "remote_watvm", "hop_bytes",
    NULL};

static const char *const prop_names[PROP_COUNT] = {
    "replies", "isolation", "backpressure", "containment", "cascade",
    "topology"};

const char *step_edge_name(enum step_edge e) {
  return e == EDGE_CLIENT ? "client" : e == EDGE_SESSION ? "session" : NULL;
}

const char *property_name(enum property p) {
  return (unsigned)p < PROP_COUNT ? prop_names[p] : "?";
}

void scenario_set_step_timeout(struct scenario *s, long ms) {
  for (size_t i = 0; i < s->nsteps; i++)
    if (!s->steps[i].timeout_own)
      s->steps[i].timeout_ms = ms;
}

void scenario_free(struct scenario *s) {
  if (!s)
    return;
  for (size_t i = 0; i < s->nsteps; i++)
    free(s->steps[i].send_text);
  free(s->steps);
  tree_node_free(s->root);
  edn_arena_free(s->arena);
  free(s->file);
  free(s->name);
  free(s->description);
  free(s->ssh_config);
  free(s->remote_watvm);
  free(s);
}

struct tree_node *scenario_find(const struct scenario *s, const char *path) {
  if (!s || !s->root || !path)
    return NULL;
  if (strcmp(path, s->root->name) == 0)
    return s->root;
  struct tree_node *at = s->root;
  const char *p = path;
  for (;;) {
    const char *slash = strchr(p, '/');
    size_t len = slash ? (size_t)(slash - p) : strlen(p);
    at = tree_child(at, p, len);
    if (!at || !slash)
      return at;
    p = slash + 1;
  }
}

/* ---- the spec ------------------------------------------------------------ */

static int put_long(edn_arena *a, edn_value *m, const char *k, long v) {
  if (v < 0)
    return 0;
  edn_value *x = edn_int(a, v);
  return x ? edn_map_putk(a, m, k, x) : -1;
}

static const char *policy_kw(enum policy p) {
  switch (p) {
  case POLICY_ISOLATE: return "isolate";
  case POLICY_ESCALATE: return "escalate";
  case POLICY_RESTART: return "restart";
  case POLICY_ONE_FOR_ALL: return "one-for-all";
  case POLICY_REST_FOR_ONE: return "rest-for-one";
  default: return NULL;
  }
}

static int put_kw(edn_arena *a, edn_value *m, const char *k, const char *kw) {
  if (!kw)
    return 0;
  edn_value *x = edn_keyword(a, kw);
  return x ? edn_map_putk(a, m, k, x) : -1;
}

/* The supervision keys: the node's stop order, and as a child its restart
 * type, its shutdown and its backoff. */
static int put_supervision(edn_arena *a, edn_value *m, const struct tree_node *n) {
  static const char *const restart[] = {NULL, "permanent", "transient",
                                        "temporary"};
  static const char *const stop[] = {NULL, "parallel", "reverse"};
  const char *shut = n->shutdown == SHUTDOWN_BRUTAL_KILL ? "brutal-kill"
                     : n->shutdown == SHUTDOWN_INFINITY  ? "infinity"
                                                         : NULL;
  if (put_kw(a, m, "stop-order", stop[n->stop_order]) < 0 ||
      put_kw(a, m, "restart", restart[n->restart]) < 0 ||
      put_kw(a, m, "shutdown", shut) < 0 ||
      put_long(a, m, "shutdown-ms", n->shutdown == SHUTDOWN_MS ? n->shutdown_ms : -1) < 0)
    return -1;
  if (n->backoff_base_ms < 0)
    return 0;
  edn_value *v = edn_coll(a, EDN_VECTOR);
  if (!v || edn_push(a, v, edn_int(a, n->backoff_base_ms)) < 0 ||
      edn_push(a, v, edn_int(a, n->backoff_max_ms)) < 0)
    return -1;
  return edn_map_putk(a, m, "restart-backoff-ms", v);
}

edn_value *scenario_node_spec(edn_arena *a, const struct tree_node *n) {
  edn_value *m = edn_coll(a, EDN_MAP), *kids = edn_coll(a, EDN_VECTOR);
  edn_value *name = edn_string(a, n->name, strlen(n->name));
  edn_value *depth = edn_int(a, n->depth);
  if (!m || !kids || !name || !depth || edn_map_putk(a, m, "name", name) < 0 ||
      edn_map_putk(a, m, "depth", depth) < 0)
    return NULL;
  for (size_t i = 0; i < n->nchildren; i++) {
    const struct tree_node *c = n->children[i];
    if (c->spawn_step != n->spawn_step)
      continue; /* spawned by a later step, not part of n's birth */
    edn_value *cs = scenario_node_spec(a, c);
    if (!cs || edn_push(a, kids, cs) < 0)
      return NULL;
  }
  if (edn_map_putk(a, m, "children", kids) < 0 ||
      (n->host && edn_map_putk(a, m, "host", edn_string(a, n->host, strlen(n->host))) < 0))
    return NULL;
  const char *pol = policy_kw(n->on_child_exit);
  if (pol) {
    edn_value *k = edn_keyword(a, pol);
    if (!k || edn_map_putk(a, m, "on-child-exit", k) < 0)
      return NULL;
  }
  if (put_long(a, m, "max-restarts", n->max_restarts) < 0 ||
      put_long(a, m, "restart-period-ms", n->restart_period_ms) < 0 ||
      put_long(a, m, "queue-bytes", n->queue_bytes) < 0 ||
      put_long(a, m, "grace-ms", n->grace_ms) < 0 ||
      put_supervision(a, m, n) < 0)
    return NULL;
  return m;
}

static int put_str(edn_arena *a, edn_value *m, const char *k, const char *v) {
  return v ? edn_map_putk(a, m, k, edn_string(a, v, strlen(v))) : 0;
}

edn_value *scenario_root_spec(edn_arena *a, const struct scenario *s) {
  edn_value *m = scenario_node_spec(a, s->root);
  if (!m || put_str(a, m, "ssh-config", s->ssh_config) < 0 ||
      put_str(a, m, "remote-watvm", s->remote_watvm) < 0)
    return NULL;
  return m;
}

/* Depth first: each new destination under t appended to v (room for
 * every node: at most one each). */
static void collect_hosts(const struct tree_node *t, const char **v, long *n) {
  if (t->host) {
    long i = 0;
    while (i < *n && strcmp(v[i], t->host))
      i++;
    if (i == *n)
      v[(*n)++] = t->host;
  }
  for (size_t i = 0; i < t->nchildren; i++)
    collect_hosts(t->children[i], v, n);
}

long scenario_hosts(const struct scenario *s, const char ***out) {
  *out = NULL;
  size_t all = s->root ? tree_count(s->root) : 0;
  const char **v = all ? malloc(all * sizeof *v) : NULL;
  if (all && !v)
    return -1;
  long n = 0;
  if (v)
    collect_hosts(s->root, v, &n);
  if (n == 0)
    free(v);
  else
    *out = v;
  return n;
}

/* ---- top level ----------------------------------------------------------- */

/* A non-empty string with no NUL or line break (it becomes an argv
 * string, and a path the far shell reads between quotes). */
static int load_path_string(struct loader *L, const struct ynode *y,
                            const char *what, char **out) {
  if (load_string(L, y, what, out) < 0)
    return -1;
  if (!(*out)[0] || strpbrk(*out, "\n\r"))
    return load_fail(L, y, "%s: expected a path (non-empty, one line)", what);
  return 0;
}

/* ssh_config, remote_watvm, hop_bytes: how far nodes are reached. */
static int load_hosts_keys(struct loader *L, const struct ynode *top) {
  struct scenario *s = L->s;
  const struct ynode *v;
  s->hop_bytes = SCENARIO_DEFAULT_HOP_BYTES;
  if ((v = ymap_get(top, "ssh_config"))) {
    if (load_path_string(L, v, "ssh_config", &s->ssh_config) < 0)
      return -1;
    s->ssh_config_given = true;
  } else {
    const char *env = getenv("TREEPROOF_SSH_CONFIG");
    if (env && env[0] && !(s->ssh_config = strdup(env)))
      return load_fail(L, top, "out of memory");
  }
  if ((v = ymap_get(top, "remote_watvm"))) {
    if (load_path_string(L, v, "remote_watvm", &s->remote_watvm) < 0)
      return -1;
    if (s->remote_watvm[0] != '/')
      return load_fail(L, v, "remote_watvm: expected an absolute path (the far "
                       "login shell's directory is not ours), got '%.80s'",
                       s->remote_watvm);
  }
  if ((v = ymap_get(top, "hop_bytes")) &&
      load_long(L, v, "hop_bytes", 0, 1L << 40, &s->hop_bytes) < 0)
    return -1;
  return 0;
}


static int load_properties(struct loader *L, const struct ynode *y) {
  bool *props = L->s->properties;
  if (!y) {
    props[PROP_REPLIES] = props[PROP_TOPOLOGY] = props[PROP_CASCADE] = true;
    return 0;
  }
  if (y->kind != YN_SEQ)
    return load_fail(L, y, "properties: expected a sequence of property "
                     "names, got %s", ynode_kind_name(y));
  for (size_t i = 0; i < y->n; i++) {
    const struct ynode *p = y->items[i];
    int found = -1;
    for (int k = 0; k < PROP_COUNT && p->kind == YN_SCALAR; k++)
      if (strcmp(p->text, prop_names[k]) == 0 && p->len == strlen(prop_names[k]))
        found = k;
    if (found < 0)
      return load_fail(L, p, "properties: unknown property '%.60s' (replies, "
                       "topology, isolation, backpressure, containment, "
                       "cascade)",
                       p->kind == YN_SCALAR ? p->text : "?");
    if (props[found])
      return load_fail(L, p, "properties: '%s' listed twice", p->text);
    if (found == PROP_CONTAINMENT && !L->s->has_crash)
      return load_fail(L, p, "properties: containment is judged at crash "
                       "steps, and this scenario has none (no :panic sent, "
                       "no kill)");
    props[found] = true;
  }
  return 0;
}

static int load_backpressure(struct loader *L, const struct ynode *y) {
  static const char *const keys[] = {"hold", "rss_kb", NULL};
  struct scenario *s = L->s;
  s->bp_rss_kb = SCENARIO_DEFAULT_RSS_KB;
  s->bp_hold = tree_first_leaf(s->root);
  if (!y)
    return 0;
  if (load_check_keys(L, y, "backpressure", keys) < 0)
    return -1;
  const struct ynode *h = ymap_get(y, "hold"), *r = ymap_get(y, "rss_kb");
  if (r && load_long(L, r, "backpressure: rss_kb", 1, 1L << 40, &s->bp_rss_kb) < 0)
    return -1;
  if (!h)
    return 0;
  if (load_path(L, h, "backpressure: hold", &s->bp_hold) < 0)
    return -1;
  if (s->bp_hold->spawn_step >= 0)
    return load_fail(L, h, "backpressure: hold names a node spawned by a step; "
                     "name one of the initial tree");
  return 0;
}

static char *file_stem(const char *path) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  size_t len = strlen(base);
  const char *dot = strrchr(base, '.');
  if (dot && dot != base)
    len = (size_t)(dot - base);
  return strndup(base, len);
}

static int load_header(struct loader *L, const struct ynode *top) {
  struct scenario *s = L->s;
  const struct ynode *v;
  s->timeout_ms = SCENARIO_DEFAULT_TIMEOUT_MS;
  if ((v = ymap_get(top, "name"))) {
    if (load_string(L, v, "name", &s->name) < 0)
      return -1;
    if (strpbrk(s->name, "\n\r\t#") || s->name[0] == '\0')
      return load_fail(L, v, "name: a scenario name holds no '#', tab or "
                       "line break");
  } else if (!(s->name = file_stem(L->file))) {
    return load_fail(L, top, "out of memory");
  }
  if ((v = ymap_get(top, "description")) &&
      load_string(L, v, "description", &s->description) < 0)
    return -1;
  if ((v = ymap_get(top, "timeout_ms")) &&
      load_long(L, v, "timeout_ms", 1, MS_MAX, &s->timeout_ms) < 0)
    return -1;
  return 0;
}

static int load_topology(struct loader *L, const struct ynode *top) {
  const struct ynode *tree = ymap_get(top, "tree"), *gen = ymap_get(top, "generate");
  if (tree && gen)
    return load_fail(L, ymap_key(top, "generate"),
                     "give either tree or generate, not both");
  if (tree)
    return load_tree(L, tree);
  if (gen)
    return load_generate(L, gen);
  return load_fail(L, top, "missing 'tree' (or 'generate'): a scenario needs "
                   "a topology");
}

static int load_top(struct loader *L, const struct ynode *top) {
  if (top->kind != YN_MAP)
    return load_fail(L, top, "a scenario is a mapping (name, tree, steps, "
                     "...), got %s", ynode_kind_name(top));
  if (load_check_keys(L, top, "scenario", top_keys) < 0 ||
      load_header(L, top) < 0 || load_hosts_keys(L, top) < 0 ||
      load_topology(L, top) < 0)
    return -1;
  const struct ynode *steps = ymap_get(top, "steps");
  if (!steps)
    return load_fail(L, top, "missing 'steps'");
  if (load_steps(L, steps) < 0 ||
      load_properties(L, ymap_get(top, "properties")) < 0 ||
      load_backpressure(L, ymap_get(top, "backpressure")) < 0)
    return -1;
  return 0;
}

struct scenario *scenario_load_mem(const char *file, const char *bytes,
                                   size_t len, struct scenario_error *err) {
  struct scenario_error scratch;
  if (!err)
    err = &scratch;
  memset(err, 0, sizeof *err);
  struct loader L = {.file = file ? file : "-", .err = err};
  struct scenario *s = calloc(1, sizeof *s);
  if (!s || !(s->arena = edn_arena_new()) || !(s->file = strdup(L.file))) {
    load_fail(&L, NULL, "out of memory");
    scenario_free(s);
    return NULL;
  }
  L.s = s;
  struct scenario_pos pos = {1, 1};
  char msg[sizeof err->message];
  struct ynode *top = ytree_parse(bytes, len, &pos, msg, sizeof msg);
  if (!top) {
    snprintf(err->file, sizeof err->file, "%s", L.file);
    err->pos = pos;
    snprintf(err->message, sizeof err->message, "%s", msg);
    scenario_free(s);
    return NULL;
  }
  int rc = load_top(&L, top);
  ytree_free(top);
  if (rc < 0) {
    scenario_free(s);
    return NULL;
  }
  return s;
}

/* The whole file, refusing more than YTREE_MAX_BYTES. */
static char *slurp(const char *path, size_t *len, int *err) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *err = errno;
    return NULL;
  }
  char *buf = read_all(fd, YTREE_MAX_BYTES, len, err);
  close(fd);
  return buf;
}

struct scenario *scenario_load(const char *path, struct scenario_error *err) {
  struct scenario_error scratch;
  if (!err)
    err = &scratch;
  size_t len = 0;
  int e = 0;
  char *bytes = slurp(path, &len, &e);
  if (!bytes) {
    memset(err, 0, sizeof *err);
    snprintf(err->file, sizeof err->file, "%s", path);
    err->pos.line = err->pos.column = 0; /* no position: no line was read */
    if (e == EFBIG)
      snprintf(err->message, sizeof err->message,
               "scenario file too large (limit 16 MiB)");
    else
      snprintf(err->message, sizeof err->message, "cannot read: %s",
               strerror(e ? e : ENOMEM));
    return NULL;
  }
  struct scenario *s = scenario_load_mem(path, bytes, len, err);
  free(bytes);
  return s;
}

void scenario_error_format(const struct scenario_error *e, char *buf,
                           size_t len) {
  if (e->pos.line > 0)
    snprintf(buf, len, "%s:%d:%d: error: %s", e->file, e->pos.line,
             e->pos.column, e->message);
  else
    snprintf(buf, len, "%s: error: %s", e->file, e->message);
}
