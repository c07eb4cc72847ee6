/* report.h — turning scenario results into what people and CI read:
 * a human line per scenario (with the evidence of a failure), TAP 13 and
 * JUnit XML, and an HTML page per run with the tree coloured by outcome.
 * Test point names are "SCENARIO: steps" and
 * "SCENARIO: PROPERTY", nothing else in the description. */
#ifndef TREEPROOF_REPORT_H
#define TREEPROOF_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "result.h"

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

/* ---- the HTML report (treeproof run --report DIR) ----------------------- */

/* One scenario's page of a report: DIR/PAGE.html, PAGE being a file stem
 * (no '/'); trace_dir is where the run's trace went (the harness's
 * harness-*.ednl and each node's PID.ednl), or NULL for no timeline. */
struct report_page {
  const struct scenario_result *r;
  const char *page;
  const char *trace_dir;
};

/* The exact fill of a node by outcome ("#e53935" for OUTCOME_FAILED, ...):
 * the tree picture and its legend use these and nothing else does. */
const char *report_outcome_colour(enum node_outcome o);
/* "passed", "crashed", "killed", "failed". */
const char *report_outcome_name(enum node_outcome o);
/* Write DIR/PAGE.html for p: a self-contained page (inline CSS and SVG, no
 * script, no network) with the checks, the tree as an SVG rendered by
 * `dot -Tsvg` with each node filled by its outcome (class node-OUTCOME,
 * id node-PATH, linked to its evidence card), a legend, the failed checks'
 * summary and evidence beside the nodes they name, and the trace as a
 * timeline (a lane per edge, at most `max_events` events; the page says how
 * many were left out). Without dot the page says so instead of the picture
 * and is still written. Returns 0, or -1 with msg saying why the file could
 * not be written. */
int report_html_page(const char *dir, const struct report_page *p,
                     size_t max_events, char *msg, size_t msgsz);
/* Write DIR/index.html: one line per page with its verdict, linking to it.
 * Returns 0, or -1 with msg. */
int report_html_index(const char *dir, const struct report_page *ps, size_t n,
                      char *msg, size_t msgsz);
#endif
