/* loop_int.h — the loop's private state, shared by loop.c (policy) and
 * loop_epoll.c (the only file that touches epoll). Not for other modules. */
#ifndef TREEPROOF_LOOP_INT_H
#define TREEPROOF_LOOP_INT_H

#include "loop.h"

struct loop_fd {
  unsigned want;      /* LOOP_READ|LOOP_WRITE wanted by the caller */
  unsigned kernel;    /* what the backend has registered */
  bool plain;         /* epoll refused it: always ready */
  loop_io_fn *fn;
  void *data;
};

struct loop_ready {
  int fd;
  unsigned events;
};

struct loop {
  struct loop_fd *fds;   /* indexed by fd */
  int nfds;              /* size of fds[] */
  int nplain;            /* fds with plain && want */
  struct loop_ready *ready;
  int nready, readycap;
  struct loop_timer *timers; /* sorted by due_ms */
  void *backend;         /* loop_epoll.c's state */
};

int loop_backend_open(struct loop *l);
void loop_backend_close(struct loop *l);
/* Register, change or (events == 0) remove `fd`. Returns 0 or -errno;
 * -EPERM means the fd cannot be polled. */
int loop_backend_set(struct loop *l, int fd, unsigned old, unsigned events);
/* Wait up to timeout_ms (-1: forever) and fill l->ready. Returns the number
 * of ready fds, or -errno (EINTR included). */
int loop_backend_wait(struct loop *l, int timeout_ms);

#endif
