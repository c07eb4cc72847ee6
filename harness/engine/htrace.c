/* htrace.c — writing the harness's trace file (htrace.h): the root edge's
 * messages, the run's header, steps, signals, the root's exit, each far
 * host's trace directory and the verdict, one EDN map per line, each line one write (O_APPEND). */
#define _GNU_SOURCE
#include "htrace.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_us(void) {
  struct timespec ts; /* the nodes' clock, so the files merge by :t-us */
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void write_buf(struct engine *e, struct edn_buf *b) {
  if (edn_buf_append(b, "\n", 1) == 0) {
    ssize_t w = write(e->trace_fd, b->ptr, b->len);
    (void)w;
  }
}

void htrace_edge(struct engine *e, const char *dir, const char *line,
                 size_t len, bool raw) {
  if (e->trace_fd < 0)
    return;
  struct edn_buf b = {0};
  char head[256];
  int n = snprintf(head, sizeof head,
                   "{:t-us %lld :edge [\"harness\" \"%s\"] :dir :%s :msg ",
                   now_us(), e->s->root->name, dir);
  edn_buf_append(&b, head, (size_t)n);
  if (raw) {
    edn_buf_append(&b, line, len);
  } else {
    edn_arena *a = edn_arena_new();
    edn_value *s = a ? edn_string(a, line, len) : NULL;
    if (s)
      edn_print(&b, s);
    edn_arena_free(a);
  }
  edn_buf_append(&b, "}", 1);
  write_buf(e, &b);
  edn_buf_free(&b);
}

/* ---- structured events --------------------------------------------------- */

/* {:t-us N :edge ["harness" ROOT] :event KIND} in `a`. */
static edn_value *event_new(struct engine *e, edn_arena *a, const char *kind) {
  edn_value *ev = edn_coll(a, EDN_MAP), *edge = edn_coll(a, EDN_VECTOR);
  const char *root = e->s->root->name;
  if (!ev || !edge || edn_push(a, edge, edn_string(a, "harness", 7)) < 0 ||
      edn_push(a, edge, edn_string(a, root, strlen(root))) < 0 ||
      edn_map_putk(a, ev, "t-us", edn_int(a, now_us())) < 0 ||
      edn_map_putk(a, ev, "edge", edge) < 0 ||
      edn_map_putk(a, ev, "event", edn_keyword(a, kind)) < 0)
    return NULL;
  return ev;
}

static void event_write(struct engine *e, const edn_value *ev) {
  struct edn_buf b = {0};
  if (ev && edn_print(&b, ev) == 0)
    write_buf(e, &b);
  edn_buf_free(&b);
}

static edn_value *str(edn_arena *a, const char *s) {
  return s ? edn_string(a, s, strlen(s)) : edn_nil(a);
}

static edn_value *status_map(edn_arena *a, int exit_code, int signal) {
  edn_value *m = edn_coll(a, EDN_MAP);
  if (m)
    edn_map_putk(a, m, exit_code >= 0 ? "exit" : "signal",
                 edn_int(a, exit_code >= 0 ? exit_code : signal));
  return m;
}

/* {:lost true}: a far node's expected end (its connection lost). */
static edn_value *lost_map(edn_arena *a) {
  edn_value *m = edn_coll(a, EDN_MAP);
  if (m)
    edn_map_putk(a, m, "lost", edn_bool(a, true));
  return m;
}

