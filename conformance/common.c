/* common.c — running the built treeproof from the conformance suites and
 * reading its TAP output (see common.h). */
#define _GNU_SOURCE
#include "common.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

char *tp_source(const char *rel) {
  const char *dir = getenv("TREEPROOF_SOURCE_DIR");
  char *p = NULL;
  if (asprintf(&p, "%s/%s", dir ? dir : ".", rel) < 0)
    return NULL;
  return p;
}

void tp_subreaper(void) { prctl(PR_SET_CHILD_SUBREAPER, 1); }

struct sink {
  char *p;
  size_t len, cap;
};

static void sink_read(struct sink *s, int fd, bool *eof) {
  char buf[65536];
  ssize_t n = read(fd, buf, sizeof buf);
  if (n <= 0) {
    if (n == 0 || errno != EINTR)
      *eof = true;
    return;
  }
  if (s->len + (size_t)n + 1 > s->cap) {
    size_t cap = (s->len + (size_t)n + 1) * 2;
    char *q = realloc(s->p, cap);
    if (!q) {
      *eof = true;
      return;
    }
    s->p = q;
    s->cap = cap;
  }
  memcpy(s->p + s->len, buf, (size_t)n);
  s->len += (size_t)n;
  s->p[s->len] = '\0';
}

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif

bool tp_sanitized(void) {
#ifdef SANITIZED
  return true;
#else
  return false;
#endif
}

/* environ with WATVM_FAULT replaced by `fault`'s first word (or removed),
 * every further word of it that is VAR=VALUE set as well (so a control
 * can say "skip-child WATVM_FAULT_NODE=L2a"; a first word that is
 * VAR=VALUE is set as it is: "TREENODE_MISTAKE=zombie"), and the
 * cascade's scheduling slack on top of the 2 s grace: 4 s on a shared CI
 * machine, 20 s in a sanitized build, where every node scans for leaks as
 * it exits and a tree of a thousand takes seconds to go. */
/* Does environ entry `ent` set the variable that `words` (VAR=VALUE
 * words, NUL-separated, nw of them) sets too? */
static bool overridden(const char *ent, char *const *words, size_t nw) {
  for (size_t i = 0; i < nw; i++) {
    size_t n = strcspn(words[i], "=") + 1;
    if (strncmp(ent, words[i], n) == 0)
      return true;
  }
  return false;
}

static char **env_with(const char *fault, char **var) {
  size_t n = 0;
  while (environ[n])
    n++;
  char *words[8];
  size_t nw = 0;
  /* *var holds "WATVM_FAULT=NAME\0VAR=VALUE\0...": one block, one free */
  bool named = fault && strcspn(fault, "=") < strcspn(fault, " ");
  if (fault && asprintf(var, "%s%s", named ? "" : "WATVM_FAULT=", fault) >= 0) {
    words[nw++] = *var;
    for (char *p = *var; (p = strchr(p, ' ')) && nw < 8;) {
      *p++ = '\0';
      if (strchr(p, '='))
        words[nw++] = p;
    }
  }
  char **env = calloc(n + nw + 2, sizeof *env);
  size_t k = 0;
  for (size_t i = 0; env && i < n; i++)
    if (strncmp(environ[i], "WATVM_FAULT=", 12) &&
        !overridden(environ[i], words, nw))
      env[k++] = environ[i];
  for (size_t i = 0; env && i < nw; i++)
    env[k++] = words[i];
  bool slack_given = false;
  for (size_t i = 0; i < nw; i++)
    slack_given |= strncmp(words[i], "TREEPROOF_SLACK_MS=", 19) == 0;
  if (env && !slack_given && !getenv("TREEPROOF_SLACK_MS")) /* a shared CI box is slow */
#ifdef SANITIZED
    env[k++] = "TREEPROOF_SLACK_MS=20000";
#else
    env[k++] = "TREEPROOF_SLACK_MS=4000";
#endif
  return env;
}

