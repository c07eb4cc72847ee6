/* regressions.c — every reproducer under trees/regressions/ (written by
 * `treeproof shrink`): it must hold against the normal watvm, and, as its
 * negative control, fail exactly the check its header names when run with
 * the environment it names:
 *
 *   # property: containment
 *   # fails-with: WATVM_FAULT=swallow-panic      (or "none")
 *
 * The files are found when the suite starts, so a new reproducer is run
 * without touching this file. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

struct regression {
  char rel[160], name[128], prop[32], fault[64];
  char problem[400]; /* set when the header cannot be read */
};

#define MAX_REGRESSIONS 64
static struct regression regs[MAX_REGRESSIONS];
static size_t nregs;

/* "key: value" of a comment line "# key: value" into out. */
static bool comment_value(const char *line, const char *key, char *out,
                          size_t len) {
  size_t k = strlen(key);
  if (strncmp(line, "# ", 2) || strncmp(line + 2, key, k) || line[2 + k] != ':')
    return false;
  const char *v = line + 3 + k;
  while (*v == ' ')
    v++;
  snprintf(out, len, "%.*s", (int)strcspn(v, "\r\n"), v);
  return true;
}

static void read_header(struct regression *g) {
  char *path = tp_source(g->rel);
  FILE *f = fopen(path, "re");
  char line[1024];
  while (f && fgets(line, sizeof line, f)) {
    comment_value(line, "property", g->prop, sizeof g->prop);
    comment_value(line, "fails-with", g->fault, sizeof g->fault);
    if (!strncmp(line, "name: ", 6))
      snprintf(g->name, sizeof g->name, "%.*s", (int)strcspn(line + 6, "\r\n"),
               line + 6);
  }
  if (f)
    fclose(f);
  if (!g->prop[0] || !g->fault[0] || !g->name[0])
    snprintf(g->problem, sizeof g->problem, "%s: the header lacks '# property:', "
             "'# fails-with:' or the name line", g->rel);
  else if (strcmp(g->fault, "none") && strncmp(g->fault, "WATVM_FAULT=", 12))
    snprintf(g->problem, sizeof g->problem, "%s: fails-with is neither none nor "
             "WATVM_FAULT=...", g->rel);
  free(path);
}

static void find_regressions(void) {
  char *dir = tp_source("trees/regressions");
  DIR *d = opendir(dir);
  struct dirent *e;
  while (d && (e = readdir(d)) && nregs < MAX_REGRESSIONS) {
    size_t len = strlen(e->d_name);
    if (len < 6 || len > 100 || strcmp(e->d_name + len - 5, ".yaml"))
      continue;
    struct regression *g = &regs[nregs++];
    memset(g, 0, sizeof *g);
    snprintf(g->rel, sizeof g->rel, "trees/regressions/%.100s", e->d_name);
    read_header(g);
  }
  if (d)
    closedir(d);
  free(dir);
}

ParameterizedTestParameters(regressions, each) {
  find_regressions();
  if (nregs == 0) { /* an empty array is not a parameter set: one stand-in */
    memset(&regs[0], 0, sizeof regs[0]);
    snprintf(regs[0].problem, sizeof regs[0].problem,
             "trees/regressions/ holds no reproducer");
    nregs = 1;
  }
  return cr_make_param_array(struct regression, regs, nregs);
}

ParameterizedTest(struct regression *g, regressions, each, .timeout = 180.) {
  cr_assert(!g->problem[0], "%s", g->problem);
  if (!strcmp(g->fault, "none")) {
    tp_assert_holds(g->rel, g->name, g->prop, 60.);
    return;
  }
  /* holds without the fault, fails exactly g->prop with it */
  tp_assert_control(g->rel, g->name, g->fault + 12, g->prop, "", 60.);
}

/* The issue asks for reproducers of real failures: at least two, and at
 * least two different fault switches among them. */
Test(regressions, shipped, .timeout = 10.) {
  find_regressions();
  cr_expect_geq(nregs, 2, "trees/regressions/ holds %zu reproducers", nregs);
  size_t distinct = 0;
  for (size_t i = 0; i < nregs; i++) {
    bool seen = false;
    for (size_t j = 0; j < i; j++)
      seen = seen || !strcmp(regs[i].fault, regs[j].fault);
    distinct += !seen && strcmp(regs[i].fault, "none");
  }
  cr_expect_geq(distinct, 2, "the reproducers use %zu fault switches", distinct);
}
