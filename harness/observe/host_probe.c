/* host_probe.c — a far host's process tree through its probe (`watvm
 * --probe` over the channel of host_ssh.c): opening and closing a far
 * host, and each question (:ps, :fds, :signal) with its reply turned into
 * the structs of proctree.h, as the local backend fills them. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_internal.h"

enum {
  HOST_DEFAULT_TIMEOUT_MS = 10000,
  HOST_CLOSE_GRACE_MS = 2000 /* ssh's time to exit after the probe's EOF */
};

static void host_free(struct host *h) {
  proctree_free(&h->seen);
  free((char *)h->name);
  free(h->buf);
  edn_arena_free(h->arena);
  free(h);
}

static struct host *host_new(const struct host_options *o) {
  struct host *h = calloc(1, sizeof *h);
  if (!h)
    return NULL;
  h->to_fd = h->from_fd = h->err_fd = -1;
  h->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : HOST_DEFAULT_TIMEOUT_MS;
  h->name = strdup(o->dest);
  h->arena = edn_arena_new();
  if (!h->name || !h->arena) {
    host_free(h);
    return NULL;
  }
  return h;
}

int host_open(const struct host_options *o, struct host **out, char *err,
              size_t errlen) {
  *out = NULL;
  struct host *h = o->dest && o->dest[0] ? host_new(o) : NULL;
  if (!h) {
    snprintf(err, errlen, "%s: %s", o->dest ? o->dest : "(null)",
             o->dest && o->dest[0] ? "out of memory" : "no destination");
    return -1;
  }
  /* The first :ps proves the probe answers and tells its pid. */
  struct proc_table t = {0};
  int rc = ssh_start(h, o);
  if (rc == 0)
    rc = probe_scan(h, &t);
  proctree_free(&t);
  if (rc < 0) {
    snprintf(err, errlen, "%s", h->error);
    ssh_stop(h, 0); /* it failed or said nothing: no grace to give */
    host_free(h);
    return -1;
  }
  *out = h;
  return 0;
}

void host_close(struct host *h) {
  if (!h || h->local)
    return;
  ssh_stop(h, HOST_CLOSE_GRACE_MS);
  host_free(h);
}

pid_t host_probe_ppid(const struct host *h) {
  return h->local ? 0 : h->probe_ppid;
}

int probe_reply_error(struct host *h, const edn_value *r) {
  const edn_value *e = edn_map_getk(r, "error");
  if (!e)
    return 0;
  const edn_value *type = edn_map_getk(e, "type");
  const edn_value *msg = edn_map_getk(e, "message");
  snprintf(h->error, sizeof h->error, "%s: the probe: %s", h->name,
           msg && msg->type == EDN_STRING ? msg->u.text.ptr : "an error");
  if (edn_is_keyword(type, "wat/no-such-process"))
    return -ESRCH;
  if (edn_is_keyword(type, "wat/no-such-dir") || edn_is_keyword(type, "wat/no-such-file"))
    return -ENOENT;
  if (edn_is_keyword(type, "wat/bad-request") || edn_is_keyword(type, "wat/refused"))
    return -EINVAL;
  return -EIO;
}

static long long int_at(const edn_value *m, const char *kw, long long dflt) {
  const edn_value *v = edn_map_getk(m, kw);
  return v && v->type == EDN_INT ? v->u.integer : dflt;
}

static int bad_reply(struct host *h, const char *what) {
  snprintf(h->error, sizeof h->error, "%s: the probe's reply has no %s",
           h->name, what);
  return -EPROTO;
}

/* One :procs entry {:pid :ppid :pgid :state "S" :start T :comm "..."}. */
static int proc_from(const edn_value *m, struct proc_info *p) {
  const edn_value *state = edn_map_getk(m, "state");
  const edn_value *comm = edn_map_getk(m, "comm");
  memset(p, 0, sizeof *p);
  p->pid = (pid_t)int_at(m, "pid", 0);
  if (m->type != EDN_MAP || p->pid <= 0)
    return -1;
  p->ppid = (pid_t)int_at(m, "ppid", 0);
  p->pgid = (pid_t)int_at(m, "pgid", 0);
  p->start = (unsigned long long)int_at(m, "start", 0);
  p->state = state && state->type == EDN_STRING && state->u.text.len ? state->u.text.ptr[0] : '?';
  if (comm && comm->type == EDN_STRING)
    snprintf(p->comm, sizeof p->comm, "%s", comm->u.text.ptr);
  return 0;
}

static int cmp_pid(const void *a, const void *b) {
  const struct proc_info *x = a, *y = b;
  return (x->pid > y->pid) - (x->pid < y->pid);
}

/* Ask :ps: 0 with *procs (in h->arena), learning the probe's pid and its
 * parent's on the way, or -errno. */
static int ask_ps(struct host *h, const edn_value **procs) {
  edn_value *r;
  int rc = ssh_ask(h, ":op :ps", &r);
  if (rc < 0 || (rc = probe_reply_error(h, r)) < 0)
    return rc;
  *procs = edn_map_getk(r, "procs");
  if (!*procs || (*procs)->type != EDN_VECTOR)
    return bad_reply(h, ":procs");
  h->probe_pid = (pid_t)int_at(r, "self", 0);
  for (size_t i = 0; i < (*procs)->u.seq.len; i++)
    if (int_at((*procs)->u.seq.items[i], "pid", 0) == h->probe_pid)
      h->probe_ppid = (pid_t)int_at((*procs)->u.seq.items[i], "ppid", 0);
  return 0;
}

