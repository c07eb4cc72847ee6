/* test_cli.c — the treeproof command line as users meet it: help, version,
 * usage errors (exit 2), `check` over the shipped trees and the malformed
 * fixtures (file:line:column, nothing launched), `graph`, and end-to-end
 * `run`s of real trees (exit 0 held, 1 failed with a readable difference,
 * TAP on stdout with --tap) that leave no process behind. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct outcome {
  int status;      /* exit status, or 128+signal */
  char *out, *err; /* malloc'ed */
};

static char mark[64]; /* in the environment of every tree we launch */

static char *slurp_fd(int fd) {
  lseek(fd, 0, SEEK_SET);
  char *buf = NULL;
  size_t cap = 0;
  FILE *m = open_memstream(&buf, &cap);
  char chunk[4096];
  ssize_t n;
  while ((n = read(fd, chunk, sizeof chunk)) > 0)
    fwrite(chunk, 1, (size_t)n, m);
  fclose(m);
  close(fd);
  return buf;
}

static int temp_fd(void) {
  char path[] = "/tmp/treeproof-cli-XXXXXX";
  int fd = mkostemp(path, O_CLOEXEC);
  cr_assert_geq(fd, 0);
  unlink(path);
  return fd;
}

/* Run treeproof with `args` (NULL-terminated), in the source tree, bounded
 * by `timeout_s`. */
static struct outcome tp(double timeout_s, const char *const *args) {
  const char *exe = getenv("TREEPROOF"), *top = getenv("TREEPROOF_SOURCE_DIR");
  cr_assert_not_null(exe, "TREEPROOF must be set by ctest");
  cr_assert_not_null(top, "TREEPROOF_SOURCE_DIR must be set by ctest");
  int out = temp_fd(), err = temp_fd();
  pid_t pid = fork();
  cr_assert_geq(pid, 0);
  if (pid == 0) {
    const char *argv[32] = {exe};
    for (size_t i = 0; args[i] && i < 30; i++)
      argv[i + 1] = args[i];
    dup2(out, 1);
    dup2(err, 2);
    if (chdir(top) < 0)
      _exit(126);
    setenv("TREEPROOF_TEST_MARK", mark, 1);
    execv(exe, (char **)argv);
    _exit(127);
  }
  struct timespec t0, now, nap = {0, 10 * 1000 * 1000};
  clock_gettime(CLOCK_MONOTONIC, &t0);
  int st = 0;
  for (;;) {
    pid_t w = waitpid(pid, &st, WNOHANG);
    if (w == pid)
      break;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec - t0.tv_sec > timeout_s) {
      kill(pid, SIGKILL);
      waitpid(pid, &st, 0);
      cr_assert_fail("treeproof did not finish within %.0f s", timeout_s);
      break;
    }
    nanosleep(&nap, NULL);
  }
  struct outcome o = {WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st),
                      slurp_fd(out), slurp_fd(err)};
  return o;
}

static void done(struct outcome *o) {
  free(o->out);
  free(o->err);
}

/* No process anywhere carries this test's mark: the tree is gone. */
static void assert_nothing_left(void) {
  DIR *d = opendir("/proc");
  cr_assert_not_null(d);
  struct dirent *e;
  int found = 0;
  while ((e = readdir(d))) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9')
      continue;
    char path[300], env[65536];
    snprintf(path, sizeof path, "/proc/%s/environ", e->d_name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      continue;
    ssize_t n = read(fd, env, sizeof env - 1);
    close(fd);
    if (n > 0 && memmem(env, (size_t)n, mark, strlen(mark)))
      found++;
  }
  closedir(d);
  cr_expect_eq(found, 0, "%d processes of the run are still alive", found);
  cr_expect(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD, "no child left");
}

static void init_mark(void) {
  snprintf(mark, sizeof mark, "treeproof-cli-%d-%ld", getpid(), (long)time(NULL));
}

TestSuite(cli, .init = init_mark, .timeout = 120.);

