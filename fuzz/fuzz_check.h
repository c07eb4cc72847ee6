/* fuzz_check.h — CHECK(cond, fmt, ...) for the fuzz targets: a broken
 * invariant is a finding, so say which (prefixed by FUZZ_NAME, which the
 * target defines first) and abort; libFuzzer then keeps the input.
 * scripts/fuzz looks for "check failed" in the log. */
#ifndef TREEPROOF_FUZZ_CHECK_H
#define TREEPROOF_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond, ...)                                              \
  do {                                                                \
    if (!(cond)) {                                                    \
      fprintf(stderr, "%s: check failed: %s: ", FUZZ_NAME, #cond);    \
      fprintf(stderr, __VA_ARGS__);                                   \
      fputc('\n', stderr);                                            \
      abort();                                                        \
    }                                                                 \
  } while (0)

#endif
