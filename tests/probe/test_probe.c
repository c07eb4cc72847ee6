/* test_probe.c — `watvm --probe` driven over pipes, as the harness will
 * drive it over ssh: :ps sees this test's own process (pid, ppid, start
 * time as /proc says, its resident set as VmRSS says), :fds shows a pipe this test holds, :signal refuses a
 * wrong start time and delivers at the right one, :read serves only under
 * --read-dir, bad lines are answered and serving goes on, EOF ends it with
 * status 0. Every test ends by proving nothing was left behind. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "probe_util.h"

static int fds0;
static void setup(void) {
  tree_subreaper();
  fds0 = fd_count();
}

TestSuite(probe, .init = setup, .timeout = 60.);

static const int W = 10000;

/* The entry of :procs with :pid pid, or NULL. */
static const edn_value *find_proc(const edn_value *r, pid_t pid) {
  const edn_value *procs = r ? edn_map_getk(r, "procs") : NULL;
  for (size_t i = 0; procs && i < procs->u.seq.len; i++)
    if (get_int(procs->u.seq.items[i], "pid") == pid) return procs->u.seq.items[i];
  return NULL;
}

Test(probe, ps_lists_this_process_with_its_parent_and_start_time) {
  struct tree t;
  probe_start(&t, NULL);
  edn_value *r = tree_ask(&t, "{:id 1 :op :ps}", W);
  cr_assert(r, "a reply to :ps");
  cr_expect_eq(get_int(r, "id"), 1);
  const edn_value *me = find_proc(r, getpid());
  cr_assert(me, "the test's own pid %d is in :procs", (int)getpid());
  cr_expect_eq(get_int(me, "ppid"), getppid());
  cr_expect_eq(get_int(me, "pgid"), getpgrp());
  cr_expect_eq(get_int(me, "start"), probe_stat_start(getpid()));
  const edn_value *probe = find_proc(r, t.pid);
  cr_assert(probe, "the probe itself is in :procs");
  cr_expect_eq(get_int(r, "self"), t.pid, ":self is the probe's pid");
  cr_expect_eq(get_int(probe, "ppid"), getpid());
  cr_expect_str_eq(get_str(probe, "comm"), "watvm");
  cr_expect_str_eq(get_str(probe, "state"), "R", "the probe runs while it reads /proc");
  probe_end(&t, fds0);
}

/* VmRSS of this process in kB, read here independently of the probe. */
static long vm_rss_kb(void) {
  char line[256];
  long kb = -1;
  FILE *f = fopen("/proc/self/status", "re");
  cr_assert(f);
  while (fgets(line, sizeof line, f))
    if (!strncmp(line, "VmRSS:", 6)) kb = atol(line + 6);
  fclose(f);
  return kb;
}

/* :rss-kb is the resident set VmRSS shows: touch 16 MiB first, so the
 * number is known to be large, and compare with VmRSS read around it. */
Test(probe, ps_gives_each_process_its_resident_set) {
  size_t big = 16u << 20;
  char *mem = malloc(big);
  cr_assert(mem);
  memset(mem, 1, big);
  struct tree t;
  probe_start(&t, NULL);
  long before = vm_rss_kb();
  edn_value *r = tree_ask(&t, "{:id 1 :op :ps}", W);
  long after = vm_rss_kb();
  const edn_value *me = find_proc(r, getpid());
  cr_assert(me, "the test's own pid is in :procs");
  long kb = (long)get_int(me, "rss-kb");
  long lo = before < after ? before : after, hi = before < after ? after : before;
  cr_expect(kb >= 16384, ":rss-kb %ld holds the 16 MiB touched", kb);
  cr_expect(kb >= lo - 1024 && kb <= hi + 1024, ":rss-kb %ld is VmRSS (%ld..%ld)", kb,
            lo, hi);
  cr_expect_eq(mem[big - 1], 1, "the memory stays touched (not optimised away)");
  free(mem);
  probe_end(&t, fds0);
}

