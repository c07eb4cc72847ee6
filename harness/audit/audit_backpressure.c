/* audit_backpressure.c — the backpressure property: with one node held
 * (SIGSTOP), requests routed to it are written into the root's stdin until
 * the root stops accepting them. The bytes accepted must stay under the
 * bound the path implies (per node: its stdin pipe's capacity, its
 * :queue-bytes toward the next node, one 64 KiB read chunk and one request
 * line), no node's RSS may pass its bound, and after SIGCONT every reply
 * must arrive, in order, none lost, none twice. The evidence numbers the
 * flood's requests 1, 2, ... in the order sent (their ids are internal):
 * a lost reply names the first missing one, a reordering the first reply
 * that came after a later request's, once, with how many did.
 *
 * Across hosts the held node is stopped and released on its own host (by
 * its probe), each node's RSS is read there, and each hop on the path
 * adds to the bound what no pipe capacity shows: the ssh client's stdin
 * pipe and the scenario's hop_bytes (ssh's channel window and the sockets
 * on the way). A far node's stdin pipe is counted at the kernel's default
 * capacity: the probe reports no F_GETPIPE_SZ, and sshd makes its
 * session's pipes at that default. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "htrace.h"

#define BODY_LEN 1000         /* each request carries this many bytes */
#define READ_CHUNK 65536      /* the slack of one read per node */
#define SETTLE_MS 300         /* no room on the root's stdin this long: full */
#define HOP_SETTLE_MS 1500    /* and this much more per ssh hop on the path:
                                 ssh's window updates and a loaded machine
                                 stall a flowing hop for hundreds of ms (CI
                                 saw an unbounded queue on a far node taken
                                 for a full path at 300 ms) */
#define DEFAULT_PIPE 65536

static struct tree_node *live_first_leaf(struct engine *e, struct tree_node *t) {
  struct live_node *ln = engine_live(e, t);
  if (!ln || ln->state != NODE_ALIVE)
    return NULL;
  for (size_t i = 0; i < t->nchildren; i++) {
    struct tree_node *l = live_first_leaf(e, t->children[i]);
    if (l)
      return l;
  }
  return t;
}

/* F_GETPIPE_SZ of a node's stdin, through /proc (opening a pipe's /proc
 * link read-only and non-blocking never blocks and takes nothing from it). */
static long pipe_size(struct engine *e, const struct tree_node *t, pid_t pid) {
  if (node_where(t))
    return DEFAULT_PIPE;
  if (pid == e->root_pid && e->in_fd >= 0) {
    long n = fcntl(e->in_fd, F_GETPIPE_SZ);
    return n > 0 ? n : DEFAULT_PIPE;
  }
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/fd/0", (int)pid);
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return DEFAULT_PIPE;
  long n = fcntl(fd, F_GETPIPE_SZ);
  close(fd);
  return n > 0 ? n : DEFAULT_PIPE;
}

struct flood {
  struct tree_node *held;
  pid_t held_pid;
  struct tree_node *path[4096]; /* root .. held */
  size_t npath;
  char *prefix; /* "{:op :route :path [...] :req {:op :echo :body \"xx\"} :id " */
  size_t line_max;
  long bound;
  long accepted;
  double settle_ms;             /* SETTLE_MS, plus HOP_SETTLE_MS per hop */
  size_t nsent;
  char pending[8192]; /* a line partly written */
  size_t pend_len, pend_off;
  int64_t next_bulk;           /* ids of the flood: a range of their own */
  long peak_kb;                /* the largest VmRSS while held */
  const struct tree_node *peak;
};

static int build_prefix(struct engine *e, struct flood *f) {
  char *body = malloc(BODY_LEN + 1);
  if (!body)
    return -1;
  memset(body, 'x', BODY_LEN);
  body[BODY_LEN] = '\0';
  char *path = NULL;
  edn_value *pv = engine_path_vec(e, f->held);
  if (!pv || !(path = edn_to_string(pv))) {
    free(body);
    return -1;
  }
  int n = f->held->parent
              ? asprintf(&f->prefix, "{:op :route :path %s :req {:op :echo "
                         ":body \"%s\"} :id ", path, body)
              : asprintf(&f->prefix, "{:op :echo :body \"%s\" :id ", body);
  free(body);
  free(path);
  if (n < 0)
    return -1;
  f->line_max = (size_t)n + 24;
  return 0;
}

