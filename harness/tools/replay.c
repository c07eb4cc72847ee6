/* replay.c — reading a harness trace back (htrace.h) into a scenario.
 *
 * The trace is checked as it is read: every line is one EDN map, the first
 * event is the :scenario header, the :step events count 1, 2, 3, ..., each
 * holds the data its :kind needs, and a :verdict ends the run. The scenario
 * is then written as YAML (scenario_emit's pieces) and loaded by the
 * ordinary loader, so a replay is checked exactly as a scenario file is;
 * a loader error is reported at the trace line the offending step came
 * from. Lines of other events (messages, :spawned, :exited, :signal) are
 * what happened, not what to do: they are skipped. */
#define _GNU_SOURCE
#include "replay.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scenario_emit.h"
#include "read_all.h"

struct reader {
  struct replay *r;
  struct replay_error *err;
  long line;                 /* of the event being read */
  edn_arena *a;
  const edn_value *header;
  long header_line;
  size_t nsteps;
  long *step_line;           /* trace line of each step */
  size_t *step_yaml;         /* first YAML line of each step */
  struct edn_buf steps;      /* the steps' YAML */
  bool verdict;
};

static int fail(struct reader *rd, long line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct reader *rd, long line, const char *fmt, ...) {
  rd->err->line = line;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(rd->err->message, sizeof rd->err->message, fmt, ap);
  va_end(ap);
  return -1;
}

static int put(struct edn_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int put(struct edn_buf *b, const char *fmt, ...) {
  char *s = NULL;
  va_list ap;
  va_start(ap, fmt);
  int n = vasprintf(&s, fmt, ap);
  va_end(ap);
  int rc = n < 0 ? -1 : edn_buf_append(b, s, (size_t)n);
  free(s);
  return rc;
}

/* ---- finding the file ---------------------------------------------------- */

static bool is_harness_trace(const char *name) {
  size_t n = strlen(name);
  return !strncmp(name, "harness-", 8) && n > 13 && !strcmp(name + n - 5, ".ednl");
}

/* `path` itself, or the one harness-*.ednl in directory `path`. */
static char *trace_path(const char *path, struct replay_error *err) {
  struct stat st;
  snprintf(err->file, sizeof err->file, "%s", path);
  if (stat(path, &st) < 0) {
    snprintf(err->message, sizeof err->message, "cannot read: %s",
             strerror(errno));
    return NULL;
  }
  if (!S_ISDIR(st.st_mode))
    return strdup(path);
  DIR *d = opendir(path);
  if (!d) {
    snprintf(err->message, sizeof err->message, "%s", strerror(errno));
    return NULL;
  }
  char *found = NULL;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    if (is_harness_trace(e->d_name) && n++ == 0 &&
        asprintf(&found, "%s/%s", path, e->d_name) < 0)
      found = NULL;
  closedir(d);
  if (n != 1) {
    snprintf(err->message, sizeof err->message, "%s harness-*.ednl trace "
             "files in this directory; name one", n ? "several" : "no");
    free(found);
    return NULL;
  }
  return found;
}

static char *slurp(const char *path, size_t *len, struct replay_error *err) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    snprintf(err->message, sizeof err->message, "%s", strerror(errno));
    return NULL;
  }
  int e;
  char *text = read_all(fd, SIZE_MAX - 1, len, &e);
  close(fd);
  if (!text)
    snprintf(err->message, sizeof err->message, "cannot read it");
  return text;
}

/* ---- typed fields -------------------------------------------------------- */

static const edn_value *need(struct reader *rd, const edn_value *ev,
                             const char *key, enum edn_type type) {
  const edn_value *v = edn_map_getk(ev, key);
  if (!v || v->type != type) {
    fail(rd, rd->line, ":%s: expected a %s, got %s", key, edn_type_name(type),
         v ? edn_type_name(v->type) : "nothing");
    return NULL;
  }
  return v;
}

static int put_edn_str(struct reader *rd, const edn_value *ev, const char *key) {
  const edn_value *v = need(rd, ev, key, EDN_STRING);
  return v ? scenario_emit_str(&rd->steps, v->u.text.ptr, v->u.text.len) : -1;
}

static int put_edn_value(struct edn_buf *b, const edn_value *v) {
  struct edn_buf t = {0};
  int rc = edn_print(&t, v) < 0 ? -1 : scenario_emit_str(b, t.ptr, t.len);
  edn_buf_free(&t);
  return rc;
}

