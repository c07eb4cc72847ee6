/* node.c — a node's life: bootstrap from its spec, the serve loop's pump
 * (what to read, what to write, when to stop reading: backpressure and
 * :hold), signals through a signalfd, reaping, and the three ways to end:
 * graceful (stdin EOF or :exit), SIGTERM/SIGINT, and panic — each stops
 * the children by their shutdown ladders (shutdown.c). */
#define _GNU_SOURCE /* pipe2, close_range, signalfd */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "node.h"

int64_t node_queue_bound(const struct node *n) { return n->spec.queue_bytes; }

/* ---- Ending ------------------------------------------------------------ */

/* Take the children down by their ladders (SIGTERM first after a signal,
 * else their stdin closed). The node ends once every child is reaped. */
static void take_down(struct node *n, enum node_state state, int code) {
  bool first = n->state == NODE_RUNNING;
  n->state = state;
  n->exit_code = code;
  if (first && !n->ending) shutdown_end(n);
}

static void write_all(int fd, const char *p, size_t len) {
  while (len > 0) {
    ssize_t w = write(fd, p, len);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    p += w;
    len -= (size_t)w;
  }
}

static void write_panic_line(struct node *n, const char *reason,
                             edn_value *cause) {
  edn_arena *a = edn_arena_new();
  struct edn_buf b = {0};
  if (!a) return;
  edn_value *inner = edn_coll(a, EDN_MAP), *outer = edn_coll(a, EDN_MAP);
  if (inner && outer) {
    edn_map_putk(a, inner, "node", edn_string(a, n->spec.name, strlen(n->spec.name)));
    edn_map_putk(a, inner, "pid", edn_int(a, getpid()));
    edn_map_putk(a, inner, "reason", edn_string(a, reason, strlen(reason)));
    edn_map_putk(a, inner, "cause", cause ? edn_copy(a, cause) : edn_nil(a));
    edn_map_putk(a, outer, "wat/panic", inner);
    if (edn_print(&b, outer) == 0 && edn_buf_append(&b, "\n", 1) == 0)
      write_all(STDERR_FILENO, b.ptr, b.len);
  }
  edn_buf_free(&b);
  edn_arena_free(a);
}

void node_panic(struct node *n, const char *reason, edn_value *cause) {
  if (n->state == NODE_PANICKING) return;
  if (!(n->faults & FAULT_SWALLOW_PANIC)) write_panic_line(n, reason, cause);
  take_down(n, NODE_PANICKING, NODE_EXIT_PANIC);
}

void node_give_up(struct node *n, const char *reason, edn_value *cause) {
  if (n->state == NODE_PANICKING) return;
  if (!(n->faults & FAULT_SWALLOW_PANIC)) write_panic_line(n, reason, cause);
  n->state = NODE_PANICKING;
  n->exit_code = NODE_EXIT_PANIC;
  n->ending = true;
  supervise_cancel(n);
  for (size_t i = 0; i < n->nkids; i++) n->kids[i]->stop_mark = n->kids[i]->alive;
  shutdown_marked(n, STOP_INTENSITY, true, NULL);
}

void node_begin_exit(struct node *n) { n->exiting = true; }

/* ---- Signals and reaping ---------------------------------------------- */

static void reap_all(struct node *n) {
  int st;
  pid_t pid;
  if (n->faults & FAULT_ZOMBIE) { /* known pids only: the helper stays */
    /* A reap may remove or start children: scan again after each. */
    for (size_t i = 0; i < n->nkids; i++) {
      struct child *c = n->kids[i];
      if (c->alive && waitpid(c->pid, &st, WNOHANG) == c->pid) {
        child_reaped(c, st);
        i = (size_t)-1;
      }
    }
    return;
  }
  while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
    for (size_t i = 0; i < n->nkids; i++) {
      struct child *c = n->kids[i];
      if (c->alive && c->pid == pid) {
        child_reaped(c, st);
        break;
      }
    }
  }
}

static void on_term(struct node *n) {
  if (n->got_term) return;
  n->got_term = true; /* SIGTERM/SIGINT: ladders start with TERM */
  shutdown_term_all(n);
  if (n->state == NODE_RUNNING) take_down(n, NODE_TERMINATING, 0);
}

/* One read takes every pending signal, up to a batch (a short read says
 * none is left), handled in the order they came; a run of SIGCHLDs is one
 * reap, since signals coalesce and one SIGCHLD may stand for many exits.
 * At a teardown that is a read and the reaps per wake-up, not a read per
 * signal and a reap after each and one more. */
