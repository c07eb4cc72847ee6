/* trace.c — WATVM_TRACE (wire decision 11): every message on this node's
 * edges to its children, appended as one EDN event per line to DIR/PID.ednl.
 * The file is opened O_APPEND|O_CLOEXEC; it is the one regular file the
 * isolation auditor allows a node, and only while tracing. */
#define _GNU_SOURCE /* pipe2, close_range, signalfd */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "node.h"

int trace_open(const char *dir) {
  if (!dir || !*dir) return -1;
  char path[4096];
  snprintf(path, sizeof path, "%s/%ld.ednl", dir, (long)getpid());
  return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
}

void trace_event(struct node *n, const char *child, const char *dir,
                 const edn_value *msg) {
  if (n->trace_fd < 0 || !msg) return;
  edn_arena *a = edn_arena_new();
  struct edn_buf b = {0};
  if (!a) return;
  edn_value *ev = edn_coll(a, EDN_MAP), *edge = edn_coll(a, EDN_VECTOR);
  if (ev && edge) {
    edn_push(a, edge, edn_string(a, n->spec.name, strlen(n->spec.name)));
    edn_push(a, edge, edn_string(a, child, strlen(child)));
    edn_map_putk(a, ev, "t-us", edn_int(a, loop_now_us()));
    edn_map_putk(a, ev, "edge", edge);
    edn_map_putk(a, ev, "dir", edn_keyword(a, dir));
    edn_map_putk(a, ev, "msg", edn_copy(a, msg));
    if (edn_print(&b, ev) == 0 && edn_buf_append(&b, "\n", 1) == 0) {
      ssize_t w = write(n->trace_fd, b.ptr, b.len); /* one write: atomic append */
      (void)w;
    }
  }
  edn_buf_free(&b);
  edn_arena_free(a);
}
