/* procfs.h — what watvm reads from /proc, about itself (a node's :inspect
 * and :stats) or about any process of its host (the probe): one process's
 * stat line, its fd table, the list of pids, a process's resident set.
 *
 * Nothing here prints or exits; each function says what it returns on
 * error. */
#ifndef TREEPROOF_PROCFS_H
#define TREEPROOF_PROCFS_H

#include <stdint.h>
#include <sys/types.h>

#include "edn.h"

/* One process's /proc/PID/stat, the fields the probe reports. */
struct procfs_stat {
  pid_t pid, ppid, pgid;
  char state;              /* 'R', 'S', 'D', 'Z', 'T', ... (field 3) */
  unsigned long long start; /* field 22: start time in clock ticks after
                               boot; a pid plus this names one process */
  char comm[64];           /* field 2 without its parentheses */
  long long rss_kb;        /* field 24 (resident pages, the sum VmRSS
                              shows) in KiB; 0 for a zombie */
};

/* Read /proc/PID/stat into *st. Returns 0, or a negative errno: -ENOENT or
 * -ESRCH when there is no such process (any more), -EINVAL when the line
 * cannot be parsed. */
int procfs_stat(pid_t pid, struct procfs_stat *st);

/* The pids of /proc (processes, not threads), unsorted, in a malloc'ed
 * array the caller frees; *n is their count. NULL (and errno) when /proc
 * cannot be listed or out of memory. */
pid_t *procfs_pids(size_t *n);

/* The fd table of process `pid` (0: this process; its listing's own fd is
 * left out) as an EDN vector sorted by fd, each entry [FD KIND X]:
 * [3 :pipe INODE], [4 :socket INODE], [5 :anon "eventpoll"],
 * [6 :file "/path"], [7 :other "LINK"]. Returns NULL with *err set to a
 * negative errno when the table cannot be read (-ENOENT: no such process,
 * -EACCES), or -ENOMEM. An fd closed while it is read is left out. */
edn_value *procfs_fds(edn_arena *a, pid_t pid, int *err);

/* This process's resident set size in KiB (VmRSS), or -1 when unknown. */
int64_t procfs_rss_kb(void);

#endif
