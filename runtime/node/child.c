/* child.c — one parent–child edge seen from the parent: spawning the child,
 * sending it requests under ids of this edge, reading its replies and its
 * stderr, and what happens when it is reaped (the child-exit map recorded,
 * pending requests answered; then supervise.c decides what follows). */
#define _GNU_SOURCE /* pipe2, close_range, signalfd */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "node.h"
#include "spawn_process.h"
#include "trace.h"

static const struct edn_limits child_lim = {.max_depth = 16384,
                                            .max_bytes = NODE_CHILD_LINE_MAX};

/* A reply may be huge (a :fan :inspect of a big subtree), so a child we
 * wait on may send a line up to NODE_CHILD_LINE_MAX. A child owed nothing
 * has no reply to send: whatever line it writes is noise, and it may not
 * make us hold more than a request line's worth of it. */
static void set_reply_limit(struct child *c) {
  c->out_lb.limit = c->pending.len ? NODE_CHILD_LINE_MAX : NODE_CHILD_IDLE_LINE_MAX;
}

struct child *child_find(struct node *n, const char *name) {
  for (size_t i = 0; i < n->nkids; i++)
    if (strcmp(n->kids[i]->name, name) == 0) return n->kids[i];
  return NULL;
}

struct child *child_add(struct node *n, const edn_value *spec) {
  if (n->nkids == n->capkids) {
    size_t cap = n->capkids ? n->capkids * 2 : 8;
    struct child **p = realloc(n->kids, cap * sizeof *p);
    if (!p) return NULL;
    n->kids = p;
    n->capkids = cap;
  }
  struct child *c = calloc(1, sizeof *c);
  if (!c || !(c->name = strdup(spec_name(spec)))) {
    free(c);
    return NULL;
  }
  c->n = n;
  c->spec = spec;
  spec_read_child(spec, &c->keys);
  c->in_fd = c->out_fd = c->err_fd = -1;
  n->kids[n->nkids++] = c;
  return c;
}

/* A child's pipe end: ours alone (spawn_process returns once the child
 * has exec'd, closing its copies), so loop_close needs no epoll_ctl. */
static void close_fd(struct node *n, int *fd) {
  if (*fd < 0) return;
  loop_close(n->loop, *fd);
  *fd = -1;
}

static void child_close_fds(struct child *c) {
  close_fd(c->n, &c->in_fd);
  close_fd(c->n, &c->out_fd);
  close_fd(c->n, &c->err_fd);
  linebuf_free(&c->out_lb);
  linebuf_free(&c->err_lb);
  outq_free(&c->inq);
}

void child_free(struct child *c) {
  if (!c) return;
  child_close_fds(c);
  loop_timer_stop(c->n->loop, &c->stop_timer);
  loop_timer_stop(c->n->loop, &c->start_timer);
  idmap_free(&c->pending);
  free(c->panic);
  free(c->report);
  free(c->restart_ms);
  free(c->far_err);
  free(c->name);
  free(c);
}

void child_remove(struct child *c) {
  struct node *n = c->n;
  size_t i = 0;
  while (i < n->nkids && n->kids[i] != c) i++;
  if (i == n->nkids) return;
  memmove(n->kids + i, n->kids + i + 1, (n->nkids - i - 1) * sizeof *n->kids);
  n->nkids--;
  child_free(c);
}

void child_signal(struct child *c, int sig) {
  if (!c->alive) return;
  trace_signal(c, sig);
  /* Its own group holds only itself (its children lead their own groups);
   * with the no-pgrp fault there is no such group: signal the pid. */
  if (kill(-c->pid, sig) < 0) kill(c->pid, sig);
}

/* ---- Spawning --------------------------------------------------------- */

static char *child_spec_text(struct child *c) {
  edn_arena *a = edn_arena_new();
  char *text = NULL;
  if (!a) return NULL;
  edn_value *s = spec_for_child(a, c->spec, c->n->spec.depth + 1, &c->n->spec);
  if (s) text = edn_to_string(s);
  edn_arena_free(a);
  return text;
}

