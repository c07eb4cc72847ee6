/* spec.h — a node's spec: the EDN map a node is started with (docs/node-contract.md,
 * "The spec"): checking it, reading its fields, and
 * printing a child's spec for its command line. */
#ifndef TREEPROOF_SPEC_H
#define TREEPROOF_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edn.h"

/* :on-child-exit. POLICY_RESTART is :restart and :one-for-one. */
enum policy { POLICY_ISOLATE, POLICY_ESCALATE, POLICY_RESTART,
              POLICY_ONE_FOR_ALL, POLICY_REST_FOR_ONE };

/* :restart, read by the parent from the child's spec. */
enum restart_type { RESTART_PERMANENT, RESTART_TRANSIENT, RESTART_TEMPORARY };

/* :shutdown-ms / :shutdown. SHUTDOWN_DEFAULT: none given (the parent picks:
 * :infinity for a child with children, its own :grace-ms for a leaf). */
enum shutdown_kind { SHUTDOWN_DEFAULT, SHUTDOWN_MS, SHUTDOWN_BRUTAL,
                     SHUTDOWN_INFINITY };

enum stop_order { STOP_PARALLEL, STOP_REVERSE };

struct spec {
  const char *name;          /* points into the spec's arena */
  int64_t depth;             /* root = 1 */
  const edn_value *children; /* vector of child specs, or NULL */
  enum policy on_child_exit;
  int64_t max_restarts;
  int64_t restart_period_ms;
  int64_t queue_bytes;
  int64_t grace_ms;
  enum stop_order stop_order;
  /* Keys about this node as a child, read by its parent: */
  enum restart_type restart;
  enum shutdown_kind shutdown;
  int64_t shutdown_ms;       /* with SHUTDOWN_MS */
  bool backoff;              /* :restart-backoff-ms given */
  int64_t backoff_base_ms, backoff_max_ms;
  /* Nodes on other hosts (far.c): each NULL when not given. */
  const char *host;          /* :host, the ssh destination it runs on */
  const char *ssh_config;    /* :ssh-config (inherited: see far.c) */
  const char *remote_watvm;  /* :remote-watvm (inherited) */
  const edn_value *env;      /* :env, a map of WATVM_* names to strings */
};

/* Check `v` and every child spec below it. Returns 0 with `out` filled from
 * `v` (defaults applied), or -1 with a message in why[0..whylen). `out`
 * points into v's arena. `v` NULL means no spec: a leaf named "L1". */
int spec_parse(const edn_value *v, struct spec *out, char *why, size_t whylen);

/* The fields of one child spec already checked by spec_parse, without
 * walking its children again (a parent reads its children's keys so). */
void spec_read_child(const edn_value *child, struct spec *out);

/* The spec to give a child: a copy of `child` in `a` with :depth set to
 * `depth`, the :ssh-config and :remote-watvm in effect for `self` (the
 * parent's own spec) where the child gives none of its own, and self's
 * :env under the child's own :env entries. NULL when out of memory. */
edn_value *spec_for_child(edn_arena *a, const edn_value *child, int64_t depth,
                          const struct spec *self);

/* The :name of a child spec already checked by spec_parse. */
const char *spec_name(const edn_value *child);

#endif
