/* test_trace.c — WATVM_TRACE's lifecycle events, read back from the node
 * files: a parent writes :spawned (with the child's pid, as :inspect gives
 * it) when it starts a child, :exited with the wait status when it reaps
 * one (a panicking child's {:exit 70}, a graceful {:exit 0}), and :signal
 * when it signals a child's group on SIGTERM; with WATVM_TRACE unset no
 * file is written at all. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <dirent.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tree_util.h"

static int fds0;
static char dir[64];

static void setup(void) {
  tree_subreaper();
  fds0 = fd_count();
  snprintf(dir, sizeof dir, "/tmp/watvm-trace-XXXXXX");
  cr_assert(mkdtemp(dir));
  setenv("WATVM_TRACE", dir, 1);
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *f) {
  (void)sb; (void)flag; (void)f;
  return remove(p);
}

static void teardown(void) {
  unsetenv("WATVM_TRACE");
  nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
  cr_expect_eq(tree_reap_orphans(2000), 0, "processes left behind");
  cr_expect_eq(fd_count(), fds0, "fds leaked");
}

TestSuite(trace, .init = setup, .fini = teardown, .timeout = 60.);

static const char *SPEC =
    "{:name \"L1\" :children [{:name \"A\" :children [{:name \"A1\"}]} "
    "{:name \"B\"}]}";

/* The lifecycle events of node `pid`'s file about child `child`, kind
 * `kind` ("spawned", ...), parsed into `a`; count in *n (at most 8). */
static size_t events(edn_arena *a, pid_t pid, const char *child,
                     const char *kind, edn_value **out) {
  char path[128];
  snprintf(path, sizeof path, "%s/%d.ednl", dir, (int)pid);
  FILE *f = fopen(path, "re");
  cr_assert(f, "no trace file %s", path);
  char *line = NULL;
  size_t cap = 0, n = 0;
  ssize_t len;
  while ((len = getline(&line, &cap, f)) > 0) {
    edn_value *v;
    cr_assert(edn_read(a, line, (size_t)len, NULL, &v, NULL) == EDN_OK,
              "not EDN: %s", line);
    cr_assert(edn_map_getk(v, "t-us"), "no :t-us: %s", line);
    edn_value *edge = edn_map_getk(v, "edge");
    cr_assert(edge && edge->type == EDN_VECTOR && edge->u.seq.len == 2);
    const edn_value *c = edge->u.seq.items[1];
    if (edn_is_keyword(edn_map_getk(v, "event"), kind) &&
        c->type == EDN_STRING && !strcmp(c->u.text.ptr, child) && n < 8)
      out[n++] = v;
  }
  free(line);
  fclose(f);
  return n;
}

static int64_t status_of(const edn_value *ev, const char *k) {
  const edn_value *st = edn_map_getk(ev, "status");
  return st ? get_int(st, k) : -1;
}

Test(trace, spawned_and_exited) {
  struct tree t;
  cr_assert(tree_start(&t, SPEC, false, NULL) == 0);
  pid_t root = tree_node_pid(&t, "", 5000), a = tree_node_pid(&t, "A", 5000);
  pid_t b = tree_node_pid(&t, "B", 5000), a1 = tree_node_pid(&t, "A/A1", 5000);
  cr_assert(root > 0 && a > 0 && b > 0 && a1 > 0);
  char line[256];
  route_line(line, sizeof line, 7, "B", "{:op :panic :reason \"x\"}");
  edn_value *r = tree_ask(&t, line, 5000);
  cr_assert(r && edn_map_getk(r, "error"), "the request waiting on B fails");
  int st = tree_close(&t, 10000);
  cr_assert(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
  tree_free(&t);

  edn_arena *ar = edn_arena_new();
  edn_value *ev[8];
  struct { pid_t parent; const char *child; pid_t pid; int64_t exit; } want[] = {
      {root, "A", a, 0}, {root, "B", b, 70}, {a, "A1", a1, 0}};
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    size_t n = events(ar, want[i].parent, want[i].child, "spawned", ev);
    cr_expect_eq(n, 1, "%s: %zu :spawned", want[i].child, n);
    if (n)
      cr_expect_eq(get_int(ev[0], "pid"), want[i].pid, "%s's :spawned :pid",
                   want[i].child);
    n = events(ar, want[i].parent, want[i].child, "exited", ev);
    cr_expect_eq(n, 1, "%s: %zu :exited", want[i].child, n);
    if (n) {
      cr_expect_eq(get_int(ev[0], "pid"), want[i].pid);
      cr_expect_eq(status_of(ev[0], "exit"), want[i].exit, "%s's :status",
                   want[i].child);
    }
  }
  /* a leaf starts nobody: its file holds no lifecycle event */
  cr_expect_eq(events(ar, a1, "A1", "spawned", ev), 0);
  edn_arena_free(ar);
}

