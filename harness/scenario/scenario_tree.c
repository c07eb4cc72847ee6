/* scenario_tree.c — the topology of a scenario: an explicit `tree:` of node
 * mappings, or `generate: {fanout: F, depth: D}` (a full tree named L1,
 * L2-1, L3-1-1, ..., every node with the node keys given beside them). Node keys are YAML snake_case for the spec's EDN
 * kebab-case; sibling names are unique; size and depth are capped. */
#define _GNU_SOURCE
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const node_keys[] = {
    "name", "children", "on_child_exit", "max_restarts", "restart_period_ms",
    "queue_bytes", "grace_ms", "stop_order", "restart", "shutdown",
    "shutdown_ms", "restart_backoff_ms", "host", NULL};

struct tree_node *tree_node_new(const char *name, struct tree_node *parent) {
  struct tree_node *n = calloc(1, sizeof *n);
  if (!n)
    return NULL;
  n->name = strdup(name);
  if (!parent || !parent->parent) /* the root, or a node right below it */
    n->path = strdup(name);
  else if (asprintf(&n->path, "%s/%s", parent->path, name) < 0)
    n->path = NULL;
  if (!n->name || !n->path) {
    free(n->name);
    free(n->path);
    free(n);
    return NULL;
  }
  n->parent = parent;
  n->depth = parent ? parent->depth + 1 : 1;
  n->max_restarts = n->restart_period_ms = n->queue_bytes = n->grace_ms = -1;
  n->shutdown_ms = n->backoff_base_ms = n->backoff_max_ms = -1;
  n->spawn_step = -1;
  return n;
}

void tree_node_free(struct tree_node *n) {
  if (!n)
    return;
  for (size_t i = 0; i < n->nchildren; i++)
    tree_node_free(n->children[i]);
  free(n->children);
  free(n->name);
  free(n->path);
  free(n->host);
  free(n);
}

int load_link(struct loader *L, const struct ynode *y,
              struct tree_node *parent, struct tree_node *child) {
  struct tree_node *twin = tree_child(parent, child->name, strlen(child->name));
  if (twin)
    return load_fail(L, y,
                     "duplicate node name '%s' under '%s' (first at line %d)",
                     child->name, parent->path, twin->pos.line);
  struct tree_node **c =
      realloc(parent->children, (parent->nchildren + 1) * sizeof *c);
  if (!c)
    return load_fail(L, y, "out of memory");
  parent->children = c;
  c[parent->nchildren++] = child;
  return 0;
}

/* One of a few words (`names`, NULL-terminated) as its value in `vals`;
 * the message lists the words allowed. */
static int load_word(struct loader *L, const struct ynode *y, const char *what,
                     const char *const *names, const int *vals, int *out) {
  char allowed[256] = "";
  for (size_t i = 0; names[i]; i++) {
    if (y && y->kind == YN_SCALAR && y->len == strlen(names[i]) &&
        strcmp(y->text, names[i]) == 0) {
      *out = vals[i];
      return 0;
    }
    size_t at = strlen(allowed);
    snprintf(allowed + at, sizeof allowed - at, "%s%s",
             i == 0 ? "" : names[i + 1] ? ", " : " or ", names[i]);
  }
  if (!y || y->kind != YN_SCALAR)
    return load_fail(L, y, "%s: expected %s, got %s", what, allowed,
                     ynode_kind_name(y));
  return load_fail(L, y, "%s: expected %s, got '%.60s'", what, allowed, y->text);
}

static int load_policy(struct loader *L, const struct ynode *y,
                       enum policy *out) {
  static const char *const names[] = {"isolate", "escalate", "restart",
                                      "one_for_one", "one_for_all",
                                      "rest_for_one", NULL};
  static const int vals[] = {POLICY_ISOLATE, POLICY_ESCALATE, POLICY_RESTART,
                             POLICY_RESTART, POLICY_ONE_FOR_ALL,
                             POLICY_REST_FOR_ONE};
  int v;
  if (load_word(L, y, "on_child_exit", names, vals, &v) < 0)
    return -1;
  *out = (enum policy)v;
  return 0;
}