int tp_run_args(struct tp_run *r, const char *fault, double timeout_s,
                const char *const *args) {
  memset(r, 0, sizeof *r);
  r->status = -1;
  const char *tp = getenv("TREEPROOF");
  if (!tp)
    return -1;
  size_t n = 0;
  while (args[n])
    n++;
  char **argv = calloc(n + 2, sizeof *argv);
  char *var = NULL;
  char **env = env_with(fault, &var);
  int out[2] = {-1, -1}, err[2] = {-1, -1};
  int rc = -1;
  if (!argv || !env || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)
    goto done;
  argv[0] = (char *)tp;
  for (size_t i = 0; i < n; i++)
    argv[i + 1] = (char *)args[i];
  pid_t pid = fork();
  if (pid < 0)
    goto done;
  if (pid == 0) {
    dup2(out[1], 1);
    dup2(err[1], 2);
    execve(tp, argv, env);
    _exit(127);
  }
  close(out[1]);
  close(err[1]);
  out[1] = err[1] = -1;
  struct sink so = {0}, se = {0};
  bool eo = false, ee = false, killed = false;
  double deadline = now_s() + timeout_s;
  while (!eo || !ee) {
    struct pollfd pf[2] = {{eo ? -1 : out[0], POLLIN, 0},
                           {ee ? -1 : err[0], POLLIN, 0}};
    double left = deadline - now_s();
    if (left <= 0 && !killed) {
      kill(pid, SIGKILL); /* its workers' trees die with it (PDEATHSIG) */
      killed = true;
    }
    if (poll(pf, 2, left > 0 ? (int)(left * 1000) + 1 : 100) < 0 &&
        errno != EINTR)
      break;
    if (pf[0].revents)
      sink_read(&so, out[0], &eo);
    if (pf[1].revents)
      sink_read(&se, err[0], &ee);
  }
  int st;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  r->out = so.p ? so.p : strdup("");
  r->err = se.p ? se.p : strdup("");
  rc = killed ? -1 : 0;
done:
  for (int i = 0; i < 2; i++) {
    if (out[i] >= 0)
      close(out[i]);
    if (err[i] >= 0)
      close(err[i]);
  }
  free(argv);
  free(env);
  free(var);
  return rc;
}

int tp_run_tap(struct tp_run *r, const char *fault, double timeout_s,
               const char *const *scenarios) {
  const char *args[64];
  char *paths[60];
  size_t n = 0, k = 0;
  args[n++] = "run";
  args[n++] = "--tap";
  for (; scenarios[k] && k < 60; k++) {
    paths[k] = tp_source(scenarios[k]);
    args[n++] = paths[k];
  }
  args[n] = NULL;
  int rc = tp_run_args(r, fault, timeout_s, args);
  for (size_t i = 0; i < k; i++)
    free(paths[i]);
  return rc;
}

void tp_run_free(struct tp_run *r) {
  free(r->out);
  free(r->err);
  memset(r, 0, sizeof *r);
}

/* The name of the TAP point on `line` ("ok 3 - NAME" / "not ok 3 - NAME"),
 * and whether it is ok; NULL when the line is no point. */
static const char *point(const char *line, size_t len, bool *ok,
                         size_t *namelen) {
  const char *p = line, *end = line + len;
  *ok = true;
  if (len >= 7 && !strncmp(p, "not ok ", 7)) {
    *ok = false;
    p += 7;
  } else if (len >= 3 && !strncmp(p, "ok ", 3)) {
    p += 3;
  } else {
    return NULL;
  }
  while (p < end && isdigit((unsigned char)*p))
    p++;
  if (end - p < 3 || strncmp(p, " - ", 3))
    return NULL;
  p += 3;
  const char *hash = memchr(p, '#', (size_t)(end - p));
  const char *stop = hash ? hash : end;
  while (stop > p && stop[-1] == ' ')
    stop--;
  *namelen = (size_t)(stop - p);
  return p;
}

int tap_verdict(const char *tap, const char *name) {
  for (const char *l = tap; l && *l;) {
    const char *nl = strchr(l, '\n');
    size_t len = nl ? (size_t)(nl - l) : strlen(l), nlen;
    bool ok;
    const char *p = point(l, len, &ok, &nlen);
    if (p && nlen == strlen(name) && !strncmp(p, name, nlen))
      return ok ? 1 : 0;
    l = nl ? nl + 1 : NULL;
  }
  return -1;
}

