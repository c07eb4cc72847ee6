/* cli_merge.c — `treeproof merge --junit OUT JUNIT...`: the JUnit reports
 * of the shards of a run (`run --shard I/N --junit`) made one: every input
 * read through report/junit_read.c (a bad one is exit 2, `FILE: error:
 * line N: ...`, and nothing is written), the union of their testsuites
 * sorted by name (the order of the scenarios on the shards' command lines
 * is not in their files; ties keep the order of the inputs), each
 * testcase's children verbatim, every count and time recomputed. Exit 0
 * once OUT is written, whatever its testcases say: the shards' own exit
 * statuses carry the verdict, and a CI merge job that failed on a failed
 * test would hide the report the failure is in. */
#define _GNU_SOURCE
#include "cli_merge.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_opt.h"
#include "junit_read.h"

static const char usage_text[] =
    "usage: treeproof merge --junit OUT JUNIT...\n"
    "\n"
    "One JUnit file OUT from the JUnit files of a run's shards (treeproof run\n"
    "--shard I/N --junit FILE): their testsuites, sorted by name, each\n"
    "testcase as it was, the counts and times recomputed. Exit 0 when OUT is\n"
    "written, whether or not its testcases failed (the shards' exit statuses\n"
    "say that); 2 when an input cannot be read or is not such a file.\n";

struct entry {
  const struct junit_suite *s;
  size_t file, pos; /* which input, which testsuite in it */
};

static int by_name(const void *a, const void *b) {
  const struct entry *x = a, *y = b;
  int c = strcmp(x->s->name, y->s->name);
  if (c)
    return c;
  if (x->file != y->file)
    return x->file < y->file ? -1 : 1;
  return (x->pos > y->pos) - (x->pos < y->pos);
}

static int merge(const char *out, char **files, size_t n) {
  struct junit_doc *docs = calloc(n, sizeof *docs);
  if (!docs)
    return fputs("treeproof: fatal: out of memory\n", stderr), 2;
  bool bad = false;
  size_t total = 0;
  for (size_t i = 0; i < n; i++) {
    char msg[512];
    if (junit_read(files[i], &docs[i], msg, sizeof msg) < 0) {
      fprintf(stderr, "%s: error: %s\n", files[i], msg);
      bad = true;
    }
    total += docs[i].nsuites;
  }
  struct entry *es = bad ? NULL : calloc(total ? total : 1, sizeof *es);
  const struct junit_suite **suites =
      es ? calloc(total ? total : 1, sizeof *suites) : NULL;
  int rc = 2;
  if (!bad && !suites)
    fputs("treeproof: fatal: out of memory\n", stderr);
  if (suites) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
      for (size_t j = 0; j < docs[i].nsuites; j++)
        es[k++] = (struct entry){&docs[i].suites[j], i, j};
    qsort(es, total, sizeof *es, by_name);
    size_t cases = 0, failed = 0, errors = 0, skipped = 0;
    for (k = 0; k < total; k++) {
      suites[k] = es[k].s;
      if (k > 0 && es[k - 1].file != es[k].file &&
          strcmp(es[k - 1].s->name, es[k].s->name) == 0)
        fprintf(stderr, "treeproof: warning: testsuite '%s' is in both %s and "
                "%s (kept both)\n", es[k].s->name, files[es[k - 1].file],
                files[es[k].file]);
      for (size_t c = 0; c < es[k].s->ncases; c++) {
        cases++;
        failed += es[k].s->cases[c].failed;
        errors += es[k].s->cases[c].errored;
        skipped += es[k].s->cases[c].skipped;
      }
    }
    if (junit_write(out, suites, total) < 0) {
      fprintf(stderr, "treeproof: fatal: unable to write %s: %s\n", out,
              strerror(errno));
    } else {
      printf("merged %zu file(s) into %s: %zu testsuite(s), %zu testcase(s), "
             "%zu failed, %zu error(s), %zu skipped\n", n, out, total, cases,
             failed, errors, skipped);
      rc = 0;
    }
  }
  for (size_t i = 0; i < n; i++)
    junit_doc_free(&docs[i]);
  free(docs);
  free(es);
  free(suites);
  return rc;
}

int cli_merge(int argc, char **argv) {
  const char *out = NULL;
  int i = 1;
  for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
    const char *a = argv[i], *v;
    if (strcmp(a, "--") == 0) {
      i++;
      break;
    } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      fputs(usage_text, stdout);
      return 0;
    } else if ((v = cli_opt_value(argc, argv, &i, "--junit"))) {
      if (!*v)
        return cli_usage_error("option '%s' needs a value", a);
      out = v;
    } else {
      return cli_usage_error("unknown option '%s'", a);
    }
  }
  if (!out)
    return cli_usage_error("%s", "merge: --junit OUT is required");
  if (i == argc)
    return cli_usage_error("%s", "merge: no JUnit file given");
  return merge(out, argv + i, (size_t)(argc - i));
}
