/* run.c — the engine of run_scenario(): the root's three pipes read and
 * written without ever blocking, replies sorted by :id, the table of nodes
 * and their pids (learnt by `:fan :inspect`, checked against /proc), and the
 * order of a run: launch, steps, audits, the cascade at the end, results.
 * Ctrl-C (SIGINT) and SIGTERM make every running scenario take its tree
 * down before the harness exits. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "htrace.h"
#include "pattern.h"

/* ---- interruption: a self-pipe never drained, so every poll sees it ---- */

static int g_intr[2] = {-1, -1};
static volatile sig_atomic_t g_intr_sig;

static void on_signal(int sig) {
  int saved = errno;
  g_intr_sig = sig;
  if (g_intr[1] >= 0) {
    ssize_t n = write(g_intr[1], "x", 1);
    (void)n;
  }
  errno = saved;
}

int run_install_signal_handlers(void) {
  if (g_intr[0] < 0 && pipe2(g_intr, O_CLOEXEC | O_NONBLOCK) < 0)
    return -1;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0)
    return -1;
  signal(SIGPIPE, SIG_IGN);
  return 0;
}

int run_interrupted(void) { return (int)g_intr_sig; }

/* ---- the roots of the scenarios running in this process ---------------- */

static pthread_mutex_t g_roots_lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t g_roots[256];
static size_t g_nroots;
static int g_active;

static void roots_add(pid_t pid) {
  pthread_mutex_lock(&g_roots_lock);
  if (g_nroots < sizeof g_roots / sizeof g_roots[0])
    g_roots[g_nroots++] = pid;
  pthread_mutex_unlock(&g_roots_lock);
}

static void roots_del(pid_t pid) {
  pthread_mutex_lock(&g_roots_lock);
  for (size_t i = 0; i < g_nroots; i++)
    if (g_roots[i] == pid) {
      g_roots[i] = g_roots[--g_nroots];
      break;
    }
  pthread_mutex_unlock(&g_roots_lock);
}

/* True when `pid` is the root of another scenario running alongside. */
bool run_other_root(pid_t pid, pid_t mine) {
  bool found = false;
  pthread_mutex_lock(&g_roots_lock);
  for (size_t i = 0; i < g_nroots; i++)
    if (g_roots[i] == pid && pid != mine)
      found = true;
  pthread_mutex_unlock(&g_roots_lock);
  return found;
}

int run_active_scenarios(void) {
  pthread_mutex_lock(&g_roots_lock);
  int n = g_active;
  pthread_mutex_unlock(&g_roots_lock);
  return n;
}

/* ---- time, evidence ---------------------------------------------------- */

double engine_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void buf_vprintf(struct edn_buf *b, const char *fmt, va_list ap) {
  char *s = NULL;
  int n = vasprintf(&s, fmt, ap);
  if (n < 0)
    return;
  if (b->len)
    edn_buf_append(b, "\n", 1);
  edn_buf_append(b, s, (size_t)n);
  free(s);
}

/* at most this many evidence lines per property: the first ones tell */
#define EVIDENCE_MAX (64 * 1024)

void engine_fail(struct engine *e, enum property p, const char *fmt, ...) {
  if (!e->fail[p]) /* the summary is the first failure, not a note */
    e->fail_at[p] = e->ev[p].len ? e->ev[p].len + 1 : 0;
  e->fail[p] = true;
  if (e->ev[p].len > EVIDENCE_MAX)
    return;
  va_list ap;
  va_start(ap, fmt);
  buf_vprintf(&e->ev[p], fmt, ap);
  va_end(ap);
}

void engine_note(struct engine *e, enum property p, const char *fmt, ...) {
  if (e->ev[p].len > EVIDENCE_MAX)
    return;
  va_list ap;
  va_start(ap, fmt);
  buf_vprintf(&e->ev[p], fmt, ap);
  va_end(ap);
}

void engine_step_fail(struct engine *e, const char *fmt, ...) {
  e->steps_failed = true;
  if (e->steps_ev.len > EVIDENCE_MAX)
    return;
  va_list ap;
  va_start(ap, fmt);
  buf_vprintf(&e->steps_ev, fmt, ap);
  va_end(ap);
}

void engine_summary(struct engine *e, enum property p, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s = NULL;
  if (vasprintf(&s, fmt, ap) < 0)
    s = NULL;
  va_end(ap);
  free(e->sum[p]);
  e->sum[p] = s;
}

bool engine_listed(const struct engine *e, enum property p) {
  return e->s->properties[p];
}

/* ---- ids ---------------------------------------------------------------- */

static uint64_t id_hash(int64_t id) {
  uint64_t x = (uint64_t)id * 0x9E3779B97F4A7C15ull;
  return x ^ (x >> 29);
}

static int ids_grow(struct engine *e) {
  size_t cap = e->capids ? e->capids * 2 : 256;
  struct idcount *v = calloc(cap, sizeof *v);
  if (!v)
    return -1;
  for (size_t i = 0; i < e->capids; i++) {
    if (!e->ids[i].used)
      continue;
    size_t j = id_hash(e->ids[i].id) & (cap - 1);
    while (v[j].used)
      j = (j + 1) & (cap - 1);
    v[j] = e->ids[i];
  }
  free(e->ids);
  e->ids = v;
  e->capids = cap;
  return 0;
}

