/* scenario_yaml.c — reads one YAML document into a tree of ynodes with
 * libyaml's event API, refusing what a scenario never needs and an attacker
 * would love: aliases (billion laughs), nesting beyond YTREE_MAX_DEPTH,
 * more than YTREE_MAX_NODES nodes, more than one document. Every event is
 * deleted on every path. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

struct builder {
  struct ynode *stack[YTREE_MAX_DEPTH + 1];
  size_t depth;
  size_t count;
  struct ynode *root;
  int documents;
  struct scenario_pos *epos;
  const char *bytes;          /* the input, to place reader errors */
  size_t len;
  char *msg;
  size_t msgsz;
};

static struct scenario_pos pos_of(yaml_mark_t m) {
  /* the one place zero-based becomes one-based */
  struct scenario_pos p = {(int)m.line + 1, (int)m.column + 1};
  return p;
}

static int fail(struct builder *b, yaml_mark_t m, const char *what) {
  *b->epos = pos_of(m);
  snprintf(b->msg, b->msgsz, "%s", what);
  return -1;
}

void ytree_free(struct ynode *y) {
  if (!y)
    return;
  for (size_t i = 0; i < y->n; i++)
    ytree_free(y->items[i]);
  free(y->items);
  free(y->text);
  free(y);
}

static int push_item(struct ynode *parent, struct ynode *item) {
  if (parent->n == parent->cap) {
    size_t cap = parent->cap ? parent->cap * 2 : 8;
    struct ynode **items = realloc(parent->items, cap * sizeof *items);
    if (!items)
      return -1;
    parent->items = items;
    parent->cap = cap;
  }
  parent->items[parent->n++] = item;
  return 0;
}

/* Make a node from an event and hang it under the innermost open collection
 * (or make it the root). */
static struct ynode *add_node(struct builder *b, enum ynode_kind kind,
                              const yaml_event_t *ev) {
  if (++b->count > YTREE_MAX_NODES) {
    fail(b, ev->start_mark, "too many YAML nodes (limit 1000000)");
    return NULL;
  }
  struct ynode *y = calloc(1, sizeof *y);
  if (!y) {
    fail(b, ev->start_mark, "out of memory");
    return NULL;
  }
  y->kind = kind;
  y->pos = pos_of(ev->start_mark);
  y->end = pos_of(ev->end_mark);
  if (b->depth == 0) {
    if (b->root) { /* cannot happen: one document holds one root */
      free(y);
      fail(b, ev->start_mark, "more than one root node");
      return NULL;
    }
    b->root = y;
  } else if (push_item(b->stack[b->depth - 1], y) < 0) {
    free(y);
    fail(b, ev->start_mark, "out of memory");
    return NULL;
  }
  return y;
}

static int on_scalar(struct builder *b, const yaml_event_t *ev) {
  struct ynode *y = add_node(b, YN_SCALAR, ev);
  if (!y)
    return -1;
  size_t len = ev->data.scalar.length;
  y->text = malloc(len + 1);
  if (!y->text)
    return fail(b, ev->start_mark, "out of memory");
  memcpy(y->text, ev->data.scalar.value, len);
  y->text[len] = '\0';
  y->len = len;
  switch (ev->data.scalar.style) {
  case YAML_SINGLE_QUOTED_SCALAR_STYLE: y->style = YS_SINGLE; break;
  case YAML_DOUBLE_QUOTED_SCALAR_STYLE: y->style = YS_DOUBLE; break;
  case YAML_LITERAL_SCALAR_STYLE:
  case YAML_FOLDED_SCALAR_STYLE: y->style = YS_BLOCK; break;
  default: y->style = YS_PLAIN; break;
  }
  return 0;
}

static int on_open(struct builder *b, enum ynode_kind kind,
                   const yaml_event_t *ev) {
  if (b->depth >= YTREE_MAX_DEPTH)
    return fail(b, ev->start_mark, "YAML nested too deeply (limit 512 levels)");
  struct ynode *y = add_node(b, kind, ev);
  if (!y)
    return -1;
  b->stack[b->depth++] = y;
  return 0;
}

static int on_close(struct builder *b, const yaml_event_t *ev) {
  if (b->depth == 0)
    return fail(b, ev->start_mark, "unbalanced YAML collection");
  struct ynode *y = b->stack[--b->depth];
  y->end = pos_of(ev->end_mark);
  return 0;
}

