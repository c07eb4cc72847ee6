/* audit_isolation.c — the isolation property, read from /proc/PID/fd of
 * every node while the tree is quiet: each node holds exactly its three
 * stdio pipes plus three parent-side ends per child it has not reaped, and
 * otherwise only anon inodes (epoll, signalfd, timerfd, eventfd, pidfd; and
 * its trace file while tracing); each pipe inode joins exactly one
 * parent-child edge; each node leads its own process group. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"

#define QUIET_MS 500 /* re-read for up to this long until two readings agree */

struct snap_node {
  struct live_node *ln;
  struct fd_list fds;
  struct proc_info pi;
  size_t nchildren; /* in /proc, zombies included */
  bool gone;
};

struct snapshot {
  struct snap_node *v;
  size_t n;
  long *index; /* node table index -> snapshot index, or -1 */
  struct edge *edges; /* every node's stdio inodes, sorted by inode */
  size_t nedges;
};

/* A child's stdio pipe: the inode and the snapshot index of its parent. */
struct edge {
  unsigned long long ino;
  long parent;
};

static void snap_free(struct snapshot *s) {
  for (size_t i = 0; i < s->n; i++)
    fd_list_free(&s->v[i].fds);
  free(s->v);
  free(s->index);
  free(s->edges);
  memset(s, 0, sizeof *s);
}

static int snap_read(struct engine *e, struct snapshot *s) {
  struct proc_table pt = {0};
  if (proctree_scan(&pt) < 0)
    return -1;
  s->v = calloc(e->nnodes ? e->nnodes : 1, sizeof *s->v);
  s->index = malloc((e->nnodes ? e->nnodes : 1) * sizeof *s->index);
  if (!s->v || !s->index) {
    proctree_free(&pt);
    return -1;
  }
  for (size_t i = 0; i < e->nnodes; i++) {
    struct live_node *ln = &e->nodes[i];
    s->index[i] = -1;
    if (ln->state != NODE_ALIVE || !ln->pid)
      continue;
    s->index[i] = (long)s->n;
    struct snap_node *sn = &s->v[s->n++];
    sn->ln = ln;
    const struct proc_info *pi = proctree_find(&pt, ln->pid);
    if (!pi || (ln->start && pi->start != ln->start) ||
        proctree_fds(ln->pid, &sn->fds) < 0) {
      sn->gone = true;
      continue;
    }
    sn->pi = *pi;
    sn->nchildren = proctree_nchildren(&pt, ln->pid);
  }
  proctree_free(&pt);
  return 0;
}

static bool snap_equal(const struct snapshot *a, const struct snapshot *b) {
  if (a->n != b->n)
    return false;
  for (size_t i = 0; i < a->n; i++) {
    const struct snap_node *x = &a->v[i], *y = &b->v[i];
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

/* Every pipe fd of the snapshot, sorted by inode: who holds each inode. */
struct holder {
  unsigned long long ino;
  size_t node; /* index into the snapshot */
  int fd;
};

static int cmp_holder(const void *a, const void *b) {
  const struct holder *x = a, *y = b;
  if (x->ino != y->ino)
    return x->ino < y->ino ? -1 : 1;
  return (x->node > y->node) - (x->node < y->node);
}

static size_t holders_of(const struct holder *h, size_t n,
                         unsigned long long ino, size_t *first) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (h[mid].ino < ino)
      lo = mid + 1;
    else
      hi = mid;
  }
  *first = lo;
  size_t k = 0;
  while (lo + k < n && h[lo + k].ino == ino)
    k++;
  return k;
}

static const struct fd_entry *fd_at(const struct snap_node *sn, int fd) {
  for (size_t k = 0; k < sn->fds.n; k++)
    if (sn->fds.v[k].fd == fd)
      return &sn->fds.v[k];
  return NULL;
}

static bool trace_file_ok(const struct engine *e, const struct snap_node *sn,
                          const struct fd_entry *f) {
  if (!e->o->trace_dir || f->kind != FD_FILE)
    return false;
  char dir[PATH_MAX], want[PATH_MAX + 32];
  if (!realpath(e->o->trace_dir, dir))
    return false;
  snprintf(want, sizeof want, "%s/%d.ednl", dir, (int)sn->ln->pid);
  return !strcmp(f->text, want);
}

/* The snapshot index of `t`, or -1 (through the node table's order). */
static long snap_index(struct engine *e, const struct snapshot *s,
                       const struct tree_node *t) {
  struct live_node *ln = engine_live(e, t);
  return ln && s->index ? s->index[ln - e->nodes] : -1;
}

/* fds 0..2 of `sn`: pipes whose other ends the parent (or the harness,
 * for the root) holds exactly once, and nobody else. */