struct idcount *engine_idcount(struct engine *e, int64_t id, bool create) {
  if (e->capids) {
    size_t j = id_hash(id) & (e->capids - 1);
    while (e->ids[j].used) {
      if (e->ids[j].id == id)
        return &e->ids[j];
      j = (j + 1) & (e->capids - 1);
    }
  }
  if (!create)
    return NULL;
  if ((e->nids + 1) * 2 > e->capids && ids_grow(e) < 0)
    return NULL;
  size_t j = id_hash(id) & (e->capids - 1);
  while (e->ids[j].used)
    j = (j + 1) & (e->capids - 1);
  e->ids[j].used = true;
  e->ids[j].id = id;
  e->nids++;
  return &e->ids[j];
}

void engine_exempt(struct engine *e, int64_t id) {
  struct idcount *c = engine_idcount(e, id, true);
  if (c)
    c->exempt = true;
}

/* ---- reading the root's output ------------------------------------------ */

static void keep_reply(struct engine *e, int64_t id, const edn_value *v) {
  if (e->nreplies == e->capreplies) {
    size_t cap = e->capreplies ? e->capreplies * 2 : 64;
    struct reply *r = realloc(e->replies, cap * sizeof *r);
    if (!r) {
      e->internal_error = true;
      return;
    }
    e->replies = r;
    e->capreplies = cap;
  }
  edn_value *copy = edn_copy(e->arena, v);
  if (!copy) {
    e->internal_error = true;
    return;
  }
  e->replies[e->nreplies++] = (struct reply){id, copy};
}

/* A reply in the backpressure window: counted and checked for order here. */
static void bulk_reply(struct engine *e, int64_t id, const edn_value *v) {
  if (id > e->bulk_next) { /* ids go down: this one came already */
    e->bulk_dup++;
    return;
  }
  if (id != e->bulk_next && !e->bulk_first_disorder)
    e->bulk_first_disorder = id;
  e->bulk_next = id - 1;
  e->bulk_got++;
  const edn_value *body = edn_map_getk(v, "body");
  if (!body || body->type != EDN_STRING || body->u.text.len != e->bulk_body_len)
    e->bulk_bad++;
}

static void on_line(struct engine *e, const char *p, size_t n) {
  while (n && (p[n - 1] == '\r'))
    n--;
  edn_arena_reset(e->scratch);
  edn_value *v = NULL;
  struct edn_error err;
  struct edn_limits lim = {.max_depth = 4096, .max_bytes = 256u << 20};
  int rc = edn_read(e->scratch, p, n, &lim, &v, &err);
  htrace_edge(e, "up", p, n, rc == EDN_OK);
  int show = n > 300 ? 300 : (int)n; /* p is not NUL-terminated */
  if (rc == EDN_EMPTY)
    return;
  if (rc != EDN_OK || v->type != EDN_MAP) {
    engine_fail(e, PROP_REPLIES,
                "replies: the root wrote a line that is not an EDN map (%s): "
                "%.*s",
                rc == EDN_OK ? edn_type_name(v->type) : err.message, show, p);
    return;
  }
  const edn_value *idv = edn_map_getk(v, "id");
  if (!idv || idv->type != EDN_INT) {
    engine_fail(e, PROP_REPLIES,
                "replies: a reply without an integer :id: %.*s", show, p);
    return;
  }
  int64_t id = idv->u.integer;
  if (e->bulk_on && id >= e->bulk_lo && id <= e->bulk_hi) {
    bulk_reply(e, id, v);
    return;
  }
  /* Only answers to what was sent are kept: a stray or a surplus reply is
   * evidence, not a reply to wait for, so what a broken root floods us
   * with costs no memory. */
  struct idcount *c = engine_idcount(e, id, false);
  if (!c || !c->sent) {
    engine_fail(e, PROP_REPLIES, "replies: a reply for :id %" PRId64
                ", which was never sent: %.*s", id, show, p);
    return;
  }
  if (++c->got > c->sent) {
    engine_fail(e, PROP_REPLIES,
                "replies: :id %" PRId64 " answered %d time(s) but sent %d "
                "time(s): %.*s",
                id, c->got, c->sent, show, p);
    return;
  }
  keep_reply(e, id, v);
}

/* The longest reply line the harness reads: a node's own limit for a
 * child's reply (a :fan :inspect of a big tree is tens of MB). */
#define REPLY_LINE_MAX (256u << 20)

static void drop_overlong(struct engine *e) {
  if (!e->out_overlong)
    engine_fail(e, PROP_REPLIES, "replies: the root wrote a line over %u MiB "
                "without a newline (dropped as it streams): %.*s",
                REPLY_LINE_MAX >> 20, 300, e->outline.ptr);
  e->out_overlong = true;
  e->outline.len = e->outscan = 0;
}

/* Hand every whole line in outline to on_line. Each byte is looked at
 * once: a long line arrives in many reads, and rescanning it from its
 * start on each would be quadratic. */
static void split_lines(struct engine *e) {
  size_t start = 0;
  char *nl;
  while (e->outscan < e->outline.len &&
         (nl = memchr(e->outline.ptr + e->outscan, '\n',
                      e->outline.len - e->outscan))) {
    size_t end = (size_t)(nl - e->outline.ptr);
    if (e->out_overlong) /* the tail of the dropped line */
      e->out_overlong = false;
    else
      on_line(e, e->outline.ptr + start, end - start);
    start = e->outscan = end + 1;
  }
  e->outscan = e->outline.len;
  if (start) {
    memmove(e->outline.ptr, e->outline.ptr + start, e->outline.len - start);
    e->outline.len -= start;
    e->outscan -= start;
  }
  if (e->outline.len > REPLY_LINE_MAX || (e->out_overlong && e->outline.len))
    drop_overlong(e);
}

