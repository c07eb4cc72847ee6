/* test_cov_load.c — the scenario loader's rarer rejections, each a small
 * scenario in memory that must fail with its own message at a line inside
 * the text (and nothing half-built returned), plus the valid shapes next to
 * them (a :spawn request with a nested child spec), so the rejections are
 * the fault's and not the frame's. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <string.h>

#include "edn.h"
#include "scenario.h"

/* Every case is this frame with one step (or one top-level key) changed. */
#define TREE "tree: {name: L1, children: [{name: L2a}]}\n"
#define PING "  - send: '{:id 1 :op :ping}'\n"

struct bad_case {
  char yaml[400];
  char message[120];
};

ParameterizedTestParameters(cov_load, rejects) {
  static struct bad_case c[] = {
      {"name: x\n" TREE "steps:\n" PING "properties: replies\n",
       "properties: expected a sequence"},
      {"name: x\n" TREE "steps:\n" PING "properties: [replies, replies]\n",
       "'replies' listed twice"},
      {"name: 'a#b'\n" TREE "steps:\n" PING,
       "name: a scenario name holds no '#'"},
      {"name: x\n" TREE "backpressure: {hold: L2a/L3n}\nsteps:\n"
       "  - spawn: {parent: L2a, spec: {name: L3n}}\n"
       "properties: [backpressure]\n",
       "hold names a node spawned by a step"},
      {"name: x\n" TREE "steps:\n"
       "  - send: '{:id 1 :op :route :path [1] :req {:op :ping}}'\n",
       "is a integer, not a string"},
      {"name: x\n" TREE "steps:\n  - send: '{:id 1 :op :spawn :spec {}}'\n",
       "a :spawn :spec needs :name"},
      {"name: x\n" TREE "steps:\n  - send: '{:id 1 :op :spawn}'\n",
       ":spawn needs :spec, a map"},
      {"name: x\n" TREE "steps:\n"
       "  - send: '{:id 1 :op :route :path [] :req 5}'\n",
       ":req must be a map with :op"},
      {"name: x\n" TREE "steps:\n  - send: '{:id \"x\" :op :ping}'\n",
       ":id must be an integer, got a string"},
      {"name: x\n" TREE "steps:\n  - send: '{:id 1 :op :ping}'\n"
       "    expect: '[1]'\n",
       "a reply pattern is a map, got a vector"},
      {"name: x\n" TREE "steps:\n" PING "  - expect: '{:pong true}'\n",
       "without send in the same step the pattern needs :id"},
      {"name: x\n" TREE "steps:\n  - kill: {node: L2a, signal: [9]}\n",
       "expected a signal name or number"},
      {"name: x\n" TREE "steps:\n  - expect_exit: {node: L2a}\n",
       "expect_exit: needs node and status"},
      {"name: x\n" TREE "steps:\n  - kill: {signal: KILL}\n",
       "kill: needs node"},
      {"name: x\n" TREE "steps:\n  - spawn: {parent: L2a}\n",
       "spawn: needs parent"},
      {"name: x\n" TREE "steps:\n  - send: '{:id 1 :op :ping}'\n"
       "    expect: '{:id 1}'\n    kill: L2a\n",
       "is a third action"},
      {"name: x\n" TREE "steps:\n  - hold: [L2a]\n",
       "hold: expected a node path"},
      {"name: x\ntree: {children: [{name: L2a}]}\nsteps:\n" PING,
       "node: missing 'name'"},
      {"name: x\ngenerate: {fanout: 2}\nsteps:\n" PING,
       "generate: needs both fanout and depth"},
  };
  return cr_make_param_array(struct bad_case, c, sizeof c / sizeof c[0]);
}

ParameterizedTest(struct bad_case *c, cov_load, rejects) {
  struct scenario_error err;
  memset(&err, 0, sizeof err);
  struct scenario *s = scenario_load_mem("t.yaml", c->yaml, strlen(c->yaml),
                                         &err);
  cr_expect_null(s, "loaded, expected '%s':\n%s", c->message, c->yaml);
  scenario_free(s);
  cr_expect(strstr(err.message, c->message), "message '%s', expected '%s'",
            err.message, c->message);
  int lines = 0;
  for (const char *p = c->yaml; *p; p++)
    lines += *p == '\n';
  cr_expect(err.pos.line >= 1 && err.pos.line <= lines,
            "line %d outside the text (%d lines): %s", err.pos.line, lines,
            err.message);
}

/* A :spawn request sent by hand, with a child of its own: accepted, and
 * the spawned nodes become addressable by later steps. */
Test(cov_load, a_send_spawn_with_a_nested_spec) {
  const char *y = "name: x\n" TREE "steps:\n"
                  "  - send: '{:id 1 :op :spawn :spec {:name \"n\" "
                  ":children [{:name \"m\"}]}}'\n"
                  "  - send: '{:id 2 :op :route :path [\"n\" \"m\"] "
                  ":req {:op :ping}}'\n"
                  "    expect: '{:id 2 :pong true}'\n";
  struct scenario_error err;
  struct scenario *s = scenario_load_mem("t.yaml", y, strlen(y), &err);
  cr_assert_not_null(s, "%d:%d: %s", err.pos.line, err.pos.column,
                     err.message);
  cr_expect_eq(s->nsteps, 2);
  scenario_free(s);
}

/* A generated tree just under the node cap (1 + 46 + 46^2 + 46^3 = 99,499)
 * loads, with its options on every node, and its root spec — every node —
 * prints and reads back equal (what the scenario fuzz target checks; its
 * 40 bytes were a fuzzer's slow unit, not a bug). One level more is
 * refused. */
Test(cov_load, a_generated_tree_at_the_node_cap) {
  const char *y = "generate: {fanout: 46, depth: 3, grace_ms: 7}\n"
                  "steps:\n  - send: '{:id 1 :op :fan :req {:op :ping}}'\n";
  struct scenario_error err;
  struct scenario *s = scenario_load_mem("cap.yaml", y, strlen(y), &err);
  cr_assert_not_null(s, "%d:%d: %s", err.pos.line, err.pos.column, err.message);
  cr_expect_eq(s->nnodes, 99499);
  struct tree_node *leaf = scenario_find(s, "L2-46/L3-46-46/L4-46-46-46");
  cr_assert_not_null(leaf, "the last leaf by its path");
  cr_expect_eq(leaf->grace_ms, 7);
  edn_arena *a = edn_arena_new();
  edn_value *spec = scenario_node_spec(a, s->root), *back = NULL;
  struct edn_buf b = {0};
  cr_assert(spec && edn_print(&b, spec) == 0);
  struct edn_limits lim = {.max_depth = 1024, .max_bytes = 1u << 30};
  struct edn_error ee;
  cr_assert_eq(edn_read(a, b.ptr, b.len, &lim, &back, &ee), EDN_OK, "%s", ee.message);
  cr_expect(edn_equal(spec, back), "the spec reads back equal");
  edn_buf_free(&b);
  edn_arena_free(a);
  scenario_free(s);
  const char *over = "generate: {fanout: 47, depth: 3}\nsteps: []\n";
  cr_expect_null(scenario_load_mem("over.yaml", over, strlen(over), &err));
  cr_expect(strstr(err.message, "more than 100000 nodes"), "%s", err.message);
}
