/* tree_bench.c — watvm against the raw C baseline (raw_node), same shapes,
 * same run: tree build + first :fan per node (and its curve over tree
 * sizes), teardown per node, per-hop :route latency down 1-, 3- and 10-deep
 * chains, :echo throughput over one pipelined edge, :fan round trips, and
 * what WATVM_TRACE costs: on against off, and off against a watvm built with
 * tracing compiled out (--notrace). Several repetitions each; prints median,
 * min, max and the ratio watvm/raw (for throughput raw is the denominator of
 * watvm's rate, so higher is better there). `--json` prints one JSON object.
 *
 *   tree_bench [--json] [--reps N] [--quick] [--notrace WATVM_NOTRACE]
 *              WATVM RAW_NODE
 *   tree_bench --only hop1|hop3|hop10|echo|echo64k|routed|fan|build [--raw]
 *              [--count N] [--shape FANOUT DEPTH] WATVM RAW_NODE
 * The --only form runs one figure once (watvm's, or raw's with --raw) and
 * prints its value: a workload to run under perf, strace or callgrind. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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

#define TIMEOUT_MS 120000

struct root {
  pid_t pid;
  int in, out;        /* write end of its stdin, read end of its stdout */
  char buf[1 << 16];  /* stdout bytes read but not yet consumed */
  size_t len;
};

static const char *watvm_path, *raw_path;

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void die(const char *what) {
  fprintf(stderr, "tree_bench: fatal: %s: %s\n", what, strerror(errno));
  exit(2);
}

static void launch(struct root *r, char *const argv[]) {
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC)) die("pipe2");
  r->pid = fork();
  if (r->pid < 0) die("fork");
  if (r->pid == 0) {
    setpgid(0, 0);
    dup2(in[0], 0);
    dup2(out[1], 1);
    execv(argv[0], argv);
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  r->in = in[1];
  r->out = out[0];
  r->len = 0;
}

static void write_all(int fd, const char *s, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, s, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) die("write");
    s += w;
    n -= (size_t)w;
  }
}

/* Wait for one reply line (its content is dropped); dies on EOF or timeout:
 * a benchmark that got no answer has nothing to report. */
static void read_line(struct root *r) {
  for (;;) {
    char *nl = memchr(r->buf, '\n', r->len);
    if (nl) {
      size_t used = (size_t)(nl - r->buf) + 1;
      memmove(r->buf, nl + 1, r->len - used);
      r->len -= used;
      return;
    }
    if (r->len == sizeof r->buf) r->len = 0; /* a huge line: keep its tail */
    struct pollfd p = {r->out, POLLIN, 0};
    if (poll(&p, 1, TIMEOUT_MS) <= 0) die("no reply within the timeout");
    ssize_t n = read(r->out, r->buf + r->len, sizeof r->buf - r->len);
    if (n == 0) { errno = EPIPE; die("root closed its stdout"); }
    if (n < 0 && errno != EINTR) die("read");
    if (n > 0) r->len += (size_t)n;
  }
}

/* Close the root's stdin and reap every process of the tree: we are a
 * subreaper, so the whole tree ends up ours to wait for. */
static void teardown(struct root *r) {
  close(r->in);
  while (waitpid(-1, NULL, 0) > 0 || errno == EINTR) {}
  close(r->out);
}

/* ---- shapes ---- */

/* The generated names of DESIGN.md: L1, L2-1, L3-1-2, ... */
static void spec_tree(FILE *f, int level, const char *suffix, int fanout,
                      int depth) {
  fprintf(f, "{:name \"L%d%s\"", level, suffix);
  if (depth > 0) {
    fputs(" :children [", f);
    for (int i = 1; i <= fanout; i++) {
      char child[512];
      snprintf(child, sizeof child, "%s-%d", suffix, i);
      spec_tree(f, level + 1, child, fanout, depth - 1);
    }
    fputc(']', f);
  }
  fputc('}', f);
}

static char *tree_spec(int fanout, int depth) {
  char *s = NULL;
  size_t n = 0;
  FILE *f = open_memstream(&s, &n);
  spec_tree(f, 1, "", fanout, depth);
  fclose(f);
  return s;
}