int probe_scan(struct host *h, struct proc_table *t) {
  const edn_value *procs;
  int rc = ask_ps(h, &procs);
  if (rc < 0)
    return rc;
  size_t n = procs->u.seq.len;
  if (n > t->cap) {
    struct proc_info *v = realloc(t->v, n * sizeof *v);
    if (!v)
      return -ENOMEM;
    t->v = v, t->cap = n;
  }
  t->n = 0;
  for (size_t i = 0; i < n; i++)
    if (proc_from(procs->u.seq.items[i], &t->v[t->n]) == 0)
      t->n++;
  qsort(t->v, t->n, sizeof *t->v, cmp_pid);
  return 0;
}

long probe_rss_kb(struct host *h, pid_t pid) {
  const edn_value *procs;
  if (ask_ps(h, &procs) < 0)
    return -1;
  for (size_t i = 0; i < procs->u.seq.len; i++)
    if (int_at(procs->u.seq.items[i], "pid", 0) == pid)
      return (long)int_at(procs->u.seq.items[i], "rss-kb", -1);
  return -1;
}

/* [FD KIND X] → an fd_entry whose text is what readlink would say here. */
static int fd_from(const edn_value *v, struct fd_entry *f) {
  if (v->type != EDN_VECTOR || v->u.seq.len != 3 ||
      v->u.seq.items[0]->type != EDN_INT || v->u.seq.items[1]->type != EDN_KEYWORD)
    return -1;
  const edn_value *kind = v->u.seq.items[1], *x = v->u.seq.items[2];
  const char *s = x->type == EDN_STRING ? x->u.text.ptr : "";
  memset(f, 0, sizeof *f);
  f->fd = (int)v->u.seq.items[0]->u.integer;
  if (edn_is_keyword(kind, "pipe") || edn_is_keyword(kind, "socket")) {
    f->kind = edn_is_keyword(kind, "pipe") ? FD_PIPE : FD_SOCKET;
    f->ino = x->type == EDN_INT ? (unsigned long long)x->u.integer : 0;
    snprintf(f->text, sizeof f->text, "%s:[%llu]", kind->u.text.ptr, f->ino);
  } else if (edn_is_keyword(kind, "anon")) {
    f->kind = FD_ANON;
    snprintf(f->text, sizeof f->text, "anon_inode:[%s]", s);
  } else {
    f->kind = edn_is_keyword(kind, "file") ? FD_FILE : FD_OTHER;
    snprintf(f->text, sizeof f->text, "%s", s);
  }
  return 0;
}

int probe_fds(struct host *h, pid_t pid, struct fd_list *l) {
  char body[64];
  snprintf(body, sizeof body, ":op :fds :pid %d", (int)pid);
  edn_value *r;
  l->n = 0;
  int rc = ssh_ask(h, body, &r);
  if (rc < 0 || (rc = probe_reply_error(h, r)) < 0)
    return rc == -ESRCH ? -ENOENT : rc; /* as proctree_fds: gone */
  const edn_value *fds = edn_map_getk(r, "fds");
  if (!fds || fds->type != EDN_VECTOR)
    return bad_reply(h, ":fds");
  if (fds->u.seq.len > l->cap) {
    struct fd_entry *v = realloc(l->v, fds->u.seq.len * sizeof *v);
    if (!v)
      return -ENOMEM;
    l->v = v, l->cap = fds->u.seq.len;
  }
  for (size_t i = 0; i < fds->u.seq.len; i++)
    if (fd_from(fds->u.seq.items[i], &l->v[l->n]) == 0)
      l->n++;
  return 0;
}

/* The probe's name for `sig`, or NULL when it does not deliver it. */
static const char *signal_name(int sig) {
  static const struct {
    int sig;
    const char *name;
  } names[] = {{SIGKILL, "KILL"}, {SIGTERM, "TERM"}, {SIGSTOP, "STOP"},
               {SIGCONT, "CONT"}, {SIGINT, "INT"},   {SIGHUP, "HUP"}};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (names[i].sig == sig)
      return names[i].name;
  return NULL;
}

int probe_signal(struct host *h, pid_t pid, unsigned long long start, int sig) {
  const char *name = signal_name(sig);
  if (!name) {
    snprintf(h->error, sizeof h->error, "%s: the probe cannot send signal %d",
             h->name, sig);
    return -EINVAL;
  }
  struct proc_info pi;
  if (!start && host_read(h, pid, &pi) == 0)
    start = pi.start; /* "any process with that pid": the one there now */
  char body[128];
  snprintf(body, sizeof body, ":op :signal :pid %d :start %llu :signal \"%s\"",
           (int)pid, start, name);
  edn_value *r;
  int rc = ssh_ask(h, body, &r);
  if (rc < 0 || (rc = probe_reply_error(h, r)) < 0)
    return rc;
  return 0;
}
