/* probe_watch.c — the probe's death watches as ops: :watch-start names
 * the processes to watch (pid and start time each) and gets a watch id,
 * :watch-read says when each died (this host's CLOCK_BOOTTIME in ns, nil
 * while it lives, :gone when it was gone at the start), :watch-stop says
 * it once more and ends the watch. So a harness on another host learns
 * the order and the instants of deaths here, observed here. The watches
 * open are this file's table, bounded (PROBE_WATCHES_MAX watches, at most
 * PROBE_WATCH_PROCS_MAX processes each, PROBE_WATCHED_MAX in all); every
 * one left open is closed when the probe ends (probe_watch_end_all). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static struct {
  long long id; /* 0: a free slot */
  struct probe_watch *w;
} open_watches[PROBE_WATCHES_MAX];
static long long last_id;

static size_t watched_now(void) {
  size_t n = 0;
  for (size_t i = 0; i < PROBE_WATCHES_MAX; i++)
    if (open_watches[i].id) n += probe_watch_count(open_watches[i].w);
  return n;
}

static long free_slot(void) {
  for (size_t i = 0; i < PROBE_WATCHES_MAX; i++)
    if (!open_watches[i].id) return (long)i;
  return -1;
}

/* [[PID START] ...] of :procs into v (at most `max`): their count, or -1
 * when it is no such vector. */
static long parse_procs(const edn_value *req, struct probe_watch_proc *v, size_t max) {
  const edn_value *p = edn_map_getk(req, "procs");
  if (!p || p->type != EDN_VECTOR || p->u.seq.len == 0 || p->u.seq.len > max) return -1;
  for (size_t i = 0; i < p->u.seq.len; i++) {
    const edn_value *x = p->u.seq.items[i];
    if (x->type != EDN_VECTOR || x->u.seq.len != 2) return -1;
    const edn_value *pid = x->u.seq.items[0], *start = x->u.seq.items[1];
    if (pid->type != EDN_INT || pid->u.integer < 2 || pid->u.integer > INT32_MAX ||
        start->type != EDN_INT || start->u.integer < 0)
      return -1;
    v[i].pid = (pid_t)pid->u.integer;
    v[i].start = (unsigned long long)start->u.integer;
  }
  return (long)p->u.seq.len;
}

/* :watch ID :procs [[PID DIED] ...] into `reply`, DIED nil, :gone or ns. */
static int put_reading(edn_arena *a, edn_value *reply, long long id,
                       const struct probe_watch *w) {
  edn_value *procs = edn_coll(a, EDN_VECTOR);
  if (!procs || edn_map_putk(a, reply, "watch", edn_int(a, id)) < 0 ||
      edn_map_putk(a, reply, "procs", procs) < 0)
    return -ENOMEM;
  for (size_t i = 0; i < probe_watch_count(w); i++) {
    long long d = probe_watch_died(w, i);
    edn_value *x = edn_coll(a, EDN_VECTOR);
    edn_value *died = d == PROBE_WATCH_GONE ? edn_keyword(a, "gone")
                      : d == 0             ? edn_nil(a)
                                           : edn_int(a, d);
    if (!x || edn_push(a, x, edn_int(a, probe_watch_pid(w, i))) < 0 ||
        edn_push(a, x, died) < 0 || edn_push(a, procs, x) < 0)
      return -ENOMEM;
  }
  return 0;
}

static int start_failed(edn_arena *a, edn_value *reply, int rc, pid_t refused) {
  char msg[200];
  if (rc == -ENOMEM) return -ENOMEM;
  if (rc == -EPERM) {
    snprintf(msg, sizeof msg, "pid %d is another user's process: the probe "
             "watches only its own user's", (int)refused);
    return probe_error(a, reply, "refused", msg);
  }
  snprintf(msg, sizeof msg, "unable to watch: %s", strerror(-rc));
  return probe_error(a, reply, "io-error", msg);
}

int probe_op_watch_start(edn_arena *a, const edn_value *req, edn_value *reply,
                         const struct probe_options *o) {
  (void)o;
  struct probe_watch_proc v[PROBE_WATCH_PROCS_MAX];
  long n = parse_procs(req, v, PROBE_WATCH_PROCS_MAX);
  char msg[200];
  if (n < 0) {
    snprintf(msg, sizeof msg, ":watch-start needs :procs, 1 to %d [PID START] "
             "pairs (PID over 1, START its start time)", PROBE_WATCH_PROCS_MAX);
    return probe_error(a, reply, "bad-request", msg);
  }
  long slot = free_slot();
  if (slot < 0 || watched_now() + (size_t)n > PROBE_WATCHED_MAX) {
    snprintf(msg, sizeof msg, "at most %d watches and %d processes are watched "
             "at once: stop one first", PROBE_WATCHES_MAX, PROBE_WATCHED_MAX);
    return probe_error(a, reply, "refused", msg);
  }
  pid_t refused = 0;
  struct probe_watch *w;
  int rc = probe_watch_open(v, (size_t)n, &w, &refused);
  if (rc < 0) return start_failed(a, reply, rc, refused);
  open_watches[slot].id = ++last_id;
  open_watches[slot].w = w;
  return put_reading(a, reply, last_id, w);
}

/* The slot of the watch `req` names, or -1 with the :error in `reply`
 * (*rc: 0, or -ENOMEM). */
static long named_watch(edn_arena *a, const edn_value *req, edn_value *reply,
                        const char *op, int *rc) {
  long long id;
  char msg[160];
  *rc = 0;
  if (probe_int_arg(req, "watch", 1, INT64_MAX, &id) < 0) {
    snprintf(msg, sizeof msg, ":%s needs :watch, the id :watch-start gave", op);
    *rc = probe_error(a, reply, "bad-request", msg);
    return -1;
  }
  for (size_t i = 0; i < PROBE_WATCHES_MAX; i++)
    if (open_watches[i].id == id) return (long)i;
  snprintf(msg, sizeof msg, "no watch %lld is open", id);
  *rc = probe_error(a, reply, "no-such-watch", msg);
  return -1;
}

int probe_op_watch_read(edn_arena *a, const edn_value *req, edn_value *reply,
                        const struct probe_options *o) {
  (void)o;
  int rc;
  long i = named_watch(a, req, reply, "watch-read", &rc);
  return i < 0 ? rc : put_reading(a, reply, open_watches[i].id, open_watches[i].w);
}

int probe_op_watch_stop(edn_arena *a, const edn_value *req, edn_value *reply,
                        const struct probe_options *o) {
  (void)o;
  int rc;
  long i = named_watch(a, req, reply, "watch-stop", &rc);
  if (i < 0) return rc;
  rc = put_reading(a, reply, open_watches[i].id, open_watches[i].w);
  if (rc == 0) rc = edn_map_putk(a, reply, "stopped", edn_bool(a, true));
  probe_watch_close(open_watches[i].w);
  open_watches[i].id = 0;
  open_watches[i].w = NULL;
  return rc;
}

void probe_watch_end_all(void) {
  for (size_t i = 0; i < PROBE_WATCHES_MAX; i++)
    if (open_watches[i].id) {
      probe_watch_close(open_watches[i].w);
      open_watches[i].id = 0;
      open_watches[i].w = NULL;
    }
}