/* One event: returns 1 at the stream's end, 0 to go on, -1 on error. */
static int on_event(struct builder *b, const yaml_event_t *ev) {
  switch (ev->type) {
  case YAML_STREAM_END_EVENT:
    return 1;
  case YAML_DOCUMENT_START_EVENT:
    if (++b->documents > 1)
      return fail(b, ev->start_mark,
                  "more than one YAML document (a scenario is one document)");
    return 0;
  case YAML_ALIAS_EVENT:
    return fail(b, ev->start_mark,
                "YAML aliases (*name) are not supported in scenarios");
  case YAML_SCALAR_EVENT:
    return on_scalar(b, ev);
  case YAML_SEQUENCE_START_EVENT:
    return on_open(b, YN_SEQ, ev);
  case YAML_MAPPING_START_EVENT:
    return on_open(b, YN_MAP, ev);
  case YAML_SEQUENCE_END_EVENT:
  case YAML_MAPPING_END_EVENT:
    return on_close(b, ev);
  default:
    return 0;
  }
}

static void parser_fail(struct builder *b, const yaml_parser_t *p) {
  yaml_mark_t m = p->problem_mark;
  if (p->error == YAML_READER_ERROR) {
    /* the reader reports a byte offset, not a line: count them */
    m.line = m.column = 0;
    for (size_t i = 0; i < p->problem_offset && i < b->len; i++) {
      if (b->bytes[i] == '\n')
        m.line++, m.column = 0;
      else
        m.column++;
    }
  }
  char what[400];
  if (p->context)
    snprintf(what, sizeof what, "YAML syntax: %s %s",
             p->problem ? p->problem : "error", p->context);
  else
    snprintf(what, sizeof what, "YAML syntax: %s",
             p->problem ? p->problem : "error");
  fail(b, m, what);
}

struct ynode *ytree_parse(const char *bytes, size_t len,
                          struct scenario_pos *pos, char *msg, size_t msgsz) {
  struct builder b = {.epos = pos, .bytes = bytes, .len = len, .msg = msg,
                     .msgsz = msgsz};
  yaml_mark_t start = {0, 0, 0};
  if (len > YTREE_MAX_BYTES) {
    fail(&b, start, "scenario file too large (limit 16 MiB)");
    return NULL;
  }
  yaml_parser_t parser;
  if (!yaml_parser_initialize(&parser)) {
    fail(&b, start, "out of memory");
    return NULL;
  }
  yaml_parser_set_input_string(&parser, (const unsigned char *)bytes, len);
  int rc = 0;
  while (rc == 0) {
    yaml_event_t ev;
    if (!yaml_parser_parse(&parser, &ev)) {
      parser_fail(&b, &parser);
      rc = -1;
      break;
    }
    rc = on_event(&b, &ev);
    yaml_event_delete(&ev);
  }
  yaml_parser_delete(&parser);
  if (rc < 0) {
    ytree_free(b.root);
    return NULL;
  }
  if (!b.root || ynode_is_null(b.root)) {
    ytree_free(b.root);
    fail(&b, start, "empty scenario: expected a mapping with tree: and steps:");
    return NULL;
  }
  return b.root;
}

bool ynode_is_null(const struct ynode *y) {
  if (!y)
    return true;
  if (y->kind != YN_SCALAR || y->style != YS_PLAIN)
    return false;
  return y->len == 0 || strcmp(y->text, "~") == 0 ||
         strcmp(y->text, "null") == 0 || strcmp(y->text, "Null") == 0 ||
         strcmp(y->text, "NULL") == 0;
}

struct ynode *ymap_key(const struct ynode *map, const char *key) {
  if (!map || map->kind != YN_MAP)
    return NULL;
  for (size_t i = 0; i + 1 < map->n; i += 2) {
    const struct ynode *k = map->items[i];
    if (k->kind == YN_SCALAR && strcmp(k->text, key) == 0 &&
        strlen(key) == k->len)
      return map->items[i];
  }
  return NULL;
}

struct ynode *ymap_get(const struct ynode *map, const char *key) {
  if (!map || map->kind != YN_MAP)
    return NULL;
  for (size_t i = 0; i + 1 < map->n; i += 2) {
    const struct ynode *k = map->items[i];
    if (k->kind == YN_SCALAR && strcmp(k->text, key) == 0 &&
        strlen(key) == k->len)
      return map->items[i + 1];
  }
  return NULL;
}

const char *ynode_kind_name(const struct ynode *y) {
  if (ynode_is_null(y))
    return "nothing (null)";
  switch (y->kind) {
  case YN_SEQ: return "a sequence";
  case YN_MAP: return "a mapping";
  default: return "a scalar";
  }
}