static void read_out(struct engine *e) {
  char chunk[65536];
  for (int round = 0; round < 64; round++) {
    ssize_t n = read(e->out_fd, chunk, sizeof chunk);
    if (n > 0) {
      edn_buf_append(&e->outline, chunk, (size_t)n);
      split_lines(e);
      continue;
    }
    if (n == 0) {
      if (e->outline.len && !e->out_overlong) /* a last line, no newline */
        on_line(e, e->outline.ptr, e->outline.len);
      e->outline.len = e->outscan = 0;
      e->out_eof = true;
    } else if (errno == EINTR) {
      continue;
    }
    return;
  }
}

static void read_err(struct engine *e) {
  char chunk[16384];
  for (int round = 0; round < 16; round++) {
    ssize_t n = read(e->err_fd, chunk, sizeof chunk);
    if (n > 0) {
      htrace_edge(e, "err", chunk, (size_t)n, false);
      if (e->errtext.len < (1u << 20))
        edn_buf_append(&e->errtext, chunk, (size_t)n);
      continue;
    }
    if (n == 0)
      e->err_eof = true;
    else if (errno == EINTR)
      continue;
    return;
  }
}

int engine_pump(struct engine *e, int timeout_ms, bool want_write) {
  struct pollfd pf[4];
  int n = 0, iout = -1, ierr = -1, iin = -1, iintr = -1;
  if (g_intr[0] >= 0) {
    iintr = n;
    pf[n++] = (struct pollfd){g_intr[0], POLLIN, 0};
  }
  if (e->out_fd >= 0 && !e->out_eof) {
    iout = n;
    pf[n++] = (struct pollfd){e->out_fd, POLLIN, 0};
  }
  if (e->err_fd >= 0 && !e->err_eof) {
    ierr = n;
    pf[n++] = (struct pollfd){e->err_fd, POLLIN, 0};
  }
  if (want_write && e->in_fd >= 0) {
    iin = n;
    pf[n++] = (struct pollfd){e->in_fd, POLLOUT, 0};
  }
  if (timeout_ms < 0)
    timeout_ms = 0;
  int k = poll(pf, (nfds_t)n, timeout_ms);
  if (k < 0) {
    if (errno == EINTR && g_intr_sig) {
      e->interrupted = true;
      return -EINTR;
    }
    return 0;
  }
  if (iintr >= 0 && pf[iintr].revents) {
    e->interrupted = true;
    return -EINTR;
  }
  if (iout >= 0 && pf[iout].revents)
    read_out(e);
  if (ierr >= 0 && pf[ierr].revents)
    read_err(e);
  return iin >= 0 && pf[iin].revents ? 1 : 0;
}

int engine_write(struct engine *e, const char *buf, size_t len,
                 double deadline) {
  size_t off = 0;
  while (off < len) {
    if (e->in_fd < 0)
      return -EPIPE;
    ssize_t w = write(e->in_fd, buf + off, len - off);
    if (w > 0) {
      off += (size_t)w;
      continue;
    }
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0 && errno != EAGAIN)
      return -errno;
    double left = deadline - engine_now_ms();
    if (left <= 0)
      return -ETIMEDOUT;
    int rc = engine_pump(e, (int)left + 1, true);
    if (rc < 0)
      return rc;
  }
  return 0;
}

int engine_send(struct engine *e, int64_t id, const char *line, size_t len,
                double deadline) {
  struct idcount *c = engine_idcount(e, id, true);
  if (c)
    c->sent++;
  htrace_edge(e, "down", line, len, true);
  int rc = engine_write(e, line, len, deadline);
  if (rc == 0)
    rc = engine_write(e, "\n", 1, deadline + 60000);
  if (rc < 0 && c)
    c->sent--; /* never reached the root */
  return rc;
}

static bool take_reply(struct engine *e, int64_t id, edn_value **out) {
  for (size_t i = 0; i < e->nreplies; i++)
    if (e->replies[i].id == id) {
      *out = e->replies[i].v;
      memmove(&e->replies[i], &e->replies[i + 1],
              (e->nreplies - i - 1) * sizeof *e->replies);
      e->nreplies--;
      return true;
    }
  return false;
}

int engine_await(struct engine *e, int64_t id, double deadline,
                 edn_value **out) {
  for (;;) {
    if (take_reply(e, id, out))
      return 0;
    if (e->out_eof)
      return -EPIPE;
    double left = deadline - engine_now_ms();
    if (left <= 0)
      return -ETIMEDOUT;
    int rc = engine_pump(e, (int)left + 1, false);
    if (rc < 0)
      return rc;
  }
}

int64_t engine_next_id(struct engine *e) {
  for (;;) {
    int64_t id = e->next_id--;
    bool taken = false; /* a scenario may use negative ids too */
    for (size_t i = 0; i < e->s->nsteps && !taken; i++) {
      const edn_value *v = e->s->steps[i].send
                               ? edn_map_getk(e->s->steps[i].send, "id")
                               : NULL;
      taken = v && v->type == EDN_INT && v->u.integer == id;
    }
    if (!taken)
      return id;
  }
}

edn_value *engine_path_vec(struct engine *e, const struct tree_node *n) {
  edn_value *v = edn_coll(e->arena, EDN_VECTOR);
  if (!v)
    return NULL;
  const struct tree_node *chain[4096];
  size_t k = 0;
  for (const struct tree_node *t = n; t && t->parent && k < 4096; t = t->parent)
    chain[k++] = t;
  while (k--) {
    edn_value *s = edn_string(e->arena, chain[k]->name, strlen(chain[k]->name));
    if (!s || edn_push(e->arena, v, s) < 0)
      return NULL;
  }
  return v;
}