/* The edge of a child just spawned as sc: fresh state for this run. */
static void child_started(struct child *c, const struct spawn_child *sc) {
  c->pid = sc->pid;
  c->in_fd = sc->in_fd;
  c->out_fd = sc->out_fd;
  c->err_fd = sc->err_fd;
  c->alive = true;
  c->in_closing = false;
  c->next_id = 1;
  c->spawned_ms = loop_now_ms();
  c->stop_why = STOP_NONE;
  c->rung = RUNG_NONE;
  c->stop_mark = c->restarting = c->in_group = false;
  free(c->panic);
  c->panic = NULL;
  far_spawned(c);
  linebuf_init(&c->out_lb, NODE_CHILD_IDLE_LINE_MAX);
  set_reply_limit(c);
  linebuf_init(&c->err_lb, NODE_CHILD_ERR_LINE_MAX);
  memset(c->noise, 0, sizeof c->noise);
  c->n->nalive++;
  trace_spawned(c);
}

/* The dispositions a child must set back to SIG_DFL, read once, at the
 * first spawn (a leaf never pays): what this node inherited, and SIGPIPE,
 * which it ignores itself (setup_signals; it catches nothing: its signals
 * come through a signalfd). NULL when unknown: the child resets all. */
static const sigset_t *changed_signals(struct node *n) {
  if (!n->sig_known)
    n->sig_known = spawn_changed_signals(&n->sig_changed) == 0 ? 1 : -1;
  return n->sig_known > 0 ? &n->sig_changed : NULL;
}

/* Exec watvm with the spec as an argument (or, when large, on stdin); a
 * far child: ssh (far.c), the spec always on stdin. */
static int child_exec(struct child *c, char *text, bool via_stdin,
                      struct spawn_child *sc) {
  struct node *n = c->n;
  char *argv[] = {"watvm", via_stdin ? "--spec-stdin" : "--spec",
                  via_stdin ? NULL : text, NULL};
  struct far_cmd fc = {.quoted = NULL};
  if (!node_exe(n)) return -ENOENT;
  int e = c->keys.host ? far_command(c, &fc) : 0;
  int leak[2] = {-1, -1};
  if ((n->faults & FAULT_LEAK_FD) && pipe2(leak, O_CLOEXEC) < 0) leak[0] = -1;
  struct spawn_options o = {.file = c->keys.host ? fc.file : n->exe,
                            .argv = c->keys.host ? fc.argv : argv,
                            .same_pgrp = (n->faults & FAULT_NO_PGRP) != 0,
                            .leak_fd = leak[0],
                            .changed = changed_signals(n)};
  if (e == 0) e = spawn_process(&o, sc);
  if (leak[0] >= 0) {
    close(leak[0]);
    close(leak[1]);
  }
  far_command_free(&fc);
  return e;
}

int child_spawn(struct child *c) {
  char *text = child_spec_text(c);
  if (!text) return -ENOMEM;
  bool via_stdin = c->keys.host || strlen(text) > 65536;
  struct spawn_child sc;
  int e = child_exec(c, text, via_stdin, &sc);
  if (e < 0) {
    free(text);
    return e;
  }
  child_started(c, &sc);
  if (via_stdin) {
    outq_append(&c->inq, text, strlen(text));
    outq_append(&c->inq, "\n", 1);
  }
  free(text);
  return 0;
}

/* ---- Requests down, replies up ----------------------------------------- */

int child_send(struct child *c, edn_value *msg, struct req *r, int slot,
               edn_arena *a) {
  int64_t id = c->next_id++;
  edn_value *idv = edn_int(a, id);
  if (!idv || edn_map_putk(a, msg, "id", idv) < 0) return -1;
  if (idmap_put(&c->pending, id, r, slot) < 0) return -1;
  if (outq_line(&c->inq, msg) < 0) {
    struct idmap_entry gone;
    idmap_take(&c->pending, id, &gone);
    return -1;
  }
  set_reply_limit(c);
  trace_event(c->n, c->name, "down", msg);
  return 0;
}