static edn_value *header(struct engine *e, edn_arena *a) {
  const struct scenario *s = e->s;
  edn_value *ev = event_new(e, a, "scenario");
  edn_value *props = edn_coll(a, EDN_VECTOR), *bp = edn_coll(a, EDN_MAP);
  edn_value *cmd = edn_coll(a, EDN_VECTOR);
  if (!ev || !props || !bp || !cmd)
    return NULL;
  for (int p = 0; p < PROP_COUNT; p++)
    if (s->properties[p])
      edn_push(a, props, edn_keyword(a, property_name((enum property)p)));
  edn_map_putk(a, bp, "hold", str(a, s->bp_hold ? s->bp_hold->path : NULL));
  edn_map_putk(a, bp, "rss-kb", edn_int(a, s->bp_rss_kb));
  for (char **v = e->o->node_argv; v && *v; v++)
    edn_push(a, cmd, str(a, *v));
  edn_map_putk(a, ev, "name", str(a, s->name));
  edn_map_putk(a, ev, "file", str(a, s->file));
  edn_map_putk(a, ev, "description", str(a, s->description));
  edn_map_putk(a, ev, "timeout-ms", edn_int(a, s->timeout_ms));
  edn_map_putk(a, ev, "properties", props);
  edn_map_putk(a, ev, "backpressure", bp);
  edn_map_putk(a, ev, "fault", str(a, getenv("WATVM_FAULT")));
  edn_map_putk(a, ev, "node-cmd", cmd);
  edn_map_putk(a, ev, "spec", scenario_node_spec(a, s->root));
  return ev;
}

void htrace_open(struct engine *e) {
  const char *dir = e->o->trace_dir;
  if (!dir)
    return;
  mkdir(dir, 0777);
  char path[4096];
  snprintf(path, sizeof path, "%s/harness-%d-%s.ednl", dir, (int)e->root_pid,
           e->s->name);
  e->trace_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (e->trace_fd < 0)
    return;
  edn_arena *a = edn_arena_new();
  if (!a)
    return;
  event_write(e, header(e, a));
  edn_value *ev = event_new(e, a, "spawned");
  if (ev && edn_map_putk(a, ev, "pid", edn_int(a, e->root_pid)) == 0)
    event_write(e, ev);
  edn_arena_free(a);
}

/* The data of step `st` into event `ev`. */
static void step_data(edn_arena *a, edn_value *ev, const struct step *st) {
  static const char *kinds[] = {"send", "expect", "expect-exit", "kill",
                                "hold", "release", "wait", "spawn"};
  edn_map_putk(a, ev, "kind", edn_keyword(a, kinds[st->action]));
  if (st->action == STEP_SEND)
    edn_map_putk(a, ev, "send", str(a, st->send_text));
  if (st->expect)
    edn_map_putk(a, ev, "expect", edn_copy(a, st->expect));
  if (st->action == STEP_SPAWN) {
    edn_map_putk(a, ev, "parent", str(a, st->node->path));
    edn_map_putk(a, ev, "spec", scenario_node_spec(a, st->spawned));
  } else if (st->node) {
    edn_map_putk(a, ev, "node", str(a, st->node->path));
  }
  if (st->action == STEP_EXPECT_EXIT)
    edn_map_putk(a, ev, "status", st->exit_lost ? lost_map(a)
                                  : status_map(a, st->exit_code, st->exit_signal));
  if (st->action == STEP_KILL)
    edn_map_putk(a, ev, "signal", edn_int(a, st->signal));
  if (st->edge) /* the hop, not the node: a replay must fault the same
                   (:hop, since an event's :edge is the wire's) */
    edn_map_putk(a, ev, "hop", edn_keyword(a, step_edge_name(st->edge)));
  if (st->action == STEP_WAIT)
    edn_map_putk(a, ev, "wait-ms", edn_int(a, st->wait_ms));
  edn_map_putk(a, ev, "timeout-ms", edn_int(a, st->timeout_ms));
}

void htrace_step(struct engine *e, size_t i) {
  if (e->trace_fd < 0)
    return;
  edn_arena *a = edn_arena_new();
  edn_value *ev = a ? event_new(e, a, "step") : NULL;
  if (ev && edn_map_putk(a, ev, "index", edn_int(a, (int64_t)i + 1)) == 0) {
    step_data(a, ev, &e->s->steps[i]);
    event_write(e, ev);
  }
  edn_arena_free(a);
}

