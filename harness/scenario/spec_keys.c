/* spec_keys.c — a node's keys read from its EDN spec (the :spec of a
 * :spawn request, a recorded spec in a trace) into a tree_node, the same
 * fields the YAML loader fills: so a node a step spawns is modelled with
 * its own policy, and replay writes back every key a spec carried. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int bad(char *why, size_t len, const char *key, const char *what) {
  snprintf(why, len, ":%s %s", key, what);
  return -1;
}

static int read_long(const edn_value *v, const char *key, long *out, char *why,
                     size_t len) {
  if (v->type != EDN_INT || v->u.integer < 0 || v->u.integer > MS_MAX * 1000L)
    return bad(why, len, key, "is a non-negative integer");
  *out = (long)v->u.integer;
  return 0;
}

/* `v` must be one of `kws` (NULL-terminated); *out = its index + 1. */
static int read_kw(const edn_value *v, const char *key, const char *const *kws,
                   int *out, char *why, size_t len) {
  for (int i = 0; kws[i]; i++)
    if (edn_is_keyword(v, kws[i])) {
      *out = i + 1;
      return 0;
    }
  return bad(why, len, key, "has a value no node knows");
}

static int read_backoff(const edn_value *v, struct tree_node *n, char *why,
                        size_t len) {
  if ((v->type != EDN_VECTOR && v->type != EDN_LIST) || v->u.seq.len != 2 ||
      read_long(v->u.seq.items[0], "restart-backoff-ms", &n->backoff_base_ms,
                why, len) < 0 ||
      read_long(v->u.seq.items[1], "restart-backoff-ms", &n->backoff_max_ms,
                why, len) < 0 ||
      n->backoff_max_ms < n->backoff_base_ms)
    return bad(why, len, "restart-backoff-ms", "is [BASE MAX], BASE <= MAX");
  return 0;
}

static int read_word(const char *kn, const edn_value *v, struct tree_node *n,
                     char *why, size_t len) {
  static const char *const pol[] = {"isolate", "escalate", "restart",
                                    "one-for-all", "rest-for-one",
                                    "one-for-one", NULL};
  static const char *const rst[] = {"permanent", "transient", "temporary", NULL};
  static const char *const shut[] = {"brutal-kill", "infinity", NULL};
  static const char *const stop[] = {"parallel", "reverse", NULL};
  int w = 0;
  if (!strcmp(kn, "on-child-exit")) {
    if (read_kw(v, kn, pol, &w, why, len) < 0)
      return -1;
    n->on_child_exit = w == 6 ? POLICY_RESTART : (enum policy)w;
  } else if (!strcmp(kn, "restart")) {
    if (read_kw(v, kn, rst, &w, why, len) < 0)
      return -1;
    n->restart = (enum restart_type)w;
  } else if (!strcmp(kn, "shutdown")) {
    if (read_kw(v, kn, shut, &w, why, len) < 0)
      return -1;
    n->shutdown = w == 1 ? SHUTDOWN_BRUTAL_KILL : SHUTDOWN_INFINITY;
  } else if (!strcmp(kn, "stop-order")) {
    if (read_kw(v, kn, stop, &w, why, len) < 0)
      return -1;
    n->stop_order = (enum stop_order)w;
  } else {
    return 1; /* not a word key */
  }
  return 0;
}

const char *spec_host_problem(const char *dest) {
  if (!dest[0])
    return "is empty";
  if (dest[0] == '-')
    return "starts with '-' (ssh would read it as an option)";
  for (const unsigned char *p = (const unsigned char *)dest; *p; p++)
    if (*p <= ' ' || *p == 0x7f)
      return "holds a blank or a control character";
  return NULL;
}

/* :host "DEST", owned by n (a spawned node is freed as any other). */
static int read_host(const edn_value *v, struct tree_node *n, char *why,
                     size_t len) {
  const char *p = v->type == EDN_STRING ? spec_host_problem(v->u.text.ptr) : NULL;
  if (v->type != EDN_STRING || p || strlen(v->u.text.ptr) != v->u.text.len)
    return bad(why, len, "host", p ? p : "is a string, an ssh destination");
  char *h = strdup(v->u.text.ptr);
  if (!h)
    return bad(why, len, "host", "could not be copied (out of memory)");
  free(n->host);
  n->host = h;
  return 0;
}

static int read_one(const char *kn, const edn_value *v, struct tree_node *n,
                    char *why, size_t len) {
  if (!strcmp(kn, "host"))
    return read_host(v, n, why, len);
  int rc = read_word(kn, v, n, why, len);
  if (rc <= 0)
    return rc;
  if (!strcmp(kn, "restart-backoff-ms"))
    return read_backoff(v, n, why, len);
  long *f = !strcmp(kn, "max-restarts")        ? &n->max_restarts
            : !strcmp(kn, "restart-period-ms") ? &n->restart_period_ms
            : !strcmp(kn, "queue-bytes")       ? &n->queue_bytes
            : !strcmp(kn, "grace-ms")          ? &n->grace_ms
            : !strcmp(kn, "shutdown-ms")       ? &n->shutdown_ms
                                               : NULL;
  if (!f)
    return bad(why, len, kn, "is no node key");
  if (read_long(v, kn, f, why, len) < 0)
    return -1;
  if (f == &n->shutdown_ms)
    n->shutdown = SHUTDOWN_MS;
  return 0;
}

int spec_keys_read(const edn_value *spec, struct tree_node *n, char *why,
                   size_t len) {
  if (!spec || spec->type != EDN_MAP)
    return bad(why, len, "spec", "is not a map");
  for (size_t i = 0; i < spec->u.map.len; i++) {
    const edn_value *k = spec->u.map.entries[i].key;
    const edn_value *v = spec->u.map.entries[i].val;
    if (k->type != EDN_KEYWORD) {
      snprintf(why, len, "a node spec's keys are keywords");
      return -1;
    }
    const char *kn = k->u.text.ptr;
    if (!strcmp(kn, "name") || !strcmp(kn, "children") || !strcmp(kn, "depth"))
      continue;
    if (read_one(kn, v, n, why, len) < 0)
      return -1;
  }
  return 0;
}