static void launch_shape(struct root *r, int watvm, int fanout, int depth) {
  char f[16], d[16];
  snprintf(f, sizeof f, "%d", fanout);
  snprintf(d, sizeof d, "%d", depth);
  if (watvm) {
    char *spec = tree_spec(fanout, depth);
    char *argv[] = {(char *)watvm_path, "--spec", spec, NULL};
    launch(r, argv);
    free(spec);
  } else {
    char *argv[] = {(char *)raw_path, f, d, NULL};
    launch(r, argv);
  }
}

static long count_nodes(int fanout, int depth) {
  long n = 1, level = 1;
  for (int i = 0; i < depth; i++) n += (level *= fanout);
  return n;
}

/* Build + first fan, then teardown, both per node in µs. */
static void bench_build(int watvm, int fanout, int depth, double *build,
                        double *down) {
  struct root r;
  long nodes = count_nodes(fanout, depth);
  double t0 = now_us();
  launch_shape(&r, watvm, fanout, depth);
  const char *req = watvm ? "{:id 1 :op :fan :req {:op :ping}}\n" : "ping\n";
  write_all(r.in, req, strlen(req));
  read_line(&r);
  double t1 = now_us();
  teardown(&r);
  double t2 = now_us();
  *build = (t1 - t0) / (double)nodes;
  *down = (t2 - t1) / (double)nodes;
}

/* One request and its reply to warm up (the tree is built once it
 * returns), then `count` sequential round trips: their time in µs. */
static double round_trips_us(struct root *r, const char *req, size_t n,
                             int count) {
  write_all(r->in, req, n);
  read_line(r);
  double t0 = now_us();
  for (int i = 0; i < count; i++) {
    write_all(r->in, req, n);
    read_line(r);
  }
  return now_us() - t0;
}

/* Mean round trip of `count` sequential requests to the bottom of a chain
 * `depth` edges deep, per hop (harness edge included), in µs. */
static double bench_hop(int watvm, int depth, int count) {
  struct root r;
  launch_shape(&r, watvm, 1, depth);
  char req[4096];
  size_t n = 0;
  if (watvm) {
    n += (size_t)snprintf(req, sizeof req, "{:id 1 :op :route :path [");
    char suffix[256] = "";
    for (int i = 1; i <= depth; i++) {
      strcat(suffix, "-1");
      n += (size_t)snprintf(req + n, sizeof req - n, "%s\"L%d%s\"",
                            i > 1 ? " " : "", i + 1, suffix);
    }
    n += (size_t)snprintf(req + n, sizeof req - n, "] :req {:op :ping}}\n");
  } else {
    n = (size_t)snprintf(req, sizeof req, "ping\n");
  }
  double t = round_trips_us(&r, req, n, count);
  teardown(&r);
  return t / count / (depth + 1);
}

/* The per-hop figure of both sides, in HOP_CHUNKS alternating slices of
 * count/HOP_CHUNKS routes each (raw, watvm, raw, ...): a route costs a few
 * µs, so a burst of load from elsewhere lasting a second would otherwise
 * land on one side of the ratio only. */
enum { HOP_CHUNKS = 5 };

static void hop_pair(int depth, int count, double *raw, double *watvm) {
  double sum[2] = {0, 0};
  int slice = count / HOP_CHUNKS > 0 ? count / HOP_CHUNKS : 1;
  for (int c = 0; c < HOP_CHUNKS; c++)
    for (int w = 0; w <= 1; w++) sum[w] += bench_hop(w, depth, slice);
  *raw = sum[0] / HOP_CHUNKS;
  *watvm = sum[1] / HOP_CHUNKS;
}

/* Requests per second of `count` pipelined :echo requests over one edge to
 * a leaf (routed: over two edges, the root relaying to its one child): the
 * writer never waits for replies, the reader counts lines. */
