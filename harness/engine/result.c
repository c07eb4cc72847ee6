/* result.c — a scenario_result: freed, and asked whether it held. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void scenario_result_free(struct scenario_result *r) {
  free(r->steps.summary);
  free(r->steps.evidence);
  for (int p = 0; p < PROP_COUNT; p++) {
    free(r->props[p].summary);
    free(r->props[p].evidence);
  }
  for (size_t i = 0; i < r->nnodes; i++)
    free(r->nodes[i].path);
  free(r->nodes);
  free(r->trace_error);
  memset(r, 0, sizeof *r);
}

bool scenario_result_passed(const struct scenario_result *r) {
  if (r->steps.verdict != VERDICT_PASS)
    return false;
  for (int p = 0; p < PROP_COUNT; p++)
    if (r->props[p].verdict == VERDICT_FAIL)
      return false;
  return true;
}