int tap_failures(const char *tap, char *names, size_t cap) {
  int n = 0;
  size_t used = 0;
  if (names && cap)
    names[0] = '\0';
  for (const char *l = tap; l && *l;) {
    const char *nl = strchr(l, '\n');
    size_t len = nl ? (size_t)(nl - l) : strlen(l), nlen;
    bool ok;
    const char *p = point(l, len, &ok, &nlen);
    if (p && !ok) {
      n++;
      if (names && used + nlen + 3 < cap) {
        used += (size_t)snprintf(names + used, cap - used, "%s%.*s",
                                 used ? ", " : "", (int)nlen, p);
      }
    }
    l = nl ? nl + 1 : NULL;
  }
  return n;
}

/* Calls fn(pid) for each process whose parent is this one. */
static int each_child(void (*fn)(pid_t));

int tp_leftovers(void) { return each_child(NULL); }

static void kill_one(pid_t pid) { kill(pid, SIGKILL); }

void tp_kill_leftovers(void) {
  for (int i = 0; i < 100 && each_child(kill_one) > 0; i++) {
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
  }
}

static int each_child(void (*fn)(pid_t)) {
  /* reap what is already dead, then count what still runs */
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
  pid_t self = getpid();
  int n = 0;
  DIR *d = opendir("/proc");
  if (!d)
    return -1;
  struct dirent *de;
  while ((de = readdir(d))) {
    if (!isdigit((unsigned char)de->d_name[0]))
      continue;
    char path[300], buf[512];
    snprintf(path, sizeof path, "/proc/%s/stat", de->d_name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      continue;
    ssize_t k = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (k <= 0)
      continue;
    buf[k] = '\0';
    const char *p = strrchr(buf, ')');
    char state;
    int ppid;
    if (p && sscanf(p + 1, " %c %d", &state, &ppid) == 2 && ppid == self) {
      n++;
      if (fn)
        fn((pid_t)atoi(de->d_name));
    }
  }
  closedir(d);
  return n;
}

/* ---- assertions --------------------------------------------------------- */

static int rm_one(const char *p, const struct stat *sb, int flag,
                  struct FTW *f) {
  (void)sb;
  (void)flag;
  (void)f;
  return remove(p);
}

/* The directories made and not yet removed: a failed assertion ends a test
 * before its tp_rm_dir, so what is left goes when the test's process
 * exits (Criterion runs each test in a process of its own). */
static char *made[16];

static void rm_made(void) {
  for (size_t i = 0; i < sizeof made / sizeof *made; i++)
    if (made[i]) {
      nftw(made[i], rm_one, 16, FTW_DEPTH | FTW_PHYS);
      free(made[i]);
      made[i] = NULL;
    }
}

char *tp_temp_dir(const char *tag) {
  static bool armed;
  char *d = NULL;
  if (asprintf(&d, "/tmp/treeproof-%s-XXXXXX", tag) < 0 || !mkdtemp(d)) {
    fprintf(stderr, "tp_temp_dir: cannot make a temporary directory\n");
    abort();
  }
  if (!armed)
    armed = atexit(rm_made) == 0;
  for (size_t i = 0; i < sizeof made / sizeof *made; i++)
    if (!made[i]) {
      made[i] = strdup(d);
      break;
    }
  return d;
}

void tp_rm_dir(char *dir) {
  for (size_t i = 0; i < sizeof made / sizeof *made; i++)
    if (made[i] && !strcmp(made[i], dir)) {
      free(made[i]);
      made[i] = NULL;
    }
  nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
  free(dir);
}

#include <criterion/criterion.h>

void tp_assert_holds(const char *rel, const char *name, const char *prop,
                     double timeout_s) {
  const char *props[] = {prop, NULL};
  tp_assert_holds_each(rel, name, props, timeout_s);
}

void tp_assert_holds_each(const char *rel, const char *name,
                          const char *const *props, double timeout_s) {
  tp_subreaper();
  struct tp_run r;
  const char *sc[] = {rel, NULL};
  int rc = tp_run_tap(&r, NULL, timeout_s, sc);
  char point[256], failed[4096];
  tap_failures(r.out ? r.out : "", failed, sizeof failed);
  cr_expect_eq(rc, 0, "%s: treeproof did not finish within %.0f s", rel,
               timeout_s);
  cr_expect_eq(r.status, 0, "%s: expected exit 0, got %d; failed: %s\n%s%s",
               rel, r.status, failed, r.out, r.err);
  /* the scenario's steps first, then each property */
  for (size_t i = 0; i == 0 || props[i - 1]; i++) {
    snprintf(point, sizeof point, "%s: %s", name, i ? props[i - 1] : "steps");
    cr_expect_eq(tap_verdict(r.out, point), 1, "%s: '%s' not ok:\n%s", rel,
                 point, r.out);
  }
  cr_expect_eq(tp_leftovers(), 0, "%s: processes left behind", rel);
  tp_kill_leftovers();
  tp_run_free(&r);
}

void tp_assert_control(const char *rel, const char *name, const char *fault,
                       const char *prop, const char *evidence,
                       double timeout_s) {
  const struct tp_control c = {rel, name, fault, prop, evidence, NULL, true,
                               NULL};
  tp_assert_control_run(&c, timeout_s);
}

/* The run with the mistake waits out every bound the mistake makes
 * unreachable (an exit that never comes, a reply that never matches), and
 * waiting long gains nothing: the run without it proves, under the tree's
 * own bounds and the suites' slack, that the tree holds, and what the
 * mistake breaks shows within a fraction of those bounds. So in the plain
 * build the faulty run's steps get a quarter of the tree's timeout_ms (at
 * least 1.5 s) through --timeout-ms — its start and the audits keep the
 * whole — and the tool's own slack, not the suites' 4 s. Under the
 * sanitizers, where every node is several times slower, the faulty run
 * keeps the suites' bounds and 20 s: a quarter was too little for a far
 * parent's :stats to show its child's exit (far-supervise), and 8 s for
 * a 1,000-node ASan tree beside others to go down (CI). */
#ifdef SANITIZED
#define FAULTY_SLACK "TREEPROOF_SLACK_MS=20000"
static long faulty_timeout_ms(const char *sc) {
  (void)sc;
  return 0;
}
#else
#define FAULTY_SLACK "TREEPROOF_SLACK_MS=1500"
static long faulty_timeout_ms(const char *sc) {
  FILE *f = fopen(sc, "re");
  char line[512];
  long ms = 5000; /* the scenario default */
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, "timeout_ms: %ld", &ms) == 1) /* top level only */
      break;
  if (f)
    fclose(f);
  return ms / 4 < 1500 ? 1500 : ms / 4;
}
#endif

