/* cli_run.c — `treeproof run`, `check` and `graph`: their options, every
 * scenario loaded and validated before anything launches (under --shard
 * too: every scenario given, not only this shard's), this shard's part
 * picked (run/shard.c), and the verdicts turned into the exit status (0
 * every scenario held, 1 a step or property failed, 2 a scenario or the
 * command line was invalid, 128+N when interrupted by signal N). */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_run.h"
#include "cli_opt.h"
#include "graph.h"
#include "jobs.h"
#include "junit_read.h"
#include "node_cmd.h"
#include "report.h"
#include "scenario.h"
#include "shard.h"

#define REPORT_MAX_EVENTS 3000 /* events a report page's timeline shows */

struct cli {
  bool tap;
  const char *junit, *trace, *node_cmd, *svg;
  const char *report;   /* --report DIR, or NULL */
  const char *shard;    /* --shard I/N as given, or NULL */
  const char *durations;/* --durations JUNIT, or NULL */
  size_t shard_index, shard_count; /* I - 1 and N */
  size_t all_files;     /* under --shard: how many scenarios were given */
  int jobs;
  long timeout_ms;      /* --timeout-ms MS, or 0 */
  char **files;
  int nfiles;
};


/* A decimal number from lo to hi, all of s: -j N (1 to 256), --timeout-ms
 * MS (1 ms to an hour, as a step's own timeout_ms). */
static int parse_number(const char *s, long lo, long hi, long *out) {
  char *end;
  errno = 0;
  long n = strtol(s, &end, 10);
  if (errno || *end || end == s || n < lo || n > hi)
    return -1;
  *out = n;
  return 0;
}

/* -j N, -jN, -j=N, --jobs N, --jobs=N. */
static const char *jobs_value(int argc, char **argv, int *i) {
  const char *a = argv[*i];
  if (strncmp(a, "-j", 2) == 0 && a[2] && a[2] != '=')
    return a + 2;
  const char *v = cli_opt_value(argc, argv, i, "-j");
  return v ? v : cli_opt_value(argc, argv, i, "--jobs");
}

static int parse_opts(int argc, char **argv, const char *cmd, struct cli *c) {
  int i = 2;
  c->jobs = 1;
  for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
    const char *a = argv[i], *v = NULL;
    bool run = strcmp(cmd, "run") == 0, graph = strcmp(cmd, "graph") == 0;
    if (strcmp(a, "--") == 0) {
      i++;
      break;
    } else if (run && strcmp(a, "--tap") == 0) {
      c->tap = true;
    } else if (run && (v = cli_opt_value(argc, argv, &i, "--junit"))) {
      c->junit = v;
    } else if (run && (v = cli_opt_value(argc, argv, &i, "--trace"))) {
      c->trace = v;
    } else if (run && (v = cli_opt_value(argc, argv, &i, "--report"))) {
      c->report = v;
    } else if (run && (v = cli_opt_value(argc, argv, &i, "--node-cmd"))) {
      c->node_cmd = v;
    } else if (run && (v = cli_opt_value(argc, argv, &i, "--shard"))) {
      if (shard_parse(v, &c->shard_index, &c->shard_count) < 0)
        return cli_usage_error("--shard: '%s' is not I/N with 1 <= I <= N", v);
      c->shard = v;
    } else if (run && (v = cli_opt_value(argc, argv, &i, "--durations"))) {
      c->durations = v;
    } else if (run && (v = cli_opt_value(argc, argv, &i, "--timeout-ms"))) {
      if (parse_number(v, 1, 3600000, &c->timeout_ms) < 0)
        return cli_usage_error("--timeout-ms: '%s' is not a number of ms "
                               "from 1 to 3600000", v);
    } else if (run && (v = jobs_value(argc, argv, &i))) {
      long j = 0;
      if (parse_number(v, 1, 256, &j) < 0)
        return cli_usage_error("-j: '%s' is not a number from 1 to 256", v);
      c->jobs = (int)j;
    } else if (graph && (v = cli_opt_value(argc, argv, &i, "--svg"))) {
      c->svg = v;
    } else {
      return cli_usage_error("unknown option '%s'", a);
    }
    if (v && !*v && strcmp(a, "--") != 0 && strcmp(a, "--tap") != 0)
      return cli_usage_error("option '%s' needs a value", a);
  }
  c->files = argv + i;
  c->nfiles = argc - i;
  if (c->durations && !c->shard)
    return cli_usage_error("%s", "--durations needs --shard I/N");
  if (c->nfiles == 0)
    return cli_usage_error("%s: no scenario file given", cmd);
  if (strcmp(cmd, "graph") == 0 && c->nfiles != 1)
    return cli_usage_error("%s: give exactly one scenario", cmd);
  return 0;
}

