/* shrink.h — reducing a failing scenario while the same check still fails:
 * delta debugging (ddmin) over the steps, then dropping an expect from a
 * send, removing subtrees of the tree, halving long strings in the requests
 * (and the same strings in the patterns), and dropping the properties other
 * than the failing one. Every candidate is written as YAML (scenario_emit)
 * and loaded by the ordinary loader — one that does not load (a step names
 * a removed node, containment without a crash left) is skipped without a
 * run — then run with run_scenario(). The result is confirmed by running it
 * three more times. Nothing here prints: progress goes to a callback. */
#ifndef TREEPROOF_SHRINK_H
#define TREEPROOF_SHRINK_H

#include <stdbool.h>

#include "edn.h"
#include "replay.h"
#include "run.h"
#include "scenario.h"

struct shrink_opts {
  char **node_argv;     /* the node command (run_opts.node_argv) */
  char **control_argv;  /* the node command of the control, or NULL: when
                           set, a candidate is kept only if it also holds
                           (every check) when run with this command — the
                           normal node, where node_argv carries a fault */
  int check;            /* the check to keep failing (a property, or
                           REPLAY_STEPS), or -1: the first that fails, in
                           the order containment, cascade, isolation,
                           backpressure, replies, steps */
  unsigned max_runs;    /* runs allowed for the search (0: 200); the three
                           confirmation runs come on top */
  void (*progress)(void *ctx, const char *line); /* or NULL */
  void *ctx;
};

struct shrink_result {
  bool held;            /* the scenario did not fail: nothing to shrink */
  bool control_failed;  /* the original fails with the control command too
                           (the control was then not used) */
  int check;            /* the check kept failing */
  struct scenario *s;   /* the smallest failing scenario (free with
                           scenario_free), or NULL when held */
  char *summary;        /* the check's summary in its last failing run */
  unsigned runs;        /* runs made, confirmation and control included */
  unsigned confirmed;   /* confirmation runs (of 3) in which it failed */
  size_t steps0, nodes0, steps, nodes;
};

/* Shrink `s` (not modified). 0 with *r filled (free with
 * shrink_result_free) — see r->held and r->confirmed — or -1 with `err`
 * (out of memory, interrupted, the node command cannot be started). */
int shrink_scenario(const struct scenario *s, const struct shrink_opts *o,
                    struct shrink_result *r, char *err, size_t errlen);
void shrink_result_free(struct shrink_result *r);

#endif
