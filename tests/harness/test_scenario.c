/* test_scenario.c — the scenario loader: the data model of valid scenarios
 * (tree, generate, steps, spawn, properties, backpressure), the spec it
 * hands a node, every error class with its file:line:column (a table over
 * fixtures/yaml/), and hostile input that must fail cleanly. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"

static struct scenario *load_str(const char *text, struct scenario_error *e) {
  return scenario_load_mem("t.yaml", text, strlen(text), e);
}

static char *spec_str(const struct tree_node *n) {
  edn_arena *a = edn_arena_new();
  edn_value *v = scenario_node_spec(a, n);
  cr_assert_not_null(v);
  char *s = edn_to_string(v);
  edn_arena_free(a);
  return s;
}

static char *fixture(const char *name) {
  const char *top = getenv("TREEPROOF_SOURCE_DIR");
  cr_assert_not_null(top, "TREEPROOF_SOURCE_DIR must be set by ctest");
  char *p = NULL;
  cr_assert(asprintf(&p, "%s/%s", top, name) > 0);
  return p;
}

Test(scenario, seed_fractal_model) {
  char *path = fixture("trees/seed-fractal.yaml");
  struct scenario_error e;
  struct scenario *s = scenario_load(path, &e);
  cr_assert_not_null(s, "%s:%d:%d: %s", e.file, e.pos.line, e.pos.column, e.message);
  cr_expect_str_eq(s->name, "seed-fractal");
  cr_expect_eq(s->timeout_ms, 5000);
  cr_expect_eq(s->nnodes, 8);
  cr_expect_eq(s->nsteps, 8);
  for (int p = 0; p < PROP_COUNT; p++)
    cr_expect(s->properties[p], "property %s listed", property_name(p));
  cr_expect(s->has_crash);
  struct tree_node *l3c = scenario_find(s, "L2b/L3c");
  cr_assert_not_null(l3c);
  cr_expect_str_eq(l3c->path, "L2b/L3c");
  cr_expect_eq(l3c->depth, 3);
  cr_expect_eq(scenario_find(s, "L1"), s->root);
  cr_expect_null(scenario_find(s, "L2b/L3x"));
  cr_expect_eq(scenario_find(s, "L2b")->on_child_exit, POLICY_ISOLATE);
  struct step *st = s->steps;
  cr_expect_eq(st[0].action, STEP_SEND);
  cr_expect_not_null(st[0].expect);
  cr_expect_str_eq(st[0].send_text, "{:id 1 :op :fan :req {:op :ping}}");
  cr_expect_eq(st[1].action, STEP_SEND);
  cr_expect_null(st[1].expect);
  cr_expect_eq(st[2].action, STEP_EXPECT_EXIT);
  cr_expect_eq(st[2].node, l3c);
  cr_expect_eq(st[2].exit_code, 70);
  cr_expect_eq(st[2].exit_signal, -1);
  cr_expect_eq(st[4].action, STEP_KILL);
  cr_expect_eq(st[4].signal, SIGKILL);
  cr_expect_str_eq(st[4].node->path, "L2a");
  cr_expect_eq(st[5].action, STEP_HOLD);
  cr_expect_eq(st[6].action, STEP_WAIT);
  cr_expect_eq(st[6].wait_ms, 200);
  cr_expect_eq(st[7].action, STEP_RELEASE);
  cr_expect_eq(st[7].timeout_ms, 5000);
  cr_expect_str_eq(s->bp_hold->path, "L2a/L3a", "first leaf depth-first");
  cr_expect_eq(s->bp_rss_kb, 65536);
  char *spec = spec_str(scenario_find(s, "L2b"));
  cr_expect_str_eq(spec, "{:name \"L2b\" :depth 2 :children [{:name \"L3c\" "
                   ":depth 3 :children []} {:name \"L3d\" :depth 3 :children "
                   "[]}] :on-child-exit :isolate}");
  free(spec);
  scenario_free(s);
  free(path);
}

Test(scenario, defaults_and_spec_keys) {
  struct scenario_error e;
  struct scenario *s = load_str(
      "tree:\n  name: R\n  on_child_exit: restart\n  max_restarts: 2\n"
      "  restart_period_ms: 100\n  queue_bytes: 4096\n  grace_ms: 50\n"
      "steps: []\n", &e);
  cr_assert_not_null(s, "%s", e.message);
  cr_expect_str_eq(s->name, "t", "name defaults to the file's stem");
  cr_expect(s->properties[PROP_REPLIES] && s->properties[PROP_CASCADE]);
  cr_expect(!s->properties[PROP_ISOLATION]);
  char *spec = spec_str(s->root);
  cr_expect_str_eq(spec, "{:name \"R\" :depth 1 :children [] :on-child-exit "
                   ":restart :max-restarts 2 :restart-period-ms 100 "
                   ":queue-bytes 4096 :grace-ms 50}");
  free(spec);
  scenario_free(s);
}

Test(scenario, supervision_keys_reach_the_spec) {
  struct scenario_error e;
  struct scenario *s = load_str(
      "tree:\n  name: R\n  on_child_exit: one_for_all\n  stop_order: reverse\n"
      "  children:\n"
      "    - {name: A, restart: transient, shutdown_ms: 300,"
      " restart_backoff_ms: [50, 400]}\n"
      "    - {name: B, restart: temporary, shutdown: brutal_kill}\n"
      "    - {name: C, shutdown: infinity}\n"
      "steps: []\n", &e);
  cr_assert_not_null(s, "%s", e.message);
  char *spec = spec_str(s->root);
  cr_expect_str_eq(spec, "{:name \"R\" :depth 1 :children [{:name \"A\" "
                   ":depth 2 :children [] :restart :transient :shutdown-ms 300 "
                   ":restart-backoff-ms [50 400]} {:name \"B\" :depth 2 "
                   ":children [] :restart :temporary :shutdown :brutal-kill} "
                   "{:name \"C\" :depth 2 :children [] :shutdown :infinity}] "
                   ":on-child-exit :one-for-all :stop-order :reverse}");
  free(spec);
  const struct tree_node *a = s->root->children[0];
  cr_expect_eq(node_shutdown_bound_ms(a), 300);
  cr_expect_eq(node_shutdown_bound_ms(s->root->children[1]), 0);
  cr_expect_eq(node_shutdown_bound_ms(s->root->children[2]), -1);
  cr_expect_eq(node_backoff_ms(a, 1), 50);
  cr_expect_eq(node_backoff_ms(a, 3), 200);
  cr_expect_eq(node_backoff_ms(a, 9), 400, "capped at MAX");
  scenario_free(s);
}

Test(scenario, shutdown_defaults_follow_otp) {
  struct scenario_error e;
  struct scenario *s = load_str(
      "tree:\n  name: R\n  grace_ms: 700\n  children:\n"
      "    - {name: M, children: [{name: X}]}\n    - {name: L}\n"
      "    - {name: T, restart: temporary}\nsteps: []\n", &e);
  cr_assert_not_null(s, "%s: a temporary child under :isolate is fine",
                     e.message);
  cr_expect_eq(node_shutdown_bound_ms(s->root->children[0]), -1,
               "a middle node: infinity");
  cr_expect_eq(node_shutdown_bound_ms(s->root->children[1]), 700,
               "a leaf: its parent's grace");
  cr_expect_eq(node_restart(s->root->children[1]), RESTART_PERMANENT);
  scenario_free(s);
}

Test(scenario, generate_names_and_count) {
  struct scenario_error e;
  struct scenario *s = load_str("generate: {fanout: 10, depth: 3}\nsteps: []\n", &e);
  cr_assert_not_null(s, "%s", e.message);
  cr_expect_eq(s->nnodes, 1111);
  cr_expect_str_eq(s->root->name, "L1");
  struct tree_node *n = scenario_find(s, "L2-10/L3-10-1/L4-10-1-7");
  cr_assert_not_null(n);
  cr_expect_eq(n->depth, 4);
  cr_expect_eq(n->nchildren, 0);
  cr_expect_str_eq(s->bp_hold->path, "L2-1/L3-1-1/L4-1-1-1");
  scenario_free(s);
  s = load_str("generate: {fanout: 2, depth: 2, on_child_exit: escalate, "
               "grace_ms: 5000}\nsteps: []\n", &e);
  cr_assert_not_null(s, "%s", e.message);
  n = scenario_find(s, "L2-2/L3-2-1");
  cr_assert_not_null(n);
  cr_expect_eq(n->on_child_exit, POLICY_ESCALATE, "options hold for every node");
  cr_expect_eq(n->grace_ms, 5000);
  cr_expect_eq(s->root->grace_ms, 5000);
  scenario_free(s);
  s = load_str("generate: {fanout: 3, depth: 0}\nsteps: []\n", &e);
  cr_assert_not_null(s, "%s", e.message);
  cr_expect_eq(s->nnodes, 1);
  scenario_free(s);
}

Test(scenario, spawn_step_and_spawn_request) {
  struct scenario_error e;
  struct scenario *s = load_str(
      "tree: {name: L1, children: [{name: L2a}]}\n"
      "steps:\n"
      "  - spawn: {parent: L2a, spec: {name: L3n, children: [{name: L4n}]}}\n"
      "  - hold: L2a/L3n/L4n\n"
      "  - send: '{:id 1 :op :route :path [\"L2a\"] :req {:op :spawn :spec {:name \"L3m\"}}}'\n"
      "  - send: '{:id 2 :op :route :path [\"L2a\" \"L3m\"] :req {:op :ping}}'\n"
      "    expect: '{:id 2 :pong true}'\n", &e);
  cr_assert_not_null(s, "%d:%d %s", e.pos.line, e.pos.column, e.message);
  cr_expect_eq(s->nnodes, 2, "spawned nodes are not in the initial count");
  struct step *sp = &s->steps[0];
  cr_expect_eq(sp->action, STEP_SPAWN);
  cr_expect_str_eq(sp->node->path, "L2a");
  cr_expect_str_eq(sp->spawned->path, "L2a/L3n");
  cr_expect_eq(sp->spawned->depth, 3);
  char *root = spec_str(s->root);
  cr_expect_str_eq(root, "{:name \"L1\" :depth 1 :children [{:name \"L2a\" "
                   ":depth 2 :children []}]}", "spawned children stay out");
  free(root);
  char *child = spec_str(sp->spawned);
  cr_expect_str_eq(child, "{:name \"L3n\" :depth 3 :children [{:name \"L4n\" "
                   ":depth 4 :children []}]}");
  free(child);
  cr_expect_not_null(scenario_find(s, "L2a/L3m"));
  scenario_free(s);
}

Test(scenario, signals_and_statuses) {
  struct scenario_error e;
  struct scenario *s = load_str(
      "tree: {name: L1, children: [{name: a}]}\n"
      "steps:\n"
      "  - kill: a\n"
      "  - kill: {node: a, signal: SIGTERM}\n"
      "  - kill: {node: a, signal: usr1}\n"
      "  - kill: {node: a, signal: 15}\n"
      "  - expect_exit: {node: a, status: {signal: KILL}}\n"
      "  - expect_exit: {node: L1, status: {exit: 0}}\n"
      "  - send: '{:id 1 :op :fan :req {:op :panic :reason \"all\"}}'\n"
      "    timeout_ms: 250\n"
      "properties: [containment]\n", &e);
  cr_assert_not_null(s, "%d:%d %s", e.pos.line, e.pos.column, e.message);
  cr_expect_eq(s->steps[0].signal, SIGKILL);
  cr_expect_eq(s->steps[1].signal, SIGTERM);
  cr_expect_eq(s->steps[2].signal, SIGUSR1);
  cr_expect_eq(s->steps[3].signal, 15);
  cr_expect_eq(s->steps[4].exit_signal, SIGKILL);
  cr_expect_eq(s->steps[4].exit_code, -1);
  cr_expect_eq(s->steps[5].node, s->root);
  cr_expect_eq(s->steps[6].timeout_ms, 250);
  scenario_free(s);
}

/* Faults on a hop: edge: on kill (with a signal that ends it) and on hold
 * and release, only on a node with a host: of its own; a release of the
 * client is a crash step, a hold alone is none. */