/* `run --tap [--timeout-ms MS] [--node-cmd CMD] REL`: MS with the fault,
 * in the plain build. */
static int control_run(struct tp_run *r, const struct tp_control *c,
                       const char *fault, double timeout_s) {
  char *sc = tp_source(c->rel), *env = NULL, ms[48];
  long tmo = sc ? faulty_timeout_ms(sc) : 0;
  snprintf(ms, sizeof ms, "--timeout-ms=%ld", tmo);
  const char *args[7] = {"run", "--tap"};
  size_t n = 2;
  if (fault && tmo > 0)
    args[n++] = ms;
  if (c->node_cmd) {
    args[n++] = "--node-cmd";
    args[n++] = c->node_cmd;
  }
  args[n++] = sc;
  /* env_with names a bare fault WATVM_FAULT; the slack rides as a word */
  if (fault && asprintf(&env, "%s " FAULTY_SLACK, fault) < 0)
    env = NULL;
  int rc = tp_run_args(r, env, timeout_s, args);
  free(env);
  free(sc);
  return rc;
}

void tp_plain_build_only(const char *what) {
  if (tp_sanitized())
    cr_skip_test("%s run in the plain build", what);
}

const char *tp_python(void) {
  const char *py = getenv("TREEPROOF_PYTHON");
  return py && *py ? py : "python3";
}

/* -S: no `site` at start-up (the node needs only the standard library);
 * a start is ~11 ms instead of ~16, and one suite starts 1,111 at once. */
char *tp_python_node(void) {
  char *node = tp_source("fixtures/nodes/node.py"), *cmd = NULL;
  if (asprintf(&cmd, "%s -S %s", tp_python(), node) < 0)
    cmd = NULL;
  free(node);
  cr_assert(cmd);
  return cmd;
}

/* Does this suite have a test named `test`? Read from the suite binary's
 * own --list ("suite: N tests", then "├── name" lines), run without
 * BXFI_MAP: with it a Criterion binary takes itself for a test worker. */
