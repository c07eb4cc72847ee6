/* scenario_yaml.h — private to the scenario loader: one YAML document read
 * with libyaml's event API into a small tree of scalars, sequences and
 * mappings, each carrying its one-based source position.
 *
 * Hostile input is bounded here, before any schema code sees it: aliases are
 * refused (no billion laughs), nesting, node count and input size are capped,
 * and a stream with no document or more than one is an error. */
#ifndef TREEPROOF_SCENARIO_YAML_H
#define TREEPROOF_SCENARIO_YAML_H

#include <stdbool.h>
#include <stddef.h>

#include "scenario.h"

enum { YTREE_MAX_DEPTH = 512, YTREE_MAX_NODES = 1000000 };
#define YTREE_MAX_BYTES ((size_t)16 << 20)

enum ynode_kind { YN_SCALAR, YN_SEQ, YN_MAP };
enum yscalar_style { YS_PLAIN, YS_SINGLE, YS_DOUBLE, YS_BLOCK };

struct ynode {
  enum ynode_kind kind;
  struct scenario_pos pos;     /* where the node starts */
  struct scenario_pos end;     /* where it ends */
  /* YN_SCALAR: the decoded text (NUL-terminated, len is the truth) */
  char *text;
  size_t len;
  enum yscalar_style style;
  /* YN_SEQ: items; YN_MAP: key, value, key, value, ... (n is even) */
  struct ynode **items;
  size_t n, cap;
};

/* Parse bytes[0..len) as exactly one YAML document. Returns its root, or NULL
 * with *pos and msg filled in (pos one-based). Free with ytree_free. */
struct ynode *ytree_parse(const char *bytes, size_t len,
                          struct scenario_pos *pos, char *msg, size_t msgsz);
void ytree_free(struct ynode *y);

/* True for a plain empty, `~` or `null` scalar. */
bool ynode_is_null(const struct ynode *y);
/* The value under the scalar key `key` in a mapping, or NULL. */
struct ynode *ymap_get(const struct ynode *map, const char *key);
/* The key node holding `key` (for positions), or NULL. */
struct ynode *ymap_key(const struct ynode *map, const char *key);
/* "a mapping", "a sequence", "a string", "null" — for type errors. */
const char *ynode_kind_name(const struct ynode *y);

#endif
