/* probe_util.h — what the probe's test files share: starting `watvm
 * --probe` on pipes, ending it with proof that nothing was left, the
 * error type of a reply, and a process's start time read from /proc
 * independently of the probe. */
#ifndef TREEPROOF_PROBE_UTIL_H
#define TREEPROOF_PROBE_UTIL_H

#include <sys/types.h>

#include "tree_util.h"

/* `watvm --probe`, with --read-dir DIR when read_dir is not NULL. */
void probe_start(struct tree *t, const char *read_dir);
/* Close the probe's stdin: it exits 0; no process is left and the fd
 * count is back to fds0. */
void probe_end(struct tree *t, int fds0);
/* The :type of a reply's :error, or "(none)". */
const char *probe_error_type(const edn_value *r);
/* Field 22 of /proc/PID/stat. */
unsigned long long probe_stat_start(pid_t pid);

#endif
