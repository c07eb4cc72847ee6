/* test_proctree.c — /proc discovery against processes this test starts:
 * parent links, children counts, descendants, states, fds with inodes,
 * and the walk below one process (proctree_scan_below). */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"

static void nap_ms(int ms) {
  struct timespec ts = {0, (long)ms * 1000000L};
  nanosleep(&ts, NULL);
}

/* sh with two sleeping children; returns the sh pid */
static pid_t start_family(void) {
  pid_t pid = fork();
  cr_assert(pid >= 0);
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", "sleep 30 & sleep 30 & wait", (char *)NULL);
    _exit(127);
  }
  return pid;
}

static void end_family(pid_t sh) {
  struct proc_table pt = {0};
  pid_t *d = NULL;
  proctree_scan(&pt);
  long n = proctree_descendants(&pt, sh, &d);
  for (long i = 0; i < n; i++)
    kill(d[i], SIGKILL);
  kill(sh, SIGKILL);
  waitpid(sh, NULL, 0);
  free(d);
  proctree_free(&pt);
}

Test(proctree, sees_children_and_descendants, .timeout = 10.) {
  pid_t sh = start_family();
  struct proc_table pt = {0};
  size_t kids = 0;
  for (int i = 0; i < 200 && kids < 2; i++) {
    cr_assert_eq(proctree_scan(&pt), 0);
    kids = proctree_nchildren(&pt, sh);
    if (kids < 2)
      nap_ms(10);
  }
  cr_expect_eq(kids, 2, "sh should have 2 children, /proc shows %zu", kids);
  const struct proc_info *me = proctree_find(&pt, sh);
  cr_assert(me);
  cr_expect_eq(me->ppid, getpid());
  cr_expect_neq(me->start, 0ull, "start time parsed");
  pid_t *d = NULL;
  long n = proctree_descendants(&pt, getpid(), &d);
  cr_expect_geq(n, 3, "sh and its two sleeps descend from us (%ld)", n);
  free(d);
  proctree_free(&pt);
  end_family(sh);
  cr_expect(!proctree_alive(sh, 0), "reaped sh is gone");
}

Test(proctree, zombie_is_not_alive, .timeout = 10.) {
  pid_t pid = fork();
  cr_assert(pid >= 0);
  if (pid == 0)
    _exit(0);
  struct proc_info pi = {0};
  for (int i = 0; i < 200; i++) {
    if (proctree_read(pid, &pi) == 0 && pi.state == 'Z')
      break;
    nap_ms(5);
  }
  cr_expect_eq(pi.state, 'Z');
  cr_expect(!proctree_alive(pid, 0), "a zombie is not alive");
  waitpid(pid, NULL, 0);
  cr_expect_eq(proctree_read(pid, &pi), -ENOENT, "reaped: no /proc entry");
}

Test(proctree, fds_with_kinds_and_inodes, .timeout = 10.) {
  int p[2];
  cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
  struct stat st;
  fstat(p[0], &st);
  struct fd_list l = {0};
  cr_assert_eq(proctree_fds(getpid(), &l), 0);
  bool found = false;
  for (size_t i = 0; i < l.n; i++) {
    if (i)
      cr_expect_lt(l.v[i - 1].fd, l.v[i].fd, "sorted by fd");
    if (l.v[i].fd == p[0]) {
      found = true;
      cr_expect_eq(l.v[i].kind, FD_PIPE);
      cr_expect_eq(l.v[i].ino, (unsigned long long)st.st_ino);
    }
  }
  cr_expect(found, "our pipe is listed");
  fd_list_free(&l);
  close(p[0]);
  close(p[1]);
  cr_expect_eq(proctree_fds(999999999, &l), -ENOENT);
  fd_list_free(&l);
  cr_expect_gt(proctree_rss_kb(getpid()), 0);
}

/* A process's arguments, matched whole: how an ssh client's destination
 * is found among its parent's far children (engine/edge.c). */
Test(proctree, has_arg_matches_whole_arguments, .timeout = 10.) {
  pid_t c = fork();
  cr_assert_geq(c, 0);
  if (c == 0) {
    execlp("sleep", "sleep", "5", (char *)NULL);
    _exit(127);
  }
  bool seen = false;
  for (int i = 0; i < 200 && !seen; i++) { /* until it has exec'd */
    seen = proctree_has_arg(c, "5");
    if (!seen)
      usleep(10000);
  }
  cr_expect(seen, "sleep's argument 5 is read from its cmdline");
  cr_expect(!proctree_has_arg(c, "50"), "an argument matches whole");
  cr_expect(!proctree_has_arg(c, ""), "no empty argument");
  kill(c, SIGKILL);
  cr_expect_eq(waitpid(c, NULL, 0), c);
  cr_expect(!proctree_has_arg(999999999, "5"), "no process, no argument");
}

