/* report_html_tree.c — the tree picture of a report page: a DOT whose
 * nodes are filled by outcome (a box around the nodes of each host, for a
 * tree across hosts), rendered by `dot -Tsvg` into SVG text that
 * the page inlines. dot is run by util/dot.c, with a bounded time: a stuck
 * dot is killed and reaped, never waited for. */
#define _GNU_SOURCE
#include "report_html.h"
#include "dot.h"
#include "graph.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static void put_dot_string(FILE *out, const char *s) {
  fputc('"', out);
  for (; *s; s++) {
    if (*s == '"' || *s == '\\')
      fputc('\\', out);
    if (*s != '\n')
      fputc(*s, out);
  }
  fputc('"', out);
}

/* The result of the node at `path`: r->nodes is in the tree's depth-first
 * order, so `*k` is the usual place; search only when it is not. */
static const struct node_result *result_of(const struct scenario_result *r,
                                           const char *path, size_t *k) {
  if (*k < r->nnodes && strcmp(r->nodes[*k].path, path) == 0)
    return &r->nodes[(*k)++];
  for (size_t i = 0; i < r->nnodes; i++)
    if (strcmp(r->nodes[i].path, path) == 0)
      return &r->nodes[i];
  return NULL;
}

static void put_tooltip(FILE *out, const struct tree_node *t,
                        const struct node_result *nr) {
  char tip[600];
  int n = snprintf(tip, sizeof tip, "%s: %s", t->path,
                   nr ? report_outcome_name(nr->outcome) : "not run");
  if (node_where(t) && n > 0 && (size_t)n < sizeof tip)
    n += snprintf(tip + n, sizeof tip - (size_t)n, ", on %s", node_where(t));
  if (nr && nr->pid && n > 0 && (size_t)n < sizeof tip)
    n += snprintf(tip + n, sizeof tip - (size_t)n, ", pid %ld", nr->pid);
  if (nr && nr->crashed && nr->outcome != OUTCOME_CRASHED && n > 0 &&
      (size_t)n < sizeof tip)
    n += snprintf(tip + n, sizeof tip - (size_t)n, ", crashed too");
  if (nr && nr->outcome == OUTCOME_KILLED && n > 0 && (size_t)n < sizeof tip)
    snprintf(tip + n, sizeof tip - (size_t)n, ", signal %d", nr->signal);
  put_dot_string(out, tip);
}

static void put_path(FILE *out, const struct tree_node *t) {
  put_dot_string(out, t->path);
}

static void put_node(FILE *out, const struct scenario_result *r,
                     const struct tree_node *t, size_t *k) {
  const struct node_result *nr = result_of(r, t->path, k);
  enum node_outcome o = nr ? nr->outcome : OUTCOME_PASSED;
  char *id = NULL;
  size_t idlen = 0;
  FILE *m = open_memstream(&id, &idlen);
  if (m) {
    html_put_node_id(m, "", t->path);
    fclose(m);
  }
  fputs("  ", out);
  put_dot_string(out, t->path);
  fputs(" [label=", out);
  put_dot_string(out, t->name);
  fprintf(out, ", id=\"node-%s\", class=\"node-%s\", fillcolor=\"%s\"",
          id ? id : "", report_outcome_name(o), report_outcome_colour(o));
  if (o == OUTCOME_KILLED || o == OUTCOME_FAILED)
    fputs(", fontcolor=white", out);
  if (t->spawn_step >= 0)
    fputs(", style=\"filled,dashed\"", out);
  if (nr && o != OUTCOME_PASSED)
    fprintf(out, ", href=\"#ev-node-%s\"", id ? id : "");
  fputs(", tooltip=", out);
  put_tooltip(out, t, nr);
  fputs("];\n", out);
  free(id);
  for (size_t i = 0; i < t->nchildren; i++) {
    fputs("  ", out);
    put_dot_string(out, t->path);
    fputs(" -> ", out);
    put_dot_string(out, t->children[i]->path);
    fputs(";\n", out);
  }
  for (size_t i = 0; i < t->nchildren; i++)
    put_node(out, r, t->children[i], k);
}

static void put_dot(FILE *out, const struct scenario_result *r) {
  const struct scenario *s = r->scenario;
  fputs("digraph ", out);
  put_dot_string(out, s->name);
  /* wide trees lie on their side: a page scrolls down better than across */
  bool big = tree_count(s->root) > 40;
  fprintf(out, " {\n  rankdir=%s;\n  bgcolor=transparent;\n%s"
          "  node [shape=box, style=filled, fontname=\"DejaVu Sans\", "
          "fontsize=%d, margin=\"0.15,0.08\"];\n", big ? "LR" : "TB",
          big ? "  nodesep=0.08;\n  ranksep=0.6;\n" : "", big ? 10 : 12);
  size_t k = 0;
  put_node(out, r, s->root, &k);
  graph_put_hosts(out, s, put_path);
  fputs("}\n", out);
}

int html_tree_svg(FILE *out, const struct scenario_result *r, size_t max_nodes,
                  char *msg, size_t msgsz) {
  size_t n = tree_count(r->scenario->root);
  if (n > max_nodes) {
    snprintf(msg, msgsz, "%zu nodes: over the %zu a picture can show", n,
             max_nodes);
    return -1;
  }
  char *dot = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&dot, &len);
  if (!m) {
    snprintf(msg, msgsz, "out of memory");
    return -1;
  }
  put_dot(m, r);
  if (fclose(m) != 0) {
    free(dot);
    snprintf(msg, msgsz, "out of memory");
    return -1;
  }
  size_t svglen = 0;
  char *svg =
      dot_render("svg", dot, len, dot_timeout_ms(), &svglen, msg, msgsz);
  free(dot);
  if (!svg)
    return -1;
  /* inline: from <svg on, without the XML prolog and DOCTYPE */
  const char *start = strstr(svg, "<svg");
  fputs(start ? start : svg, out);
  free(svg);
  return 0;
}
