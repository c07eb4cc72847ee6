/* result.h — what a run of one scenario comes to: a verdict per check
 * (the steps, each listed property) with its summary and evidence, and an
 * outcome per node for the pictures. The engine fills it; the run layer
 * hands it on; reporters, tools and the command line read it. */
#ifndef TREEPROOF_RESULT_H
#define TREEPROOF_RESULT_H

#include <stdbool.h>
#include <stdio.h>

#include "scenario.h"

enum verdict { VERDICT_SKIP = 0, VERDICT_PASS, VERDICT_FAIL };

/* One test point: the steps of a scenario, or one property of it. */
struct check_result {
  enum verdict verdict;
  char *summary;   /* one line, malloc'ed: why it failed, or a figure
                      ("1111 nodes, 3334 pipes checked"); may be NULL */
  char *evidence;  /* several lines, malloc'ed, or NULL: the step, the
                      expected pattern, the actual reply (pretty EDN with the
                      difference marked), the node path, the fd, inode,
                      bytes, pid that prove the verdict */
  double ms;       /* time the check (or audit) took */
};

/* What became of one node of the tree, for pictures (--report): a node
 * the scenario crashed or killed, one a failed check's evidence names, or
 * one that simply served. */
enum node_outcome { OUTCOME_PASSED, OUTCOME_CRASHED, OUTCOME_KILLED,
                    OUTCOME_FAILED };

struct node_result {
  char *path;        /* malloc'ed: "L2b/L3c"; the root's name for the root */
  long pid;          /* the last pid the harness knew, 0 if never known */
  enum node_outcome outcome; /* OUTCOME_FAILED wins over KILLED/CRASHED */
  int signal;        /* killed: the signal of the last kill step */
  unsigned failed;   /* bit p set: property p's evidence names this node;
                        bit PROP_COUNT: the failed step's evidence does */
  bool crashed;      /* it crashed (a :panic, or an escalated child's
                        crash), whatever its outcome says */
};

struct scenario_result {
  const struct scenario *scenario;
  struct check_result steps;              /* "SCENARIO: steps" */
  long failed_step;                       /* index into steps, or -1 */
  struct check_result props[PROP_COUNT];  /* VERDICT_SKIP unless listed */
  double ms;                              /* wall time of the whole run */
  struct node_result *nodes;              /* one per node of the tree, in
                                             depth-first order; may be NULL */
  size_t nnodes;
  char *trace_error;                      /* malloc'ed, or NULL: what went
                                             wrong with the far hosts'
                                             traces, a line per host ("on
                                             h2: ..."); no verdict's */
};

struct run_opts {
  char **node_argv;       /* the node command, NULL-terminated; the harness
                             appends --spec EDN or --spec-stdin */
  const char *trace_dir;  /* --trace DIR, or NULL */
  FILE *progress;         /* a terminal to draw progress on, or NULL */
  const char *own_watvm;  /* the watvm this treeproof runs without
                             --node-cmd (an absolute path), or NULL: the
                             probe on far hosts when the node command is
                             no watvm (engine_probe_watvm) */
};

/* Free what the run allocated in `r`. */
void scenario_result_free(struct scenario_result *r);
/* True when the steps and every listed property passed. */
bool scenario_result_passed(const struct scenario_result *r);

/* Whether `path` ("L2b/L3c") occurs in text[0..len) as a whole token, not
 * inside a longer name: how evidence names a node (outcome.c). */
bool result_names_node(const char *text, size_t len, const char *path);

#endif
