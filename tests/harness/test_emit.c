/* test_emit.c — scenario_emit(): every shipped scenario (trees/,
 * conformance/trees/, tests/harness/trees/) loads, emits, loads again to the
 * same scenario, and emits the same text the second time; hostile strings
 * survive the quoting; a bad node spec is refused with a reason. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scenario.h"
#include "scenario_emit.h"

static char *src(const char *rel) {
  const char *root = getenv("TREEPROOF_SOURCE_DIR");
  char *p = NULL;
  cr_assert(asprintf(&p, "%s/%s", root ? root : ".", rel) > 0);
  return p;
}

/* ---- equality of two loaded scenarios, naming the first difference ----- */

static bool same_node(const struct tree_node *a, const struct tree_node *b,
                      char *why, size_t n) {
  if (strcmp(a->name, b->name) || strcmp(a->path, b->path) ||
      a->on_child_exit != b->on_child_exit || a->max_restarts != b->max_restarts ||
      a->restart_period_ms != b->restart_period_ms ||
      a->queue_bytes != b->queue_bytes || a->grace_ms != b->grace_ms ||
      a->spawn_step != b->spawn_step || a->depth != b->depth ||
      a->nchildren != b->nchildren || !a->host != !b->host ||
      (a->host && strcmp(a->host, b->host))) {
    snprintf(why, n, "node %s differs from %s", a->path, b->path);
    return false;
  }
  for (size_t i = 0; i < a->nchildren; i++)
    if (!same_node(a->children[i], b->children[i], why, n))
      return false;
  return true;
}

static bool same_path(const struct tree_node *a, const struct tree_node *b) {
  return (!a && !b) || (a && b && !strcmp(a->path, b->path));
}

static bool same_step(const struct step *a, const struct step *b) {
  return a->action == b->action && a->timeout_ms == b->timeout_ms &&
         ((!a->send_text && !b->send_text) ||
          (a->send_text && b->send_text && !strcmp(a->send_text, b->send_text))) &&
         ((!a->send && !b->send) || (a->send && b->send && edn_equal(a->send, b->send))) &&
         ((!a->expect && !b->expect) ||
          (a->expect && b->expect && edn_equal(a->expect, b->expect))) &&
         same_path(a->node, b->node) && a->exit_code == b->exit_code &&
         a->exit_signal == b->exit_signal && a->exit_lost == b->exit_lost &&
         (a->action != STEP_KILL || a->signal == b->signal) && a->edge == b->edge &&
         a->wait_ms == b->wait_ms && same_path(a->spawned, b->spawned);
}

static bool same_scenario(const struct scenario *a, const struct scenario *b,
                          char *why, size_t n) {
  if (strcmp(a->name, b->name) || a->timeout_ms != b->timeout_ms ||
      (!a->description != !b->description) ||
      (a->description && strcmp(a->description, b->description))) {
    snprintf(why, n, "header differs");
    return false;
  }
  if (a->ssh_config_given != b->ssh_config_given || a->hop_bytes != b->hop_bytes ||
      (a->ssh_config_given && strcmp(a->ssh_config, b->ssh_config)) ||
      !a->remote_watvm != !b->remote_watvm ||
      (a->remote_watvm && strcmp(a->remote_watvm, b->remote_watvm))) {
    snprintf(why, n, "the tier-3 keys differ");
    return false;
  }
  if (a->nnodes != b->nnodes || !same_node(a->root, b->root, why, n)) {
    if (a->nnodes != b->nnodes)
      snprintf(why, n, "%zu nodes, then %zu", a->nnodes, b->nnodes);
    return false;
  }
  if (a->nsteps != b->nsteps) {
    snprintf(why, n, "%zu steps, then %zu", a->nsteps, b->nsteps);
    return false;
  }
  for (size_t i = 0; i < a->nsteps; i++)
    if (!same_step(&a->steps[i], &b->steps[i])) {
      snprintf(why, n, "step %zu differs", i + 1);
      return false;
    }
  if (memcmp(a->properties, b->properties, sizeof a->properties) ||
      a->has_crash != b->has_crash || !same_path(a->bp_hold, b->bp_hold) ||
      a->bp_rss_kb != b->bp_rss_kb) {
    snprintf(why, n, "properties or backpressure differ");
    return false;
  }
  return true;
}

