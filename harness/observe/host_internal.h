/* host_internal.h — private to harness/observe/: a host as its two
 * backends share it. */
#ifndef TREEPROOF_HOST_INTERNAL_H
#define TREEPROOF_HOST_INTERNAL_H

#include "host.h"

struct host {
  bool local;
  const char *name;    /* "local", or dest (owned when far) */
  char error[256];
  /* far: the probe's connection */
  pid_t ssh_pid;       /* the local ssh client running the probe */
  int to_fd, from_fd;  /* its stdin, its stdout */
  pid_t probe_pid;     /* the probe's pid on its host (:self) */
  int timeout_ms;
  long long next_id;
  char *buf;           /* unread bytes from the probe */
  size_t len, cap;
};

/* host_probe.c: the far backend, each call bounded by h->timeout_ms. */
int probe_scan(struct host *h, struct proc_table *t);
int probe_fds(struct host *h, pid_t pid, struct fd_list *l);
long probe_rss_kb(struct host *h, pid_t pid);
int probe_signal(struct host *h, pid_t pid, unsigned long long start, int sig);

#endif
