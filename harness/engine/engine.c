/* engine.c — an engine's life: made for one scenario, its results filled
 * from the evidence at the end, and everything it holds released. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

int engine_init(struct engine *e, const struct scenario *s,
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

void engine_free(struct engine *e) {
  engine_stop(e);
  engine_hosts_close(e);
  if (e->session_counted)
    session_end();
  e->session_counted = false;
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

void engine_fill_result(struct engine *e) {
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


/* A tree on other hosts: the root's spec (scenario_root_spec: with
 * :ssh-config and :remote-watvm when the scenario names them) carries what
 * ssh will not — the WATVM_* environment as :env, and the watvm the far
 * nodes run (the harness's probe's, when the scenario names none and the
 * node command is a watvm; another node program runs its own, as each
 * parent's default) — and
 * every node hands them down; when tracing, the top far node on each host
 * carries that host's trace directory (far_trace.c). A tree on this
 * machine alone gets the plain spec: a node that knows nothing of hosts
 * still runs it. */
static edn_value *root_spec(struct engine *e) {
  if (!engine_far(e))
    return scenario_node_spec(e->arena, e->s->root);
  edn_arena *a = e->arena;
  edn_value *sv = scenario_root_spec(a, e->s), *env = edn_coll(a, EDN_MAP);
  if (!sv || !env)
    return NULL;
  extern char **environ;
  for (char **v = environ; *v; v++) {
    const char *eq = strchr(*v, '=');
    if (strncmp(*v, "WATVM_", 6) || !eq)
      continue;
    if (edn_map_put(a, env, edn_string(a, *v, (size_t)(eq - *v)),
                    edn_string(a, eq + 1, strlen(eq + 1))) < 0)
      return NULL;
  }
  /* --trace DIR is the root's WATVM_TRACE (launch.c), whatever this
   * process's environment says; far nodes get their host's own */
  const char *dir = e->o->trace_dir;
  if (dir && edn_map_put(a, env, edn_string(a, "WATVM_TRACE", 11),
                         edn_string(a, dir, strlen(dir))) < 0)
    return NULL;
  const char *watvm = engine_probe_watvm(e);
  if (edn_map_putk(a, sv, "env", env) < 0 || engine_far_trace_env(e, sv, e->s->root) < 0 ||
      (!e->s->remote_watvm && watvm && engine_node_is_watvm(e) &&
       edn_map_putk(a, sv, "remote-watvm", edn_string(a, watvm, strlen(watvm))) < 0))
    return NULL;
  return sv;
}

int engine_start(struct engine *e, char *err, size_t errlen) {
  struct edn_buf spec = {0};
  if (engine_hosts_open(e, err, errlen) < 0)
    return -1;
  engine_far_trace_open(e);
  edn_value *sv = root_spec(e);
  /* NUL-terminated: it becomes an argv string */
  if (!sv || edn_print(&spec, sv) < 0 || edn_buf_append(&spec, "", 1) < 0) {
    edn_buf_free(&spec);
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  session_begin();
  e->session_counted = true;
  int rc = launch_root(e, spec.ptr, spec.len - 1, err, errlen);
  edn_buf_free(&spec);
  if (rc == -1)
    return rc;
  session_root_add(e->root_pid);
  e->root_registered = true;
  htrace_open(e);
  return rc;
}

void engine_stop(struct engine *e) {
  if (e->root_registered) {
    session_root_del(e->root_pid);
    e->root_registered = false;
  }
}
