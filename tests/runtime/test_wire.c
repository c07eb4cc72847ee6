/* test_wire.c — the root's wire bytes, held to transcripts recorded before
 * forwarding passed bytes (and a child's replies shown passed on as its
 * bytes, below): for every tree in trees/ (each .yaml), the watvm under
 * test is fed tests/runtime/wire/NAME.in (its spec line, then request
 * lines that route, fan and fail every way; scripts/wire-fixture and
 * wire_requests.c made them) and must write exactly the bytes of
 * NAME.out, recorded from main's watvm before the change.
 *
 * Ordering: requests are pipelined, so replies to different requests
 * (a local :ping beside a :route's, a :fan's beside another's) come in
 * any order. Both sides are compared as their lines sorted bytewise; every
 * request has its own :id (the few malformed lines reply with :id nil, and
 * those replies are the same whatever their order), so this is a
 * per-request-id comparison of whole lines, byte for byte. The order within
 * one reply (a :fan's :replies) is the runtime's and is compared exactly. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct bytes {
  char *ptr;
  size_t len, cap;
};

static void bytes_add(struct bytes *b, const char *s, size_t n) {
  if (b->len + n + 1 > b->cap) {
    b->cap = (b->len + n + 1) * 2;
    b->ptr = realloc(b->ptr, b->cap);
    cr_assert(b->ptr, "out of memory");
  }
  memcpy(b->ptr + b->len, s, n);
  b->len += n;
  b->ptr[b->len] = '\0';
}

static struct bytes slurp(const char *path) {
  struct bytes b = {0};
  char buf[65536];
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  cr_assert(fd >= 0, "open %s: %s", path, strerror(errno));
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) bytes_add(&b, buf, (size_t)n);
  close(fd);
  bytes_add(&b, "", 0);
  return b;
}

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Start watvm --spec-stdin in its own group: *in and *out are our ends. */
static pid_t start(int *in, int *out) {
  int i[2], o[2];
  cr_assert(pipe2(i, O_CLOEXEC) == 0 && pipe2(o, O_CLOEXEC) == 0);
  pid_t pid = fork();
  cr_assert(pid >= 0);
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    setpgid(0, 0);
    dup2(i[0], 0);
    dup2(o[1], 1);
    dup2(null, 2);
    execl(WATVM_PATH, "watvm", "--spec-stdin", (char *)NULL);
    _exit(127);
  }
  close(i[0]);
  close(o[1]);
  *in = i[1];
  *out = o[0];
  fcntl(*in, F_SETFL, O_NONBLOCK);
  return pid;
}

/* Feed `input`, read stdout to EOF (at most `secs`), reap: the bytes. */
static struct bytes run(const struct bytes *input, double secs) {
  int in, out;
  pid_t pid = start(&in, &out);
  struct bytes got = {0};
  size_t sent = 0;
  double end = now_s() + secs;
  char buf[65536];
  while (out >= 0 && now_s() < end) {
    struct pollfd p[2] = {{.fd = out, .events = POLLIN}, {.fd = in, .events = POLLOUT}};
    if (poll(p, in >= 0 ? 2 : 1, 1000) < 0 && errno != EINTR) break;
    if (in >= 0 && (p[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t w = write(in, input->ptr + sent, input->len - sent);
      if (w > 0) sent += (size_t)w;
      if (sent == input->len || (w < 0 && errno != EAGAIN)) {
        close(in); /* EOF: the root answers what is in flight and exits */
        in = -1;
      }
    }
    if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t r = read(out, buf, sizeof buf);
      if (r > 0) bytes_add(&got, buf, (size_t)r);
      else if (r == 0 || errno != EINTR) {
        close(out);
        out = -1;
      }
    }
  }
  bool timed_out = out >= 0;
  if (in >= 0) close(in);
  if (out >= 0) close(out);
  if (timed_out) kill(-pid, SIGKILL);
  int st;
  waitpid(pid, &st, 0);
  cr_assert(!timed_out, "the root wrote no EOF within %.0f s", secs);
  cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the root exits 0 at EOF");
  bytes_add(&got, "", 0);
  return got;
}

static int by_bytes(const void *x, const void *y) {
  return strcmp(*(char *const *)x, *(char *const *)y);
}

/* The lines of b (cut in place), sorted bytewise; *n of them. */
static char **sorted_lines(struct bytes *b, size_t *n) {
  size_t cap = 64, k = 0;
  char **v = malloc(cap * sizeof *v);
  for (char *s = b->ptr; s && *s;) {
    char *nl = strchr(s, '\n');
    if (nl) *nl = '\0';
    if (k == cap) v = realloc(v, (cap *= 2) * sizeof *v);
    v[k++] = s;
    s = nl ? nl + 1 : NULL;
  }
  qsort(v, k, sizeof *v, by_bytes);
  *n = k;
  return v;
}

/* NAME.in through the watvm under test gives NAME.out, line for line. */
static void check_tree(const char *name) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s.in", WIRE_DIR, name);
  struct bytes input = slurp(path);
  snprintf(path, sizeof path, "%s/%s.out", WIRE_DIR, name);
  struct bytes want = slurp(path), got = run(&input, 300);
  size_t nw, ng;
  char **w = sorted_lines(&want, &nw), **g = sorted_lines(&got, &ng);
  size_t i = 0;
  while (i < nw && i < ng && strcmp(w[i], g[i]) == 0) i++;
  cr_expect(i == nw && i == ng,
            "%s: %zu reply lines recorded, %zu written; first difference at "
            "sorted line %zu:\n  recorded: %.400s\n  written:  %.400s",
            name, nw, ng, i, i < nw ? w[i] : "(none)", i < ng ? g[i] : "(none)");
  free(w);
  free(g);
  free(input.ptr);
  free(want.ptr);
  free(got.ptr);
}

