/* host.h — the process tree of one host as the harness reads it: this
 * machine's /proc directly (proctree.h), or another host's through the
 * probe (`watvm --probe`, started over an ssh connection of the harness's
 * own), which reads that host's /proc and answers in EDN. The engine and
 * the auditors ask a node's host, never local /proc, about a node: a far
 * node's pid means nothing here.
 *
 * A far host also keeps the trace directory of its nodes (host_trace.c)
 * and the death watch of a crash there (host_watch.c).
 *
 * Every call on a far host is bounded by the host's timeout; a host whose
 * probe stopped answering fails each call with -ETIMEDOUT or -EPIPE, and
 * host_error() says why. */
#ifndef TREEPROOF_HOST_H
#define TREEPROOF_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "proctree.h"

struct host;

struct host_options {
  const char *dest;         /* the ssh destination (a `host:` value) */
  const char *ssh_config;   /* ssh -F CONFIG, or NULL */
  const char *remote_watvm; /* the watvm to run there, as an absolute path */
  int timeout_ms;           /* each request's bound (0: 10 s) */
};

/* This machine. Never fails; host_close() on it does nothing. */
struct host *host_local(void);
/* Start the probe on `o->dest`: `ssh -T -o BatchMode=yes [-F CONFIG] DEST
 * 'WATVM' --probe` (WATVM: remote_watvm, else `watvm` on the far PATH) in
 * a process group of its own, its stdio on close-on-exec pipes, and ask a
 * first :ps within the timeout. 0, or -1 with a message in `err` naming
 * the host and quoting ssh's last stderr line ("h9: ssh: Could not resolve
 * hostname h9: ..."), with nothing left running. */
int host_open(const struct host_options *o, struct host **out, char *err,
              size_t errlen);
/* Close the probe's connection (its stdin; ssh gets up to 2 s to exit,
 * then its process group is SIGKILLed and reaped) and free the host. */
void host_close(struct host *h);

/* Forget h's last scan: the next host_read or host_alive asks the probe
 * afresh. For a caller that has just learnt something the last scan may
 * predate (a node's claim read, a signal sent). */
void host_forget(struct host *h);

bool host_is_local(const struct host *h);
/* "local", or the destination. */
const char *host_name(const struct host *h);
/* Why the last call on h failed, or "". */
const char *host_error(const struct host *h);
/* On a far host: the pids of the probe's own processes there, which are
 * no part of any tree: the probe itself (its :self), and its parent, the
 * sshd session of the harness's connection; 0 locally or when unknown.
 * Both are learnt by every scan. */
pid_t host_probe_pid(const struct host *h);
pid_t host_probe_ppid(const struct host *h);
/* On a far host: the local ssh client that runs its probe (a child of the
 * harness, no part of any tree); 0 for this machine. */
pid_t host_ssh_pid(const struct host *h);

/* As proctree_scan/_read/_alive/_fds/_rss_kb, on h. */
int host_scan(struct host *h, struct proc_table *t);
int host_read(struct host *h, pid_t pid, struct proc_info *out);
bool host_alive(struct host *h, pid_t pid, unsigned long long start);
int host_fds(struct host *h, pid_t pid, struct fd_list *l);
long host_rss_kb(struct host *h, pid_t pid);
/* Send `sig` to the process `pid` with start time `start` on h, never to
 * another that reuses its pid. 0, or -errno (-ESRCH: it is gone or has
 * another start time). On a far host only KILL TERM STOP CONT INT HUP
 * (else -EINVAL), and pid 1 is refused (-EINVAL). */
int host_signal(struct host *h, pid_t pid, unsigned long long start, int sig);

/* ---- a far host's death watch (host_watch.c) ----
 * Kept there by its probe: a pidfd per process, each exit stamped by a
 * thread of the probe with that host's CLOCK_BOOTTIME (the clock its
 * /proc start times count in; no other host's). Started when a crash
 * begins, read when it is judged, stopped after: no thread here, and
 * every call a request on the probe's one channel. Each returns 0 or
 * -errno with host_error() saying why; -EINVAL on the local host. */

enum { HOST_WATCH_MAX = 256 }; /* processes in one watch (the probe's bound) */
#define HOST_WATCH_GONE (-2)   /* gone (or another process) at the start */
struct host_watch_proc {
  pid_t pid;
  unsigned long long start; /* its /proc start time there */
  long long died_ns;        /* 0 while alive; HOST_WATCH_GONE; else when it
                               died, that host's CLOCK_BOOTTIME in ns */
};
/* Watch the n processes of v on h (1 to HOST_WATCH_MAX, each its own
 * user's there): the watch's id into *id, and v's first reading. */
int host_watch_start(struct host *h, struct host_watch_proc *v, size_t n,
                     long long *id);
/* The reading of watch `id` now into v (the n processes it was started
 * with, in that order). */
int host_watch_read(struct host *h, long long id, struct host_watch_proc *v,
                    size_t n);
/* A last reading into v, and the watch ended there. */
int host_watch_stop(struct host *h, long long id, struct host_watch_proc *v,
                    size_t n);

/* ---- a far host's trace directory (host_trace.c) ----
 * For --trace: the nodes on a far host trace into a private directory
 * there, made and removed by its probe, and copied here after the run.
 * Each returns 0 or -errno with host_error() saying why; -EINVAL on the
 * local host. */

/* Make one (BASE/tp-trace.XXXXXX on h): its path, malloc'ed, into *dir. */
int host_trace_mkdir(struct host *h, char **dir);
/* Copy every trace file of far directory `dir` into local directory
 * `into` (made 0755 when missing), each appended to INTO/NAME as the
 * node there would append it; *files counts the files copied. A failure
 * stops the copy; what was copied before stays. */
int host_trace_fetch(struct host *h, const char *dir, const char *into,
                     size_t *files);
/* Remove far directory `dir` and its trace files (the probe refuses any
 * other directory, and one holding anything else). */
int host_trace_remove(struct host *h, const char *dir);

#endif