static double bench_echo_at(int watvm, long count, size_t body, int routed) {
  struct root r;
  launch_shape(&r, watvm, 1, routed ? 1 : 0);
  char *req = malloc(body + 128);
  char *pad = malloc(body + 1);
  memset(pad, 'x', body);
  pad[body] = 0;
  size_t n = (size_t)sprintf(
      req,
      routed ? "{:id 1 :op :route :path [\"L2-1\"] :req {:op :echo :body \"%s\"}}\n"
             : "{:id 1 :op :echo :body \"%s\"}\n",
      pad);
  free(pad);
  fcntl(r.in, F_SETFL, O_NONBLOCK);
  long sent = 0, got = 0;
  size_t off = 0;
  double t0 = now_us();
  while (got < count) {
    struct pollfd p[2] = {{r.out, POLLIN, 0}, {sent < count ? r.in : -1, POLLOUT, 0}};
    if (poll(p, 2, TIMEOUT_MS) <= 0) die("echo stalled");
    if (p[1].revents & POLLOUT) {
      while (sent < count) {
        ssize_t w = write(r.in, req + off, n - off);
        if (w < 0) break;
        off += (size_t)w;
        if (off == n) { off = 0; sent++; }
      }
    }
    if (p[0].revents & (POLLIN | POLLHUP)) {
      ssize_t k = read(r.out, r.buf, sizeof r.buf);
      if (k == 0) { errno = EPIPE; die("leaf closed its stdout"); }
      for (char *q = r.buf, *end = r.buf + (k > 0 ? k : 0);
           (q = memchr(q, '\n', (size_t)(end - q))); q++)
        got++;
    }
  }
  double t = now_us() - t0;
  free(req);
  teardown(&r);
  return (double)count / (t / 1e6);
}

static double bench_echo(int watvm, long count, size_t body) {
  return bench_echo_at(watvm, count, body, 0);
}

/* Sequential :fan round trips per second through a built tree. */
static double bench_fan(int watvm, int fanout, int depth, int count) {
  struct root r;
  launch_shape(&r, watvm, fanout, depth);
  const char *req = watvm ? "{:id 1 :op :fan :req {:op :ping}}\n" : "ping\n";
  size_t n = strlen(req);
  double t = round_trips_us(&r, req, n, count);
  teardown(&r);
  return (double)count / (t / 1e6);
}

/* ---- tracing ---- */

/* WATVM_TRACE on for the runs between trace_on() and trace_off(): every
 * node the root starts inherits it. trace_off() removes what the nodes
 * wrote and returns its size in bytes. */
static char trace_dir[64];

static void trace_on(void) {
  if (!trace_dir[0]) {
    strcpy(trace_dir, "/tmp/tree_bench.XXXXXX");
    if (!mkdtemp(trace_dir)) die("mkdtemp");
  }
  if (setenv("WATVM_TRACE", trace_dir, 1) < 0) die("setenv");
}

static double trace_off(void) {
  unsetenv("WATVM_TRACE");
  DIR *d = opendir(trace_dir);
  if (!d) die("opendir");
  double bytes = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    struct stat st;
    if (e->d_name[0] == '.') continue;
    if (fstatat(dirfd(d), e->d_name, &st, 0) == 0) bytes += (double)st.st_size;
    unlinkat(dirfd(d), e->d_name, 0);
  }
  closedir(d);
  return bytes;
}

static void trace_done(void) {
  if (trace_dir[0]) rmdir(trace_dir);
}

/* What tracing costs: the 10-deep hop, the 100 B echo to a leaf (which has
 * no child edge to trace: this is tracing enabled with nothing to write) and
 * the 100 B echo routed over one traced edge, with WATVM_TRACE unset (off),
 * set (on), and on a watvm built with tracing compiled out (notrace),
 * measured close together (trace_pair) with hops/10 routes and echoes/10
 * routed echoes; no raw side. */
struct trace_fig {
  double hop_off[16], hop_on[16], hop_nt[16];
  double echo_off[16], echo_on[16], echo_nt[16];
  double routed_off[16], routed_on[16];
  double bytes_per_hop_req, bytes_per_routed_req;
  int have_nt;
};

/* The build curve: per-node build + first fan over several tree sizes. */
struct shape {
  int fanout, depth;
  double watvm[16], raw[16];
};

/* A point of the build curve: a small tree builds in a few ms, where one
 * scheduling hiccup is the whole figure, so small trees are built several
 * times (up to 20, about curve_budget nodes in all: 1,000, or 100 with
 * --quick), raw and watvm alternating, and the point is the mean per node. */
static long curve_budget = 1000;

static void build_curve_point(struct shape *p, int rep) {
  long nodes = count_nodes(p->fanout, p->depth);
  int times = nodes < curve_budget ? (int)(curve_budget / nodes) : 1;
  if (times > 20) times = 20;
  double sum[2] = {0, 0};
  for (int t = 0; t < times; t++)
    for (int w = 0; w <= 1; w++) {
      double v, spare;
      bench_build(w, p->fanout, p->depth, &v, &spare);
      sum[w] += v;
    }
  p->raw[rep] = sum[0] / times;
  p->watvm[rep] = sum[1] / times;
}