/* load → emit → load → emit: same scenario, same text. */
static void round_trip(const char *path) {
  struct scenario_error err;
  struct scenario *a = scenario_load(path, &err);
  cr_assert(a, "%s does not load: %d:%d: %s", path, err.pos.line,
            err.pos.column, err.message);
  struct edn_buf y1 = {0}, y2 = {0};
  cr_assert(scenario_emit(a, NULL, &y1) == 0);
  struct scenario *b = scenario_load_mem(path, y1.ptr, y1.len, &err);
  cr_assert(b, "%s: the emitted YAML does not load: %d:%d: %s\n%.*s", path,
            err.pos.line, err.pos.column, err.message, (int)y1.len, y1.ptr);
  char why[200] = "";
  cr_expect(same_scenario(a, b, why, sizeof why), "%s: %s\n%.*s", path, why,
            (int)y1.len, y1.ptr);
  cr_assert(scenario_emit(b, NULL, &y2) == 0);
  cr_expect(y1.len == y2.len && !memcmp(y1.ptr, y2.ptr, y1.len),
            "%s: the second emit differs from the first", path);
  edn_buf_free(&y1);
  edn_buf_free(&y2);
  scenario_free(a);
  scenario_free(b);
}

static size_t round_trip_dir(const char *rel) {
  char *dir = src(rel);
  DIR *d = opendir(dir);
  cr_assert(d, "cannot open %s", dir);
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    size_t len = strlen(e->d_name);
    if (len < 6 || strcmp(e->d_name + len - 5, ".yaml"))
      continue;
    char *p = NULL;
    cr_assert(asprintf(&p, "%s/%s", dir, e->d_name) > 0);
    round_trip(p);
    free(p);
    n++;
  }
  closedir(d);
  free(dir);
  return n;
}

Test(emit, round_trip_trees) { cr_expect(round_trip_dir("trees") >= 9); }
Test(emit, round_trip_conformance_trees) {
  cr_expect(round_trip_dir("conformance/trees") >= 5);
}
Test(emit, round_trip_harness_trees) {
  cr_expect(round_trip_dir("tests/harness/trees") >= 5);
}
Test(emit, round_trip_regressions) { round_trip_dir("trees/regressions"); }
/* The far trees, the edge: faults on a hop among them. */
Test(emit, round_trip_host_trees) { cr_expect(round_trip_dir("trees/hosts") >= 6); }

/* Strings that need each kind of quoting, names that look like YAML
 * keywords, a step timeout, a spawn step, backpressure off its default. */
/* Tier 3's keys come back: host on nodes and in a spawned spec, the
 * top-level keys, status: lost, the edge: of kill, hold and release. */
Test(emit, host_keys_round_trip) {
  char path[] = "/tmp/test_emit_hosts.XXXXXX";
  int fd = mkstemp(path);
  cr_assert_geq(fd, 0);
  static const char y[] =
      "ssh_config: /tmp/cfg\nremote_watvm: /opt/watvm\nhop_bytes: 8192\n"
      "tree: {name: L1, children: [{name: L2, host: h1, children: [{name: L3}]}]}\n"
      "steps:\n  - spawn: {parent: L2/L3, spec: {name: L4, host: h2}}\n"
      "  - expect_exit: {node: L2, status: lost}\n"
      "  - kill: {node: L2/L3/L4, edge: session, signal: TERM}\n"
      "  - hold: {node: L2, edge: client}\n"
      "  - release: {node: L2, edge: client}\n";
  cr_assert_eq(write(fd, y, sizeof y - 1), (ssize_t)(sizeof y - 1));
  close(fd);
  round_trip(path);
  unlink(path);
}

