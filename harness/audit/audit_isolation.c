/* audit_isolation.c — the isolation property, read from /proc/PID/fd of
 * every node while the tree is quiet, on the node's own host (through its
 * probe for a far node): each node holds exactly its three stdio pipes
 * plus three parent-side ends per child it has not reaped, and otherwise
 * only anon inodes (epoll, signalfd, timerfd, eventfd, pidfd; and its
 * trace file while tracing); each pipe joins exactly one parent-child
 * edge; each node leads its own process group. Pipes are told apart by
 * host and inode. A hop to another host is an edge with two halves that
 * are no nodes (audit_isolation_hop.c judges them): the node above holds
 * three pipes to its ssh client, the far node three from its sshd
 * session. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define QUIET_MS 500 /* re-read for up to this long until two readings agree */

static void snap_free(struct iso_snapshot *s) {
  for (size_t i = 0; i < s->n; i++)
    fd_list_free(&s->v[i].fds);
  free(s->v);
  free(s->index);
  free(s->edges);
  iso_hop_free(s);
  engine_readings_free(&s->rd);
  memset(s, 0, sizeof *s);
}

/* Node t's place in the snapshot: its host, its process, its fds. */
static void snap_node(struct engine *e, struct iso_snapshot *s,
                      struct iso_node *sn, struct live_node *ln) {
  const struct tree_node *t = ln->t;
  const struct proc_table *pt = engine_reading(e, &s->rd, t);
  sn->ln = ln;
  sn->h = engine_host(e, t);
  sn->hix = (size_t)(pt - s->rd.v);
  sn->hop_top = !t->parent || node_host(t);
  if (node_where(t))
    snprintf(sn->on, sizeof sn->on, " on %s", node_where(t));
  const struct proc_info *pi = proctree_find(pt, ln->pid);
  if (!pi || (ln->start && pi->start != ln->start) ||
      host_fds(sn->h, ln->pid, &sn->fds) < 0) {
    sn->gone = true;
    return;
  }
  sn->pi = *pi;
  sn->nchildren = proctree_nchildren(pt, ln->pid);
}

static int snap_read(struct engine *e, struct iso_snapshot *s) {
  size_t n = e->nnodes ? e->nnodes : 1;
  s->v = calloc(n, sizeof *s->v);
  s->index = malloc(n * sizeof *s->index);
  if (!s->v || !s->index || engine_read_hosts(e, &s->rd) < 0)
    return -1;
  for (size_t i = 0; i < e->nnodes; i++) {
    struct live_node *ln = &e->nodes[i];
    s->index[i] = -1;
    if (ln->state != NODE_ALIVE || !ln->pid)
      continue;
    s->index[i] = (long)s->n;
    snap_node(e, s, &s->v[s->n++], ln);
  }
  return 0;
}

static bool snap_equal(const struct iso_snapshot *a,
                       const struct iso_snapshot *b) {
  if (a->n != b->n)
    return false;
  for (size_t i = 0; i < a->n; i++) {
    const struct iso_node *x = &a->v[i], *y = &b->v[i];
    if (x->ln != y->ln || x->gone != y->gone || x->pi.pgid != y->pi.pgid ||
        x->nchildren != y->nchildren || x->fds.n != y->fds.n)
      return false;
    for (size_t k = 0; k < x->fds.n; k++)
      if (x->fds.v[k].fd != y->fds.v[k].fd ||
          strcmp(x->fds.v[k].text, y->fds.v[k].text))
        return false;
  }
  return true;
}

/* Every pipe fd of the snapshot's nodes, sorted by host and inode: who
 * holds each pipe. */
struct holder {
  struct iso_pipe p;
  size_t node; /* index into the snapshot */
  int fd;
};

static int cmp_pipe(const struct iso_pipe *x, const struct iso_pipe *y) {
  if (x->hix != y->hix)
    return x->hix < y->hix ? -1 : 1;
  return (x->ino > y->ino) - (x->ino < y->ino);
}

static int cmp_holder(const void *a, const void *b) {
  const struct holder *x = a, *y = b;
  int c = cmp_pipe(&x->p, &y->p);
  return c ? c : (x->node > y->node) - (x->node < y->node);
}

static size_t holders_of(const struct holder *h, size_t n,
                         struct iso_pipe p, size_t *first) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (cmp_pipe(&h[mid].p, &p) < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  *first = lo;
  size_t k = 0;
  while (lo + k < n && !cmp_pipe(&h[lo + k].p, &p))
    k++;
  return k;
}

static const struct fd_entry *fd_at(const struct iso_node *sn, int fd) {
  for (size_t k = 0; k < sn->fds.n; k++)
    if (sn->fds.v[k].fd == fd)
      return &sn->fds.v[k];
  return NULL;
}

