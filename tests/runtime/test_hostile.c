/* test_hostile.c — a hostile child under a healthy parent: one that writes
 * garbage on stdout among its replies (WATVM_FAULT=babble), floods its
 * stderr (WATVM_FAULT=stderr-flood: a 32 MiB line, then short lines for as
 * long as it lives) or writes a 64 MiB stdout line while owed nothing
 * (WATVM_FAULT=stdout-flood), each limited to one node by WATVM_FAULT_NODE. The
 * parent drops what is no reply, passes stderr on only within a budget,
 * says so in {:wat/child-noise ...} notes on its stderr, keeps bounded
 * memory, keeps serving the sibling and its own parent, still relays the
 * hostile child's real replies, and leaves nothing behind. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "node.h"
#include "tree_util.h"

static void setup(void) { tree_subreaper(); }

TestSuite(hostile, .init = setup, .timeout = 60.);

static const char *SPEC =
    "{:name \"L1\" :children [{:name \"H\"} {:name \"S\"}]}";

static int fds0;

/* Start L1 over H (hostile with `fault`) and S. */
static void start(struct tree *t, const char *fault) {
  fds0 = fd_count();
  cr_assert_eq(setenv("WATVM_FAULT_NODE", "H", 1), 0);
  cr_assert_eq(tree_start(t, SPEC, false, fault), 0);
}

/* Close the tree; returns the root's whole stderr (malloc'ed). */
static char *expect_clean_end(struct tree *t) {
  int st = tree_close(t, 15000);
  cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0,
            "the root ends with 0 (status 0x%x)", st);
  char *err = strdup(t->errbuf ? t->errbuf : "");
  tree_free(t);
  cr_expect_eq(tree_reap_orphans(5000), 0, "no process of the tree is left");
  cr_expect_eq(fd_count(), fds0, "every fd of the test is closed again");
  return err;
}

/* VmRSS of pid in kB, or -1. */
static long rss_kb(pid_t pid) {
  char path[64], line[256];
  long kb = -1;
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  FILE *f = fopen(path, "re");
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, "VmRSS: %ld kB", &kb) == 1) break;
  if (f) fclose(f);
  return kb;
}

/* Every {:wat/child-noise M} line of the root's stderr about child H and
 * `stream`: the count, and the sum of their :lines. */
struct notes {
  int count;
  long long lines;
  bool reason[8];
};

static void read_notes(const char *errtext, const char *stream,
                       const char *const *reasons, struct notes *out) {
  memset(out, 0, sizeof *out);
  edn_arena *a = edn_arena_new();
  for (const char *p = errtext; p && *p;) {
    const char *nl = strchr(p, '\n');
    size_t len = nl ? (size_t)(nl - p) : strlen(p);
    edn_value *v = NULL;
    struct edn_error err;
    if (edn_read(a, p, len, NULL, &v, &err) == EDN_OK && v->type == EDN_MAP) {
      edn_value *m = edn_map_getk(v, "wat/child-noise");
      const char *child = m ? get_str(m, "child") : NULL;
      const char *reason = m ? get_str(m, "reason") : NULL;
      if (child && !strcmp(child, "H") && reason &&
          edn_is_keyword(edn_map_getk(m, "stream"), stream) &&
          !strcmp(get_str(m, "node"), "L1") && get_int(m, "pid") > 0) {
        out->count++;
        out->lines += get_int(m, "lines");
        for (int i = 0; reasons[i]; i++)
          if (strstr(reason, reasons[i])) out->reason[i] = true;
      }
    }
    p = nl ? nl + 1 : NULL;
  }
  edn_arena_free(a);
}

Test(hostile, fault_node_limits_every_switch) {
  cr_expect_eq(fault_select("babble", NULL, "L1"), FAULT_BABBLE);
  cr_expect_eq(fault_select("babble", "", "L1"), FAULT_BABBLE);
  cr_expect_eq(fault_select("babble,leak-fd", "H", "H"),
               FAULT_BABBLE | FAULT_LEAK_FD);
  cr_expect_eq(fault_select("babble", "H", "L1"), 0u);
  cr_expect_eq(fault_select("stderr-flood", "A, H", "H"), FAULT_STDERR_FLOOD);
  cr_expect_eq(fault_select("stderr-flood", "HH", "H"), 0u);
  cr_expect_eq(fault_select("ignore-eof", "H", NULL), 0u);
  /* the five contract switches parse as before */
  cr_expect_eq(fault_parse("leak-fd,no-pgrp unbounded-queue,ignore-eof,"
                           "swallow-panic,bogus"),
               FAULT_LEAK_FD | FAULT_NO_PGRP | FAULT_UNBOUNDED_QUEUE |
                   FAULT_IGNORE_EOF | FAULT_SWALLOW_PANIC);
}

/* Send `n` routed pings to H and to S and a fan each time; read every line
 * of the root's stdout: each must be a reply to one of ours, each answered
 * once. Returns how many replies H itself sent (a route's or a fan's). */