Test(trace, signal_on_sigterm) {
  struct tree t;
  cr_assert(tree_start(&t, SPEC, false, NULL) == 0);
  pid_t root = tree_node_pid(&t, "", 5000), a = tree_node_pid(&t, "A", 5000);
  cr_assert(root > 0 && a > 0);
  cr_assert(kill(root, SIGTERM) == 0);
  int st = tree_wait(&t, 10000);
  cr_assert(st >= 0, "the root did not end after SIGTERM");
  tree_free(&t);
  edn_arena *ar = edn_arena_new();
  edn_value *ev[8];
  size_t n = events(ar, root, "A", "signal", ev);
  cr_expect_geq(n, 1, "no :signal to A");
  if (n) {
    cr_expect_eq(get_int(ev[0], "signal"), SIGTERM);
    cr_expect_eq(get_int(ev[0], "pid"), a);
  }
  cr_expect_eq(events(ar, root, "A", "exited", ev), 1, "A is reaped");
  edn_arena_free(ar);
}

Test(trace, off_writes_nothing) {
  unsetenv("WATVM_TRACE");
  struct tree t;
  cr_assert(tree_start(&t, SPEC, false, NULL) == 0);
  cr_assert(tree_node_pid(&t, "A/A1", 5000) > 0);
  cr_assert(tree_close(&t, 10000) >= 0);
  tree_free(&t);
  DIR *d = opendir(dir);
  cr_assert(d);
  struct dirent *e;
  int files = 0;
  while ((e = readdir(d)))
    files += e->d_name[0] != '.';
  closedir(d);
  cr_expect_eq(files, 0, "tracing off wrote %d files", files);
}

/* ---- exact event lines ---- */

/* Node `pid`'s trace file, each line with its :t-us value replaced by "T"
 * and each " :pid N" of the pids in `pids` by " :pid P<i>" (i its index),
 * as one malloc'ed string of '\n'-ended lines. */
static char *normalized(pid_t pid, const pid_t *pids, size_t npids) {
  char path[128];
  snprintf(path, sizeof path, "%s/%d.ednl", dir, (int)pid);
  FILE *f = fopen(path, "re");
  cr_assert(f, "no trace file %s", path);
  char *out = NULL;
  size_t outlen = 0;
  FILE *o = open_memstream(&out, &outlen);
  cr_assert(o);
  int c, prev = '\n';
  const char *tus = "{:t-us ";
  while ((c = fgetc(f)) != EOF) {
    fputc(c, o);
    if (prev == '\n' && c == '{') {
      /* a line starts: expect "{:t-us DIGITS" */
      char head[8] = {'{'};
      for (size_t i = 1; i < 7; i++) head[i] = (char)fgetc(f);
      cr_assert(!memcmp(head, tus, 7), "line does not start with {:t-us");
      fputs(tus + 1, o);
      while ((c = fgetc(f)) != EOF && c >= '0' && c <= '9') {}
      fputc('T', o);
      if (c != EOF) fputc(c, o);
    }
    prev = c;
  }
  fclose(f);
  fclose(o);
  for (size_t i = 0; i < npids; i++) {
    char from[32], to[32];
    int fl = snprintf(from, sizeof from, " :pid %d", (int)pids[i]);
    int tl = snprintf(to, sizeof to, " :pid P%zu", i);
    char *p;
    while ((p = strstr(out, from))) { /* the replacement is never longer */
      memcpy(p, to, (size_t)tl);
      memmove(p + tl, p + fl, strlen(p + fl) + 1);
    }
  }
  return out;
}

/* The lines of `text` that are not part of an :inspect exchange (whose
 * replies hold ppids, pgids and inodes), in a new malloc'ed string. */
static char *without_inspects(const char *text) {
  char *out = malloc(strlen(text) + 1), *o = out;
  cr_assert(out);
  for (const char *p = text; *p;) {
    const char *nl = strchr(p, '\n');
    size_t len = nl ? (size_t)(nl - p) + 1 : strlen(p);
    if (!memmem(p, len, ":msg {:op :inspect ", 19) && !memmem(p, len, " :fds [", 7)) {
      memcpy(o, p, len);
      o += len;
    }
    p += len;
  }
  *o = '\0';
  return out;
}

/* The messages on an edge and the lifecycle events come out exactly as
 * the EDN printer prints them: node names and strings holding quotes,
 * backslashes, control characters and non-ASCII text are escaped the
 * printer's way, every kind of value is printed as it is, one event per
 * line, in the order they happened. */
