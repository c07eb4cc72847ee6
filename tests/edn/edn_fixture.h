/* edn_fixture.h — walking fixtures/edn/ and reading a whole input through
 * the streaming reader in chosen chunks, as one comparable text. */
#ifndef EDN_FIXTURE_H
#define EDN_FIXTURE_H

#include <stddef.h>

#include "edn.h"

struct fixture {
  char *name; /* "valid/spec.edn" */
  char *data;
  size_t len;
  char *expect; /* the .err file's first line, or NULL */
};

/* Every fixture file of fixtures/edn/DIR (not the .err files), sorted by
 * name; *n set. Free with fixtures_free. */
struct fixture *fixtures_load(const char *dir, size_t *n);
void fixtures_free(struct fixture *f, size_t n);

/* Feed data through a streaming reader in chunks cut at each of cuts[0..ncuts)
 * (increasing offsets), or one byte at a time when ncuts is (size_t)-1, and
 * return what came out: each value printed on its own line, then
 * "error at OFFSET: MESSAGE" if it failed. malloc'ed. */
char *stream_outcome(const char *data, size_t len, const size_t *cuts,
                     size_t ncuts, const struct edn_limits *lim);

#endif