int child_send_bytes(struct child *c, const struct fwd *f, struct req *r,
                     int slot) {
  int64_t id = c->next_id++;
  char idt[REQ_ID_TEXT];
  struct outq_piece p[FWD_HEAD + 1 + FWD_TAIL + 1];
  size_t k = 0;
  for (size_t i = 0; i < f->nhead; i++) p[k++] = f->head[i];
  p[k++] = (struct outq_piece){idt, req_id_text(id, idt)};
  for (size_t i = 0; i < f->ntail; i++) p[k++] = f->tail[i];
  p[k++] = (struct outq_piece){"\n", 1};
  if (idmap_put(&c->pending, id, r, slot) < 0) return -1;
  if (outq_pieces(&c->inq, p, k) < 0) {
    struct idmap_entry gone;
    idmap_take(&c->pending, id, &gone);
    return -1;
  }
  set_reply_limit(c);
  trace_event_bytes(c->n, c->name, "down", p, k - 1);
  return 0;
}

/* A stdout line that answers nothing is dropped with a note (noise.c). */
static void on_reply_line(struct child *c, const char *line, size_t len) {
  struct node *n = c->n;
  edn_value *v = NULL;
  struct edn_error err;
  char why[256];
  /* depth 1: where the reply and its :id lie, for req_pass_up's splice
   * and the cut req_fill_child makes */
  struct edn_spans sp = {.depth = 1};
  edn_arena_reset(n->scratch);
  int rc = edn_read_spans(n->scratch, line, len, &child_lim, &sp, &v, &err);
  if (rc == EDN_EMPTY) return; /* a blank line */
  if (rc != EDN_OK) {
    snprintf(why, sizeof why, "not EDN: at byte %zu: %s", err.offset, err.message);
    noise_drop(c, NOISE_STDOUT, len + 1, why, line, len);
    return;
  }
  if (far_first_line(c, v)) return; /* the started line: not passed on */
  trace_event(n, c->name, "up", v);
  edn_value *id = v->type == EDN_MAP ? edn_map_getk(v, "id") : NULL;
  struct idmap_entry e;
  if (!id || id->type != EDN_INT || !idmap_take(&c->pending, id->u.integer, &e)) {
    if (v->type != EDN_MAP) snprintf(why, sizeof why, "not a reply: not a map");
    else if (!id || id->type != EDN_INT)
      snprintf(why, sizeof why, "not a reply: no integer :id");
    else
      snprintf(why, sizeof why, "a reply to no request in flight: :id %lld",
               (long long)id->u.integer);
    noise_drop(c, NOISE_STDOUT, len + 1, why, line, len);
    return;
  }
  set_reply_limit(c);
  if (e.slot < 0) req_pass_up(e.req, v, line, &sp);
  else req_fill_child(e.req, e.slot, v, line, &sp);
}

static void on_err_line(struct child *c, const char *line, size_t len) {
  struct node *n = c->n;
  edn_value *v = NULL;
  struct edn_error err;
  edn_arena_reset(n->scratch);
  if (memmem(line, len, "wat/panic", 9) && /* parse only what may be one */
      edn_read(n->scratch, line, len, &child_lim, &v, &err) == EDN_OK &&
      v->type == EDN_MAP && edn_map_getk(v, "wat/panic")) {
    trace_event(n, c->name, "err", v);
    free(c->panic);
    c->panic = edn_to_string(edn_map_getk(v, "wat/panic"));
    return;
  }
  /* Anything else (a sanitizer report, a fatal message, a grandchild's
   * noise note, ssh's diagnostics) is passed on, within the child's
   * budget; a far child's last line is kept even beyond it, for the
   * :wat/host-unreachable of an ssh that never got through. */
  far_err_line(c, line, len);
  if (!noise_pass(c, len + 1)) {
    noise_drop(c, NOISE_STDERR, len + 1,
               "over the pass-on budget (64 KiB a second per child)", line, len);
    return;
  }
  ssize_t w = write(STDERR_FILENO, line, len);
  w = write(STDERR_FILENO, "\n", 1);
  (void)w;
}