/* One hop and one echo figure run with tracing off, on, and compiled out
 * (watvm_notrace) in the order off, on, out, out, on, off, and each is the
 * better of its two runs (load from elsewhere only ever slows a run down):
 * a burst during one run then does not decide an "on/off" or "off/out"
 * ratio of a few per cent. `higher`: the figure is a rate. */
static double better(double a, double b, int higher) {
  return higher ? (a > b ? a : b) : (a < b ? a : b);
}

static void trace_pair(double *off, double *on, double *nt, const char *notrace,
                       double (*run)(void), double *bytes, int higher) {
  double o[2] = {0}, n[2] = {0}, x[2] = {0};
  for (int half = 0; half < 2; half++) {
    for (int step = 0; step < 3; step++) {
      int which = half ? 2 - step : step; /* 0 off, 1 on, 2 compiled out */
      if (which == 0) {
        o[half] = run();
      } else if (which == 1) {
        trace_on();
        n[half] = run();
        double b = trace_off();
        if (bytes) *bytes = b;
      } else if (notrace) {
        const char *keep = watvm_path;
        watvm_path = notrace;
        x[half] = run();
        watvm_path = keep;
      }
    }
  }
  *off = better(o[0], o[1], higher);
  *on = better(n[0], n[1], higher);
  if (nt) *nt = better(x[0], x[1], higher);
}

static int trace_hops;
static long trace_echoes, trace_routed;
static double run_trace_hop(void) { return bench_hop(1, 10, trace_hops); }
static double run_trace_echo(void) { return bench_echo(1, trace_echoes, 100); }
static double run_trace_routed(void) { return bench_echo_at(1, trace_routed, 100, 1); }

static void trace_rep(struct trace_fig *t, int rep, const char *notrace, int hops,
                      long echoes, long routed) {
  double b = 0;
  trace_hops = hops;
  trace_echoes = echoes;
  trace_routed = routed;
  trace_pair(&t->hop_off[rep], &t->hop_on[rep], &t->hop_nt[rep], notrace,
             run_trace_hop, &b, 0);
  t->bytes_per_hop_req = b / (hops + 1);
  trace_pair(&t->echo_off[rep], &t->echo_on[rep], &t->echo_nt[rep], notrace,
             run_trace_echo, NULL, 1);
  trace_pair(&t->routed_off[rep], &t->routed_on[rep], NULL, NULL, run_trace_routed, &b, 1);
  t->bytes_per_routed_req = b / (double)routed;
}

/* ---- statistics and output ---- */

struct figure {
  const char *key, *what, *unit;
  double watvm[16], raw[16];
  int higher_is_better;
  double target; /* ratio bound: <= target, or >= target when higher is
                     better; 0 when the issue sets none */
};

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double ratio(struct figure *f, int reps) {
  return median(f->watvm, reps) / median(f->raw, reps);
}



static void print_text(struct figure *f, int nf, int reps) {
  printf("%-36s %28s %28s %6s %s\n", "benchmark (median [min..max])", "watvm", "raw",
         "ratio", "target");
  for (int i = 0; i < nf; i++) {
    double r = ratio(&f[i], reps);
    int ok = f[i].higher_is_better ? r >= f[i].target : r <= f[i].target;
    char target[32] = "-";
    if (f[i].target > 0)
      snprintf(target, sizeof target, "%s%.1f %s", f[i].higher_is_better ? ">=" : "<=",
               f[i].target, ok ? "met" : "MISSED");
    printf("%-36s %12.2f [%.2f..%.2f] %12.2f [%.2f..%.2f] %6.2f %s  (%s)\n",
           f[i].what, median(f[i].watvm, reps), f[i].watvm[0], f[i].watvm[reps - 1],
           median(f[i].raw, reps), f[i].raw[0], f[i].raw[reps - 1], r, target,
           f[i].unit);
  }
}

static void print_curve_text(struct shape *sh, int ns, int reps) {
  printf("\nbuild + first fan, per node, by tree size (median us/node):\n");
  printf("%-10s %8s %12s %12s %6s\n", "shape", "nodes", "watvm", "raw", "ratio");
  for (int i = 0; i < ns; i++) {
    double w = median(sh[i].watvm, reps), r = median(sh[i].raw, reps);
    char name[32];
    snprintf(name, sizeof name, "%dx%d", sh[i].fanout, sh[i].depth);
    printf("%-10s %8ld %12.2f %12.2f %6.2f\n", name,
           count_nodes(sh[i].fanout, sh[i].depth), w, r, w / r);
  }
}

