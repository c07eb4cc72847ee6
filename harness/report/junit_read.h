/* junit_read.h — the JUnit XML that report_junit.c writes, read back: for
 * `run --shard --durations` (a scenario's recorded time) and for `merge`
 * (the shards' reports made one). A small, strict reader of that subset of
 * XML and nothing else: an optional <?xml?> declaration, <testsuites>
 * holding <testsuite>s holding <testcase>s, each with at most <failure>,
 * <error> and <skipped> children of plain text; comments between elements.
 * Anything else (a DOCTYPE, CDATA, another element, text where none goes,
 * a bad entity, invalid UTF-8) is an error naming its line. Attributes not
 * listed below are accepted and ignored. */
#ifndef TREEPROOF_JUNIT_READ_H
#define TREEPROOF_JUNIT_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest JUnit file read (bytes). */
#define JUNIT_READ_MAX (64u << 20)

struct junit_case {
  char *name;               /* the name attribute, decoded */
  char *classname;          /* decoded, or NULL when absent */
  uint64_t time_ms;         /* the time attribute, rounded to ms */
  char *body;               /* the children (<failure>...) verbatim, with
                               the whitespace around them trimmed; NULL
                               when the element has none */
  bool failed, errored, skipped; /* has <failure>, <error>, <skipped> */
  int line;
};

struct junit_suite {
  char *name;               /* the name attribute, decoded */
  uint64_t time_ms;         /* its time attribute, or else the sum of its
                               cases' times */
  struct junit_case *cases;
  size_t ncases;
  int line;
};

struct junit_doc {
  struct junit_suite *suites; /* in file order */
  size_t nsuites;
};

/* Parse text[0..len). Returns 0, or -1 with msg "line N: WHAT" (or "out of
 * memory") and *d left empty. */
int junit_parse(const char *text, size_t len, struct junit_doc *d, char *msg,
                size_t msgsz);
/* Read and parse the file at path (at most JUNIT_READ_MAX bytes). Returns
 * 0, or -1 with msg saying why ("cannot read: ENOENT text", "line N: ..."). */
int junit_read(const char *path, struct junit_doc *d, char *msg, size_t msgsz);
void junit_doc_free(struct junit_doc *d);

/* The sum of the time attributes of s's testcases, in ms. */
uint64_t junit_suite_cases_ms(const struct junit_suite *s);

/* Write `suites` (n of them, in that order) as one JUnit file in the form
 * report_junit() writes: <testsuites name="treeproof"> with tests,
 * failures, errors, skipped and time recomputed over them, each
 * <testsuite>'s counts recomputed from its cases, each case's children
 * verbatim. Returns 0, or -1 (errno set) when path cannot be written. */
int junit_write(const char *path, const struct junit_suite *const *suites,
                size_t n);

#endif
