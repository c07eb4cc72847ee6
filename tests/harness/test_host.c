/* test_host.c — the observe layer's hosts (host.h). The local backend:
 * host_scan sees this test's process with its parent, start time and
 * name; host_signal refuses a wrong start time; host_fds shows a pipe this
 * test holds. The far backend against real test hosts (scripts/test-hosts,
 * skipped when they cannot start here): the probe on h1 sees h1's PID 1
 * sshd and itself but not this test's process; a process started on h1 is
 * found by name and killed only at its right start time, and its death is
 * stamped there by the probe's watch. Failures: a closed port and a
 * silent connection fail host_open within its bound, with a message.
 * Every test ends by proving it left nothing behind. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "host.h"
#include "hosts_once.h"

static int fd_count(void) {
  int n = 0;
  char path[64];
  for (int fd = 0; fd < 1024; fd++) {
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    n += access(path, F_OK) == 0;
  }
  return n;
}

static int fds0;
static void setup_plain(void) {
  signal(SIGPIPE, SIG_IGN);
  fds0 = fd_count();
}

/* Orphans of anything these tests start come back here, to be seen. (Not
 * with test hosts: their sshds, daemons, would come back too.) */
static void setup(void) {
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  setup_plain();
}

/* Nothing left: no child, running or zombie, no fd. A process a test
 * killed may take a moment to be reaped by its sshd: bounded wait. */
static void nothing_left(void) {
  for (int i = 0; i < 300 && waitpid(-1, NULL, WNOHANG) >= 0; i++)
    usleep(10000);
  errno = 0;
  cr_expect(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD, "no child left");
  cr_expect_eq(fd_count(), fds0, "no fd leaked");
}

static long long ms_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- The local backend -------------------------------------------------- */

TestSuite(host_local, .init = setup, .timeout = 30.);

Test(host_local, scan_sees_this_process) {
  struct host *h = host_local();
  struct proc_table t = {0};
  cr_assert_eq(host_scan(h, &t), 0);
  for (size_t i = 1; i < t.n; i++)
    cr_assert_lt(t.v[i - 1].pid, t.v[i].pid, "sorted by pid");
  const struct proc_info *me = proctree_find(&t, getpid());
  cr_assert(me, "this test's pid %d is in the scan", (int)getpid());
  cr_expect_eq(me->ppid, getppid());
  cr_expect_eq(me->pgid, getpgrp());
  char comm[32] = "";
  FILE *f = fopen("/proc/self/comm", "re");
  cr_assert(f && fgets(comm, sizeof comm, f));
  fclose(f);
  comm[strcspn(comm, "\n")] = '\0';
  cr_expect_str_eq(me->comm, comm, "comm as /proc/self/comm says");
  struct proc_info pi;
  cr_assert_eq(host_read(h, getpid(), &pi), 0);
  cr_expect_eq(pi.start, me->start, "the start time is stable");
  cr_expect(host_alive(h, getpid(), me->start));
  cr_expect(!host_alive(h, getpid(), me->start + 1), "another start is another process");
  cr_expect_gt(host_rss_kb(h, getpid()), 0);
  cr_expect_eq(host_probe_pid(h), 0);
  cr_expect_str_eq(host_name(h), "local");
  proctree_free(&t);
  nothing_left();
}

Test(host_local, signal_only_at_the_right_start_time) {
  pid_t pid = fork();
  cr_assert_geq(pid, 0);
  if (pid == 0) {
    pause();
    _exit(0);
  }
  struct host *h = host_local();
  struct proc_info pi;
  cr_assert_eq(host_read(h, pid, &pi), 0);
  cr_expect_eq(host_signal(h, pid, pi.start + 1, SIGKILL), -ESRCH,
               "a wrong start time is refused");
  cr_expect_eq(host_signal(h, pid, pi.start, SIGKILL), 0);
  int st = 0;
  cr_assert_eq(waitpid(pid, &st, 0), pid);
  cr_expect(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "killed by the signal");
  nothing_left();
}

Test(host_local, fds_of_self_show_a_pipe) {
  int p[2];
  cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
  struct stat sb;
  cr_assert_eq(fstat(p[0], &sb), 0);
  struct fd_list l = {0};
  cr_assert_eq(host_fds(host_local(), getpid(), &l), 0);
  int seen = 0;
  for (size_t i = 0; i < l.n; i++)
    if (l.v[i].fd == p[0] || l.v[i].fd == p[1]) {
      cr_expect_eq(l.v[i].kind, FD_PIPE);
      cr_expect_eq(l.v[i].ino, (unsigned long long)sb.st_ino);
      seen++;
    }
  cr_expect_eq(seen, 2, "both ends of the pipe are listed");
  fd_list_free(&l);
  close(p[0]);
  close(p[1]);
  nothing_left();
}

/* ---- Far hosts that cannot be reached ---------------------------------- */

TestSuite(host_unreachable, .init = setup, .timeout = 30.);