Test(scenario, edge_steps) {
  struct scenario_error e;
  struct scenario *s = load_str(
      "tree: {name: L1, children: [{name: L2, host: h1}]}\n"
      "steps:\n  - kill: {node: L2, edge: session, signal: TERM}\n"
      "  - kill: {node: L2, edge: client}\n"
      "  - hold: {node: L2, edge: client}\n"
      "  - release: {node: L2, edge: client}\n"
      "  - hold: L2\n", &e);
  cr_assert_not_null(s, "%s", e.message);
  cr_expect_eq(s->steps[0].edge, EDGE_SESSION);
  cr_expect_eq(s->steps[0].signal, SIGTERM);
  cr_expect_eq(s->steps[1].edge, EDGE_CLIENT);
  cr_expect_eq(s->steps[1].signal, SIGKILL, "KILL by default, as for a node");
  cr_expect_eq(s->steps[2].action, STEP_HOLD);
  cr_expect_eq(s->steps[2].edge, EDGE_CLIENT);
  cr_expect_eq(s->steps[3].action, STEP_RELEASE);
  cr_expect_eq(s->steps[3].edge, EDGE_CLIENT);
  cr_expect_eq(s->steps[4].edge, EDGE_NONE, "the scalar form holds the node");
  cr_expect_str_eq(step_edge_name(EDGE_SESSION), "session");
  cr_expect_null(step_edge_name(EDGE_NONE));
  scenario_free(s);
  s = load_str("tree: {name: L1, children: [{name: L2, host: h1}]}\n"
               "steps:\n  - hold: {node: L2, edge: client}\n"
               "properties: [containment]\n", &e);
  cr_expect_null(s, "a hold alone crashes nothing");
  cr_expect(strstr(e.message, "containment is judged at crash steps"), "%s",
            e.message);
  scenario_free(s);
  s = load_str("tree: {name: L1, children: [{name: L2, host: h1}]}\n"
               "steps:\n  - hold: {node: L2, edge: client}\n"
               "  - release: {node: L2, edge: client}\n"
               "properties: [containment]\n", &e);
  cr_expect_not_null(s, "its release does: %s", e.message);
  scenario_free(s);
}

