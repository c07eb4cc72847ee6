/* test_html.c — the report pages from hand-made results and traces: hostile
 * evidence is escaped, every node is drawn with its outcome's class and id
 * (dot required: graphviz), the timeline merges the trace files by :t-us,
 * puts lifecycle events in their edge's lane, caps what it shows and says
 * how many events were left out; without dot the page is still written and
 * says why there is no picture; index.html lists each run with its verdict.
 * And the command line: --report into an unusable directory is exit 2 with
 * nothing run; --report with --trace reads the trace from --trace's DIR. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdbool.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proc_util.h"
#include "report.h"
#include "report_html.h"

static const char yaml[] =
    "name: hand-made\n"
    "description: a <b>made-up</b> run\n"
    "tree:\n"
    "  name: L1\n"
    "  children:\n"
    "    - name: L2a\n"
    "      children: [{name: L3a}]\n"
    "    - name: L2b\n"
    "steps:\n"
    "  - send: '{:id 1 :op :route :path [\"L2a\" \"L3a\"] :req {:op :panic}}'\n"
    "properties: [replies, containment, cascade]\n";

static char *tmp;
static struct scenario *sc;
static struct scenario_result res;
static struct node_result nodes[4];

/* Under memcheck (which follows children) dot would be judged too, and it
 * leaks by design: the pages are then made without it. */
static bool under_valgrind(void) {
  const char *p = getenv("LD_PRELOAD");
  return p && strstr(p, "vgpreload");
}

static void setup(void) {
  if (under_valgrind())
    setenv("PATH", "/nonexistent", 1);
  proc_become_subreaper();
  tmp = proc_tmpdir();
  struct scenario_error err;
  sc = scenario_load_mem("hand-made.yaml", yaml, strlen(yaml), &err);
  cr_assert(sc, "%d:%d: %s", err.pos.line, err.pos.column, err.message);
  memset(&res, 0, sizeof res);
  res.scenario = sc;
  res.failed_step = -1;
  res.ms = 12;
  res.steps = (struct check_result){VERDICT_PASS, "1 step", NULL, 1};
  res.props[PROP_REPLIES] = (struct check_result){VERDICT_PASS, NULL, NULL, 0};
  res.props[PROP_CASCADE] = (struct check_result){VERDICT_PASS, NULL, NULL, 0};
  res.props[PROP_CONTAINMENT] = (struct check_result){
      VERDICT_FAIL, "L2a <b>broke</b> & \"q\"",
      "containment: L2a <b>broke</b> & \"q\"\n"
      "the report of L2a <script>alert(1)</script> went missing\n"
      "a line naming nobody\n"
      "control \x01 and invalid \xff bytes",
      2};
  nodes[0] = (struct node_result){"L1", 10, OUTCOME_PASSED, 0, 0, false};
  nodes[1] = (struct node_result){"L2a", 11, OUTCOME_FAILED, 0,
                                  1u << PROP_CONTAINMENT, true};
  nodes[2] = (struct node_result){"L2a/L3a", 12, OUTCOME_CRASHED, 0, 0, true};
  nodes[3] = (struct node_result){"L2b", 13, OUTCOME_KILLED, 9, 0, false};
  res.nodes = nodes;
  res.nnodes = 4;
}

static void teardown(void) {
  scenario_free(sc);
  sc = NULL;
  proc_rmtree(tmp);
  free(tmp);
  tmp = NULL;
}

/* Criterion runs no .fini after a skip: clean up first. */
static void skip(const char *why) {
  teardown();
  cr_skip_test("%s", why);
}

static char *in_tmp(const char *name) {
  char *p = NULL;
  cr_assert(asprintf(&p, "%s/%s", tmp, name) > 0);
  return p;
}

/* A trace: `n` harness events and a node's file, interleaved in time, a
 * lifecycle event and an unreadable line. */
static char *make_trace(int n) {
  char *dir = in_tmp("trace");
  cr_assert_eq(mkdir(dir, 0755), 0);
  char *h = NULL, *k = NULL;
  cr_assert(asprintf(&h, "%s/harness-10-hand-made.ednl", dir) > 0);
  cr_assert(asprintf(&k, "%s/10.ednl", dir) > 0);
  FILE *fh = fopen(h, "we"), *fk = fopen(k, "we");
  cr_assert(fh && fk);
  for (int i = 0; i < n; i++)
    fprintf(fh, "{:t-us %d :edge [\"harness\" \"L1\"] :dir :%s :msg {:id %d "
            ":op :ping}}\n", 1000 + 2 * i, i % 2 ? "up" : "down", i);
  fprintf(fk, "{:t-us 1001 :edge [\"L1\" \"L2a\"] :dir :down :msg {:id 1 "
          ":op :ping :body \"<i>x</i>\"}}\n");
  fprintf(fk, "{:t-us 999 :edge [\"L2a\" \"L3a\"] :event :spawned :pid 12}\n");
  fprintf(fk, "this is not EDN {\n\n");
  fclose(fh);
  fclose(fk);
  free(h);
  free(k);
  return dir;
}

