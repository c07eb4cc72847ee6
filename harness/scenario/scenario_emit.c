/* scenario_emit.c — a loaded scenario back to the YAML the loader reads.
 *
 * The tree goes through scenario_node_spec(), the same EDN a node is
 * started with, so a recorded :spec (replay) and a loaded tree (shrink)
 * come out by one path. Strings are plain scalars when that is safe and
 * quoted otherwise; send lines keep their exact text; patterns are printed
 * EDN. Defaults the loader would fill in anyway (a step's timeout equal to
 * the scenario's, backpressure's first leaf and 64 MiB) are left out, so a
 * shrunk tree keeps meaning "the default". */
#define _GNU_SOURCE
#include "scenario_emit.h"
#include "internal.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int put(struct edn_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int put(struct edn_buf *b, const char *fmt, ...) {
  char small[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0)
    return -1;
  if ((size_t)n < sizeof small)
    return edn_buf_append(b, small, (size_t)n);
  char *big = NULL;
  va_start(ap, fmt);
  n = vasprintf(&big, fmt, ap);
  va_end(ap);
  if (n < 0)
    return -1;
  int rc = edn_buf_append(b, big, (size_t)n);
  free(big);
  return rc;
}

static int indent_to(struct edn_buf *b, int n) {
  for (int i = 0; i < n; i++)
    if (edn_buf_append(b, " ", 1) < 0)
      return -1;
  return 0;
}

/* ---- scalars ------------------------------------------------------------- */

