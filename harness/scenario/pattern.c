/* pattern.c — matching a reply against an `expect` pattern, and explaining
 * the first difference: its path (`at [:replies 1 :error :type]`), what was
 * expected and what came, then the whole reply pretty-printed with the lines
 * of the differing part marked `>>>`. */
#include "pattern.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct diff {
  struct edn_buf path;      /* " :replies 1 :error" */
  const edn_value *at;      /* the part of the actual value to mark */
  char msg[1024];
};

static bool is_blank(const edn_value *p) {
  return p->type == EDN_SYMBOL && p->u.text.len == 1 && p->u.text.ptr[0] == '_';
}

static bool is_seq(const edn_value *v) {
  return v->type == EDN_VECTOR || v->type == EDN_LIST;
}

/* What a value looks like in a message: compact, cut at ~200 bytes. */
static void show(char *out, size_t sz, const edn_value *v) {
  char *s = edn_to_string(v);
  if (!s) {
    snprintf(out, sz, "a %s", edn_type_name(v->type));
    return;
  }
  if (strlen(s) > 200)
    snprintf(out, sz, "%.200s...", s);
  else
    snprintf(out, sz, "%s", s);
  free(s);
}

static bool differ(struct diff *d, const edn_value *at, const char *fmt,
                   const edn_value *expected, const edn_value *actual) {
  if (!d)
    return false;
  char e[256] = "", a[256] = "";
  if (expected)
    show(e, sizeof e, expected);
  if (actual)
    show(a, sizeof a, actual);
  d->at = at;
  snprintf(d->msg, sizeof d->msg, fmt, e, a);
  return false;
}

static void path_push(struct diff *d, const edn_value *key, size_t index) {
  if (!d)
    return;
  char buf[64];
  edn_buf_append(&d->path, " ", 1);
  if (key) {
    edn_print(&d->path, key);
  } else {
    int n = snprintf(buf, sizeof buf, "%zu", index);
    edn_buf_append(&d->path, buf, (size_t)n);
  }
}

static bool match(const edn_value *p, const edn_value *a, struct diff *d);

static bool match_map(const edn_value *p, const edn_value *a, struct diff *d) {
  for (size_t i = 0; i < p->u.map.len; i++) {
    const struct edn_entry *e = &p->u.map.entries[i];
    const edn_value *v = edn_map_get(a, e->key);
    if (!v) {
      if (d) {
        char k[256], x[256];
        show(k, sizeof k, e->key);
        show(x, sizeof x, e->val);
        snprintf(d->msg, sizeof d->msg, "missing key %s (expected %s)", k, x);
        d->at = a;
      }
      return false;
    }
    size_t mark = d ? d->path.len : 0;
    path_push(d, e->key, 0);
    if (!match(e->val, v, d))
      return false;
    if (d)
      d->path.len = mark;
  }
  return true;
}

static bool match_seq(const edn_value *p, const edn_value *a, struct diff *d) {
  if (p->u.seq.len != a->u.seq.len) {
    if (d)
      snprintf(d->msg, sizeof d->msg, "expected %zu items, got %zu",
               p->u.seq.len, a->u.seq.len);
    if (d)
      d->at = a;
    return false;
  }
  for (size_t i = 0; i < p->u.seq.len; i++) {
    size_t mark = d ? d->path.len : 0;
    path_push(d, NULL, i);
    if (!match(p->u.seq.items[i], a->u.seq.items[i], d))
      return false;
    if (d)
      d->path.len = mark;
  }
  return true;
}

/* Every element of the pattern set matches some element of the actual set. */
static bool match_set(const edn_value *p, const edn_value *a, struct diff *d) {
  for (size_t i = 0; i < p->u.seq.len; i++) {
    bool found = false;
    for (size_t j = 0; j < a->u.seq.len && !found; j++)
      found = match(p->u.seq.items[i], a->u.seq.items[j], NULL);
    if (!found)
      return differ(d, a, "no element of the set matches %s%s",
                    p->u.seq.items[i], NULL);
  }
  return true;
}

static const char *kind_name(const edn_value *v) {
  return is_seq(v) ? "vector or list" : edn_type_name(v->type);
}

static bool match(const edn_value *p, const edn_value *a, struct diff *d) {
  if (is_blank(p))
    return true;
  bool same_kind = p->type == a->type || (is_seq(p) && is_seq(a));
  if (!same_kind || (p->type == EDN_TAGGED &&
                     (p->u.tagged.tag.len != a->u.tagged.tag.len ||
                      memcmp(p->u.tagged.tag.ptr, a->u.tagged.tag.ptr,
                             p->u.tagged.tag.len) != 0))) {
    if (!same_kind && d && p->type != a->type &&
        (p->type == EDN_MAP || is_seq(p) || p->type == EDN_SET)) {
      char fmt[200];
      snprintf(fmt, sizeof fmt, "expected a %s, got %%s%%s", kind_name(p));
      return differ(d, a, fmt, a, NULL);
    }
    if (!same_kind && edn_equal(p, a)) /* 1 and 1N */
      return true;
    return differ(d, a, "expected %s, got %s", p, a);
  }
  switch (p->type) {
  case EDN_MAP: return match_map(p, a, d);
  case EDN_VECTOR:
  case EDN_LIST: return match_seq(p, a, d);
  case EDN_SET: return match_set(p, a, d);
  case EDN_TAGGED: return match(p->u.tagged.value, a->u.tagged.value, d);
  default:
    if (edn_equal(p, a))
      return true;
    return differ(d, a, "expected %s, got %s", p, a);
  }
}

