/* scenario_steps.c — the `steps:` of a scenario: one action per step (send
 * and expect may share one), each checked against the tree as it stands at
 * that step (a `spawn` step, or a :spawn request, adds nodes later steps may
 * name). Requests are checked deeply: :route paths must name nodes, and a
 * :panic anywhere inside :route/:fan :req makes the step a crash step. */
#include "internal.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const step_keys[] = {
    "send", "expect", "expect_exit", "kill", "hold", "release", "wait_ms",
    "spawn", "timeout_ms", NULL};

struct steps_state {
  int64_t *sent_ids;          /* :id of every send so far */
  size_t nsent;
  long index;                 /* of the step being loaded */
};

/* ---- requests ----------------------------------------------------------- */

static int check_req(struct loader *L, const struct ynode *y,
                     const edn_value *req, struct tree_node *at, long step);

static struct tree_node *route_target(struct loader *L, const struct ynode *y,
                                      const edn_value *path,
                                      struct tree_node *at, int *rc) {
  *rc = 0;
  if (!path || (path->type != EDN_VECTOR && path->type != EDN_LIST)) {
    *rc = load_fail(L, y, "send: :route needs :path, a vector of node names");
    return NULL;
  }
  for (size_t i = 0; i < path->u.seq.len; i++) {
    const edn_value *p = path->u.seq.items[i];
    if (p->type != EDN_STRING) {
      *rc = load_fail(L, y, "send: :route :path element %zu is a %s, not a "
                      "string", i, edn_type_name(p->type));
      return NULL;
    }
    if (!at)
      continue; /* below a :fan: relative to every node, not checkable */
    struct tree_node *c = tree_child(at, p->u.text.ptr, p->u.text.len);
    if (!c) {
      *rc = load_fail(L, y, "send: :route :path names no node: no child "
                      "'%.*s' under '%s'", (int)p->u.text.len, p->u.text.ptr,
                      at->path);
      return NULL;
    }
    at = c;
  }
  return at;
}

/* A node (and its subtree) described by an EDN spec inside a :spawn. */
static int spec_node(struct loader *L, const struct ynode *y,
                     const edn_value *spec, struct tree_node *parent,
                     long step, struct tree_node **out) {
  const edn_value *name = edn_map_getk(spec, "name");
  if (spec->type != EDN_MAP || !name || name->type != EDN_STRING ||
      name->u.text.len == 0 || memchr(name->u.text.ptr, '/', name->u.text.len))
    return load_fail(L, y, "send: a :spawn :spec needs :name, a non-empty "
                     "string without '/'");
  if (parent->depth >= TREE_MAX_DEPTH || ++L->nodes > TREE_MAX_NODES)
    return load_fail(L, y, "send: :spawn makes the tree too large");
  struct tree_node *n = tree_node_new(name->u.text.ptr, parent);
  if (!n)
    return load_fail(L, y, "out of memory");
  n->pos = y->pos;
  n->spawn_step = step;
  char why[200];
  if (spec_keys_read(spec, n, why, sizeof why) < 0) {
    tree_node_free(n);
    return load_fail(L, y, "send: a :spawn :spec: %s", why);
  }
  const edn_value *kids = edn_map_getk(spec, "children");
  if (kids && kids->type == EDN_VECTOR)
    for (size_t i = 0; i < kids->u.seq.len; i++) {
      struct tree_node *c = NULL;
      if (spec_node(L, y, kids->u.seq.items[i], n, step, &c) < 0 ||
          load_link(L, y, n, c) < 0) {
        tree_node_free(c);
        tree_node_free(n);
        return -1;
      }
    }
  *out = n;
  return 0;
}

static int check_spawn(struct loader *L, const struct ynode *y,
                       const edn_value *req, struct tree_node *at, long step) {
  const edn_value *spec = edn_map_getk(req, "spec");
  if (!spec || spec->type != EDN_MAP)
    return load_fail(L, y, "send: :spawn needs :spec, a map");
  if (!at)
    return 0;
  struct tree_node *n = NULL;
  if (spec_node(L, y, spec, at, step, &n) < 0)
    return -1;
  if (load_link(L, y, at, n) < 0) {
    tree_node_free(n);
    return -1;
  }
  return 0;
}