/* got's lines, sorted, are exactly want[0..n), sorted. */
static void expect_lines(struct bytes *got, const char **want, size_t n) {
  size_t ng;
  char **g = sorted_lines(got, &ng);
  const char **w = malloc(n * sizeof *w);
  memcpy(w, want, n * sizeof *w);
  qsort(w, n, sizeof *w, by_bytes);
  size_t i = 0;
  while (i < n && i < ng && strcmp(w[i], g[i]) == 0) i++;
  cr_expect(i == n && i == ng,
            "%zu reply lines wanted, %zu written; first difference at sorted "
            "line %zu:\n  wanted:  %.600s\n  written: %.600s",
            n, ng, i, i < n ? w[i] : "(none)", i < ng ? g[i] : "(none)");
  free(w);
  free(g);
}

/* A child's reply goes up as the bytes it came in, its :id cut out (a
 * fan's part) or swapped (a route's), never printed again: under
 * WATVM_FAULT=spaced-replies, L2a and L3b spell each reply line
 * `{ ... :id N }`, which no watvm prints, and the root's lines carry
 * those spellings through every level — a fan's replies, a route inside a
 * fan (L2a's :result), a fan inside a fan inside a route, a route. A node
 * that printed a part again would write `{:node "L3b" ...}` there. (Every
 * watvm prints canonically, so over watvm children the bytes are the
 * printer's: the transcripts below.) */