/* Tier 3: host on nodes (in effect below them), the top-level keys and
 * their defaults, :host in the spec, the root's spec with the inherited
 * keys, the distinct destinations, and status: lost. */
Test(scenario, host_keys) {
  struct scenario_error e;
  setenv("TREEPROOF_SSH_CONFIG", "/tmp/from-env", 1);
  struct scenario *s = load_str(
      "remote_watvm: /opt/w/watvm\nhop_bytes: 1000\n"
      "tree: {name: L1, children: [{name: L2a, host: h1, children: [{name: L3}]},"
      " {name: L2b, host: h2}, {name: L2c, host: h1}, {name: L2d}]}\n"
      "steps:\n  - expect_exit: {node: L2b, status: lost}\n"
      "  - send: '{:id 1 :op :spawn :spec {:name \"L3x\" :host \"h3\"}}'\n", &e);
  cr_assert_not_null(s, "%s", e.message);
  cr_expect_str_eq(s->ssh_config, "/tmp/from-env", "the default is the environment's");
  cr_expect(!s->ssh_config_given);
  cr_expect_str_eq(s->remote_watvm, "/opt/w/watvm");
  cr_expect_eq(s->hop_bytes, 1000);
  cr_expect_null(node_host(s->root), "the root is local");
  cr_expect_str_eq(node_host(scenario_find(s, "L2a")), "h1");
  cr_expect_str_eq(node_where(scenario_find(s, "L2a/L3")), "h1", "in effect below");
  cr_expect_null(node_host(scenario_find(s, "L2a/L3")), "node_host: its own key");
  cr_expect_null(scenario_find(s, "L2a/L3")->host, "but not its own key");
  cr_expect_null(node_host(scenario_find(s, "L2d")));
  cr_expect(s->steps[0].exit_lost);
  cr_expect(s->steps[0].exit_code < 0 && s->steps[0].exit_signal < 0);
  const char **hosts = NULL;
  cr_assert_eq(scenario_hosts(s, &hosts), 3, "h1 h2 and the spawned h3, once each");
  cr_expect_str_eq(hosts[0], "h1");
  cr_expect_str_eq(hosts[1], "h2");
  cr_expect_str_eq(hosts[2], "h3");
  free(hosts);
  edn_arena *a = edn_arena_new();
  edn_value *spec = scenario_root_spec(a, s);
  char *text = edn_to_string(spec);
  cr_expect(strstr(text, ":ssh-config \"/tmp/from-env\""), "%s", text);
  cr_expect(strstr(text, ":remote-watvm \"/opt/w/watvm\""), "%s", text);
  cr_expect(strstr(text, "{:name \"L2a\" :depth 2 :children [{:name \"L3\" :depth 3 "
                         ":children []}] :host \"h1\"}"), "%s", text);
  cr_expect_eq(strstr(strstr(text, "\"L3\""), ":host \"h1\"}") , strstr(text, ":host \"h1\"}"),
               "L3 has no :host of its own: %s", text);
  free(text);
  edn_arena_free(a);
  scenario_free(s);
  unsetenv("TREEPROOF_SSH_CONFIG");
  s = load_str("ssh_config: /etc/x\ntree: {name: L1}\nsteps: []\n", &e);
  cr_assert_not_null(s, "%s", e.message);
  cr_expect_str_eq(s->ssh_config, "/etc/x");
  cr_expect(s->ssh_config_given);
  cr_expect_eq(s->hop_bytes, SCENARIO_DEFAULT_HOP_BYTES);
  cr_expect_null(s->remote_watvm);
  cr_expect_eq(scenario_hosts(s, &hosts), 0);
  cr_expect_null(hosts);
  scenario_free(s);
  s = load_str("tree: {name: L1}\nsteps: []\n", &e);
  cr_assert_not_null(s, "%s", e.message);
  cr_expect_null(s->ssh_config, "no key, no environment: none");
  scenario_free(s);
}

