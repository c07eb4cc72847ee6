/* reap.c — reaping what is the harness's to reap: the root, and the
 * zombies it adopted as subreaper (a node whose parent was SIGKILLed is
 * reaped by no node), each exit traced. */
#define _GNU_SOURCE
#include <sys/wait.h>

#include "internal.h"

bool engine_reap_root(struct engine *e) {
  if (e->root_reaped)
    return true;
  int st;
  pid_t p = waitpid(e->root_pid, &st, WNOHANG);
  if (p == e->root_pid) {
    e->root_reaped = true;
    e->root_status = st;
    htrace_root_exited(e);
    if (e->root_registered) {
      session_root_del(e->root_pid);
      e->root_registered = false;
    }
  }
  return e->root_reaped;
}

size_t engine_reap_orphans(struct engine *e, const struct proc_table *pt) {
  bool was = e->root_reaped;
  size_t n = engine_reap_root(e) && !was;
  for (size_t i = 0; i < pt->n; i++) {
    const struct proc_info *pi = &pt->v[i];
    if (pi->ppid != e->self || pi->state != 'Z' || pi->pid == e->root_pid)
      continue;
    for (size_t j = 0; j < e->nseen; j++)
      if (e->seen[j] == pi->pid) {
        n += engine_reap_adopted(e, pi->pid);
        break;
      }
  }
  return n;
}

bool engine_reap_adopted(struct engine *e, pid_t pid) {
  int st;
  if (waitpid(pid, &st, WNOHANG) != pid)
    return false;
  htrace_adopted_exited(e, pid, st);
  return true;
}