static size_t judge_stdio(struct engine *e, const struct snapshot *s,
                          const struct snap_node *sn, const struct holder *h,
                          size_t nh, const char *when) {
  static const char *names[] = {"stdin", "stdout", "stderr"};
  const unsigned long long root_ino[3] = {e->in_ino, e->out_ino, e->err_ino};
  const struct tree_node *t = sn->ln->t;
  long parent = t->parent ? snap_index(e, s, t->parent) : -1;
  size_t bad = 0;
  for (int fd = 0; fd < 3; fd++) {
    const struct fd_entry *f = fd_at(sn, fd);
    if (!f || f->kind != FD_PIPE) {
      engine_fail(e, PROP_ISOLATION, "isolation: %s: %s (pid %d) fd %d "
                  "(%s) is %s, not a pipe", when, t->path, (int)sn->ln->pid, fd,
                  names[fd], f ? f->text : "closed");
      bad++;
      continue;
    }
    int flags = proctree_fd_flags(sn->ln->pid, fd);
    int want = fd == 0 ? O_RDONLY : O_WRONLY;
    if (flags >= 0 && (flags & O_ACCMODE) != want) {
      engine_fail(e, PROP_ISOLATION, "isolation: %s: %s (pid %d) fd %d (%s) "
                  "is the %s end of pipe:[%llu]", when, t->path,
                  (int)sn->ln->pid, fd, names[fd],
                  fd == 0 ? "write" : "read", f->ino);
      bad++;
    }
    if (!t->parent && f->ino != root_ino[fd]) {
      engine_fail(e, PROP_ISOLATION, "isolation: %s: %s (pid %d) fd %d is "
                  "pipe:[%llu], not the harness's %s pipe:[%llu]", when,
                  t->path, (int)sn->ln->pid, fd, f->ino, names[fd],
                  root_ino[fd]);
      bad++;
    }
    size_t first, k = holders_of(h, nh, f->ino, &first);
    for (size_t j = first; j < first + k; j++) {
      const struct snap_node *o = &s->v[h[j].node];
      if (o == sn && h[j].fd == fd)
        continue;
      if ((long)h[j].node == parent && k == 2)
        continue; /* the parent's one end of this edge */
      engine_fail(e, PROP_ISOLATION, "isolation: %s: pipe:[%llu], %s's fd %d "
                  "(%s, pid %d), is also held by %s (pid %d) as fd %d",
                  when, f->ino, t->path, fd, names[fd], (int)sn->ln->pid,
                  o->ln->t->path, (int)o->ln->pid, h[j].fd);
      bad++;
    }
    if (t->parent && parent >= 0 && k < 2) {
      engine_fail(e, PROP_ISOLATION, "isolation: %s: pipe:[%llu], %s's fd %d "
                  "(%s, pid %d), is not held by its parent %s", when, f->ino,
                  t->path, fd, names[fd], (int)sn->ln->pid,
                  t->parent->path);
      bad++;
    }
  }
  return bad;
}

static int cmp_edge(const void *a, const void *b) {
  const struct edge *x = a, *y = b;
  return (x->ino > y->ino) - (x->ino < y->ino);
}

/* Index every node's stdio inodes by the parent that should hold them. */
static int index_edges(struct engine *e, struct snapshot *s) {
  s->edges = calloc(3 * s->n + 1, sizeof *s->edges);
  if (!s->edges)
    return -1;
  for (size_t i = 0; i < s->n; i++) {
    const struct snap_node *c = &s->v[i];
    if (c->gone || !c->ln->t->parent)
      continue;
    long parent = snap_index(e, s, c->ln->t->parent);
    for (int fd = 0; fd < 3; fd++) {
      const struct fd_entry *f = fd_at(c, fd);
      if (f && f->kind == FD_PIPE)
        s->edges[s->nedges++] = (struct edge){f->ino, parent};
    }
  }
  qsort(s->edges, s->nedges, sizeof *s->edges, cmp_edge);
  return 0;
}

/* True when `ino` is one of the stdio pipes of a child of node `self`. */
static bool child_edge(const struct snapshot *s, long self,
                       unsigned long long ino) {
  struct edge key = {ino, 0};
  const struct edge *hit =
      bsearch(&key, s->edges, s->nedges, sizeof key, cmp_edge);
  return hit && hit->parent == self;
}