Test(scenario, expect_alone_after_send) {
  struct scenario_error e;
  struct scenario *s = load_str(
      "tree: {name: L1}\nsteps:\n  - send: '{:id 7 :op :sleep :ms 10}'\n"
      "  - expect: '{:id 7 :slept 10}'\n", &e);
  cr_assert_not_null(s, "%s", e.message);
  cr_expect_eq(s->steps[1].action, STEP_EXPECT);
  cr_expect_null(s->steps[1].send);
  scenario_free(s);
}

struct bad_case {
  char file[64];
  int line, column;
  char message[96];
};

ParameterizedTestParameters(scenario, errors) {
  static struct bad_case c[] = {
      {"bad-unknown-key.yaml", 4, 1, "unknown key 'stesp'"},
      {"bad-unknown-node-key.yaml", 5, 7, "node: unknown key 'on_child_exits'"},
      {"bad-wrong-type-timeout.yaml", 2, 13, "timeout_ms: expected an integer, got 'soon'"},
      {"bad-wrong-type-children.yaml", 3, 13, "children: expected a sequence"},
      {"bad-policy.yaml", 3, 18, "expected isolate, escalate, restart, "
       "one_for_one, one_for_all or rest_for_one, got 'ignore'"},
      {"bad-restart-type.yaml", 5, 28, "restart: expected permanent, transient "
       "or temporary, got 'sometimes'"},
      {"bad-shutdown-both.yaml", 6, 20, "give either shutdown or shutdown_ms"},
      {"bad-shutdown-word.yaml", 4, 29, "expected brutal_kill or infinity"},
      {"bad-backoff-no-restart.yaml", 6, 7, "L2a's parent L1 never restarts a "
       "child (on_child_exit: isolate)"},
      {"bad-backoff-shape.yaml", 5, 45, "MAX (50) is below BASE (400)"},
      {"bad-root-child-key.yaml", 3, 3, "restart: the root has no parent"},
      {"bad-stop-order.yaml", 3, 15, "stop_order: expected parallel or reverse"},
      {"bad-generate-backoff.yaml", 1, 33, "the generated nodes never restart"},
      {"bad-generate-hosts.yaml", 2, 45, "generate: hosts: '-oProxyCommand=x' "
       "is no ssh destination: it starts with '-'"},
      {"bad-generate-hosts-type.yaml", 2, 40, "generate: hosts: expected a "
       "sequence"},
      {"bad-duplicate-sibling.yaml", 6, 13, "duplicate node name 'L2a' under 'L1'"},
      {"bad-duplicate-key.yaml", 3, 1, "key 'steps' given twice"},
      {"bad-missing-tree.yaml", 1, 1, "missing 'tree'"},
      {"bad-missing-steps.yaml", 1, 1, "missing 'steps'"},
      {"bad-tree-and-generate.yaml", 2, 1, "either tree or generate"},
      {"bad-route-path.yaml", 5, 11, "no child 'L3z' under 'L2a'"},
      {"bad-kill-path.yaml", 5, 18, "'L2b' names no node"},
      {"bad-no-action.yaml", 3, 5, "step: no action"},
      {"bad-two-actions.yaml", 4, 5, "two actions, 'hold' and 'kill'"},
      {"bad-edn.yaml", 3, 28, "send: not EDN"},
      {"bad-edn-expect.yaml", 4, 31, "expect: not EDN"},
      {"bad-send-not-map.yaml", 3, 11, "a map with :id and :op"},
      {"bad-send-no-op.yaml", 3, 11, "a map with :id and :op"},
      {"bad-send-negative-id.yaml", 3, 11, "negative"},
      {"bad-expect-unsent-id.yaml", 4, 13, "no earlier step sends :id 2"},
      {"bad-signal.yaml", 3, 31, "unknown signal 'SIGFOO'"},
      {"bad-exit-status.yaml", 3, 38, "{exit: N}, {signal: S} or lost"},
      {"bad-exit-status-word.yaml", 3, 37, "or lost, got 'gone'"},
      {"bad-exit-lost-local.yaml", 3, 40, "lost is for a node on another host"},
      {"bad-edge-local.yaml", 3, 29, "kill: edge: L2a is not started over ssh"},
      {"bad-edge-inherited-host.yaml", 3, 34, "release: edge: L2/L3 is not "
       "started over ssh (no host: of its own)"},
      {"bad-edge-word.yaml", 3, 29, "expected client or session, got 'socket'"},
      {"bad-edge-hold-session.yaml", 3, 29, "hold: edge: session is not held"},
      {"bad-edge-signal.yaml", 3, 45, "signal 19 does not end the ssh client"},
      {"bad-host-root.yaml", 3, 3, "host: the root runs where the harness runs"},
      {"bad-host-empty.yaml", 1, 46, "no ssh destination: it is empty"},
      {"bad-host-dash.yaml", 1, 46, "starts with '-'"},
      {"bad-host-type.yaml", 1, 46, "host: expected a string, got a sequence"},
      {"bad-ssh-config-type.yaml", 1, 13, "ssh_config: expected a string"},
      {"bad-remote-watvm-relative.yaml", 1, 15, "remote_watvm: expected an absolute path"},
      {"bad-hop-bytes.yaml", 1, 12, "hop_bytes: -1 is out of range"},
      {"bad-spawn-host.yaml", 3, 11, "a :spawn :spec: :host is empty"},
      {"bad-exit-code-range.yaml", 3, 45, "300 is out of range"},
      {"bad-property.yaml", 3, 23, "unknown property 'fairness'"},
      {"bad-containment-no-crash.yaml", 4, 23, "containment is judged at crash steps"},
      {"bad-generate-too-big.yaml", 1, 11, "more than 100000 nodes"},
      {"bad-generate-fanout.yaml", 1, 20, "fanout: 0 is out of range"},
      {"bad-spawn-dup.yaml", 3, 38, "duplicate node name 'L2a'"},
      {"bad-path-before-spawn.yaml", 3, 11, "no child 'L3new' under 'L2a'"},
      {"bad-backpressure-hold.yaml", 4, 22, "no child 'L2z'"},
      {"bad-name-slash.yaml", 1, 36, "the path separator"},
      {"bad-syntax.yaml", 2, 6, "YAML syntax"},
      {"bad-tab-indent.yaml", 2, 1, "YAML syntax"},
      {"bad-top-sequence.yaml", 1, 1, "a scenario is a mapping"},
      {"bad-empty.yaml", 1, 1, "empty scenario"},
      {"bad-comment-only.yaml", 1, 1, "empty scenario"},
      {"bad-two-documents.yaml", 3, 1, "more than one YAML document"},
      {"bad-duplicate-id.yaml", 4, 11, ":id 1 is already sent by an earlier step"},
      {"bad-rooted-path.yaml", 3, 11, "a path starts below the root"},
      {"hostile-billion-laughs.yaml", 2, 8, "aliases"},
      {"hostile-deep-mapping.yaml", 1, 2051, "nested too deeply"},
      {"hostile-deep-sequence.yaml", 1, 518, "nested too deeply"},
      {"hostile-binary.yaml", 1, 1, "YAML syntax"},
      {"hostile-nul.yaml", 3, 9, "control characters"},
  };
  return cr_make_param_array(struct bad_case, c, sizeof c / sizeof c[0]);
}