static int put_int(struct reader *rd, const edn_value *ev, const char *key) {
  const edn_value *v = need(rd, ev, key, EDN_INT);
  return v ? put(&rd->steps, "%lld", (long long)v->u.integer) : -1;
}

/* ", edge: client" from a step's :hop :client (nothing without one);
 * any other :hop is an error, at the event's line. */
static int put_edge(struct reader *rd, const edn_value *ev) {
  const edn_value *x = edn_map_getk(ev, "hop");
  if (!x)
    return 0;
  if (edn_is_keyword(x, "client") || edn_is_keyword(x, "session"))
    return put(&rd->steps, ", edge: %s", x->u.text.ptr);
  return fail(rd, rd->line, ":hop: expected :client or :session");
}

/* {exit: N}, {signal: N} or lost from {:exit N} / {:signal N} / {:lost
 * true}. */
static int put_status(struct reader *rd, const edn_value *ev) {
  const edn_value *st = need(rd, ev, "status", EDN_MAP);
  if (!st)
    return -1;
  const edn_value *lost = edn_map_getk(st, "lost");
  if (lost && lost->type == EDN_BOOL && lost->u.boolean)
    return put(&rd->steps, "lost");
  const edn_value *x = edn_map_getk(st, "exit"), *s = edn_map_getk(st, "signal");
  if ((x != NULL) == (s != NULL) || (x ? x : s)->type != EDN_INT)
    return fail(rd, rd->line, ":status: expected {:exit N} or {:signal N}");
  return put(&rd->steps, "{%s: %lld}", x ? "exit" : "signal",
             (long long)(x ? x : s)->u.integer);
}

/* ---- steps --------------------------------------------------------------- */

static int step_action(struct reader *rd, const edn_value *ev, const char *kind) {
  struct edn_buf *b = &rd->steps;
  const edn_value *expect = edn_map_getk(ev, "expect");
  if (!strcmp(kind, "send")) {
    if (put(b, "send: ") < 0 || put_edn_str(rd, ev, "send") < 0)
      return -1;
    return expect ? (put(b, "\n    expect: ") < 0 ? -1 : put_edn_value(b, expect)) : 0;
  }
  if (!strcmp(kind, "expect"))
    return !expect ? fail(rd, rd->line, "an :expect step without :expect")
                   : put(b, "expect: ") < 0 ? -1 : put_edn_value(b, expect);
  if (!strcmp(kind, "expect-exit"))
    return put(b, "expect_exit: {node: ") < 0 || put_edn_str(rd, ev, "node") < 0 ||
                   put(b, ", status: ") < 0 || put_status(rd, ev) < 0
               ? -1
               : put(b, "}");
  if (!strcmp(kind, "kill"))
    return put(b, "kill: {node: ") < 0 || put_edn_str(rd, ev, "node") < 0 ||
                   put_edge(rd, ev) < 0 ||
                   put(b, ", signal: ") < 0 || put_int(rd, ev, "signal") < 0
               ? -1
               : put(b, "}");
  if ((!strcmp(kind, "hold") || !strcmp(kind, "release")) &&
      edn_map_getk(ev, "hop"))
    return put(b, "%s: {node: ", kind) < 0 || put_edn_str(rd, ev, "node") < 0 ||
                   put_edge(rd, ev) < 0
               ? -1
               : put(b, "}");
  if (!strcmp(kind, "hold") || !strcmp(kind, "release"))
    return put(b, "%s: ", kind) < 0 ? -1 : put_edn_str(rd, ev, "node");
  if (!strcmp(kind, "wait"))
    return put(b, "wait_ms: ") < 0 ? -1 : put_int(rd, ev, "wait-ms");
  if (!strcmp(kind, "spawn")) {
    char why[200];
    if (put(b, "spawn:\n      parent: ") < 0 || put_edn_str(rd, ev, "parent") < 0 ||
        put(b, "\n      spec:\n        ") < 0)
      return -1;
    int rc = scenario_emit_node(b, edn_map_getk(ev, "spec"), 8, why, sizeof why);
    if (rc == -2)
      return fail(rd, rd->line, ":spec: %s", why);
    if (rc == 0 && b->len && b->ptr[b->len - 1] == '\n')
      b->len--;
    return rc;
  }
  return fail(rd, rd->line, "unknown step :kind :%s", kind);
}