Test(probe, fds_shows_a_pipe_this_process_holds) {
  int p[2];
  cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
  struct stat st;
  cr_assert_eq(fstat(p[0], &st), 0);
  struct tree t;
  probe_start(&t, NULL);
  char line[128];
  snprintf(line, sizeof line, "{:id 2 :op :fds :pid %d}", (int)getpid());
  edn_value *r = tree_ask(&t, line, W);
  cr_assert(r && !strcmp(probe_error_type(r), "(none)"), "a reply to :fds");
  cr_expect_eq(get_int(r, "pid"), getpid());
  const edn_value *fds = edn_map_getk(r, "fds");
  cr_assert(fds && fds->type == EDN_VECTOR);
  bool found = false;
  for (size_t i = 0; i < fds->u.seq.len; i++) {
    const edn_value *e = fds->u.seq.items[i];
    if (e->u.seq.len == 3 && e->u.seq.items[0]->u.integer == p[0]) {
      cr_expect(edn_is_keyword(e->u.seq.items[1], "pipe"));
      cr_expect_eq(e->u.seq.items[2]->u.integer, (int64_t)st.st_ino);
      found = true;
    }
  }
  cr_expect(found, "fd %d, pipe:[%llu], is listed", p[0], (unsigned long long)st.st_ino);
  r = tree_ask(&t, "{:id 3 :op :fds :pid 0}", W);
  cr_expect_str_eq(probe_error_type(r), "wat/bad-request", "pid 0 is no process");
  r = tree_ask(&t, "{:id 4 :op :fds :pid 4194304}", W);
  cr_expect_str_eq(probe_error_type(r), "wat/no-such-process");
  close(p[0]);
  close(p[1]);
  probe_end(&t, fds0);
}

Test(probe, signal_only_at_the_right_start_time) {
  pid_t kid = fork();
  if (kid == 0) {
    pause();
    _exit(0);
  }
  cr_assert(kid > 0);
  long long start = probe_stat_start(kid);
  struct tree t;
  probe_start(&t, NULL);
  char line[160];
  snprintf(line, sizeof line, "{:id 5 :op :signal :pid %d :start %lld :signal \"KILL\"}",
           (int)kid, start + 1);
  edn_value *r = tree_ask(&t, line, W);
  cr_expect_str_eq(probe_error_type(r), "wat/no-such-process", "a wrong start time is refused");
  cr_expect(pid_alive(kid), "and the process was not signalled");
  snprintf(line, sizeof line, "{:id 6 :op :signal :pid %d :start %lld :signal \"BOGUS\"}",
           (int)kid, start);
  cr_expect_str_eq(probe_error_type(tree_ask(&t, line, W)), "wat/bad-request");
  snprintf(line, sizeof line, "{:id 7 :op :signal :pid %d :start %lld :signal \"KILL\"}",
           (int)kid, start);
  r = tree_ask(&t, line, W);
  cr_expect(r && edn_map_getk(r, "signalled"), "the right start time: signalled");
  int st = 0;
  cr_expect_eq(waitpid(kid, &st, 0), kid);
  cr_expect(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "the child died of SIGKILL");
  r = tree_ask(&t, line, W);
  cr_expect_str_eq(probe_error_type(r), "wat/no-such-process", "a reaped pid: refused");
  probe_end(&t, fds0);
}

Test(probe, bad_lines_are_answered_and_serving_goes_on) {
  struct tree t;
  probe_start(&t, NULL);
  cr_assert_eq(tree_send(&t, "{:id 1 :op", W), 0);
  edn_value *r = tree_reply(&t, W);
  cr_expect(r && edn_map_getk(r, "id")->type == EDN_NIL);
  cr_expect_str_eq(probe_error_type(r), "wat/parse-error");
  cr_assert_eq(tree_send(&t, "[1 2]", W), 0);
  r = tree_reply(&t, W);
  cr_expect_str_eq(probe_error_type(r), "wat/bad-request");
  cr_assert_eq(tree_send(&t, "", W), 0); /* a blank line: no reply */
  r = tree_ask(&t, "{:id 8 :op :frobnicate}", W);
  cr_expect_str_eq(probe_error_type(r), "wat/unknown-op");
  r = tree_ask(&t, "{:id 9 :op :ps}", W);
  cr_expect(r && edn_map_getk(r, "procs"), "still serving");
  probe_end(&t, fds0);
}