int engine_request(struct engine *e, const struct tree_node *to, edn_value *req,
                   double deadline, edn_value **out) {
  int64_t id = engine_next_id(e);
  edn_value *msg = req;
  if (to->parent) {
    msg = edn_coll(e->arena, EDN_MAP);
    edn_value *path = engine_path_vec(e, to);
    if (!msg || !path || edn_map_putk(e->arena, msg, "op",
                                      edn_keyword(e->arena, "route")) < 0 ||
        edn_map_putk(e->arena, msg, "path", path) < 0 ||
        edn_map_putk(e->arena, msg, "req", req) < 0)
      return -ENOMEM;
  }
  if (edn_map_putk(e->arena, msg, "id", edn_int(e->arena, id)) < 0)
    return -ENOMEM;
  struct edn_buf b = {0};
  if (edn_print(&b, msg) < 0) {
    edn_buf_free(&b);
    return -ENOMEM;
  }
  int rc = engine_send(e, id, b.ptr, b.len, deadline);
  edn_buf_free(&b);
  if (rc < 0)
    return rc;
  return engine_await(e, id, deadline, out);
}

/* ---- the node table ----------------------------------------------------- */

static int cmp_live(const void *a, const void *b) {
  const struct live_node *x = a, *y = b;
  return (x->t > y->t) - (x->t < y->t);
}

struct live_node *engine_live(struct engine *e, const struct tree_node *t) {
  struct live_node key = {.t = (struct tree_node *)t};
  return bsearch(&key, e->nodes, e->nnodes, sizeof key, cmp_live);
}

void engine_mark_subtree(struct engine *e, struct tree_node *t,
                         enum node_state st) {
  struct live_node *ln = engine_live(e, t);
  if (ln) {
    if (st == NODE_GONE && ln->state == NODE_PENDING)
      return; /* never was */
    ln->state = st;
    if (st != NODE_ALIVE)
      ln->held = false;
  }
  for (size_t i = 0; i < t->nchildren; i++)
    engine_mark_subtree(e, t->children[i], st);
}

bool engine_any_held(const struct engine *e) {
  for (size_t i = 0; i < e->nnodes; i++)
    if (e->nodes[i].held)
      return true;
  return false;
}

bool engine_in_subtree(const struct tree_node *n, const struct tree_node *top) {
  for (; n; n = n->parent)
    if (n == top)
      return true;
  return false;
}

static size_t count_nodes(const struct tree_node *t) {
  size_t n = 1;
  for (size_t i = 0; i < t->nchildren; i++)
    n += count_nodes(t->children[i]);
  return n;
}

static void fill_nodes(struct engine *e, struct tree_node *t, size_t *k) {
  /* nodes a step spawns (a spawn step, or a :spawn sent) come later */
  e->nodes[(*k)++] = (struct live_node){
      .t = t, .state = t->spawn_step >= 0 ? NODE_PENDING : NODE_ALIVE};
  for (size_t i = 0; i < t->nchildren; i++)
    fill_nodes(e, t->children[i], k);
}

static int nodes_init(struct engine *e) {
  size_t n = count_nodes(e->s->root), k = 0;
  e->nodes = calloc(n, sizeof *e->nodes);
  if (!e->nodes)
    return -1;
  fill_nodes(e, e->s->root, &k);
  e->nnodes = n;
  qsort(e->nodes, n, sizeof *e->nodes, cmp_live);
  return 0;
}

long node_queue_bytes(const struct tree_node *t) {
  return t->queue_bytes >= 0 ? t->queue_bytes : 65536;
}

enum policy node_policy(const struct tree_node *t) {
  return t->on_child_exit == POLICY_UNSET ? POLICY_ISOLATE : t->on_child_exit;
}

void engine_seen(struct engine *e, pid_t pid, unsigned long long start) {
  for (size_t i = 0; i < e->nseen; i++)
    if (e->seen[i] == pid && e->seen_start[i] == start)
      return;
  if (e->nseen == e->capseen) {
    size_t cap = e->capseen ? e->capseen * 2 : 256;
    pid_t *v = realloc(e->seen, cap * sizeof *v);
    if (!v)
      return;
    e->seen = v;
    unsigned long long *s = realloc(e->seen_start, cap * sizeof *s);
    if (!s)
      return;
    e->seen_start = s;
    e->capseen = cap;
  }
  e->seen[e->nseen] = pid;
  e->seen_start[e->nseen++] = start;
}

bool engine_orphan_is_ours(const struct engine *e, const struct proc_info *pi,
                           bool alone) {
  if (pi->ppid != e->self || pi->pid == e->root_pid)
    return false;
  if (alone && !run_other_root(pi->pid, e->root_pid))
    return true;
  for (size_t j = 0; j < e->nseen; j++)
    if (e->seen[j] == pi->pid && e->seen_start[j] == pi->start)
      return true;
  return false;
}