Test(cli, help_and_version) {
  struct outcome o = tp(10, (const char *[]){"--help", NULL});
  cr_expect_eq(o.status, 0);
  cr_expect(strstr(o.out, "usage: treeproof run [--tap]") != NULL, "%s", o.out);
  done(&o);
  o = tp(10, (const char *[]){"--version", NULL});
  cr_expect_eq(o.status, 0);
  cr_expect(strncmp(o.out, "treeproof ", 10) == 0, "%s", o.out);
  done(&o);
}

Test(cli, usage_errors_exit_2) {
  const char *const *cases[] = {
      (const char *[]){NULL},
      (const char *[]){"frobnicate", NULL},
      (const char *[]){"run", NULL},
      (const char *[]){"run", "--bogus", "trees/wide.yaml", NULL},
      (const char *[]){"run", "-j", "0", "trees/wide.yaml", NULL},
      (const char *[]){"run", "--junit", NULL},
      (const char *[]){"check", "--tap", "trees/wide.yaml", NULL},
      (const char *[]){"graph", "trees/wide.yaml", "trees/deep-chain.yaml", NULL},
      (const char *[]){"run", "--node-cmd", "/nonexistent/node", "trees/wide.yaml", NULL},
      (const char *[]){"run", "--junit", "/nonexistent-dir/x.xml", "trees/wide.yaml", NULL},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct outcome o = tp(10, cases[i]);
    cr_expect_eq(o.status, 2, "case %zu: exit %d, stderr: %s", i, o.status, o.err);
    cr_expect(strstr(o.err, "treeproof: fatal: ") != NULL, "case %zu: %s", i, o.err);
    cr_expect_eq(strlen(o.out), 0, "case %zu: nothing on stdout: %s", i, o.out);
    done(&o);
  }
  assert_nothing_left();
}

/* Every subcommand reads `--opt=value` as `--opt value`: the value gets
 * checked (so the option was recognised), and an empty one is refused. */
