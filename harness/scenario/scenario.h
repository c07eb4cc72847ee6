/* scenario.h — a tree scenario as loaded from YAML: the topology, the steps
 * and the properties to audit. scenario_load() validates everything before
 * anyone launches anything; every error names file:line:column.
 *
 * A scenario owns all its memory (one edn_arena for its EDN values, plus its
 * own allocations) and is freed by scenario_free(). */
#ifndef TREEPROOF_SCENARIO_H
#define TREEPROOF_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>

#include "edn.h"

/* A position in the YAML source, one-based. */
struct scenario_pos {
  int line, column;
};

/* What a node does when one of its children exits (`on_child_exit`):
 * POLICY_RESTART is OTP's one_for_one (`restart` and `one_for_one` are
 * the same word). */
enum policy { POLICY_UNSET = 0, POLICY_ISOLATE, POLICY_ESCALATE, POLICY_RESTART,
              POLICY_ONE_FOR_ALL, POLICY_REST_FOR_ONE };
/* A child's restart type (`restart`), as OTP's. */
enum restart_type { RESTART_UNSET = 0, RESTART_PERMANENT, RESTART_TRANSIENT,
                    RESTART_TEMPORARY };
/* How its parent stops a child (`shutdown_ms: N`, `shutdown: ...`). */
enum shutdown_kind { SHUTDOWN_UNSET = 0, SHUTDOWN_MS, SHUTDOWN_BRUTAL_KILL,
                     SHUTDOWN_INFINITY };
/* How a node stops its own children when it ends (`stop_order`). */
enum stop_order { STOP_UNSET = 0, STOP_PARALLEL, STOP_REVERSE };

/* One node of the topology. Numeric fields are -1 when the YAML leaves them
 * unset (the node's defaults then apply: docs/node-contract.md, "The spec"). */
struct tree_node {
  char *name;
  char *path;                 /* "L2b/L3c" (below the root); the root's name
                                 for the root */
  int depth;                  /* root = 1 */
  struct tree_node *parent;   /* NULL for the root */
  struct tree_node **children;
  size_t nchildren;
  enum policy on_child_exit;
  long max_restarts, restart_period_ms, queue_bytes;
  long grace_ms;              /* `grace_ms` → :grace-ms; -1 when unset */
  enum stop_order stop_order;
  /* As a child (its parent reads these from its spec): */
  enum restart_type restart;
  enum shutdown_kind shutdown;
  long shutdown_ms;           /* SHUTDOWN_MS: the bound; else -1 */
  long backoff_base_ms, backoff_max_ms; /* restart_backoff_ms; -1 unset */
  char *host;                 /* `host: DEST` (owned): its parent starts it
                                 over ssh on DEST; NULL: on its parent's
                                 host */
  long spawn_step;            /* -1 for the initial tree; else the index of
                                 the step that spawns this node (its subtree
                                 shares the index). scenario_node_spec()
                                 leaves out children spawned later than n. */
  struct scenario_pos pos;
};

/* The node defaults (a node key left unset means these), as the node
 * contract gives them; tree.c answers "the value in effect". */
enum {
  NODE_DEFAULT_QUEUE_BYTES = 65536,
  NODE_DEFAULT_MAX_RESTARTS = 3,
  NODE_DEFAULT_RESTART_PERIOD_MS = 5000,
  NODE_DEFAULT_GRACE_MS = 2000,
  SCENARIO_DEFAULT_TIMEOUT_MS = 5000,
  SCENARIO_DEFAULT_RSS_KB = 65536, /* backpressure: RSS bound per node */
  SCENARIO_DEFAULT_HOP_BYTES = 4194304 /* what one ssh hop may hold */
};

/* tree.c: the number of nodes in the subtree at t (t included). */
size_t tree_count(const struct tree_node *t);
/* The first leaf of t's subtree in depth-first order, as the scenario
 * writes it (children a step spawns later do not count); t when a leaf. */
