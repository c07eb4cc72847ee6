/* audit_isolation_hop.c — isolation at a hop to another host, whose two
 * halves are no nodes: the ssh client, a child of the node above on that
 * node's host, must hold only its end of the edge (three pipes, each held
 * by that node once and by nobody else; ssh keeps its stdio on extra fds
 * and points its own fd 1 at /dev/null), its socket, /dev/null and anon
 * inodes; the far node's stdio pipes must be held by its sshd session,
 * its parent on its host. The session's other fds (its log, its monitor's
 * socket) are sshd's own business and not judged. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static bool has_far_child(const struct tree_node *t) {
  for (size_t i = 0; i < t->nchildren; i++)
    if (node_host(t->children[i]))
      return true;
  return false;
}

bool iso_is_client(const struct iso_node *sn, const struct proc_info *pi) {
  return pi->ppid == sn->ln->pid && !strcmp(pi->comm, "ssh") &&
         has_far_child(sn->ln->t);
}

static int add_client(struct iso_snapshot *s, long self,
                      const struct proc_info *pi) {
  struct iso_client *v =
      realloc(s->clients, (s->nclients + 1) * sizeof *s->clients);
  if (!v)
    return -1;
  s->clients = v;
  struct iso_client *c = &v[s->nclients];
  memset(c, 0, sizeof *c);
  c->node = (size_t)self;
  c->pi = *pi;
  if (host_fds(s->v[self].h, pi->pid, &c->fds) < 0)
    return 0; /* gone meanwhile: topology and cascade judge that */
  s->nclients++;
  for (size_t k = 0; k < c->fds.n; k++) {
    const struct fd_entry *f = &c->fds.v[k];
    bool seen = false;
    for (size_t j = 0; j < k && !seen; j++)
      seen = c->fds.v[j].kind == FD_PIPE && c->fds.v[j].ino == f->ino;
    if (f->kind == FD_PIPE && !seen &&
        iso_add_edge(s, (struct iso_pipe){s->v[self].hix, f->ino}, self) < 0)
      return -1;
  }
  return 0;
}

int iso_hop_edges(struct iso_snapshot *s, long self) {
  const struct iso_node *sn = &s->v[self];
  if (!has_far_child(sn->ln->t))
    return 0;
  const struct proc_table *pt = &s->rd.v[sn->hix];
  for (size_t i = 0; i < pt->n; i++) {
    const struct proc_info *pi = &pt->v[i];
    if (pi->state != 'Z' && iso_is_client(sn, pi) &&
        !iso_is_node(s, sn->hix, pi->pid) && add_client(s, self, pi) < 0)
      return -1;
  }
  return 0;
}

void iso_hop_free(struct iso_snapshot *s) {
  for (size_t i = 0; i < s->nclients; i++)
    fd_list_free(&s->clients[i].fds);
  free(s->clients);
  s->clients = NULL;
  s->nclients = 0;
}

/* How many fds of node sn hold pipe ino. */
static size_t held_by(const struct iso_node *sn, unsigned long long ino) {
  size_t k = 0;
  for (size_t i = 0; i < sn->fds.n; i++)
    k += sn->fds.v[i].kind == FD_PIPE && sn->fds.v[i].ino == ino;
  return k;
}

/* One pipe of client c: its node holds it once, no other node at all. */
static size_t judge_client_pipe(struct engine *e, const struct iso_snapshot *s,
                                const struct iso_client *c,
                                const struct fd_entry *f, const char *when) {
  const struct iso_node *up = &s->v[c->node];
  size_t bad = 0;
  if (held_by(up, f->ino) != 1) {
    engine_fail(e, PROP_ISOLATION, "isolation: %s: pipe:[%llu]%s, fd %d of "
                "an ssh client of %s (pid %d, the near half of a hop), is "
                "held %zu times by %s, not once", when, f->ino, up->on, f->fd,
                up->ln->t->path, (int)c->pi.pid, held_by(up, f->ino),
                up->ln->t->path);
    bad++;
  }
  for (size_t j = 0; j < s->n; j++) {
    const struct iso_node *o = &s->v[j];
    if (o != up && o->hix == up->hix && !o->gone && held_by(o, f->ino)) {
      engine_fail(e, PROP_ISOLATION, "isolation: %s: pipe:[%llu]%s, fd %d of "
                  "an ssh client of %s (pid %d), is also held by %s (pid %d)",
                  when, f->ino, up->on, f->fd, up->ln->t->path,
                  (int)c->pi.pid, o->ln->t->path, (int)o->ln->pid);
      bad++;
    }
  }
  return bad;
}

