/* probe_ops.c — the probe's questions about processes: :ps (every process
 * of the host), :fds (one process's fd table) and :signal (a signal to one
 * process, only while its start time is the one given, so a reused pid is
 * never signalled). */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"
#include "procfs.h"

int probe_error(edn_arena *a, edn_value *reply, const char *type,
                const char *msg) {
  char kw[64];
  snprintf(kw, sizeof kw, "wat/%s", type);
  edn_value *e = edn_coll(a, EDN_MAP);
  if (!e || edn_map_putk(a, e, "type", edn_keyword(a, kw)) < 0 ||
      edn_map_putk(a, e, "message", edn_string(a, msg, strlen(msg))) < 0 ||
      edn_map_putk(a, reply, "error", e) < 0)
    return -ENOMEM;
  return 0;
}

int probe_int_arg(const edn_value *req, const char *kw, long long min,
                  long long max, long long *v) {
  const edn_value *x = edn_map_getk(req, kw);
  if (!x || x->type != EDN_INT || x->u.integer < min || x->u.integer > max)
    return -1;
  *v = x->u.integer;
  return 0;
}

static int put_int(edn_arena *a, edn_value *m, const char *kw, long long v) {
  return edn_map_putk(a, m, kw, edn_int(a, v));
}

/* {:pid P :ppid PP :pgid G :state "S" :start T :comm "watvm" :rss-kb K} */
static edn_value *proc_entry(edn_arena *a, const struct procfs_stat *st) {
  edn_value *m = edn_coll(a, EDN_MAP);
  if (!m || put_int(a, m, "pid", st->pid) < 0 ||
      put_int(a, m, "ppid", st->ppid) < 0 ||
      put_int(a, m, "pgid", st->pgid) < 0 ||
      edn_map_putk(a, m, "state", edn_string(a, &st->state, 1)) < 0 ||
      put_int(a, m, "start", (long long)st->start) < 0 ||
      edn_map_putk(a, m, "comm", edn_string(a, st->comm, strlen(st->comm))) < 0 ||
      put_int(a, m, "rss-kb", st->rss_kb) < 0)
    return NULL;
  return m;
}

int probe_op_ps(edn_arena *a, const edn_value *req, edn_value *reply,
                const struct probe_options *o) {
  (void)req;
  (void)o;
  size_t n = 0;
  pid_t *pids = procfs_pids(&n);
  if (!pids) {
    char msg[128];
    snprintf(msg, sizeof msg, "unable to list /proc: %s", strerror(errno));
    return probe_error(a, reply, "io-error", msg);
  }
  edn_value *procs = edn_coll(a, EDN_VECTOR);
  int rc = procs ? 0 : -ENOMEM;
  for (size_t i = 0; rc == 0 && i < n; i++) {
    struct procfs_stat st;
    if (procfs_stat(pids[i], &st) < 0) continue; /* gone meanwhile */
    edn_value *e = proc_entry(a, &st);
    if (!e || edn_push(a, procs, e) < 0) rc = -ENOMEM;
  }
  free(pids);
  if (rc == 0 && (edn_map_putk(a, reply, "self", edn_int(a, getpid())) < 0 ||
                  edn_map_putk(a, reply, "procs", procs) < 0))
    rc = -ENOMEM;
  return rc;
}

int probe_op_fds(edn_arena *a, const edn_value *req, edn_value *reply,
                 const struct probe_options *o) {
  (void)o;
  long long pid;
  if (probe_int_arg(req, "pid", 1, INT32_MAX, &pid) < 0)
    return probe_error(a, reply, "bad-request", ":fds needs :pid, a positive integer");
  int err = 0;
  edn_value *fds = procfs_fds(a, pid == getpid() ? 0 : (pid_t)pid, &err);
  if (!fds && err == -ENOMEM) return -ENOMEM;
  if (!fds) {
    char msg[128];
    snprintf(msg, sizeof msg, "pid %lld: %s", pid,
             err == -ENOENT ? "no such process" : strerror(-err));
    return probe_error(a, reply, err == -ENOENT ? "no-such-process" : "io-error", msg);
  }
  if (put_int(a, reply, "pid", pid) < 0 || edn_map_putk(a, reply, "fds", fds) < 0)
    return -ENOMEM;
  return 0;
}

static const struct {
  const char *name;
  int sig;
} signals[] = {
  {"KILL", SIGKILL}, {"STOP", SIGSTOP}, {"CONT", SIGCONT},
  {"TERM", SIGTERM}, {"INT", SIGINT},   {"HUP", SIGHUP},
};

static int signal_number(const edn_value *v) {
  if (!v || v->type != EDN_STRING) return -1;
  for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
    if (strcmp(v->u.text.ptr, signals[i].name) == 0) return signals[i].sig;
  return -1;
}

/* Signal pid `pid` when it is still the process that started at `start`.
 * The pidfd is opened first and the start time read after it: a pid reused
 * in between shows the new process's start time and is refused, so the
 * signal reaches the process named or none. 0, or a negative errno:
 * -ESRCH no such process, -ESTALE another start time. */
static int signal_if_same(pid_t pid, unsigned long long start, int sig) {
  int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (pfd < 0 && errno == ESRCH) return -ESRCH;
  struct procfs_stat st;
  int rc = procfs_stat(pid, &st);
  if (rc < 0) rc = -ESRCH;
  else if (st.start != start) rc = -ESTALE;
  else if (pfd >= 0) rc = syscall(SYS_pidfd_send_signal, pfd, sig, NULL, 0) ? -errno : 0;
  else rc = kill(pid, sig) ? -errno : 0; /* no pidfds: a kernel before 5.3 */
  if (pfd >= 0) close(pfd);
  return rc;
}

int probe_op_signal(edn_arena *a, const edn_value *req, edn_value *reply,
                    const struct probe_options *o) {
  (void)o;
  long long pid, start;
  int sig = signal_number(edn_map_getk(req, "signal"));
  if (probe_int_arg(req, "pid", 2, INT32_MAX, &pid) < 0 ||
      probe_int_arg(req, "start", 0, INT64_MAX, &start) < 0 || sig < 0)
    return probe_error(a, reply, "bad-request",
                       ":signal needs :pid (over 1), :start (its start time) and "
                       ":signal, one of \"KILL\" \"STOP\" \"CONT\" \"TERM\" \"INT\" \"HUP\"");
  int rc = signal_if_same((pid_t)pid, (unsigned long long)start, sig);
  if (rc == 0) return edn_map_putk(a, reply, "signalled", edn_bool(a, true));
  char msg[160];
  if (rc == -ESTALE)
    snprintf(msg, sizeof msg, "pid %lld is another process now (not started at %lld)",
             pid, start);
  else if (rc == -ESRCH)
    snprintf(msg, sizeof msg, "pid %lld: no such process", pid);
  else
    snprintf(msg, sizeof msg, "pid %lld: %s", pid, strerror(-rc));
  return probe_error(a, reply, rc == -ESTALE || rc == -ESRCH ? "no-such-process"
                                                             : "io-error", msg);
}