/* Its own trace file, DIR/PID.ednl: DIR as given, or as this machine
 * resolves it (a local node's --trace DIR); a far node's is its host's
 * trace directory, as that host's probe named it. */
static bool trace_file_ok(const struct engine *e, const struct iso_node *sn,
                          const struct fd_entry *f) {
  const char *tdir = engine_trace_dir(e, sn->ln->t);
  if (!tdir || f->kind != FD_FILE)
    return false;
  char dir[PATH_MAX], want[PATH_MAX + 32];
  snprintf(want, sizeof want, "%s/%d.ednl", tdir, (int)sn->ln->pid);
  if (!strcmp(f->text, want))
    return true;
  if (tdir != e->o->trace_dir || !realpath(tdir, dir))
    return false;
  snprintf(want, sizeof want, "%s/%d.ednl", dir, (int)sn->ln->pid);
  return !strcmp(f->text, want);
}

/* The snapshot index of `t`, or -1 (through the node table's order). */
static long snap_index(struct engine *e, const struct iso_snapshot *s,
                       const struct tree_node *t) {
  struct live_node *ln = engine_live(e, t);
  return ln && s->index ? s->index[ln - e->nodes] : -1;
}

static const char *const stdio_names[] = {"stdin", "stdout", "stderr"};

/* fd `fd` (0..2) of sn is a pipe, the right end of it (read locally: the
 * probe does not report fd flags), and the root's the harness's own. */
static size_t judge_stdio_kind(struct engine *e, const struct iso_node *sn,
                               int fd, const char *when) {
  const unsigned long long root_ino[3] = {e->in_ino, e->out_ino, e->err_ino};
  const struct tree_node *t = sn->ln->t;
  const struct fd_entry *f = fd_at(sn, fd);
  if (!f || f->kind != FD_PIPE) {
    engine_fail(e, PROP_ISOLATION, "isolation: %s: %s (pid %d%s) fd %d "
                "(%s) is %s, not a pipe", when, t->path, (int)sn->ln->pid,
                sn->on, fd, stdio_names[fd], f ? f->text : "closed");
    return 1;
  }
  int flags = sn->hix ? -1 : proctree_fd_flags(sn->ln->pid, fd);
  int want = fd == 0 ? O_RDONLY : O_WRONLY;
  if (flags >= 0 && (flags & O_ACCMODE) != want) {
    engine_fail(e, PROP_ISOLATION, "isolation: %s: %s (pid %d) fd %d (%s) "
                "is the %s end of pipe:[%llu]", when, t->path,
                (int)sn->ln->pid, fd, stdio_names[fd],
                fd == 0 ? "write" : "read", f->ino);
    return 1;
  }
  if (!t->parent && f->ino != root_ino[fd]) {
    engine_fail(e, PROP_ISOLATION, "isolation: %s: %s (pid %d) fd %d is "
                "pipe:[%llu], not the harness's %s pipe:[%llu]", when,
                t->path, (int)sn->ln->pid, fd, f->ino, stdio_names[fd],
                root_ino[fd]);
    return 1;
  }
  return 0;
}

/* fds 0..2 of `sn`: pipes whose other ends its parent holds exactly once
 * and nobody else (for the root and a far node: no node at all — the
 * harness, or the sshd session, which audit_isolation_hop.c checks). */
static size_t judge_stdio(struct engine *e, const struct iso_snapshot *s,
                          const struct iso_node *sn, const struct holder *h,
                          size_t nh, const char *when) {
  const struct tree_node *t = sn->ln->t;
  long parent = sn->hop_top ? -1 : snap_index(e, s, t->parent);
  size_t bad = 0;
  for (int fd = 0; fd < 3; fd++) {
    if (judge_stdio_kind(e, sn, fd, when)) {
      bad++;
      continue;
    }
    const struct fd_entry *f = fd_at(sn, fd);
    size_t first, k = holders_of(h, nh, (struct iso_pipe){sn->hix, f->ino},
                                 &first);
    for (size_t j = first; j < first + k; j++) {
      const struct iso_node *o = &s->v[h[j].node];
      if (o == sn && h[j].fd == fd)
        continue;
      if ((long)h[j].node == parent && k == 2)
        continue; /* the parent's one end of this edge */
      engine_fail(e, PROP_ISOLATION, "isolation: %s: pipe:[%llu]%s, %s's fd "
                  "%d (%s, pid %d), is also held by %s (pid %d) as fd %d",
                  when, f->ino, sn->on, t->path, fd, stdio_names[fd],
                  (int)sn->ln->pid, o->ln->t->path, (int)o->ln->pid, h[j].fd);
      bad++;
    }
    if (parent >= 0 && k < 2) {
      engine_fail(e, PROP_ISOLATION, "isolation: %s: pipe:[%llu]%s, %s's fd "
                  "%d (%s, pid %d), is not held by its parent %s", when,
                  f->ino, sn->on, t->path, fd, stdio_names[fd],
                  (int)sn->ln->pid, t->parent->path);
      bad++;
    }
  }
  return bad;
}