/* `req` as sent to node `at` (NULL when not known, e.g. below a :fan). */
static int check_req(struct loader *L, const struct ynode *y,
                     const edn_value *req, struct tree_node *at, long step) {
  const edn_value *op = edn_map_getk(req, "op");
  if (req->type != EDN_MAP || !op || op->type != EDN_KEYWORD)
    return load_fail(L, y, "send: a request must be a map with :op, a keyword");
  const edn_value *inner = edn_map_getk(req, "req");
  if (inner && inner->type != EDN_MAP)
    return load_fail(L, y, "send: :req must be a map with :op");
  if (edn_is_keyword(op, "panic")) {
    L->s->has_crash = true;
  } else if (edn_is_keyword(op, "route")) {
    int rc;
    struct tree_node *to = route_target(L, y, edn_map_getk(req, "path"), at, &rc);
    if (rc < 0)
      return -1;
    if (!inner)
      return load_fail(L, y, "send: :route needs :req, the request to deliver");
    return check_req(L, y, inner, to, step);
  } else if (edn_is_keyword(op, "fan")) {
    if (inner)
      return check_req(L, y, inner, NULL, step);
  } else if (edn_is_keyword(op, "spawn")) {
    return check_spawn(L, y, req, at, step);
  }
  return 0;
}

static int load_send(struct loader *L, struct steps_state *st,
                     const struct ynode *y, struct step *s) {
  if (load_edn(L, y, "send", &s->send) < 0)
    return -1;
  const edn_value *id = edn_map_getk(s->send, "id");
  if (s->send->type != EDN_MAP || !id || !edn_map_getk(s->send, "op"))
    return load_fail(L, y, "send: a request is a map with :id and :op");
  if (id->type != EDN_INT)
    return load_fail(L, y, "send: :id must be an integer, got a %s",
                     edn_type_name(id->type));
  if (id->u.integer < 0)
    return load_fail(L, y, "send: :id %lld is negative; negative ids are the "
                     "harness's own", (long long)id->u.integer);
  for (size_t i = 0; i < st->nsent; i++)
    if (st->sent_ids[i] == id->u.integer)
      return load_fail(L, y, "send: :id %lld is already sent by an earlier "
                       "step; give each request its own :id so its reply is "
                       "unambiguous", (long long)id->u.integer);
  s->send_text = strdup(y->text);
  if (!s->send_text)
    return load_fail(L, y, "out of memory");
  int64_t *ids = realloc(st->sent_ids, (st->nsent + 1) * sizeof *ids);
  if (!ids)
    return load_fail(L, y, "out of memory");
  st->sent_ids = ids;
  ids[st->nsent++] = id->u.integer;
  return check_req(L, y, s->send, L->s->root, st->index);
}

static bool is_blank(const edn_value *v) {
  return v && v->type == EDN_SYMBOL && strcmp(v->u.text.ptr, "_") == 0;
}

static int load_expect(struct loader *L, struct steps_state *st,
                       const struct ynode *y, struct step *s) {
  if (load_edn(L, y, "expect", &s->expect) < 0)
    return -1;
  if (s->expect->type != EDN_MAP)
    return load_fail(L, y, "expect: a reply pattern is a map, got a %s",
                     edn_type_name(s->expect->type));
  const edn_value *id = edn_map_getk(s->expect, "id");
  if (s->send) {
    const edn_value *sid = edn_map_getk(s->send, "id");
    if (id && !is_blank(id) && !edn_equal(id, sid))
      return load_fail(L, y, "expect: its :id differs from the :id sent in "
                       "the same step");
    return 0;
  }
  if (!id || id->type != EDN_INT)
    return load_fail(L, y, "expect: without send in the same step the "
                     "pattern needs :id, an integer, to pick the reply");
  for (size_t i = 0; i < st->nsent; i++)
    if (st->sent_ids[i] == id->u.integer)
      return 0;
  return load_fail(L, y, "expect: no earlier step sends :id %lld",
                   (long long)id->u.integer);
}

/* ---- signals and exits -------------------------------------------------- */