static char *page(const char *trace, size_t max_events) {
  struct report_page p = {&res, "hand-made", trace};
  char msg[512] = "";
  cr_assert_eq(report_html_page(tmp, &p, max_events, msg, sizeof msg), 0,
               "%s", msg);
  char *path = in_tmp("hand-made.html");
  char *html = proc_slurp(path);
  cr_assert(html, "read %s", path);
  free(path);
  return html;
}

static size_t occurrences(const char *s, const char *needle) {
  size_t n = 0;
  for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle))
    n++;
  return n;
}

Test(report_html, evidence_is_escaped, .init = setup, .fini = teardown) {
  char *html = page(NULL, 100);
  cr_expect(!strstr(html, "<script>") && !strstr(html, "<b>broke") &&
                !strstr(html, "<b>made-up"),
            "no markup from the run reaches the page");
  cr_expect(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;"),
            "evidence is escaped");
  cr_expect(strstr(html, "L2a &lt;b&gt;broke&lt;/b&gt; &amp; &quot;q&quot;"),
            "the summary is escaped");
  cr_expect(!memchr(html, '\x01', strlen(html)) && !strstr(html, "\xff"),
            "no control byte, no invalid UTF-8");
  cr_expect(strstr(html, "<!DOCTYPE html>") && strstr(html, "<style>") &&
                !strstr(html, "<script") && !strstr(html, "http://www.w3.org/1999/xhtml\""),
            "self-contained, no script");
  cr_expect(!strstr(html, "src=\"http") && !strstr(html, "href=\"http"),
            "nothing loaded from the network");
  free(html);
}

Test(report_html, nodes_drawn_by_outcome_and_linked, .init = setup,
     .fini = teardown) {
  if (under_valgrind())
    skip("dot is hidden under memcheck");
  char *dot = proc_which("dot");
  cr_assert(dot, "dot not found: run scripts/setup (graphviz is required)");
  free(dot);
  char *html = page(NULL, 100);
  static const char *const want[] = {
      "<g id=\"node&#45;L1\" class=\"node node&#45;passed\">",
      "<g id=\"node&#45;L2a\" class=\"node node&#45;failed\">",
      "<g id=\"node&#45;L2a.L3a\" class=\"node node&#45;crashed\">",
      "<g id=\"node&#45;L2b\" class=\"node node&#45;killed\">"};
  for (size_t i = 0; i < 4; i++)
    cr_expect(strstr(html, want[i]), "drawn: %s", want[i]);
  cr_expect(strstr(html, "fill=\"#e53935\""), "the failed node is filled red");
  cr_expect(strstr(html, "xlink:href=\"#ev&#45;node&#45;L2a\"") ||
                strstr(html, "xlink:href=\"#ev-node-L2a\""),
            "the failed node links to its card");
  const char *card = strstr(html, "id=\"ev-node-L2a\"");
  cr_assert(card, "L2a has an evidence card");
  const char *end = strstr(card, "</section>");
  cr_assert(end);
  char *c = strndup(card, (size_t)(end - card));
  cr_expect(strstr(c, "went missing") && !strstr(c, "naming nobody"),
            "the card shows the evidence lines naming L2a, only those: %s", c);
  free(c);
  cr_expect(strstr(html, "id=\"ev-node-L2b\"") && strstr(html, "signal 9"),
            "the killed node has a card with its signal");
  cr_expect(!strstr(html, "id=\"ev-node-L1\""), "a passed node has no card");
  cr_expect(strstr(html, "id=\"check-containment\""), "the full evidence");
  free(html);
}

/* A tree across hosts: a box per host around its nodes, the host in each
 * far node's tooltip. */
Test(report_html, far_nodes_boxed_by_host, .init = setup, .fini = teardown) {
  if (under_valgrind())
    skip("dot is hidden under memcheck");
  static const char far[] =
      "name: hand-made\nssh_config: /dev/null\n"
      "tree:\n  name: L1\n  children:\n"
      "    - name: L2a\n      host: h1\n      children: [{name: L3a}]\n"
      "    - name: L2b\n"
      "steps:\n  - send: '{:id 1 :op :ping}'\n";
  struct scenario_error err;
  struct scenario *f = scenario_load_mem("far.yaml", far, strlen(far), &err);
  cr_assert(f, "%d:%d: %s", err.pos.line, err.pos.column, err.message);
  scenario_free(sc);
  sc = f;
  res.scenario = f;
  char *html = page(NULL, 100);
  cr_expect(strstr(html, "class=\"cluster\""), "a box for h1");
  cr_expect(strstr(html, "<title>cluster_h1</title>"), "named for h1");
  cr_expect(strstr(html, "L2a/L3a: crashed, on h1, pid 12"),
            "the far node's tooltip names its host");
  cr_expect(!strstr(html, "L2b: killed, on"),
            "a local node's names none");
  free(html);
}