Test(cli, options_take_equals_in_every_subcommand) {
  struct {
    const char *const *args;
    const char *says;
  } cases[] = {
      {(const char *[]){"run", "-j=0", "trees/wide.yaml", NULL}, "-j: '0' is not"},
      {(const char *[]){"run", "--jobs=300", "trees/wide.yaml", NULL}, "-j: '300' is not"},
      {(const char *[]){"run", "--junit=", "trees/wide.yaml", NULL}, "needs a value"},
      {(const char *[]){"chaos", "trees/wide.yaml", "--seed=1", "--rounds=0", NULL},
       "--rounds needs an integer"},
      {(const char *[]){"chaos", "trees/wide.yaml", "--seed=x", "--rounds=1", NULL},
       "--seed needs a non-negative integer, not x"},
      {(const char *[]){"replay", "--trace=", "t.ednl", NULL}, "needs a value: --trace="},
      {(const char *[]){"shrink", "--max-runs=0", "trees/wide.yaml", NULL},
       "--max-runs needs a number from 1 to 100000, not 0"},
      {(const char *[]){"shrink", "--node-cmdx=y", "trees/wide.yaml", NULL},
       "unknown option --node-cmdx=y"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct outcome o = tp(10, cases[i].args);
    cr_expect_eq(o.status, 2, "case %zu: exit %d, stderr: %s", i, o.status, o.err);
    cr_expect(strstr(o.err, cases[i].says) != NULL, "case %zu: %s", i, o.err);
    done(&o);
  }
  struct outcome o = tp(60, (const char *[]){"run", "--jobs=2", "--tap",
                                             "trees/wide.yaml", "trees/crash-isolate.yaml",
                                             NULL});
  cr_expect_eq(o.status, 0, "stdout: %s\nstderr: %s", o.out, o.err);
  cr_expect(strncmp(o.out, "TAP version 13\n", 15) == 0, "%s", o.out);
  done(&o);
  assert_nothing_left();
}

Test(cli, check_shipped_trees) {
  struct outcome o = tp(30, (const char *[]){
      "check", "trees/seed-fractal.yaml", "trees/deep-chain.yaml", "trees/wide.yaml",
      "trees/crash-isolate.yaml", "trees/crash-escalate.yaml",
      "trees/crash-restart.yaml", "trees/kill-middle.yaml",
      "trees/backpressure.yaml", "trees/generated-10x3.yaml",
      "trees/spawn-runtime.yaml", NULL});
  cr_expect_eq(o.status, 0, "%s", o.err);
  cr_expect(strstr(o.out, "trees/generated-10x3.yaml: ok (generated-10x3: 1111 nodes") != NULL,
            "%s", o.out);
  int lines = 0;
  for (const char *p = o.out; (p = strchr(p, '\n')); p++)
    lines++;
  cr_expect_eq(lines, 10);
  done(&o);
}

Test(cli, check_reports_every_invalid_file) {
  struct outcome o = tp(10, (const char *[]){
      "check", "fixtures/yaml/bad-edn.yaml", "trees/wide.yaml",
      "fixtures/yaml/bad-kill-path.yaml", NULL});
  cr_expect_eq(o.status, 2);
  cr_expect(strstr(o.err, "fixtures/yaml/bad-edn.yaml:3:28: error: send: not EDN") != NULL,
            "%s", o.err);
  cr_expect(strstr(o.err, "fixtures/yaml/bad-kill-path.yaml:5:18: error: kill: node: "
                          "'L2b' names no node") != NULL, "%s", o.err);
  done(&o);
}

Test(cli, run_validates_everything_before_launching) {
  struct outcome o = tp(20, (const char *[]){
      "run", "trees/seed-fractal.yaml", "fixtures/yaml/bad-two-actions.yaml", NULL});
  cr_expect_eq(o.status, 2);
  cr_expect(strstr(o.err, "bad-two-actions.yaml:4:5: error: step: two actions") != NULL,
            "%s", o.err);
  cr_expect_null(strstr(o.out, "PASS"), "nothing ran: %s", o.out);
  done(&o);
  assert_nothing_left();
}

Test(cli, graph_dot) {
  struct outcome o = tp(10, (const char *[]){"graph", "trees/seed-fractal.yaml", NULL});
  cr_expect_eq(o.status, 0);
  cr_expect(strncmp(o.out, "digraph \"seed-fractal\" {", 24) == 0, "%s", o.out);
  const char *edges[] = {"\"L1\" -> \"L2a\";", "\"L1\" -> \"L2b\";", "\"L1\" -> \"L2c\";",
                         "\"L2a\" -> \"L3a\";", "\"L2a\" -> \"L3b\";",
                         "\"L2b\" -> \"L3c\";", "\"L2b\" -> \"L3d\";"};
  int arrows = 0;
  for (const char *p = o.out; (p = strstr(p, " -> ")); p++)
    arrows++;
  cr_expect_eq(arrows, 7, "one edge per tree edge:\n%s", o.out);
  for (size_t i = 0; i < 7; i++)
    cr_expect(strstr(o.out, edges[i]) != NULL, "%s in\n%s", edges[i], o.out);
  done(&o);
}

/* A tree across hosts: the same edges, and one cluster per host holding
 * exactly the nodes that run there. */
Test(cli, graph_clusters_per_host) {
  struct outcome o = tp(10, (const char *[]){"graph", "trees/hosts/far-seed-fractal.yaml", NULL});
  cr_expect_eq(o.status, 0);
  const char *h1 = strstr(o.out, "subgraph \"cluster_h1\" {");
  const char *h2 = strstr(o.out, "subgraph \"cluster_h2\" {");
  cr_assert(h1 && h2 && h1 < h2, "%s", o.out);
  cr_expect(strstr(h1, "label=\"h1\";\n    \"L2b\";\n    \"L3c\";\n  }"), "%s", o.out);
  cr_expect(strstr(h2, "label=\"h2\";\n    \"L3d\";\n  }"), "%s", o.out);
  cr_expect(strstr(o.out, "\"L2b\" -> \"L3d\";"), "%s", o.out);
  done(&o);
}

Test(cli, run_seed_fractal_holds) {
  struct outcome o = tp(60, (const char *[]){"run", "trees/seed-fractal.yaml", NULL});
  cr_expect_eq(o.status, 0, "stdout: %s\nstderr: %s", o.out, o.err);
  cr_expect(strncmp(o.out, "PASS seed-fractal (", 19) == 0, "%s", o.out);
  done(&o);
  assert_nothing_left();
}

Test(cli, run_wrong_expectation_fails_readably) {
  struct outcome o = tp(60, (const char *[]){"run", "fixtures/yaml/wrong-expect.yaml", NULL});
  cr_expect_eq(o.status, 1, "stdout: %s\nstderr: %s", o.out, o.err);
  cr_expect(strncmp(o.out, "FAIL wrong-expect (", 19) == 0, "%s", o.out);
  cr_expect(strstr(o.out, "at [:replies 1 :replies 0]: missing key :error") != NULL, "%s", o.out);
  cr_expect(strstr(o.out, ">>> ") != NULL, "the difference is marked: %s", o.out);
  done(&o);
  o = tp(60, (const char *[]){"run", "fixtures/yaml/wrong-exit.yaml", NULL});
  cr_expect_eq(o.status, 1, "stdout: %s\nstderr: %s", o.out, o.err);
  cr_expect(strstr(o.out, ":status {:signal 9}") != NULL, "%s", o.out);
  done(&o);
  assert_nothing_left();
}

/* --timeout-ms replaces the scenario's timeout_ms (20 s in wrong-held) for
 * every step without its own; a step's own (lost-reply's 300 ms) stays. */
Test(cli, run_timeout_ms_bounds_the_steps) {
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  struct outcome o = tp(60, (const char *[]){"run", "--timeout-ms", "400",
                                             "fixtures/yaml/wrong-held.yaml", NULL});
  clock_gettime(CLOCK_MONOTONIC, &t1);
  cr_expect_eq(o.status, 1, "stdout: %s\nstderr: %s", o.out, o.err);
  cr_expect(strstr(o.out, "no reply within the timeout (400 ms)") != NULL, "%s", o.out);
  cr_expect_lt(t1.tv_sec - t0.tv_sec, 15, "the 20 s of the file were waited");
  done(&o);
  o = tp(60, (const char *[]){"run", "--timeout-ms=2000",
                              "conformance/trees/lost-reply.yaml", NULL});
  cr_expect_eq(o.status, 1, "stdout: %s\nstderr: %s", o.out, o.err);
  cr_expect(strstr(o.out, "no reply within the timeout (300 ms)") != NULL, "%s", o.out);
  done(&o);
  const char *bad[] = {"0", "3600001", "soon", ""};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    o = tp(10, (const char *[]){"run", "--timeout-ms", bad[i], "trees/wide.yaml", NULL});
    cr_expect_eq(o.status, 2, "'%s': exit %d, stderr: %s", bad[i], o.status, o.err);
    cr_expect(strstr(o.err, "--timeout-ms: '") != NULL, "'%s': %s", bad[i], o.err);
    done(&o);
  }
  assert_nothing_left();
}

