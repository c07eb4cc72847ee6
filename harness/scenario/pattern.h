/* pattern.h — matching a reply against an `expect` pattern (docs/scenarios.md):
 * the symbol `_` matches anything; a map matches a map holding at least the
 * pattern's keys with matching values; a vector or list matches position by
 * position with the same length; a set matches a set holding every element
 * given; scalars compare by EDN value. */
#ifndef TREEPROOF_PATTERN_H
#define TREEPROOF_PATTERN_H

#include <stdbool.h>

#include "edn.h"

/* True when `actual` matches `pattern`. On a mismatch, when `why` is not
 * NULL, appends the path of the first difference and what differs, e.g.
 *   at [:replies 1 :replies 0 :error :type]: expected :wat/dead, got :wat/child-exited
 * and then `actual` pretty-printed with the differing part marked. */
bool pattern_match(const edn_value *pattern, const edn_value *actual,
                   struct edn_buf *why);

#endif
