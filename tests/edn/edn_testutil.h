/* edn_testutil.h — helpers shared by the EDN suites: read-or-fail, print to
 * a C string, and round-trip checks, so each test states only its case. */
#ifndef EDN_TESTUTIL_H
#define EDN_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>

#include "edn.h"

/* Read src (strlen) into `a`; the Criterion assertion fails the test with
 * the reader's message if it does not read. */
edn_value *must_read(edn_arena *a, const char *src);
edn_value *must_readn(edn_arena *a, const char *src, size_t len);
/* edn_to_string, kept in a per-test list and freed by test_free_all(). */
const char *printed(const edn_value *v);
void test_free_all(void);
/* read(print(v)) must be edn_equal to v; print(read(print(v))) must be the
 * same text. */
void check_round_trip(edn_arena *a, const edn_value *v, const char *what);
/* True when the suite runs under ./memcheck (TREEPROOF_MEMCHECK set): the
 * exhaustive loops then sample instead, so memcheck stays within minutes;
 * every code path is still taken. */
bool under_memcheck(void);
/* Fill idx with the parameters of a table of n cases: 0..n-1, one worker
 * per case; or, under memcheck, the single ALL_CASES, one worker for the
 * whole table (starting a process under memcheck is what costs there).
 * Returns how many parameters it wrote. */
enum { ALL_CASES = -1 };
size_t case_params(size_t *idx, size_t n);
/* The range [*from, *to) of cases one parameter stands for. */
void case_range(size_t param, size_t n, size_t *from, size_t *to);
/* The whole of a file under $TREEPROOF_SOURCE_DIR (malloc'ed), or NULL. */
char *slurp(const char *path, size_t *len);

#endif
