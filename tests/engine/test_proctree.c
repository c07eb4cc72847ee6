/* test_proctree.c — /proc discovery against processes this test starts:
 * parent links, children counts, descendants, states, fds with inodes. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
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

/* Under ASan: Criterion's runner leaks a 48-byte block with --jobs 2 (see
 * tests/edn/lsan.supp); LeakSanitizer reads this at start-up. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:libcriterion.so\n"; }