static void print_trace_text(struct trace_fig *t, int reps) {
  double ho = median(t->hop_off, reps), hn = median(t->hop_on, reps);
  double eo = median(t->echo_off, reps), en = median(t->echo_on, reps);
  double ro = median(t->routed_off, reps), rn = median(t->routed_on, reps);
  printf("\ntracing (WATVM_TRACE=DIR) on against off, watvm, median [min..max]:\n");
  printf("%-42s %24s %24s %6s\n", "figure", "off", "on", "on/off");
  printf("%-42s %10.2f [%.2f..%.2f] %10.2f [%.2f..%.2f] %6.2f\n",
         "route, per hop, 10-deep chain (us/hop)", ho, t->hop_off[0],
         t->hop_off[reps - 1], hn, t->hop_on[0], t->hop_on[reps - 1], hn / ho);
  printf("%-42s %10.0f [%.0f..%.0f] %10.0f [%.0f..%.0f] %6.2f\n",
         "echo to a leaf, 100 B (req/s; no edge)", eo, t->echo_off[0],
         t->echo_off[reps - 1], en, t->echo_on[0], t->echo_on[reps - 1], en / eo);
  printf("%-42s %10.0f [%.0f..%.0f] %10.0f [%.0f..%.0f] %6.2f\n",
         "echo routed over 1 traced edge (req/s)", ro, t->routed_off[0],
         t->routed_off[reps - 1], rn, t->routed_on[0], t->routed_on[reps - 1], rn / ro);
  printf("trace written: %.0f bytes per 10-deep route, %.0f per routed echo\n",
         t->bytes_per_hop_req, t->bytes_per_routed_req);
  if (t->have_nt) {
    double hx = median(t->hop_nt, reps), ex = median(t->echo_nt, reps);
    printf("tracing off against compiled out: hop %.2f vs %.2f us/hop (%.3f), "
           "echo %.0f vs %.0f req/s (%.3f)\n",
           ho, hx, ho / hx, eo, ex, eo / ex);
  }
}

static void print_json(struct figure *f, int nf, int reps, struct shape *sh,
                       int ns, struct trace_fig *t) {
  printf("{");
  for (int i = 0; i < nf; i++) {
    printf("%s\"%s\": {\"ratio\": %.4f, \"watvm\": %.4f, \"raw\": %.4f, \"unit\": \"%s\", "
           "\"target\": %.2f, \"higher_is_better\": %s}",
           i ? ", " : "", f[i].key, ratio(&f[i], reps), median(f[i].watvm, reps),
           median(f[i].raw, reps), f[i].unit, f[i].target,
           f[i].higher_is_better ? "true" : "false");
  }
  printf(", \"build_curve\": [");
  for (int i = 0; i < ns; i++)
    printf("%s{\"nodes\": %ld, \"watvm\": %.4f, \"raw\": %.4f}", i ? ", " : "",
           count_nodes(sh[i].fanout, sh[i].depth), median(sh[i].watvm, reps),
           median(sh[i].raw, reps));
  printf("]");
  printf(", \"hop_curve\": [");
  static const int depths[] = {1, 3, 10};
  for (int i = 0; i < 3; i++) {
    struct figure *h = NULL;
    for (int k = 0; k < nf; k++)
      if (!strcmp(f[k].key, depths[i] == 1 ? "hop_1" : depths[i] == 3 ? "hop_3" : "hop"))
        h = &f[k];
    printf("%s{\"depth\": %d, \"watvm\": %.4f, \"raw\": %.4f}", i ? ", " : "",
           depths[i], median(h->watvm, reps), median(h->raw, reps));
  }
  printf("]");
  double ho = median(t->hop_off, reps), hn = median(t->hop_on, reps);
  double eo = median(t->echo_off, reps), en = median(t->echo_on, reps);
  double ro = median(t->routed_off, reps), rn = median(t->routed_on, reps);
  printf(", \"trace\": {\"hop_off\": %.4f, \"hop_on\": %.4f, \"hop_ratio\": %.4f, "
         "\"echo_off\": %.1f, \"echo_on\": %.1f, \"echo_ratio\": %.4f, "
         "\"routed_echo_off\": %.1f, \"routed_echo_on\": %.1f, \"routed_echo_ratio\": %.4f, "
         "\"bytes_per_hop_request\": %.0f, \"bytes_per_routed_echo\": %.0f",
         ho, hn, hn / ho, eo, en, en / eo, ro, rn, rn / ro, t->bytes_per_hop_req,
         t->bytes_per_routed_req);
  if (t->have_nt) {
    double hx = median(t->hop_nt, reps), ex = median(t->echo_nt, reps);
    printf(", \"hop_compiled_out\": %.4f, \"off_hop_ratio\": %.4f, "
           "\"echo_compiled_out\": %.1f, \"off_echo_ratio\": %.4f",
           hx, ho / hx, ex, eo / ex);
  }
  printf("}}\n");
}