Test(report_html, no_dot_still_writes_the_page, .init = setup, .fini = teardown) {
  setenv("PATH", "/nonexistent", 1);
  char *html = page(NULL, 100);
  cr_expect(strstr(html, "No picture: cannot run dot"), "says why");
  cr_expect(strstr(html, "id=\"ev-node-L2a\""), "the evidence is still there");
  cr_expect(strstr(html, "— failed, pid 11, crashed too</h3>"),
            "a failed node that crashed says so");
  free(html);
}

Test(report_html, node_ids_are_distinct, .init = setup, .fini = teardown) {
  char *a = NULL, *b = NULL;
  size_t la, lb;
  FILE *f = open_memstream(&a, &la);
  html_put_node_id(f, "node-", "L2 a/x.y");
  fclose(f);
  f = open_memstream(&b, &lb);
  html_put_node_id(f, "node-", "L2 a.x/y");
  fclose(f);
  cr_expect_str_eq(a, "node-L2_20a.x_2ey");
  cr_expect_str_neq(a, b);
  free(a);
  free(b);
}

Test(report_html, timeline_merges_and_caps, .init = setup, .fini = teardown) {
  char *trace = make_trace(500);
  char *html = page(trace, 100);
  cr_expect(strstr(html, "502 events from 2 trace file(s), 3 lane(s)"),
            "every readable event counted");
  cr_expect(strstr(html, "<b>402 left out</b>") &&
                strstr(html, "… 402 events left out …"),
            "the cap is said, in the summary and in the table");
  cr_expect(strstr(html, "1 unreadable line(s) skipped"), "bad lines counted");
  cr_expect_eq(occurrences(html, "<tr><td class=\"t\">"), 100, "100 rows shown");
  /* merged by time: the spawn (999) first, then harness 1000, node 1001 */
  const char *table = strstr(html, "<table class=\"timeline\">");
  cr_assert(table, "the events' table");
  const char *spawn = strstr(table, "spawned</td>");
  const char *first = strstr(table, "{:id 0 :op :ping}");
  const char *node = strstr(table, "&lt;i&gt;x&lt;/i&gt;");
  cr_assert(spawn && first && node, "the three earliest events are shown");
  cr_expect(spawn < first && first < node, "in :t-us order");
  cr_expect(strstr(html, "<a href=\"#node-L2a.L3a\">L2a → L3a</a>"),
            "the lifecycle event is in its edge's lane, linked to the node");
  cr_expect(strstr(html, "{:id 499 :op :ping}"), "the last event is shown");
  cr_expect(!strstr(html, "{:id 200 :op :ping}"), "a middle one is left out");
  free(html);
  free(trace);
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "we");
  cr_assert(f, "create %s", path);
  fputs(text, f);
  fclose(f);
}

/* A far host's files, DIR/HOST/PID.ednl (--trace across hosts), are in
 * the timeline beside DIR's own; nothing deeper is read. */
Test(report_html, timeline_reads_far_hosts_files, .init = setup, .fini = teardown) {
  char *trace = make_trace(4), *h1 = NULL, *deep = NULL, *f = NULL;
  cr_assert(asprintf(&h1, "%s/h1", trace) > 0 && asprintf(&deep, "%s/h1/deep", trace) > 0);
  cr_assert_eq(mkdir(h1, 0755), 0);
  cr_assert_eq(mkdir(deep, 0755), 0);
  cr_assert(asprintf(&f, "%s/210.ednl", h1) > 0);
  write_file(f, "{:t-us 1003 :edge [\"L2b\" \"L3d\"] :dir :down :msg {:id 7 :op :far}}\n");
  free(f);
  cr_assert(asprintf(&f, "%s/211.ednl", deep) > 0);
  write_file(f, "{:t-us 1004 :edge [\"L9\" \"L9z\"] :dir :down :msg {:id 8 :op :deep}}\n");
  free(f);
  char *html = page(trace, 100);
  cr_expect(strstr(html, "7 events from 3 trace file(s)"), "h1's file counted");
  cr_expect(strstr(html, "{:id 7 :op :far}"), "the far host's event is shown");
  cr_expect(!strstr(html, ":deep"), "nothing below DIR/HOST is read");
  free(html);
  free(h1);
  free(deep);
  free(trace);
}

