/* host_probe.c — a far host's process tree through the probe: `watvm
 * --probe` started over ssh, asked one EDN request at a time. (To be
 * written: this stub fails every call, so no far host can be judged
 * until it is.) */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>

#include "host_internal.h"

int host_open(const struct host_options *o, struct host **out, char *err,
              size_t errlen) {
  snprintf(err, errlen, "%s: far hosts are not supported yet", o->dest);
  *out = NULL;
  return -1;
}

void host_close(struct host *h) { (void)h; }

int probe_scan(struct host *h, struct proc_table *t) {
  (void)h, (void)t;
  return -ENOSYS;
}

int probe_fds(struct host *h, pid_t pid, struct fd_list *l) {
  (void)h, (void)pid, (void)l;
  return -ENOSYS;
}

long probe_rss_kb(struct host *h, pid_t pid) {
  (void)h, (void)pid;
  return -1;
}

int probe_signal(struct host *h, pid_t pid, unsigned long long start, int sig) {
  (void)h, (void)pid, (void)start, (void)sig;
  return -ENOSYS;
}
