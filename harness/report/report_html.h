/* report_html.h — private to the HTML report (report_html*.c): the pieces
 * one page is made of, each writing HTML to a FILE. */
#ifndef TREEPROOF_REPORT_HTML_H
#define TREEPROOF_REPORT_HTML_H

#include <stddef.h>
#include <stdio.h>

#include "report.h"

/* The HTML id of the node at `path`: "node-" followed by the path with '/'
 * as '.' and every byte outside [A-Za-z0-9_-] as "_XX" (hex), so distinct
 * paths give distinct ids. Written to `out`, prefixed by `prefix` ("node-",
 * "ev-node-"). */
void html_put_node_id(FILE *out, const char *prefix, const char *path);
/* Text escaped for HTML (invalid UTF-8 as '?', no control characters). */
void html_put_text(FILE *out, const char *s);
/* The same for s[0..len). */
void html_put_textn(FILE *out, const char *s, size_t len);

/* The run's tree as an inline <svg> (dot -Tsvg of a DOT whose nodes are
 * filled by outcome, carry class node-OUTCOME and id node-PATH, and link to
 * #ev-node-PATH when not passed). Trees over `max_nodes` nodes, or no dot,
 * give -1 with msg saying why; nothing is written then. */
int html_tree_svg(FILE *out, const struct scenario_result *r, size_t max_nodes,
                  char *msg, size_t msgsz);

/* The timeline section of the trace under `trace_dir`: every *.ednl file's
 * events merged by :t-us, a lane per edge (an SVG strip) and a table of the
 * events, at most max_events of them (the first and last halves; the page
 * says how many were left out). */
void html_timeline(FILE *out, const struct scenario_result *r,
                   const char *trace_dir, size_t max_events);

#endif
