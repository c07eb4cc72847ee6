/* host_watch.c — a death watch kept on a far host by its probe: the
 * processes to watch there (pid and start time) go out in :watch-start,
 * and :watch-read tells when each died, stamped there with that host's
 * CLOCK_BOOTTIME by a thread of the probe's own; :watch-stop ends it. The
 * harness needs no thread for it: the probe observes, the harness asks
 * when it judges, on the one channel every other question uses. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_internal.h"

/* `:op :watch-start :procs [[PID START] ...]`, malloc'ed, or NULL. */
static char *start_body(const struct host_watch_proc *v, size_t n) {
  size_t cap = 64 + n * 48, k = 0;
  char *b = malloc(cap);
  if (!b)
    return NULL;
  k += (size_t)snprintf(b, cap, ":op :watch-start :procs [");
  for (size_t i = 0; i < n; i++)
    k += (size_t)snprintf(b + k, cap - k, "[%d %llu]", (int)v[i].pid, v[i].start);
  snprintf(b + k, cap - k, "]");
  return b;
}

static int bad_reading(struct host *h) {
  snprintf(h->error, sizeof h->error, "%s: the probe's watch reply has no "
           ":procs as it was asked", h->name);
  return -EPROTO;
}

/* Reply r's :procs [[PID DIED] ...] into v (in the order asked, each pid
 * checked): DIED nil → 0, :gone → HOST_WATCH_GONE, an integer → it. 0,
 * or -EPROTO. */
static int take_reading(struct host *h, const edn_value *r,
                        struct host_watch_proc *v, size_t n) {
  const edn_value *procs = edn_map_getk(r, "procs");
  if (!procs || procs->type != EDN_VECTOR || procs->u.seq.len != n)
    return bad_reading(h);
  for (size_t i = 0; i < n; i++) {
    const edn_value *x = procs->u.seq.items[i];
    if (x->type != EDN_VECTOR || x->u.seq.len != 2 ||
        x->u.seq.items[0]->type != EDN_INT ||
        x->u.seq.items[0]->u.integer != v[i].pid)
      return bad_reading(h);
    const edn_value *d = x->u.seq.items[1];
    if (d->type == EDN_INT && d->u.integer > 0)
      v[i].died_ns = d->u.integer;
    else if (edn_is_keyword(d, "gone"))
      v[i].died_ns = HOST_WATCH_GONE;
    else if (d->type == EDN_NIL)
      v[i].died_ns = 0;
    else
      return bad_reading(h);
  }
  return 0;
}

static int watch_ask(struct host *h, const char *body, edn_value **r) {
  int rc = ssh_ask(h, body, r);
  return rc < 0 ? rc : probe_reply_error(h, *r);
}

int host_watch_start(struct host *h, struct host_watch_proc *v, size_t n,
                     long long *id) {
  *id = 0;
  if (h->local || n == 0 || n > HOST_WATCH_MAX)
    return -EINVAL;
  char *body = start_body(v, n);
  if (!body)
    return -ENOMEM;
  edn_value *r;
  int rc = watch_ask(h, body, &r);
  free(body);
  if (rc < 0)
    return rc;
  const edn_value *w = edn_map_getk(r, "watch");
  if (!w || w->type != EDN_INT || w->u.integer <= 0)
    return bad_reading(h);
  if ((rc = take_reading(h, r, v, n)) < 0)
    return rc;
  *id = w->u.integer;
  return 0;
}

/* :watch-read or :watch-stop of watch `id`, its reading into v. */
static int watch_again(struct host *h, const char *op, long long id,
                       struct host_watch_proc *v, size_t n) {
  char body[96];
  snprintf(body, sizeof body, ":op :%s :watch %lld", op, id);
  edn_value *r;
  int rc = h->local ? -EINVAL : watch_ask(h, body, &r);
  return rc < 0 ? rc : take_reading(h, r, v, n);
}

int host_watch_read(struct host *h, long long id, struct host_watch_proc *v,
                    size_t n) {
  return watch_again(h, "watch-read", id, v, n);
}

int host_watch_stop(struct host *h, long long id, struct host_watch_proc *v,
                    size_t n) {
  return watch_again(h, "watch-stop", id, v, n);
}