Test(report_html, index_lists_runs, .init = setup, .fini = teardown) {
  struct scenario_result ok = res;
  ok.props[PROP_CONTAINMENT].verdict = VERDICT_PASS;
  struct report_page ps[] = {{&res, "hand-made", NULL}, {&ok, "hand-made.2", NULL}};
  char msg[512] = "";
  cr_assert_eq(report_html_index(tmp, ps, 2, msg, sizeof msg), 0, "%s", msg);
  char *path = in_tmp("index.html");
  char *html = proc_slurp(path);
  cr_assert(html);
  cr_expect(strstr(html, "2 run(s): 1 passed, 1 failed"));
  cr_expect(strstr(html, "href=\"hand-made.html\"") &&
                strstr(html, "href=\"hand-made.2.html\""));
  cr_expect(strstr(html, ">FAIL</span></td><td><a href=\"hand-made.html\">"),
            "the failed run says FAIL: %s", html);
  cr_expect(strstr(html, "<td>containment</td>"), "and which check failed");
  free(html);
  free(path);
  cr_expect_eq(report_html_index("/nonexistent/dir", ps, 2, msg, sizeof msg), -1);
  cr_expect(strstr(msg, "/nonexistent/dir/index.html"), "%s", msg);
}

/* ---- the command line ---------------------------------------------------- */

/* Under memcheck every node of the tree would run under valgrind too, and
 * its own fds break isolation: treeproof runs belong to plain builds. */
static int treeproof(char **args, const char *out) {
  if (under_valgrind())
    skip("the tree's nodes would run under memcheck");
  char *argv[12] = {getenv("TREEPROOF"), "run"};
  int k = 2;
  for (; args[k - 2]; k++)
    argv[k] = args[k - 2];
  argv[k] = NULL;
  cr_assert(argv[0], "TREEPROOF is not set (run through ctest)");
  struct cmd c = {argv, NULL, out, false, 240000};
  return proc_run(&c);
}

Test(report_cli, unusable_dir_is_a_usage_error, .init = setup,
     .fini = teardown, .timeout = 60) {
  char *tree = NULL;
  cr_assert(asprintf(&tree, "%s/trees/seed-fractal.yaml",
                     getenv("TREEPROOF_SOURCE_DIR")) > 0);
  char *args[] = {"--report", "/nonexistent/dir/rep", tree, NULL};
  cr_expect_eq(treeproof(args, NULL), 2);
  free(tree);
}

Test(report_cli, trace_dir_given_is_used, .init = setup, .fini = teardown,
     .timeout = 280) {
  char *tree = NULL, *rep = in_tmp("rep"), *tr = in_tmp("tr");
  cr_assert(asprintf(&tree, "%s/trees/seed-fractal.yaml",
                     getenv("TREEPROOF_SOURCE_DIR")) > 0);
  char *args[] = {"--report", rep, "--trace", tr, "-j", "2", tree, NULL};
  cr_expect_eq(treeproof(args, NULL), 0);
  char *path = NULL;
  cr_assert(asprintf(&path, "%s/seed-fractal.html", rep) > 0);
  char *html = proc_slurp(path);
  cr_assert(html, "%s written", path);
  cr_expect(strstr(html, tr), "the timeline reads %s", tr);
  cr_expect(strstr(html, "L2b → L3c"), "with the nodes' own lanes");
  cr_expect(strstr(html, " — 8 nodes, "),
            "the 8 nodes' outcomes crossed from the -j worker");
  cr_expect(under_valgrind() || strstr(html, "class=\"node node&#45;passed\""),
            "and are drawn");
  char *own = NULL;
  cr_assert(asprintf(&own, "%s/trace", rep) > 0);
  cr_expect_neq(access(own, F_OK), 0, "no DIR/trace when --trace is given");
  free(own);
  free(html);
  free(path);
  free(tree);
  free(rep);
  free(tr);
}

Test(report_cli, escalated_parent_is_drawn_crashed, .init = setup,
     .fini = teardown, .timeout = 280) {
  char *tree = NULL, *rep = in_tmp("rep");
  cr_assert(asprintf(&tree, "%s/trees/crash-escalate.yaml",
                     getenv("TREEPROOF_SOURCE_DIR")) > 0);
  char *args[] = {"--report", rep, tree, NULL};
  cr_expect_eq(treeproof(args, NULL), 0);
  char *path = NULL;
  cr_assert(asprintf(&path, "%s/crash-escalate.html", rep) > 0);
  char *html = proc_slurp(path);
  cr_assert(html, "%s written", path);
  static const char *const want[] = {
      "<g id=\"node&#45;L2a.L3a\" class=\"node node&#45;crashed\">",
      "<g id=\"node&#45;L2a\" class=\"node node&#45;crashed\">",
      "<g id=\"node&#45;L1\" class=\"node node&#45;passed\">",
      "<g id=\"node&#45;L2b\" class=\"node node&#45;passed\">"};
  for (size_t i = 0; i < 4; i++)
    cr_expect(strstr(html, want[i]), "drawn: %s", want[i]);
  free(html);
  free(path);
  free(tree);
  free(rep);
}
