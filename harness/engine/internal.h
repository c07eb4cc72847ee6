/* internal.h — private to harness/engine/: what its files share and no
 * layer above may call. */
#ifndef TREEPROOF_ENGINE_INTERNAL_H
#define TREEPROOF_ENGINE_INTERNAL_H

#include <pthread.h>

#include "engine.h"
#include "htrace.h"
#include "model.h"

/* session.c: the interruption pipe (-1 before any scenario), a scenario's
 * start and end (the subreaper bit, SIGPIPE ignored, the count of running
 * scenarios), and the registry of running roots. */
int session_intr_fd(void);
void session_begin(void);
void session_end(void);
void session_root_add(pid_t pid);
void session_root_del(pid_t pid);

/* nodes.c: fill e->nodes from the scenario's tree. 0, or -1 (no memory). */
int nodes_init(struct engine *e);

/* launch.c: start the root: pipes on 0/1/2, its own process group, the
 * node command with `--spec SPEC` or `--spec-stdin` (spec over 64 KiB,
 * written as the first stdin line). Fills e->root_pid and the fds. 0; -1
 * with a message in `err` (nothing started); -2 with a message (the root
 * runs but did not get its spec). */
int launch_root(struct engine *e, const char *spec, size_t speclen, char *err,
                size_t errlen);

/* watch.c and watch_far.c: a crash's death watch (engine.h). */
enum { WATCH_MAX = 256 }; /* processes: pidfds are fds, and the harness's
                             own limit is shared with every edge it holds;
                             a probe watches no more at once either */
struct watch_entry {
  const struct tree_node *t;
  struct host *h;            /* its host (host_local() for this machine) */
  pid_t pid;
  unsigned long long start;  /* its /proc start time on h */
  int fd;                    /* here: its pidfd (-1: gone, or far) */
  long long died_ns;         /* as watch_died() says it; set by the
                                thread for this machine's, by
                                watch_refresh() for a far host's */
};
/* One far host's share of a watch, kept there by its probe. */
struct watch_far {
  struct host *h;
  long long id;              /* the probe's watch; 0: none (it failed) */
  size_t *ix;                /* its entries, indexes into the watch's v */
  struct host_watch_proc *p; /* their pids, start times and readings */
  size_t n;
  char error[600];           /* why its watch failed; "" while it holds */
};
struct exit_watch {
  struct watch_entry *v;
  size_t n;
  struct watch_far *far;     /* one per far host among v's */
  size_t nfar;
  int ep, stop_fd;           /* the thread's epoll and its stop eventfd */
  pthread_t thread;
  bool running;
};
/* Start a watch on each far host among w's entries: 0, or -1 when out of
 * memory (a host whose probe cannot start one is only remembered). */
int watch_far_start(struct exit_watch *w);
/* Why far host h's part of w failed, or NULL. */
const char *watch_far_error(const struct exit_watch *w, const struct host *h);
/* Stop every far part (on its host) and free them. */
void watch_far_stop(struct exit_watch *w);

#endif
