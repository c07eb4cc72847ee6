/* scenario_fields.c — the loader's typed accessors: one place that turns a
 * YAML node into an integer, a string, a name, an EDN value or a tree node,
 * or into a "file:line:column: error: ..." naming exactly that YAML node. */
#include "internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int load_fail(struct loader *L, const struct ynode *y, const char *fmt, ...) {
  struct scenario_error *e = L->err;
  snprintf(e->file, sizeof e->file, "%s", L->file);
  e->pos.line = y ? y->pos.line : 1;
  e->pos.column = y ? y->pos.column : 1;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(e->message, sizeof e->message, fmt, ap);
  va_end(ap);
  return -1;
}

static int load_need_map(struct loader *L, const struct ynode *y, const char *what) {
  if (!y || y->kind != YN_MAP)
    return load_fail(L, y, "%s: expected a mapping, got %s", what,
                     ynode_kind_name(y));
  return 0;
}

static int key_allowed(const struct ynode *k, const char *const *allowed) {
  for (size_t i = 0; allowed[i]; i++)
    if (strlen(allowed[i]) == k->len && memcmp(allowed[i], k->text, k->len) == 0)
      return 1;
  return 0;
}

static void list_keys(char *buf, size_t sz, const char *const *allowed) {
  size_t used = 0;
  buf[0] = '\0';
  for (size_t i = 0; allowed[i] && used < sz; i++)
    used += snprintf(buf + used, sz - used, "%s%s", i ? ", " : "", allowed[i]);
}

int load_check_keys(struct loader *L, const struct ynode *y, const char *what,
                    const char *const *allowed) {
  if (load_need_map(L, y, what) < 0)
    return -1;
  for (size_t i = 0; i + 1 < y->n; i += 2) {
    const struct ynode *k = y->items[i];
    if (k->kind != YN_SCALAR)
      return load_fail(L, k, "%s: a key must be a plain name, got %s", what,
                       ynode_kind_name(k));
    if (!key_allowed(k, allowed)) {
      char keys[300];
      list_keys(keys, sizeof keys, allowed);
      return load_fail(L, k, "%s: unknown key '%.80s' (expected one of: %s)",
                       what, k->text, keys);
    }
    for (size_t j = 0; j < i; j += 2) {
      const struct ynode *p = y->items[j];
      if (p->len == k->len && memcmp(p->text, k->text, k->len) == 0)
        return load_fail(L, k, "%s: key '%s' given twice (first at line %d)",
                         what, k->text, p->pos.line);
    }
  }
  return 0;
}

/* Digits with an optional sign; YAML 1.1 underscores allowed between them. */
static int parse_long(const char *s, size_t len, long *out) {
  char digits[32];
  size_t n = 0, i = 0;
  if (i < len && (s[i] == '-' || s[i] == '+'))
    digits[n++] = s[i++];
  size_t first = n;
  for (; i < len; i++) {
    if (s[i] == '_' && n > first)
      continue;
    if (s[i] < '0' || s[i] > '9' || n + 1 >= sizeof digits)
      return -1;
    digits[n++] = s[i];
  }
  if (n == first)
    return -1;
  digits[n] = '\0';
  errno = 0;
  long v = strtol(digits, NULL, 10);
  if (errno)
    return -1;
  *out = v;
  return 0;
}

int load_long(struct loader *L, const struct ynode *y, const char *what,
              long min, long max, long *out) {
  long v;
  if (!y || y->kind != YN_SCALAR || y->style != YS_PLAIN ||
      parse_long(y->text, y->len, &v) < 0) {
    if (y && y->kind == YN_SCALAR && !ynode_is_null(y))
      return load_fail(L, y, "%s: expected an integer, got '%.60s'", what,
                       y->text);
    return load_fail(L, y, "%s: expected an integer, got %s", what,
                     ynode_kind_name(y));
  }
  if (v < min || v > max)
    return load_fail(L, y, "%s: %ld is out of range (%ld to %ld)", what, v,
                     min, max);
  *out = v;
  return 0;
}

