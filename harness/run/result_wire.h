/* result_wire.h — a scenario_result as one EDN value, so a worker process
 * can hand its result to the parent over a pipe (treeproof run -j N). */
#ifndef TREEPROOF_RESULT_WIRE_H
#define TREEPROOF_RESULT_WIRE_H

#include <stddef.h>

#include "run.h"

/* `r` (without its scenario pointer) as compact EDN: a new malloc'ed
 * string, or NULL when out of memory. */
char *result_to_edn(const struct scenario_result *r);
/* Fill `r` from EDN made by result_to_edn; r->scenario is left as it is and
 * every summary/evidence and node is malloc'ed (scenario_result_free-able).
 * Returns 0, or -1 when the text is not such a result (r then holds no
 * allocation). */
int result_from_edn(const char *text, size_t len, struct scenario_result *r);

#endif