int iso_add_edge(struct iso_snapshot *s, struct iso_pipe p, long parent) {
  if (s->nedges == s->capedges) {
    size_t cap = s->capedges ? 2 * s->capedges : 64;
    struct iso_edge *v = realloc(s->edges, cap * sizeof *v);
    if (!v)
      return -1;
    s->edges = v;
    s->capedges = cap;
  }
  s->edges[s->nedges++] = (struct iso_edge){p, parent};
  return 0;
}

static int cmp_edge(const void *a, const void *b) {
  return cmp_pipe(&((const struct iso_edge *)a)->p,
                  &((const struct iso_edge *)b)->p);
}

/* Index the pipes of every edge below a node by the node above: a local
 * child's stdio, and the pipes of each ssh client that carries a far
 * child. */
static int index_edges(struct engine *e, struct iso_snapshot *s) {
  for (size_t i = 0; i < s->n; i++) {
    const struct iso_node *c = &s->v[i];
    if (c->gone)
      continue;
    if (iso_hop_edges(s, (long)i) < 0)
      return -1;
    if (c->hop_top)
      continue;
    long parent = snap_index(e, s, c->ln->t->parent);
    for (int fd = 0; fd < 3; fd++) {
      const struct fd_entry *f = fd_at(c, fd);
      if (f && f->kind == FD_PIPE &&
          iso_add_edge(s, (struct iso_pipe){c->hix, f->ino}, parent) < 0)
        return -1;
    }
  }
  if (s->nedges)
    qsort(s->edges, s->nedges, sizeof *s->edges, cmp_edge);
  return 0;
}

/* True when pipe `p` is one of the edges below node `self`. */
static bool child_edge(const struct iso_snapshot *s, long self,
                       struct iso_pipe p) {
  struct iso_edge key = {p, 0};
  const struct iso_edge *hit =
      s->nedges ? bsearch(&key, s->edges, s->nedges, sizeof key, cmp_edge)
                : NULL;
  return hit && hit->parent == self;
}

static size_t judge_node(struct engine *e, const struct iso_snapshot *s,
                         const struct iso_node *sn, const char *when) {
  const struct tree_node *t = sn->ln->t;
  pid_t pid = sn->ln->pid;
  size_t bad = 0, pipes = 0;
  if (sn->pi.pgid != pid) {
    engine_fail(e, PROP_ISOLATION, "isolation: %s: %s (pid %d%s) is not its "
                "own process-group leader: pgid %d", when, t->path, (int)pid,
                sn->on, (int)sn->pi.pgid);
    bad++;
  }
  for (size_t k = 0; k < sn->fds.n; k++) {
    const struct fd_entry *f = &sn->fds.v[k];
    if (f->kind == FD_ANON || trace_file_ok(e, sn, f))
      continue;
    if (f->kind != FD_PIPE) {
      engine_fail(e, PROP_ISOLATION, "isolation: %s: %s (pid %d%s) holds fd "
                  "%d -> %s (a %s; only pipes and anon inodes are allowed)",
                  when, t->path, (int)pid, sn->on, f->fd, f->text,
                  fd_kind_name(f->kind));
      bad++;
      continue;
    }
    pipes++;
    if (f->fd > 2 &&
        !child_edge(s, sn - s->v, (struct iso_pipe){sn->hix, f->ino})) {
      engine_fail(e, PROP_ISOLATION, "isolation: %s: %s (pid %d%s) fd %d "
                  "pipe:[%llu] belongs to no edge of it (not its stdio, not "
                  "a child's)", when, t->path, (int)pid, sn->on, f->fd,
                  f->ino);
      bad++;
    }
  }
  size_t want = 3 + 3 * sn->nchildren;
  if (pipes != want) {
    engine_fail(e, PROP_ISOLATION, "isolation: %s: %s (pid %d%s) holds %zu "
                "pipes, expected %zu (3 stdio + 3 per each of its %zu "
                "unreaped children)", when, t->path, (int)pid, sn->on, pipes,
                want, sn->nchildren);
    bad++;
  }
  return bad;
}

bool iso_is_node(const struct iso_snapshot *s, size_t hix, pid_t pid) {
  for (size_t j = 0; j < s->n; j++)
    if (s->v[j].hix == hix && s->v[j].ln->pid == pid)
      return true;
  return false;
}

