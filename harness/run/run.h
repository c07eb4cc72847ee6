/* run.h — the run layer: one scenario run against a live tree, in order.
 *
 * run_scenario() launches the root as a shell would, drives the steps,
 * judges each crash a step hands back, runs the listed auditors and fills
 * a scenario_result (result.h); the reporters (report.h) turn results into
 * human lines, TAP and JUnit. Nothing here prints to stdout: progress goes
 * to the FILE the options name, if any. */
#ifndef TREEPROOF_RUN_H
#define TREEPROOF_RUN_H

#include "result.h"
#include "session.h"

/* Run `s` and fill `r`. Returns 0 when the run could be carried out (the
 * verdicts say whether it held), or -1 with r->steps.summary explaining an
 * environment failure (the node command cannot be started, ...). Leaves no
 * process, fd or file behind in either case. */
int run_scenario(const struct scenario *s, const struct run_opts *o,
                 struct scenario_result *r);
#endif
