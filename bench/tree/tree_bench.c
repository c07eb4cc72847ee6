/* tree_bench.c — watvm against the raw C baselines, same shapes, same run:
 * tree build + first :fan per node (and its curve over tree sizes),
 * teardown per node, per-hop :route latency down 1-, 3- and 10-deep chains,
 * :echo throughput over one pipelined edge, :fan round trips, the memory of
 * an idle leaf and of a whole idle tree (PSS and RSS, /proc/PID/smaps_rollup),
 * and what WATVM_TRACE costs: on against off, and off against a watvm built
 * with tracing compiled out (--notrace).
 *
 * Two raw baselines, one source (raw_node.c): RAW_NODE spawns with fork(),
 * RAW_NODE_SPAWN with posix_spawn() (vfork-style, as watvm). The
 * spawn-bound figures (build, the build curve, teardown) run all three and
 * take their ratio against the faster raw program of this run (the lower
 * median); message figures (route, echo, fan) run against raw_node, whose
 * relay is the same code in both.
 *
 * Every figure is measured in slices, raw and watvm interleaved (the order
 * turning from slice to slice): a build is one slice; for route, echo and
 * fan figures both trees stay up and each slice is a batch of requests on
 * each in turn. Each slice gives a ratio watvm/raw (rates: watvm's rate over
 * raw's, higher is better); a figure prints the median, min and max of its
 * slices' ratios — the median is the headline — and its target with
 * "met"/"MISSED". A ratio never fails the run. `--json` prints one object.
 *
 *   tree_bench [--json] [--quick] [--slices N] [--notrace WATVM_NOTRACE]
 *              WATVM RAW_NODE [RAW_NODE_SPAWN]
 *   tree_bench --only hop1|hop3|hop10|echo|echo64k|routed|fan|build|teardown|pss
 *              [--raw|--raw-spawn] [--count N] [--shape FANOUT DEPTH]
 *              WATVM RAW_NODE [RAW_NODE_SPAWN]
 * The --only form runs one figure once (watvm's, or a raw program's) and
 * prints its value: a workload to run under perf, strace or callgrind. */
#define _GNU_SOURCE
#include <ctype.h>
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
#define MAXS 64 /* slices per figure, at most */

struct root {
  pid_t pid;
  int in, out;        /* write end of its stdin, read end of its stdout */
  char buf[1 << 16];  /* stdout bytes read but not yet consumed */
  size_t len;
};

/* The programs a figure runs. RAW and RAWS speak raw_node's line relay,
 * WATVM and NOTRACE the wire protocol. */
enum side { RAW, WATVM, RAWS, NOTRACE, NSIDES };
static const char *side_path[NSIDES];

static int speaks_edn(int side) { return side == WATVM || side == NOTRACE; }

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

/* Blocking or not (the echo figures make the root's stdin non-blocking). */
static void write_all(int fd, const char *s, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, s, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN) {
      struct pollfd p = {fd, POLLOUT, 0};
      if (poll(&p, 1, TIMEOUT_MS) <= 0) die("root's stdin stayed full");
      continue;
    }
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

/* Close the roots' stdin and reap every process of their trees: we are a
 * subreaper, so every tree ends up ours to wait for — all of them, which is
 * why trees that are up together go down together. */
static void teardown_all(struct root *r, int n) {
  for (int i = 0; i < n; i++) close(r[i].in);
  while (waitpid(-1, NULL, 0) > 0 || errno == EINTR) {}
  for (int i = 0; i < n; i++) close(r[i].out);
}

static void teardown(struct root *r) { teardown_all(r, 1); }

/* ---- shapes ---- */

/* The generated names of docs/scenarios.md: L1, L2-1, L3-1-2, ... */
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

static void launch_shape(struct root *r, int side, int fanout, int depth) {
  char f[16], d[16];
  snprintf(f, sizeof f, "%d", fanout);
  snprintf(d, sizeof d, "%d", depth);
  if (speaks_edn(side)) {
    char *spec = tree_spec(fanout, depth);
    char *argv[] = {(char *)side_path[side], "--spec", spec, NULL};
    launch(r, argv);
    free(spec);
  } else {
    char *argv[] = {(char *)side_path[side], f, d, NULL};
    launch(r, argv);
  }
}

static long count_nodes(int fanout, int depth) {
  long n = 1, level = 1;
  for (int i = 0; i < depth; i++) n += (level *= fanout);
  return n;
}

static const char *fan_req(int side) {
  return speaks_edn(side) ? "{:id 1 :op :fan :req {:op :ping}}\n" : "ping\n";
}

/* ---- memory: PSS and RSS from /proc/PID/smaps_rollup ---- */

struct treemem {
  int nodes, leaves;
  double pss, rss;           /* KiB, summed over the tree */
  double leaf_pss, leaf_rss; /* KiB, summed over its leaves */
};

static int rollup(pid_t pid, double *pss, double *rss) {
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%d/smaps_rollup", (int)pid);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  int got = 0;
  while (fgets(line, sizeof line, f)) {
    if (!strncmp(line, "Rss:", 4)) *rss = atof(line + 4), got |= 1;
    else if (!strncmp(line, "Pss:", 4)) *pss = atof(line + 4), got |= 2;
  }
  fclose(f);
  return got == 3 ? 0 : -1;
}

struct proc {
  pid_t pid, ppid;
  int in_tree, kids;
};

static int by_pid(const void *a, const void *b) {
  pid_t x = ((const struct proc *)a)->pid, y = ((const struct proc *)b)->pid;
  return (x > y) - (x < y);
}

static struct proc *find_proc(struct proc *p, size_t n, pid_t pid) {
  struct proc key = {.pid = pid};
  return bsearch(&key, p, n, sizeof *p, by_pid);
}

/* The tree under `root` (it included), from every /proc/N/stat's parent,
 * and the PSS and RSS of each of its processes. An idle tree: it is read
 * between the first fan's reply and the teardown, outside both timings. */
