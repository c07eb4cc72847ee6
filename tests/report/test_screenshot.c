/* test_screenshot.c — the --report page as a person sees it: treeproof
 * runs trees/crash-isolate.yaml twice with --report, once with
 * WATVM_FAULT=swallow-panic (the leaf's panic report never reaches its
 * parent: containment and the steps fail, naming L2a/L3a) and once without
 * (everything holds; L3a crashed as the scenario asked). Headless Chromium
 * renders each page: its DOM (--dump-dom) must hold the failed node's SVG
 * element (class node-failed) linked to its evidence card, and its
 * screenshot (--screenshot) is read by png_colours.py, which counts the
 * pixels of the exact "failed" fill: a node-sized blob in the failing page,
 * only the legend's swatch in the passing one.
 *
 * Chromium runs in its own process group with a private --user-data-dir
 * (and HOME, XDG_CONFIG_HOME, XDG_CACHE_HOME) under the test's temporary
 * directory, each run bounded; the test is a
 * subreaper, so the helpers Chromium daemonises come back to it and are
 * killed and reaped. Without Chromium the test fails and says to run
 * scripts/setup. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc_util.h"

#define FAILED_FILL "e53935"  /* report_outcome_colour(OUTCOME_FAILED) */
#define CRASHED_FILL "fb8c00" /* report_outcome_colour(OUTCOME_CRASHED) */
#define NODE_BLOB 1500        /* px: a node box is ~72x48 at scale 1 */
#define SWATCH_MAX 400        /* px: the legend's 14x14 swatch */

struct page {
  char *tmp;     /* removed at the end */
  char *html;    /* TMP/rep/crash-isolate.html */
  char *dom;     /* what --dump-dom printed */
};

static const char *env_or_fail(const char *name) {
  const char *v = getenv(name);
  cr_assert(v && *v, "%s is not set (run the suite through ctest)", name);
  return v;
}

static char *chromium_or_fail(void) {
  const char *want = getenv("TREEPROOF_CHROMIUM");
  char *c = proc_which(want ? want : "chromium");
  cr_assert(c, "chromium not found (%s): run scripts/setup, which installs "
            "chromium, gnuplot-nox and fonts-dejavu-core; the report "
            "screenshot test cannot be skipped", want ? want : "chromium on PATH");
  return c;
}

static char *path_in(const char *dir, const char *name) {
  char *p = NULL;
  cr_assert(asprintf(&p, "%s/%s", dir, name) > 0);
  return p;
}

/* treeproof run --report TMP/rep trees/crash-isolate.yaml */
static void run_report(struct page *pg, const char *fault, int want_exit) {
  char *tree = path_in(env_or_fail("TREEPROOF_SOURCE_DIR"),
                       "trees/crash-isolate.yaml");
  char *rep = path_in(pg->tmp, "rep");
  char *argv[] = {(char *)env_or_fail("TREEPROOF"), "run", "--report", rep,
                  tree, NULL};
  char *env[] = {(char *)fault, NULL};
  struct cmd c = {argv, fault ? env : NULL, NULL, false, 120000};
  int rc = proc_run(&c);
  cr_assert_eq(rc, want_exit, "treeproof run --report with %s: exit %d, "
               "wanted %d", fault ? fault : "no fault", rc, want_exit);
  pg->html = path_in(rep, "crash-isolate.html");
  cr_assert_eq(access(pg->html, R_OK), 0, "%s written", pg->html);
  char *index = path_in(rep, "index.html");
  char *text = proc_slurp(index);
  cr_assert(text && strstr(text, "href=\"crash-isolate.html\""),
            "index.html links the page: %s", text ? text : "(missing)");
  cr_expect(strstr(text, want_exit ? ">FAIL<" : ">PASS<") != NULL,
            "index.html shows the verdict");
  free(text);
  free(index);
  free(rep);
  free(tree);
}

static int chromium(const char *chrome, struct page *pg, const char *what,
                    const char *out) {
  char *user = path_in(pg->tmp, "chromium-profile");
  char *url = NULL;
  cr_assert(asprintf(&url, "file://%s", pg->html) > 0);
  char *argv[] = {(char *)chrome, "--headless", "--no-sandbox",
                  "--disable-gpu", "--no-first-run", "--disable-extensions",
                  "--disable-crash-reporter", "--force-color-profile=srgb",
                  "--hide-scrollbars", "--force-device-scale-factor=1",
                  "--window-size=1300,1400", (char *)what, NULL, NULL};
  char *userflag = NULL;
  cr_assert(asprintf(&userflag, "--user-data-dir=%s", user) > 0);
  argv[12] = url;
  /* the user data dir goes before the URL; the URL is last */
  char *full[16];
  int k = 0;
  for (int i = 0; i < 12; i++)
    full[k++] = argv[i];
  full[k++] = userflag;
  full[k++] = url;
  full[k] = NULL;
  /* its crash database and dconf cache go under TMP too, not into $HOME */
  char *env[4] = {NULL};
  cr_assert(asprintf(&env[0], "HOME=%s", pg->tmp) > 0 &&
            asprintf(&env[1], "XDG_CONFIG_HOME=%s/config", pg->tmp) > 0 &&
            asprintf(&env[2], "XDG_CACHE_HOME=%s/cache", pg->tmp) > 0);
  struct cmd c = {full, env, out, true, 90000};
  int rc = proc_run(&c);
  for (int i = 0; i < 3; i++)
    free(env[i]);
  free(userflag);
  free(url);
  free(user);
  return rc;
}

