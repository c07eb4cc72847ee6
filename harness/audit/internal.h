/* internal.h — private to harness/audit/: what the containment files
 * share (audit_containment.c judges a crash level by level;
 * audit_supervision.c judges what a supervising parent did beyond one
 * child: a group's stops and starts, their order and timing, a backoff,
 * a removal, an intensity crossed). */
#ifndef TREEPROOF_AUDIT_INTERNAL_H
#define TREEPROOF_AUDIT_INTERNAL_H

#include "audit.h"

/* The pid (and start) `t` had just before the crash, or 0. */
pid_t crash_before_pid(const struct crash *k, const struct tree_node *t,
                       unsigned long long *start);

/* The parent `by` restarted k->down, within its intensity: the siblings
 * its strategy names were stopped one at a time in reverse spec order,
 * each within its shutdown, and came back (temporary ones removed) in
 * spec order after the exited child's backoff. */
void judge_group_restart(struct engine *e, const struct crash *k,
                         double deadline);
/* k->down was not restarted and is temporary: its parent, alive, no
 * longer lists it. */
void judge_removed(struct engine *e, const struct crash *k, double deadline);
/* `p` crossed its intensity when `exited` exited: its other children were
 * stopped one at a time in reverse spec order before it went down. */
void judge_intensity_stops(struct engine *e, const struct crash *k,
                           const struct tree_node *p,
                           const struct tree_node *exited, double deadline);
/* k->node ended with stop_order reverse: its children went one at a time,
 * last first. */
void judge_own_stop_order(struct engine *e, const struct crash *k,
                          double deadline);

#endif