void htrace_signal(struct engine *e, const struct tree_node *n, pid_t pid,
                   int sig, const char *by) {
  if (e->trace_fd < 0)
    return;
  edn_arena *a = edn_arena_new();
  edn_value *ev = a ? event_new(e, a, "signal") : NULL;
  if (ev) {
    edn_map_putk(a, ev, "node", str(a, n->path));
    edn_map_putk(a, ev, "pid", edn_int(a, pid));
    edn_map_putk(a, ev, "signal", edn_int(a, sig));
    if (by)
      edn_map_putk(a, ev, "by", edn_keyword(a, by));
    event_write(e, ev);
  }
  edn_arena_free(a);
}

/* {:event :exited [:node PATH] :pid P :status {...} [:by BY]}. */
static void exited_event(struct engine *e, pid_t pid, int st,
                         const char *path, const char *by) {
  edn_arena *a = edn_arena_new();
  edn_value *ev = a ? event_new(e, a, "exited") : NULL;
  if (ev) {
    if (path)
      edn_map_putk(a, ev, "node", str(a, path));
    edn_map_putk(a, ev, "pid", edn_int(a, pid));
    edn_map_putk(a, ev, "status",
                 status_map(a, WIFEXITED(st) ? WEXITSTATUS(st) : -1,
                            WIFSIGNALED(st) ? WTERMSIG(st) : 0));
    if (by)
      edn_map_putk(a, ev, "by", edn_keyword(a, by));
    event_write(e, ev);
  }
  edn_arena_free(a);
}

void htrace_adopted_exited(struct engine *e, pid_t pid, int st) {
  if (e->trace_fd < 0)
    return;
  const char *path = NULL;
  for (size_t i = 0; i < e->nnodes && !path; i++)
    if (e->nodes[i].pid == pid && e->nodes[i].t)
      path = e->nodes[i].t->path;
  exited_event(e, pid, st, path, "harness");
}

void htrace_root_exited(struct engine *e) {
  if (e->trace_fd < 0 || !e->root_reaped || e->root_exit_traced)
    return;
  e->root_exit_traced = true;
  exited_event(e, e->root_pid, e->root_status, NULL, NULL);
}

void htrace_far_trace(struct engine *e, const char *host, const char *dir,
                      long files, bool removed) {
  if (e->trace_fd < 0)
    return;
  edn_arena *a = edn_arena_new();
  edn_value *ev = a ? event_new(e, a, "far-trace") : NULL;
  if (ev) {
    edn_map_putk(a, ev, "host", str(a, host));
    edn_map_putk(a, ev, "dir", str(a, dir));
    edn_map_putk(a, ev, "files", files < 0 ? edn_nil(a) : edn_int(a, files));
    edn_map_putk(a, ev, "removed", edn_bool(a, removed));
    event_write(e, ev);
  }
  edn_arena_free(a);
}

void htrace_verdict(struct engine *e) {
  if (e->trace_fd < 0)
    return;
  const struct scenario_result *r = e->r;
  edn_arena *a = edn_arena_new();
  edn_value *ev = a ? event_new(e, a, "verdict") : NULL;
  edn_value *failed = a ? edn_coll(a, EDN_VECTOR) : NULL;
  edn_value *sum = a ? edn_coll(a, EDN_MAP) : NULL;
  if (ev && failed && sum) {
    if (r->steps.verdict == VERDICT_FAIL) {
      edn_push(a, failed, edn_keyword(a, "steps"));
      edn_map_putk(a, sum, "steps", str(a, r->steps.summary));
    }
    for (int p = 0; p < PROP_COUNT; p++)
      if (r->props[p].verdict == VERDICT_FAIL) {
        const char *name = property_name((enum property)p);
        edn_push(a, failed, edn_keyword(a, name));
        edn_map_putk(a, sum, name, str(a, r->props[p].summary));
      }
    edn_map_putk(a, ev, "failed", failed);
    edn_map_putk(a, ev, "failed-step",
                 r->failed_step >= 0 ? edn_int(a, r->failed_step + 1) : edn_nil(a));
    edn_map_putk(a, ev, "summary", sum);
    event_write(e, ev);
  }
  edn_arena_free(a);
}