static void render(struct page *pg, const char *shot) {
  char *chrome = chromium_or_fail();
  char *dom = path_in(pg->tmp, "dom.html");
  int rc = chromium(chrome, pg, "--dump-dom", dom);
  cr_assert_eq(rc, 0, "chromium --dump-dom: exit %d (-1: timed out)", rc);
  pg->dom = proc_slurp(dom);
  cr_assert(pg->dom && strstr(pg->dom, "</html>"), "a DOM was dumped");
  char *flag = NULL;
  cr_assert(asprintf(&flag, "--screenshot=%s", shot) > 0);
  rc = chromium(chrome, pg, flag, NULL);
  cr_assert_eq(rc, 0, "chromium --screenshot: exit %d (-1: timed out)", rc);
  cr_assert_eq(access(shot, R_OK), 0, "the screenshot %s exists", shot);
  free(flag);
  free(dom);
  free(chrome);
}

/* png_colours.py SHOT RRGGBB → count and largest blob of that colour. */
static void colour(struct page *pg, const char *shot, const char *rgb,
                   int *count, int *largest) {
  char *script = path_in(env_or_fail("TREEPROOF_SOURCE_DIR"),
                         "tests/report/png_colours.py");
  char *out = path_in(pg->tmp, "colours.txt");
  char *argv[] = {"python3", script, (char *)shot, (char *)rgb, NULL};
  struct cmd c = {argv, NULL, out, false, 120000};
  cr_assert_eq(proc_run(&c), 0, "png_colours.py %s %s", shot, rgb);
  char *text = proc_slurp(out);
  cr_assert(text && sscanf(text, "count=%d largest=%d", count, largest) == 2,
            "png_colours.py said: %s", text ? text : "(nothing)");
  free(text);
  free(out);
  free(script);
}

static struct page pg; /* the test's; .fini cleans up even after a
                          failed assert */

static void setup(void) {
  proc_become_subreaper();
  pg = (struct page){proc_tmpdir(), NULL, NULL};
}

static void finish(void) {
  proc_rmtree(pg.tmp);
  cr_expect_neq(access(pg.tmp, F_OK), 0, "%s removed", pg.tmp);
  free(pg.tmp);
  free(pg.html);
  free(pg.dom);
  cr_expect_eq(proc_reap_all(5000), 0, "nothing left running");
  errno = 0;
  cr_expect(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD,
            "no child, no zombie left");
}

/* The evidence card of node `id` in the DOM: from its <section to the
 * next </section> (malloc'ed), or NULL. */
static char *card(const char *dom, const char *id) {
  char *needle = NULL;
  cr_assert(asprintf(&needle, "id=\"ev-node-%s\"", id) > 0);
  const char *at = strstr(dom, needle);
  free(needle);
  if (!at)
    return NULL;
  const char *end = strstr(at, "</section>");
  return end ? strndup(at, (size_t)(end - at)) : NULL;
}

Test(report_screenshot, failing_node_is_marked, .init = setup, .fini = finish,
     .timeout = 400) {
  run_report(&pg, "WATVM_FAULT=swallow-panic", 1);
  char *shot = path_in(pg.tmp, "fail.png");
  render(&pg, shot);
  /* the DOM: the SVG node, its link to the card, the card's evidence */
  cr_expect(strstr(pg.dom, "<g id=\"node-L2a.L3a\" class=\"node node-failed\">"),
            "the SVG element of L2a/L3a has class node-failed");
  cr_expect(strstr(pg.dom, "href=\"#ev-node-L2a.L3a\""),
            "the failed node links to its evidence");
  char *c = card(pg.dom, "L2a.L3a");
  cr_assert(c, "an evidence card for L2a/L3a");
  cr_expect(strstr(c, "data-node=\"L2a/L3a\"") && strstr(c, "containment") &&
                strstr(c, "did not reach L2a intact"),
            "the card holds the containment evidence: %s", c);
  free(c);
  cr_expect(strstr(pg.dom, "class=\"node node-passed\""),
            "the untouched nodes are drawn passed");
  cr_expect(strstr(pg.dom, "id=\"timeline\"") &&
                strstr(pg.dom, "L2a → L3a"),
            "the timeline has the L2a → L3a lane");
  /* the pixels */
  int count, largest;
  colour(&pg, shot, FAILED_FILL, &count, &largest);
  cr_expect_geq(largest, NODE_BLOB, "a node-sized blob of #" FAILED_FILL
                " (count %d, largest %d)", count, largest);
  free(shot);
}

Test(report_screenshot, passing_run_marks_nothing_failed, .init = setup,
     .fini = finish, .timeout = 400) {
  run_report(&pg, NULL, 0);
  char *shot = path_in(pg.tmp, "pass.png");
  render(&pg, shot);
  cr_expect(strstr(pg.dom, "node-failed") == NULL, "no node has class node-failed");
  cr_expect(strstr(pg.dom, "<g id=\"node-L2a.L3a\" class=\"node node-crashed\">"),
            "L3a, which the scenario panicked, is drawn crashed");
  int count, largest;
  colour(&pg, shot, FAILED_FILL, &count, &largest);
  cr_expect(count > 0, "the legend shows the failed colour");
  cr_expect_lt(largest, SWATCH_MAX, "#" FAILED_FILL " only in the legend's "
               "swatch (count %d, largest %d)", count, largest);
  colour(&pg, shot, CRASHED_FILL, &count, &largest);
  cr_expect_geq(largest, NODE_BLOB, "a node-sized blob of #" CRASHED_FILL
                " (count %d, largest %d)", count, largest);
  free(shot);
}
