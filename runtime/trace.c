/* trace.c — WATVM_TRACE (wire decision 11): every message on this node's
 * edges to its children, and each child's lifecycle (spawned, exited,
 * signalled), appended as one EDN event per line to DIR/PID.ednl.
 * The file is opened O_APPEND|O_CLOEXEC; it is the one regular file the
 * isolation auditor allows a node, and only while tracing. Every entry
 * returns at once when tracing is off. */
#define _GNU_SOURCE /* pipe2, close_range, signalfd */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "node.h"
#include "trace.h"

int trace_open(const char *dir) {
  if (!dir || !*dir) return -1;
  char path[4096];
  snprintf(path, sizeof path, "%s/%ld.ednl", dir, (long)getpid());
  return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
}

/* A new event map {:t-us N :edge [OURS CHILD]} in `a`, or NULL. */
static edn_value *event_new(edn_arena *a, const struct node *n,
                            const char *child) {
  edn_value *ev = edn_coll(a, EDN_MAP), *edge = edn_coll(a, EDN_VECTOR);
  if (!ev || !edge) return NULL;
  edn_push(a, edge, edn_string(a, n->spec.name, strlen(n->spec.name)));
  edn_push(a, edge, edn_string(a, child, strlen(child)));
  edn_map_putk(a, ev, "t-us", edn_int(a, loop_now_us()));
  edn_map_putk(a, ev, "edge", edge);
  return ev;
}

/* Print `ev` as one line and append it with one write (atomic append). */
static void event_write(const struct node *n, const edn_value *ev) {
  struct edn_buf b = {0};
  if (ev && edn_print(&b, ev) == 0 && edn_buf_append(&b, "\n", 1) == 0) {
    ssize_t w = write(n->trace_fd, b.ptr, b.len);
    (void)w;
  }
  edn_buf_free(&b);
}

void trace_event(struct node *n, const char *child, const char *dir,
                 const edn_value *msg) {
  if (n->trace_fd < 0 || !msg) return;
  edn_arena *a = edn_arena_new();
  if (!a) return;
  edn_value *ev = event_new(a, n, child);
  if (ev) {
    edn_map_putk(a, ev, "dir", edn_keyword(a, dir));
    edn_map_putk(a, ev, "msg", edn_copy(a, msg));
  }
  event_write(n, ev);
  edn_arena_free(a);
}

/* The lifecycle events: :event KIND :pid PID, then `k` = `v` when k is
 * not NULL. */
static void lifecycle(const struct child *c, const char *kind, const char *k,
                      edn_value *(*make)(edn_arena *, int), int arg) {
  edn_arena *a = edn_arena_new();
  if (!a) return;
  edn_value *ev = event_new(a, c->n, c->name);
  if (ev) {
    edn_map_putk(a, ev, "event", edn_keyword(a, kind));
    edn_map_putk(a, ev, "pid", edn_int(a, c->pid));
    if (k) edn_map_putk(a, ev, k, make(a, arg));
  }
  event_write(c->n, ev);
  edn_arena_free(a);
}

static edn_value *make_int(edn_arena *a, int v) { return edn_int(a, v); }

static edn_value *make_status(edn_arena *a, int status) {
  edn_value *st = edn_coll(a, EDN_MAP);
  if (!st) return NULL;
  if (WIFSIGNALED(status))
    edn_map_putk(a, st, "signal", edn_int(a, WTERMSIG(status)));
  else
    edn_map_putk(a, st, "exit", edn_int(a, WEXITSTATUS(status)));
  return st;
}

void trace_spawned(const struct child *c) {
  if (c->n->trace_fd < 0) return;
  lifecycle(c, "spawned", NULL, NULL, 0);
}

void trace_exited(const struct child *c, int status) {
  if (c->n->trace_fd < 0) return;
  lifecycle(c, "exited", "status", make_status, status);
}

void trace_signal(const struct child *c, int sig) {
  if (c->n->trace_fd < 0) return;
  lifecycle(c, "signal", "signal", make_int, sig);
}
