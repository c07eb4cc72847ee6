/* spec.h — a node's spec: the EDN map a node is started with (docs/node-contract.md,
 * "The spec"): checking it, reading its fields, and
 * printing a child's spec for its command line. */
#ifndef TREEPROOF_SPEC_H
#define TREEPROOF_SPEC_H

#include <stddef.h>
#include <stdint.h>

#include "edn.h"

enum policy { POLICY_ISOLATE, POLICY_ESCALATE, POLICY_RESTART };

struct spec {
  const char *name;          /* points into the spec's arena */
  int64_t depth;             /* root = 1 */
  const edn_value *children; /* vector of child specs, or NULL */
  enum policy on_child_exit;
  int64_t max_restarts;
  int64_t restart_period_ms;
  int64_t queue_bytes;
  int64_t grace_ms;
};

/* Check `v` and every child spec below it. Returns 0 with `out` filled from
 * `v` (defaults applied), or -1 with a message in why[0..whylen). `out`
 * points into v's arena. `v` NULL means no spec: a leaf named "L1". */
int spec_parse(const edn_value *v, struct spec *out, char *why, size_t whylen);

/* The spec to give a child: a copy of `child` in `a` with :depth set to
 * `depth`. NULL when out of memory. */
edn_value *spec_for_child(edn_arena *a, const edn_value *child, int64_t depth);

/* The :name of a child spec already checked by spec_parse. */
const char *spec_name(const edn_value *child);

#endif