/* Load every file; print every error. Returns 0 when all are valid. */
static int load_all(const struct cli *c, struct scenario **ss) {
  int bad = 0;
  for (int i = 0; i < c->nfiles; i++) {
    struct scenario_error e;
    ss[i] = scenario_load(c->files[i], &e);
    if (!ss[i]) {
      fprintf(stderr, "%s:%d:%d: error: %s\n", e.file, e.pos.line,
              e.pos.column, e.message);
      bad = 1;
    }
  }
  return bad ? -1 : 0;
}

static void free_all(struct scenario **ss, int n) {
  for (int i = 0; i < n; i++)
    scenario_free(ss[i]);
  free(ss);
}

static int cmd_check(const struct cli *c, struct scenario **ss) {
  for (int i = 0; i < c->nfiles; i++) {
    size_t props = 0;
    for (int p = 0; p < PROP_COUNT; p++)
      props += ss[i]->properties[p];
    printf("%s: ok (%s: %zu nodes, %zu steps, %zu properties)\n",
           c->files[i], ss[i]->name, ss[i]->nnodes, ss[i]->nsteps, props);
  }
  return 0;
}

static int cmd_graph(const struct cli *c, struct scenario **ss) {
  if (!c->svg)
    return graph_dot(stdout, ss[0]) < 0 ? 1 : 0;
  char msg[256];
  if (graph_svg(ss[0], c->svg, msg, sizeof msg) < 0) {
    fprintf(stderr, "treeproof: fatal: unable to render %s: %s\n", c->svg, msg);
    return 2;
  }
  return 0;
}

/* A run's file stem under --trace/--report: its scenario's name (bytes
 * outside [A-Za-z0-9._-] as '_'), ".K" added for the K-th of that name. */
static char *run_stem(struct scenario **ss, int i) {
  int same = 0;
  for (int j = 0; j < i; j++)
    same += strcmp(ss[j]->name, ss[i]->name) == 0;
  char *stem = NULL;
  if ((same ? asprintf(&stem, "%s.%d", ss[i]->name, same + 1)
            : asprintf(&stem, "%s", ss[i]->name)) < 0)
    return NULL;
  for (char *p = stem; *p; p++)
    if (!(isalnum((unsigned char)*p) || *p == '.' || *p == '-' || *p == '_'))
      *p = '_';
  if (stem[0] == '.' || stem[0] == '\0') /* no "..", no hidden file */
    stem[0] = '_';
  return stem;
}

/* Remove the events of an earlier run from a trace directory the report
 * owns, so its timeline shows this run only: its *.ednl files, and with
 * `hosts` those of each far host's directory in it (DIR/HOST, removed
 * once empty). `dfd` is closed. */
static void clear_events(int dfd, bool hosts) {
  DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
  if (!d) {
    if (dfd >= 0)
      close(dfd);
    return;
  }
  for (struct dirent *de; (de = readdir(d));) {
    size_t n = strlen(de->d_name);
    struct stat st;
    if (n > 5 && strcmp(de->d_name + n - 5, ".ednl") == 0)
      unlinkat(dirfd(d), de->d_name, 0);
    else if (hosts && de->d_name[0] != '.' &&
             fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
             S_ISDIR(st.st_mode)) {
      clear_events(openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY |
                          O_NOFOLLOW | O_CLOEXEC), false);
      unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR); /* fails unless empty */
    }
  }
  closedir(d);
}