/* `restart_backoff_ms: [BASE, MAX]`, 0 <= BASE <= MAX. */
static int load_backoff(struct loader *L, const struct ynode *y,
                        struct tree_node *n) {
  if (!y || y->kind != YN_SEQ || y->n != 2)
    return load_fail(L, y, "restart_backoff_ms: expected [BASE, MAX] (two "
                     "numbers of ms), got %s", ynode_kind_name(y));
  if (load_long(L, y->items[0], "restart_backoff_ms: BASE", 0, MS_MAX,
                &n->backoff_base_ms) < 0 ||
      load_long(L, y->items[1], "restart_backoff_ms: MAX", 0, MS_MAX,
                &n->backoff_max_ms) < 0)
    return -1;
  if (n->backoff_max_ms < n->backoff_base_ms)
    return load_fail(L, y->items[1], "restart_backoff_ms: MAX (%ld) is below "
                     "BASE (%ld)", n->backoff_max_ms, n->backoff_base_ms);
  return 0;
}

/* The keys a node has as a child: its restart type, its shutdown, its
 * backoff. Each is read by the parent, so each must make sense under it. */
static int load_child_keys(struct loader *L, const struct ynode *y,
                           struct tree_node *n) {
  static const char *const rnames[] = {"permanent", "transient", "temporary",
                                       NULL};
  static const int rvals[] = {RESTART_PERMANENT, RESTART_TRANSIENT,
                              RESTART_TEMPORARY};
  static const char *const snames[] = {"brutal_kill", "infinity", NULL};
  static const int svals[] = {SHUTDOWN_BRUTAL_KILL, SHUTDOWN_INFINITY};
  const struct ynode *v, *ys = ymap_get(y, "shutdown"),
                         *yms = ymap_get(y, "shutdown_ms");
  int w;
  if ((v = ymap_get(y, "restart")) &&
      (load_word(L, v, "restart", rnames, rvals, &w) < 0 ||
       (n->restart = (enum restart_type)w, 0)))
    return -1;
  if (ys && yms)
    return load_fail(L, yms, "shutdown_ms: give either shutdown or "
                     "shutdown_ms, not both");
  if (ys && (load_word(L, ys, "shutdown", snames, svals, &w) < 0 ||
             (n->shutdown = (enum shutdown_kind)w, 0)))
    return -1;
  if (yms) {
    if (load_long(L, yms, "shutdown_ms", 0, MS_MAX, &n->shutdown_ms) < 0)
      return -1;
    n->shutdown = SHUTDOWN_MS;
  }
  if ((v = ymap_get(y, "restart_backoff_ms")) && load_backoff(L, v, n) < 0)
    return -1;
  return 0;
}

/* A child key on the root (it has no parent to read it), or a backoff
 * under a parent that never restarts, is an error at the key. */
static int check_child_keys(struct loader *L, const struct ynode *y,
                            const struct tree_node *n) {
  static const char *const keys[] = {"restart", "shutdown", "shutdown_ms",
                                     "restart_backoff_ms", NULL};
  for (size_t i = 0; !n->parent && keys[i]; i++)
    if (ymap_get(y, keys[i]))
      return load_fail(L, ymap_key(y, keys[i]), "%s: the root has no parent "
                       "to apply it (it is a child's key)", keys[i]);
  const struct ynode *b = ymap_key(y, "restart_backoff_ms");
  if (b && n->parent && !policy_restarts(node_policy(n->parent)))
    return load_fail(L, b, "restart_backoff_ms: %s's parent %s never restarts "
                     "a child (on_child_exit: %s)", n->name, n->parent->name,
                     node_policy(n->parent) == POLICY_ESCALATE ? "escalate"
                                                               : "isolate");
  return 0;
}

/* `host: DEST`: not on the root, which runs where the harness runs. */
static int load_host(struct loader *L, const struct ynode *y,
                     struct tree_node *n) {
  const struct ynode *v = ymap_get(y, "host");
  if (!v)
    return 0;
  if (!n->parent)
    return load_fail(L, ymap_key(y, "host"), "host: the root runs where the "
                     "harness runs (give host: to a node below it)");
  if (load_string(L, v, "host", &n->host) < 0)
    return -1;
  const char *p = spec_host_problem(n->host);
  if (p)
    return load_fail(L, v, "host: '%.60s' is no ssh destination: it %s",
                     n->host, p);
  return 0;
}