static void compute_bound(struct engine *e, struct flood *f) {
  f->bound = 0;
  f->settle_ms = SETTLE_MS;
  for (size_t i = 0; i < f->npath; i++) {
    struct live_node *ln = engine_live(e, f->path[i]);
    long q = f->path[i] == f->held ? 0 : node_queue_bytes(f->path[i]);
    f->bound += pipe_size(e, f->path[i], ln->pid) + q + READ_CHUNK +
                (long)f->line_max;
    if (node_host(f->path[i])) { /* a hop: the client's pipe, ssh's window */
      f->bound += DEFAULT_PIPE + e->s->hop_bytes;
      f->settle_ms += HOP_SETTLE_MS;
    }
  }
}

/* Write requests until the root accepts nothing for f->settle_ms, or the bytes
 * pass the bound, or the deadline. Returns 0 settled, 1 over the bound,
 * -ETIMEDOUT still accepting at the deadline, -EPIPE/-EINTR. */
static int fill(struct engine *e, struct flood *f, double deadline) {
  double last_progress = engine_now_ms();
  for (;;) {
    if (f->pend_off == f->pend_len) {
      if (f->accepted > f->bound)
        return 1;
      int64_t id = f->next_bulk--;
      int n = snprintf(f->pending, sizeof f->pending, "%s%" PRId64 "}\n",
                       f->prefix, id);
      f->pend_len = (size_t)n;
      f->pend_off = 0;
      e->bulk_lo = id;
      f->nsent++;
    }
    ssize_t w = write(e->in_fd, f->pending + f->pend_off,
                      f->pend_len - f->pend_off);
    if (w > 0) {
      f->pend_off += (size_t)w;
      f->accepted += w;
      last_progress = engine_now_ms();
      continue;
    }
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0 && errno != EAGAIN)
      return -EPIPE;
    double now = engine_now_ms();
    if (now - last_progress >= f->settle_ms)
      return 0;
    if (now > deadline)
      return -ETIMEDOUT;
    int rc = engine_pump(e, (int)(f->settle_ms - (now - last_progress)) + 1,
                         true);
    if (rc < 0)
      return rc;
  }
}

static void check_rss(struct engine *e, struct flood *f) {
  long bound = e->s->bp_rss_kb > 0 ? e->s->bp_rss_kb : SCENARIO_DEFAULT_RSS_KB;
  f->peak_kb = 0;
  struct edn_buf figs = {0};
  for (size_t i = 0; i < e->nnodes; i++) {
    struct live_node *ln = &e->nodes[i];
    if (ln->state != NODE_ALIVE || !ln->pid)
      continue;
    long kb = host_rss_kb(engine_host(e, ln->t), ln->pid);
    if (kb > f->peak_kb) {
      f->peak_kb = kb;
      f->peak = ln->t;
    }
    if (kb > bound)
      engine_fail(e, PROP_BACKPRESSURE, "backpressure: %s (pid %d%s%s) VmRSS "
                  "%ld kB > bound %ld kB while %s was held", ln->t->path,
                  (int)ln->pid, node_where(ln->t) ? " on " : "",
                  node_where(ln->t) ? node_where(ln->t) : "", kb, bound,
                  f->held->path);
  }
  for (size_t i = 0; i < f->npath; i++) {
    struct live_node *ln = engine_live(e, f->path[i]);
    char fig[256];
    int n = snprintf(fig, sizeof fig, "%s%s %ld kB", i ? ", " : "",
                     f->path[i]->path,
                     host_rss_kb(engine_host(e, f->path[i]), ln->pid));
    edn_buf_append(&figs, fig, (size_t)n);
  }
  engine_note(e, PROP_BACKPRESSURE, "backpressure: RSS while held: %.*s",
              (int)figs.len, figs.ptr ? figs.ptr : "");
  edn_buf_free(&figs);
}