typedef void line_fn(struct child *c, const char *line, size_t len);

/* The linebuf drops the rest of the line as it arrives: never held. */
static void too_long(struct child *c, const struct linebuf *lb) {
  char why[96];
  snprintf(why, sizeof why, "a line over %zu bytes, dropped as it streams",
           lb->limit);
  noise_drop(c, lb == &c->err_lb ? NOISE_STDERR : NOISE_STDOUT, lb->limit + 1,
             why, NULL, 0);
}

/* Read what is there (all of it when `drain`) and handle whole lines. */
static void pump_lines(struct child *c, int fd, struct linebuf *lb,
                       line_fn *fn, bool drain) {
  for (int rounds = 0; fd >= 0 && !lb->eof; rounds++) {
    long r = linebuf_read(lb, fd);
    if (r < 0 && r != -EAGAIN) lb->eof = true; /* treat as closed */
    const char *line;
    size_t len;
    int k;
    while ((k = linebuf_next(lb, &line, &len)) != LINEBUF_NONE)
      if (k == LINEBUF_LINE) fn(c, line, len);
      else too_long(c, lb);
    if (r <= 0 || (!drain && rounds >= 0)) break;
  }
}

static void on_out(void *data, int fd, unsigned ev) {
  struct child *c = data;
  (void)ev;
  pump_lines(c, fd, &c->out_lb, on_reply_line, false);
}

static void on_err(void *data, int fd, unsigned ev) {
  struct child *c = data;
  (void)ev;
  pump_lines(c, fd, &c->err_lb, on_err_line, false);
}

static void on_in(void *data, int fd, unsigned ev) {
  struct child *c = data;
  (void)ev;
  if (outq_flush(&c->inq, fd) < 0) outq_free(&c->inq); /* it is gone */
}

/* Set what the loop watches for this edge. */
void child_watch(struct child *c) {
  struct node *n = c->n;
  if (!c->alive) return;
  if (c->in_fd >= 0) {
    if (c->in_closing && outq_bytes(&c->inq) == 0) close_fd(n, &c->in_fd);
    else
      loop_want(n->loop, c->in_fd, outq_bytes(&c->inq) ? LOOP_WRITE : 0, on_in, c);
  }
  bool up_full = !(n->faults & FAULT_UNBOUNDED_QUEUE) &&
                 (int64_t)outq_bytes(&n->out) >= node_queue_bound(n);
  if (c->out_fd >= 0)
    loop_want(n->loop, c->out_fd, c->out_lb.eof || up_full ? 0 : LOOP_READ, on_out, c);
  if (c->err_fd >= 0)
    loop_want(n->loop, c->err_fd, c->err_lb.eof ? 0 : LOOP_READ, on_err, c);
}

/* ---- Exit ------------------------------------------------------------- */

/* {:node :pid :status :panic}; a far child's (far.c) also names its host,
 * its ssh client and, when ssh never got through, the :error. */
static edn_value *exit_map(struct child *c, int status, edn_arena *a) {
  edn_value *m = edn_coll(a, EDN_MAP), *st = NULL, *panic = NULL;
  struct edn_error err;
  if (!m) return NULL;
  edn_map_putk(a, m, "node", edn_string(a, c->name, strlen(c->name)));
  if (c->far) {
    st = far_exit_status(c, status, a, m); /* :pid, :via-pid, :host */
  } else if ((st = edn_coll(a, EDN_MAP))) {
    edn_map_putk(a, m, "pid", edn_int(a, c->pid));
    if (WIFSIGNALED(status)) edn_map_putk(a, st, "signal", edn_int(a, WTERMSIG(status)));
    else edn_map_putk(a, st, "exit", edn_int(a, WEXITSTATUS(status)));
  }
  if (!st) return NULL;
  if (!c->panic ||
      edn_read(a, c->panic, strlen(c->panic), &child_lim, &panic, &err) != EDN_OK)
    panic = edn_nil(a);
  edn_map_putk(a, m, "status", st);
  edn_map_putk(a, m, "panic", panic);
  edn_value *e = c->far ? far_exit_error(c, status, a) : NULL;
  if (e) edn_map_putk(a, m, "error", e);
  return m;
}

