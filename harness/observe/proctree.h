/* proctree.h — the observe layer: the process tree as /proc shows it.
 *
 * Everything the harness knows about processes without asking them: pid,
 * parent, process group, state and start time (with the pid, the identity
 * of a process: pids are reused), and each process's open descriptors.
 * Reads only /proc; allocates only what the caller frees with the *_free
 * functions. The runtime has readers of its own /proc entry (`:inspect`,
 * `:stats`); these are the harness's, named proctree_* so the two never
 * meet. */
#ifndef TREEPROOF_PROCTREE_H
#define TREEPROOF_PROCTREE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct proc_info {
  pid_t pid, ppid, pgid;
  char state;               /* 'R' 'S' 'T' 'Z' ... */
  unsigned long long start; /* starttime in clock ticks: with the pid, the
                               identity of a process (pids are reused) */
  char comm[16];            /* its command name (/proc/PID/stat's field 2,
                               at most 15 bytes as the kernel keeps it) */
  int threads;              /* how many threads (field 20; 0: not read) */
};

/* Every process on the machine, sorted by pid. Zero-initialise. */
struct proc_table {
  struct proc_info *v;
  size_t n, cap;
};

/* Fill `t` from /proc (replacing what it held). 0 or -errno. */
int proctree_scan(struct proc_table *t);
/* Fill `t` with `top` and every process below it, walking the kernel's
 * lists of each process's children (/proc/PID/task/TID/children) instead
 * of reading every process on the machine: the same parent links, read
 * for the subtree only (a tenth of the reads on a busy machine). Falls
 * back to proctree_scan where the kernel has no such lists. 0 or -errno;
 * -ESRCH when `top` is gone. */
int proctree_scan_below(struct proc_table *t, pid_t top);
void proctree_free(struct proc_table *t);
/* The entry for `pid`, or NULL. */
const struct proc_info *proctree_find(const struct proc_table *t, pid_t pid);
/* How many processes have `pid` as parent (zombies included). */
size_t proctree_nchildren(const struct proc_table *t, pid_t pid);
/* Every descendant of `pid` (not `pid` itself), malloc'ed into *out (the
 * caller frees). Returns the count, or -1 when out of memory. */
long proctree_descendants(const struct proc_table *t, pid_t pid, pid_t **out);
/* One process, read now: 0, or -ENOENT when it has no /proc entry. */
int proctree_read(pid_t pid, struct proc_info *out);
/* True when `pid` with start time `start` still exists and is not a
 * zombie (start 0: any process with that pid). */
bool proctree_alive(pid_t pid, unsigned long long start);
/* VmRSS of `pid` in kB, or -1. */
long proctree_rss_kb(pid_t pid);
/* Does one of `pid`'s arguments (/proc/PID/cmdline, its first 8 KiB) equal
 * `arg` exactly? False when it cannot be read. */
bool proctree_has_arg(pid_t pid, const char *arg);

enum fd_kind { FD_PIPE, FD_SOCKET, FD_ANON, FD_FILE, FD_OTHER };

struct fd_entry {
  int fd;
  enum fd_kind kind;
  unsigned long long ino; /* FD_PIPE, FD_SOCKET */
  char text[200];         /* the readlink string */
};

struct fd_list {
  struct fd_entry *v;
  size_t n, cap;
};

/* The open fds of `pid`, sorted by fd, replacing what `l` held. 0, or
 * -errno (-ENOENT: the process is gone). */
int proctree_fds(pid_t pid, struct fd_list *l);
void fd_list_free(struct fd_list *l);
/* The open flags of `pid`'s fd (from /proc/PID/fdinfo), or -1. */
int proctree_fd_flags(pid_t pid, int fd);
const char *fd_kind_name(enum fd_kind k);

#endif
