/* watch.c — the harness's own record of when processes die. From a crash
 * step's start until it has been judged, a thread of our own polls a pidfd
 * per watched process (the crashed node, its siblings, its parent, its
 * children) and notes the CLOCK_BOOTTIME instant each one exits. So the
 * order in which a parent stopped its children, and how long each stop
 * took, are observed here, not taken from the runtime's :stats. Exits
 * seen in one wake-up share their instant: a tie, which orders nothing. */
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

/* A parent with more children than this is not watched: pidfds are fds,
 * and the harness's own limit is shared with every edge it holds. */
enum { WATCH_MAX = 256 };

struct watch_entry {
  const struct tree_node *t;
  pid_t pid;
  int fd;
  long long died_ns; /* 0 while alive; WATCH_BEFORE when gone at start */
};

struct exit_watch {
  struct watch_entry *v;
  size_t n;
  int ep, stop_fd;
  pthread_t thread;
  bool running;
};

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

/* Should the watch of a crash of `n` hold t? Not a node on another host:
 * its pid means nothing to a pidfd here (its order is not observed). */
static bool watched(const struct tree_node *t, const struct tree_node *n) {
  if (node_where(t))
    return false;
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

static int add_entry(struct exit_watch *w, const struct live_node *b) {
  struct watch_entry *x = &w->v[w->n];
  x->t = b->t;
  x->pid = b->pid;
  x->fd = open_pidfd(b->pid, b->start);
  x->died_ns = x->fd < 0 ? WATCH_BEFORE : 0;
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = w->n};
  if (x->fd >= 0 && epoll_ctl(w->ep, EPOLL_CTL_ADD, x->fd, &ev) < 0)
    return -1;
  w->n++;
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

struct exit_watch *watch_start(const struct crash *k) {
  size_t cap = 0;
  for (size_t i = 0; i < k->nbefore; i++)
    cap += k->before[i].state == NODE_ALIVE && k->before[i].pid &&
           watched(k->before[i].t, k->node);
  if (cap > WATCH_MAX)
    return NULL;
  struct exit_watch *w = watch_new(cap);
  if (!w)
    return NULL;
  for (size_t i = 0; i < k->nbefore; i++) {
    const struct live_node *b = &k->before[i];
    if (b->state == NODE_ALIVE && b->pid && watched(b->t, k->node) &&
        add_entry(w, b) < 0) {
      watch_free(w);
      return NULL;
    }
  }
  if (pthread_create(&w->thread, NULL, watch_thread, w) != 0) {
    watch_free(w);
    return NULL;
  }
  w->running = true;
  return w;
}

long long watch_died(const struct exit_watch *w, const struct tree_node *t) {
  for (size_t i = 0; w && i < w->n; i++)
    if (w->v[i].t == t)
      return __atomic_load_n(&w->v[i].died_ns, __ATOMIC_ACQUIRE);
  return -1;
}

void watch_free(struct exit_watch *w) {
  if (!w)
    return;
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
