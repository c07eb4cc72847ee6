/* graph.h — a scenario's tree as Graphviz: DOT text, or an SVG file rendered
 * by the `dot` program. */
#ifndef TREEPROOF_GRAPH_H
#define TREEPROOF_GRAPH_H

#include <stddef.h>
#include <stdio.h>

#include "scenario.h"

/* Write `s`'s tree as a `digraph` with one "PARENT" -> "CHILD" edge per tree
 * edge. Nodes are named by their names when every name in the tree is
 * unique, else by their paths (labelled with their names). Nodes spawned by
 * a step are drawn dashed. Returns 0, or -1 when `out` failed. */
int graph_dot(FILE *out, const struct scenario *s);
/* Render the DOT with `dot -Tsvg` (dot found on PATH, given dot_timeout_ms()
 * ms: see dot.h) and write the SVG to `file`. Returns 0, or -1 with `msg`
 * saying why (dot missing, failed or killed at the deadline; `file` not
 * writable). Leaves no child. */
int graph_svg(const struct scenario *s, const char *file, char *msg,
              size_t msgsz);
/* One `subgraph cluster_HOST` per host the tree names, labelled with the
 * host and holding the nodes that run there, each written by put(out, t)
 * as the DOT id the caller gave it. Nothing for a tree on this machine
 * alone. Shared by graph_dot and the HTML report's picture. */
void graph_put_hosts(FILE *out, const struct scenario *s,
                     void (*put)(FILE *out, const struct tree_node *t));

#endif