/* The optional numeric and policy keys of one node mapping. */
static int load_options(struct loader *L, const struct ynode *y,
                        struct tree_node *n) {
  const struct ynode *v;
  if ((v = ymap_get(y, "on_child_exit")) && load_policy(L, v, &n->on_child_exit) < 0)
    return -1;
  if ((v = ymap_get(y, "max_restarts")) &&
      load_long(L, v, "max_restarts", 0, 1000000, &n->max_restarts) < 0)
    return -1;
  if ((v = ymap_get(y, "restart_period_ms")) &&
      load_long(L, v, "restart_period_ms", 1, MS_MAX, &n->restart_period_ms) < 0)
    return -1;
  if ((v = ymap_get(y, "queue_bytes")) &&
      load_long(L, v, "queue_bytes", 1, 1L << 30, &n->queue_bytes) < 0)
    return -1;
  if ((v = ymap_get(y, "grace_ms")) &&
      load_long(L, v, "grace_ms", 0, MS_MAX, &n->grace_ms) < 0)
    return -1;
  static const char *const onames[] = {"parallel", "reverse", NULL};
  static const int ovals[] = {STOP_PARALLEL, STOP_REVERSE};
  int w;
  if ((v = ymap_get(y, "stop_order")) &&
      (load_word(L, v, "stop_order", onames, ovals, &w) < 0 ||
       (n->stop_order = (enum stop_order)w, 0)))
    return -1;
  return load_child_keys(L, y, n);
}

static int load_children(struct loader *L, const struct ynode *y,
                         struct tree_node *n) {
  const struct ynode *kids = ymap_get(y, "children");
  if (!kids || ynode_is_null(kids))
    return 0;
  if (kids->kind != YN_SEQ)
    return load_fail(L, kids, "children: expected a sequence of nodes, got %s",
                     ynode_kind_name(kids));
  for (size_t i = 0; i < kids->n; i++) {
    struct tree_node *c = NULL;
    if (load_node(L, kids->items[i], n, n->spawn_step, &c) < 0)
      return -1;
    const struct ynode *at = ymap_get(kids->items[i], "name");
    if (load_link(L, at, n, c) < 0) {
      tree_node_free(c);
      return -1;
    }
  }
  return 0;
}

int load_node(struct loader *L, const struct ynode *y,
              struct tree_node *parent, long spawn_step,
              struct tree_node **out) {
  if (load_check_keys(L, y, "node", node_keys) < 0)
    return -1;
  const struct ynode *yname = ymap_get(y, "name");
  if (!yname)
    return load_fail(L, y, "node: missing 'name'");
  if (parent && parent->depth >= TREE_MAX_DEPTH)
    return load_fail(L, y, "tree deeper than %d levels", TREE_MAX_DEPTH);
  if (++L->nodes > TREE_MAX_NODES)
    return load_fail(L, y, "more than %d nodes", TREE_MAX_NODES);
  char *name = NULL;
  if (load_name(L, yname, &name) < 0)
    return -1;
  struct tree_node *n = tree_node_new(name, parent);
  free(name);
  if (!n)
    return load_fail(L, y, "out of memory");
  n->pos = y->pos;
  n->spawn_step = spawn_step;
  if (load_options(L, y, n) < 0 || check_child_keys(L, y, n) < 0 ||
      load_host(L, y, n) < 0 || load_children(L, y, n) < 0) {
    tree_node_free(n);
    return -1;
  }
  *out = n;
  return 0;
}

int load_tree(struct loader *L, const struct ynode *y) {
  struct tree_node *root = NULL;
  if (load_node(L, y, NULL, -1, &root) < 0)
    return -1;
  L->s->root = root;
  L->s->nnodes = L->nodes;
  return 0;
}

/* The node keys given beside fanout and depth hold for every generated
 * node: read once into `like`, copied into each node as it is made. */
static void copy_options(struct tree_node *n, const struct tree_node *like) {
  n->on_child_exit = like->on_child_exit;
  n->max_restarts = like->max_restarts;
  n->restart_period_ms = like->restart_period_ms;
  n->queue_bytes = like->queue_bytes;
  n->grace_ms = like->grace_ms;
  n->stop_order = like->stop_order;
  n->restart = like->restart;
  n->shutdown = like->shutdown;
  n->shutdown_ms = like->shutdown_ms;
  n->backoff_base_ms = like->backoff_base_ms;
  n->backoff_max_ms = like->backoff_max_ms;
}