static int ask_all(struct tree *t, int n) {
  enum { MAX = 3 * 64 };
  cr_assert(n * 3 <= MAX);
  int got[MAX] = {0}, sent = 0;
  char line[512];
  for (int i = 0; i < n; i++) {
    cr_assert_eq(tree_send(t, route_line(line, sizeof line, 3 * i + 1, "H",
                                         "{:op :ping}"), 5000), 0);
    cr_assert_eq(tree_send(t, route_line(line, sizeof line, 3 * i + 2, "S",
                                         "{:op :ping}"), 5000), 0);
    snprintf(line, sizeof line, "{:id %d :op :fan}", 3 * i + 3);
    cr_assert_eq(tree_send(t, line, 5000), 0);
    sent += 3;
  }
  for (int k = 0; k < sent; k++) {
    edn_value *r = tree_reply(t, 10000);
    cr_assert(r && r->type == EDN_MAP, "reply %d of %d is an EDN map", k + 1, sent);
    int64_t id = get_int(r, "id");
    cr_assert(id >= 1 && id <= sent, "a reply to one of ours: %s", edn_to_string(r));
    got[id - 1]++;
    if (id % 3 == 1)
      cr_expect(!strcmp(get_str(r, "node"), "H") && edn_map_getk(r, "pong"),
                "H answers its ping: %s", edn_to_string(r));
    if (id % 3 == 0) {
      edn_value *reps = edn_map_getk(r, "replies");
      cr_assert(reps && reps->u.seq.len == 2, "%s", edn_to_string(r));
      edn_value *h = edn_map_getk(reps->u.seq.items[0], "result");
      cr_expect(h && edn_map_getk(h, "pong"), "H's part of the fan: %s",
                edn_to_string(r));
    }
  }
  for (int k = 0; k < sent; k++)
    cr_expect_eq(got[k], 1, "request %d answered exactly once", k + 1);
  return 2 * n;
}

Test(hostile, babbling_child_is_heard_only_for_its_replies) {
  struct tree t;
  start(&t, "babble");
  int64_t t0 = now_ms();
  int h_replies = ask_all(&t, 40);
  /* nothing else reached the root's stdout */
  edn_value *st = tree_ask(&t, "{:id 1000 :op :stats}", 5000);
  cr_assert(st, "the root still answers");
  cr_expect_eq(get_int(st, "children-alive"), 2, "H is not punished: %s",
               edn_to_string(st));
  char *err = expect_clean_end(&t);
  long secs = (long)((now_ms() - t0) / 1000) + 1;
  /* the notes name every kind of garbage, and add up: seven lines at H's
   * start (the sixth repeats the fifth), then one after each of its replies */
  static const char *const reasons[] = {
      "not EDN", "not a map", "no integer :id", "no request in flight",
      "dropped beyond the notes allowed", NULL};
  struct notes nt;
  read_notes(err, "stdout", reasons, &nt);
  for (int i = 0; reasons[i]; i++)
    cr_expect(nt.reason[i], "a note says \"%s\":\n%.4000s", reasons[i], err);
  cr_expect_eq(nt.lines, 7 + h_replies, "every dropped line is counted once "
               "(%lld of %d)", nt.lines, 7 + h_replies);
  cr_expect(nt.count <= 9 * (secs + 1), "notes are rate-limited: %d in %ld s",
            nt.count, secs);
  /* the sample of the invalid UTF-8 line is printable */
  cr_expect(strstr(err, ":sample \"??? babble: invalid UTF-8"), "%.4000s", err);
  free(err);
}

/* Start as start() does, wait for the root's first answer and return its
 * RSS then (the baseline a flood must not raise much). */
static long start_measured(struct tree *t, const char *fault) {
  start(t, fault);
  cr_assert(tree_ask(t, "{:id 1 :op :ping}", 5000), "the root answers at once");
  return rss_kb(t->pid);
}