static bool plain_safe(const char *s, size_t len) {
  static const char *const words[] = {"true", "false", "null", "yes", "no",
                                      "on", "off", "y", "n", NULL};
  if (len == 0 || len > 200 ||
      !((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z')))
    return false;
  for (size_t i = 0; i < len; i++) {
    char c = s[i];
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' ||
              c == '/';
    if (!ok)
      return false;
  }
  for (size_t i = 0; words[i]; i++)
    if (strlen(words[i]) == len && strncasecmp(words[i], s, len) == 0)
      return false;
  return true;
}

/* The code point at s[i] and its byte length in *n. Text here comes from
 * EDN or YAML, so it is valid UTF-8; a stray byte stands for itself. */
static unsigned long utf8_at(const unsigned char *s, size_t len, size_t i,
                             size_t *n) {
  uint32_t cp;
  *n = edn_utf8_decode(s + i, len - i, &cp);
  if (*n == 0) {
    *n = 1;
    cp = s[i];
  }
  return cp;
}

/* Not printable in YAML (or a line break or tab, which quoting folds). */
static bool needs_escape(unsigned long cp) {
  return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F && cp != 0x85) ||
         cp == 0x85 || (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE ||
         cp == 0xFFFF || cp == 0xFEFF;
}

static int put_double_quoted(struct edn_buf *b, const char *s, size_t len) {
  const unsigned char *u = (const unsigned char *)s;
  if (edn_buf_append(b, "\"", 1) < 0)
    return -1;
  for (size_t i = 0; i < len;) {
    size_t n;
    unsigned long cp = utf8_at(u, len, i, &n);
    int rc;
    if (cp == '"' || cp == '\\')
      rc = put(b, "\\%c", (char)cp);
    else if (cp == '\n')
      rc = put(b, "\\n");
    else if (cp == '\t')
      rc = put(b, "\\t");
    else if (needs_escape(cp))
      rc = put(b, "\\u%04lX", cp);
    else
      rc = edn_buf_append(b, s + i, n);
    if (rc < 0)
      return -1;
    i += n;
  }
  return edn_buf_append(b, "\"", 1);
}

int scenario_emit_str(struct edn_buf *b, const char *s, size_t len) {
  if (plain_safe(s, len))
    return edn_buf_append(b, s, len);
  const unsigned char *u = (const unsigned char *)s;
  for (size_t i = 0, n; i < len; i += n)
    if (needs_escape(utf8_at(u, len, i, &n)))
      return put_double_quoted(b, s, len);
  if (edn_buf_append(b, "'", 1) < 0)
    return -1;
  for (size_t i = 0; i < len; i++)
    if (edn_buf_append(b, s[i] == '\'' ? "''" : s + i, s[i] == '\'' ? 2 : 1) < 0)
      return -1;
  return edn_buf_append(b, "'", 1);
}

static int put_str(struct edn_buf *b, const char *s) {
  return scenario_emit_str(b, s, strlen(s));
}

/* An EDN value printed compactly, as one YAML scalar. */
static int put_edn(struct edn_buf *b, const edn_value *v) {
  struct edn_buf t = {0};
  int rc = edn_print(&t, v) < 0 ? -1 : scenario_emit_str(b, t.ptr, t.len);
  edn_buf_free(&t);
  return rc;
}

const char *scenario_signal_name(int sig, char *buf, size_t len) {
  static const struct { const char *name; int sig; } names[] = {
      {"KILL", SIGKILL}, {"TERM", SIGTERM}, {"INT", SIGINT},
      {"STOP", SIGSTOP}, {"CONT", SIGCONT}, {"HUP", SIGHUP},
      {"QUIT", SIGQUIT}, {"USR1", SIGUSR1}, {"USR2", SIGUSR2}};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (names[i].sig == sig)
      return names[i].name;
  snprintf(buf, len, "%d", sig);
  return buf;
}

/* ---- nodes --------------------------------------------------------------- */

static int bad(char *why, size_t whylen, const char *fmt, const char *arg) {
  snprintf(why, whylen, fmt, arg);
  return -2;
}

/* Check `spec` is a node spec, its keys read into *keys (spec_keys_read);
 * sets *bare when it is a leaf with only a name. */
static int check_spec(const edn_value *spec, struct tree_node *keys,
                      bool *bare, char *why, size_t whylen) {
  if (!spec || spec->type != EDN_MAP)
    return bad(why, whylen, "a node spec is a map, got %s",
               spec ? edn_type_name(spec->type) : "nothing");
  const edn_value *name = edn_map_getk(spec, "name");
  if (!name || name->type != EDN_STRING || name->u.text.len == 0)
    return bad(why, whylen, "%s", "a node spec needs :name, a string");
  memset(keys, 0, sizeof *keys);
  keys->max_restarts = keys->restart_period_ms = keys->queue_bytes = -1;
  keys->grace_ms = keys->shutdown_ms = -1;
  keys->backoff_base_ms = keys->backoff_max_ms = -1;
  char w[200];
  int rc = spec_keys_read(spec, keys, w, sizeof w);
  free(keys->host); /* only whether it is there counts here */
  keys->host = NULL;
  if (rc < 0)
    return bad(why, whylen, "%s", w);
  const edn_value *kids = edn_map_getk(spec, "children");
  if (kids && kids->type != EDN_VECTOR && kids->type != EDN_LIST)
    return bad(why, whylen, "%s", ":children is a vector of node specs");
  size_t keyed = 0;
  for (size_t i = 0; i < spec->u.map.len; i++)
    keyed += !edn_is_keyword(spec->u.map.entries[i].key, "name") &&
             !edn_is_keyword(spec->u.map.entries[i].key, "depth") &&
             !edn_is_keyword(spec->u.map.entries[i].key, "children");
  *bare = keyed == 0 && (!kids || kids->u.seq.len == 0);
  return 0;
}

/* One `key: value` line, when the value is set. */
static int put_line(struct edn_buf *b, int indent, const char *key,
                    const char *word, long num) {
  if (!word && num < 0)
    return 0;
  if (indent_to(b, indent) < 0)
    return -1;
  return word ? put(b, "%s: %s\n", key, word) : put(b, "%s: %ld\n", key, num);
}

static int put_options(struct edn_buf *b, const struct tree_node *k, int indent) {
  static const char *const pol[] = {NULL, "isolate", "escalate", "restart",
                                    "one_for_all", "rest_for_one"};
  static const char *const rst[] = {NULL, "permanent", "transient", "temporary"};
  static const char *const stop[] = {NULL, "parallel", "reverse"};
  const char *shut = k->shutdown == SHUTDOWN_BRUTAL_KILL ? "brutal_kill"
                     : k->shutdown == SHUTDOWN_INFINITY  ? "infinity"
                                                         : NULL;
  if (put_line(b, indent, "on_child_exit", pol[k->on_child_exit], -1) < 0 ||
      put_line(b, indent, "max_restarts", NULL, k->max_restarts) < 0 ||
      put_line(b, indent, "restart_period_ms", NULL, k->restart_period_ms) < 0 ||
      put_line(b, indent, "queue_bytes", NULL, k->queue_bytes) < 0 ||
      put_line(b, indent, "grace_ms", NULL, k->grace_ms) < 0 ||
      put_line(b, indent, "stop_order", stop[k->stop_order], -1) < 0 ||
      put_line(b, indent, "restart", rst[k->restart], -1) < 0 ||
      put_line(b, indent, "shutdown", shut, -1) < 0 ||
      put_line(b, indent, "shutdown_ms", NULL,
               k->shutdown == SHUTDOWN_MS ? k->shutdown_ms : -1) < 0)
    return -1;
  if (k->backoff_base_ms < 0)
    return 0;
  return indent_to(b, indent) < 0 ? -1
         : put(b, "restart_backoff_ms: [%ld, %ld]\n", k->backoff_base_ms,
               k->backoff_max_ms);
}

int scenario_emit_node(struct edn_buf *b, const edn_value *spec, int indent,
                       char *why, size_t whylen) {
  bool bare;
  struct tree_node keys;
  int rc = check_spec(spec, &keys, &bare, why, whylen);
  if (rc < 0)
    return rc;
  const edn_value *name = edn_map_getk(spec, "name");
  const edn_value *kids = edn_map_getk(spec, "children");
  const edn_value *host = edn_map_getk(spec, "host");
  if (put(b, "name: ") < 0 ||
      scenario_emit_str(b, name->u.text.ptr, name->u.text.len) < 0 ||
      put(b, "\n") < 0 || put_options(b, &keys, indent) < 0)
    return -1;
  if (host && (indent_to(b, indent) < 0 || put(b, "host: ") < 0 ||
               scenario_emit_str(b, host->u.text.ptr, host->u.text.len) < 0 ||
               put(b, "\n") < 0))
    return -1;
  if (!kids || kids->u.seq.len == 0)
    return 0;
  bool all_bare = true;
  for (size_t i = 0; i < kids->u.seq.len; i++) {
    bool kb;
    struct tree_node kk;
    if ((rc = check_spec(kids->u.seq.items[i], &kk, &kb, why, whylen)) < 0)
      return rc;
    all_bare = all_bare && kb;
  }
  if (indent_to(b, indent) < 0 || put(b, all_bare ? "children: [" : "children:\n") < 0)
    return -1;
  for (size_t i = 0; i < kids->u.seq.len; i++) {
    const edn_value *k = kids->u.seq.items[i];
    if (all_bare) {
      const edn_value *kn = edn_map_getk(k, "name");
      if (put(b, "%s{name: ", i ? ", " : "") < 0 ||
          scenario_emit_str(b, kn->u.text.ptr, kn->u.text.len) < 0 ||
          put(b, "}") < 0)
        return -1;
    } else if (indent_to(b, indent + 2) < 0 || put(b, "- ") < 0 ||
               (rc = scenario_emit_node(b, k, indent + 4, why, whylen)) < 0) {
      return rc < 0 ? rc : -1;
    }
  }
  return all_bare ? put(b, "]\n") : 0;
}

/* `n` (its birth subtree) as a node mapping at `indent`. */
static int put_tree_node(struct edn_buf *b, const struct tree_node *n,
                         int indent) {
  edn_arena *a = edn_arena_new();
  edn_value *spec = a ? scenario_node_spec(a, n) : NULL;
  char why[200];
  int rc = spec ? scenario_emit_node(b, spec, indent, why, sizeof why) : -1;
  edn_arena_free(a);
  return rc < 0 ? -1 : 0;
}

/* ---- steps --------------------------------------------------------------- */

static int put_status(struct edn_buf *b, const struct step *st) {
  char num[16];
  if (st->exit_lost)
    return put(b, "lost");
  if (st->exit_code >= 0)
    return put(b, "{exit: %d}", st->exit_code);
  return put(b, "{signal: %s}",
             scenario_signal_name(st->exit_signal, num, sizeof num));
}

/* ", edge: client" when the step acts on the node's hop; nothing else. */
static int put_edge(struct edn_buf *b, const struct step *st) {
  return st->edge ? put(b, ", edge: %s", step_edge_name(st->edge)) : 0;
}

static int put_action(struct edn_buf *b, const struct step *st) {
  char num[16];
  switch (st->action) {
  case STEP_SEND:
    if (put(b, "send: ") < 0 || put_str(b, st->send_text) < 0)
      return -1;
    if (!st->expect)
      return put(b, "\n");
    return put(b, "\n    expect: ") < 0 || put_edn(b, st->expect) < 0 ? -1
                                                                     : put(b, "\n");
  case STEP_EXPECT:
    return put(b, "expect: ") < 0 || put_edn(b, st->expect) < 0 ? -1 : put(b, "\n");
  case STEP_EXPECT_EXIT:
    return put(b, "expect_exit: {node: ") < 0 || put_str(b, st->node->path) < 0 ||
                   put(b, ", status: ") < 0 || put_status(b, st) < 0
               ? -1
               : put(b, "}\n");
  case STEP_KILL:
    return put(b, "kill: {node: ") < 0 || put_str(b, st->node->path) < 0 ||
                   put_edge(b, st) < 0 ||
                   put(b, ", signal: %s}\n",
                       scenario_signal_name(st->signal, num, sizeof num)) < 0
               ? -1
               : 0;
  case STEP_HOLD:
  case STEP_RELEASE:
    if (st->edge) /* the map form: the hop, not the node */
      return put(b, st->action == STEP_HOLD ? "hold: {node: " : "release: {node: ") < 0 ||
                     put_str(b, st->node->path) < 0 || put_edge(b, st) < 0
                 ? -1
                 : put(b, "}\n");
    return put(b, st->action == STEP_HOLD ? "hold: " : "release: ") < 0 ||
                   put_str(b, st->node->path) < 0
               ? -1
               : put(b, "\n");
  case STEP_WAIT:
    return put(b, "wait_ms: %ld\n", st->wait_ms);
  case STEP_SPAWN:
    return put(b, "spawn:\n      parent: ") < 0 || put_str(b, st->node->path) < 0 ||
                   put(b, "\n      spec:\n        ") < 0
               ? -1
               : put_tree_node(b, st->spawned, 8);
  }
  return -1;
}

static int put_steps(struct edn_buf *b, const struct scenario *s,
                     const struct emit_opts *o) {
  if (put(b, "steps:") < 0)
    return -1;
  size_t n = 0;
  for (size_t i = 0; i < s->nsteps; i++) {
    const struct step *st = &s->steps[i];
    if (o && o->skip_step && o->skip_step[i])
      continue;
    if (put(b, "\n  - ") < 0 || put_action(b, st) < 0)
      return -1;
    if (b->len && b->ptr[b->len - 1] == '\n')
      b->len--; /* every action ends its own line; the loop starts the next */
    if (st->timeout_ms != s->timeout_ms &&
        put(b, "\n    timeout_ms: %ld", st->timeout_ms) < 0)
      return -1;
    n++;
  }
  return put(b, n ? "\n" : " []\n");
}

/* ---- the whole scenario -------------------------------------------------- */

static int put_comment(struct edn_buf *b, const char *c) {
  while (c && *c) {
    const char *nl = strchr(c, '\n');
    int len = nl ? (int)(nl - c) : (int)strlen(c);
    if (put(b, len ? "# %.*s\n" : "#\n", len, c) < 0)
      return -1;
    c = nl ? nl + 1 : NULL;
  }
  return 0;
}

static int put_properties(struct edn_buf *b, const bool *props) {
  if (put(b, "properties: [") < 0)
    return -1;
  bool first = true;
  for (int p = 0; p < PROP_COUNT; p++)
    if (props[p]) {
      if (put(b, "%s%s", first ? "" : ", ", property_name((enum property)p)) < 0)
        return -1;
      first = false;
    }
  return put(b, "]\n");
}

static int put_backpressure(struct edn_buf *b, const struct scenario *s) {
  bool hold = s->bp_hold && s->bp_hold != tree_first_leaf(s->root);
  bool rss = s->bp_rss_kb != SCENARIO_DEFAULT_RSS_KB;
  if (!hold && !rss)
    return 0;
  if (put(b, "backpressure: {") < 0)
    return -1;
  if (hold && (put(b, "hold: ") < 0 || put_str(b, s->bp_hold->path) < 0))
    return -1;
  if (rss && put(b, "%srss_kb: %ld", hold ? ", " : "", s->bp_rss_kb) < 0)
    return -1;
  return put(b, "}\n");
}

/* The tier-3 keys as given: not an ssh_config that came from the
 * environment (the reproducer takes the environment it runs in). */
static int put_hosts_keys(struct edn_buf *b, const struct scenario *s) {
  if (s->ssh_config_given && (put(b, "ssh_config: ") < 0 ||
                              put_str(b, s->ssh_config) < 0 || put(b, "\n") < 0))
    return -1;
  if (s->remote_watvm && (put(b, "remote_watvm: ") < 0 ||
                          put_str(b, s->remote_watvm) < 0 || put(b, "\n") < 0))
    return -1;
  if (s->hop_bytes != SCENARIO_DEFAULT_HOP_BYTES &&
      put(b, "hop_bytes: %ld\n", s->hop_bytes) < 0)
    return -1;
  return 0;
}

int scenario_emit(const struct scenario *s, const struct emit_opts *o,
                  struct edn_buf *out) {
  if (put_comment(out, o ? o->comment : NULL) < 0 || put(out, "name: ") < 0 ||
      put_str(out, s->name) < 0 || put(out, "\n") < 0)
    return -1;
  if (s->description && (put(out, "description: ") < 0 ||
                         put_str(out, s->description) < 0 || put(out, "\n") < 0))
    return -1;
  if (put(out, "timeout_ms: %ld\n", s->timeout_ms) < 0 || put_hosts_keys(out, s) < 0 ||
      put(out, "tree:\n  ") < 0 ||
      put_tree_node(out, s->root, 2) < 0 || put_steps(out, s, o) < 0 ||
      put_properties(out, o && o->properties ? o->properties : s->properties) < 0 ||
      put_backpressure(out, s) < 0)
    return -1;
  return 0;
}
