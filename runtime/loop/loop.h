/* loop.h — the event loop: fd readiness and one-shot timers, nothing else.
 *
 * One explicit loop struct, single-threaded. loop.c decides (which fds are
 * wanted, which timers are due); loop_epoll.c alone touches epoll. A caller
 * says which events it wants on an fd with loop_want(); the loop talks to the
 * kernel only when that set changes. Fds epoll refuses (regular files,
 * /dev/null) are treated as always ready, as a plain read()/write() would see
 * them. Timers are structs the caller embeds; the loop never allocates them.
 * Signals are not the loop's business: the node watches a signalfd. */
#ifndef TREEPROOF_LOOP_H
#define TREEPROOF_LOOP_H

#include <stdbool.h>
#include <stdint.h>

/* Timers further away than this (about 31 years) are clamped to it. */
#define LOOP_FOREVER_MS ((int64_t)1 << 40)

enum { LOOP_READ = 1u, LOOP_WRITE = 2u, LOOP_HUP = 4u, LOOP_ERR = 8u };

struct loop;
/* Called with the events seen (LOOP_* bits, HUP/ERR included). */
typedef void loop_io_fn(void *data, int fd, unsigned events);
typedef void loop_timer_fn(void *data);

struct loop_timer {
  int64_t due_ms;            /* on loop_now_ms()'s clock */
  loop_timer_fn *fn;
  void *data;
  struct loop_timer *prev, *next; /* the loop's sorted list */
  bool armed;
};

/* Milliseconds on CLOCK_MONOTONIC. */
int64_t loop_now_ms(void);
/* Microseconds on CLOCK_MONOTONIC. */
int64_t loop_now_us(void);

/* A new loop, or NULL with errno set. Its epoll fd is CLOEXEC. */
struct loop *loop_new(void);
/* Free the loop; it closes its own epoll fd, never the watched fds. */
void loop_free(struct loop *l);

/* Want `events` (LOOP_READ|LOOP_WRITE) on `fd`, delivered to fn(data, ...);
 * events == 0 forgets the fd (do that before closing it). Returns 0 or a
 * negative errno. */
int loop_want(struct loop *l, int fd, unsigned events, loop_io_fn *fn,
              void *data);

/* Forget `fd` and close it, with no epoll_ctl: the kernel drops a closed
 * descriptor's registration with the last reference to its open file. So
 * only for an fd that no other descriptor shares (no dup, no forked copy
 * still open): as a child's pipe ends, close-on-exec and never dup'ed. */
void loop_close(struct loop *l, int fd);

/* Arm `t` to fire once, `ms` from now (re-arming moves it). */
void loop_timer_start(struct loop *l, struct loop_timer *t, int64_t ms,
                      loop_timer_fn *fn, void *data);
/* Disarm `t`; harmless when it is not armed. */
void loop_timer_stop(struct loop *l, struct loop_timer *t);

/* Wait for events (at most until the next timer, never longer than
 * max_wait_ms when that is >= 0), then run the ready callbacks and the due
 * timers. Returns 0, or a negative errno when waiting failed for a reason
 * other than EINTR. */
int loop_run_once(struct loop *l, int max_wait_ms);

#endif