/* Processes under the top node of a host (the root here, a far node
 * there) that are no node of the scenario, nor an ssh client of one. */
static size_t judge_strays_under(struct engine *e, const struct iso_snapshot *s,
                                 const struct iso_node *top, const char *when) {
  const struct proc_table *pt = &s->rd.v[top->hix];
  pid_t *d = NULL;
  size_t bad = 0;
  long n = proctree_descendants(pt, top->ln->pid, &d);
  for (long i = 0; i < n; i++) {
    const struct proc_info *pi = proctree_find(pt, d[i]);
    if (!pi || pi->state == 'Z' || iso_is_node(s, top->hix, d[i]))
      continue;
    bool client = false;
    for (size_t j = 0; j < s->n && !client; j++)
      client = s->v[j].hix == top->hix && s->v[j].ln->pid == pi->ppid &&
               iso_is_client(&s->v[j], pi);
    if (client)
      continue;
    const struct tree_node *t = top->ln->t;
    engine_fail(e, PROP_ISOLATION, "isolation: %s: pid %d (parent %d)%s runs "
                "under %s%s but is no node of the scenario", when, (int)d[i],
                (int)pi->ppid, top->on, t->parent ? "" : "the root",
                t->parent ? t->path : "");
    bad++;
  }
  free(d);
  return bad;
}

static size_t judge_strays(struct engine *e, const struct iso_snapshot *s,
                           const char *when) {
  size_t bad = 0;
  for (size_t i = 0; i < s->n; i++)
    if (s->v[i].hop_top && !s->v[i].gone)
      bad += judge_strays_under(e, s, &s->v[i], when);
  return bad;
}

/* Two readings that agree (or the last within QUIET_MS) into *a. */
static int read_quiet(struct engine *e, struct iso_snapshot *a,
                      const char *when, int *readings) {
  struct iso_snapshot b = {0};
  double until = engine_now_ms() + QUIET_MS;
  if (snap_read(e, a) < 0)
    return -1;
  bool quiet = false;
  for (*readings = 1; !quiet;) {
    ++*readings;
    if (snap_read(e, &b) < 0) {
      snap_free(&b);
      return -1;
    }
    quiet = snap_equal(a, &b);
    snap_free(a);
    *a = b;
    b = (struct iso_snapshot){0};
    if (quiet || engine_now_ms() > until)
      break;
    engine_pump(e, 20, false);
  }
  if (!quiet)
    engine_note(e, PROP_ISOLATION, "isolation: %s: the tree did not become "
                "quiet within %d ms; judged the last reading", when, QUIET_MS);
  return 0;
}

/* Every pipe fd of every node, sorted: NULL when out of memory. */
static struct holder *holders(const struct iso_snapshot *a, size_t *nh) {
  size_t n = 0;
  for (size_t i = 0; i < a->n; i++)
    n += a->v[i].fds.n;
  struct holder *h = calloc(n ? n : 1, sizeof *h);
  if (!h)
    return NULL;
  n = 0;
  for (size_t i = 0; i < a->n; i++)
    for (size_t k = 0; k < a->v[i].fds.n; k++)
      if (a->v[i].fds.v[k].kind == FD_PIPE)
        h[n++] = (struct holder){{a->v[i].hix, a->v[i].fds.v[k].ino}, i,
                                 a->v[i].fds.v[k].fd};
  qsort(h, n, sizeof *h, cmp_holder);
  *nh = n;
  return h;
}

void audit_isolation(struct engine *e, const char *when) {
  struct iso_snapshot a = {0};
  int readings = 0;
  size_t nh = 0, nodes = 0;
  struct holder *h = NULL;
  if (read_quiet(e, &a, when, &readings) < 0 || index_edges(e, &a) < 0 ||
      !(h = holders(&a, &nh))) {
    snap_free(&a);
    engine_fail(e, PROP_ISOLATION, "isolation: %s: cannot read /proc", when);
    return;
  }
  for (size_t i = 0; i < a.n; i++) {
    if (a.v[i].gone)
      continue; /* exited meanwhile: cascade and containment judge that */
    nodes++;
    judge_node(e, &a, &a.v[i], when);
    judge_stdio(e, &a, &a.v[i], h, nh, when);
  }
  iso_judge_hops(e, &a, when);
  judge_strays(e, &a, when);
  if (!e->fail[PROP_ISOLATION])
    engine_summary(e, PROP_ISOLATION, "%zu nodes, %zu pipe fds checked (%s, "
                   "%d readings of /proc%s)", nodes, nh, when, readings,
                   a.rd.n > 1 ? " on every host" : "");
  free(h);
  snap_free(&a);
}
