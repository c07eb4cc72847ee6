/* scenario_load.h — private to the loader: the state of one load (the
 * scenario being built, the first error) and the typed accessors every part
 * of the schema uses, so each error names file:line:column the same way. */
#ifndef TREEPROOF_SCENARIO_LOAD_H
#define TREEPROOF_SCENARIO_LOAD_H

#include <stdbool.h>

#include "scenario.h"
#include "scenario_yaml.h"

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
int load_need_map(struct loader *L, const struct ynode *y, const char *what);
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
struct tree_node *tree_child(const struct tree_node *n, const char *name,
                             size_t len);

/* scenario_steps.c */
int load_steps(struct loader *L, const struct ynode *y);

#endif
