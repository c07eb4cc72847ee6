/* session.h — the harness process's own session, shared by every scenario
 * it runs (one at a time, or several under -j): interruption by SIGINT or
 * SIGTERM, and the registry of the roots running now. */
#ifndef TREEPROOF_SESSION_H
#define TREEPROOF_SESSION_H

#include <stdbool.h>
#include <sys/types.h>

/* Make SIGINT (Ctrl-C) and SIGTERM abort every scenario running in this
 * process: each kills and reaps its whole tree, then run_scenario returns
 * with the steps failed. Also ignores SIGPIPE (a dead root's stdin must give
 * EPIPE, not kill the harness). Call once from main before running
 * anything; 0, or -1 with errno set. */
int session_install_signal_handlers(void);
/* The signal that interrupted the run (SIGINT, SIGTERM), or 0. main exits
 * 128 + it after reporting, as a shell would. */
int session_interrupted(void);
/* True when `pid` is the root of another scenario running in this process
 * (-j): its tree is not ours to judge or kill. */
bool session_other_root(pid_t pid, pid_t mine);
/* How many scenarios are running in this process now. */
int session_active(void);

#endif