Test(probe, read_serves_only_under_its_read_dir) {
  char dir[] = "/tmp/test_probe.XXXXXX";
  cr_assert(mkdtemp(dir));
  char file[64], link[64], line[256];
  snprintf(file, sizeof file, "%s/t.ednl", dir);
  snprintf(link, sizeof link, "%s/out", dir);
  FILE *f = fopen(file, "we");
  cr_assert(f);
  fputs("{:t-us 1}\n", f);
  fclose(f);
  cr_assert_eq(symlink("/etc/hostname", link), 0);
  struct tree t;
  probe_start(&t, dir);
  snprintf(line, sizeof line, "{:id 1 :op :read :path \"%s\"}", file);
  edn_value *r = tree_ask(&t, line, W);
  cr_expect_str_eq(get_str(r, "text"), "{:t-us 1}\n");
  cr_expect(r && edn_map_getk(r, "eof") && edn_map_getk(r, "eof")->u.boolean);
  snprintf(line, sizeof line, "{:id 2 :op :read :path \"%s\"}", link);
  cr_expect_str_eq(probe_error_type(tree_ask(&t, line, W)), "wat/refused", "a symlink out of the dir");
  snprintf(line, sizeof line, "{:id 3 :op :read :path \"%s/../%s\"}", dir, dir + 5);
  r = tree_ask(&t, line, W);
  cr_expect(r && !edn_map_getk(r, "text"), "the directory itself is no file");
  cr_expect_str_eq(probe_error_type(r), "wat/refused");
  cr_expect_str_eq(probe_error_type(tree_ask(&t, "{:id 4 :op :read :path \"/etc/passwd\"}", W)),
                   "wat/refused");
  cr_expect_str_eq(probe_error_type(tree_ask(&t, "{:id 5 :op :read :path \"t.ednl\"}", W)),
                   "wat/bad-request", "a relative path");
  probe_end(&t, fds0);
  unlink(file);
  unlink(link);
  rmdir(dir);
}

/* A file larger than a piece, every byte of it one that prints as
 * \uXXXX: :read gives it back byte for byte in pieces of at most 128 KiB,
 * each reply under the wire's 1 MiB line (a 512 KiB piece printed 3 MiB),
 * and a :max over 128 KiB is refused. */
Test(probe, read_gives_a_file_back_in_pieces_that_fit_a_line) {
  char dir[] = "/tmp/test_probe.XXXXXX", file[64], line[256];
  cr_assert(mkdtemp(dir));
  snprintf(file, sizeof file, "%s/c.ednl", dir);
  size_t n = 600 * 1024;
  char *text = malloc(n), *got = malloc(n);
  cr_assert(text && got);
  for (size_t i = 0; i < n; i++)
    text[i] = i % 97 == 96 ? '\n' : (char)(1 + i % 8); /* controls: 6 bytes each */
  FILE *f = fopen(file, "we");
  cr_assert(f && fwrite(text, 1, n, f) == n && fclose(f) == 0);
  struct tree t;
  probe_start(&t, dir);
  long long off = 0;
  int pieces = 0;
  for (bool eof = false; !eof && pieces < 100; pieces++) {
    snprintf(line, sizeof line, "{:id %d :op :read :path \"%s\" :offset %lld}",
             10 + pieces, file, off);
    cr_assert_eq(tree_send(&t, line, W), 0);
    char *raw = tree_line(&t, W);
    cr_assert(raw, "a reply to piece %d", pieces);
    cr_expect_lt(strlen(raw), (size_t)1 << 20, "the reply fits a line");
    edn_arena *a = edn_arena_new();
    edn_value *r = NULL;
    struct edn_error err;
    cr_assert_eq(edn_read(a, raw, strlen(raw), NULL, &r, &err), EDN_OK);
    const edn_value *tx = edn_map_getk(r, "text");
    cr_assert(tx && tx->type == EDN_STRING, "a :text (error %s)", probe_error_type(r));
    cr_expect_leq(tx->u.text.len, (size_t)128 * 1024, "a piece of 128 KiB at most");
    cr_assert_leq(off + (long long)tx->u.text.len, (long long)n);
    memcpy(got + off, tx->u.text.ptr, tx->u.text.len);
    off = get_int(r, "next");
    eof = edn_map_getk(r, "eof")->u.boolean;
    edn_arena_free(a);
    free(raw);
  }
  cr_expect_geq(pieces, 5, "600 KiB in pieces of 128 KiB (%d)", pieces);
  cr_expect_eq(off, (long long)n, "the whole file");
  cr_expect_eq(memcmp(got, text, n), 0, "byte for byte");
  snprintf(line, sizeof line, "{:id 2 :op :read :path \"%s\" :max 524288}", file);
  cr_expect_str_eq(probe_error_type(tree_ask(&t, line, W)), "wat/bad-request",
                   "a piece over 128 KiB is refused");
  snprintf(line, sizeof line, "{:id 3 :op :read :path \"%s\" :max 131072}", file);
  cr_expect_eq(get_int(tree_ask(&t, line, W), "next"), 128 * 1024);
  probe_end(&t, fds0);
  free(text);
  free(got);
  unlink(file);
  rmdir(dir);
}

Test(probe, a_usage_error_exits_64) {
  struct tree t;
  const char *args[] = {"--probe", "--bogus", NULL};
  cr_assert_eq(tree_start_args(&t, args), 0);
  int st = tree_close(&t, W);
  cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 64, "status %d", st);
  tree_free(&t);
  cr_expect_eq(tree_reap_orphans(W), 0);
}