/* An ssh config naming `name` with `body` (the caller unlinks `path`). */
static void write_config(char *path, const char *name, const char *body) {
  int fd = mkstemp(path);
  cr_assert_geq(fd, 0);
  FILE *f = fdopen(fd, "w");
  fprintf(f, "Host %s\n  HostName 127.0.0.1\n  BatchMode yes\n%s", name, body);
  fclose(f);
}

Test(host_unreachable, a_closed_port_fails_with_ssh_s_message) {
  char cfg[] = "/tmp/test_host_cfg.XXXXXX";
  write_config(cfg, "dead", "  Port 1\n");
  struct host_options o = {.dest = "dead", .ssh_config = cfg,
                           .remote_watvm = WATVM_PATH, .timeout_ms = 5000};
  struct host *h = (struct host *)1;
  char err[512] = "";
  long long t0 = ms_now();
  cr_expect_eq(host_open(&o, &h, err, sizeof err), -1);
  long long took = ms_now() - t0;
  unlink(cfg);
  cr_expect_null(h);
  cr_expect(took < 5500, "failed within its bound (%lld ms)", took);
  cr_expect(!strncmp(err, "dead: ", 6), "the message names the host: %s", err);
  cr_expect(strstr(err, "refused"), "the message quotes ssh: %s", err);
  cr_log_info("%s", err);
  nothing_left();
}

/* A connection that never answers (a proxy that says nothing): host_open
 * gives up at its timeout and kills ssh's group, the proxy included. */
Test(host_unreachable, a_silent_connection_times_out) {
  char cfg[] = "/tmp/test_host_cfg.XXXXXX";
  write_config(cfg, "silent", "  ProxyCommand sleep 30\n");
  struct host_options o = {.dest = "silent", .ssh_config = cfg,
                           .remote_watvm = WATVM_PATH, .timeout_ms = 700};
  struct host *h = NULL;
  char err[512] = "";
  long long t0 = ms_now();
  cr_expect_eq(host_open(&o, &h, err, sizeof err), -1);
  long long took = ms_now() - t0;
  unlink(cfg);
  cr_expect(took >= 650 && took < 1500, "gave up at its bound (%lld ms)", took);
  cr_expect(strstr(err, "silent: the probe did not answer within 700 ms"), "%s", err);
  nothing_left();
}

/* ---- Far hosts: scripts/test-hosts ------------------------------------- */

/* Up once for the whole run, before any test (hosts_once.c): a suite's
 * .init/.fini would run in each test's own process, and a test that
 * failed there left its hosts running. */
ReportHook(PRE_ALL)(struct criterion_test_set *set) {
  (void)set;
  hosts_once_up(TREEPROOF_SOURCE_DIR "/scripts/test-hosts", "test_host",
                "24000");
}

ReportHook(POST_ALL)(struct criterion_global_stats *stats) {
  (void)stats;
  hosts_once_down();
}

static const char *ssh_config;

static void far_setup(void) {
  setup_plain();
  ssh_config = hosts_once_config();
}

TestSuite(host_far, .init = far_setup, .timeout = 90.);

static struct host *open_h1(void) {
  struct host_options o = {.dest = "h1", .ssh_config = ssh_config,
                           .remote_watvm = WATVM_PATH, .timeout_ms = 10000};
  struct host *h = NULL;
  char err[512] = "";
  cr_assert_eq(host_open(&o, &h, err, sizeof err), 0, "host_open h1: %s", err);
  cr_assert(h && !host_is_local(h));
  return h;
}

/* `ssh -F CONFIG h1 sleep 30` in the background, stdin /dev/null. */
static pid_t start_far_sleep(void) {
  pid_t pid = fork();
  cr_assert_geq(pid, 0);
  if (pid == 0) {
    int fd = open("/dev/null", O_RDWR);
    dup2(fd, 0), dup2(fd, 1), dup2(fd, 2);
    execlp("ssh", "ssh", "-F", ssh_config, "h1", "sleep 30", (char *)NULL);
    _exit(127);
  }
  return pid;
}

/* The far `sleep`, not one of the probe's own: found within 5 s. */
static struct proc_info find_far_sleep(struct host *h) {
  struct proc_table t = {0};
  for (int i = 0; i < 100; i++, usleep(50000)) {
    cr_assert_eq(host_scan(h, &t), 0, "%s", host_error(h));
    for (size_t k = 0; k < t.n; k++)
      if (!strcmp(t.v[k].comm, "sleep") && t.v[k].state != 'Z') {
        struct proc_info p = t.v[k];
        proctree_free(&t);
        return p;
      }
  }
  proctree_free(&t);
  cr_assert_fail("no `sleep` on h1 within 5 s");
  return (struct proc_info){0};
}