/* One figure, once: for profilers. count 0 → the full run's count. */
static int only_fanout = 10, only_depth = 3; /* --shape, for fan and build */

static int run_only(const char *what, int w, long count) {
  double v, spare;
  if (!strcmp(what, "hop1")) v = bench_hop(w, 1, count ? (int)count : 100000);
  else if (!strcmp(what, "hop3")) v = bench_hop(w, 3, count ? (int)count : 100000);
  else if (!strcmp(what, "hop10")) v = bench_hop(w, 10, count ? (int)count : 100000);
  else if (!strcmp(what, "echo")) v = bench_echo(w, count ? count : 1000000, 100);
  else if (!strcmp(what, "echo64k")) v = bench_echo(w, count ? count : 2000, 65536) * 65536 / 1e6;
  else if (!strcmp(what, "routed")) v = bench_echo_at(w, count ? count : 100000, 100, 1);
  else if (!strcmp(what, "fan")) v = bench_fan(w, only_fanout, only_depth, count ? (int)count : 100);
  else if (!strcmp(what, "build")) bench_build(w, only_fanout, only_depth, &v, &spare);
  else {
    fprintf(stderr, "tree_bench: unknown figure %s\n", what);
    return 2;
  }
  printf("%s %s: %.4f\n", w ? "watvm" : "raw", what, v);
  return 0;
}