static void tree_mem(pid_t root, struct treemem *m) {
  memset(m, 0, sizeof *m);
  DIR *d = opendir("/proc");
  if (!d) die("opendir /proc");
  struct proc *p = NULL;
  size_t n = 0, cap = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (!isdigit((unsigned char)e->d_name[0])) continue;
    char path[300], buf[512];
    snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ssize_t k = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (k <= 0) continue;
    buf[k] = 0;
    char *rp = strrchr(buf, ')');
    int ppid;
    if (!rp || sscanf(rp + 1, " %*c %d", &ppid) != 1) continue;
    if (n == cap && !(p = realloc(p, (cap = cap ? cap * 2 : 1024) * sizeof *p)))
      die("realloc");
    p[n++] = (struct proc){(pid_t)atoi(e->d_name), (pid_t)ppid, 0, 0};
  }
  closedir(d);
  qsort(p, n, sizeof *p, by_pid);
  struct proc *top = find_proc(p, n, root);
  if (top) top->in_tree = 1;
  for (int changed = 1; changed;) { /* one pass per level, at most */
    changed = 0;
    for (size_t i = 0; i < n; i++) {
      if (p[i].in_tree) continue;
      struct proc *up = find_proc(p, n, p[i].ppid);
      if (up && up->in_tree) p[i].in_tree = changed = 1;
    }
  }
  for (size_t i = 0; i < n; i++)
    if (p[i].in_tree && p[i].pid != root) {
      struct proc *up = find_proc(p, n, p[i].ppid);
      if (up) up->kids++;
    }
  for (size_t i = 0; i < n; i++) {
    double pss, rss;
    if (!p[i].in_tree || rollup(p[i].pid, &pss, &rss) < 0) continue;
    m->nodes++;
    m->pss += pss;
    m->rss += rss;
    if (p[i].kids == 0) {
      m->leaves++;
      m->leaf_pss += pss;
      m->leaf_rss += rss;
    }
  }
  free(p);
}

/* ---- one measurement of each kind ---- */

/* Build + first fan, then teardown, both per node in µs; with `m`, the
 * idle tree's memory is read in between (not timed). */
static void bench_build(int side, int fanout, int depth, double *build,
                        double *down, struct treemem *m) {
  struct root r;
  long nodes = count_nodes(fanout, depth);
  double t0 = now_us();
  launch_shape(&r, side, fanout, depth);
  const char *req = fan_req(side);
  write_all(r.in, req, strlen(req));
  read_line(&r);
  double t1 = now_us();
  *build = (t1 - t0) / (double)nodes; /* before the memory is read: until 4
                                         Dec it counted that reading too, for
                                         watvm and raw_node but never for
                                         raw_node_spawn, the faster raw */
  if (m) {
    tree_mem(r.pid, m);
    t1 = now_us();
  }
  teardown(&r);
  double t2 = now_us();
  *down = (t2 - t1) / (double)nodes;
}

/* `count` sequential round trips of `req` on a running tree, in µs. */
static double round_trips_us(struct root *r, const char *req, size_t n,
                             int count) {
  double t0 = now_us();
  for (int i = 0; i < count; i++) {
    write_all(r->in, req, n);
    read_line(r);
  }
  return now_us() - t0;
}

/* Requests per second of `count` pipelined requests on a running tree: the
 * writer never waits for replies, the reader counts lines. The stream is
 * quiet again when it returns (every reply read). */
static double pipelined_rate(struct root *r, const char *req, size_t n,
                             long count) {
  long sent = 0, got = 0;
  size_t off = 0;
  r->len = 0;
  double t0 = now_us();
  while (got < count) {
    struct pollfd p[2] = {{r->out, POLLIN, 0}, {sent < count ? r->in : -1, POLLOUT, 0}};
    if (poll(p, 2, TIMEOUT_MS) <= 0) die("echo stalled");
    if (p[1].revents & POLLOUT) {
      while (sent < count) {
        ssize_t w = write(r->in, req + off, n - off);
        if (w < 0) break;
        off += (size_t)w;
        if (off == n) { off = 0; sent++; }
      }
    }
    if (p[0].revents & (POLLIN | POLLHUP)) {
      ssize_t k = read(r->out, r->buf, sizeof r->buf);
      if (k == 0) { errno = EPIPE; die("leaf closed its stdout"); }
      for (char *q = r->buf, *end = r->buf + (k > 0 ? k : 0);
           (q = memchr(q, '\n', (size_t)(end - q))); q++)
        got++;
    }
  }
  return (double)count / ((now_us() - t0) / 1e6);
}

/* The request of a route to the bottom of a `depth`-deep chain. */
static size_t hop_req(int side, int depth, char *req, size_t size) {
  if (!speaks_edn(side)) return (size_t)snprintf(req, size, "ping\n");
  size_t n = (size_t)snprintf(req, size, "{:id 1 :op :route :path [");
  char suffix[256] = "";
  for (int i = 1; i <= depth; i++) {
    strcat(suffix, "-1");
    n += (size_t)snprintf(req + n, size - n, "%s\"L%d%s\"", i > 1 ? " " : "",
                          i + 1, suffix);
  }
  n += (size_t)snprintf(req + n, size - n, "] :req {:op :ping}}\n");
  return n;
}

/* An :echo of `body` bytes to a leaf (routed: through the root to its one
 * child); malloc'd. raw_node gets the same line (a leaf echoes any line):
 * the same bytes cross the pipes on both sides. */
static char *echo_req(size_t body, int routed, size_t *n) {
  char *req = malloc(body + 128), *pad = malloc(body + 1);
  if (!req || !pad) die("malloc");
  memset(pad, 'x', body);
  pad[body] = 0;
  *n = (size_t)sprintf(
      req,
      routed ? "{:id 1 :op :route :path [\"L2-1\"] :req {:op :echo :body \"%s\"}}\n"
             : "{:id 1 :op :echo :body \"%s\"}\n",
      pad);
  free(pad);
  return req;
}

/* ---- figures ---- */

struct figure {
  const char *key, *what, *unit;
  int higher;  /* a rate: higher is better, ratio = watvm's rate / raw's */
  int spawn;   /* spawn-bound: also raw_node_spawn, against the faster raw */
  double target; /* bound on the median ratio (<=, or >= when higher); 0: none */
  int fanout, depth; /* the tree, for build figures */
  int n;       /* slices */
  double v[NSIDES][MAXS];
};

struct stats {
  double med, min, max;
};

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static struct stats spread(const double *v, int n) {
  double s[MAXS];
  memcpy(s, v, (size_t)n * sizeof *s);
  qsort(s, (size_t)n, sizeof *s, cmp);
  struct stats r = {n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2, s[0], s[n - 1]};
  return r;
}

static double med(const double *v, int n) { return spread(v, n).med; }

static int has_spawn(const struct figure *f) { return f->spawn && side_path[RAWS]; }

/* The raw program this figure's ratio is against: raw_node, or for a
 * spawn-bound figure whichever of the two was faster (lower median) here. */