Test(cli, run_tap_parallel) {
  struct outcome o = tp(90, (const char *[]){
      "run", "--tap", "-j", "2", "trees/crash-isolate.yaml",
      "fixtures/yaml/wrong-expect.yaml", "trees/kill-middle.yaml", NULL});
  cr_expect_eq(o.status, 1, "stdout: %s\nstderr: %s", o.out, o.err);
  cr_expect(strncmp(o.out, "TAP version 13\n1..16\nok 1 - crash-isolate: steps\n", 48) == 0,
            "%s", o.out);
  cr_expect(strstr(o.out, "\nnot ok 7 - wrong-expect: steps\n  ---\n") != NULL, "%s", o.out);
  cr_expect(strstr(o.err, "PASS crash-isolate") && strstr(o.err, "FAIL wrong-expect") &&
                strstr(o.err, "PASS kill-middle"),
            "human lines on stderr: %s", o.err);
  done(&o);
  assert_nothing_left();
}

Test(cli, run_explicit_node_cmd_and_trace) {
  const char *watvm = getenv("WATVM");
  cr_assert_not_null(watvm);
  char dir[] = "/tmp/treeproof-trace-XXXXXX";
  cr_assert_not_null(mkdtemp(dir));
  char sub[64];
  snprintf(sub, sizeof sub, "%s/t", dir);
  struct outcome o = tp(60, (const char *[]){
      "run", "--node-cmd", watvm, "--trace", sub, "trees/crash-isolate.yaml", NULL});
  cr_expect_eq(o.status, 0, "stdout: %s\nstderr: %s", o.out, o.err);
  struct stat st;
  cr_expect(stat(sub, &st) == 0 && S_ISDIR(st.st_mode), "--trace creates DIR");
  done(&o);
  assert_nothing_left();
  char *rm = NULL;
  cr_assert(asprintf(&rm, "rm -rf '%s'", dir) > 0);
  cr_expect_eq(system(rm), 0);
  free(rm);
}

