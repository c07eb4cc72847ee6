/* internal.h — private to harness/drive/: what drive.c (the steps on
 * nodes) and drive_edge.c (the steps on a far node's hop) share. */
#ifndef TREEPROOF_DRIVE_INTERNAL_H
#define TREEPROOF_DRIVE_INTERNAL_H

#include "drive.h"

/* When step st's wait ends: now plus its timeout (or the scenario's). */
double drive_step_deadline(const struct engine *e, const struct step *st);
/* "step 3 (trees/x.yaml:12:5) send", into buf. */
void drive_step_where(const struct engine *e, size_t i, char *buf, size_t n);
/* Step i's node, alive with a known process on its host (the map
 * refreshed first if needed); NULL with *rc -1 (a step failure recorded)
 * or -EINTR. */
struct live_node *drive_alive_node(struct engine *e, size_t i,
                                   double deadline, int *rc);
/* Wait (bounded) until /proc on h shows pid in the state a SIGSTOP
 * (stopped) or SIGCONT asked for. */
void drive_wait_state(struct engine *e, struct host *h, pid_t pid,
                      bool stopped, double deadline);

/* drive_edge.c: `kill: {node, edge: client|session}`, `hold: {node, edge:
 * client}` and `release: {node, edge: client}`. Each hands back what its
 * caller judges: a kill and a release a crash of the far node (its parent
 * gets ssh's exit), a hold the partition (crashed->partition). */
int drive_edge_kill(struct engine *e, size_t i, struct crash *out);
int drive_edge_hold(struct engine *e, size_t i, struct crash *out);
int drive_edge_release(struct engine *e, size_t i, struct crash *out);

#endif