static const struct { const char *name; int sig; } signals[] = {
    {"KILL", SIGKILL}, {"TERM", SIGTERM}, {"INT", SIGINT},
    {"STOP", SIGSTOP}, {"CONT", SIGCONT}, {"HUP", SIGHUP},
    {"QUIT", SIGQUIT}, {"USR1", SIGUSR1}, {"USR2", SIGUSR2}};

static int load_signal(struct loader *L, const struct ynode *y,
                       const char *what, int *out) {
  long n;
  if (y && y->kind == YN_SCALAR && y->style == YS_PLAIN && y->len > 0 &&
      y->text[0] >= '0' && y->text[0] <= '9') {
    if (load_long(L, y, what, 1, 64, &n) < 0)
      return -1;
    *out = (int)n;
    return 0;
  }
  if (y && y->kind == YN_SCALAR) {
    const char *name = y->text;
    if (strncasecmp(name, "SIG", 3) == 0)
      name += 3;
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
      if (strcasecmp(name, signals[i].name) == 0) {
        *out = signals[i].sig;
        return 0;
      }
    return load_fail(L, y, "%s: unknown signal '%.40s' (KILL TERM INT STOP "
                     "CONT HUP QUIT USR1 USR2, or a number)", what, y->text);
  }
  return load_fail(L, y, "%s: expected a signal name or number, got %s", what,
                   ynode_kind_name(y));
}

static int load_status(struct loader *L, const struct ynode *y,
                       struct step *s) {
  static const char *const keys[] = {"exit", "signal", NULL};
  if (y && y->kind == YN_SCALAR && y->len == 4 && !strcmp(y->text, "lost")) {
    /* a lost connection is a hop's: the node must be started over ssh */
    if (!s->node->host)
      return load_fail(L, y, "expect_exit: status: lost is for a node on "
                       "another host (one with host:), and %s has none",
                       s->node->path);
    s->exit_lost = true;
    return 0;
  }
  if (y && y->kind == YN_SCALAR)
    return load_fail(L, y, "expect_exit: status is {exit: N}, {signal: S} or "
                     "lost, got '%.40s'", y->text);
  if (load_check_keys(L, y, "expect_exit: status", keys) < 0)
    return -1;
  const struct ynode *ye = ymap_get(y, "exit"), *ys = ymap_get(y, "signal");
  if ((ye != NULL) == (ys != NULL))
    return load_fail(L, y, "expect_exit: status is {exit: N}, {signal: S} or lost");
  long code;
  if (ye) {
    if (load_long(L, ye, "expect_exit: status: exit", 0, 255, &code) < 0)
      return -1;
    s->exit_code = (int)code;
    return 0;
  }
  return load_signal(L, ys, "expect_exit: status: signal", &s->exit_signal);
}

static int load_expect_exit(struct loader *L, const struct ynode *y,
                            struct step *s) {
  static const char *const keys[] = {"node", "status", NULL};
  if (load_check_keys(L, y, "expect_exit", keys) < 0)
    return -1;
  const struct ynode *yn = ymap_get(y, "node"), *yst = ymap_get(y, "status");
  if (!yn || !yst)
    return load_fail(L, y, "expect_exit: needs node and status");
  if (load_path(L, yn, "expect_exit: node", &s->node) < 0)
    return -1;
  return load_status(L, yst, s);
}

/* Does `sig` end a process that leaves it at its default? The probe
 * delivers KILL TERM INT HUP (and STOP CONT) on a far host. */
static bool ends_process(int sig) {
  return sig == SIGKILL || sig == SIGTERM || sig == SIGINT || sig == SIGHUP;
}

/* `edge: client|session` of step `what` on node n (already loaded): the
 * word, and n must be started over ssh (a `host:` of its own), or there is
 * no hop to act on. `session_ok`: hold and release take only client. */
