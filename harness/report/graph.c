/* graph.c — `treeproof graph`: the tree of a scenario as Graphviz DOT, and
 * its SVG rendering through the `dot` program (run by util/dot.c, bounded
 * in time), written to a file. */
#define _GNU_SOURCE
#include "graph.h"
#include "dot.h"

#include <errno.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static void put_id(FILE *out, const char *s) {
  fputc('"', out);
  for (; *s; s++) {
    if (*s == '"' || *s == '\\')
      fputc('\\', out);
    fputc(*s, out);
  }
  fputc('"', out);
}

static void collect(const struct tree_node *n, const char **names, size_t *k) {
  names[(*k)++] = n->name;
  for (size_t i = 0; i < n->nchildren; i++)
    collect(n->children[i], names, k);
}

static int cmp(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool names_unique(const struct tree_node *root) {
  size_t n = tree_count(root), k = 0;
  const char **names = malloc(n * sizeof *names);
  if (!names)
    return false;
  collect(root, names, &k);
  qsort(names, n, sizeof *names, cmp);
  bool unique = true;
  for (size_t i = 1; i < n && unique; i++)
    unique = strcmp(names[i - 1], names[i]) != 0;
  free(names);
  return unique;
}

static void put_node(FILE *out, const struct tree_node *n, bool by_name) {
  fputs("  ", out);
  put_id(out, by_name ? n->name : n->path);
  fputs(" [label=", out);
  put_id(out, n->name);
  if (n->spawn_step >= 0)
    fputs(", style=dashed", out);
  fputs("];\n", out);
  for (size_t i = 0; i < n->nchildren; i++) {
    const struct tree_node *c = n->children[i];
    fputs("  ", out);
    put_id(out, by_name ? n->name : n->path);
    fputs(" -> ", out);
    put_id(out, by_name ? c->name : c->path);
    fputs(";\n", out);
  }
  for (size_t i = 0; i < n->nchildren; i++)
    put_node(out, n->children[i], by_name);
}

/* The nodes of t's subtree that run on `host`, one per line. */
static void put_members(FILE *out, const struct tree_node *t, const char *host,
                        void (*put)(FILE *, const struct tree_node *)) {
  const char *w = node_where(t);
  if (w && !strcmp(w, host)) {
    fputs("    ", out);
    put(out, t);
    fputs(";\n", out);
  }
  for (size_t i = 0; i < t->nchildren; i++)
    put_members(out, t->children[i], host, put);
}

void graph_put_hosts(FILE *out, const struct scenario *s,
                     void (*put)(FILE *, const struct tree_node *)) {
  const char **hosts = NULL;
  long n = scenario_hosts(s, &hosts);
  for (long i = 0; i < n; i++) {
    char id[300];
    snprintf(id, sizeof id, "cluster_%s", hosts[i]);
    fputs("  subgraph ", out);
    put_id(out, id);
    fputs(" {\n    label=", out);
    put_id(out, hosts[i]);
    fputs(";\n", out);
    put_members(out, s->root, hosts[i], put);
    fputs("  }\n", out);
  }
  free(hosts);
}

/* graph_dot's ids: names when unique in the tree, else paths. */
static bool ids_by_name;
static void put_by_name(FILE *out, const struct tree_node *t) {
  put_id(out, ids_by_name ? t->name : t->path);
}

int graph_dot(FILE *out, const struct scenario *s) {
  fputs("digraph ", out);
  put_id(out, s->name);
  fputs(" {\n  node [shape=box];\n", out);
  bool by_name = names_unique(s->root);
  put_node(out, s->root, by_name);
  ids_by_name = by_name;
  graph_put_hosts(out, s, put_by_name);
  fputs("}\n", out);
  fflush(out);
  return ferror(out) ? -1 : 0;
}

/* Write the `len` bytes at `svg` to `file`. Returns 0, or -1 with msg. */
static int write_file(const char *file, const char *svg, size_t len,
                      char *msg, size_t msgsz) {
  FILE *f = fopen(file, "we");
  if (!f) {
    snprintf(msg, msgsz, "cannot write it: %s", strerror(errno));
    return -1;
  }
  size_t n = fwrite(svg, 1, len, f);
  int e = errno;
  if (fclose(f) != 0 || n != len) {
    snprintf(msg, msgsz, "cannot write it: %s", strerror(n != len ? e : errno));
    return -1;
  }
  return 0;
}

int graph_svg(const struct scenario *s, const char *file, char *msg,
              size_t msgsz) {
  char *text = NULL;
  size_t len = 0;
  FILE *mem = open_memstream(&text, &len);
  if (!mem || graph_dot(mem, s) < 0 || fclose(mem) != 0) {
    snprintf(msg, msgsz, "out of memory");
    free(text);
    return -1;
  }
  size_t n = 0;
  char *svg = dot_render("svg", text, len, dot_timeout_ms(), &n, msg, msgsz);
  free(text);
  if (!svg)
    return -1;
  int rc = write_file(file, svg, n, msg, msgsz);
  free(svg);
  return rc;
}