/* Walk one node's :fan reply (and its children's, recursively). */
static void walk_fan(struct engine *e, struct tree_node *t, const edn_value *r) {
  struct live_node *ln = engine_live(e, t);
  if (!ln)
    return;
  const edn_value *res = edn_map_getk(r, "result");
  const edn_value *pid = res ? edn_map_getk(res, "pid") : NULL;
  if (edn_map_getk(r, "error") || !pid || pid->type != EDN_INT) {
    engine_mark_subtree(e, t, NODE_GONE);
    return;
  }
  ln->state = NODE_ALIVE;
  ln->pid = (pid_t)pid->u.integer;
  const edn_value *pp = edn_map_getk(res, "ppid"), *pg = edn_map_getk(res, "pgid");
  ln->said_ppid = pp && pp->type == EDN_INT ? (long)pp->u.integer : -1;
  ln->said_pgid = pg && pg->type == EDN_INT ? (long)pg->u.integer : -1;
  const edn_value *reps = edn_map_getk(r, "replies");
  bool *answered = calloc(t->nchildren + 1, sizeof *answered);
  for (size_t i = 0; reps && reps->type == EDN_VECTOR && i < reps->u.seq.len;
       i++) {
    const edn_value *c = reps->u.seq.items[i];
    const edn_value *name = edn_map_getk(c, "node");
    size_t j = 0;
    for (; name && name->type == EDN_STRING && j < t->nchildren; j++)
      if (!strcmp(t->children[j]->name, name->u.text.ptr))
        break;
    if (!name || name->type != EDN_STRING || j == t->nchildren) {
      char *s = edn_to_string(c);
      engine_step_fail(e, "tree: %s (pid %d) reports a child the scenario "
                       "does not have: %.200s", t->path, ln->pid,
                       s ? s : "?");
      free(s);
      continue;
    }
    if (answered)
      answered[j] = true;
    walk_fan(e, t->children[j], c);
  }
  for (size_t j = 0; answered && j < t->nchildren; j++)
    if (!answered[j])
      engine_mark_subtree(e, t->children[j], NODE_GONE);
  free(answered);
}

/* Every live node's pid must be a live process whose parent is its parent
 * node's pid (the root's: the harness). */
static int cross_check(struct engine *e, const struct proc_table *pt) {
  int bad = 0;
  for (size_t i = 0; i < e->nnodes; i++) {
    struct live_node *ln = &e->nodes[i];
    if (ln->state != NODE_ALIVE)
      continue;
    const struct proc_info *pi = proctree_find(pt, ln->pid);
    struct live_node *pl = ln->t->parent ? engine_live(e, ln->t->parent) : NULL;
    pid_t want = pl ? pl->pid : e->self;
    if (!pi || pi->state == 'Z' || pi->ppid != want) {
      engine_step_fail(e, "tree: %s says its pid is %d, but /proc %s",
                       ln->t->path, ln->pid,
                       !pi ? "has no such process"
                       : pi->state == 'Z' ? "shows a zombie"
                                           : "gives it another parent");
      bad++;
      continue;
    }
    if ((ln->said_ppid >= 0 && ln->said_ppid != pi->ppid) ||
        (ln->said_pgid >= 0 && ln->said_pgid != pi->pgid)) {
      engine_step_fail(e, "tree: %s (pid %d) says :ppid %ld :pgid %ld, but "
                       "/proc says ppid %d pgid %d", ln->t->path, ln->pid,
                       ln->said_ppid, ln->said_pgid, (int)pi->ppid,
                       (int)pi->pgid);
      bad++;
    }
    ln->start = pi->start;
    engine_seen(e, ln->pid, pi->start);
  }
  return bad ? -1 : 0;
}

int engine_refresh(struct engine *e, double deadline) {
  if (engine_any_held(e))
    return 0;
  if (e->root_reaped || !proc_alive(e->root_pid, e->root_start)) {
    engine_mark_subtree(e, e->s->root, NODE_GONE);
    e->map_dirty = false;
    return 0;
  }
  edn_value *req = edn_coll(e->arena, EDN_MAP), *inner = edn_coll(e->arena, EDN_MAP);
  if (!req || !inner ||
      edn_map_putk(e->arena, inner, "op", edn_keyword(e->arena, "inspect")) < 0 ||
      edn_map_putk(e->arena, req, "op", edn_keyword(e->arena, "fan")) < 0 ||
      edn_map_putk(e->arena, req, "req", inner) < 0)
    return -1;
  edn_value *rep = NULL;
  int rc = engine_request(e, e->s->root, req, deadline, &rep);
  if (rc < 0) {
    if (rc == -EINTR)
      return rc;
    /* A root whose stdout closed is usually exiting: give it a moment
     * (bounded) to be reaped and to finish its stderr, so the message can
     * say how it ended instead of depending on who was faster. */
    double until = engine_now_ms() + 1000;
    if (until > deadline)
      until = deadline;
    while (rc != -ETIMEDOUT && (!engine_reap_root(e) || !e->err_eof) &&
           engine_now_ms() < until)
      if (engine_pump(e, 20, false) < 0)
        break;
    engine_reap_root(e);
    size_t n = e->errtext.len > 600 ? 600 : e->errtext.len;
    char how[64] = "";
    if (e->root_reaped && WIFEXITED(e->root_status))
      snprintf(how, sizeof how, ", it exited with status %d",
               WEXITSTATUS(e->root_status));
    else if (e->root_reaped)
      snprintf(how, sizeof how, ", it was killed by signal %d",
               WTERMSIG(e->root_status));
    engine_step_fail(e, "tree: the root did not answer a {:op :fan :req "
                     "{:op :inspect}} (%s)%s; its stderr: %.*s",
                     rc == -ETIMEDOUT ? "timed out" : "its stdout closed", how,
                     (int)n, e->errtext.ptr ? e->errtext.ptr + e->errtext.len - n : "");
    return -1;
  }
  walk_fan(e, e->s->root, rep);
  struct live_node *root = engine_live(e, e->s->root);
  if (root->state != NODE_ALIVE || root->pid != e->root_pid) {
    char *text = edn_to_string(rep);
    engine_step_fail(e, "tree: the root (pid %d) does not give its own pid in "
                     "its {:op :fan :req {:op :inspect}} reply: %.300s",
                     (int)e->root_pid, text ? text : "?");
    free(text);
    e->map_dirty = false;
    return -1;
  }
  struct proc_table pt = {0};
  proctree_scan(&pt);
  rc = cross_check(e, &pt);
  engine_reap_orphans(e, &pt);
  proctree_free(&pt);
  e->map_dirty = false;
  return rc;
}