int load_string(struct loader *L, const struct ynode *y, const char *what,
                char **out) {
  if (!y || y->kind != YN_SCALAR || ynode_is_null(y))
    return load_fail(L, y, "%s: expected a string, got %s", what,
                     ynode_kind_name(y));
  if (memchr(y->text, '\0', y->len))
    return load_fail(L, y, "%s: a string must not hold a NUL character", what);
  *out = strdup(y->text);
  if (!*out)
    return load_fail(L, y, "out of memory");
  return 0;
}

int load_name(struct loader *L, const struct ynode *y, char **out) {
  if (!y || y->kind != YN_SCALAR || ynode_is_null(y))
    return load_fail(L, y, "name: expected a node name, got %s",
                     ynode_kind_name(y));
  if (y->len > NAME_MAX_LEN)
    return load_fail(L, y, "name: longer than %d bytes", NAME_MAX_LEN);
  for (size_t i = 0; i < y->len; i++) {
    unsigned char c = (unsigned char)y->text[i];
    if (c == '/')
      return load_fail(L, y, "name: '%s' holds '/', the path separator",
                       y->text);
    if (c < 0x20 || c == 0x7f || c == ' ')
      return load_fail(L, y,
                       "name: a node name holds no space or control character");
  }
  return load_string(L, y, "name", out);
}

/* Where in the file the byte `off` of a one-line scalar sits, when that can
 * be known exactly (no escapes between the quotes). */
static struct scenario_pos edn_pos(const struct ynode *y, size_t off) {
  struct scenario_pos p = y->pos;
  if (y->pos.line != y->end.line)
    return p;
  if (y->style == YS_PLAIN)
    p.column += (int)off;
  else if (y->style == YS_SINGLE && !memchr(y->text, '\'', y->len))
    p.column += 1 + (int)off;
  else if (y->style == YS_DOUBLE && !memchr(y->text, '\\', y->len) &&
           !memchr(y->text, '"', y->len))
    p.column += 1 + (int)off;
  return p;
}

int load_edn(struct loader *L, const struct ynode *y, const char *what,
             edn_value **out) {
  if (!y || y->kind != YN_SCALAR || ynode_is_null(y))
    return load_fail(L, y, "%s: expected an EDN string, got %s", what,
                     ynode_kind_name(y));
  struct edn_error e = {0};
  int rc = edn_read(L->s->arena, y->text, y->len, NULL, out, &e);
  if (rc == EDN_OK)
    return 0;
  if (rc == EDN_EMPTY)
    return load_fail(L, y, "%s: the EDN string holds no value", what);
  load_fail(L, y, "%s: not EDN: %s (at offset %zu of the string)", what,
            e.message, e.offset);
  L->err->pos = edn_pos(y, e.offset);
  return -1;
}

struct tree_node *tree_child(const struct tree_node *n, const char *name,
                             size_t len) {
  for (size_t i = 0; i < n->nchildren; i++) {
    const char *c = n->children[i]->name;
    if (strlen(c) == len && memcmp(c, name, len) == 0)
      return n->children[i];
  }
  return NULL;
}

int load_path(struct loader *L, const struct ynode *y, const char *what,
              struct tree_node **out) {
  char *path = NULL;
  if (load_string(L, y, what, &path) < 0)
    return -1;
  struct tree_node *n = scenario_find(L->s, path);
  if (n) {
    free(path);
    *out = n;
    return 0;
  }
  /* say which component is missing */
  struct tree_node *at = L->s->root;
  const char *p = path;
  while (at) {
    const char *slash = strchr(p, '/');
    size_t len = slash ? (size_t)(slash - p) : strlen(p);
    struct tree_node *c = tree_child(at, p, len);
    if (!c) {
      bool rooted = at == L->s->root && strlen(at->name) == len &&
                    memcmp(at->name, p, len) == 0;
      load_fail(L, y, "%s: '%s' names no node (no child '%.*s' under '%s')%s",
                what, path, (int)len, p, at->path,
                rooted ? "; a path starts below the root" : "");
      break;
    }
    at = c;
    p = slash ? slash + 1 : p + len;
  }
  free(path);
  return -1;
}