ParameterizedTest(struct bad_case *c, scenario, errors) {
  char rel[128];
  snprintf(rel, sizeof rel, "fixtures/yaml/%s", c->file);
  char *path = fixture(rel);
  struct scenario_error e;
  struct scenario *s = scenario_load(path, &e);
  cr_assert_null(s, "%s must not load", c->file);
  cr_expect_str_eq(e.file, path);
  cr_expect(e.pos.line == c->line && e.pos.column == c->column,
            "%s: expected %d:%d, got %d:%d (%s)", c->file, c->line, c->column,
            e.pos.line, e.pos.column, e.message);
  cr_expect(strstr(e.message, c->message) != NULL,
            "%s: expected '%s' in '%s'", c->file, c->message, e.message);
  free(path);
}

Test(scenario, missing_file) {
  struct scenario_error e;
  cr_expect_null(scenario_load("/nonexistent/x.yaml", &e));
  cr_expect(strstr(e.message, "cannot read") != NULL, "%s", e.message);
  /* no line was read: no made-up position */
  char msg[1200];
  scenario_error_format(&e, msg, sizeof msg);
  cr_expect_str_eq(msg, "/nonexistent/x.yaml: error: cannot read: No such "
                   "file or directory");
}

Test(scenario, huge_document_refused) {
  size_t len = (size_t)17 << 20;
  char *big = malloc(len);
  cr_assert_not_null(big);
  memset(big, '#', len);
  struct scenario_error e;
  cr_expect_null(scenario_load_mem("big.yaml", big, len, &e));
  cr_expect(strstr(e.message, "too large") != NULL, "%s", e.message);
  free(big);
}

