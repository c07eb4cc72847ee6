/* loop.c — the event loop's policy: which fds are wanted, which timers are
 * due, and dispatching both. The kernel interface lives in loop_epoll.c. */
#define _GNU_SOURCE /* pipe2, close_range, signalfd */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

int64_t loop_now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t loop_now_ms(void) { return loop_now_us() / 1000; }

struct loop *loop_new(void) {
  struct loop *l = calloc(1, sizeof *l);
  if (!l) return NULL;
  l->readycap = 256;
  l->ready = calloc((size_t)l->readycap, sizeof *l->ready);
  if (!l->ready) goto fail;
  int e = loop_backend_open(l);
  if (e < 0) {
    errno = -e;
    goto fail;
  }
  return l;
fail:
  e = errno;
  free(l->ready);
  free(l);
  errno = e;
  return NULL;
}

void loop_free(struct loop *l) {
  if (!l) return;
  loop_backend_close(l);
  free(l->fds);
  free(l->ready);
  free(l);
}

static int grow_fds(struct loop *l, int fd) {
  if (fd < l->nfds) return 0;
  int n = l->nfds ? l->nfds : 64;
  while (n <= fd) n *= 2;
  struct loop_fd *p = realloc(l->fds, (size_t)n * sizeof *p);
  if (!p) return -ENOMEM;
  memset(p + l->nfds, 0, (size_t)(n - l->nfds) * sizeof *p);
  l->fds = p;
  l->nfds = n;
  return 0;
}

/* The ready buffer must hold the backend's batch plus every plain fd. */
static int grow_ready(struct loop *l) {
  int need = 256 + l->nplain;
  if (need <= l->readycap) return 0;
  struct loop_ready *p = realloc(l->ready, (size_t)need * 2 * sizeof *p);
  if (!p) return -ENOMEM;
  l->ready = p;
  l->readycap = need * 2;
  return 0;
}

static void set_plain_want(struct loop *l, struct loop_fd *f, unsigned events) {
  if (f->want && !events) l->nplain--;
  if (!f->want && events) l->nplain++;
  f->want = events;
}

int loop_want(struct loop *l, int fd, unsigned events, loop_io_fn *fn,
              void *data) {
  events &= LOOP_READ | LOOP_WRITE;
  if (fd < 0) return -EBADF;
  if (grow_fds(l, fd) < 0) return -ENOMEM;
  struct loop_fd *f = &l->fds[fd];
  f->fn = fn;
  f->data = data;
  if (f->plain) {
    set_plain_want(l, f, events);
    if (!events) f->plain = false;
    return grow_ready(l);
  }
  f->want = events;
  if (f->kernel == events) return 0;
  int e = loop_backend_set(l, fd, f->kernel, events);
  if (e == -EPERM && events) { /* a regular file or /dev/null: always ready */
    f->plain = true;
    f->want = 0;
    set_plain_want(l, f, events);
    return grow_ready(l);
  }
  if (e < 0 && !(events == 0 && (e == -EBADF || e == -ENOENT))) return e;
  f->kernel = events;
  return 0;
}

void loop_close(struct loop *l, int fd) {
  if (fd < 0) return;
  if (fd < l->nfds) {
    struct loop_fd *f = &l->fds[fd];
    if (f->plain) set_plain_want(l, f, 0);
    f->plain = false;
    f->want = f->kernel = 0;
    f->fn = NULL;
    f->data = NULL;
  }
  close(fd);
}

static void timer_unlink(struct loop *l, struct loop_timer *t) {
  if (t->prev) t->prev->next = t->next;
  else l->timers = t->next;
  if (t->next) t->next->prev = t->prev;
  t->prev = t->next = NULL;
  t->armed = false;
}

void loop_timer_stop(struct loop *l, struct loop_timer *t) {
  if (t->armed) timer_unlink(l, t);
}

void loop_timer_start(struct loop *l, struct loop_timer *t, int64_t ms,
                      loop_timer_fn *fn, void *data) {
  loop_timer_stop(l, t);
  if (ms < 0) ms = 0;
  if (ms > LOOP_FOREVER_MS) ms = LOOP_FOREVER_MS; /* no overflow below */
  t->due_ms = loop_now_ms() + ms;
  t->fn = fn;
  t->data = data;
  struct loop_timer **pp = &l->timers, *prev = NULL;
  while (*pp && (*pp)->due_ms <= t->due_ms) {
    prev = *pp;
    pp = &(*pp)->next;
  }
  t->next = *pp;
  t->prev = prev;
  if (*pp) (*pp)->prev = t;
  *pp = t;
  t->armed = true;
}

static int wait_timeout(struct loop *l, int max_wait_ms) {
  if (l->nplain > 0) return 0;
  int timeout = max_wait_ms;
  if (l->timers) {
    int64_t d = l->timers->due_ms - loop_now_ms();
    if (d < 0) d = 0;
    if (d > 1000000) d = 1000000;
    if (timeout < 0 || d < timeout) timeout = (int)d;
  }
  return timeout;
}

static void add_plain_ready(struct loop *l) {
  for (int fd = 0; fd < l->nfds && l->nplain; fd++) {
    struct loop_fd *f = &l->fds[fd];
    if (!f->plain || !f->want) continue;
    l->ready[l->nready].fd = fd;
    l->ready[l->nready].events = f->want;
    l->nready++;
  }
}

static void run_timers(struct loop *l) {
  if (!l->timers) return;
  int64_t now = loop_now_ms();
  while (l->timers && l->timers->due_ms <= now) {
    struct loop_timer *t = l->timers;
    timer_unlink(l, t);
    t->fn(t->data);
  }
}

int loop_run_once(struct loop *l, int max_wait_ms) {
  int n = loop_backend_wait(l, wait_timeout(l, max_wait_ms));
  if (n == -EINTR) {
    l->nready = 0;
  } else if (n < 0) {
    return n;
  }
  add_plain_ready(l);
  for (int i = 0; i < l->nready; i++) {
    int fd = l->ready[i].fd;
    /* An earlier callback may have forgotten (and closed) this fd. */
    if (fd >= l->nfds) continue;
    struct loop_fd *f = &l->fds[fd];
    unsigned ev = l->ready[i].events & (f->want | LOOP_HUP | LOOP_ERR);
    if (!f->want || !ev || !f->fn) continue;
    f->fn(f->data, fd, ev);
  }
  l->nready = 0;
  run_timers(l);
  return 0;
}