/* The flood's request number (1 for the first sent) of reply id `id`. */
static size_t request_no(const struct engine *e, int64_t id) {
  return (size_t)(e->bulk_hi - id) + 1;
}

/* After SIGCONT: finish the partial line, then wait for every reply. */
static void drain(struct engine *e, struct flood *f, double deadline) {
  if (f->pend_off < f->pend_len &&
      engine_write(e, f->pending + f->pend_off, f->pend_len - f->pend_off,
                   deadline) == 0)
    f->accepted += (long)(f->pend_len - f->pend_off);
  while (e->bulk_got < f->nsent && engine_now_ms() < deadline && !e->out_eof)
    if (engine_pump(e, 50, false) < 0)
      break;
  /* the holes: those still open are lost, those filled came late */
  size_t late = 0;
  int64_t missing = 0;
  for (int64_t id = e->bulk_hi; id > e->bulk_next; id--) {
    const struct idcount *hole = engine_idcount(e, id, false);
    if (hole && hole->got)
      late++;
    else if (hole && !missing)
      missing = id;
  }
  if (!missing && e->bulk_next >= e->bulk_lo)
    missing = e->bulk_next;
  if (e->bulk_got < f->nsent)
    engine_fail(e, PROP_BACKPRESSURE, "backpressure: after releasing %s, "
                "%zu of %zu replies never arrived (the first missing: the "
                "reply to request %zu)", f->held->path, f->nsent - e->bulk_got,
                f->nsent, missing ? request_no(e, missing) : 0);
  if (e->bulk_first_disorder) {
    /* it filled a hole; the reply that left the hole is just below the
     * holes beside it */
    int64_t before = e->bulk_first_disorder - 1;
    while (before > e->bulk_lo && engine_idcount(e, before, false))
      before--;
    engine_fail(e, PROP_BACKPRESSURE, "backpressure: replies came back out "
                "of order on the root edge: the reply to request %zu came "
                "after the reply to request %zu (%zu of %zu replies out of "
                "order)", request_no(e, e->bulk_first_disorder),
                request_no(e, before), late, e->bulk_got);
  }
  if (e->bulk_dup)
    engine_fail(e, PROP_BACKPRESSURE, "backpressure: %zu duplicated repl%s",
                e->bulk_dup, e->bulk_dup == 1 ? "y" : "ies");
  if (e->bulk_bad)
    engine_fail(e, PROP_BACKPRESSURE, "backpressure: %zu replies without "
                "the %d-byte :body echoed back", e->bulk_bad, BODY_LEN);
}

static int choose(struct engine *e, struct flood *f) {
  f->held = e->s->bp_hold ? e->s->bp_hold : live_first_leaf(e, e->s->root);
  struct live_node *ln = f->held ? engine_live(e, f->held) : NULL;
  /* By default the first leaf is held; when the scenario killed it, the
   * first leaf still alive stands in. */
  if ((!ln || ln->state != NODE_ALIVE) &&
      f->held == tree_first_leaf(e->s->root)) {
    f->held = live_first_leaf(e, e->s->root);
    ln = f->held ? engine_live(e, f->held) : NULL;
  }
  if (!ln || ln->state != NODE_ALIVE ||
      !host_alive(engine_host(e, f->held), ln->pid, ln->start)) {
    engine_fail(e, PROP_BACKPRESSURE, "backpressure: the node to hold (%s) "
                "is not alive", f->held ? f->held->path : "first leaf");
    return -1;
  }
  f->held_pid = ln->pid;
  size_t n = 0;
  for (struct tree_node *t = f->held; t && n < 4096; t = t->parent)
    n++;
  f->npath = n;
  for (struct tree_node *t = f->held; t && n; t = t->parent)
    f->path[--n] = t;
  return 0;
}

