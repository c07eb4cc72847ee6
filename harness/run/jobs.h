/* jobs.h — `treeproof run -j N`: each scenario runs in its own forked worker
 * process (a child subreaper), at most N at once, so scenarios cannot
 * interfere and a crash of the harness's logic costs one result, not the
 * run. Results come back to the parent as EDN over a pipe (result_wire.h).
 * The parent is a subreaper too: whatever a dead worker leaves is killed
 * and reaped before jobs_run returns. */
#ifndef TREEPROOF_JOBS_H
#define TREEPROOF_JOBS_H

#include <stddef.h>
#include <stdio.h>

#include "run.h"

struct jobs_opts {
  int jobs;                     /* workers at once, >= 1 */
  const struct run_opts *run;   /* node command; its progress is used only
                                   when jobs == 1 (the worker draws it) */
  const char *const *trace_dirs;/* per scenario, or NULL */
  FILE *progress;               /* jobs > 1: the parent's progress line, on
                                   a terminal; NULL for none */
  /* Called in the parent as each scenario finishes (completion order). */
  void (*done)(void *ctx, size_t index, const struct scenario_result *r);
  void *ctx;
};

/* Run ss[0..n) and fill rs[0..n) (free each with scenario_result_free).
 * Returns 0, or 1 when SIGINT/SIGTERM/SIGHUP interrupted the run (workers
 * were stopped; unrun scenarios are left VERDICT_SKIP with a summary).
 * *leftovers counts processes found and killed after the workers ended. */
int jobs_run(struct scenario *const *ss, size_t n, const struct jobs_opts *o,
             struct scenario_result *rs, size_t *leftovers);

#endif