static long header_timeout(const struct reader *rd) {
  const edn_value *t = edn_map_getk(rd->header, "timeout-ms");
  return t && t->type == EDN_INT ? (long)t->u.integer : SCENARIO_DEFAULT_TIMEOUT_MS;
}

static size_t count_lines(const struct edn_buf *b) {
  size_t n = 0;
  for (size_t i = 0; i < b->len; i++)
    n += b->ptr[i] == '\n';
  return n;
}

static int on_step(struct reader *rd, const edn_value *ev) {
  if (!rd->header)
    return fail(rd, rd->line, "a :step before the :scenario header");
  const edn_value *idx = need(rd, ev, "index", EDN_INT);
  const edn_value *kind = need(rd, ev, "kind", EDN_KEYWORD);
  if (!idx || !kind)
    return -1;
  if (idx->u.integer != (int64_t)rd->nsteps + 1)
    return fail(rd, rd->line, ":step :index %lld, expected %zu (steps are "
                "recorded in order, from 1)", (long long)idx->u.integer,
                rd->nsteps + 1);
  size_t n = rd->nsteps + 1;
  long *sl = realloc(rd->step_line, n * sizeof *sl);
  if (sl)
    rd->step_line = sl;
  size_t *sy = realloc(rd->step_yaml, n * sizeof *sy);
  if (sy)
    rd->step_yaml = sy;
  if (!sl || !sy)
    return fail(rd, rd->line, "out of memory");
  rd->step_line[rd->nsteps] = rd->line;
  rd->step_yaml[rd->nsteps] = count_lines(&rd->steps);
  rd->nsteps = n;
  if (put(&rd->steps, "  - ") < 0 || step_action(rd, ev, kind->u.text.ptr) < 0)
    return -1;
  const edn_value *t = edn_map_getk(ev, "timeout-ms");
  if (t && t->type == EDN_INT && t->u.integer != header_timeout(rd) &&
      put(&rd->steps, "\n    timeout_ms: %lld", (long long)t->u.integer) < 0)
    return -1;
  return put(&rd->steps, "\n");
}

/* ---- header and verdict -------------------------------------------------- */

static char *opt_str(const edn_value *ev, const char *key) {
  const edn_value *v = edn_map_getk(ev, key);
  return v && v->type == EDN_STRING ? strndup(v->u.text.ptr, v->u.text.len) : NULL;
}

static int on_header(struct reader *rd, const edn_value *ev) {
  if (rd->header)
    return fail(rd, rd->line, "a second :scenario header (first at line %ld)",
                rd->header_line);
  if (!need(rd, ev, "name", EDN_STRING) || !need(rd, ev, "spec", EDN_MAP) ||
      !need(rd, ev, "properties", EDN_VECTOR) ||
      !need(rd, ev, "timeout-ms", EDN_INT))
    return -1;
  const edn_value *props = edn_map_getk(ev, "properties");
  for (size_t i = 0; i < props->u.seq.len; i++)
    if (props->u.seq.items[i]->type != EDN_KEYWORD)
      return fail(rd, rd->line, ":properties: expected keywords");
  rd->header = ev;
  rd->header_line = rd->line;
  rd->r->file = opt_str(ev, "file");
  rd->r->fault = opt_str(ev, "fault");
  return 0;
}

static int check_index(const char *name) {
  if (!strcmp(name, "steps"))
    return REPLAY_STEPS;
  for (int p = 0; p < PROP_COUNT; p++)
    if (!strcmp(name, property_name((enum property)p)))
      return p;
  return -1;
}

static int on_verdict(struct reader *rd, const edn_value *ev) {
  if (!rd->header)
    return fail(rd, rd->line, "a :verdict before the :scenario header");
  if (rd->verdict)
    return fail(rd, rd->line, "a second :verdict");
  const edn_value *failed = need(rd, ev, "failed", EDN_VECTOR);
  if (!failed)
    return -1;
  const edn_value *sum = edn_map_getk(ev, "summary");
  for (size_t i = 0; i < failed->u.seq.len; i++) {
    const edn_value *k = failed->u.seq.items[i];
    int c = k->type == EDN_KEYWORD ? check_index(k->u.text.ptr) : -1;
    if (c < 0)
      return fail(rd, rd->line, ":failed: not a check: expected :steps or a "
                  "property keyword");
    rd->r->failed |= 1u << c;
    free(rd->r->summary[c]);
    rd->r->summary[c] = opt_str(sum, k->u.text.ptr);
  }
  rd->verdict = true;
  return 0;
}

