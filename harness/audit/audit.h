/* audit.h — the audit layer: each property judged from outside, from /proc
 * and the root's pipes, against the engine's node table. The run layer
 * calls these; they call only the engine and the layers below it. */
#ifndef TREEPROOF_AUDIT_H
#define TREEPROOF_AUDIT_H

#include "engine.h"

/* The live processes form exactly the model's tree (audit_topology.c);
 * `when` names the moment in the evidence ("after step 3"), `since` the
 * engine_now_ms() of the change the tree may still be settling from. */
void audit_topology(struct engine *e, const char *when, double since);
void audit_isolation(struct engine *e, const char *when);
void audit_backpressure(struct engine *e);
void audit_containment_crash(struct engine *e, const struct crash *k);
/* Cascade after a crash or kill: exactly the subtree gone within grace. */
void audit_cascade_crash(struct engine *e, const struct crash *k);
/* The end: close the root's stdin, everything gone within the grace, no
 * orphan or zombie; kill and reap whatever is left (always runs). */
void audit_cascade_end(struct engine *e);
/* The far hosts at the end (after audit_cascade_end's own wait): every
 * process of the run seen there gone by `deadline` (audit_hosts.c). */
void audit_hosts_end(struct engine *e, double deadline);
/* A hold of a far node's ssh client (k->partition): the far side — the
 * node's subtree on its hosts and its sshd session — gone by itself
 * within engine_partition_bound_ms() while the client is held (the drive
 * waited for it; this judges what it saw). Cascade when listed, else the
 * steps (audit_edge.c). */
void audit_edge_partition(struct engine *e, const struct crash *k);
/* After a crash on a far node's hop (k->edge): both halves — the ssh
 * client and the sshd session — gone by `deadline`; one that lingers is
 * an orphan of the hop (cascade; audit_edge.c). */
void audit_edge_crash(struct engine *e, const struct crash *k,
                      double deadline);
/* After a step that changed the tree (or one chaos marks with
 * scan_after), and at the end before the root is closed: no orphan
 * adopted by the harness lingers past the grace, and no zombie below the
 * root past ZOMBIE_BOUND_MS (audit_leftovers.c). `when` names the moment
 * in the evidence ("after step 3 (a request)"). */
void audit_leftovers(struct engine *e, const char *when);
void audit_replies_end(struct engine *e);

#endif
