/* drive.h — the drive layer: one step of a scenario carried out against the
 * live tree through the engine (send, expect, expect_exit, kill, hold,
 * release, wait, spawn). A step that crashes a node (a :panic sent, a
 * kill) hands the crash back to its caller, who judges it: drive never
 * calls an auditor. */
#ifndef TREEPROOF_DRIVE_H
#define TREEPROOF_DRIVE_H

#include "engine.h"

/* Run step i. 0 when it held, -1 when it failed (evidence recorded),
 * -EINTR when interrupted. A step that crashed a node (a :panic sent, a
 * fatal kill) fills *crashed for the caller to judge and pass to
 * engine_crash_end(); otherwise crashed->node is NULL. */
int drive_step(struct engine *e, size_t i, struct crash *crashed);

#endif