int engine_ensure_map(struct engine *e, double deadline) {
  return e->map_dirty ? engine_refresh(e, deadline) : 0;
}

bool engine_reap_root(struct engine *e) {
  if (e->root_reaped)
    return true;
  int st;
  pid_t p = waitpid(e->root_pid, &st, WNOHANG);
  if (p == e->root_pid) {
    e->root_reaped = true;
    e->root_status = st;
    htrace_root_exited(e);
    if (e->root_registered) {
      roots_del(e->root_pid);
      e->root_registered = false;
    }
  }
  return e->root_reaped;
}

void engine_reap_orphans(struct engine *e, const struct proc_table *pt) {
  engine_reap_root(e);
  for (size_t i = 0; i < pt->n; i++) {
    const struct proc_info *pi = &pt->v[i];
    if (pi->ppid != e->self || pi->state != 'Z' || pi->pid == e->root_pid)
      continue;
    for (size_t j = 0; j < e->nseen; j++)
      if (e->seen[j] == pi->pid) {
        engine_reap_adopted(e, pi->pid);
        break;
      }
  }
}

void engine_reap_adopted(struct engine *e, pid_t pid) {
  int st;
  if (waitpid(pid, &st, WNOHANG) == pid)
    htrace_adopted_exited(e, pid, st);
}

/* ---- crashes ------------------------------------------------------------ */

int engine_crash_begin(struct engine *e, struct tree_node *n, struct crash *k,
                       double deadline) {
  memset(k, 0, sizeof *k);
  int rc = engine_ensure_map(e, deadline);
  if (rc == -EINTR)
    return rc;
  struct live_node *ln = engine_live(e, n);
  if (!ln || ln->state != NODE_ALIVE)
    return -1;
  k->node = n;
  k->pid = ln->pid;
  k->start = ln->start;
  k->before = malloc(e->nnodes * sizeof *k->before);
  if (k->before) {
    memcpy(k->before, e->nodes, e->nnodes * sizeof *k->before);
    k->nbefore = e->nnodes;
  }
  k->t0 = engine_now_ms();
  return 0;
}

bool engine_restart_limit(struct engine *e, const struct tree_node *child) {
  const struct tree_node *p = child->parent;
  struct live_node *ln = engine_live(e, child);
  if (!p || !ln || !ln->ncrash)
    return false;
  long max = p->max_restarts >= 0 ? p->max_restarts : 3;
  long period = p->restart_period_ms >= 0 ? p->restart_period_ms : 5000;
  double last = ln->crash_ms[(ln->ncrash - 1) % 16];
  long n = 0;
  for (unsigned i = 0; i < ln->ncrash && i < 16; i++)
    if (last - ln->crash_ms[(ln->ncrash - 1 - i) % 16] <= (double)period)
      n++;
  return n > max;
}

/* A restarted node's subtree is new: the runtime's restart counts for the
 * children below it start again. */
static void forget_crashes_below(struct engine *e, const struct tree_node *t) {
  for (size_t i = 0; i < t->nchildren; i++) {
    struct live_node *ln = engine_live(e, t->children[i]);
    if (ln)
      ln->ncrash = 0;
    forget_crashes_below(e, t->children[i]);
  }
}

/* Count a crash of `n` as the runtime counts exits: every node the crash
 * takes down with it (an :escalate parent, a :restart parent past its
 * limit) has crashed too. Returns the node its parent restarts (it comes
 * back with fresh children: forget_crashes_below() once the auditors have
 * judged this crash), or NULL. */
static const struct tree_node *count_crash(struct engine *e,
                                           const struct tree_node *n,
                                           double t0) {
  for (;;) {
    struct live_node *ln = engine_live(e, n);
    if (ln)
      ln->crash_ms[ln->ncrash++ % 16] = t0;
    const struct tree_node *p = n->parent;
    enum policy pol = p ? node_policy(p) : POLICY_ISOLATE;
    if (pol == POLICY_RESTART && !engine_restart_limit(e, n))
      return n;
    if (pol == POLICY_ISOLATE)
      return NULL;
    n = p;
  }
}

void engine_crash(struct engine *e, struct crash *k) {
  struct live_node *ln = engine_live(e, k->node);
  const struct tree_node *restarted = NULL;
  if (!k->closing) {
    e->ncrashes++;
    restarted = count_crash(e, k->node, k->t0);
    if (ln && k->signal)
      ln->kill_signal = k->signal;
    else if (ln)
      ln->panicked = true;
  }
  if (engine_listed(e, PROP_CASCADE)) {
    double t = engine_now_ms();
    audit_cascade_crash(e, k);
    e->ms[PROP_CASCADE] += engine_now_ms() - t;
  }
  if (engine_listed(e, PROP_CONTAINMENT) && !k->closing) {
    double t = engine_now_ms();
    audit_containment_crash(e, k);
    e->ms[PROP_CONTAINMENT] += engine_now_ms() - t;
  }
  if (restarted)
    forget_crashes_below(e, restarted);
  e->map_dirty = true;
  free(k->before);
  k->before = NULL;
}