Test(scenario, big_flat_sequence_bounded, .timeout = 60.) {
  /* 1.5 million scalars: over the node cap, refused without blowing up */
  size_t n = 1500000, len = 16 + n * 2;
  char *doc = malloc(len);
  cr_assert_not_null(doc);
  size_t k = (size_t)sprintf(doc, "steps: [");
  for (size_t i = 0; i < n; i++) {
    doc[k++] = '1';
    doc[k++] = ',';
  }
  doc[k - 1] = ']';
  struct scenario_error e;
  cr_expect_null(scenario_load_mem("flat.yaml", doc, k, &e));
  cr_expect(strstr(e.message, "too many YAML nodes") != NULL, "%s", e.message);
  free(doc);
}

Test(scenario, every_prefix_of_a_valid_file_is_safe) {
  /* truncations of a real scenario: each either loads or fails cleanly */
  char *path = fixture("trees/seed-fractal.yaml");
  FILE *f = fopen(path, "r");
  cr_assert_not_null(f);
  char buf[8192];
  size_t len = fread(buf, 1, sizeof buf, f);
  fclose(f);
  for (size_t cut = 0; cut <= len; cut += 7) {
    struct scenario_error e;
    struct scenario *s = scenario_load_mem("cut.yaml", buf, cut, &e);
    if (!s)
      cr_expect(e.pos.line >= 1 && e.pos.column >= 1 && e.message[0]);
    scenario_free(s);
  }
  free(path);
}