edn_value *child_report(struct child *c, edn_arena *a) {
  edn_value *v = NULL;
  struct edn_error err;
  if (!c->report ||
      edn_read(a, c->report, strlen(c->report), &child_lim, &v, &err) != EDN_OK)
    return edn_nil(a);
  return v;
}

/* Into :stats :exits, with :stopped KW when the parent stopped it. */
static void record_exit(struct child *c, edn_value *m, edn_arena *a) {
  struct node *n = c->n;
  edn_value *x = m ? edn_copy(a, m) : NULL;
  if (x && c->stop_why != STOP_NONE)
    edn_map_putk(a, x, "stopped", edn_keyword(a, shutdown_why_name(c->stop_why)));
  char *s = x ? edn_to_string(x) : NULL;
  if (!s) return;
  size_t i = n->nexits % NODE_EXITS_KEPT;
  free(n->exits[i]);
  n->exits[i] = s;
  n->nexits++;
}

/* Every request still waiting on this edge gets :wat/child-exited. */
static void fail_pending(struct child *c, const char *report) {
  struct node *n = c->n;
  struct idmap_entry e;
  char msg[300];
  snprintf(msg, sizeof msg, "child %s exited", c->name);
  while (idmap_pop(&c->pending, &e)) {
    edn_arena *a = e.req->a;
    edn_value *err = wat_error(a, "child-exited", msg), *rep = NULL;
    edn_value *m = edn_coll(a, EDN_MAP);
    struct edn_error ee;
    if (!report ||
        edn_read(a, report, strlen(report), &child_lim, &rep, &ee) != EDN_OK)
      rep = edn_nil(a);
    const char *who = e.slot < 0 ? n->spec.name : c->name;
    if (err && m) {
      edn_map_putk(a, err, "child", edn_string(a, c->name, strlen(c->name)));
      edn_map_putk(a, err, "report", rep);
      edn_map_putk(a, m, "node", edn_string(a, who, strlen(who)));
      edn_map_putk(a, m, "error", err);
    }
    req_fill(e.req, e.slot, m);
  }
}

/* A node that is ending applies no policy: a child that exits meanwhile is
 * neither restarted nor escalated. */
static bool supervising(const struct node *n) {
  return n->state == NODE_RUNNING && !n->ending && !n->exiting && !n->in_eof;
}

void child_reaped(struct child *c, int status) {
  struct node *n = c->n;
  trace_exited(c, status);
  /* It is dead: whatever it wrote is in the pipes. Read it all first. */
  pump_lines(c, c->out_fd, &c->out_lb, on_reply_line, true);
  pump_lines(c, c->err_fd, &c->err_lb, on_err_line, true);
  noise_flush(c);
  child_close_fds(c);
  loop_timer_stop(n->loop, &c->stop_timer);
  c->alive = false;
  n->nalive--;
  edn_arena *a = edn_arena_new();
  edn_value *map = a ? exit_map(c, status, a) : NULL;
  if (map) record_exit(c, map, a);
  free(c->report);
  c->report = map ? edn_to_string(map) : NULL;
  fail_pending(c, c->report);
  edn_arena_free(a);
  if (c->stop_why != STOP_NONE) supervise_stopped(c); /* c may be gone */
  else if (supervising(n)) supervise_exit(c, status);
  shutdown_pump(n);
}