static void on_signal(void *data, int fd, unsigned ev) {
  struct node *n = data;
  struct signalfd_siginfo si[8];
  (void)ev;
  bool reaped = false;
  ssize_t k;
  do {
    k = read(fd, si, sizeof si);
    for (ssize_t i = 0; i < k / (ssize_t)sizeof si[0]; i++) {
      if (si[i].ssi_signo != SIGCHLD) {
        on_term(n);
        reaped = false;
      } else if (!reaped) {
        reap_all(n);
        reaped = true;
      }
    }
  } while (k == (ssize_t)sizeof si);
  if (!reaped) reap_all(n); /* a wake-up with nothing read costs one wait */
}

/* ---- Stdin and stdout -------------------------------------------------- */

/* hold_until_ms is 0 when no :hold runs (the hold timer clears it): most
 * calls then need no clock. */
static bool holding(struct node *n) {
  return n->hold_until_ms && loop_now_ms() < n->hold_until_ms;
}

/* Backpressure: a child's queue full, or our own stdout over the bound. */
static bool blocked(struct node *n) {
  if (n->faults & FAULT_UNBOUNDED_QUEUE) return false;
  int64_t bound = node_queue_bound(n);
  if ((int64_t)outq_bytes(&n->out) >= bound) return true;
  for (size_t i = 0; i < n->nkids; i++)
    if (n->kids[i]->alive && (int64_t)outq_bytes(&n->kids[i]->inq) >= bound)
      return true;
  return false;
}

static bool can_serve(struct node *n) {
  return n->state == NODE_RUNNING && !holding(n) && !blocked(n);
}

static void line_too_long(struct node *n) {
  struct req *r = req_new_top(n);
  if (r) req_fail(r, "line-too-long", "a request line is limited to 1 MiB");
}

static void serve_input(struct node *n) {
  const char *line;
  size_t len;
  while (can_serve(n)) {
    int k = linebuf_next(&n->in, &line, &len);
    if (k == LINEBUF_NONE) break;
    if (k == LINEBUF_TOO_LONG) line_too_long(n);
    else ops_handle_line(n, line, len);
  }
}

static void on_stdin(void *data, int fd, unsigned ev) {
  struct node *n = data;
  (void)ev;
  long r = linebuf_read(&n->in, fd);
  if (r == 0 || (r < 0 && r != -EAGAIN)) {
    n->in.eof = true;
    n->in_eof = true;
  }
}

static void flush_out(struct node *n) {
  if (n->out_dead || outq_bytes(&n->out) == 0) return;
  if (outq_flush(&n->out, STDOUT_FILENO) < 0) { /* nobody reads us: drop */
    n->out_dead = true;
    outq_free(&n->out);
  }
}

static void on_stdout(void *data, int fd, unsigned ev) {
  (void)fd;
  (void)ev;
  flush_out(data);
}

/* ---- The pump: after every batch of events ----------------------------- */

static void flush_kids(struct node *n) {
  for (size_t i = 0; i < n->nkids; i++) {
    struct child *c = n->kids[i];
    if (c->alive && c->in_fd >= 0 && outq_bytes(&c->inq) &&
        outq_flush(&c->inq, c->in_fd) < 0)
      outq_free(&c->inq);
  }
}

/* Graceful end: nothing left to answer → stop the children by their
 * ladders, wait for them, flush stdout, done. */
static void check_graceful(struct node *n) {
  bool eof = n->in_eof && !(n->faults & FAULT_IGNORE_EOF);
  if (!eof && !n->exiting) return;
  if (!n->kids_closed) {
    if (linebuf_has_line(&n->in) || n->ntop > 0) return;
    n->kids_closed = true;
    if (!n->ending) shutdown_end(n);
  }
  if (n->nalive == 0 && (n->out_dead || outq_bytes(&n->out) == 0)) n->done = true;
}

static void check_end(struct node *n) {
  if (n->state == NODE_RUNNING) check_graceful(n);
  else if (n->nalive == 0) n->done = true;
}