struct tree_node *tree_first_leaf(const struct tree_node *t);
/* Whether n is top or below it. */
bool tree_in_subtree(const struct tree_node *n, const struct tree_node *top);
/* The value in effect for each node key: its own, else the default. */
long node_queue_bytes(const struct tree_node *t);
enum policy node_policy(const struct tree_node *t);
long node_max_restarts(const struct tree_node *t);
long node_restart_period_ms(const struct tree_node *t);
long node_grace_ms(const struct tree_node *t);
enum restart_type node_restart(const struct tree_node *t);
/* The destination `t` itself is started on over ssh, or NULL. */
const char *node_host(const struct tree_node *t);
/* The host `t` runs on: its own `host:`, else its parent's; NULL for this
 * machine. */
const char *node_where(const struct tree_node *t);
enum stop_order node_stop_order(const struct tree_node *t);
/* Does `p` ever restart a child (restart/one_for_one, one_for_all,
 * rest_for_one)? */
bool policy_restarts(enum policy p);
/* The shutdown ladder's bound for child `t` in ms, as its parent applies
 * it: its own shutdown_ms, 0 for brutal_kill, -1 for infinity — and by
 * default infinity for a node with children, the parent's grace for a
 * leaf. */
long node_shutdown_bound_ms(const struct tree_node *t);
/* Upper bounds on how long stopping takes, for the auditors' deadlines:
 * node_end_bound_ms(t) — t, ending, stops all its children (at once under
 * stop_order parallel, else one at a time; always one at a time when
 * `one_at_a_time`: its intensity crossed); node_stop_bound_ms(t) — its
 * parent stops t: t's ladder bound (0 for infinity: it then ends once its
 * children have) plus its own end. Conservative: every rung waited out. */
long node_end_bound_ms(const struct tree_node *t, bool one_at_a_time);
long node_stop_bound_ms(const struct tree_node *t);
/* The wait before the n-th restart in a row of `t` (n >= 1), in ms:
 * min(BASE * 2^(n-1), MAX), 0 without restart_backoff_ms. */
long node_backoff_ms(const struct tree_node *t, unsigned n);

enum step_action {
  STEP_SEND,        /* send (optionally with expect in the same step) */
  STEP_EXPECT,      /* expect alone: the next reply with the pattern's :id */
  STEP_EXPECT_EXIT,
  STEP_KILL,
  STEP_HOLD,
  STEP_RELEASE,
  STEP_WAIT,
  STEP_SPAWN
};

/* Which half of a far node's hop a kill, hold or release acts on (`edge:`),
 * instead of the node itself: the local ssh client that carries it (a
 * child of its parent's process, on the parent's host), or the sshd
 * session process that is its parent on its own host. Only on a node with
 * a `host:` of its own. */
enum step_edge { EDGE_NONE = 0, EDGE_CLIENT, EDGE_SESSION };

struct step {
  enum step_action action;
  struct scenario_pos pos;
  long timeout_ms;            /* this step's, or the scenario's */
  bool timeout_own;           /* timeout_ms was given on the step itself */
  /* STEP_SEND / STEP_EXPECT */
  char *send_text;            /* the EDN line as written (NULL if none) */
  edn_value *send;            /* parsed; a map with :id and :op */
  edn_value *expect;          /* pattern or NULL; see pattern.h */
  /* STEP_EXPECT_EXIT, STEP_KILL, STEP_HOLD, STEP_RELEASE, STEP_SPAWN */
  struct tree_node *node;     /* the node named by path (for SPAWN: the
                                 parent that gains the child) */
  /* STEP_EXPECT_EXIT: exactly one of these is >= 0, or neither and
   * exit_lost (`status: lost`: a far node's connection was lost, its
   * report's :status {:lost true}; only on a node with its own host:) */
  int exit_code, exit_signal;
  bool exit_lost;
  /* STEP_KILL */
  int signal;                 /* SIGKILL, SIGTERM, ... */
  /* STEP_KILL, STEP_HOLD, STEP_RELEASE: `edge:` (hold and release only
   * EDGE_CLIENT: a silent partition of the hop) */
  enum step_edge edge;
  /* STEP_WAIT */
  long wait_ms;
  /* STEP_SPAWN: the new child, already linked under `node` with its
   * subtree; later steps may name it */
  struct tree_node *spawned;
  /* Set by a caller after loading (chaos: the last step of each round):
   * once this step held, scan for orphans and zombies (cascade). */
  bool scan_after;
};

