/* stand_in.h — running a scenario against a stand-in node: an `sh` script
 * that answers the wire by hand, so a test can make a node break exactly
 * one rule and see the engine judge it. */
#ifndef TREEPROOF_STAND_IN_H
#define TREEPROOF_STAND_IN_H

#include "run.h"

/* The one-node scenario the stand-ins answer: one :ping, audited for
 * replies, isolation and cascade. */
extern const char *const stand_in_one_node;

/* Load `yaml` (asserting it loads), run it with the node command
 * `sh -c SCRIPT node MODE` (asserting run_scenario returns 0), free the
 * scenario (r->scenario is reset to NULL; the verdicts stay in *r), and
 * expect that no child of the test is left. */
void stand_in_run(const char *yaml, const char *script, const char *mode,
                  struct scenario_result *r);

#endif