static void update_interest(struct node *n) {
  bool unbounded = n->faults & FAULT_UNBOUNDED_QUEUE;
  bool want_in = n->state == NODE_RUNNING && !n->in_eof && !n->exiting &&
                 (unbounded || (can_serve(n) && !linebuf_has_line(&n->in)));
  if (!n->in_watch_off)
    if (loop_want(n->loop, STDIN_FILENO, want_in ? LOOP_READ : 0, on_stdin, n) < 0)
      n->in_watch_off = true, n->in_eof = true; /* stdin closed or unusable */
  bool want_out = !n->out_dead && outq_bytes(&n->out) > 0;
  if (loop_want(n->loop, STDOUT_FILENO, want_out ? LOOP_WRITE : 0, on_stdout, n) < 0)
    n->out_dead = true;
  for (size_t i = 0; i < n->nkids; i++) child_watch(n->kids[i]);
}

static void pump(struct node *n) {
  /* Flushing may unblock lines already buffered: serve them now, since no
   * fd event would come for them. */
  for (int round = 0; round < 64; round++) {
    serve_input(n);
    flush_out(n);
    flush_kids(n);
    if (!can_serve(n) || !linebuf_has_line(&n->in)) break;
  }
  check_end(n);
  if (!n->done) update_interest(n);
}

/* ---- Bootstrap ---------------------------------------------------------- */

static int fail(char *why, size_t whylen, int code, const char *fmt,
                const char *what) {
  snprintf(why, whylen, fmt, what);
  return code;
}

/* The first line on stdin, left in n->in as the first line to hand out. */
static int read_spec_line(struct node *n, const char **text, size_t *len) {
  n->in.limit = NODE_SPEC_LINE_MAX;
  int k;
  while ((k = linebuf_next(&n->in, text, len)) == LINEBUF_NONE) {
    if (n->in.eof) return -1;
    long r = linebuf_read(&n->in, STDIN_FILENO);
    if (r < 0 && r != -EINTR) return -1;
    if (r == 0) n->in_eof = true;
  }
  n->in.limit = NODE_LINE_MAX;
  return k == LINEBUF_LINE ? 0 : -1;
}

static int load_spec(struct node *n, const struct node_options *o, char *why,
                     size_t whylen) {
  const char *text = o->spec;
  size_t len = o->spec_len;
  const edn_value *v = NULL;
  if (o->spec_stdin && read_spec_line(n, &text, &len) < 0)
    return fail(why, whylen, NODE_EXIT_USAGE,
                "bad spec: %s", "no spec line on stdin");
  if (text) {
    struct edn_limits lim = {.max_depth = 16384, .max_bytes = NODE_SPEC_LINE_MAX};
    struct edn_error err;
    edn_value *x = NULL;
    int rc = edn_read(n->spec_arena, text, len, &lim, &x, &err);
    if (rc == EDN_EMPTY)
      return fail(why, whylen, NODE_EXIT_USAGE, "bad spec: %s", "empty");
    if (rc != EDN_OK) {
      char m[256];
      snprintf(m, sizeof m, "not EDN: at byte %zu: %s", err.offset, err.message);
      return fail(why, whylen, NODE_EXIT_USAGE, "bad spec: %s", m);
    }
    v = x;
  }
  char m[256];
  if (spec_parse(v, &n->spec, m, sizeof m) < 0)
    return fail(why, whylen, NODE_EXIT_USAGE, "bad spec: %s", m);
  return 0;
}

/* Non-blocking only on pipes and sockets: a terminal or file is shared with
 * whoever started us. Returns the flags to restore, or -1. */