enum property {
  PROP_REPLIES,
  PROP_ISOLATION,
  PROP_BACKPRESSURE,
  PROP_CONTAINMENT,
  PROP_CASCADE,
  PROP_TOPOLOGY, /* last, so results and reports of the others keep their order */
  PROP_COUNT
};

struct scenario {
  char *file;                 /* as given on the command line */
  char *name;                 /* `name:`, or the file's stem */
  char *description;          /* or NULL */
  long timeout_ms;            /* default 5000 */
  struct tree_node *root;
  size_t nnodes;              /* in the initial tree (spawned ones excluded) */
  struct step *steps;
  size_t nsteps;
  bool properties[PROP_COUNT];/* default: replies, topology, cascade */
  /* backpressure: {hold: PATH, rss_kb: N} */
  struct tree_node *bp_hold;  /* NULL → first leaf in depth-first order */
  long bp_rss_kb;             /* default 65536 */
  /* tier 3: how far nodes are reached (DESIGN.md, "Nodes on other hosts") */
  char *ssh_config;           /* `ssh_config:`, else $TREEPROOF_SSH_CONFIG
                                 at load time (if set, non-empty), or NULL */
  bool ssh_config_given;      /* it was `ssh_config:` (emit writes it back) */
  char *remote_watvm;         /* `remote_watvm:` (an absolute path), or NULL:
                                 each parent's own watvm path */
  long hop_bytes;             /* `hop_bytes:`, the backpressure allowance
                                 per host hop; default 4 MiB */
  edn_arena *arena;           /* owns every edn_value above */
  bool has_crash;             /* a step sends a :panic (anywhere inside
                                 :route/:fan :req) or kills a node */
};

/* A load error: "FILE:LINE:COLUMN: error: MESSAGE" is what main prints. */
struct scenario_error {
  char file[512];
  struct scenario_pos pos;
  char message[512];
};

/* The one shape of a scenario error, into buf (NUL-terminated, cut to
 * len): "FILE:LINE:COLUMN: error: MESSAGE", or "FILE: error: MESSAGE" when
 * it has no position (the file could not be read). */
void scenario_error_format(const struct scenario_error *e, char *buf,
                           size_t len);

/* Load and validate `path`. Returns a scenario (free it with scenario_free)
 * or NULL with *err filled in. Never crashes, on any input. */
struct scenario *scenario_load(const char *path, struct scenario_error *err);
/* The same from bytes in memory; `file` is used in messages only. */
struct scenario *scenario_load_mem(const char *file, const char *bytes,
                                   size_t len, struct scenario_error *err);
void scenario_free(struct scenario *s);

/* `treeproof run --timeout-ms MS`: MS bounds every step that does not set
 * its own timeout_ms. The scenario's timeout_ms stays what the file says:
 * it also bounds the tree's start and the audits' waits, which a step's
 * bound has no say in. */
void scenario_set_step_timeout(struct scenario *s, long ms);

/* The node at `path` ("L2b/L3c", or the root's name), or NULL. */
struct tree_node *scenario_find(const struct scenario *s, const char *path);
/* `n`'s spec as a node would receive it with --spec: an EDN map with :name,
 * :depth, :children (recursively) and whichever policy keys were set, and
 * :host "DEST" on a node with its own host:. */
edn_value *scenario_node_spec(edn_arena *a, const struct tree_node *n);
/* The root's spec: scenario_node_spec(root) plus the tier-3 keys the
 * whole tree inherits, :ssh-config and :remote-watvm, when set. (:env is
 * the engine's: it comes from the harness's environment.) */
edn_value *scenario_root_spec(edn_arena *a, const struct scenario *s);
/* The distinct destinations of the tree's `host:` keys (spawned nodes
 * included), in depth-first order, into *out: a malloc'ed array (the
 * caller frees it; the strings are the scenario's). Returns the count
 * (*out NULL when 0), or -1 when out of memory. */
long scenario_hosts(const struct scenario *s, const char ***out);
const char *property_name(enum property p); /* "replies", ... */
/* "client", "session" (NULL for EDGE_NONE): the word `edge:` takes. */
const char *step_edge_name(enum step_edge e);

#endif
