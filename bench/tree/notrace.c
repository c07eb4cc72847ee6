/* notrace.c — trace_open and trace_event for watvm_notrace, the watvm that
 * tree_bench compares with to show what WATVM_TRACE costs while it is off:
 * here tracing cannot be turned on at all, and each trace_event() call is a
 * call to an empty function. */
#include "node.h"

int trace_open(const char *dir) {
  (void)dir;
  return -1;
}

void trace_event(struct node *n, const char *child, const char *dir,
                 const edn_value *msg) {
  (void)n;
  (void)child;
  (void)dir;
  (void)msg;
}