/* ---- the actual value, pretty, with the difference marked ---------------- */

struct pp {
  struct edn_buf b;         /* each line starts with a flag: ' ' or '>' */
  size_t line_start;
  int marking;
  const edn_value *mark;
};

static bool is_coll(const edn_value *v) {
  return v->type == EDN_MAP || v->type == EDN_VECTOR || v->type == EDN_LIST ||
         v->type == EDN_SET || v->type == EDN_TAGGED;
}

static bool contains(const edn_value *v, const edn_value *m) {
  if (!m)
    return false;
  if (v == m)
    return true;
  switch (v->type) {
  case EDN_MAP:
    for (size_t i = 0; i < v->u.map.len; i++)
      if (contains(v->u.map.entries[i].key, m) ||
          contains(v->u.map.entries[i].val, m))
        return true;
    return false;
  case EDN_VECTOR:
  case EDN_LIST:
  case EDN_SET:
    for (size_t i = 0; i < v->u.seq.len; i++)
      if (contains(v->u.seq.items[i], m))
        return true;
    return false;
  case EDN_TAGGED: return contains(v->u.tagged.value, m);
  default: return false;
  }
}

static void pp_str(struct pp *p, const char *s) {
  edn_buf_append(&p->b, s, strlen(s));
}

static void pp_newline(struct pp *p, size_t indent) {
  pp_str(p, "\n");
  p->line_start = p->b.len;
  pp_str(p, p->marking ? ">" : " ");
  for (size_t i = 0; i < indent; i++)
    pp_str(p, " ");
}

static void pp_value(struct pp *p, const edn_value *v, size_t indent);

static void pp_items(struct pp *p, const edn_value *v, size_t indent,
                     const char *open, const char *close) {
  pp_str(p, open);
  indent += strlen(open);
  for (size_t i = 0; i < v->u.seq.len; i++) {
    if (i)
      pp_newline(p, indent);
    pp_value(p, v->u.seq.items[i], indent);
  }
  pp_str(p, close);
}

static void pp_map(struct pp *p, const edn_value *v, size_t indent) {
  pp_str(p, "{");
  for (size_t i = 0; i < v->u.map.len; i++) {
    if (i)
      pp_newline(p, indent + 1);
    size_t before = p->b.len;
    edn_print(&p->b, v->u.map.entries[i].key);
    size_t klen = p->b.len - before;
    pp_str(p, " ");
    pp_value(p, v->u.map.entries[i].val, indent + 1 + klen + 1);
  }
  pp_str(p, "}");
}

static void pp_value(struct pp *p, const edn_value *v, size_t indent) {
  bool marked = v == p->mark;
  if (marked) {
    p->b.ptr[p->line_start] = '>';
    p->marking++;
  }
  char *flat = edn_to_string(v);
  bool fits = flat && strlen(flat) + indent <= 76;
  if (flat && (!is_coll(v) || (fits && (marked || !contains(v, p->mark))))) {
    pp_str(p, flat);
  } else if (v->type == EDN_MAP) {
    pp_map(p, v, indent);
  } else if (v->type == EDN_VECTOR) {
    pp_items(p, v, indent, "[", "]");
  } else if (v->type == EDN_LIST) {
    pp_items(p, v, indent, "(", ")");
  } else if (v->type == EDN_SET) {
    pp_items(p, v, indent, "#{", "}");
  } else if (v->type == EDN_TAGGED) {
    pp_str(p, "#");
    edn_buf_append(&p->b, v->u.tagged.tag.ptr, v->u.tagged.tag.len);
    pp_str(p, " ");
    pp_value(p, v->u.tagged.value, indent + v->u.tagged.tag.len + 2);
  } else {
    pp_str(p, "?");
  }
  free(flat);
  if (marked)
    p->marking--;
}

/* Append the pretty lines to `why`, each flagged line as ">>> ", the others
 * indented by four spaces. */
static void pp_emit(struct edn_buf *why, const edn_value *actual,
                    const edn_value *mark) {
  struct pp p = {.mark = mark};
  pp_str(&p, " ");
  pp_value(&p, actual, 0);
  pp_str(&p, "\n");
  if (!p.b.ptr)
    return;
  const char *s = p.b.ptr, *end = p.b.ptr + p.b.len;
  while (s < end) {
    const char *nl = memchr(s, '\n', (size_t)(end - s));
    size_t len = nl ? (size_t)(nl - s) : (size_t)(end - s);
    edn_buf_append(why, s[0] == '>' ? ">>> " : "    ", 4);
    edn_buf_append(why, s + 1, len - 1);
    edn_buf_append(why, "\n", 1);
    s += len + 1;
  }
  edn_buf_free(&p.b);
}

bool pattern_match(const edn_value *pattern, const edn_value *actual,
                   struct edn_buf *why) {
  if (!why)
    return match(pattern, actual, NULL);
  struct diff d = {{0}, NULL, ""};
  if (match(pattern, actual, &d)) {
    edn_buf_free(&d.path);
    return true;
  }
  char head[64];
  edn_buf_append(why, "at [", 4);
  if (d.path.len > 1)
    edn_buf_append(why, d.path.ptr + 1, d.path.len - 1);
  snprintf(head, sizeof head, "]: ");
  edn_buf_append(why, head, strlen(head));
  edn_buf_append(why, d.msg, strlen(d.msg));
  edn_buf_append(why, "\n", 1);
  pp_emit(why, actual, d.at);
  edn_buf_free(&d.path);
  return false;
}
