/* fuzz_scenario.c — libFuzzer target for the scenario loader
 * (harness/scenario*.c): YAML bytes in through scenario_load_mem.
 *
 * The loader promises never to crash, on any input; sanitizers watch that.
 * When the bytes do load, the scenario's own invariants are checked, and a
 * broken one aborts (a finding):
 *   - a failed load leaves a terminated message and a position >= 0;
 *   - every node's depth is its parent's + 1 and scenario_find(path) finds a
 *     node with that path;
 *   - the root's spec (scenario_node_spec) prints, reads back and is equal,
 *     and so does every step's parsed :send map. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edn.h"
#include "scenario.h"

#define FUZZ_NAME "fuzz_scenario"
#include "fuzz_check.h"

static const struct edn_limits big = {.max_depth = 1u << 20,
                                      .max_bytes = 1u << 30};

static void check_prints_back(edn_arena *a, const edn_value *v,
                              const char *what) {
  struct edn_buf b = {0};
  CHECK(edn_print(&b, v) == 0, "%s: edn_print failed", what);
  edn_value *back = NULL;
  struct edn_error err;
  int rc = edn_read(a, b.ptr, b.len, &big, &back, &err);
  CHECK(rc == EDN_OK, "%s: print does not read back: %s: %.*s", what,
        err.message, (int)(b.len > 300 ? 300 : b.len), b.ptr);
  if (edn_equal(v, v))
    CHECK(edn_equal(v, back), "%s: reads back different: %.*s", what,
          (int)(b.len > 300 ? 300 : b.len), b.ptr);
  edn_buf_free(&b);
}

/* Walk the tree (iteratively: a loaded tree may be deep). */
static void check_tree(const struct scenario *s) {
  size_t cap = 64, len = 0, seen = 0;
  const struct tree_node **stack = malloc(cap * sizeof *stack);
  CHECK(stack, "out of memory");
  stack[len++] = s->root;
  while (len) {
    const struct tree_node *n = stack[--len];
    seen++;
    CHECK(n->name && n->path, "node without name or path");
    if (n->parent) {
      CHECK(n->depth == n->parent->depth + 1, "%s: depth %d under %d",
            n->path, n->depth, n->parent->depth);
    } else {
      CHECK(n == s->root && n->depth == 1, "parentless node %s", n->path);
    }
    const struct tree_node *f = scenario_find(s, n->path);
    CHECK(f && strcmp(f->path, n->path) == 0, "scenario_find(%s) misses",
          n->path);
    for (size_t i = 0; i < n->nchildren; i++) {
      CHECK(n->children[i]->parent == n, "%s: child's parent is wrong",
            n->path);
      if (len == cap) {
        cap *= 2;
        const struct tree_node **p = realloc(stack, cap * sizeof *p);
        CHECK(p, "out of memory");
        stack = p;
      }
      stack[len++] = n->children[i];
    }
  }
  CHECK(seen >= s->nnodes, "walked %zu nodes, nnodes says %zu", seen,
        s->nnodes);
  free(stack);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct scenario_error err;
  memset(&err, 0x55, sizeof err); /* the loader must fill what it reports */
  struct scenario *s =
      scenario_load_mem("fuzz.yaml", (const char *)data, size, &err);
  if (!s) {
    CHECK(memchr(err.message, '\0', sizeof err.message) != NULL,
          "error message not terminated");
    CHECK(memchr(err.file, '\0', sizeof err.file) != NULL,
          "error file not terminated");
    CHECK(err.pos.line >= 0 && err.pos.column >= 0, "error at %d:%d",
          err.pos.line, err.pos.column);
    return 0;
  }
  CHECK(s->root != NULL, "a loaded scenario without a root");
  check_tree(s);

  edn_arena *a = edn_arena_new();
  CHECK(a, "out of memory");
  edn_value *spec = scenario_node_spec(a, s->root);
  CHECK(spec && spec->type == EDN_MAP, "scenario_node_spec(root)");
  check_prints_back(a, spec, "root spec");
  for (size_t i = 0; i < s->nsteps; i++) {
    const struct step *st = &s->steps[i];
    if (st->send) {
      CHECK(st->send->type == EDN_MAP, "step %zu: :send is not a map", i);
      check_prints_back(a, st->send, "step send");
    }
    if (st->expect) check_prints_back(a, st->expect, "step expect");
  }
  edn_arena_free(a);
  scenario_free(s);
  return 0;
}