Test(cli, graph_svg) {
  if (access("/usr/bin/dot", X_OK) != 0)
    cr_skip_test("graphviz is not installed");
  char path[] = "/tmp/treeproof-svg-XXXXXX";
  int fd = mkstemp(path);
  cr_assert_geq(fd, 0);
  close(fd);
  struct outcome o = tp(30, (const char *[]){"graph", "--svg", path, "trees/seed-fractal.yaml", NULL});
  cr_expect_eq(o.status, 0, "%s", o.err);
  FILE *f = fopen(path, "r");
  char buf[4096] = "";
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = '\0';
  fclose(f);
  cr_expect(strstr(buf, "<svg") != NULL && strstr(buf, "L3d") != NULL, "%s", buf);
  unlink(path);
  done(&o);
  assert_nothing_left();
}

/* Processes carrying this test's mark, right now. */
static int marked_processes(void) {
  DIR *d = opendir("/proc");
  struct dirent *e;
  int found = 0;
  while (d && (e = readdir(d))) {
    char path[300], env[65536];
    snprintf(path, sizeof path, "/proc/%s/environ", e->d_name);
    int fd = e->d_name[0] >= '1' && e->d_name[0] <= '9'
                 ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    if (fd < 0)
      continue;
    ssize_t n = read(fd, env, sizeof env - 1);
    close(fd);
    found += n > 0 && memmem(env, (size_t)n, mark, strlen(mark)) != NULL;
  }
  if (d)
    closedir(d);
  return found;
}

static void interrupt_run(const char *jobs) {
  const char *exe = getenv("TREEPROOF"), *top = getenv("TREEPROOF_SOURCE_DIR");
  cr_assert(exe && top);
  int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
  pid_t pid = fork();
  cr_assert_geq(pid, 0);
  if (pid == 0) {
    dup2(devnull, 1);
    dup2(devnull, 2);
    if (chdir(top) < 0)
      _exit(126);
    setenv("TREEPROOF_TEST_MARK", mark, 1);
    execl(exe, exe, "run", "-j", jobs, "fixtures/yaml/slow-wait.yaml",
          "fixtures/yaml/slow-wait.yaml", (char *)NULL);
    _exit(127);
  }
  close(devnull);
  struct timespec nap = {0, 20 * 1000 * 1000};
  /* treeproof, its worker(s) and the 4 nodes of at least one tree */
  for (int i = 0; i < 500 && marked_processes() < 6; i++)
    nanosleep(&nap, NULL);
  cr_expect_geq(marked_processes(), 6, "the tree came up");
  kill(pid, SIGINT);
  int st = 0;
  for (int i = 0; i < 750 && waitpid(pid, &st, WNOHANG) == 0; i++)
    nanosleep(&nap, NULL);
  if (waitpid(pid, &st, WNOHANG) == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    cr_assert_fail("treeproof ignored SIGINT for 15 s");
  }
  cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 130, "exit 130 on SIGINT, got %d", st);
  assert_nothing_left(); /* at once: treeproof reaps before it exits */
}

Test(cli, sigint_leaves_nothing_j1) {
  interrupt_run("1");
}

Test(cli, sigint_leaves_nothing_j2) {
  interrupt_run("2");
}

