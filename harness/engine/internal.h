/* internal.h — private to harness/engine/: what its files share and no
 * layer above may call. */
#ifndef TREEPROOF_ENGINE_INTERNAL_H
#define TREEPROOF_ENGINE_INTERNAL_H

#include "engine.h"
#include "htrace.h"
#include "model.h"

/* session.c: the interruption pipe (-1 before any scenario), a scenario's
 * start and end (the subreaper bit, SIGPIPE ignored, the count of running
 * scenarios), and the registry of running roots. */
int session_intr_fd(void);
void session_begin(void);
void session_end(void);
void session_root_add(pid_t pid);
void session_root_del(pid_t pid);

/* nodes.c: fill e->nodes from the scenario's tree. 0, or -1 (no memory). */
int nodes_init(struct engine *e);

/* launch.c: start the root: pipes on 0/1/2, its own process group, the
 * node command with `--spec SPEC` or `--spec-stdin` (spec over 64 KiB,
 * written as the first stdin line). Fills e->root_pid and the fds. 0; -1
 * with a message in `err` (nothing started); -2 with a message (the root
 * runs but did not get its spec). */
int launch_root(struct engine *e, const char *spec, size_t speclen, char *err,
                size_t errlen);

#endif