Test(scenario, shipped_trees_all_valid) {
  const char *names[] = {"seed-fractal", "deep-chain", "wide", "crash-isolate",
                         "crash-escalate", "crash-restart", "kill-middle",
                         "backpressure", "generated-10x3", "spawn-runtime"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    char rel[128];
    snprintf(rel, sizeof rel, "trees/%s.yaml", names[i]);
    char *path = fixture(rel);
    struct scenario_error e;
    struct scenario *s = scenario_load(path, &e);
    cr_expect_not_null(s, "%s:%d:%d: %s", e.file, e.pos.line, e.pos.column,
                       e.message);
    if (s)
      cr_expect_str_eq(s->name, names[i]);
    scenario_free(s);
    free(path);
  }
}

Test(scenario, mutations_never_crash, .timeout = 120.) {
  /* a deterministic fuzz: YAML-significant bytes dropped into real
   * scenarios; every load either succeeds or fails with a position */
  const char *files[] = {"trees/seed-fractal.yaml", "trees/crash-restart.yaml",
                         "trees/spawn-runtime.yaml"};
  static const char alphabet[] = ":-[]{}'\"&*!|>#,?%@`\n \t\\/_0123456789aZ";
  unsigned seed = 12345;
  /* Under memcheck a tenth of the rounds (the fuzz target does the rest):
   * what memcheck adds is the error paths' frees, which a few hundred
   * rounds already walk. */
  int rounds = getenv("TREEPROOF_MEMCHECK") ? 70 : 700;
  for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
    char *path = fixture(files[f]);
    FILE *in = fopen(path, "r");
    cr_assert_not_null(in);
    char orig[8192], buf[8192];
    size_t len = fread(orig, 1, sizeof orig, in);
    fclose(in);
    for (int round = 0; round < rounds; round++) {
      memcpy(buf, orig, len);
      int edits = 1 + (int)(rand_r(&seed) % 6);
      for (int k = 0; k < edits; k++) {
        size_t at = rand_r(&seed) % len;
        unsigned r = (unsigned)rand_r(&seed);
        buf[at] = (r & 1) ? alphabet[r % (sizeof alphabet - 1)] : (char)(r >> 8);
      }
      struct scenario_error e;
      struct scenario *s = scenario_load_mem("m.yaml", buf, len, &e);
      if (!s)
        cr_assert(e.pos.line >= 1 && e.pos.column >= 1 && e.message[0],
                  "round %d: an error without a position", round);
      scenario_free(s);
    }
    free(path);
  }
}
