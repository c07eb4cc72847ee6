/* loop_epoll.c — the loop's epoll backend: the only code that calls epoll.
 * Its state is one epoll fd, created CLOEXEC, and a buffer of events. */
#define _GNU_SOURCE /* pipe2, close_range, signalfd */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "internal.h"

struct epoll_state {
  int epfd;
  struct epoll_event ev[256];
};

int loop_backend_open(struct loop *l) {
  struct epoll_state *s = calloc(1, sizeof *s);
  if (!s) return -ENOMEM;
  s->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (s->epfd < 0) {
    int e = errno;
    free(s);
    return -e;
  }
  l->backend = s;
  return 0;
}

void loop_backend_close(struct loop *l) {
  struct epoll_state *s = l->backend;
  if (!s) return;
  close(s->epfd);
  free(s);
  l->backend = NULL;
}

static uint32_t to_epoll(unsigned events) {
  uint32_t e = 0;
  if (events & LOOP_READ) e |= EPOLLIN;
  if (events & LOOP_WRITE) e |= EPOLLOUT;
  return e;
}

static unsigned from_epoll(uint32_t e) {
  unsigned ev = 0;
  if (e & EPOLLIN) ev |= LOOP_READ;
  if (e & EPOLLOUT) ev |= LOOP_WRITE;
  if (e & EPOLLHUP) ev |= LOOP_HUP;
  if (e & EPOLLERR) ev |= LOOP_ERR;
  return ev;
}

int loop_backend_set(struct loop *l, int fd, unsigned old, unsigned events) {
  struct epoll_state *s = l->backend;
  struct epoll_event ev = {.events = to_epoll(events), .data.fd = fd};
  int op = events == 0 ? EPOLL_CTL_DEL : old == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
  if (epoll_ctl(s->epfd, op, fd, &ev) < 0) return -errno;
  return 0;
}

int loop_backend_wait(struct loop *l, int timeout_ms) {
  struct epoll_state *s = l->backend;
  int n = epoll_wait(s->epfd, s->ev, (int)(sizeof s->ev / sizeof s->ev[0]),
                     timeout_ms);
  if (n < 0) return -errno;
  l->nready = 0;
  for (int i = 0; i < n; i++) {
    l->ready[l->nready].fd = s->ev[i].data.fd;
    l->ready[l->nready].events = from_epoll(s->ev[i].events);
    l->nready++;
  }
  return n;
}
