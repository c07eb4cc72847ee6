/* htrace.h — the harness's own trace file under --trace DIR:
 * DIR/harness-ROOTPID-NAME.ednl, one EDN map per line, each with :t-us (the
 * monotonic clock the nodes use, so every file of a run merges by time) and
 * :edge ["harness" ROOT]. Beside the root edge's messages (:dir :down/:up/
 * :err) it holds what makes the run replayable on its own:
 *
 *   {:event :scenario :name :file :description :timeout-ms :properties
 *    :backpressure {:hold :rss-kb} :fault :node-cmd :spec}   first line
 *   {:event :spawned :pid}                                   the root
 *   {:event :step :index N :kind K ...the step's data... :timeout-ms}
 *   {:event :signal :node PATH :pid :signal}        kill, hold, release
 *   {:event :exited :pid :status {:exit N}|{:signal N}}      the root
 *   {:event :far-trace :host DEST :dir D :files N|nil :removed B}  each
 *                          far host's trace directory D, after the run
 *   {:event :verdict :failed [...] :failed-step N :summary {...}} last line
 *
 * Every function returns at once when the run is not traced
 * (e->trace_fd < 0); a failed write is ignored (tracing never changes a
 * run's outcome). */
#ifndef TREEPROOF_HTRACE_H
#define TREEPROOF_HTRACE_H

#include "engine.h"

/* Open the file (after the root is launched: its pid names the file) and
 * write the :scenario header and the root's :spawned. */
void htrace_open(struct engine *e);
/* A message on the root edge: `line` is EDN when raw, else any bytes
 * (written as an EDN string). */
void htrace_edge(struct engine *e, const char *dir, const char *line,
                 size_t len, bool raw);
/* Step i, as it starts. */
void htrace_step(struct engine *e, size_t i);
/* The harness sent `sig` to node `n` (pid): for a step when `by` is NULL,
 * else on its own account (`by` names who: "backpressure" for the
 * auditor's hold, "end" for resuming held nodes before the audits), which
 * the event carries as :by so a replay can tell it from a step. */
void htrace_signal(struct engine *e, const struct tree_node *n, pid_t pid,
                   int sig, const char *by);
/* The harness reaped `pid`, a process it adopted, with wait status `st`:
 * an :exited event with :by :harness (and :node when a node had that pid). */
void htrace_adopted_exited(struct engine *e, pid_t pid, int st);
/* The root was reaped (e->root_status). */
void htrace_root_exited(struct engine *e); /* once per run */
/* Far host `host`'s trace directory `dir` after the run: `files` copied
 * into DIR/HOST (-1: not copied), and whether it was removed there. */
void htrace_far_trace(struct engine *e, const char *host, const char *dir,
                      long files, bool removed);
/* The verdict, from e->r once the results are filled. */
void htrace_verdict(struct engine *e);

#endif
