/* watch_far.c — the part of a crash's death watch on other hosts: the
 * watched processes of each far host go to that host's probe in one
 * :watch-start when the crash begins (a pidfd each there, every exit
 * stamped there with that host's CLOCK_BOOTTIME by a thread of the
 * probe), and their readings come back by :watch-read whenever the
 * auditor asks (watch_refresh), on the probe's one request/reply channel:
 * nothing here runs in a thread, so the channel is never used by two at
 * once. A host whose watch cannot be started or read is remembered with
 * why, and its processes count as not watched. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

static struct watch_far *part_of(struct exit_watch *w, const struct host *h) {
  for (size_t j = 0; j < w->nfar; j++)
    if (w->far[j].h == h)
      return &w->far[j];
  return NULL;
}

/* A part for far host h with every entry of w on h. -1: no memory. */
static int add_part(struct exit_watch *w, struct host *h) {
  struct watch_far *v = realloc(w->far, (w->nfar + 1) * sizeof *v);
  if (!v)
    return -1;
  w->far = v;
  struct watch_far *f = &w->far[w->nfar++];
  *f = (struct watch_far){.h = h};
  f->ix = calloc(w->n, sizeof *f->ix);
  f->p = calloc(w->n, sizeof *f->p);
  if (!f->ix || !f->p)
    return -1;
  for (size_t i = 0; i < w->n; i++)
    if (w->v[i].h == h) {
      f->ix[f->n] = i;
      f->p[f->n++] = (struct host_watch_proc){w->v[i].pid, w->v[i].start, 0};
    }
  return 0;
}

/* The part's readings into its entries. */
static void take(struct exit_watch *w, const struct watch_far *f) {
  for (size_t j = 0; j < f->n; j++) {
    long long d = f->p[j].died_ns;
    __atomic_store_n(&w->v[f->ix[j]].died_ns,
                     d == HOST_WATCH_GONE ? WATCH_BEFORE : d, __ATOMIC_RELEASE);
  }
}

/* The part's watch failed (`what`): its entries are not watched. */
static void part_failed(struct exit_watch *w, struct watch_far *f,
                        const char *what) {
  snprintf(f->error, sizeof f->error, "%s: %s", what, host_error(f->h));
  f->id = 0;
  for (size_t j = 0; j < f->n; j++)
    __atomic_store_n(&w->v[f->ix[j]].died_ns, -1LL, __ATOMIC_RELEASE);
}

int watch_far_start(struct exit_watch *w) {
  for (size_t i = 0; i < w->n; i++)
    if (!host_is_local(w->v[i].h) && !part_of(w, w->v[i].h) &&
        add_part(w, w->v[i].h) < 0)
      return -1;
  for (size_t j = 0; j < w->nfar; j++) {
    struct watch_far *f = &w->far[j];
    if (host_watch_start(f->h, f->p, f->n, &f->id) < 0)
      part_failed(w, f, "its probe could not start a watch");
    else
      take(w, f);
  }
  return 0;
}

static bool any_alive(const struct watch_far *f) {
  for (size_t j = 0; j < f->n; j++)
    if (f->p[j].died_ns == 0)
      return true;
  return false;
}

int watch_refresh(struct exit_watch *w) {
  int rc = 0;
  for (size_t j = 0; w && j < w->nfar; j++) {
    struct watch_far *f = &w->far[j];
    if (!f->id || !any_alive(f))
      continue;
    if (host_watch_read(f->h, f->id, f->p, f->n) < 0) {
      part_failed(w, f, "its probe's watch could not be read");
      rc = -1;
    } else {
      take(w, f);
    }
  }
  return rc;
}

const char *watch_far_error(const struct exit_watch *w, const struct host *h) {
  for (size_t j = 0; w && j < w->nfar; j++)
    if (w->far[j].h == h && w->far[j].error[0])
      return w->far[j].error;
  return NULL;
}

void watch_far_stop(struct exit_watch *w) {
  for (size_t j = 0; j < w->nfar; j++) {
    struct watch_far *f = &w->far[j];
    if (f->id) /* its last reading is not needed: the crash was judged */
      host_watch_stop(f->h, f->id, f->p, f->n);
    free(f->ix);
    free(f->p);
  }
  free(w->far);
  w->far = NULL;
  w->nfar = 0;
}