static int base_side(const struct figure *f) {
  if (!has_spawn(f)) return RAW;
  return med(f->v[RAWS], f->n) < med(f->v[RAW], f->n) ? RAWS : RAW;
}

static struct stats fig_ratio(const struct figure *f) {
  double r[MAXS];
  int b = base_side(f);
  for (int s = 0; s < f->n; s++) r[s] = f->v[WATVM][s] / f->v[b][s];
  return spread(r, f->n);
}

static int met(double v, double target, int higher) {
  return higher ? v >= target : v <= target;
}

/* The order of the sides in slice s: two alternate, three go through all
 * six orders, so no program always runs first or right after another. */
static const int perm3[6][3] = {{0, 1, 2}, {2, 1, 0}, {1, 2, 0},
                                {0, 2, 1}, {2, 0, 1}, {1, 0, 2}};

static int order(int s, int k, int nsides) {
  return nsides == 3 ? perm3[s % 6][k] : nsides == 2 ? (s % 2 ? 1 - k : k) : k;
}

/* The memory figure: an idle leaf alone (a tree of one node: nothing of its
 * binary shared with another node), and each node and each leaf of the
 * idle wide tree on average, for watvm and raw_node. KiB per slice. */
struct memfig {
  int n_leaf, n_tree, nodes, leaves;
  double leaf_pss[NSIDES][MAXS], leaf_rss[NSIDES][MAXS];
  double node_pss[NSIDES][MAXS], node_rss[NSIDES][MAXS];
  double tleaf_pss[NSIDES][MAXS], tleaf_rss[NSIDES][MAXS];
};

/* A spawn-bound figure: slice s builds the tree once per program (in turn,
 * the order turning), or `times` times when the tree is small (the mean). */
static void build_slices(struct figure *f, struct figure *down, int slices,
                         int times, struct memfig *m) {
  int sides[3] = {RAW, WATVM, RAWS}, ns = has_spawn(f) ? 3 : 2;
  f->n = slices;
  if (down) down->n = slices;
  if (m) m->n_tree = slices;
  for (int s = 0; s < slices; s++)
    for (int k = 0; k < ns; k++) {
      int side = sides[order(s, k, ns)];
      double sum = 0, dsum = 0;
      for (int t = 0; t < times; t++) {
        double b, d;
        struct treemem tm;
        int want = m && t == 0 && side != RAWS;
        bench_build(side, f->fanout, f->depth, &b, &d, want ? &tm : NULL);
        sum += b;
        dsum += d;
        if (want) {
          m->nodes = tm.nodes;
          m->leaves = tm.leaves;
          m->node_pss[side][s] = tm.pss / tm.nodes;
          m->node_rss[side][s] = tm.rss / tm.nodes;
          m->tleaf_pss[side][s] = tm.leaves ? tm.leaf_pss / tm.leaves : 0;
          m->tleaf_rss[side][s] = tm.leaves ? tm.leaf_rss / tm.leaves : 0;
        }
      }
      f->v[side][s] = sum / times;
      if (down) down->v[side][s] = dsum / times;
    }
}

/* An idle leaf alone, after one request: its PSS and RSS. */
static void leaf_slices(struct memfig *m, int slices) {
  m->n_leaf = slices;
  for (int s = 0; s < slices; s++)
    for (int k = 0; k < 2; k++) {
      int side = order(s, k, 2) ? WATVM : RAW;
      struct root r;
      launch_shape(&r, side, 1, 0);
      write_all(r.in, fan_req(side), strlen(fan_req(side)));
      read_line(&r);
      double pss = 0, rss = 0;
      if (rollup(r.pid, &pss, &rss) < 0) die("smaps_rollup");
      m->leaf_pss[side][s] = pss;
      m->leaf_rss[side][s] = rss;
      teardown(&r);
    }
}

/* Start each side's tree and bring it up with `warm` requests. */
static void start_trees(struct root *r, const int *sides, int ns, int fanout,
                        int depth, const char *const *req, const size_t *len,
                        int warm) {
  for (int k = 0; k < ns; k++) {
    launch_shape(&r[k], sides[k], fanout, depth);
    for (int i = 0; i < warm; i++) {
      write_all(r[k].in, req[k], len[k]);
      read_line(&r[k]);
    }
  }
}

/* Per-hop route latency (µs) down a `depth`-deep chain: both chains up,
 * each slice `per` sequential routes on each. */
static void hop_slices(struct figure *f, int depth, int per, int slices) {
  static struct root r[2];
  int sides[2] = {RAW, WATVM};
  char buf[2][4096];
  const char *req[2] = {buf[0], buf[1]};
  size_t len[2];
  for (int k = 0; k < 2; k++) len[k] = hop_req(sides[k], depth, buf[k], sizeof buf[k]);
  start_trees(r, sides, 2, 1, depth, req, len, 20);
  f->n = slices;
  for (int s = 0; s < slices; s++)
    for (int j = 0; j < 2; j++) {
      int k = order(s, j, 2);
      f->v[sides[k]][s] = round_trips_us(&r[k], req[k], len[k], per) / per / (depth + 1);
    }
  teardown_all(r, 2);
}

/* Pipelined echo (req/s, or MB/s of body with `mb`) to a leaf; routed: over
 * the root's edge to its one child. */
static void echo_slices(double (*v)[MAXS], const int *sides, int ns, size_t body,
                        int routed, long per, int slices, int mb) {
  static struct root r[3];
  char *req[3];
  size_t len[3];
  for (int k = 0; k < ns; k++) req[k] = echo_req(body, routed, &len[k]);
  start_trees(r, sides, ns, 1, routed ? 1 : 0, (const char *const *)req, len, 3);
  for (int k = 0; k < ns; k++) fcntl(r[k].in, F_SETFL, O_NONBLOCK);
  for (int s = 0; s < slices; s++)
    for (int j = 0; j < ns; j++) {
      int k = order(s, j, ns);
      double rate = pipelined_rate(&r[k], req[k], len[k], per);
      v[k][s] = mb ? rate * (double)body / 1e6 : rate;
    }
  teardown_all(r, ns);
  for (int k = 0; k < ns; k++) free(req[k]);
}

static void echo_fig(struct figure *f, size_t body, long per, int slices, int mb) {
  int sides[2] = {RAW, WATVM};
  double v[2][MAXS];
  echo_slices(v, sides, 2, body, 0, per, slices, mb);
  f->n = slices;
  memcpy(f->v[RAW], v[0], sizeof v[0]);
  memcpy(f->v[WATVM], v[1], sizeof v[1]);
}