static int make_nonblocking(int fd) {
  struct stat st;
  if (fstat(fd, &st) < 0 || !(S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
    return -1;
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || (fl & O_NONBLOCK) || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
    return -1;
  return fl;
}

static int setup_signals(struct node *n) {
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0) return -1;
  signal(SIGPIPE, SIG_IGN);
  n->sig_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  return n->sig_fd < 0 ? -1 : 0;
}

static char *self_exe(void) {
  char buf[4096];
  ssize_t k = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (k <= 0) return NULL;
  buf[k] = '\0';
  return strdup(buf);
}

/* Our own executable, read at the first spawn (a leaf never spawns). */
const char *node_exe(struct node *n) {
  if (!n->exe) n->exe = self_exe();
  return n->exe;
}

static void spawn_spec_children(struct node *n) {
  const edn_value *kids = n->spec.children;
  size_t len = kids ? kids->u.seq.len : 0;
  if ((n->faults & FAULT_SKIP_CHILD) && len > 0) len--; /* never the last */
  for (size_t i = 0; i < len; i++) {
    struct child *c = child_add(n, kids->u.seq.items[i]);
    int e = c ? child_spawn(c) : -ENOMEM;
    if (e < 0) {
      char reason[300];
      snprintf(reason, sizeof reason, "cannot spawn %s: %s",
               spec_name(kids->u.seq.items[i]), strerror(-e));
      node_panic(n, reason, NULL);
      return;
    }
  }
}

static int setup(struct node *n, char *why, size_t whylen) {
  n->faults = fault_select(getenv("WATVM_FAULT"), getenv("WATVM_FAULT_NODE"),
                          n->spec.name);
  if (setup_signals(n) < 0)
    return fail(why, whylen, NODE_EXIT_SYSTEM, "unable to set up signals: %s",
                strerror(errno));
  if (!(n->loop = loop_new()))
    return fail(why, whylen, NODE_EXIT_SYSTEM, "unable to create the loop: %s",
                strerror(errno));
  if (!(n->scratch = edn_arena_new()))
    return fail(why, whylen, NODE_EXIT_SYSTEM, "%s", "out of memory");
  n->trace_fd = trace_open(getenv("WATVM_TRACE"));
  n->in_fl0 = make_nonblocking(STDIN_FILENO);
  n->out_fl0 = make_nonblocking(STDOUT_FILENO);
  loop_want(n->loop, n->sig_fd, LOOP_READ, on_signal, n);
  return 0;
}

/* stdin/stdout get back the flags they came with (we made them
 * non-blocking; the file descriptions may be shared with our parent). */
static void restore_stdio(const struct node *n) {
  if (n->in_fl0 >= 0) fcntl(STDIN_FILENO, F_SETFL, n->in_fl0);
  if (n->out_fl0 >= 0) fcntl(STDOUT_FILENO, F_SETFL, n->out_fl0);
}

void node_release(struct node *n) {
  restore_stdio(n);
  while (n->reqs) req_drop(n->reqs);
  req_spares_free(n);
  for (size_t i = 0; i < n->nkids; i++) child_free(n->kids[i]);
  free(n->kids);
  for (size_t i = 0; i < n->npool; i++) edn_arena_free(n->pool[i]);
  free(n->pool);
  for (size_t i = 0; i < NODE_EXITS_KEPT; i++) free(n->exits[i]);
  free(n->restart_ms);
  edn_arena_free(n->scratch);
  edn_arena_free(n->spec_arena);
  linebuf_free(&n->in);
  outq_free(&n->out);
  edn_buf_free(&n->fwd_path);
  if (n->sig_fd >= 0) close(n->sig_fd);
  if (n->trace_fd >= 0) close(n->trace_fd);
  loop_free(n->loop);
  free(n->exe);
}

int node_run(const struct node_options *o, char *why, size_t whylen) {
  struct node nd, *n = &nd;
  memset(n, 0, sizeof *n);
  n->sig_fd = n->trace_fd = n->in_fl0 = n->out_fl0 = -1;
  linebuf_init(&n->in, NODE_LINE_MAX);
  int code = NODE_EXIT_SYSTEM;
  if (!(n->spec_arena = edn_arena_new())) {
    snprintf(why, whylen, "out of memory");
    goto out;
  }
  if ((code = load_spec(n, o, why, whylen)) != 0) goto out;
  /* :env first: WATVM_FAULT and WATVM_TRACE are read in setup. */
  if (far_apply_env(&n->spec, why, whylen) < 0) {
    code = NODE_EXIT_SYSTEM;
    goto out;
  }
  if ((code = setup(n, why, whylen)) != 0) goto out;
  far_announce(n); /* a far node's first line on stdout */
  spawn_spec_children(n);
  fault_start(n);
  while (!n->done) {
    pump(n);
    trace_flush(n); /* the turn's events, one write */
    if (n->done) break;
    int e = loop_run_once(n->loop, -1);
    if (e < 0) { /* the loop itself is broken: kill what we started, go */
      snprintf(why, whylen, "unable to wait for events: %s", strerror(-e));
      node_panic(n, why, NULL);
      for (size_t i = 0; i < n->nkids; i++) child_signal(n->kids[i], SIGKILL);
      for (size_t i = 0; i < n->nkids; i++)
        if (n->kids[i]->alive) waitpid(n->kids[i]->pid, NULL, 0);
      break;
    }
  }
  flush_out(n);
  trace_flush(n);
  code = n->exit_code;
  if (o->exit_at_end && code != NODE_EXIT_USAGE && code != NODE_EXIT_SYSTEM) {
    restore_stdio(n);
    exit(code); /* what `n` holds is still reachable from this frame */
  }
out:
  node_release(n);
  return code;
}
