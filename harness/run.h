/* run.h — running one scenario against a live tree and what comes out of it.
 *
 * run_scenario() launches the root as a shell would, drives the steps,
 * runs the listed auditors and fills a scenario_result; the reporters
 * (report.h) turn results into human lines, TAP and JUnit. Nothing here
 * prints to stdout: progress goes to the FILE the options name, if any. */
#ifndef TREEPROOF_RUN_H
#define TREEPROOF_RUN_H

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
};

struct run_opts {
  char **node_argv;       /* the node command, NULL-terminated; the harness
                             appends --spec EDN or --spec-stdin */
  const char *trace_dir;  /* --trace DIR, or NULL */
  FILE *progress;         /* a terminal to draw progress on, or NULL */
};

/* Run `s` and fill `r`. Returns 0 when the run could be carried out (the
 * verdicts say whether it held), or -1 with r->steps.summary explaining an
 * environment failure (the node command cannot be started, ...). Leaves no
 * process, fd or file behind in either case. */
int run_scenario(const struct scenario *s, const struct run_opts *o,
                 struct scenario_result *r);
/* Make SIGINT (Ctrl-C) and SIGTERM abort every scenario running in this
 * process: each kills and reaps its whole tree, then run_scenario returns
 * with the steps failed. Also ignores SIGPIPE (a dead root's stdin must give
 * EPIPE, not kill the harness). Call once from main before running
 * anything; 0, or -1 with errno set. */
int run_install_signal_handlers(void);
/* The signal that interrupted the run (SIGINT, SIGTERM), or 0. main exits
 * 128 + it after reporting, as a shell would. */
int run_interrupted(void);
/* Free what run_scenario allocated in `r`. */
void scenario_result_free(struct scenario_result *r);
/* True when the steps and every listed property passed. */
bool scenario_result_passed(const struct scenario_result *r);

#endif