Test(host_far, the_probe_sees_h1_and_not_this_machine) {
  struct host *h = open_h1();
  struct proc_table t = {0};
  cr_assert_eq(host_scan(h, &t), 0, "%s", host_error(h));
  for (size_t i = 1; i < t.n; i++)
    cr_assert_lt(t.v[i - 1].pid, t.v[i].pid, "sorted by pid");
  const struct proc_info *init = proctree_find(&t, 1);
  cr_assert(init, "h1 has a PID 1");
  cr_expect_str_eq(init->comm, "sshd", "h1's PID 1 is its sshd");
  const struct proc_info *probe = proctree_find(&t, host_probe_pid(h));
  cr_assert(probe, "the probe's own pid %d is in the scan", (int)host_probe_pid(h));
  cr_expect_str_eq(probe->comm, "watvm");
  cr_expect_eq(probe->ppid, host_probe_ppid(h), "its parent is its sshd session");
  struct proc_info me;
  cr_assert_eq(proctree_read(getpid(), &me), 0);
  const struct proc_info *same = proctree_find(&t, getpid());
  cr_expect(!same || same->start != me.start || strcmp(same->comm, me.comm),
            "this test's process (pid %d) is not on h1", (int)getpid());
  struct fd_list l = {0};
  cr_assert_eq(host_fds(h, host_probe_pid(h), &l), 0, "%s", host_error(h));
  cr_expect_geq(l.n, 3, "the probe has its stdio at least");
  for (size_t i = 0; i < l.n && i < 3; i++)
    cr_expect(l.v[i].kind == FD_PIPE || l.v[i].kind == FD_SOCKET,
              "its fd %d is its session's pipe or socket (%s)", l.v[i].fd, l.v[i].text);
  fd_list_free(&l);
  cr_expect_eq(host_fds(h, 99999, &l), -ENOENT, "no such process there");
  cr_expect_gt(host_rss_kb(h, host_probe_pid(h)), 0, "the probe's RSS");
  proctree_free(&t);
  host_close(h);
  nothing_left();
}

Test(host_far, a_far_process_is_signalled_only_at_its_start_time) {
  struct host *h = open_h1();
  pid_t client = start_far_sleep();
  struct proc_info p = find_far_sleep(h);
  cr_expect_eq(host_signal(h, p.pid, p.start + 1, SIGKILL), -ESRCH,
               "a wrong start time is refused");
  cr_expect(host_alive(h, p.pid, p.start), "and the process lives on");
  cr_expect_eq(host_signal(h, p.pid, p.start, SIGKILL), 0, "%s", host_error(h));
  bool gone = false;
  for (int i = 0; i < 100 && !gone; i++, usleep(20000))
    gone = !host_alive(h, p.pid, p.start);
  cr_expect(gone, "the far sleep is gone after KILL");
  int st = 0;
  cr_expect_eq(waitpid(client, &st, 0), client, "the ssh client ends with it");
  cr_expect_eq(host_signal(h, 1, 0, SIGKILL), -EINVAL, "pid 1 is refused");
  host_close(h);
  nothing_left();
}

static long long boottime_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_BOOTTIME, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* A death watch kept on h1 by its probe: a far process's exit is stamped
 * there (the test hosts share this machine's kernel, so h1's
 * CLOCK_BOOTTIME is this machine's and the stamp falls between the kill
 * and the moment it is seen), another start time reads as gone, and the
 * watch ends with host_watch_stop. The local host has no such watch. */
Test(host_far, a_far_death_is_stamped_on_its_host) {
  struct host *h = open_h1();
  pid_t client = start_far_sleep();
  struct proc_info p = find_far_sleep(h);
  struct host_watch_proc v[2] = {{p.pid, p.start, -1}, {p.pid, p.start + 1, -1}};
  long long id = 0;
  cr_assert_eq(host_watch_start(h, v, 2, &id), 0, "%s", host_error(h));
  cr_expect_gt(id, 0);
  cr_expect_eq(v[0].died_ns, 0, "the sleep lives");
  cr_expect_eq(v[1].died_ns, HOST_WATCH_GONE, "another start time: gone");
  long long before = boottime_ns();
  cr_assert_eq(host_signal(h, p.pid, p.start, SIGKILL), 0, "%s", host_error(h));
  for (int i = 0; i < 250 && v[0].died_ns == 0; i++, usleep(20000))
    cr_assert_eq(host_watch_read(h, id, v, 2), 0, "%s", host_error(h));
  long long after = boottime_ns();
  cr_expect(v[0].died_ns >= before && v[0].died_ns <= after, "stamped on h1 at "
            "%lld, between the kill (%lld) and its reading (%lld)", v[0].died_ns,
            before, after);
  cr_expect_eq(host_watch_stop(h, id, v, 2), 0, "%s", host_error(h));
  cr_expect_lt(host_watch_read(h, id, v, 2), 0, "a stopped watch is gone");
  cr_expect(strstr(host_error(h), "no watch"), "%s", host_error(h));
  int st = 0;
  cr_expect_eq(waitpid(client, &st, 0), client, "the ssh client ends with it");
  cr_expect_eq(host_watch_start(host_local(), v, 1, &id), -EINVAL,
               "this machine is watched by the harness's own pidfds");
  host_close(h);
  nothing_left();
}