static bool suite_has(const char *test) {
  char exe[PATH_MAX], cmd[PATH_MAX + 64], line[512], head[300];
  ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (len < 0)
    return false;
  exe[len] = 0;
  snprintf(cmd, sizeof cmd, "env -u BXFI_MAP '%s' --list 2>/dev/null", exe);
  snprintf(head, sizeof head, "%s: ", criterion_current_suite->name);
  FILE *f = popen(cmd, "r");
  bool in_suite = false, found = false;
  while (f && fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = 0;
    const char *name = strstr(line, "── ");
    if (!strncmp(line, head, strlen(head)))
      in_suite = true;
    else if (!name)
      in_suite = false;
    else if (in_suite && !strcmp(name + strlen("── "), test))
      found = true;
  }
  if (f)
    pclose(f);
  return found;
}

void tp_assert_control_run(const struct tp_control *c, double timeout_s) {
  /* held_by is a declaration, and this much of it is checked: a test of
   * that name is in the suite (renamed or mistyped, the control's run
   * without its fault would be run nowhere). That the test runs the same
   * tree with the same node is for the reader to see beside it. */
  if (c->held_by)
    cr_assert(suite_has(c->held_by), "%s: held_by names '%s', no test of "
              "suite %s", c->rel, c->held_by, criterion_current_suite->name);
  tp_subreaper();
  struct tp_run r;
  char point[256], failed[4096];
  snprintf(point, sizeof point, "%s: %s", c->name, c->prop);
  int rc = control_run(&r, c, c->fault, timeout_s);
  cr_assert_eq(rc, 0, "%s %s: treeproof did not finish", c->fault, c->rel);
  int nfail = tap_failures(r.out, failed, sizeof failed);
  cr_expect_eq(r.status, 1, "%s: expected exit 1, got %d\n%s%s", c->fault,
               r.status, r.out, r.err);
  cr_expect(!c->only || nfail == 1, "%s: expected exactly '%s' to fail, "
            "failed: [%s]\n%s", c->fault, point, failed, r.out);
  cr_expect_eq(tap_verdict(r.out, point), 0, "%s: '%s' did not fail:\n%s",
               c->fault, point, r.out);
  cr_expect(strstr(r.out, c->evidence) != NULL, "%s: the diagnostics do "
            "not show the evidence '%s':\n%s", c->fault, c->evidence, r.out);
  cr_expect_eq(tp_leftovers(), 0, "%s: processes left behind", c->fault);
  tp_kill_leftovers();
  tp_run_free(&r);
  /* A control proves what the fault breaks only beside a run that holds
   * without it; where the suite has that run as a test of its own, doing
   * it here too would only wait out the scenario's bounds twice (a
   * partition's 8 s ClientAlive bound, say). */
  if (c->held_by)
    return;
  rc = control_run(&r, c, NULL, timeout_s);
  nfail = tap_failures(r.out ? r.out : "", failed, sizeof failed);
  cr_expect_eq(rc, 0, "%s without a fault: treeproof did not finish", c->rel);
  cr_expect_eq(r.status, 0, "%s without a fault: expected exit 0, got %d, "
               "failed: [%s]\n%s%s", c->rel, r.status, failed, r.out, r.err);
  cr_expect_eq(tap_verdict(r.out, point), 1, "%s without a fault: '%s' not "
               "ok", c->rel, point);
  cr_expect_eq(tp_leftovers(), 0, "%s: processes left behind", c->rel);
  tp_kill_leftovers();
  tp_run_free(&r);
}

struct tree_case tp_shipped_trees[] = {
    {"trees/seed-fractal.yaml", "seed-fractal"},
    {"trees/deep-chain.yaml", "deep-chain"},
    {"trees/wide.yaml", "wide"},
    {"trees/crash-isolate.yaml", "crash-isolate"},
    {"trees/crash-escalate.yaml", "crash-escalate"},
    {"trees/crash-restart.yaml", "crash-restart"},
    {"trees/kill-middle.yaml", "kill-middle"},
    {"trees/backpressure.yaml", "backpressure"},
    {"trees/restart-subtree.yaml", "restart-subtree"},
    {"trees/spawn-runtime.yaml", "spawn-runtime"},
};
const size_t tp_nshipped_trees = sizeof tp_shipped_trees / sizeof tp_shipped_trees[0];

/* Under ASan, LeakSanitizer reads this at start-up: Criterion's runner (not
 * our code) leaks a 48-byte block per parallel run of tests that set
 * .timeout (as tests/edn/lsan.supp records). Unused without ASan. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:libcriterion.so\n"; }
