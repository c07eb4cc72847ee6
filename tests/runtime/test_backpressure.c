/* test_backpressure.c — a held (SIGSTOPped) leaf makes a fast writer block:
 * the bytes the root accepts stay under the bound of pipe capacities and
 * :queue-bytes along the path, every node's RSS stays small, and after
 * SIGCONT every reply arrives, in order. unbounded-queue breaks it. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tree_util.h"

static int fds0;
static void setup(void) {
  tree_subreaper();
  fds0 = fd_count();
}

TestSuite(backpressure, .init = setup, .timeout = 120.);

static long rss_kb(pid_t pid) {
  char path[64], buf[4096];
  snprintf(path, sizeof path, "/proc/%d/status", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = '\0';
  char *p = strstr(buf, "VmRSS:");
  return p ? strtol(p + 6, NULL, 10) : -1;
}

struct writer {
  char line[1400];
  size_t len, off;
  int64_t next_id, sent; /* lines started */
  long long bytes;       /* bytes the root accepted */
};

static void next_line(struct writer *w) {
  char body[1001];
  memset(body, 'b', 1000);
  body[1000] = '\0';
  char req[1100];
  snprintf(req, sizeof req, "{:op :echo :body \"%s\"}", body);
  route_line(w->line, sizeof w->line - 1, w->next_id++, "L2/L3", req);
  w->len = strlen(w->line);
  w->line[w->len++] = '\n';
  w->off = 0;
  w->sent++;
}

/* Write until the root takes nothing for quiet_ms or `limit` bytes went. */
static bool write_until_blocked(struct tree *t, struct writer *w, int quiet_ms,
                                long long limit) {
  for (;;) {
    if (w->off == w->len) next_line(w);
    ssize_t n = write(t->in, w->line + w->off, w->len - w->off);
    if (n > 0) {
      w->off += (size_t)n;
      w->bytes += n;
      if (w->bytes >= limit) return false;
      continue;
    }
    cr_assert(n < 0 && errno == EAGAIN, "write: %s", strerror(errno));
    struct pollfd p = {.fd = t->in, .events = POLLOUT};
    if (poll(&p, 1, quiet_ms) == 0) return true;
  }
}

static const char *SPEC = "{:name \"L1\" :queue-bytes 16384 :children [{:name \"L2\" :queue-bytes 16384 :children [{:name \"L3\"}]}]}";

Test(backpressure, held_leaf_blocks_the_writer_then_all_replies_arrive_in_order) {
  struct tree t;
  cr_assert_eq(tree_start(&t, SPEC, false, NULL), 0);
  pid_t l2 = tree_node_pid(&t, "L2", 5000), l3 = tree_node_pid(&t, "L2/L3", 5000);
  cr_assert(l2 > 0 && l3 > 0);
  long rss0 = rss_kb(t.pid);
  cr_assert_eq(kill(l3, SIGSTOP), 0);
  struct writer w = {.next_id = 1};
  bool blocked = write_until_blocked(&t, &w, 400, 64ll << 20);
  cr_assert(blocked, "the writer blocks (accepted %lld bytes)", w.bytes);
  /* Per node on the path: its stdin pipe, its queue toward the next node,
   * one read chunk and one line. */
  long pipe = fcntl(t.in, F_GETPIPE_SZ);
  long long bound = 3 * (pipe + 16384 + 65536 + 1400) + 65536;
  cr_expect(w.bytes < bound, "accepted %lld bytes < bound %lld", w.bytes, bound);
  long r1 = rss_kb(t.pid), r2 = rss_kb(l2);
  cr_expect(r1 > 0 && r1 < rss0 + 8192, "root RSS %ld kB stays bounded (from %ld)", r1, rss0);
  cr_expect(r2 > 0 && r2 < rss0 + 8192, "middle RSS %ld kB stays bounded", r2);
  cr_assert_eq(kill(l3, SIGCONT), 0);
  /* Finish the partial line while reading replies (both pipes are full),
   * then every reply, in order. */
  int64_t want = 1, deadline = now_ms() + 30000;
  while (want <= w.sent && now_ms() < deadline) {
    struct pollfd p[2] = {{.fd = t.out, .events = POLLIN},
                          {.fd = t.in, .events = w.off < w.len ? POLLOUT : 0}};
    poll(p, 2, 1000);
    if (w.off < w.len && (p[1].revents & POLLOUT)) {
      ssize_t n = write(t.in, w.line + w.off, w.len - w.off);
      if (n > 0) w.off += (size_t)n;
    }
    char *line;
    while ((line = tree_line(&t, 0))) {
      char head[64];
      snprintf(head, sizeof head, "{:id %lld :node \"L3\" :body ", (long long)want);
      cr_assert(strncmp(line, head, strlen(head)) == 0,
                "reply %lld of %lld in order: %.60s", (long long)want, (long long)w.sent, line);
      free(line);
      want++;
    }
  }
  cr_expect_eq(want, w.sent + 1, "every reply arrived (%lld of %lld)", (long long)want - 1, (long long)w.sent);
  int st = tree_close(&t, 10000);
  cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  tree_free(&t);
  cr_expect_eq(tree_reap_orphans(3000), 0);
  cr_expect_eq(fd_count(), fds0);
}

Test(backpressure, hold_op_stops_reading_stdin) {
  struct tree t;
  cr_assert_eq(tree_start(&t, "{:name \"L1\" :queue-bytes 4096}", false, NULL), 0);
  edn_value *r = tree_ask(&t, "{:id 1 :op :hold :ms 500}", 5000);
  cr_assert(r && get_int(r, "held") == 500);
  int64_t t0 = now_ms();
  r = tree_ask(&t, "{:id 2 :op :ping}", 5000);
  int64_t took = now_ms() - t0;
  cr_expect(r && get_int(r, "id") == 2);
  cr_expect(took >= 400, "the ping waited for the hold (%lld ms)", (long long)took);
  cr_expect(tree_close(&t, 5000) == 0);
  tree_free(&t);
  cr_expect_eq(tree_reap_orphans(3000), 0);
  cr_expect_eq(fd_count(), fds0);
}

Test(backpressure, unbounded_queue_fault_breaks_the_bound) {
  struct tree t;
  cr_assert_eq(tree_start(&t, SPEC, false, "unbounded-queue"), 0);
  pid_t l3 = tree_node_pid(&t, "L2/L3", 5000);
  cr_assert_eq(kill(l3, SIGSTOP), 0);
  struct writer w = {.next_id = 1};
  long long limit = 4ll << 20;
  bool blocked = write_until_blocked(&t, &w, 400, limit);
  cr_expect(!blocked, "with unbounded-queue the tree swallowed %lld bytes", w.bytes);
  kill(l3, SIGKILL); /* L2 sees L3 die; the tree ends on EOF */
  tree_close(&t, 20000);
  tree_free(&t);
  cr_expect_eq(tree_reap_orphans(3000), 0);
  cr_expect_eq(fd_count(), fds0);
}
