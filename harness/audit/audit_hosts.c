/* audit_hosts.c — cascade on the other hosts at the end: once the root
 * has gone, every process of the run the harness saw on a far host (each
 * far node, and the sshd session that held each hop) must be gone from
 * that host too, within the same bound; what is left is named with its
 * host, and killed there through the probe (nothing is left behind). */
#define _GNU_SOURCE
#include <signal.h>

#include "audit.h"

static size_t far_left(struct engine *e) {
  size_t n = 0;
  for (size_t i = 0; i < e->nfar; i++)
    n += host_alive(e->far[i].h, e->far[i].pid, e->far[i].start);
  return n;
}

void audit_hosts_end(struct engine *e, double deadline) {
  if (!e->nfar)
    return;
  enum property p = engine_listed(e, PROP_CASCADE) ? PROP_CASCADE : PROP_COUNT;
  while (far_left(e) && engine_now_ms() < deadline && !e->interrupted)
    if (engine_pump(e, 50, false) < 0)
      break;
  for (size_t i = 0; i < e->nfar; i++) {
    const struct far_seen *f = &e->far[i];
    if (!host_alive(f->h, f->pid, f->start))
      continue;
    const char *msg = "cascade: on %s, %s%s (pid %d) is still there after "
                      "the root's end";
    if (p == PROP_CASCADE)
      engine_fail(e, p, msg, host_name(f->h), f->session ? "the sshd session "
                  "of " : "", f->t->path, (int)f->pid);
    else
      engine_step_fail(e, msg, host_name(f->h), f->session ? "the sshd "
                       "session of " : "", f->t->path, (int)f->pid);
    host_signal(f->h, f->pid, f->start, SIGKILL);
  }
}
