/* host.c — a host's process tree: the local backend (this machine's /proc
 * through proctree.c). The far backend, the probe over ssh, is in
 * host_probe.c. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "host_internal.h"

static struct host local_host = {.local = true, .name = "local"};

struct host *host_local(void) { return &local_host; }

bool host_is_local(const struct host *h) { return h->local; }
const char *host_name(const struct host *h) { return h->name; }
const char *host_error(const struct host *h) { return h->error; }
pid_t host_ssh_pid(const struct host *h) { return h->local ? 0 : h->ssh_pid; }
pid_t host_probe_pid(const struct host *h) { return h->local ? 0 : h->probe_pid; }

int host_scan(struct host *h, struct proc_table *t) {
  return h->local ? proctree_scan(t) : probe_scan(h, t);
}

int host_read(struct host *h, pid_t pid, struct proc_info *out) {
  if (h->local)
    return proctree_read(pid, out);
  long long now = host_now_ms();
  if (!h->seen_ms || now - h->seen_ms >= HOST_SCAN_FRESH_MS) {
    proctree_free(&h->seen);
    h->seen_ms = 0;
    int rc = probe_scan(h, &h->seen);
    if (rc < 0)
      return rc;
    h->seen_ms = host_now_ms();
  }
  const struct proc_info *p = proctree_find(&h->seen, pid);
  if (p)
    *out = *p;
  return p ? 0 : -ENOENT;
}

bool host_alive(struct host *h, pid_t pid, unsigned long long start) {
  if (h->local)
    return proctree_alive(pid, start);
  struct proc_info pi;
  return host_read(h, pid, &pi) == 0 && pi.state != 'Z' &&
         (!start || pi.start == start);
}

int host_fds(struct host *h, pid_t pid, struct fd_list *l) {
  return h->local ? proctree_fds(pid, l) : probe_fds(h, pid, l);
}

long host_rss_kb(struct host *h, pid_t pid) {
  return h->local ? proctree_rss_kb(pid) : probe_rss_kb(h, pid);
}

/* Locally: a pidfd, opened and then checked for the start time, so the
 * signal goes to that process or to none. */
static int local_signal(pid_t pid, unsigned long long start, int sig) {
  int fd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (fd < 0 && errno == ENOSYS) {
    /* no pidfds (an old kernel; valgrind): check, then signal by pid —
     * a reuse between the two would need the pid to die and come back */
    if (start && !proctree_alive(pid, start))
      return -ESRCH;
    return kill(pid, sig) < 0 ? -errno : 0;
  }
  if (fd < 0)
    return -errno;
  int rc = 0;
  if (start && !proctree_alive(pid, start))
    rc = -ESRCH;
  else if (syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0) < 0)
    rc = -errno;
  close(fd);
  return rc;
}

void host_forget(struct host *h) { h->seen_ms = 0; }

int host_signal(struct host *h, pid_t pid, unsigned long long start, int sig) {
  host_forget(h); /* what it changes must be read afresh */
  return h->local ? local_signal(pid, start, sig)
                  : probe_signal(h, pid, start, sig);
}