int main(int argc, char **argv) {
  int json = 0, reps = 3, quick = 0, i = 1;
  const char *notrace = NULL, *only = NULL;
  long count = 0;
  int raw_only = 0;
  for (; i < argc && argv[i][0] == '-'; i++) {
    if (!strcmp(argv[i], "--json")) json = 1;
    else if (!strcmp(argv[i], "--quick")) quick = 1;
    else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--notrace") && i + 1 < argc) notrace = argv[++i];
    else if (!strcmp(argv[i], "--only") && i + 1 < argc) only = argv[++i];
    else if (!strcmp(argv[i], "--count") && i + 1 < argc) count = atol(argv[++i]);
    else if (!strcmp(argv[i], "--raw")) raw_only = 1;
    else if (!strcmp(argv[i], "--shape") && i + 2 < argc) {
      only_fanout = atoi(argv[++i]);
      only_depth = atoi(argv[++i]);
    }
    else break;
  }
  if (argc - i != 2 || reps < 1 || reps > 16) {
    fprintf(stderr, "usage: tree_bench [--json] [--quick] [--reps N<=16] "
                    "[--notrace WATVM_NOTRACE] WATVM RAW_NODE\n");
    return 2;
  }
  watvm_path = argv[i];
  raw_path = argv[i + 1];
  signal(SIGPIPE, SIG_IGN);
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) die("prctl");
  if (only) return run_only(only, !raw_only, count);
  unsetenv("WATVM_TRACE"); /* "off" means off */

  int fan = quick ? 3 : 10, bin = quick ? 4 : 10;
  long echoes = quick ? 20000 : 1000000;
  int hops = quick ? 2000 : 100000, bigs = quick ? 200 : 2000, fans = quick ? 20 : 100;
  int traced_hops = hops / 10;
  if (quick) curve_budget = 100;
  long routed = echoes / 10;
  enum { BUILD, TEARDOWN, BUILD_BIN, HOP1, HOP3, HOP10, ECHO, ECHO64K, FAN, NF };
  struct figure f[NF] = {
      [BUILD] = {"build", "build + first fan, wide, per node", "us/node", {0}, {0}, 0, 1.3},
      [TEARDOWN] = {"teardown", "teardown, wide, per node", "us/node", {0}, {0}, 0, 1.5},
      [BUILD_BIN] = {"build_2x10", "build + first fan, binary, per node", "us/node", {0}, {0}, 0, 1.3},
      [HOP1] = {"hop_1", "route, per hop (1-deep chain)", "us/hop", {0}, {0}, 0, 1.5},
      [HOP3] = {"hop_3", "route, per hop (3-deep chain)", "us/hop", {0}, {0}, 0, 1.5},
      [HOP10] = {"hop", "route, per hop (10-deep chain)", "us/hop", {0}, {0}, 0, 1.5},
      [ECHO] = {"throughput", "echo over one edge, 100 B body", "req/s", {0}, {0}, 1, 0.5},
      [ECHO64K] = {"throughput_64k", "echo over one edge, 64 KiB body", "MB/s", {0}, {0}, 1, 0},
      [FAN] = {"fan", "fan round trip, wide tree", "fan/s", {0}, {0}, 1, 0},
  };
  /* The curve's smaller shapes; the wide and binary trees above are its
   * two largest points. */
  int b1 = quick ? bin - 2 : bin - 4, b2 = quick ? bin - 1 : bin - 2;
  struct shape sh[6] = {{fan, 1, {0}, {0}}, {fan, 2, {0}, {0}}, {2, b1, {0}, {0}},
                        {2, b2, {0}, {0}}, {fan, 3, {0}, {0}}, {2, bin, {0}, {0}}};
  static struct trace_fig tf;
  tf.have_nt = notrace != NULL;
  for (int rep = 0; rep < reps; rep++) {
    /* Each figure runs raw then watvm back to back, so a change in the
     * machine's load mostly hits both sides of a ratio. */
    for (int w = 0; w <= 1; w++) {
      double *v = w ? &f[BUILD].watvm[rep] : &f[BUILD].raw[rep];
      bench_build(w, fan, 3, v, w ? &f[TEARDOWN].watvm[rep] : &f[TEARDOWN].raw[rep]);
    }
    for (int w = 0; w <= 1; w++) {
      double spare;
      bench_build(w, 2, bin, w ? &f[BUILD_BIN].watvm[rep] : &f[BUILD_BIN].raw[rep], &spare);
    }
    for (int k = 0; k < 4; k++)
      build_curve_point(&sh[k], rep);
    hop_pair(1, hops, &f[HOP1].raw[rep], &f[HOP1].watvm[rep]);
    hop_pair(3, hops, &f[HOP3].raw[rep], &f[HOP3].watvm[rep]);
    hop_pair(10, hops, &f[HOP10].raw[rep], &f[HOP10].watvm[rep]);
    for (int w = 0; w <= 1; w++)
      *(w ? &f[ECHO].watvm[rep] : &f[ECHO].raw[rep]) = bench_echo(w, echoes, 100);
    for (int w = 0; w <= 1; w++)
      *(w ? &f[ECHO64K].watvm[rep] : &f[ECHO64K].raw[rep]) =
          bench_echo(w, bigs, 65536) * 65536 / 1e6;
    for (int w = 0; w <= 1; w++)
      *(w ? &f[FAN].watvm[rep] : &f[FAN].raw[rep]) = bench_fan(w, fan, 3, fans);
    trace_rep(&tf, rep, notrace, traced_hops, echoes, routed);
  }
  trace_done();
  for (int k = 0; k < reps; k++) {
    sh[4].watvm[k] = f[BUILD].watvm[k], sh[4].raw[k] = f[BUILD].raw[k];
    sh[5].watvm[k] = f[BUILD_BIN].watvm[k], sh[5].raw[k] = f[BUILD_BIN].raw[k];
  }
  /* Sort the curve by size (the two shapes interleave). */
  for (int a = 0; a < 6; a++)
    for (int b = a + 1; b < 6; b++)
      if (count_nodes(sh[b].fanout, sh[b].depth) < count_nodes(sh[a].fanout, sh[a].depth)) {
        struct shape x = sh[a];
        sh[a] = sh[b];
        sh[b] = x;
      }
  if (json) {
    print_json(f, NF, reps, sh, 6, &tf);
    return 0;
  }
  printf("wide tree %dx3 (%ld nodes), binary tree 2x%d (%ld nodes); %d routes per chain; %ld echoes; "
         "%d reps\n", fan, count_nodes(fan, 3), bin, count_nodes(2, bin), hops, echoes, reps);
  print_text(f, NF, reps);
  print_curve_text(sh, 6, reps);
  print_trace_text(&tf, reps);
  return 0;
}