/* :fan round trip (ms) through two built trees, `per` fans a slice. */
static void fan_slices(struct figure *f, int fanout, int depth, int per, int slices) {
  static struct root r[2];
  int sides[2] = {RAW, WATVM};
  const char *req[2] = {fan_req(RAW), fan_req(WATVM)};
  size_t len[2] = {strlen(req[0]), strlen(req[1])};
  start_trees(r, sides, 2, fanout, depth, req, len, 2);
  f->n = slices;
  for (int s = 0; s < slices; s++)
    for (int j = 0; j < 2; j++) {
      int k = order(s, j, 2);
      f->v[sides[k]][s] = round_trips_us(&r[k], req[k], len[k], per) / per / 1e3;
    }
  teardown_all(r, 2);
}

/* ---- tracing ---- */

/* WATVM_TRACE set while a traced tree starts (every node it starts inherits
 * it), unset again for the others; trace_collect() removes what the nodes
 * wrote and returns its size in bytes. */
static char trace_dir[64];

static void trace_env(int on) {
  if (!on) {
    unsetenv("WATVM_TRACE");
    return;
  }
  if (!trace_dir[0]) {
    strcpy(trace_dir, "/tmp/tree_bench.XXXXXX");
    if (!mkdtemp(trace_dir)) die("mkdtemp");
  }
  if (setenv("WATVM_TRACE", trace_dir, 1) < 0) die("setenv");
}