Test(wire, replies_are_passed_on_as_their_bytes, .timeout = 60.) {
  static const char *in =
      "{:name \"L1\" :children [{:name \"L2a\" :children [{:name \"L3a\"} "
      "{:name \"L3b\"}]} {:name \"L2b\"}]}\n"
      "{:id 1 :op :fan :req {:op :ping}}\n"
      "{:id 2 :op :fan :req {:op :route :path [\"L3b\"] :req {:op :echo :body [1 {:a \"b\"}]}}}\n"
      "{:id 3 :op :route :path [\"L2a\"] :req {:op :fan :req {:op :fan}}}\n"
      "{:id 4 :op :route :path [\"L2a\" \"L3b\"] :req {:op :ping}}\n";
  static const char *want[] = {
      "{:id 1 :node \"L1\" :result {:node \"L1\" :pong true} :replies [{ :node \"L2a\" "
      ":result {:node \"L2a\" :pong true} :replies [{:node \"L3a\" :result {:node "
      "\"L3a\" :pong true} :replies []} { :node \"L3b\" :result {:node \"L3b\" :pong "
      "true} :replies [] }] } {:node \"L2b\" :result {:node \"L2b\" :pong true} "
      ":replies []}]}",
      "{:id 2 :node \"L1\" :result {:node \"L1\" :error {:type :wat/no-such-child "
      ":message \"no child named L3b\" :child \"L3b\"}} :replies [{ :node \"L2a\" "
      ":result { :node \"L3b\" :body [1 {:a \"b\"}] } :replies [{:node \"L3a\" "
      ":result {:node \"L3a\" :error {:type :wat/no-such-child :message \"no child "
      "named L3b\" :child \"L3b\"}} :replies []} { :node \"L3b\" :result {:node "
      "\"L3b\" :error {:type :wat/no-such-child :message \"no child named L3b\" "
      ":child \"L3b\"}} :replies [] }] } {:node \"L2b\" :result {:node \"L2b\" "
      ":error {:type :wat/no-such-child :message \"no child named L3b\" :child "
      "\"L3b\"}} :replies []}]}",
      "{ :node \"L2a\" :result {:node \"L2a\" :result {:node \"L2a\" :pong true} "
      ":replies [{:node \"L3a\" :result {:node \"L3a\" :pong true} :replies []} { "
      ":node \"L3b\" :result {:node \"L3b\" :pong true} :replies [] }]} :replies "
      "[{:node \"L3a\" :result {:node \"L3a\" :result {:node \"L3a\" :pong true} "
      ":replies []} :replies []} { :node \"L3b\" :result {:node \"L3b\" :result "
      "{:node \"L3b\" :pong true} :replies []} :replies [] }] :id 3 }",
      "{  :node \"L3b\" :pong true :id 4  }",
  };
  setenv("WATVM_FAULT", "spaced-replies", 1);
  setenv("WATVM_FAULT_NODE", "L2a,L3b", 1);
  struct bytes input = {0};
  bytes_add(&input, in, strlen(in));
  struct bytes got = run(&input, 30);
  expect_lines(&got, want, sizeof want / sizeof *want);
  free(input.ptr);
  free(got.ptr);
}

/* Every shipped tree has its transcript (a new tree needs one recorded). */
Test(wire, every_tree_has_a_transcript, .timeout = 10.) {
  DIR *d = opendir(TREES_DIR);
  cr_assert(d, "open %s", TREES_DIR);
  struct dirent *e;
  size_t trees = 0;
  while ((e = readdir(d))) {
    size_t n = strlen(e->d_name);
    if (n < 6 || strcmp(e->d_name + n - 5, ".yaml") != 0) continue;
    char path[4096];
    snprintf(path, sizeof path, "%s/%.*s.out", WIRE_DIR, (int)(n - 5), e->d_name);
    cr_expect(access(path, R_OK) == 0, "no transcript %s for %s", path, e->d_name);
    trees++;
  }
  closedir(d);
  cr_expect(trees > 0);
}

/* Each transcript in its own test: one tree's difference names that tree. */
#define WIRE_TREE(id, file)                                      \
  Test(wire, id, .timeout = 320.) { check_tree(file); }
WIRE_TREE(backpressure, "backpressure")
WIRE_TREE(crash_escalate, "crash-escalate")
WIRE_TREE(crash_isolate, "crash-isolate")
WIRE_TREE(crash_restart, "crash-restart")
WIRE_TREE(deep_chain, "deep-chain")
WIRE_TREE(generated_10x3, "generated-10x3")
WIRE_TREE(kill_middle, "kill-middle")
WIRE_TREE(restart_subtree, "restart-subtree")
WIRE_TREE(seed_fractal, "seed-fractal")
WIRE_TREE(spawn_runtime, "spawn-runtime")
WIRE_TREE(supervise_backoff, "supervise-backoff")
WIRE_TREE(supervise_intensity, "supervise-intensity")
WIRE_TREE(supervise_one_for_all, "supervise-one-for-all")
WIRE_TREE(supervise_rest_for_one, "supervise-rest-for-one")
WIRE_TREE(supervise_shutdown, "supervise-shutdown")
WIRE_TREE(supervise_stop_order, "supervise-stop-order")
WIRE_TREE(supervise_temporary, "supervise-temporary")
WIRE_TREE(supervise_transient, "supervise-transient")
WIRE_TREE(wide, "wide")