Test(cli, run_junit_and_tap_together) {
  char path[] = "/tmp/treeproof-junit-cli-XXXXXX";
  int fd = mkstemp(path);
  cr_assert_geq(fd, 0);
  close(fd);
  struct outcome o = tp(60, (const char *[]){
      "run", "--tap", "--junit", path, "trees/seed-fractal.yaml",
      "fixtures/yaml/wrong-expect.yaml", NULL});
  cr_expect_eq(o.status, 1, "%s", o.err);
  cr_expect(strncmp(o.out, "TAP version 13\n1..11\n", 21) == 0, "%s", o.out);
  FILE *f = fopen(path, "r");
  char xml[65536] = "";
  size_t n = fread(xml, 1, sizeof xml - 1, f);
  xml[n] = '\0';
  fclose(f);
  cr_expect(strstr(xml, "<testsuites name=\"treeproof\" tests=\"11\" failures=\"2\"") != NULL,
            "%s", xml);
  cr_expect(strstr(xml, "name=\"seed-fractal: containment\"") != NULL, "%s", xml);
  if (access("/usr/bin/xmllint", X_OK) == 0) {
    char *cmd = NULL;
    cr_assert(asprintf(&cmd, "xmllint --noout %s", path) > 0);
    cr_expect_eq(system(cmd), 0, "xmllint accepts:\n%s", xml);
    free(cmd);
  }
  unlink(path);
  done(&o);
  assert_nothing_left();
}

/* A dot that never finishes: a stand-in first on PATH, a shell sitting in a
 * `sleep` of its own, so that only a kill of dot's whole process group gets
 * both. `graph --svg` gives up at the deadline (lowered to 500 ms through
 * $TREEPROOF_DOT_TIMEOUT_MS), says so, exits 2, writes no SVG, and leaves
 * neither the stand-in nor its sleep behind. */
Test(cli, graph_svg_kills_a_hung_dot) {
  char dir[] = "/tmp/treeproof-hung-dot-XXXXXX";
  cr_assert_not_null(mkdtemp(dir));
  char script[96], svg[96];
  snprintf(script, sizeof script, "%s/dot", dir);
  snprintf(svg, sizeof svg, "%s/out.svg", dir);
  FILE *f = fopen(script, "w");
  cr_assert_not_null(f);
  fputs("#!/bin/sh\nsleep 600\n", f);
  cr_assert_eq(fclose(f), 0);
  cr_assert_eq(chmod(script, 0755), 0);
  const char *path = getenv("PATH");
  char *saved = strdup(path ? path : "/usr/bin:/bin"), *ours = NULL;
  cr_assert(saved && asprintf(&ours, "%s:%s", dir, saved) > 0);
  setenv("PATH", ours, 1);
  setenv("TREEPROOF_DOT_TIMEOUT_MS", "500", 1);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  struct outcome o = tp(30, (const char *[]){
      "graph", "--svg", svg, "trees/seed-fractal.yaml", NULL});
  clock_gettime(CLOCK_MONOTONIC, &t1);
  setenv("PATH", saved, 1);
  unsetenv("TREEPROOF_DOT_TIMEOUT_MS");
  double took = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
  cr_expect_eq(o.status, 2, "stderr: %s", o.err);
  cr_expect(strstr(o.err, "dot did not finish within 500 ms: killed") != NULL,
            "%s", o.err);
  cr_expect(took >= 0.5 && took < 10, "gave up at the deadline: %.2f s", took);
  cr_expect_neq(access(svg, F_OK), 0, "no SVG written");
  done(&o);
  /* the group's SIGKILL is sent before treeproof reaps the shell: let the
   * sleep finish dying */
  struct timespec nap = {0, 10 * 1000 * 1000};
  for (int i = 0; i < 200 && marked_processes() > 0; i++)
    nanosleep(&nap, NULL);
  assert_nothing_left();
  char *rm = NULL;
  cr_assert(asprintf(&rm, "rm -rf '%s'", dir) > 0);
  cr_expect_eq(system(rm), 0);
  free(rm);
  free(ours);
  free(saved);
}
