/* audit.h — the audit layer: each property judged from outside, from /proc
 * and the root's pipes, against the engine's node table. The run layer
 * calls these; they call only the engine and the layers below it. */
#ifndef TREEPROOF_AUDIT_H
#define TREEPROOF_AUDIT_H

#include "engine.h"

void audit_isolation(struct engine *e, const char *when);
void audit_backpressure(struct engine *e);
void audit_containment_crash(struct engine *e, const struct crash *k);
/* Cascade after a crash or kill: exactly the subtree gone within grace. */
void audit_cascade_crash(struct engine *e, const struct crash *k);
/* The end: close the root's stdin, everything gone within the grace, no
 * orphan or zombie; kill and reap whatever is left (always runs). */
void audit_cascade_end(struct engine *e);
/* After step `step` (one with scan_after set): no orphan adopted by the
 * harness and no unreaped zombie below the root lingers (audit_leftovers.c). */
void audit_leftovers(struct engine *e, size_t step);
void audit_replies_end(struct engine *e);

#endif
