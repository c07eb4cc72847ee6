/* hosts.c — the hosts a scenario's tree runs on. Every node with a
 * `host:` (and everything below it, unless it names another) runs on that
 * host, where local /proc means nothing: the engine opens a probe there
 * (observe/host.h) before the root starts, and every question about such
 * a node goes to its host. A host that cannot be probed fails the run: a
 * tree that cannot be judged there must not pass. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static bool known(const struct engine *e, const char *dest) {
  for (size_t i = 0; i < e->nhosts; i++)
    if (!strcmp(e->hosts[i].dest, dest))
      return true;
  return false;
}

/* Every distinct destination in t's subtree, into e->hosts (not opened). */
static int collect(struct engine *e, const struct tree_node *t) {
  const char *d = node_host(t);
  if (d && !known(e, d)) {
    struct far_host *v = realloc(e->hosts, (e->nhosts + 1) * sizeof *v);
    if (!v)
      return -1;
    e->hosts = v;
    e->hosts[e->nhosts++] = (struct far_host){d, NULL, NULL};
  }
  for (size_t i = 0; i < t->nchildren; i++)
    if (collect(e, t->children[i]) < 0)
      return -1;
  return 0;
}

/* An absolute path whose last part is `watvm`. */
static bool is_watvm(const char *path) {
  const char *base = path ? strrchr(path, '/') : NULL;
  return path && path[0] == '/' && base && !strcmp(base + 1, "watvm");
}

bool engine_node_is_watvm(const struct engine *e) {
  return e->o->node_argv && is_watvm(e->o->node_argv[0]);
}

const char *engine_probe_watvm(const struct engine *e) {
  if (engine_node_is_watvm(e))
    return e->s->remote_watvm ? e->s->remote_watvm : e->o->node_argv[0];
  /* another node program (--node-cmd): it has no --probe; the far
   * nodes run it (remote_watvm, else each parent's own executable) and
   * the probe is a watvm, the harness's own unless remote_watvm is one */
  return is_watvm(e->s->remote_watvm) ? e->s->remote_watvm : e->o->own_watvm;
}

int engine_hosts_open(struct engine *e, char *err, size_t errlen) {
  if (collect(e, e->s->root) < 0) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  const char *watvm = engine_probe_watvm(e);
  if (e->nhosts && !watvm) {
    snprintf(err, errlen, "hosts: the tree runs on %s, but there is no "
             "watvm to probe it with: the node command is none, and none was "
             "found beside treeproof, in its build tree or on PATH",
             e->hosts[0].dest);
    return -1;
  }
  /* TREEPROOF_PROBE_SKIP=DEST: the negative control of this layer — no
   * probe there, so its nodes are looked for in local /proc, and the run
   * must fail (conformance/hosts.c), never pass without judging them */
  const char *skip = getenv("TREEPROOF_PROBE_SKIP");
  for (size_t i = 0; i < e->nhosts; i++) {
    if (skip && !strcmp(skip, e->hosts[i].dest))
      continue;
    struct host_options o = {e->hosts[i].dest, e->s->ssh_config, watvm, 10000};
    char why[400];
    if (host_open(&o, &e->hosts[i].h, why, sizeof why) < 0) {
      snprintf(err, errlen, "host %s: the harness cannot probe it, so it "
               "cannot judge the nodes there: %s", e->hosts[i].dest, why);
      return -1;
    }
  }
  return 0;
}

void engine_hosts_close(struct engine *e) {
  engine_far_trace_drop(e); /* through the probes, before they close */
  for (size_t i = 0; i < e->nhosts; i++)
    if (e->hosts[i].h)
      host_close(e->hosts[i].h);
  free(e->hosts);
  e->hosts = NULL;
  e->nhosts = 0;
  free(e->far);
  e->far = NULL;
  e->nfar = e->capfar = 0;
}

struct host *engine_host(const struct engine *e, const struct tree_node *t) {
  const char *d = node_where(t);
  for (size_t i = 0; d && i < e->nhosts; i++)
    if (!strcmp(e->hosts[i].dest, d) && e->hosts[i].h)
      return e->hosts[i].h;
  return host_local();
}

bool engine_far(const struct engine *e) { return e->nhosts > 0; }

int engine_read_local(const struct engine *e, struct proc_table *t) {
  return proctree_scan_below(t, e->self);
}

int engine_read_hosts(struct engine *e, struct readings *r) {
  r->n = 1 + e->nhosts;
  r->v = calloc(r->n, sizeof *r->v);
  if (!r->v)
    return -1;
  engine_read_local(e, &r->v[0]);
  for (size_t i = 0; i < e->nhosts; i++)
    if (e->hosts[i].h && host_scan(e->hosts[i].h, &r->v[1 + i]) < 0)
      engine_step_fail(e, "tree: the probe on %s does not answer: %s",
                       e->hosts[i].dest, host_error(e->hosts[i].h));
  return 0;
}

const struct proc_table *engine_reading(const struct engine *e,
                                        const struct readings *r,
                                        const struct tree_node *t) {
  struct host *h = engine_host(e, t);
  for (size_t i = 0; i < e->nhosts; i++)
    if (e->hosts[i].h == h)
      return &r->v[1 + i];
  return &r->v[0];
}

void engine_readings_free(struct readings *r) {
  for (size_t i = 0; r->v && i < r->n; i++)
    proctree_free(&r->v[i]);
  free(r->v);
  r->v = NULL;
  r->n = 0;
}

void engine_far_seen(struct engine *e, const struct tree_node *t, pid_t pid,
                     unsigned long long start, bool session) {
  struct host *h = engine_host(e, t);
  for (size_t i = 0; i < e->nfar; i++)
    if (e->far[i].h == h && e->far[i].pid == pid && e->far[i].start == start)
      return;
  if (e->nfar == e->capfar) {
    size_t cap = e->capfar ? e->capfar * 2 : 16;
    struct far_seen *v = realloc(e->far, cap * sizeof *v);
    if (!v)
      return;
    e->far = v;
    e->capfar = cap;
  }
  e->far[e->nfar++] = (struct far_seen){h, pid, start, t, session};
}
