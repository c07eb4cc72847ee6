/* host_internal.h — private to harness/observe/: a host as its two
 * backends share it, and the far backend's channel to its probe. */
#ifndef TREEPROOF_HOST_INTERNAL_H
#define TREEPROOF_HOST_INTERNAL_H

#include "edn.h"
#include "host.h"

struct host {
  bool local;
  const char *name;    /* "local", or dest (owned when far) */
  char error[512];
  /* far: the probe's connection; every fd is CLOEXEC, -1 when closed, and
   * closed by host_close() */
  pid_t ssh_pid;       /* the local ssh client running the probe, leader of
                          its own process group; 0 once reaped */
  int to_fd, from_fd;  /* its stdin, its stdout */
  int err_fd;          /* its stderr: ssh's and the probe's diagnostics */
  pid_t probe_pid;     /* the probe's pid on its host (:self) */
  pid_t probe_ppid;    /* the probe's parent there (its sshd session) */
  int timeout_ms;
  long long next_id;
  char *buf;           /* unread bytes from the probe */
  size_t len, cap;
  char errtail[256];   /* the last line ssh (or the probe) wrote on stderr */
  char errline[256];   /* the stderr line being read, not yet ended */
  size_t errlen;
  edn_arena *arena;    /* the last reply, reset by each request */
  /* the last :ps, for host_read/host_alive: a loop asking about many
   * pids in a row asks the probe once (see HOST_SCAN_FRESH_MS) */
  struct proc_table seen;
  long long seen_ms;   /* when it was read (host_now_ms; 0: never) */
};

/* How long a far scan answers host_read and host_alive: short enough that
 * a poll (every 20 ms or more) always asks the probe afresh, long enough
 * that one pass over every far process of a run asks it once. A signal
 * sent through host_signal forgets it. */
#define HOST_SCAN_FRESH_MS 10

/* CLOCK_MONOTONIC in ms (host_ssh.c): every bound in this layer. */
long long host_now_ms(void);

/* host_ssh.c: the channel. Start `ssh -T -o BatchMode=yes [-F CONFIG] DEST
 * 'WATVM' --probe` in a process group of its own with its stdio on pipes:
 * 0, or a negative errno with h->error set (h->ssh_pid is 0 when nothing
 * was started). */
int ssh_start(struct host *h, const struct host_options *o);
/* Send `{:id N BODY}` (N fresh) and wait, until h->timeout_ms from now at
 * most, for the reply line with that id (lines with other ids, late
 * answers to requests that timed out, are dropped). 0 with *reply in
 * h->arena (valid until the next request), or -ETIMEDOUT, -EPIPE (the
 * connection ended: h->error quotes ssh's last stderr line), -EPROTO (an
 * unreadable line) or -ENOMEM; h->error says which. */
int ssh_ask(struct host *h, const char *body, edn_value **reply);
/* Close the probe's stdin, wait up to `grace_ms` for ssh to exit, SIGKILL
 * its process group, reap it and close every fd. Idempotent. */
void ssh_stop(struct host *h, int grace_ms);

/* host_probe.c: the far backend, each call bounded by h->timeout_ms. */
/* The probe's :error in reply `r`, as -errno (0 when there is none): no
 * such process → -ESRCH, no such trace dir or file → -ENOENT, a refused
 * or bad request → -EINVAL, else -EIO; h->error quotes it. */
int probe_reply_error(struct host *h, const edn_value *r);
int probe_scan(struct host *h, struct proc_table *t);
int probe_fds(struct host *h, pid_t pid, struct fd_list *l);
long probe_rss_kb(struct host *h, pid_t pid);
int probe_signal(struct host *h, pid_t pid, unsigned long long start, int sig);

#endif