static int load_edge(struct loader *L, const struct ynode *y, const char *what,
                     const struct tree_node *n, bool session_ok,
                     enum step_edge *out) {
  if (!y || y->kind != YN_SCALAR)
    return load_fail(L, y, "%s: edge: expected client or session, got %s",
                     what, ynode_kind_name(y));
  if (!strcmp(y->text, "client"))
    *out = EDGE_CLIENT;
  else if (!strcmp(y->text, "session") && session_ok)
    *out = EDGE_SESSION;
  else if (!strcmp(y->text, "session"))
    return load_fail(L, y, "%s: edge: session is not held or released (the "
                     "silent partition is edge: client)", what);
  else
    return load_fail(L, y, "%s: edge: expected %s, got '%.40s'", what,
                     session_ok ? "client or session" : "client", y->text);
  if (!n->host)
    return load_fail(L, y, "%s: edge: %s is not started over ssh (no host: "
                     "of its own), so it has no hop to act on", what, n->path);
  return 0;
}

static int load_kill(struct loader *L, const struct ynode *y, struct step *s) {
  static const char *const keys[] = {"node", "signal", "edge", NULL};
  s->signal = SIGKILL;
  L->s->has_crash = true;
  if (y && y->kind == YN_SCALAR)
    return load_path(L, y, "kill", &s->node);
  if (load_check_keys(L, y, "kill", keys) < 0)
    return -1;
  const struct ynode *yn = ymap_get(y, "node"), *ys = ymap_get(y, "signal");
  const struct ynode *ye = ymap_get(y, "edge");
  if (!yn)
    return load_fail(L, y, "kill: needs node");
  if (load_path(L, yn, "kill: node", &s->node) < 0)
    return -1;
  if (ye && load_edge(L, ye, "kill", s->node, true, &s->edge) < 0)
    return -1;
  if (ys && load_signal(L, ys, "kill: signal", &s->signal) < 0)
    return -1;
  /* a cut hop is a crash; stopping the client is hold's, with its bound */
  if (s->edge && !ends_process(s->signal))
    return load_fail(L, ys, "kill: signal %d does not end the %s of %s's "
                     "hop; give a signal that ends it (KILL, TERM, INT, "
                     "HUP), or hold: {node: %s, edge: client}", s->signal,
                     s->edge == EDGE_CLIENT ? "ssh client" : "sshd session",
                     s->node->path, s->node->path);
  return 0;
}

/* `hold: PATH` or `hold: {node: PATH, edge: client}` (release alike). */
static int load_hold(struct loader *L, const struct ynode *y, const char *act,
                     struct step *s) {
  static const char *const keys[] = {"node", "edge", NULL};
  if (y && y->kind == YN_SCALAR)
    return load_path(L, y, act, &s->node);
  if (!y || y->kind != YN_MAP)
    return load_fail(L, y, "%s: expected a node path or {node: PATH, edge: "
                     "client}, got %s", act, ynode_kind_name(y));
  if (load_check_keys(L, y, act, keys) < 0)
    return -1;
  const struct ynode *yn = ymap_get(y, "node"), *ye = ymap_get(y, "edge");
  if (!yn)
    return load_fail(L, y, "%s: needs node", act);
  char what[32];
  snprintf(what, sizeof what, "%s: node", act);
  if (load_path(L, yn, what, &s->node) < 0)
    return -1;
  if (ye && load_edge(L, ye, act, s->node, false, &s->edge) < 0)
    return -1;
  /* releasing a partitioned client ends its hop: the far node is lost */
  if (s->edge && s->action == STEP_RELEASE)
    L->s->has_crash = true;
  return 0;
}

static int load_spawn(struct loader *L, struct steps_state *st,
                      const struct ynode *y, struct step *s) {
  static const char *const keys[] = {"parent", "spec", NULL};
  if (load_check_keys(L, y, "spawn", keys) < 0)
    return -1;
  const struct ynode *yp = ymap_get(y, "parent"), *ys = ymap_get(y, "spec");
  if (!yp || !ys)
    return load_fail(L, y, "spawn: needs parent (a node path) and spec (a node)");
  if (load_path(L, yp, "spawn: parent", &s->node) < 0)
    return -1;
  struct tree_node *n = NULL;
  if (load_node(L, ys, s->node, st->index, &n) < 0)
    return -1;
  if (load_link(L, ymap_get(ys, "name"), s->node, n) < 0) {
    tree_node_free(n);
    return -1;
  }
  s->spawned = n;
  return 0;
}

/* ---- one step ----------------------------------------------------------- */