Test(hostile, flooding_child_costs_bounded_memory) {
  struct tree t;
  long base = start_measured(&t, "stderr-flood"), peak = base;
  pid_t root = t.pid;
  edn_value *r;
  char line[512];
  /* H floods all the time it lives: everything below happens during it */
  int64_t until = now_ms() + 1500;
  int rounds = 0;
  for (int64_t id = 10; now_ms() < until || rounds < 20; id += 2, rounds++) {
    r = tree_ask(&t, route_line(line, sizeof line, id, "S", "{:op :ping}"), 5000);
    cr_assert(r && edn_map_getk(r, "pong"), "S answers during the flood");
    r = tree_ask(&t, route_line(line, sizeof line, id + 1, "H", "{:op :ping}"),
                 5000);
    cr_assert(r && edn_map_getk(r, "pong"), "H itself still answers");
    long now = rss_kb(root);
    if (now > peak) peak = now;
  }
  r = tree_ask(&t, "{:id 2 :op :stats}", 5000);
  cr_assert(r);
  cr_expect_eq(get_int(r, "children-alive"), 2, "%s", edn_to_string(r));
  /* amid the flood, H's panic line is still read whole: not noise */
  cr_assert_eq(tree_send(&t, route_line(line, sizeof line, 3, "H",
                                        "{:op :panic :reason \"after the flood\"}"),
                         5000), 0);
  const char *reason = NULL;
  for (int64_t id = 4, end = now_ms() + 10000; !reason && now_ms() < end; id++) {
    snprintf(line, sizeof line, "{:id %lld :op :stats}", (long long)id);
    r = tree_ask(&t, line, 5000);
    edn_value *ex = r ? edn_map_getk(r, "exits") : NULL;
    edn_value *panic = ex && ex->u.seq.len ? edn_map_getk(ex->u.seq.items[0], "panic") : NULL;
    reason = panic ? get_str(panic, "reason") : NULL;
  }
  cr_expect(reason && !strcmp(reason, "after the flood"),
            "H's report reached L1 intact: %s", reason ? reason : "(none)");
  /* a 32 MiB line and hundreds of MB of lines went through: the root holds
   * at most one line's limit (1 MiB) and a read chunk */
  cr_expect(peak - base < 8192, "the root's RSS grew by %ld kB (from %ld kB)",
            peak - base, base);
  /* what reached our stderr: bounded too (64 KiB a second and the notes) */
  size_t passed = t.errlen;
  long secs = (long)((now_ms() - until) / 1000) + 3;
  char *err = expect_clean_end(&t);
  static const char *const reasons[] = {
      "a line over 1048576 bytes", "over the pass-on budget",
      "dropped beyond the notes allowed", NULL};
  struct notes nt;
  read_notes(err, "stderr", reasons, &nt);
  for (int i = 0; reasons[i]; i++)
    cr_expect(nt.reason[i], "a note says \"%s\"", reasons[i]);
  cr_expect(nt.lines > 10000, "many flood lines dropped: %lld", nt.lines);
  /* 64 KiB a second, plus the first line of each window and the notes */
  cr_expect(passed < (size_t)secs * (65536 + 8192), "the root passed on %zu "
            "bytes of H's stderr in about %ld s", passed, secs);
  free(err);
}

/* H writes one 64 MiB line on stdout before it serves, when L1 owes it
 * nothing: L1 may hold no more of it than a request line (1 MiB), not the
 * 256 MiB a reply may take. Run against the old limit, the root grows by
 * the whole line (64 MB). */
Test(hostile, stdout_flood_owed_nothing_costs_bounded_memory) {
  struct tree t;
  long base = start_measured(&t, "stdout-flood"), peak = base;
  pid_t root = t.pid;
  edn_value *r;
  char line[512];
  /* only S is asked until L1 has told of H's line: L1 owes H nothing */
  int64_t id = 10, end = now_ms() + 20000;
  while (!(t.errbuf && strstr(t.errbuf, "a line over 1048576 bytes")) && now_ms() < end) {
    r = tree_ask(&t, route_line(line, sizeof line, id++, "S", "{:op :ping}"), 5000);
    cr_assert(r && edn_map_getk(r, "pong"), "S answers during the flood");
    long now = rss_kb(root);
    if (now > peak) peak = now;
  }
  cr_assert(t.errbuf && strstr(t.errbuf, "a line over 1048576 bytes"),
            "L1 tells of H's overlong line within 20 s:\n%.2000s",
            t.errbuf ? t.errbuf : "");
  /* H is not punished: once its line is over, it answers */
  r = tree_ask(&t, route_line(line, sizeof line, id++, "H", "{:op :ping}"), 10000);
  cr_assert(r && edn_map_getk(r, "pong"), "H answers after its flood");
  long now = rss_kb(root);
  if (now > peak) peak = now;
  cr_expect(peak - base < 8192, "the root's RSS grew by %ld kB (from %ld kB)",
            peak - base, base);
  char *err = expect_clean_end(&t);
  static const char *const reasons[] = {"a line over 1048576 bytes", NULL};
  struct notes nt;
  read_notes(err, "stdout", reasons, &nt);
  cr_expect(nt.reason[0] && nt.lines == 1, "one stdout line dropped: %lld", nt.lines);
  free(err);
}

/* Two levels: M's notes about H are lines on M's stderr, which L1 passes on
 * like any other line; H's real replies still travel up through M. */
Test(hostile, notes_travel_up_the_tree) {
  fds0 = fd_count();
  cr_assert_eq(setenv("WATVM_FAULT_NODE", "H", 1), 0);
  struct tree t;
  cr_assert_eq(tree_start(&t, "{:name \"L1\" :children [{:name \"M\" "
                              ":children [{:name \"H\"}]}]}", false, "babble"),
               0);
  char line[256];
  for (int i = 1; i <= 5; i++) {
    edn_value *r = tree_ask(&t, route_line(line, sizeof line, i, "M/H",
                                           "{:op :echo :body [1 \"two\"]}"),
                            5000);
    cr_assert(r, "H answers through M");
    cr_expect_str_eq(get_str(r, "node"), "H");
    cr_expect(edn_map_getk(r, "body"), "%s", edn_to_string(r));
  }
  char *err = expect_clean_end(&t);
  cr_expect(strstr(err, "{:wat/child-noise {:node \"M\" :child \"H\""),
            "M's notes reach the root's stderr:\n%.2000s", err);
  cr_expect(!strstr(err, ":node \"L1\" :child \"M\""),
            "M itself keeps to the wire:\n%.2000s", err);
  free(err);
}