/* --trace DIR: DIR itself for one scenario, DIR/NAME for several.
 * --report DIR without --trace: DIR/trace/NAME, emptied first. */
static char **trace_dirs(const struct cli *c, struct scenario **ss) {
  char *own = NULL;
  const char *base = c->trace;
  if (!base && c->report && asprintf(&own, "%s/trace", c->report) >= 0)
    base = own;
  if (!base)
    return NULL;
  if (mkdir(base, 0755) < 0 && errno != EEXIST) {
    fprintf(stderr, "treeproof: fatal: unable to create %s: %s\n", base,
            strerror(errno));
    free(own);
    return NULL;
  }
  bool per_name = c->nfiles > 1 || own;
  char **dirs = calloc((size_t)c->nfiles, sizeof *dirs);
  for (int i = 0; dirs && i < c->nfiles; i++) {
    char *stem = per_name ? run_stem(ss, i) : NULL;
    if (!per_name)
      dirs[i] = strdup(base);
    else if (!stem || asprintf(&dirs[i], "%s/%s", base, stem) < 0)
      dirs[i] = NULL;
    free(stem);
    if (dirs[i] && per_name)
      mkdir(dirs[i], 0755);
    if (dirs[i] && own)
      clear_events(open(dirs[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC), true);
  }
  free(own);
  return dirs;
}

struct tally {
  FILE *human;
  size_t passed, failed;
};

/* A far host's trace that was not collected: one line per host on stderr,
 * whatever the verdict ("treeproof: NAME: trace: on h2: ..."). */
static void trace_errors(const struct scenario_result *r) {
  for (const char *p = r->trace_error; p && *p;) {
    const char *nl = strchr(p, '\n');
    int n = nl ? (int)(nl - p) : (int)strlen(p);
    fprintf(stderr, "treeproof: %s: trace: %.*s\n",
            r->scenario ? r->scenario->name : "?", n, p);
    p += n + (nl ? 1 : 0);
  }
}

static void on_done(void *ctx, size_t index, const struct scenario_result *r) {
  (void)index;
  struct tally *t = ctx;
  report_human(t->human, r);
  trace_errors(r);
  fflush(t->human);
  if (scenario_result_passed(r))
    t->passed++;
  else
    t->failed++;
}

static int junit_writable(const char *path) {
  FILE *f = fopen(path, "we");
  if (!f) {
    fprintf(stderr, "treeproof: fatal: unable to write %s: %s\n", path,
            strerror(errno));
    return -1;
  }
  fclose(f);
  return 0;
}

/* --report DIR: create it before anything runs, so a bad DIR costs no run. */
static int report_dir_ready(const char *dir) {
  if ((mkdir(dir, 0755) < 0 && errno != EEXIST) || access(dir, W_OK) < 0) {
    fprintf(stderr, "treeproof: fatal: unable to write into %s: %s\n", dir,
            strerror(errno));
    return -1;
  }
  return 0;
}

/* DIR/index.html and DIR/STEM.html per run. Returns 0 or -1 (said why). */
static int write_report(const struct cli *c, struct scenario **ss,
                        const struct scenario_result *rs, char **dirs) {
  size_t n = (size_t)c->nfiles;
  struct report_page *ps = calloc(n, sizeof *ps);
  char **stems = calloc(n, sizeof *stems);
  char msg[600] = "out of memory";
  int rc = ps && stems ? 0 : -1;
  for (size_t i = 0; rc == 0 && i < n; i++) {
    stems[i] = run_stem(ss, (int)i);
    ps[i] = (struct report_page){&rs[i], stems[i], dirs ? dirs[i] : NULL};
    if (!stems[i] ||
        report_html_page(c->report, &ps[i], REPORT_MAX_EVENTS, msg, sizeof msg) < 0)
      rc = -1;
  }
  if (rc == 0)
    rc = report_html_index(c->report, ps, n, msg, sizeof msg);
  if (rc < 0)
    fprintf(stderr, "treeproof: fatal: report: %s\n", msg);
  for (size_t i = 0; stems && i < n; i++)
    free(stems[i]);
  free(stems);
  free(ps);
  return rc;
}

static int run_all(const struct cli *c, struct scenario **ss, char **argv_node) {
  int n = c->nfiles;
  char **dirs = trace_dirs(c, ss);
  if ((c->trace || c->report) && !dirs)
    return 2;
  struct tally t = {c->tap ? stderr : stdout, 0, 0};
  bool tty = isatty(fileno(t.human));
  char *own = c->node_cmd ? node_cmd_watvm() : NULL;
  struct run_opts ro = {argv_node, dirs ? dirs[0] : NULL,
                        c->jobs == 1 && tty ? t.human : NULL, own};
  struct jobs_opts jo = {c->jobs, &ro, (const char *const *)dirs,
                         c->jobs > 1 && tty ? t.human : NULL, on_done, &t};
  struct scenario_result *rs = calloc((size_t)n, sizeof *rs);
  if (!rs) {
    free(own);
    return 2;
  }
  size_t leftovers = 0;
  int interrupted = jobs_run(ss, (size_t)n, &jo, rs, &leftovers);
  if (c->tap)
    report_tap(stdout, rs, (size_t)n);
  int rc = t.failed ? 1 : 0;
  if (c->junit && report_junit(c->junit, rs, (size_t)n) < 0) {
    fprintf(stderr, "treeproof: fatal: unable to write %s\n", c->junit);
    rc = 2;
  }
  if (c->report && write_report(c, ss, rs, dirs) < 0)
    rc = 2;
  if (leftovers) {
    fprintf(stderr, "treeproof: error: %zu process(es) left behind by a worker "
            "were killed and reaped\n", leftovers);
    rc = rc ? rc : 1;
  }
  if (n > 1)
    fprintf(t.human, "%zu scenarios: %zu passed, %zu failed\n", (size_t)n,
            t.passed, t.failed);
  for (int i = 0; i < n; i++) {
    scenario_result_free(&rs[i]);
    if (dirs)
      free(dirs[i]);
  }
  free(rs);
  free(dirs);
  free(own);
  return interrupted ? 130 : rc;
}

/* A shard the partition left empty: nothing runs, and the reports asked
 * for are written empty, so a CI job that uploads them finds them. */
static int run_nothing(const struct cli *c) {
  FILE *human = c->tap ? stderr : stdout;
  fprintf(human, "treeproof: shard %zu/%zu has no scenario (%zu scenario(s) "
          "over %zu shards): nothing to run\n", c->shard_index + 1,
          c->shard_count, c->all_files, c->shard_count);
  if (c->tap)
    report_tap(stdout, NULL, 0);
  int rc = 0;
  if (c->junit && report_junit(c->junit, NULL, 0) < 0) {
    fprintf(stderr, "treeproof: fatal: unable to write %s\n", c->junit);
    rc = 2;
  }
  char msg[600];
  if (c->report && report_html_index(c->report, NULL, 0, msg, sizeof msg) < 0) {
    fprintf(stderr, "treeproof: fatal: report: %s\n", msg);
    rc = 2;
  }
  return rc;
}

static int cmd_run(const struct cli *c, struct scenario **ss) {
  char msg[512];
  char **argv_node = node_cmd_resolve(c->node_cmd, msg, sizeof msg);
  if (!argv_node) {
    fprintf(stderr, "treeproof: fatal: %s\n", msg);
    return 2;
  }
  int rc = (c->junit && junit_writable(c->junit) < 0) ||
                   (c->report && report_dir_ready(c->report) < 0)
               ? 2
           : c->nfiles == 0 ? run_nothing(c)
                            : run_all(c, ss, argv_node);
  node_cmd_free(argv_node);
  return rc;
}

/* The weights of the scenarios given: their times in --durations, or their
 * sizes. 0, or 2 having said why. */
static int shard_weights(const struct cli *c, struct scenario **ss,
                         uint64_t *w) {
  size_t n = (size_t)c->nfiles;
  if (!c->durations) {
    shard_node_weights(ss, n, w);
    return 0;
  }
  struct junit_doc d;
  char msg[512];
  if (junit_read(c->durations, &d, msg, sizeof msg) < 0) {
    fprintf(stderr, "%s: error: %s\n", c->durations, msg);
    return 2;
  }
  long known = shard_duration_weights(ss, n, &d, w);
  junit_doc_free(&d);
  if (known < 0) {
    fprintf(stderr, "treeproof: fatal: out of memory\n");
    return 2;
  }
  return 0;
}

/* --shard I/N: run the I-th part of the scenarios given (in their order
 * on the command line), after every one of them was validated. */
static int cmd_run_shard(const struct cli *c, struct scenario **ss) {
  size_t n = (size_t)c->nfiles;
  uint64_t *w = calloc(n, sizeof *w);
  struct shard_item *items = calloc(n, sizeof *items);
  size_t *part = calloc(n, sizeof *part);
  struct scenario **mine = calloc(n, sizeof *mine);
  char **files = calloc(n, sizeof *files);
  bool mem = w && items && part && mine && files;
  int rc = mem ? shard_weights(c, ss, w) : 2;
  for (size_t i = 0; rc == 0 && i < n; i++)
    items[i] = (struct shard_item){w[i], ss[i]->name, c->files[i]};
  if (rc == 0 && shard_partition(items, n, c->shard_count, part) < 0)
    mem = false, rc = 2;
  if (!mem)
    fprintf(stderr, "treeproof: fatal: out of memory\n");
  if (rc == 0) {
    struct cli sub = *c;
    sub.files = files;
    sub.nfiles = 0;
    sub.all_files = n;
    for (size_t i = 0; i < n; i++)
      if (part[i] == c->shard_index) {
        mine[sub.nfiles] = ss[i];
        files[sub.nfiles++] = c->files[i];
      }
    if (sub.nfiles > 0) {
      FILE *human = c->tap ? stderr : stdout;
      fprintf(human, "shard %zu/%zu: %d of %zu scenarios:", c->shard_index + 1,
              c->shard_count, sub.nfiles, n);
      for (int i = 0; i < sub.nfiles; i++)
        fprintf(human, " %s", mine[i]->name);
      fputc('\n', human);
      fflush(human);
    }
    rc = cmd_run(&sub, mine);
  }
  free(w);
  free(items);
  free(part);
  free(mine);
  free(files);
  return rc;
}

int cli_run(int argc, char **argv) {
  const char *cmd = argv[1];
  signal(SIGPIPE, SIG_IGN); /* a dead node is an EPIPE to report, not our end */
  struct cli c = {0};
  if (parse_opts(argc, argv, cmd, &c) != 0)
    return 2;
  struct scenario **ss = calloc((size_t)c.nfiles, sizeof *ss);
  if (!ss)
    return 2;
  int rc = 2;
  if (load_all(&c, ss) == 0) {
    for (int i = 0; c.timeout_ms && i < c.nfiles; i++)
      scenario_set_step_timeout(ss[i], c.timeout_ms);
    if (strcmp(cmd, "check") == 0)
      rc = cmd_check(&c, ss);
    else if (strcmp(cmd, "graph") == 0)
      rc = cmd_graph(&c, ss);
    else if (c.shard)
      rc = cmd_run_shard(&c, ss);
    else
      rc = cmd_run(&c, ss);
  }
  free_all(ss, c.nfiles);
  return rc;
}