Test(emit, hostile_strings) {
  static const char y[] =
      "name: 'odd: name ''quoted'''\n"
      "description: \"tab\\there, line\\nbreak, \\u00e9 and \\u0085\"\n"
      "timeout_ms: 700\n"
      "tree:\n"
      "  name: 'true'\n"
      "  on_child_exit: restart\n"
      "  max_restarts: 2\n"
      "  children:\n"
      "    - {name: 'a''b', grace_ms: 10}\n"
      "    - {name: '#x', children: [{name: 'null'}]}\n"
      "steps:\n"
      "  - send: \"{:id 1 :op :echo :body \\\"it's\\\\n\\u00e9\\\"}\"\n"
      "    expect: '{:id 1 :body _}'\n"
      "    timeout_ms: 300\n"
      "  - spawn: {parent: '#x', spec: {name: s1, children: [{name: s2}]}}\n"
      "  - kill: {node: '#x/s1', signal: USR1}\n"
      "  - expect_exit: {node: '#x/s1', status: {signal: USR1}}\n"
      "  - hold: 'a''b'\n"
      "  - wait_ms: 5\n"
      "  - release: 'a''b'\n"
      "properties: [replies, backpressure, containment]\n"
      "backpressure: {hold: '#x/null', rss_kb: 1234}\n";
  struct scenario_error err;
  struct scenario *a = scenario_load_mem("hostile.yaml", y, sizeof y - 1, &err);
  cr_assert(a, "%d:%d: %s", err.pos.line, err.pos.column, err.message);
  struct edn_buf out = {0};
  cr_assert(scenario_emit(a, NULL, &out) == 0);
  struct scenario *b = scenario_load_mem("emitted.yaml", out.ptr, out.len, &err);
  cr_assert(b, "%d:%d: %s\n%.*s", err.pos.line, err.pos.column, err.message,
            (int)out.len, out.ptr);
  char why[200] = "";
  cr_expect(same_scenario(a, b, why, sizeof why), "%s\n%.*s", why,
            (int)out.len, out.ptr);
  cr_expect_str_eq(b->description, a->description);
  cr_expect_str_eq(b->steps[0].send_text, a->steps[0].send_text);
  edn_buf_free(&out);
  scenario_free(a);
  scenario_free(b);
}

Test(emit, options_skip_steps_and_properties) {
  char *p = src("trees/crash-isolate.yaml");
  struct scenario_error err;
  struct scenario *a = scenario_load(p, &err);
  cr_assert(a);
  bool skip[64] = {false}, props[PROP_COUNT] = {false};
  cr_assert(a->nsteps >= 3 && a->nsteps < 64);
  for (size_t i = 2; i < a->nsteps; i++)
    skip[i] = true;
  props[PROP_CONTAINMENT] = true;
  struct emit_opts o = {"made by a test\n\nsecond line", skip, props};
  struct edn_buf out = {0};
  cr_assert(scenario_emit(a, &o, &out) == 0);
  cr_expect(!strncmp(out.ptr, "# made by a test\n#\n# second line\n", 33));
  struct scenario *b = scenario_load_mem("cut.yaml", out.ptr, out.len, &err);
  cr_assert(b, "%d:%d: %s", err.pos.line, err.pos.column, err.message);
  cr_expect_eq(b->nsteps, 2);
  cr_expect(b->properties[PROP_CONTAINMENT] && !b->properties[PROP_REPLIES]);
  edn_buf_free(&out);
  scenario_free(a);
  scenario_free(b);
  free(p);
}

Test(emit, bad_spec_is_refused) {
  edn_arena *a = edn_arena_new();
  edn_value *v = NULL;
  static const char *bad[] = {"[1]", "{:children []}", "{:name \"x\" :colour 1}",
                              "{:name \"x\" :on-child-exit :panic}",
                              "{:name \"x\" :children [{:name 3}]}",
                              "{:name \"x\" :queue-bytes -1}"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    cr_assert(edn_read(a, bad[i], strlen(bad[i]), NULL, &v, NULL) == EDN_OK);
    struct edn_buf b = {0};
    char why[200] = "";
    cr_expect(scenario_emit_node(&b, v, 2, why, sizeof why) == -2,
              "%s was taken as a node spec", bad[i]);
    cr_expect(why[0], "no reason for %s", bad[i]);
    edn_buf_free(&b);
  }
  edn_arena_free(a);
}

Test(emit, signal_names) {
  char buf[16];
  cr_expect_str_eq(scenario_signal_name(SIGKILL, buf, sizeof buf), "KILL");
  cr_expect_str_eq(scenario_signal_name(SIGUSR2, buf, sizeof buf), "USR2");
  cr_expect_str_eq(scenario_signal_name(SIGALRM, buf, sizeof buf), "14");
}