static double trace_collect(void) {
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

/* What tracing costs, watvm only: the 10-deep route, the 100 B echo to a
 * leaf (which has no child edge to trace: tracing enabled with nothing to
 * write) and the 100 B echo routed over one traced edge — each on a tree
 * with WATVM_TRACE unset (off), one with it set (on) and one of
 * watvm_notrace (compiled out), all up together, slices interleaved. */
enum { OFF, ON, NT };
struct trace_fig {
  int n, have_nt;
  double hop[3][MAXS], echo[3][MAXS], routed[2][MAXS];
  double bytes_per_hop_req, bytes_per_routed_req;
};

/* The sides of the trace trees: watvm twice (off, then on), notrace. */
static void trace_start(struct root *r, int ns, int depth, const char *const *req,
                        const size_t *len, int warm) {
  int sides[3] = {WATVM, WATVM, NOTRACE};
  for (int k = 0; k < ns; k++) {
    trace_env(k == ON);
    start_trees(&r[k], &sides[k], 1, 1, depth, &req[k], &len[k], warm);
  }
  trace_env(0);
}

static void trace_slices(struct trace_fig *t, int hops, long echoes, long routed,
                         int slices) {
  static struct root r[3];
  int ns = t->have_nt ? 3 : 2, warm = 20;
  t->n = slices;
  /* route, 10 deep */
  char hbuf[4096];
  size_t hl = hop_req(WATVM, 10, hbuf, sizeof hbuf);
  const char *hreq[3] = {hbuf, hbuf, hbuf};
  size_t hlen[3] = {hl, hl, hl};
  trace_start(r, ns, 10, hreq, hlen, warm);
  for (int s = 0; s < slices; s++)
    for (int j = 0; j < ns; j++) {
      int k = order(s, j, ns);
      t->hop[k][s] = round_trips_us(&r[k], hbuf, hl, hops) / hops / 11;
    }
  teardown_all(r, ns);
  t->bytes_per_hop_req = trace_collect() / (warm + (double)hops * slices);
  /* echo to a leaf, and routed over one edge */
  for (int routed_pass = 0; routed_pass <= 1; routed_pass++) {
    int n = routed_pass ? 2 : ns;
    size_t el;
    char *e = echo_req(100, routed_pass, &el);
    const char *ereq[3] = {e, e, e};
    size_t elen[3] = {el, el, el};
    trace_start(r, n, routed_pass, ereq, elen, 3);
    for (int k = 0; k < n; k++) fcntl(r[k].in, F_SETFL, O_NONBLOCK);
    long per = routed_pass ? routed : echoes;
    for (int s = 0; s < slices; s++)
      for (int j = 0; j < n; j++) {
        int k = order(s, j, n);
        double rate = pipelined_rate(&r[k], e, el, per);
        if (routed_pass) t->routed[k][s] = rate;
        else t->echo[k][s] = rate;
      }
    teardown_all(r, n);
    double b = trace_collect();
    if (routed_pass) t->bytes_per_routed_req = b / (3 + (double)per * slices);
    free(e);
  }
}

/* Median [min..max] of the per-slice ratio a[s]/b[s]. */
static struct stats ratio_of(const double *a, const double *b, int n) {
  double r[MAXS];
  for (int s = 0; s < n; s++) r[s] = a[s] / b[s];
  return spread(r, n);
}

/* ---- output ---- */

static const char *num(double v, char *buf) { /* 8 significant-ish chars */
  if (v >= 1e6) sprintf(buf, "%.2fM", v / 1e6);
  else if (v >= 1e4) sprintf(buf, "%.1fk", v / 1e3);
  else if (v >= 100) sprintf(buf, "%.1f", v);
  else sprintf(buf, "%.2f", v);
  return buf;
}

static void target_text(char *out, size_t size, double target, int higher, double v) {
  if (target <= 0) snprintf(out, size, "-");
  else snprintf(out, size, "%s %.1f %s", higher ? ">=" : "<=", target,
                met(v, target, higher) ? "met" : "MISSED");
}

static void print_header(void) {
  printf("%-42s %-8s %9s %9s %9s  %-22s %s\n", "figure", "unit", "watvm", "raw",
         "raw spawn", "ratio median [min..max]", "target");
}

static void print_fig(const struct figure *f) {
  char a[32], b[32], c[32] = "-", t[32], rt[48];
  struct stats r = fig_ratio(f);
  int base = base_side(f);
  num(med(f->v[WATVM], f->n), a);
  num(med(f->v[RAW], f->n), b);
  if (has_spawn(f)) num(med(f->v[RAWS], f->n), c);
  if (has_spawn(f)) strcat(base == RAW ? b : c, "*");
  snprintf(rt, sizeof rt, "%.2f [%.2f..%.2f]", r.med, r.min, r.max);
  target_text(t, sizeof t, f->target, f->higher, r.med);
  printf("%-42s %-8s %9s %9s %9s  %-22s %s\n", f->what, f->unit, a, b, c, rt, t);
}

static void json_stats(const char *prefix, struct stats s) {
  printf("\"%smedian\": %.4f, \"%smin\": %.4f, \"%smax\": %.4f", prefix, s.med,
         prefix, s.min, prefix, s.max);
}

static void json_fig(const struct figure *f) {
  struct stats r = fig_ratio(f);
  int base = base_side(f);
  printf("\"%s\": {\"ratio\": %.4f, ", f->key, r.med);
  json_stats("", r);
  printf(", \"watvm\": %.4f, \"raw\": %.4f, \"raw_fork\": %.4f", med(f->v[WATVM], f->n),
         med(f->v[base], f->n), med(f->v[RAW], f->n));
  if (has_spawn(f))
    printf(", \"raw_spawn\": %.4f, \"raw_used\": \"%s\"", med(f->v[RAWS], f->n),
           base == RAW ? "fork" : "spawn");
  if (f->fanout) printf(", \"nodes\": %ld", count_nodes(f->fanout, f->depth));
  printf(", \"unit\": \"%s\", \"target\": %.2f, \"met\": %s, \"higher_is_better\": %s, "
         "\"slices\": %d}",
         f->unit, f->target,
         f->target > 0 ? (met(r.med, f->target, f->higher) ? "true" : "false") : "null",
         f->higher ? "true" : "false", f->n);
}

#define MIB(kib) ((kib) / 1024.0)

static void mem_row(const char *what, const double *pss, const double *rss,
                    const double *raw_pss, const double *raw_rss, int n, double target) {
  struct stats w = spread(pss, n);
  char t[32], sp[48];
  snprintf(sp, sizeof sp, "%.3f [%.3f..%.3f]", MIB(w.med), MIB(w.min), MIB(w.max));
  target_text(t, sizeof t, target, 0, MIB(w.med));
  printf("%-42s %-22s %8.3f %9.3f %9.3f  %s\n", what, sp, MIB(med(rss, n)),
         MIB(med(raw_pss, n)), MIB(med(raw_rss, n)), t);
}

static void print_mem_text(const struct memfig *m, double target) {
  char what[64];
  printf("\nmemory of idle nodes, MiB (from /proc/PID/smaps_rollup):\n");
  printf("%-42s %-22s %8s %9s %9s  %s\n", "figure", "watvm PSS [min..max]", "RSS",
         "raw PSS", "raw RSS", "target");
  mem_row("idle leaf alone (a tree of one)", m->leaf_pss[WATVM], m->leaf_rss[WATVM],
          m->leaf_pss[RAW], m->leaf_rss[RAW], m->n_leaf, target);
  snprintf(what, sizeof what, "per node, idle tree of %d nodes", m->nodes);
  mem_row(what, m->node_pss[WATVM], m->node_rss[WATVM], m->node_pss[RAW], m->node_rss[RAW],
          m->n_tree, target);
  snprintf(what, sizeof what, "per leaf in that tree (%d leaves)", m->leaves);
  mem_row(what, m->tleaf_pss[WATVM], m->tleaf_rss[WATVM], m->tleaf_pss[RAW],
          m->tleaf_rss[RAW], m->n_tree, target);
}

static void json_mem(const struct memfig *m, double target) {
  struct stats lw = spread(m->leaf_pss[WATVM], m->n_leaf);
  struct stats nw = spread(m->node_pss[WATVM], m->n_tree);
  struct stats tw = spread(m->tleaf_pss[WATVM], m->n_tree);
  int ok = met(MIB(lw.med), target, 0) && met(MIB(nw.med), target, 0) &&
           met(MIB(tw.med), target, 0);
  printf("\"pss\": {\"median\": %.4f, \"min\": %.4f, \"max\": %.4f, \"unit\": \"MiB\", "
         "\"target\": %.2f, \"met\": %s, \"higher_is_better\": false, "
         "\"leaf\": %.4f, \"leaf_rss\": %.4f, "
         "\"per_node\": %.4f, \"per_node_min\": %.4f, \"per_node_max\": %.4f, "
         "\"per_node_rss\": %.4f, "
         "\"tree_leaf\": %.4f, \"tree_leaf_min\": %.4f, \"tree_leaf_max\": %.4f, "
         "\"tree_leaf_rss\": %.4f, \"nodes\": %d, \"leaves\": %d, "
         "\"raw_leaf\": %.4f, \"raw_leaf_rss\": %.4f, \"raw_per_node\": %.4f, "
         "\"raw_per_node_rss\": %.4f, \"slices\": %d, \"tree_slices\": %d}",
         MIB(lw.med), MIB(lw.min), MIB(lw.max), target, ok ? "true" : "false",
         MIB(lw.med), MIB(med(m->leaf_rss[WATVM], m->n_leaf)), MIB(nw.med), MIB(nw.min),
         MIB(nw.max), MIB(med(m->node_rss[WATVM], m->n_tree)), MIB(tw.med), MIB(tw.min),
         MIB(tw.max), MIB(med(m->tleaf_rss[WATVM], m->n_tree)), m->nodes, m->leaves,
         MIB(med(m->leaf_pss[RAW], m->n_leaf)), MIB(med(m->leaf_rss[RAW], m->n_leaf)),
         MIB(med(m->node_pss[RAW], m->n_tree)), MIB(med(m->node_rss[RAW], m->n_tree)),
         m->n_leaf, m->n_tree);
}

static void print_curve_text(struct figure *c, int nc) {
  printf("\nbuild + first fan, per node, by tree size (us/node; * the faster raw):\n");
  printf("%-8s %7s %9s %9s %9s  %s\n", "shape", "nodes", "watvm", "raw", "raw spawn",
         "ratio median [min..max]");
  for (int i = 0; i < nc; i++) {
    char name[32], a[32], b[32], s[32] = "-";
    struct stats r = fig_ratio(&c[i]);
    snprintf(name, sizeof name, "%dx%d", c[i].fanout, c[i].depth);
    num(med(c[i].v[WATVM], c[i].n), a);
    num(med(c[i].v[RAW], c[i].n), b);
    if (has_spawn(&c[i])) {
      num(med(c[i].v[RAWS], c[i].n), s);
      strcat(base_side(&c[i]) == RAW ? b : s, "*");
    }
    printf("%-8s %7ld %9s %9s %9s  %.2f [%.2f..%.2f]\n", name,
           count_nodes(c[i].fanout, c[i].depth), a, b, s, r.med, r.min, r.max);
  }
}

static void print_trace_text(const struct trace_fig *t) {
  int n = t->n;
  struct stats h = ratio_of(t->hop[ON], t->hop[OFF], n);
  struct stats e = ratio_of(t->echo[ON], t->echo[OFF], n);
  struct stats r = ratio_of(t->routed[ON], t->routed[OFF], n);
  printf("\ntracing (WATVM_TRACE=DIR) on against off, watvm, medians; ratio over %d slices:\n", n);
  printf("%-42s %10s %10s  %s\n", "figure", "off", "on", "on/off median [min..max]");
  printf("%-42s %10.2f %10.2f  %.2f [%.2f..%.2f]\n", "route, per hop, 10-deep chain (us/hop)",
         med(t->hop[OFF], n), med(t->hop[ON], n), h.med, h.min, h.max);
  printf("%-42s %10.0f %10.0f  %.2f [%.2f..%.2f]\n", "echo to a leaf, 100 B (req/s; no edge)",
         med(t->echo[OFF], n), med(t->echo[ON], n), e.med, e.min, e.max);
  printf("%-42s %10.0f %10.0f  %.2f [%.2f..%.2f]\n", "echo routed over 1 traced edge (req/s)",
         med(t->routed[OFF], n), med(t->routed[ON], n), r.med, r.min, r.max);
  printf("trace written: %.0f bytes per 10-deep route, %.0f per routed echo\n",
         t->bytes_per_hop_req, t->bytes_per_routed_req);
  if (t->have_nt) {
    struct stats ho = ratio_of(t->hop[OFF], t->hop[NT], n);
    struct stats eo = ratio_of(t->echo[OFF], t->echo[NT], n);
    printf("tracing off against compiled out: hop %.2f vs %.2f us/hop (%.3f [%.3f..%.3f]), "
           "echo %.0f vs %.0f req/s (%.3f [%.3f..%.3f])\n",
           med(t->hop[OFF], n), med(t->hop[NT], n), ho.med, ho.min, ho.max,
           med(t->echo[OFF], n), med(t->echo[NT], n), eo.med, eo.min, eo.max);
  }
}

static void json_trace(const struct trace_fig *t) {
  int n = t->n;
  struct stats h = ratio_of(t->hop[ON], t->hop[OFF], n);
  struct stats e = ratio_of(t->echo[ON], t->echo[OFF], n);
  struct stats r = ratio_of(t->routed[ON], t->routed[OFF], n);
  printf("\"trace\": {\"hop_off\": %.4f, \"hop_on\": %.4f, \"hop_ratio\": %.4f, "
         "\"hop_ratio_min\": %.4f, \"hop_ratio_max\": %.4f, "
         "\"echo_off\": %.1f, \"echo_on\": %.1f, \"echo_ratio\": %.4f, "
         "\"echo_ratio_min\": %.4f, \"echo_ratio_max\": %.4f, "
         "\"routed_echo_off\": %.1f, \"routed_echo_on\": %.1f, \"routed_echo_ratio\": %.4f, "
         "\"routed_echo_ratio_min\": %.4f, \"routed_echo_ratio_max\": %.4f, "
         "\"bytes_per_hop_request\": %.0f, \"bytes_per_routed_echo\": %.0f",
         med(t->hop[OFF], n), med(t->hop[ON], n), h.med, h.min, h.max,
         med(t->echo[OFF], n), med(t->echo[ON], n), e.med, e.min, e.max,
         med(t->routed[OFF], n), med(t->routed[ON], n), r.med, r.min, r.max,
         t->bytes_per_hop_req, t->bytes_per_routed_req);
  if (t->have_nt) {
    struct stats ho = ratio_of(t->hop[OFF], t->hop[NT], n);
    struct stats eo = ratio_of(t->echo[OFF], t->echo[NT], n);
    printf(", \"hop_compiled_out\": %.4f, \"off_hop_ratio\": %.4f, "
           "\"off_hop_ratio_min\": %.4f, \"off_hop_ratio_max\": %.4f, "
           "\"echo_compiled_out\": %.1f, \"off_echo_ratio\": %.4f, "
           "\"off_echo_ratio_min\": %.4f, \"off_echo_ratio_max\": %.4f",
           med(t->hop[NT], n), ho.med, ho.min, ho.max, med(t->echo[NT], n), eo.med,
           eo.min, eo.max);
  }
  printf(", \"slices\": %d}", n);
}

/* ---- phases: where the run's time goes ---- */

static struct {
  const char *name;
  double secs;
} phase[16];
static int nphase;
static double phase_t0;

static void phase_done(const char *name) {
  double t = now_us();
  phase[nphase].name = name;
  phase[nphase++].secs = (t - phase_t0) / 1e6;
  phase_t0 = t;
}

/* ---- one figure, once: for profilers. count 0 → a default count. ---- */

static int only_fanout = 10, only_depth = 3; /* --shape, for fan, build, pss */

static int run_only(const char *what, int side, long count) {
  double v = 0, spare;
  struct root r;
  if (!strncmp(what, "hop", 3) && (!strcmp(what + 3, "1") || !strcmp(what + 3, "3") ||
                                   !strcmp(what + 3, "10"))) {
    int depth = atoi(what + 3);
    char req[4096];
    size_t n = hop_req(side, depth, req, sizeof req);
    int c = count ? (int)count : 100000;
    launch_shape(&r, side, 1, depth);
    round_trips_us(&r, req, n, 1);
    v = round_trips_us(&r, req, n, c) / c / (depth + 1);
    teardown(&r);
  } else if (!strcmp(what, "echo") || !strcmp(what, "echo64k") || !strcmp(what, "routed")) {
    int big = !strcmp(what, "echo64k"), routed = !strcmp(what, "routed");
    size_t body = big ? 65536 : 100, n;
    char *req = echo_req(body, routed, &n);
    launch_shape(&r, side, 1, routed);
    round_trips_us(&r, req, n, 1);
    fcntl(r.in, F_SETFL, O_NONBLOCK);
    v = pipelined_rate(&r, req, n, count ? count : big ? 2000 : routed ? 100000 : 1000000);
    if (big) v = v * 65536 / 1e6;
    teardown(&r);
    free(req);
  } else if (!strcmp(what, "fan")) {
    const char *req = fan_req(side);
    int c = count ? (int)count : 100;
    launch_shape(&r, side, only_fanout, only_depth);
    round_trips_us(&r, req, strlen(req), 1);
    v = round_trips_us(&r, req, strlen(req), c) / c / 1e3; /* ms per fan */
    teardown(&r);
  } else if (!strcmp(what, "build")) {
    bench_build(side, only_fanout, only_depth, &v, &spare, NULL);
  } else if (!strcmp(what, "teardown")) { /* after its build, µs per node */
    bench_build(side, only_fanout, only_depth, &spare, &v, NULL);
  } else if (!strcmp(what, "pss")) {
    struct treemem m;
    bench_build(side, only_fanout, only_depth, &spare, &spare, &m);
    v = MIB(m.pss / m.nodes);
  } else {
    fprintf(stderr, "tree_bench: unknown figure %s\n", what);
    return 2;
  }
  printf("%s %s: %.4f\n", side == WATVM ? "watvm" : side == RAW ? "raw" : "raw_spawn", what, v);
  return 0;
}

/* ---- the plan: shapes, slices, counts ---- */

struct plan {
  int fan, bin;               /* wide tree fan x 3, binary tree 2 x bin */
  int s_build, s_bin, s_curve, s_msg, s_fan, s_mem, s_trace;
  long curve_budget;          /* nodes per program per curve slice */
  int hop_per[3];             /* routes per slice at depth 1, 3, 10 */
  long echo_per, big_per;     /* echoes per slice, 100 B and 64 KiB */
  int fan_per;                /* fans per slice */
  int trace_hop_per;
  long trace_echo_per, trace_routed_per;
};

static const struct plan full_plan = {
    10, 10, 9, 5, 5, 11, 9, 5, 9, 300, {4000, 3000, 2000}, 100000, 1000, 10,
    1000, 50000, 10000};
static const struct plan quick_plan = {
    10, 8, 3, 3, 3, 3, 3, 3, 3, 100, {300, 200, 100}, 5000, 100, 2, 100, 5000, 1000};

int main(int argc, char **argv) {
  int json = 0, quick = 0, slices = 0, i = 1, only_side = WATVM;
  const char *only = NULL;
  long count = 0;
  for (; i < argc && argv[i][0] == '-'; i++) {
    if (!strcmp(argv[i], "--json")) json = 1;
    else if (!strcmp(argv[i], "--quick")) quick = 1;
    else if ((!strcmp(argv[i], "--slices") || !strcmp(argv[i], "--reps")) && i + 1 < argc)
      slices = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--notrace") && i + 1 < argc) side_path[NOTRACE] = argv[++i];
    else if (!strcmp(argv[i], "--only") && i + 1 < argc) only = argv[++i];
    else if (!strcmp(argv[i], "--count") && i + 1 < argc) count = atol(argv[++i]);
    else if (!strcmp(argv[i], "--raw")) only_side = RAW;
    else if (!strcmp(argv[i], "--raw-spawn")) only_side = RAWS;
    else if (!strcmp(argv[i], "--shape") && i + 2 < argc) {
      only_fanout = atoi(argv[++i]);
      only_depth = atoi(argv[++i]);
    }
    else break;
  }
  if (argc - i < 2 || argc - i > 3 || slices < 0 || slices > MAXS) {
    fprintf(stderr, "usage: tree_bench [--json] [--quick] [--slices N<=%d] "
                    "[--notrace WATVM_NOTRACE] WATVM RAW_NODE [RAW_NODE_SPAWN]\n", MAXS);
    return 2;
  }
  side_path[WATVM] = argv[i];
  side_path[RAW] = argv[i + 1];
  side_path[RAWS] = argc - i == 3 ? argv[i + 2] : NULL;
  signal(SIGPIPE, SIG_IGN);
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) die("prctl");
  unsetenv("WATVM_TRACE"); /* "off" means off */
  if (only) {
    if (only_side == RAWS && !side_path[RAWS]) {
      fprintf(stderr, "tree_bench: --raw-spawn needs RAW_NODE_SPAWN\n");
      return 2;
    }
    return run_only(only, only_side, count);
  }

  struct plan p = quick ? quick_plan : full_plan;
  if (slices)
    p.s_build = p.s_bin = p.s_curve = p.s_msg = p.s_fan = p.s_mem = p.s_trace = slices;
  double t_start = now_us();
  phase_t0 = t_start;
  char wide[64], bin[64], fanw[64];
  snprintf(wide, sizeof wide, "build + first fan, %dx3 (%ld nodes)", p.fan,
           count_nodes(p.fan, 3));
  snprintf(bin, sizeof bin, "build + first fan, 2x%d (%ld nodes)", p.bin,
           count_nodes(2, p.bin));
  snprintf(fanw, sizeof fanw, "fan round trip, %dx3 (%ld nodes)", p.fan,
           count_nodes(p.fan, 3));
  enum { BUILD, TEARDOWN, BUILD_BIN, HOP1, HOP3, HOP10, ECHO, ECHO64K, FAN, NF };
  static struct figure f[NF];
  f[BUILD] = (struct figure){"build", wide, "us/node", 0, 1, 1.1, p.fan, 3, 0, {{0}}};
  f[TEARDOWN] = (struct figure){"teardown", "teardown, same tree, per node", "us/node", 0, 1,
                                1.2, p.fan, 3, 0, {{0}}};
  f[BUILD_BIN] = (struct figure){"build_2x10", bin, "us/node", 0, 1, 0, 2, p.bin, 0, {{0}}};
  f[HOP1] = (struct figure){"hop_1", "route, per hop, 1-deep chain", "us/hop", 0, 0, 1.2,
                            0, 0, 0, {{0}}};
  f[HOP3] = (struct figure){"hop_3", "route, per hop, 3-deep chain", "us/hop", 0, 0, 1.2,
                            0, 0, 0, {{0}}};
  f[HOP10] = (struct figure){"hop_10", "route, per hop, 10-deep chain", "us/hop", 0, 0, 1.2,
                             0, 0, 0, {{0}}};
  f[ECHO] = (struct figure){"throughput", "echo over one edge, 100 B body", "req/s", 1, 0,
                            1.0, 0, 0, 0, {{0}}};
  f[ECHO64K] = (struct figure){"throughput_64k", "echo over one edge, 64 KiB body", "MB/s",
                               1, 0, 0, 0, 0, 0, {{0}}};
  f[FAN] = (struct figure){"fan", fanw, "ms/fan", 0, 0, 1.0, 0, 0, 0, {{0}}};
  /* The curve's smaller trees; the wide and binary trees above are its two
   * largest points. */
  static struct figure c[6];
  int cshape[4][2] = {{p.fan, 1}, {p.fan, 2}, {2, p.bin - 4}, {2, p.bin - 2}};
  static struct memfig mem;
  const double pss_target = 1.5; /* MiB */

  build_slices(&f[BUILD], &f[TEARDOWN], p.s_build, 1, &mem);
  phase_done("build_wide");
  leaf_slices(&mem, p.s_mem);
  phase_done("pss_leaf");
  build_slices(&f[BUILD_BIN], NULL, p.s_bin, 1, NULL);
  phase_done("build_binary");
  for (int k = 0; k < 4; k++) {
    c[k] = (struct figure){NULL, NULL, "us/node", 0, 1, 0, cshape[k][0], cshape[k][1], 0, {{0}}};
    long nodes = count_nodes(c[k].fanout, c[k].depth);
    int times = nodes < p.curve_budget ? (int)(p.curve_budget / nodes) : 1;
    build_slices(&c[k], NULL, p.s_curve, times > 20 ? 20 : times, NULL);
  }
  c[4] = f[BUILD];
  c[5] = f[BUILD_BIN];
  for (int a = 0; a < 6; a++) /* by size: the two shapes interleave */
    for (int b = a + 1; b < 6; b++)
      if (count_nodes(c[b].fanout, c[b].depth) < count_nodes(c[a].fanout, c[a].depth)) {
        struct figure x = c[a];
        c[a] = c[b];
        c[b] = x;
      }
  phase_done("build_curve");
  hop_slices(&f[HOP1], 1, p.hop_per[0], p.s_msg);
  hop_slices(&f[HOP3], 3, p.hop_per[1], p.s_msg);
  hop_slices(&f[HOP10], 10, p.hop_per[2], p.s_msg);
  phase_done("hop");
  echo_fig(&f[ECHO], 100, p.echo_per, p.s_msg, 0);
  echo_fig(&f[ECHO64K], 65536, p.big_per, p.s_msg, 1);
  phase_done("echo");
  fan_slices(&f[FAN], p.fan, 3, p.fan_per, p.s_fan);
  phase_done("fan");
  static struct trace_fig tf;
  tf.have_nt = side_path[NOTRACE] != NULL;
  trace_slices(&tf, p.trace_hop_per, p.trace_echo_per, p.trace_routed_per, p.s_trace);
  trace_done();
  phase_done("trace");
  double total = (now_us() - t_start) / 1e6;

  /* hop: the worst of the three depths */
  int worst = HOP1;
  for (int k = HOP3; k <= HOP10; k++)
    if (fig_ratio(&f[k]).med > fig_ratio(&f[worst]).med) worst = k;
  int hops_met = met(fig_ratio(&f[worst]).med, f[worst].target, 0); /* = all met */

  if (json) {
    printf("{");
    for (int k = 0; k < NF; k++) {
      json_fig(&f[k]);
      printf(", ");
      if (k == HOP10) {
        struct stats r = fig_ratio(&f[worst]);
        printf("\"hop\": {\"ratio\": %.4f, ", r.med);
        json_stats("", r);
        printf(", \"depth\": %d, \"watvm\": %.4f, \"raw\": %.4f, \"unit\": \"us/hop\", "
               "\"target\": %.2f, \"met\": %s, \"higher_is_better\": false, "
               "\"slices\": %d}, ",
               worst == HOP1 ? 1 : worst == HOP3 ? 3 : 10, med(f[worst].v[WATVM], f[worst].n),
               med(f[worst].v[RAW], f[worst].n), f[worst].target,
               hops_met ? "true" : "false", f[worst].n);
      }
    }
    json_mem(&mem, pss_target);
    printf(", \"build_curve\": [");
    for (int k = 0; k < 6; k++) {
      struct stats r = fig_ratio(&c[k]);
      int b = base_side(&c[k]);
      printf("%s{\"nodes\": %ld, \"watvm\": %.4f, \"raw\": %.4f, \"raw_fork\": %.4f", k ? ", " : "",
             count_nodes(c[k].fanout, c[k].depth), med(c[k].v[WATVM], c[k].n),
             med(c[k].v[b], c[k].n), med(c[k].v[RAW], c[k].n));
      if (has_spawn(&c[k]))
        printf(", \"raw_spawn\": %.4f, \"raw_used\": \"%s\"", med(c[k].v[RAWS], c[k].n),
               b == RAW ? "fork" : "spawn");
      printf(", \"ratio\": %.4f, \"min\": %.4f, \"max\": %.4f, \"slices\": %d}", r.med, r.min,
             r.max, c[k].n);
    }
    printf("], \"hop_curve\": [");
    for (int k = HOP1; k <= HOP10; k++) {
      struct stats r = fig_ratio(&f[k]);
      printf("%s{\"depth\": %d, \"watvm\": %.4f, \"raw\": %.4f, \"ratio\": %.4f, "
             "\"min\": %.4f, \"max\": %.4f}", k > HOP1 ? ", " : "",
             k == HOP1 ? 1 : k == HOP3 ? 3 : 10, med(f[k].v[WATVM], f[k].n),
             med(f[k].v[RAW], f[k].n), r.med, r.min, r.max);
    }
    printf("], ");
    json_trace(&tf);
    printf(", \"seconds\": {");
    for (int k = 0; k < nphase; k++) printf("\"%s\": %.1f, ", phase[k].name, phase[k].secs);
    printf("\"total\": %.1f}, \"quick\": %s}\n", total, quick ? "true" : "false");
    return 0;
  }
  printf("wide tree %dx3 (%ld nodes), binary tree 2x%d (%ld nodes); slices: %d builds, "
         "%d per curve point, %d of %d/%d/%d routes, %d of %ld echoes, %d of %d fans\n",
         p.fan, count_nodes(p.fan, 3), p.bin, count_nodes(2, p.bin), p.s_build, p.s_curve,
         p.s_msg, p.hop_per[0], p.hop_per[1], p.hop_per[2], p.s_msg, p.echo_per, p.s_fan,
         p.fan_per);
  printf("raw = raw_node (fork); raw spawn = raw_node_spawn (posix_spawn); spawn-bound "
         "ratios are against the faster raw (*)\n\n");
  print_header();
  for (int k = 0; k < NF; k++) print_fig(&f[k]);
  struct figure w = f[worst]; /* met here: every depth met */
  char wwhat[64];
  snprintf(wwhat, sizeof wwhat, "route, per hop, worst depth (%d)",
           worst == HOP1 ? 1 : worst == HOP3 ? 3 : 10);
  w.what = wwhat;
  print_fig(&w);
  print_mem_text(&mem, pss_target);
  print_curve_text(c, 6);
  print_trace_text(&tf);
  printf("\ntree_bench: %.0f s (", total);
  for (int k = 0; k < nphase; k++) printf("%s%s %.1f", k ? ", " : "", phase[k].name, phase[k].secs);
  printf(")\n");
  return 0;
}