static bool has(const struct proc_table *t, pid_t pid) {
  return proctree_find(t, pid) != NULL;
}

/* The walk below us sees what a scan of all of /proc sees below us, with
 * the same parent links, and nothing else. */
Test(proctree, scan_below_sees_the_subtree_and_nothing_else, .timeout = 10.) {
  pid_t sh = start_family();
  struct proc_table all = {0}, below = {0};
  for (int i = 0; i < 200; i++) { /* until sh has started both */
    cr_assert_eq(proctree_scan_below(&below, getpid()), 0);
    if (proctree_nchildren(&below, sh) == 2)
      break;
    nap_ms(10);
  }
  cr_assert_eq(proctree_nchildren(&below, sh), 2);
  cr_assert_eq(proctree_scan(&all), 0);
  pid_t *d = NULL;
  long n = proctree_descendants(&all, getpid(), &d);
  cr_expect_eq((long)below.n, n + 1, "us and our %ld descendants, not %zu",
               n, below.n);
  for (long i = 0; i < n; i++) {
    const struct proc_info *a = proctree_find(&all, d[i]);
    const struct proc_info *b = proctree_find(&below, d[i]);
    cr_expect(b && a && b->ppid == a->ppid && b->start == a->start,
              "pid %d as the full scan shows it", (int)d[i]);
  }
  cr_expect(has(&below, getpid()), "the top itself is in the table");
  cr_expect(!has(&below, getppid()), "our parent is not below us");
  cr_expect(!has(&below, 1), "nor is init");
  for (size_t i = 1; i < below.n; i++)
    cr_expect_lt(below.v[i - 1].pid, below.v[i].pid, "sorted, no pid twice");
  free(d);
  proctree_free(&all);
  proctree_free(&below);
  end_family(sh);
  cr_expect_eq(proctree_scan_below(&below, sh), -ESRCH, "a gone top");
  proctree_free(&below);
}

/* An orphan comes back to its child subreaper: the walk finds it there. */
Test(proctree, scan_below_finds_an_orphan_at_its_reaper, .timeout = 10.) {
  cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  pid_t sh = fork();
  cr_assert_geq(sh, 0);
  if (sh == 0) {
    execl("/bin/sh", "sh", "-c", "sleep 30 & exit 0", (char *)NULL);
    _exit(127);
  }
  cr_assert_eq(waitpid(sh, NULL, 0), sh);
  struct proc_table t = {0};
  pid_t orphan = 0;
  for (int i = 0; i < 200 && !orphan; i++) { /* until sleep has exec'd */
    cr_assert_eq(proctree_scan_below(&t, getpid()), 0);
    for (size_t k = 0; k < t.n; k++)
      if (t.v[k].ppid == getpid() && !strcmp(t.v[k].comm, "sleep"))
        orphan = t.v[k].pid;
    if (!orphan)
      nap_ms(10);
  }
  cr_expect_gt(orphan, 0, "the orphaned sleep is below us, our child now");
  proctree_free(&t);
  if (orphan > 0) {
    kill(orphan, SIGKILL);
    waitpid(orphan, NULL, 0);
  }
}

struct forker {
  int gate[2]; /* the thread forks, then waits here until told to end */
  pid_t child;
};

static void *fork_and_wait(void *arg) {
  struct forker *f = arg;
  f->child = fork();
  if (f->child == 0) {
    execlp("sleep", "sleep", "30", (char *)NULL);
    _exit(127);
  }
  char c;
  while (read(f->gate[0], &c, 1) < 0 && errno == EINTR) {
  }
  return NULL;
}

/* A child belongs to the thread that forked it: the walk reads every
 * thread's list, not the main thread's alone. */
Test(proctree, scan_below_reads_every_thread_s_children, .timeout = 10.) {
  struct forker f = {.child = 0};
  cr_assert_eq(pipe2(f.gate, O_CLOEXEC), 0);
  pthread_t th;
  cr_assert_eq(pthread_create(&th, NULL, fork_and_wait, &f), 0);
  struct proc_table t = {0};
  bool seen = false;
  for (int i = 0; i < 200 && !seen; i++) { /* until the thread forked */
    cr_assert_eq(proctree_scan_below(&t, getpid()), 0);
    seen = f.child > 0 && has(&t, f.child);
    if (!seen)
      nap_ms(10);
  }
  cr_expect(seen, "the thread's child %d is below us", (int)f.child);
  proctree_free(&t);
  cr_assert_eq(write(f.gate[1], "x", 1), 1);
  pthread_join(th, NULL);
  close(f.gate[0]);
  close(f.gate[1]);
  if (f.child > 0) {
    kill(f.child, SIGKILL);
    waitpid(f.child, NULL, 0);
  }
}

/* Under ASan: Criterion's runner leaks a 48-byte block with --jobs 2 (see
 * tests/edn/lsan.supp); LeakSanitizer reads this at start-up. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:libcriterion.so\n"; }