Test(trace, exact_lines) {
  /* the root "Ré" has two children, the first named so that it needs
   * escaping */
  const char *spec = "{:name \"R\u00e9\" :children [{:name \"q\\\"b\\\\s \u2603\\tx\"} "
                     "{:name \"B\"}]}";
  const char *child = "q\\\"b\\\\s \u2603\\tx"; /* as EDN string text */
  struct tree t;
  cr_assert(tree_start(&t, spec, false, NULL) == 0);
  pid_t root = tree_node_pid(&t, "", 5000), kid = tree_node_pid(&t, child, 5000);
  pid_t b = tree_node_pid(&t, "B", 5000);
  cr_assert(root > 0 && kid > 0 && b > 0);
  const char *body =
      "{\"k\\\"ey\" [1 -2 3.5 ##Inf \\a \\newline \\u00e9 nil true :kw ns/sym "
      "#{1} (1 2) #inst \"2020-01-01T00:00:00Z\" #my/tag {:a 1} "
      "12345678901234567890 1.5M] :s \"quote\\\" back\\\\ nl\\n cr\\r tab\\t "
      "bell\\u0007 del\\u007f \u00e9 \u2603 \U0001F600 end\" :short \"a\\\"\"}";
  char req[1024], line[2048];
  snprintf(req, sizeof req, "{:op :echo :body %s}", body);
  route_line(line, sizeof line, 9, child, req);
  edn_value *r = tree_ask(&t, line, 5000);
  char *rs = r ? edn_to_string(r) : NULL;
  cr_assert(r && edn_map_getk(r, "body"), "the echo is answered: %s", rs);
  free(rs);
  route_line(line, sizeof line, 10, child,
             "{:op :panic :reason \"bo\\\"om\\\\ \u00e9\\n\"}");
  r = tree_ask(&t, line, 5000);
  cr_assert(r && edn_map_getk(r, "error"), "the request waiting on the child fails");
  cr_assert(kill(root, SIGTERM) == 0);
  int st = tree_wait(&t, 10000);
  cr_assert(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
  tree_free(&t);

  pid_t pids[] = {root, kid, b};
  char *all = normalized(root, pids, 3), *got = without_inspects(all);
#define EDGE "{:t-us T :edge [\"R\u00e9\" \"q\\\"b\\\\s \u2603\\tx\"] "
#define BODY "{\"k\\\"ey\" [1 -2 3.5 ##Inf \\a \\newline \\\u00e9 nil true :kw " \
  "ns/sym #{1} (1 2) #inst \"2020-01-01T00:00:00Z\" #my/tag {:a 1} " \
  "12345678901234567890N 1.5M] :s \"quote\\\" back\\\\ nl\\n cr\\r tab\\t " \
  "bell\\u0007 del\\u007F \u00e9 \u2603 \U0001F600 end\" :short \"a\\\"\"}"
  /* A request routed on goes down as the bytes it came in (the body as
   * the test spelled it, the edge's :id last); a reply is traced as read. */
  const char *want_fmt =
      EDGE ":event :spawned :pid P1}\n"
      "{:t-us T :edge [\"R\u00e9\" \"B\"] :event :spawned :pid P2}\n"
      EDGE ":dir :down :msg {:op :echo :body %s :id 2}}\n"
      EDGE ":dir :up :msg {:id 2 :node \"q\\\"b\\\\s \u2603\\tx\" :body " BODY "}}\n"
      EDGE ":dir :down :msg {:op :panic :reason \"bo\\\"om\\\\ \u00e9\\n\" :id 3}}\n"
      EDGE ":dir :err :msg {:wat/panic {:node \"q\\\"b\\\\s \u2603\\tx\" :pid P1 "
      ":reason \"bo\\\"om\\\\ \u00e9\\n\" :cause nil}}}\n"
      EDGE ":event :exited :pid P1 :status {:exit 70}}\n"
      "{:t-us T :edge [\"R\u00e9\" \"B\"] :dir :stop :rung :term :why :end :pid P2}\n"
      "{:t-us T :edge [\"R\u00e9\" \"B\"] :event :signal :pid P2 :signal 15}\n"
      "{:t-us T :edge [\"R\u00e9\" \"B\"] :event :exited :pid P2 :status {:exit 0}}\n";
#undef EDGE
#undef BODY
  char *want = NULL;
  cr_assert(asprintf(&want, want_fmt, body) > 0);
  cr_expect_str_eq(got, want);
  free(want);
  free(got);
  free(all);
}
