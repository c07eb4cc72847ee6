/* internal.h — private to harness/scenario/: the loader's two halves.
 *
 * scenario_yaml.c reads one YAML document with libyaml's event API into a
 * small tree of scalars, sequences and mappings, each carrying its
 * one-based source position. Hostile input is bounded there, before any
 * schema code sees it: aliases are refused (no billion laughs), nesting,
 * node count and input size are capped, and a stream with no document or
 * more than one is an error.
 *
 * The schema code (scenario.c, scenario_fields.c, scenario_tree.c,
 * scenario_steps.c) shares the state of one load (the scenario being built,
 * the first error) and the typed accessors every part of the schema uses,
 * so each error names file:line:column the same way. */
#ifndef TREEPROOF_SCENARIO_INTERNAL_H
#define TREEPROOF_SCENARIO_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "scenario.h"

/* ---- scenario_yaml.c: the YAML tree ------------------------------------ */

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

/* ---- the schema ------------------------------------------------------- */

enum {
  TREE_MAX_NODES = 100000,
  TREE_MAX_DEPTH = 200,     /* keeps a spec's EDN nesting under 512 */
  NAME_MAX_LEN = 255,
  MS_MAX = 3600000          /* an hour: no timeout or wait beyond it */
};

struct loader {
  const char *file;
  struct scenario_error *err;
  struct scenario *s;
  size_t nodes;               /* tree nodes made so far (cap TREE_MAX_NODES) */
};

/* Fill the error at `y`'s position (or 1:1 when y is NULL); returns -1. */
int load_fail(struct loader *L, const struct ynode *y, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* `y` must be a mapping whose keys are all in `allowed` (NULL-terminated),
 * none twice. `what` names the mapping in messages ("step", "node"). */
int load_check_keys(struct loader *L, const struct ynode *y, const char *what,
                    const char *const *allowed);
/* An integer scalar in [min, max]. */
int load_long(struct loader *L, const struct ynode *y, const char *what,
              long min, long max, long *out);
/* A non-null scalar as a malloc'ed string (the caller frees it). */
int load_string(struct loader *L, const struct ynode *y, const char *what,
                char **out);
/* A node name: a non-empty scalar, no '/', no control character. */
int load_name(struct loader *L, const struct ynode *y, char **out);
/* A scalar holding one EDN value, read into the scenario's arena; an EDN
 * error names the YAML position of the string (refined to the offending
 * column when the scalar sits on one line unescaped). */
int load_edn(struct loader *L, const struct ynode *y, const char *what,
             edn_value **out);
/* The node at `path` in the tree as built so far; on failure an error at
 * `y` that says which component names no node. */
int load_path(struct loader *L, const struct ynode *y, const char *what,
              struct tree_node **out);

/* scenario_tree.c */
int load_tree(struct loader *L, const struct ynode *y);
int load_generate(struct loader *L, const struct ynode *y);
/* One node mapping (and its subtree) under `parent` (NULL: the root). */
int load_node(struct loader *L, const struct ynode *y,
              struct tree_node *parent, long spawn_step,
              struct tree_node **out);
/* Link `child` as the last child of `parent`; fails on a duplicate name
 * (error at `y`). */
int load_link(struct loader *L, const struct ynode *y,
              struct tree_node *parent, struct tree_node *child);
struct tree_node *tree_node_new(const char *name, struct tree_node *parent);
void tree_node_free(struct tree_node *n);

/* spec_keys.c: the node keys of an EDN spec (:on-child-exit ... :restart,
 * :shutdown, :restart-backoff-ms, :stop-order; :name, :children and
 * :depth skipped) into n's fields. 0, or -1 with `why` filled (an unknown
 * key or a value no node knows). */
int spec_keys_read(const edn_value *spec, struct tree_node *n, char *why,
                   size_t len);
struct tree_node *tree_child(const struct tree_node *n, const char *name,
                             size_t len);

/* Why `dest` is no ssh destination a `host:` may name (empty, a blank or
 * control character, a leading '-' that ssh would read as an option), or
 * NULL when it is one. */
const char *spec_host_problem(const char *dest);

/* scenario_steps.c */
int load_steps(struct loader *L, const struct ynode *y);

#endif
