/* far_trace.c — --trace on other hosts. A far node would append to
 * DIR/PID.ednl on its own host, where DIR may not exist and where, on
 * hosts sharing one filesystem, two hosts' pids would name one file. So
 * each far host gets a private directory of its own, made by its probe
 * before the root starts; the top far node of each subtree on a host
 * carries it in its spec's :env (what ssh will not carry), and every node
 * below it on that host inherits it. After the run each host's files are
 * copied into DIR/HOST/PID.ednl and the far directory removed, whatever
 * the run's outcome (kept, and named, when its files could not all be
 * copied: it is then their only copy). What goes wrong is said in the
 * result's trace_error, never in a verdict. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* A line "on HOST: ..." appended to the result's trace_error. */
static void note(struct engine *e, const char *fmt, ...) {
  char line[1200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  char *old = e->r->trace_error, *s = NULL;
  if (asprintf(&s, "%s%s%s", old ? old : "", old ? "\n" : "", line) < 0)
    return; /* out of memory: the earlier lines stay */
  free(old);
  e->r->trace_error = s;
}

void engine_far_trace_open(struct engine *e) {
  if (!e->o->trace_dir)
    return;
  for (size_t i = 0; i < e->nhosts; i++) {
    struct far_host *f = &e->hosts[i];
    if (f->h && host_trace_mkdir(f->h, &f->trace_dir) < 0)
      note(e, "on %s: no trace directory could be made there, so its nodes "
           "do not trace: %s", f->dest, host_error(f->h));
  }
}

/* The trace directory on host `dest` ("" when it has none: the nodes
 * there then trace nowhere, never into a path of this machine's). */
static const char *dir_on(const struct engine *e, const char *dest) {
  for (size_t i = 0; i < e->nhosts; i++)
    if (!strcmp(e->hosts[i].dest, dest))
      return e->hosts[i].trace_dir ? e->hosts[i].trace_dir : "";
  return "";
}

/* :env's "WATVM_TRACE" set to `dir` in `spec`, beside whatever it holds. */
static int put_trace_env(edn_arena *a, edn_value *spec, const char *dir) {
  edn_value *env = (edn_value *)edn_map_getk(spec, "env");
  if (!env || env->type != EDN_MAP) {
    if (!(env = edn_coll(a, EDN_MAP)) || edn_map_putk(a, spec, "env", env) < 0)
      return -1;
  }
  return edn_map_put(a, env, edn_string(a, "WATVM_TRACE", 11),
                     edn_string(a, dir, strlen(dir)));
}

/* t's spec and its children's, as scenario_node_spec lays them out:
 * only the children born with t. */
static int walk(const struct engine *e, edn_arena *a, edn_value *spec,
                const struct tree_node *t) {
  const char *here = node_where(t), *above = t->parent ? node_where(t->parent) : NULL;
  if (here && (!above || strcmp(here, above)) && put_trace_env(a, spec, dir_on(e, here)) < 0)
    return -1;
  const edn_value *kids = edn_map_getk(spec, "children");
  size_t k = 0;
  for (size_t i = 0; kids && kids->type == EDN_VECTOR && i < t->nchildren; i++) {
    const struct tree_node *c = t->children[i];
    if (c->spawn_step != t->spawn_step)
      continue;
    if (k >= kids->u.seq.len || walk(e, a, kids->u.seq.items[k++], c) < 0)
      return -1;
  }
  return 0;
}

int engine_far_trace_env(struct engine *e, edn_value *spec, const struct tree_node *t) {
  if (!e->o->trace_dir || !engine_far(e))
    return 0;
  return walk(e, e->arena, spec, t);
}

const char *engine_trace_dir(const struct engine *e, const struct tree_node *t) {
  const char *here = node_where(t);
  if (!e->o->trace_dir || !here)
    return e->o->trace_dir;
  const char *d = dir_on(e, here);
  return d[0] ? d : NULL;
}

/* DIR/HOST, HOST made a plain name ('/' and a leading '.' replaced). */
static char *local_dir(const struct engine *e, const char *dest) {
  char *s = NULL;
  if (asprintf(&s, "%s/%s", e->o->trace_dir, dest) < 0)
    return NULL;
  char *leaf = s + strlen(e->o->trace_dir) + 1;
  for (char *p = leaf; *p; p++)
    if (*p == '/' || (p == leaf && *p == '.'))
      *p = '_';
  return s;
}

/* Copy host f's files into DIR/HOST: how many, or -1 (said why). */
static long copy_host(struct engine *e, struct far_host *f) {
  char *into = local_dir(e, f->dest);
  size_t n = 0;
  long rc = -1;
  if (!into)
    note(e, "on %s: out of memory: its trace files were not copied; they are "
         "left there in %s", f->dest, f->trace_dir);
  else if (host_trace_fetch(f->h, f->trace_dir, into, &n) < 0)
    note(e, "on %s: its trace files were not all copied into %s (%zu were), so "
         "they are left there in %s: %s", f->dest, into, n, f->trace_dir,
         host_error(f->h));
  else
    rc = (long)n;
  free(into);
  return rc;
}

/* Remove host f's directory; with `copy`, copy its files first, and keep
 * it when that fails: there it is the only copy. */
static void finish_host(struct engine *e, struct far_host *f, bool copy) {
  if (!f->trace_dir)
    return;
  long files = copy && f->h ? copy_host(e, f) : -1;
  bool kept = copy && files < 0, removed = false;
  if (!kept && !(removed = f->h && host_trace_remove(f->h, f->trace_dir) == 0))
    note(e, "on %s: its trace directory %s was not removed: %s", f->dest,
         f->trace_dir, f->h ? host_error(f->h) : "no probe");
  htrace_far_trace(e, f->dest, f->trace_dir, files, removed);
  free(f->trace_dir);
  f->trace_dir = NULL;
}

void engine_far_trace_collect(struct engine *e) {
  const char *off = getenv("TREEPROOF_TRACE_NO_COLLECT");
  bool copy = !(off && !strcmp(off, "1"));
  for (size_t i = 0; i < e->nhosts; i++)
    finish_host(e, &e->hosts[i], copy);
}

void engine_far_trace_drop(struct engine *e) {
  for (size_t i = 0; i < e->nhosts; i++)
    finish_host(e, &e->hosts[i], false);
}
