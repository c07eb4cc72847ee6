/* report.h — turning scenario results into what people and CI read:
 * a human line per scenario (with the evidence of a failure), TAP 13 and
 * JUnit XML. Test point names are "SCENARIO: steps" and
 * "SCENARIO: PROPERTY", nothing else in the description. */
#ifndef TREEPROOF_REPORT_H
#define TREEPROOF_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "run.h"

/* "PASS seed-fractal (412 ms)" or "FAIL ..." followed by the failed checks'
 * summaries and evidence, indented. */
void report_human(FILE *out, const struct scenario_result *r);
/* TAP 13: version line, plan, one point per check, YAML diagnostics
 * (message, evidence, ms) under each failed point. */
int report_tap(FILE *out, const struct scenario_result *rs, size_t n);
/* JUnit XML: one <testsuite> per scenario, one <testcase> per check, a
 * <failure> holding summary and evidence for each failed one. Returns 0 or
 * -1 when the file cannot be written. */
int report_junit(const char *path, const struct scenario_result *rs, size_t n);

#endif