/* ---- a run -------------------------------------------------------------- */

static int engine_init(struct engine *e, const struct scenario *s,
                       const struct run_opts *o, struct scenario_result *r) {
  memset(e, 0, sizeof *e);
  e->s = s;
  e->o = o;
  e->r = r;
  e->self = getpid();
  e->in_fd = e->out_fd = e->err_fd = e->trace_fd = -1;
  e->next_id = -1;
  e->root_pid = -1;
  e->arena = edn_arena_new();
  e->scratch = edn_arena_new();
  if (!e->arena || !e->scratch || nodes_init(e) < 0)
    return -1;
  return 0;
}

static void close_fd(int *fd) {
  if (*fd >= 0) {
    close(*fd);
    *fd = -1;
  }
}

static void engine_free(struct engine *e) {
  close_fd(&e->in_fd);
  close_fd(&e->out_fd);
  close_fd(&e->err_fd);
  close_fd(&e->trace_fd);
  edn_buf_free(&e->outline);
  edn_buf_free(&e->errtext);
  edn_buf_free(&e->steps_ev);
  for (int p = 0; p < PROP_COUNT; p++) {
    edn_buf_free(&e->ev[p]);
    free(e->sum[p]);
  }
  free(e->replies);
  free(e->ids);
  free(e->nodes);
  free(e->seen);
  free(e->seen_start);
  edn_arena_free(e->arena);
  edn_arena_free(e->scratch);
}

static char *buf_take(struct edn_buf *b) {
  if (!b->len)
    return NULL;
  char *s = strndup(b->ptr, b->len);
  return s;
}

/* The first evidence line as the summary, without its "PROPERTY: " (the
 * reporters name the property already). */
static char *first_line(const struct edn_buf *b, size_t at, const char *prop) {
  if (at >= b->len)
    return NULL;
  const char *p = b->ptr + at, *end = b->ptr + b->len;
  size_t plen = prop ? strlen(prop) : 0;
  if (prop && (size_t)(end - p) > plen + 2 && !memcmp(p, prop, plen) &&
      p[plen] == ':' &&
      p[plen + 1] == ' ')
    p += plen + 2;
  const char *nl = memchr(p, '\n', (size_t)(end - p));
  return strndup(p, nl ? (size_t)(nl - p) : (size_t)(end - p));
}

static void fill_result(struct engine *e) {
  struct scenario_result *r = e->r;
  r->steps.verdict = e->steps_failed ? VERDICT_FAIL : VERDICT_PASS;
  if (e->steps_failed)
    r->steps.summary = first_line(&e->steps_ev, 0, NULL);
  else if (asprintf(&r->steps.summary, "%zu steps", e->s->nsteps) < 0)
    r->steps.summary = NULL;
  r->steps.evidence = buf_take(&e->steps_ev);
  for (int p = 0; p < PROP_COUNT; p++) {
    struct check_result *c = &r->props[p];
    if (!engine_listed(e, (enum property)p)) {
      c->verdict = VERDICT_SKIP;
      continue;
    }
    c->verdict = e->fail[p] ? VERDICT_FAIL : VERDICT_PASS;
    c->ms = e->ms[p];
    if (e->fail[p]) {
      c->summary = first_line(&e->ev[p], e->fail_at[p],
                              property_name((enum property)p));
    } else {
      c->summary = e->sum[p];
      e->sum[p] = NULL;
    }
  }
  engine_outcomes(e);
  for (int p = 0; p < PROP_COUNT; p++)
    if (engine_listed(e, (enum property)p))
      r->props[p].evidence = buf_take(&e->ev[p]);
}

static void progress(struct engine *e, size_t i) {
  if (!e->o->progress)
    return;
  fprintf(e->o->progress, "\r\033[K%s: step %zu/%zu", e->s->name, i + 1,
          e->s->nsteps);
  fflush(e->o->progress);
}

static void run_steps(struct engine *e) {
  for (size_t i = 0; i < e->s->nsteps; i++) {
    progress(e, i);
    int rc = drive_step(e, i);
    /* what this step spawned exists now: the next refresh learns pids */
    for (size_t k = 0; k < e->nnodes; k++)
      if (e->nodes[k].t->spawn_step == (long)i &&
          e->nodes[k].state == NODE_PENDING) {
        e->nodes[k].state = NODE_ALIVE;
        e->map_dirty = true;
      }
    if (rc == 0 && e->s->steps[i].scan_after)
      audit_leftovers(e, i);
    if (rc == 0)
      continue;
    if (rc == -EINTR)
      engine_step_fail(e, "interrupted at step %zu", i + 1);
    e->r->failed_step = (long)i;
    break;
  }
  if (e->o->progress) {
    fprintf(e->o->progress, "\r\033[K");
    fflush(e->o->progress);
  }
}

/* SIGCONT what the scenario left stopped: the end needs a running tree. */
static void release_all(struct engine *e) {
  for (size_t i = 0; i < e->nnodes; i++)
    if (e->nodes[i].held) {
      htrace_signal(e, e->nodes[i].t, e->nodes[i].pid, SIGCONT, "end");
      kill(e->nodes[i].pid, SIGCONT);
      e->nodes[i].held = false;
    }
}

