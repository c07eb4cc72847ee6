/* trace.c — WATVM_TRACE (wire decision 11): every message on this node's
 * edges to its children, and each child's lifecycle (spawned, exited,
 * signalled, each rung of its shutdown ladder), appended as one EDN event per line to DIR/PID.ednl.
 * The file is opened O_APPEND|O_CLOEXEC; it is the one regular file the
 * isolation auditor allows a node, and only while tracing. Every entry
 * returns at once when tracing is off.
 *
 * An event is printed straight into one reused buffer: its fixed part by
 * hand, names and numbers through the EDN printer (values on the stack),
 * and the message in place — no arena and no copy per event. The bytes
 * are those of the event map {:t-us :edge :dir :msg} printed by
 * edn_print (tests/runtime/test_trace.c holds them to it), but for a
 * request passed on as bytes (fwd.c): its :msg is those bytes, as they
 * went down the edge. The lines of
 * one loop turn are gathered and written with one write() when the turn
 * ends (trace_flush, from the serve loop), or sooner once they pass
 * TRACE_BATCH: a node that panics still writes every line (it flushes
 * before it exits); one SIGKILLed loses at most the turn it was in. */
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

/* The event being printed. One per process, and a node is one process;
 * a buffer grown past TRACE_KEEP by a large message is given back after
 * its line is written. */
static struct edn_buf line, batch;
enum { TRACE_KEEP = 64 * 1024, TRACE_BATCH = 256 * 1024 };

static int put(const char *s) { return edn_buf_append(&line, s, strlen(s)); }

static int put_int(int64_t i) {
  edn_value v = {.type = EDN_INT, .u.integer = i};
  return edn_print(&line, &v);
}

static int put_string(const char *s) {
  edn_value v = {.type = EDN_STRING, .u.text = {s, strlen(s)}};
  return edn_print(&line, &v);
}

/* "{:t-us N :edge [OURS CHILD]" into the empty buffer. */
static int event_begin(const struct node *n, const char *child) {
  line.len = 0;
  return put("{:t-us ") || put_int(loop_now_us()) || put(" :edge [") ||
         put_string(n->spec.name) || put(" ") || put_string(child) ||
         put("]");
}

void trace_flush(struct node *n) {
  if (n->trace_fd < 0 || batch.len == 0) return;
  /* one write of whole lines: O_APPEND keeps it in one piece beside the
   * other nodes' appends to their own files */
  ssize_t w = write(n->trace_fd, batch.ptr, batch.len);
  (void)w;
  batch.len = 0;
  if (batch.cap > TRACE_BATCH * 2) edn_buf_free(&batch);
}

/* Close the map, end the line and add it to this turn's batch; `ok` false
 * (out of memory on the way) drops the event. */
static void event_end(struct node *n, int ok) {
  if (ok && put("}\n") == 0 &&
      edn_buf_append(&batch, line.ptr, line.len) < 0) {
    trace_flush(n); /* no room to gather: write what there is, then this */
    ssize_t w = write(n->trace_fd, line.ptr, line.len);
    (void)w;
  }
  line.len = 0;
  if (line.cap > TRACE_KEEP) edn_buf_free(&line);
  if (batch.len >= TRACE_BATCH) trace_flush(n);
}

void trace_event(struct node *n, const char *child, const char *dir,
                 const edn_value *msg) {
  if (n->trace_fd < 0 || !msg) return;
  int fail = event_begin(n, child) || put(" :dir :") || put(dir) ||
             put(" :msg ") || edn_print(&line, msg);
  event_end(n, !fail);
}

void trace_event_bytes(struct node *n, const char *child, const char *dir,
                       const struct outq_piece *p, size_t np) {
  if (n->trace_fd < 0) return;
  int fail = event_begin(n, child) || put(" :dir :") || put(dir) || put(" :msg ");
  for (size_t i = 0; i < np && !fail; i++)
    fail = edn_buf_append(&line, p[i].ptr, p[i].len);
  event_end(n, !fail);
}

/* The lifecycle events: "{... :event :KIND :pid PID", the caller adds
 * what follows. */
static int lifecycle(const struct child *c, const char *kind) {
  return event_begin(c->n, c->name) || put(" :event :") || put(kind) ||
         put(" :pid ") || put_int(c->pid);
}

void trace_spawned(const struct child *c) {
  if (c->n->trace_fd < 0) return;
  event_end(c->n, !lifecycle(c, "spawned"));
}

void trace_exited(const struct child *c, int status) {
  if (c->n->trace_fd < 0) return;
  int sig = WIFSIGNALED(status);
  int fail = lifecycle(c, "exited") ||
             put(sig ? " :status {:signal " : " :status {:exit ") ||
             put_int(sig ? WTERMSIG(status) : WEXITSTATUS(status)) || put("}");
  event_end(c->n, !fail);
}

void trace_signal(const struct child *c, int sig) {
  if (c->n->trace_fd < 0) return;
  event_end(c->n, !(lifecycle(c, "signal") || put(" :signal ") || put_int(sig)));
}

void trace_stop(const struct child *c, enum stop_rung rung, enum stop_why why) {
  if (c->n->trace_fd < 0) return;
  int fail = event_begin(c->n, c->name) || put(" :dir :stop :rung :") ||
             put(shutdown_rung_name(rung)) || put(" :why :") ||
             put(shutdown_why_name(why)) || put(" :pid ") || put_int(c->pid);
  event_end(c->n, !fail);
}
