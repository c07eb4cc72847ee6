/* watch.c — the harness's own record of when processes die. From a crash
 * step's start until it has been judged, each watched process (the
 * crashed node, its siblings, its parent, its children) is observed on
 * its own host: here, a thread of our own polls a pidfd per process and
 * notes the CLOCK_BOOTTIME instant each one exits; on another host, that
 * host's probe does the same there (watch_far.c). So the order in which a
 * parent stopped its children, and how long each stop took, are observed
 * by the harness, not taken from the runtime's :stats. Exits seen in one
 * wake-up share their instant: a tie, which orders nothing. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

long long engine_boottime_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_BOOTTIME, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void *watch_thread(void *arg) {
  struct exit_watch *w = arg;
  struct epoll_event ev[64];
  /* Ahead of the tree's own processes, where the system allows (root):
   * on a loaded machine an ordinary thread may see a death tens of ms
   * late. It only waits and stamps, so it cannot starve anyone. */
  struct sched_param sp = {.sched_priority = 1};
  pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
  for (;;) {
    int k = epoll_wait(w->ep, ev, 64, -1);
    if (k < 0 && errno == EINTR)
      continue;
    if (k < 0)
      return NULL;
    long long now = engine_boottime_ns();
    for (int i = 0; i < k; i++) {
      if (ev[i].data.u64 == (uint64_t)-1)
        return NULL; /* told to stop */
      struct watch_entry *x = &w->v[ev[i].data.u64];
      __atomic_store_n(&x->died_ns, now, __ATOMIC_RELEASE);
      epoll_ctl(w->ep, EPOLL_CTL_DEL, x->fd, NULL);
    }
  }
}

/* Should the watch of a crash of `n` hold t? */
static bool watched(const struct tree_node *t, const struct tree_node *n) {
  return t == n || t == n->parent || t->parent == n ||
         (n->parent && t->parent == n->parent);
}

/* A pidfd for (pid, start): -1 when that process is already gone (a pid
 * may be reused: the start time after the open proves which one it is). */
static int open_pidfd(pid_t pid, unsigned long long start) {
  int fd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (fd < 0)
    return -1;
  if (!proctree_alive(pid, start)) {
    close(fd);
    return -1;
  }
  return fd;
}

/* The entry of b; a local one gets its pidfd here, a far one is left to
 * its host's probe (watch_far_start). */
static int add_entry(struct engine *e, struct exit_watch *w,
                     const struct live_node *b) {
  struct watch_entry *x = &w->v[w->n];
  x->t = b->t;
  x->h = engine_host(e, b->t);
  x->pid = b->pid;
  x->start = b->start;
  x->fd = -1;
  x->died_ns = 0;
  w->n++;
  if (!host_is_local(x->h))
    return 0;
  x->fd = open_pidfd(b->pid, b->start);
  x->died_ns = x->fd < 0 ? WATCH_BEFORE : 0;
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = w->n - 1};
  if (x->fd >= 0 && epoll_ctl(w->ep, EPOLL_CTL_ADD, x->fd, &ev) < 0)
    return -1;
  return 0;
}

static struct exit_watch *watch_new(size_t cap) {
  struct exit_watch *w = calloc(1, sizeof *w);
  if (!w || !(w->v = calloc(cap ? cap : 1, sizeof *w->v))) {
    free(w);
    return NULL;
  }
  w->ep = w->stop_fd = -1;
  w->ep = epoll_create1(EPOLL_CLOEXEC);
  w->stop_fd = eventfd(0, EFD_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)-1};
  if (w->ep < 0 || w->stop_fd < 0 ||
      epoll_ctl(w->ep, EPOLL_CTL_ADD, w->stop_fd, &ev) < 0) {
    watch_free(w);
    return NULL;
  }
  return w;
}

static bool to_watch(const struct live_node *b, const struct crash *k) {
  return b->state == NODE_ALIVE && b->pid && watched(b->t, k->node);
}

struct exit_watch *watch_start(struct engine *e, const struct crash *k) {
  size_t cap = 0;
  for (size_t i = 0; i < k->nbefore; i++)
    cap += to_watch(&k->before[i], k);
  if (cap > WATCH_MAX)
    return NULL;
  struct exit_watch *w = watch_new(cap);
  if (!w)
    return NULL;
  for (size_t i = 0; i < k->nbefore; i++)
    if (to_watch(&k->before[i], k) && add_entry(e, w, &k->before[i]) < 0) {
      watch_free(w);
      return NULL;
    }
  if (watch_far_start(w) < 0 ||
      pthread_create(&w->thread, NULL, watch_thread, w) != 0) {
    watch_free(w);
    return NULL;
  }
  w->running = true;
  return w;
}

static const struct watch_entry *entry_of(const struct exit_watch *w,
                                          const struct tree_node *t) {
  for (size_t i = 0; w && i < w->n; i++)
    if (w->v[i].t == t)
      return &w->v[i];
  return NULL;
}

long long watch_died(const struct exit_watch *w, const struct tree_node *t) {
  const struct watch_entry *x = entry_of(w, t);
  return x ? __atomic_load_n(&x->died_ns, __ATOMIC_ACQUIRE) : -1;
}

const char *watch_error(const struct exit_watch *w, const struct tree_node *t) {
  const struct watch_entry *x = entry_of(w, t);
  return x ? watch_far_error(w, x->h) : NULL;
}

void watch_free(struct exit_watch *w) {
  if (!w)
    return;
  watch_far_stop(w);
  if (w->running) {
    uint64_t one = 1;
    ssize_t r = write(w->stop_fd, &one, sizeof one);
    (void)r;
    pthread_join(w->thread, NULL);
  }
  for (size_t i = 0; i < w->n; i++)
    if (w->v[i].fd >= 0)
      close(w->v[i].fd);
  if (w->ep >= 0)
    close(w->ep);
  if (w->stop_fd >= 0)
    close(w->stop_fd);
  free(w->v);
  free(w);
}