/* Stop or continue the held node, on its host, only the process with the
 * start time the harness knows. */
static void hold(struct engine *e, struct flood *f, int sig) {
  struct live_node *ln = engine_live(e, f->held);
  int rc = host_signal(engine_host(e, f->held), f->held_pid, ln->start, sig);
  if (rc < 0)
    engine_fail(e, PROP_BACKPRESSURE, "backpressure: cannot %s %s (pid %d): "
                "%s", sig == SIGSTOP ? "hold" : "release", f->held->path,
                (int)f->held_pid, strerror(-rc));
}

void audit_backpressure(struct engine *e) {
  struct flood *f = calloc(1, sizeof *f);
  double t0 = engine_now_ms();
  if (!f)
    return;
  if (engine_ensure_map(e, t0 + (double)e->s->timeout_ms) < 0 ||
      choose(e, f) < 0 || build_prefix(e, f) < 0)
    goto out;
  compute_bound(e, f);
  htrace_signal(e, f->held, f->held_pid, SIGSTOP, "backpressure");
  hold(e, f, SIGSTOP);
  engine_live(e, f->held)->held = true;
  /* far below the ids of the harness's requests and of any scenario: the
   * flood's replies are counted in order, contiguous */
  f->next_bulk = -(INT64_C(1) << 62);
  e->bulk_on = true;
  e->bulk_hi = e->bulk_next = f->next_bulk;
  e->bulk_lo = f->next_bulk + 1; /* empty until the first request */
  e->bulk_body_len = BODY_LEN;
  long budget = e->s->timeout_ms > 0 ? e->s->timeout_ms : SCENARIO_DEFAULT_TIMEOUT_MS;
  int rc = fill(e, f, engine_now_ms() + (double)budget);
  if (rc == 1)
    engine_fail(e, PROP_BACKPRESSURE, "backpressure: the root accepted %ld "
                "bytes with %s (pid %d) held, over the bound of %ld bytes "
                "(path %s, %zu nodes): something on the path buffers "
                "without limit", f->accepted, f->held->path,
                (int)f->held_pid, f->bound, f->held->path, f->npath);
  else if (rc == -ETIMEDOUT)
    engine_fail(e, PROP_BACKPRESSURE, "backpressure: the root still accepts "
                "bytes after %ld ms with %s held (%ld bytes, bound %ld)",
                budget, f->held->path, f->accepted, f->bound);
  else if (rc < 0 && rc != -EINTR)
    engine_fail(e, PROP_BACKPRESSURE, "backpressure: the root's stdin closed "
                "while filling (%ld bytes accepted)", f->accepted);
  check_rss(e, f);
  htrace_signal(e, f->held, f->held_pid, SIGCONT, "backpressure");
  hold(e, f, SIGCONT);
  engine_live(e, f->held)->held = false;
  double drain_until = engine_now_ms() + (double)budget + 20000.0 +
                       (double)f->accepted / 100.0; /* 100 bytes/ms floor */
  if (rc != -EINTR)
    drain(e, f, drain_until);
  e->bulk_on = false;
  if (!e->fail[PROP_BACKPRESSURE])
    engine_summary(e, PROP_BACKPRESSURE, "held %s: accepted %ld bytes <= "
                   "bound %ld; peak RSS %ld kB (%s) <= %ld kB; %zu replies "
                   "in order", f->held->path, f->accepted, f->bound,
                   f->peak_kb, f->peak ? f->peak->path : "-",
                   e->s->bp_rss_kb > 0 ? e->s->bp_rss_kb : SCENARIO_DEFAULT_RSS_KB,
                   e->bulk_got);
  engine_note(e, PROP_BACKPRESSURE, "backpressure: held %s (pid %d), "
              "accepted %ld bytes, bound %ld bytes over %zu nodes, %zu "
              "requests, %zu replies", f->held->path, (int)f->held_pid,
              f->accepted, f->bound, f->npath, f->nsent, e->bulk_got);
out:
  free(f->prefix);
  free(f);
}