static void run_audits(struct engine *e) {
  bool alive = !e->interrupted && proc_alive(e->root_pid, e->root_start);
  if (!e->mapped) { /* without pids there is nothing to judge them on */
    for (int p = PROP_ISOLATION; p <= PROP_CONTAINMENT; p++)
      if (engine_listed(e, (enum property)p))
        engine_fail(e, (enum property)p, "%s: cannot be judged: the tree "
                    "never answered the harness's first :inspect",
                    property_name((enum property)p));
    return;
  }
  if (engine_listed(e, PROP_ISOLATION)) {
    if (alive && engine_ensure_map(e, engine_now_ms() +
                                          (double)e->s->timeout_ms) == 0) {
      double t = engine_now_ms();
      audit_isolation(e, "at the end");
      e->ms[PROP_ISOLATION] += engine_now_ms() - t;
    }
  }
  if (engine_listed(e, PROP_BACKPRESSURE)) {
    double t = engine_now_ms();
    if (alive)
      audit_backpressure(e);
    else
      engine_fail(e, PROP_BACKPRESSURE, "backpressure: cannot be judged: the "
                  "tree is gone before the end of the scenario");
    e->ms[PROP_BACKPRESSURE] += engine_now_ms() - t;
  }
  if (engine_listed(e, PROP_CONTAINMENT) && !e->ncrashes && !e->fail[PROP_CONTAINMENT])
    engine_fail(e, PROP_CONTAINMENT, "containment: the scenario has no crash "
                "step (a :panic sent or a kill) to judge");
}

int run_scenario(const struct scenario *s, const struct run_opts *o,
                 struct scenario_result *r) {
  double t0 = engine_now_ms();
  memset(r, 0, sizeof *r);
  r->scenario = s;
  r->failed_step = -1;
  struct engine e;
  struct edn_buf spec = {0};
  char err[512] = "";

  if (engine_init(&e, s, o, r) < 0) {
    snprintf(err, sizeof err, "out of memory");
    goto fail;
  }
  if (g_intr[0] < 0 && pipe2(g_intr, O_CLOEXEC | O_NONBLOCK) < 0)
    g_intr[0] = g_intr[1] = -1;
  signal(SIGPIPE, SIG_IGN); /* a dead root's stdin gives EPIPE, not death */
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  edn_value *sv = scenario_node_spec(e.arena, s->root);
  /* NUL-terminated: it becomes an argv string */
  if (!sv || edn_print(&spec, sv) < 0 || edn_buf_append(&spec, "", 1) < 0) {
    snprintf(err, sizeof err, "out of memory");
    goto fail;
  }
  pthread_mutex_lock(&g_roots_lock);
  g_active++;
  pthread_mutex_unlock(&g_roots_lock);
  int lrc = launch_root(&e, spec.ptr, spec.len - 1, err, sizeof err);
  if (lrc == -1) {
    pthread_mutex_lock(&g_roots_lock);
    g_active--;
    pthread_mutex_unlock(&g_roots_lock);
    goto fail;
  }
  roots_add(e.root_pid);
  e.root_registered = true;
  htrace_open(&e);
  if (lrc == 0) {
    if (engine_refresh(&e, engine_now_ms() + (double)s->timeout_ms) == 0) {
      e.mapped = true;
      if (engine_listed(&e, PROP_ISOLATION)) {
        double t = engine_now_ms();
        audit_isolation(&e, "at the start");
        e.ms[PROP_ISOLATION] += engine_now_ms() - t;
      }
      run_steps(&e);
    } else {
      r->failed_step = 0;
    }
    release_all(&e);
    run_audits(&e);
  } else {
    engine_step_fail(&e, "launch: %s", err);
  }
  double t = engine_now_ms();
  audit_cascade_end(&e); /* always: nothing is ever left behind */
  htrace_root_exited(&e);
  e.ms[PROP_CASCADE] += engine_now_ms() - t;
  if (e.root_registered) {
    roots_del(e.root_pid);
    e.root_registered = false;
  }
  t = engine_now_ms();
  audit_replies_end(&e);
  e.ms[PROP_REPLIES] += engine_now_ms() - t;
  if (e.interrupted)
    engine_step_fail(&e, "interrupted by signal %d: the tree was killed",
                     run_interrupted());
  if (e.internal_error)
    engine_step_fail(&e, "harness: out of memory while running");
  pthread_mutex_lock(&g_roots_lock);
  g_active--;
  pthread_mutex_unlock(&g_roots_lock);
  fill_result(&e);
  htrace_verdict(&e);
  engine_free(&e);
  edn_buf_free(&spec);
  r->ms = engine_now_ms() - t0;
  return 0;
fail:
  r->steps.verdict = VERDICT_FAIL;
  r->steps.summary = strdup(err[0] ? err : "internal error");
  engine_free(&e);
  edn_buf_free(&spec);
  r->ms = engine_now_ms() - t0;
  return -1;
}

void scenario_result_free(struct scenario_result *r) {
  free(r->steps.summary);
  free(r->steps.evidence);
  for (int p = 0; p < PROP_COUNT; p++) {
    free(r->props[p].summary);
    free(r->props[p].evidence);
  }
  for (size_t i = 0; i < r->nnodes; i++)
    free(r->nodes[i].path);
  free(r->nodes);
  memset(r, 0, sizeof *r);
}

bool scenario_result_passed(const struct scenario_result *r) {
  if (r->steps.verdict != VERDICT_PASS)
    return false;
  for (int p = 0; p < PROP_COUNT; p++)
    if (r->props[p].verdict == VERDICT_FAIL)
      return false;
  return true;
}
