/* probe_watch_set.c — one death watch of the probe: a pidfd per process
 * named (opened, then checked for the probe's own user and for the start
 * time given, so a reused pid is never watched), and a thread of its own
 * that waits on them all and stamps each exit with this host's
 * CLOCK_BOOTTIME, the clock /proc's start times count in. The probe's
 * serve loop reads the stamps whenever it is asked; the thread only waits
 * and stamps. Exits seen in one wake-up share their instant. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "procfs.h"

struct watch_proc_state {
  pid_t pid;
  int fd;            /* its pidfd; -1 when gone at the start */
  long long died_ns; /* 0 while alive; PROBE_WATCH_GONE; else the stamp */
};

struct probe_watch {
  struct watch_proc_state *v;
  size_t n;
  int ep, stop_fd; /* this watch's, closed by probe_watch_close */
  pthread_t thread;
  bool running;
};

static long long boottime_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_BOOTTIME, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void *watch_thread(void *arg) {
  struct probe_watch *w = arg;
  struct epoll_event ev[64];
  /* Ahead of the tree's processes where the system allows (root), as the
   * harness's own watch: a loaded host must not make a stamp late. */
  struct sched_param sp = {.sched_priority = 1};
  pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
  for (;;) {
    int k = epoll_wait(w->ep, ev, 64, -1);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) return NULL;
    long long now = boottime_ns();
    for (int i = 0; i < k; i++) {
      if (ev[i].data.u64 == (uint64_t)-1) return NULL; /* told to stop */
      struct watch_proc_state *x = &w->v[ev[i].data.u64];
      __atomic_store_n(&x->died_ns, now, __ATOMIC_RELEASE);
      epoll_ctl(w->ep, EPOLL_CTL_DEL, x->fd, NULL);
    }
  }
}

/* Is process `pid` this user's? Its /proc directory is owned by its
 * effective uid. */
static bool ours(pid_t pid) {
  char path[32];
  struct stat st;
  snprintf(path, sizeof path, "/proc/%d", (int)pid);
  return stat(path, &st) < 0 || st.st_uid == geteuid(); /* gone: harmless */
}

/* A pidfd for (pid, start) into *fd: -1 when that process is gone (or a
 * zombie: it has exited). The start time is read after the open: a pid
 * reused before it shows another start time. 0; -EPERM (another user's
 * process, nothing opened); -ENOSYS (no pidfds) or another -errno. */
static int open_checked(pid_t pid, unsigned long long start, int *fd) {
  *fd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (*fd < 0) return errno == ESRCH ? 0 : -errno;
  struct procfs_stat st;
  int rc = ours(pid) ? 0 : -EPERM;
  if (rc == 0 && (procfs_stat(pid, &st) < 0 || st.start != start || st.state == 'Z'))
    rc = 1; /* gone, or another process now */
  if (rc != 0) {
    close(*fd);
    *fd = -1;
  }
  return rc < 0 ? rc : 0;
}

static int watch_add(struct probe_watch *w, const struct probe_watch_proc *p) {
  struct watch_proc_state *x = &w->v[w->n];
  x->pid = p->pid;
  int rc = open_checked(p->pid, p->start, &x->fd);
  if (rc < 0) return rc;
  x->died_ns = x->fd < 0 ? PROBE_WATCH_GONE : 0;
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = w->n};
  w->n++; /* counted first: probe_watch_close closes its fd either way */
  if (x->fd >= 0 && epoll_ctl(w->ep, EPOLL_CTL_ADD, x->fd, &ev) < 0) return -errno;
  return 0;
}

static struct probe_watch *watch_new(size_t n) {
  struct probe_watch *w = calloc(1, sizeof *w);
  if (!w || !(w->v = calloc(n ? n : 1, sizeof *w->v))) {
    free(w);
    return NULL;
  }
  w->ep = epoll_create1(EPOLL_CLOEXEC);
  w->stop_fd = eventfd(0, EFD_CLOEXEC);
  return w;
}

int probe_watch_open(const struct probe_watch_proc *v, size_t n,
                     struct probe_watch **out, pid_t *refused) {
  *out = NULL;
  struct probe_watch *w = watch_new(n);
  if (!w) return -ENOMEM;
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)-1};
  int rc = w->ep < 0 || w->stop_fd < 0 ||
                   epoll_ctl(w->ep, EPOLL_CTL_ADD, w->stop_fd, &ev) < 0
               ? -errno : 0;
  for (size_t i = 0; rc == 0 && i < n; i++)
    if ((rc = watch_add(w, &v[i])) == -EPERM) *refused = v[i].pid;
  if (rc == 0 && (rc = -pthread_create(&w->thread, NULL, watch_thread, w)) == 0)
    w->running = true;
  if (rc < 0) {
    probe_watch_close(w);
    return rc;
  }
  *out = w;
  return 0;
}

size_t probe_watch_count(const struct probe_watch *w) { return w->n; }

pid_t probe_watch_pid(const struct probe_watch *w, size_t i) { return w->v[i].pid; }

long long probe_watch_died(const struct probe_watch *w, size_t i) {
  return __atomic_load_n(&w->v[i].died_ns, __ATOMIC_ACQUIRE);
}

void probe_watch_close(struct probe_watch *w) {
  if (!w) return;
  if (w->running) {
    uint64_t one = 1;
    ssize_t r = write(w->stop_fd, &one, sizeof one);
    (void)r;
    pthread_join(w->thread, NULL);
  }
  for (size_t i = 0; i < w->n; i++)
    if (w->v[i].fd >= 0) close(w->v[i].fd);
  if (w->ep >= 0) close(w->ep);
  if (w->stop_fd >= 0) close(w->stop_fd);
  free(w->v);
  free(w);
}