static bool is_action(const struct ynode *k) {
  return strcmp(k->text, "timeout_ms") != 0;
}

/* The action keys of a step: none is an error, two only as send + expect. */
static int pick_action(struct loader *L, const struct ynode *y,
                       const struct ynode **first) {
  const struct ynode *a = NULL, *b = NULL;
  for (size_t i = 0; i + 1 < y->n; i += 2) {
    const struct ynode *k = y->items[i];
    if (!is_action(k))
      continue;
    if (!a) {
      a = k;
    } else if (!b) {
      b = k;
      bool pair = (strcmp(a->text, "send") == 0 && strcmp(b->text, "expect") == 0) ||
                  (strcmp(a->text, "expect") == 0 && strcmp(b->text, "send") == 0);
      if (!pair)
        return load_fail(L, b, "step: two actions, '%s' and '%s' (one per "
                         "step; only send and expect go together)", a->text,
                         b->text);
    } else {
      return load_fail(L, k, "step: '%s' is a third action (one per step; "
                       "only send and expect go together)", k->text);
    }
  }
  if (!a)
    return load_fail(L, y, "step: no action (send, expect, expect_exit, kill, "
                     "hold, release, wait_ms or spawn)");
  *first = a;
  return 0;
}

static int load_action(struct loader *L, struct steps_state *st,
                       const struct ynode *y, const char *act, struct step *s) {
  const struct ynode *v = ymap_get(y, act);
  if (strcmp(act, "send") == 0 || strcmp(act, "expect") == 0) {
    s->action = ymap_get(y, "send") ? STEP_SEND : STEP_EXPECT;
    if (ymap_get(y, "send") && load_send(L, st, ymap_get(y, "send"), s) < 0)
      return -1;
    return ymap_get(y, "expect") ? load_expect(L, st, ymap_get(y, "expect"), s) : 0;
  }
  if (strcmp(act, "expect_exit") == 0) {
    s->action = STEP_EXPECT_EXIT;
    return load_expect_exit(L, v, s);
  }
  if (strcmp(act, "kill") == 0) {
    s->action = STEP_KILL;
    return load_kill(L, v, s);
  }
  if (strcmp(act, "hold") == 0 || strcmp(act, "release") == 0) {
    s->action = act[0] == 'h' ? STEP_HOLD : STEP_RELEASE;
    return load_hold(L, v, act, s);
  }
  if (strcmp(act, "wait_ms") == 0) {
    s->action = STEP_WAIT;
    return load_long(L, v, "wait_ms", 0, MS_MAX, &s->wait_ms);
  }
  s->action = STEP_SPAWN;
  return load_spawn(L, st, v, s);
}

static int load_step(struct loader *L, struct steps_state *st,
                     const struct ynode *y, struct step *s) {
  s->pos = y->pos;
  s->exit_code = s->exit_signal = -1;
  s->timeout_ms = L->s->timeout_ms;
  if (load_check_keys(L, y, "step", step_keys) < 0)
    return -1;
  const struct ynode *t = ymap_get(y, "timeout_ms");
  if (t && load_long(L, t, "timeout_ms", 1, MS_MAX, &s->timeout_ms) < 0)
    return -1;
  s->timeout_own = t != NULL;
  const struct ynode *act = NULL;
  if (pick_action(L, y, &act) < 0)
    return -1;
  return load_action(L, st, y, act->text, s);
}

int load_steps(struct loader *L, const struct ynode *y) {
  if (!y || y->kind != YN_SEQ)
    return load_fail(L, y, "steps: expected a sequence of steps, got %s",
                     ynode_kind_name(y));
  struct scenario *sc = L->s;
  sc->steps = calloc(y->n ? y->n : 1, sizeof *sc->steps);
  if (!sc->steps)
    return load_fail(L, y, "out of memory");
  struct steps_state st = {0};
  int rc = 0;
  for (size_t i = 0; i < y->n && rc == 0; i++) {
    st.index = (long)i;
    sc->nsteps = i + 1; /* so scenario_free frees a half-loaded step */
    rc = load_step(L, &st, y->items[i], &sc->steps[i]);
  }
  free(st.sent_ids);
  return rc;
}