static int on_line(struct reader *rd, const char *p, size_t len) {
  edn_value *ev = NULL;
  struct edn_error ee;
  static const struct edn_limits lim = {.max_depth = 10000,
                                        .max_bytes = 256u << 20};
  if (edn_read(rd->a, p, len, &lim, &ev, &ee) != EDN_OK)
    return fail(rd, rd->line, "not one EDN value: %s (column %zu)", ee.message,
                ee.offset + 1);
  if (ev->type != EDN_MAP)
    return fail(rd, rd->line, "an event is a map, got a %s",
                edn_type_name(ev->type));
  const edn_value *kind = edn_map_getk(ev, "event");
  if (!kind)
    return 0; /* a message on the root edge */
  if (kind->type != EDN_KEYWORD)
    return fail(rd, rd->line, ":event: expected a keyword");
  if (rd->verdict)
    return fail(rd, rd->line, "an event after the :verdict");
  const char *k = kind->u.text.ptr;
  if (!strcmp(k, "scenario"))
    return on_header(rd, ev);
  if (!strcmp(k, "step"))
    return on_step(rd, ev);
  if (!strcmp(k, "verdict"))
    return on_verdict(rd, ev);
  return 0; /* :spawned, :exited, :signal: what happened, not what to do */
}

/* ---- the YAML ------------------------------------------------------------ */

static int build_yaml(struct reader *rd, size_t *tree_line) {
  const edn_value *h = rd->header;
  struct edn_buf *b = &rd->r->yaml;
  const edn_value *name = edn_map_getk(h, "name"), *desc = edn_map_getk(h, "description");
  if (put(b, "# replayed from %s\nname: ", rd->r->trace) < 0 ||
      scenario_emit_str(b, name->u.text.ptr, name->u.text.len) < 0)
    return -1;
  if (desc && desc->type == EDN_STRING &&
      (put(b, "\ndescription: ") < 0 ||
       scenario_emit_str(b, desc->u.text.ptr, desc->u.text.len) < 0))
    return -1;
  if (put(b, "\ntimeout_ms: %ld\ntree:\n  ", header_timeout(rd)) < 0)
    return -1;
  char why[200];
  int rc = scenario_emit_node(b, edn_map_getk(h, "spec"), 2, why, sizeof why);
  if (rc == -2)
    return fail(rd, rd->header_line, ":spec: %s", why);
  *tree_line = count_lines(b);
  if (rc < 0 || put(b, "steps:%s\n", rd->nsteps ? "" : " []") < 0 ||
      edn_buf_append(b, rd->steps.ptr, rd->steps.len) < 0 ||
      put(b, "properties: [") < 0)
    return -1;
  const edn_value *props = edn_map_getk(h, "properties");
  for (size_t i = 0; i < props->u.seq.len; i++)
    if (put(b, "%s%s", i ? ", " : "", props->u.seq.items[i]->u.text.ptr) < 0)
      return -1;
  if (put(b, "]\n") < 0)
    return -1;
  const edn_value *bp = edn_map_getk(h, "backpressure");
  const edn_value *hold = bp ? edn_map_getk(bp, "hold") : NULL;
  const edn_value *rss = bp ? edn_map_getk(bp, "rss-kb") : NULL;
  if (hold && hold->type == EDN_STRING && rss && rss->type == EDN_INT &&
      (put(b, "backpressure: {hold: ") < 0 ||
       scenario_emit_str(b, hold->u.text.ptr, hold->u.text.len) < 0 ||
       put(b, ", rss_kb: %lld}\n", (long long)rss->u.integer) < 0))
    return -1;
  return edn_buf_append(b, "", 1);
}

/* A loader error at YAML line L: the trace line its step came from. */
static long trace_line_of(const struct reader *rd, size_t steps_at, int yline) {
  long at = rd->header_line;
  for (size_t i = 0; i < rd->nsteps; i++)
    if ((size_t)yline > steps_at + 1 + rd->step_yaml[i])
      at = rd->step_line[i];
  return at;
}