static size_t judge_node(struct engine *e, const struct snapshot *s,
                         const struct snap_node *sn, const char *when) {
  const struct tree_node *t = sn->ln->t;
  pid_t pid = sn->ln->pid;
  size_t bad = 0, pipes = 0;
  if (sn->pi.pgid != pid) {
    engine_fail(e, PROP_ISOLATION, "isolation: %s: %s (pid %d) is not its "
                "own process-group leader: pgid %d", when, t->path, (int)pid,
                (int)sn->pi.pgid);
    bad++;
  }
  for (size_t k = 0; k < sn->fds.n; k++) {
    const struct fd_entry *f = &sn->fds.v[k];
    if (f->kind == FD_ANON || trace_file_ok(e, sn, f))
      continue;
    if (f->kind != FD_PIPE) {
      engine_fail(e, PROP_ISOLATION, "isolation: %s: %s (pid %d) holds fd %d "
                  "-> %s (a %s; only pipes and anon inodes are allowed)",
                  when, t->path, (int)pid, f->fd, f->text,
                  fd_kind_name(f->kind));
      bad++;
      continue;
    }
    pipes++;
    if (f->fd > 2 && !child_edge(s, sn - s->v, f->ino)) {
      engine_fail(e, PROP_ISOLATION, "isolation: %s: %s (pid %d) fd %d "
                  "pipe:[%llu] belongs to no edge of it (not its stdio, not "
                  "a child's)", when, t->path, (int)pid, f->fd, f->ino);
      bad++;
    }
  }
  size_t want = 3 + 3 * sn->nchildren;
  if (pipes != want) {
    engine_fail(e, PROP_ISOLATION, "isolation: %s: %s (pid %d) holds %zu "
                "pipes, expected %zu (3 stdio + 3 per each of its %zu "
                "unreaped children)", when, t->path, (int)pid, pipes, want,
                sn->nchildren);
    bad++;
  }
  return bad;
}

/* Processes under the root that are no node of the scenario. */
static size_t judge_strays(struct engine *e, const struct snapshot *s,
                           const char *when) {
  struct proc_table pt = {0};
  pid_t *d = NULL;
  size_t bad = 0;
  if (proctree_scan(&pt) < 0)
    return 0;
  long n = proctree_descendants(&pt, e->root_pid, &d);
  for (long i = 0; i < n; i++) {
    bool known = false;
    for (size_t j = 0; j < s->n && !known; j++)
      known = s->v[j].ln->pid == d[i];
    const struct proc_info *pi = proctree_find(&pt, d[i]);
    if (!known && pi && pi->state != 'Z') {
      engine_fail(e, PROP_ISOLATION, "isolation: %s: pid %d (parent %d) runs "
                  "under the root but is no node of the scenario", when,
                  (int)d[i], (int)pi->ppid);
      bad++;
    }
  }
  free(d);
  proctree_free(&pt);
  return bad;
}

void audit_isolation(struct engine *e, const char *when) {
  struct snapshot a = {0}, b = {0};
  double until = engine_now_ms() + QUIET_MS;
  if (snap_read(e, &a) < 0)
    goto oom;
  bool quiet = false;
  int readings = 1;
  while (!quiet) {
    readings++;
    if (snap_read(e, &b) < 0)
      goto oom;
    quiet = snap_equal(&a, &b);
    snap_free(&a);
    a = b;
    b = (struct snapshot){0};
    if (quiet || engine_now_ms() > until)
      break;
    engine_pump(e, 20, false);
  }
  if (!quiet)
    engine_note(e, PROP_ISOLATION, "isolation: %s: the tree did not become "
                "quiet within %d ms; judged the last reading", when, QUIET_MS);

  if (index_edges(e, &a) < 0)
    goto oom;
  size_t nh = 0, bad = 0, nodes = 0;
  for (size_t i = 0; i < a.n; i++)
    nh += a.v[i].fds.n;
  struct holder *h = calloc(nh ? nh : 1, sizeof *h);
  if (!h)
    goto oom;
  nh = 0;
  for (size_t i = 0; i < a.n; i++)
    for (size_t k = 0; k < a.v[i].fds.n; k++)
      if (a.v[i].fds.v[k].kind == FD_PIPE)
        h[nh++] = (struct holder){a.v[i].fds.v[k].ino, i, a.v[i].fds.v[k].fd};
  qsort(h, nh, sizeof *h, cmp_holder);
  for (size_t i = 0; i < a.n; i++) {
    if (a.v[i].gone)
      continue; /* exited meanwhile: cascade and containment judge that */
    nodes++;
    bad += judge_node(e, &a, &a.v[i], when);
    bad += judge_stdio(e, &a, &a.v[i], h, nh, when);
  }
  bad += judge_strays(e, &a, when);
  if (!e->fail[PROP_ISOLATION])
    engine_summary(e, PROP_ISOLATION, "%zu nodes, %zu pipe fds checked (%s, "
                   "%d readings of /proc)", nodes, nh, when, readings);
  (void)bad;
  free(h);
  snap_free(&a);
  return;
oom:
  snap_free(&a);
  snap_free(&b);
  engine_fail(e, PROP_ISOLATION, "isolation: %s: cannot read /proc", when);
}