static size_t judge_client(struct engine *e, const struct iso_snapshot *s,
                           const struct iso_client *c, const char *when) {
  const struct iso_node *up = &s->v[c->node];
  size_t bad = 0, pipes = 0;
  for (size_t k = 0; k < c->fds.n; k++) {
    const struct fd_entry *f = &c->fds.v[k];
    if (f->kind == FD_SOCKET || f->kind == FD_ANON ||
        !strcmp(f->text, "/dev/null"))
      continue;
    if (f->kind != FD_PIPE) {
      engine_fail(e, PROP_ISOLATION, "isolation: %s: an ssh client of %s "
                  "(pid %d%s, the near half of a hop) holds fd %d -> %s (a "
                  "%s; only its edge's pipes, its socket and /dev/null)",
                  when, up->ln->t->path, (int)c->pi.pid, up->on, f->fd,
                  f->text, fd_kind_name(f->kind));
      bad++;
      continue;
    }
    bool seen = false;
    for (size_t j = 0; j < k && !seen; j++)
      seen = c->fds.v[j].kind == FD_PIPE && c->fds.v[j].ino == f->ino;
    if (seen)
      continue;
    pipes++;
    bad += judge_client_pipe(e, s, c, f, when);
  }
  if (pipes != 3) {
    engine_fail(e, PROP_ISOLATION, "isolation: %s: an ssh client of %s (pid "
                "%d%s) holds %zu pipes, expected the 3 of its edge", when,
                up->ln->t->path, (int)c->pi.pid, up->on, pipes);
    bad++;
  }
  return bad;
}

/* Far node sn's stdio pipes are its sshd session's, its parent there. */
static size_t judge_session(struct engine *e, const struct iso_node *sn,
                            const char *when) {
  struct fd_list sess = {0};
  size_t bad = 0;
  if (host_fds(sn->h, sn->pi.ppid, &sess) < 0)
    return 0; /* gone meanwhile: cascade judges a lost edge */
  for (int fd = 0; fd < 3; fd++) {
    const struct fd_entry *f = NULL;
    for (size_t k = 0; k < sn->fds.n && !f; k++)
      if (sn->fds.v[k].fd == fd && sn->fds.v[k].kind == FD_PIPE)
        f = &sn->fds.v[k];
    bool held = false;
    for (size_t k = 0; f && k < sess.n && !held; k++)
      held = sess.v[k].kind == FD_PIPE && sess.v[k].ino == f->ino;
    if (f && !held) {
      engine_fail(e, PROP_ISOLATION, "isolation: %s: pipe:[%llu]%s, %s's fd "
                  "%d (pid %d), is not held by its sshd session (pid %d), the "
                  "far half of its hop", when, f->ino, sn->on,
                  sn->ln->t->path, fd, (int)sn->ln->pid, (int)sn->pi.ppid);
      bad++;
    }
  }
  fd_list_free(&sess);
  return bad;
}

size_t iso_judge_hops(struct engine *e, const struct iso_snapshot *s,
                      const char *when) {
  size_t bad = 0;
  for (size_t i = 0; i < s->nclients; i++)
    bad += judge_client(e, s, &s->clients[i], when);
  for (size_t i = 0; i < s->n; i++)
    if (!s->v[i].gone && s->v[i].hop_top && s->v[i].ln->t->parent)
      bad += judge_session(e, &s->v[i], when);
  return bad;
}
