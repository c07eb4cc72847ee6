/* trace.h — the lifecycle half of WATVM_TRACE: beside the messages on an
 * edge (trace_event, in node.h), a parent records each child's spawn, its
 * reaping and every signal it sends the child's group. Each call is one
 * line appended to the node's trace file, and costs one comparison when
 * tracing is off (n->trace_fd < 0). */
#ifndef TREEPROOF_TRACE_H
#define TREEPROOF_TRACE_H

#include "node.h"

/* {:t-us N :edge [PARENT CHILD] :event :spawned :pid PID} */
void trace_spawned(const struct child *c);
/* {... :event :exited :pid PID :status {:exit N}|{:signal N}}; `status` as
 * waitpid gives it. */
void trace_exited(const struct child *c, int status);
/* {... :event :signal :pid PID :signal N}: `sig` sent to the child's group. */
void trace_signal(const struct child *c, int sig);
/* {... :dir :stop :rung :eof|:term|:kill :why W :pid PID}: the parent takes
 * one rung of c's shutdown ladder, for reason W (:one-for-all,
 * :rest-for-one, :intensity, :end). Written before the rung's own effect
 * (the :signal event of :term and :kill follows it). */
void trace_stop(const struct child *c, enum stop_rung rung, enum stop_why why);

#endif