static int load_scenario(struct reader *rd) {
  size_t tree_end = 0;
  if (build_yaml(rd, &tree_end) < 0)
    return rd->err->message[0] ? -1 : fail(rd, 0, "out of memory");
  struct scenario_error se;
  rd->r->s = scenario_load_mem(rd->r->trace, rd->r->yaml.ptr,
                               rd->r->yaml.len - 1, &se);
  if (!rd->r->s)
    return fail(rd, trace_line_of(rd, tree_end, se.pos.line),
                "the recorded scenario does not load: %s", se.message);
  /* evidence names a step by its place: its :step event in the trace */
  for (size_t i = 0; i < rd->r->s->nsteps && i < rd->nsteps; i++) {
    rd->r->s->steps[i].pos.line = (int)rd->step_line[i];
    rd->r->s->steps[i].pos.column = 1;
  }
  return 0;
}

static int read_lines(struct reader *rd, const char *text, size_t len) {
  const char *p = text, *end = text + len;
  for (rd->line = 1; p < end; rd->line++) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
    bool blank = true;
    for (size_t i = 0; i < n && blank; i++)
      blank = p[i] == ' ' || p[i] == '\t' || p[i] == '\r';
    if (!blank && on_line(rd, p, n) < 0)
      return -1;
    p = nl ? nl + 1 : end;
  }
  if (!rd->header)
    return fail(rd, 0, "no :scenario header: not a harness trace "
                "(harness-*.ednl, written by treeproof run --trace)");
  if (!rd->verdict)
    return fail(rd, rd->line - 1, "no :verdict: the recorded run did not "
                "finish");
  return 0;
}

/* Rebuild r from the trace text (r->trace already names it). */
static int parse(struct replay *r, const char *text, size_t len,
                 struct replay_error *err) {
  struct reader rd = {.r = r, .err = err, .a = edn_arena_new()};
  int rc = rd.a ? read_lines(&rd, text, len) : fail(&rd, 0, "out of memory");
  if (rc == 0)
    rc = load_scenario(&rd);
  free(rd.step_line);
  free(rd.step_yaml);
  edn_buf_free(&rd.steps);
  edn_arena_free(rd.a);
  if (rc < 0)
    replay_free(r);
  return rc;
}

int replay_load(const char *path, struct replay *r, struct replay_error *err) {
  memset(r, 0, sizeof *r);
  memset(err, 0, sizeof *err);
  if (!(r->trace = trace_path(path, err)))
    return -1;
  snprintf(err->file, sizeof err->file, "%s", r->trace);
  size_t len = 0;
  char *text = slurp(r->trace, &len, err);
  if (!text) {
    replay_free(r);
    return -1;
  }
  int rc = parse(r, text, len, err);
  free(text);
  return rc;
}

int replay_load_mem(const char *name, const char *text, size_t len,
                    struct replay *r, struct replay_error *err) {
  memset(r, 0, sizeof *r);
  memset(err, 0, sizeof *err);
  snprintf(err->file, sizeof err->file, "%s", name);
  if (!(r->trace = strdup(name))) {
    snprintf(err->message, sizeof err->message, "out of memory");
    return -1;
  }
  return parse(r, text, len, err);
}

void replay_free(struct replay *r) {
  scenario_free(r->s);
  edn_buf_free(&r->yaml);
  free(r->trace);
  free(r->file);
  free(r->fault);
  for (int i = 0; i <= PROP_COUNT; i++)
    free(r->summary[i]);
  memset(r, 0, sizeof *r);
}

unsigned replay_failed_set(const struct scenario_result *res) {
  unsigned set = res->steps.verdict == VERDICT_FAIL ? 1u << REPLAY_STEPS : 0;
  for (int p = 0; p < PROP_COUNT; p++)
    if (res->props[p].verdict == VERDICT_FAIL)
      set |= 1u << p;
  return set;
}

const char *replay_check_name(unsigned c) {
  return c == REPLAY_STEPS ? "steps" : property_name((enum property)c);
}

void replay_set_text(unsigned set, char *buf, size_t len) {
  size_t at = 0;
  buf[0] = '\0';
  /* steps first, as the reporters list them */
  unsigned order[PROP_COUNT + 1] = {REPLAY_STEPS};
  for (unsigned p = 0; p < PROP_COUNT; p++)
    order[p + 1] = p;
  for (unsigned i = 0; i <= PROP_COUNT; i++)
    if (set & (1u << order[i])) {
      int n = snprintf(buf + at, len - at, "%s%s", at ? ", " : "",
                       replay_check_name(order[i]));
      if (n < 0 || (size_t)n >= len - at)
        return;
      at += (size_t)n;
    }
  if (!at)
    snprintf(buf, len, "nothing");
}