/* Children of `n` down to `levels` more levels, named L{depth}-i-j-... */
static int grow(struct loader *L, const struct ynode *y, struct tree_node *n,
                long fanout, long levels) {
  if (levels == 0)
    return 0;
  n->children = calloc((size_t)fanout, sizeof *n->children);
  if (!n->children)
    return load_fail(L, y, "out of memory");
  for (long i = 1; i <= fanout; i++) {
    char name[2048]; /* 200 levels of "-100000" fit */
    const char *suffix = n->parent ? strchr(n->name, '-') : NULL;
    snprintf(name, sizeof name, "L%d%s-%ld", n->depth + 1, suffix ? suffix : "",
             i);
    struct tree_node *c = tree_node_new(name, n);
    if (!c)
      return load_fail(L, y, "out of memory");
    c->pos = y->pos;
    copy_options(c, n);
    n->children[n->nchildren++] = c;
    if (grow(L, y, c, fanout, levels - 1) < 0)
      return -1;
  }
  return 0;
}

/* `hosts: [DEST | ~, ...]`: the root's children take the entries in turn
 * (child i the entry i modulo their count; `~` keeps it on this machine),
 * and each subtree runs where its top does. */
static int spread_hosts(struct loader *L, const struct ynode *y,
                        struct tree_node *root) {
  const struct ynode *v = ymap_get(y, "hosts");
  if (!v)
    return 0;
  if (v->kind != YN_SEQ || v->n == 0)
    return load_fail(L, v, "generate: hosts: expected a sequence of ssh "
                     "destinations (~ for this machine)");
  for (size_t i = 0; i < v->n; i++) {
    const struct ynode *d = v->items[i];
    if (ynode_is_null(d))
      continue;
    char *host = NULL;
    if (load_string(L, d, "generate: hosts", &host) < 0)
      return -1;
    const char *p = spec_host_problem(host);
    if (p) {
      load_fail(L, d, "generate: hosts: '%.60s' is no ssh destination: it %s",
                host, p);
      free(host);
      return -1;
    }
    free(host);
  }
  for (size_t i = 0; i < root->nchildren; i++) {
    const struct ynode *d = v->items[i % v->n];
    if (!ynode_is_null(d) && !(root->children[i]->host = strdup(d->text)))
      return load_fail(L, d, "out of memory");
  }
  return 0;
}

int load_generate(struct loader *L, const struct ynode *y) {
  static const char *const keys[] = {
      "fanout", "depth", "on_child_exit", "max_restarts", "restart_period_ms",
      "queue_bytes", "grace_ms", "stop_order", "restart", "shutdown",
      "shutdown_ms", "restart_backoff_ms", "hosts", NULL};
  if (load_check_keys(L, y, "generate", keys) < 0)
    return -1;
  const struct ynode *yf = ymap_get(y, "fanout"), *yd = ymap_get(y, "depth");
  if (!yf || !yd)
    return load_fail(L, y, "generate: needs both fanout and depth");
  long fanout, depth;
  if (load_long(L, yf, "generate: fanout", 1, TREE_MAX_NODES, &fanout) < 0 ||
      load_long(L, yd, "generate: depth", 0, TREE_MAX_DEPTH - 1, &depth) < 0)
    return -1;
  long total = 1, level = 1;
  for (long d = 0; d < depth; d++) {
    level *= fanout; /* both <= 100000: no overflow before the check */
    total += level;
    if (total > TREE_MAX_NODES)
      return load_fail(L, y,
                       "generate: fanout %ld, depth %ld makes more than %d "
                       "nodes", fanout, depth, TREE_MAX_NODES);
  }
  struct tree_node *root = tree_node_new("L1", NULL);
  if (!root)
    return load_fail(L, y, "out of memory");
  root->pos = y->pos;
  L->s->root = root;
  L->nodes = L->s->nnodes = (size_t)total;
  if (load_options(L, y, root) < 0)
    return -1;
  /* every node has the same policy: a backoff needs it to restart */
  const struct ynode *b = ymap_key(y, "restart_backoff_ms");
  if (b && !policy_restarts(node_policy(root)))
    return load_fail(L, b, "restart_backoff_ms: the generated nodes never "
                     "restart a child (on_child_exit: %s)",
                     node_policy(root) == POLICY_ESCALATE ? "escalate"
                                                          : "isolate");
  if (grow(L, y, root, fanout, depth) < 0 || spread_hosts(L, y, root) < 0)
    return -1;
  /* the child keys hold for every node but the root, which has no parent */
  root->restart = RESTART_UNSET;
  root->shutdown = SHUTDOWN_UNSET;
  root->shutdown_ms = root->backoff_base_ms = root->backoff_max_ms = -1;
  return 0;
}
