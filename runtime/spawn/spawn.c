/* spawn.c — spawn-process (see spawn.h). The child is started with
 * clone(CLONE_VM|CLONE_VFORK), as glibc's posix_spawn does (no page-table
 * copy: a tree builds markedly faster), or with fork when that is refused
 * or asked for; either way it runs the same child_exec() and reports an
 * exec failure through the same close-on-exec pipe, libuv style (so it also
 * holds where vfork is emulated as fork, e.g. under valgrind). Between
 * clone/fork and exec the child makes only async-signal-safe calls. */
#define _GNU_SOURCE /* pipe2, close_range, signalfd */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spawn_process.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

extern char **environ;

static void close_fd(int *fd) {
  if (*fd < 0) return;
  int e = errno;
  close(*fd);
  errno = e;
  *fd = -1;
}

/* After fork: report errno to the parent and die. Never returns. */
static void child_fail(int errfd) {
  int e = errno;
  while (write(errfd, &e, sizeof e) < 0 && errno == EINTR) {
  }
  _exit(127);
}

/* Every disposition back to SIG_DFL: those in `changed`, or (NULL) all
 * (sigismember is async-signal-safe). */
static void reset_signals(const sigset_t *changed) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; s++) /* KILL/STOP: EINVAL */
    if (!changed || sigismember(changed, s) == 1) sigaction(s, &sa, NULL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
}

/* "SigIgn:\t0000000000001000" -> the signals whose bit is set (bit s-1). */
static void add_mask(sigset_t *out, const char *hex) {
  unsigned long long m = strtoull(hex, NULL, 16);
  for (int s = 1; s <= 64 && s < NSIG; s++)
    if (m & (1ULL << (s - 1))) sigaddset(out, s);
}

int spawn_changed_signals(sigset_t *out) {
  FILE *f = fopen("/proc/self/status", "re");
  if (!f) return -1;
  char line[256];
  int seen = 0;
  sigemptyset(out);
  while (seen < 2 && fgets(line, sizeof line, f))
    if (!strncmp(line, "SigIgn:", 7) || !strncmp(line, "SigCgt:", 7)) {
      add_mask(out, line + 7);
      seen++;
    }
  fclose(f);
  return seen == 2 ? 0 : -1;
}

/* Move an fd that sits in 0..2 above 2 (CLOEXEC), so the dup2s below never
 * overwrite a pipe end still to be placed. */
static int lift(int fd, int errfd) {
  if (fd > 2) return fd;
  int n = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (n < 0) child_fail(errfd);
  return n;
}

/* Mark every fd >= 3 close-on-exec; the error pipe must live until exec. */
static void cloexec_rest(int errfd) {
  if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
  long max = sysconf(_SC_OPEN_MAX);
  for (long fd = 3; fd < max; fd++) fcntl((int)fd, F_SETFD, FD_CLOEXEC);
  (void)errfd;
}

static void child_exec(const struct spawn_options *o, int fds[3], int errfd) {
  reset_signals(o->changed);
  if (!o->same_pgrp && setpgid(0, 0) < 0) child_fail(errfd);
  errfd = lift(errfd, errfd);
  for (int i = 0; i < 3; i++) fds[i] = lift(fds[i], errfd);
  for (int i = 0; i < 3; i++)
    if (dup2(fds[i], i) < 0) child_fail(errfd);
  cloexec_rest(errfd);
  if (o->leak_fd >= 0 && fcntl(o->leak_fd, F_SETFD, 0) < 0) child_fail(errfd);
  execve(o->file, o->argv, o->envp ? o->envp : environ);
  child_fail(errfd);
}

/* A pipe whose parent end is non-blocking. A new pipe's file status flags
 * are its access mode alone, which F_SETFL leaves as it is: no F_GETFL. */
static int make_pipe(int p[2], int parent_end) {
  if (pipe2(p, O_CLOEXEC) < 0) return -errno;
  if (fcntl(p[parent_end], F_SETFL, O_NONBLOCK) < 0) return -errno;
  return 0;
}

/* Read the child's verdict: EOF means exec happened; an int is its errno. */
static int read_verdict(int errfd) {
  int child_errno = 0;
  ssize_t n;
  do {
    n = read(errfd, &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  if (n == sizeof child_errno) return -(child_errno ? child_errno : EIO);
  if (n < 0) return -errno;
  return 0;
}

static void reap(pid_t pid) {
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
  }
}

struct clone_args {
  const struct spawn_options *o;
  int fds[3];
  int errfd;
};

static int clone_child(void *p) {
  struct clone_args *a = p;
  child_exec(a->o, a->fds, a->errfd);
  return 127;
}

#define CLONE_STACK (256 * 1024)

/* ASan cannot follow a child running on a stack it did not make (it warns
 * of false positives): sanitized builds fork. Coverage builds fork too: a
 * child sharing our memory runs gcov's dump before exec, which marks OUR
 * counters as written, and the parent's own would never reach its .gcda. */
#if defined(TREEPROOF_COVERAGE)
#define SPAWN_CAN_CLONE 0
#elif defined(__SANITIZE_ADDRESS__)
#define SPAWN_CAN_CLONE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SPAWN_CAN_CLONE 0
#endif
#endif
#ifndef SPAWN_CAN_CLONE
#define SPAWN_CAN_CLONE 1
#endif

/* Start the child with clone(CLONE_VM|CLONE_VFORK) when allowed, else fork.
 * Either way the child runs child_exec(); we run on once it has exec'd or
 * died. Returns its pid or -errno. */
static pid_t start_child(const struct spawn_options *o, int fds[3], int errfd) {
  if (SPAWN_CAN_CLONE && !o->fork_only) {
    char *stack = malloc(CLONE_STACK);
    if (stack) {
      struct clone_args a = {.o = o, .fds = {fds[0], fds[1], fds[2]}, .errfd = errfd};
      pid_t pid = clone(clone_child, stack + CLONE_STACK,
                        CLONE_VM | CLONE_VFORK | SIGCHLD, &a);
      free(stack); /* the child is past exec (or dead): its stack is free */
      if (pid > 0) return pid;
    }
  }
  pid_t pid = fork();
  if (pid < 0) return -errno;
  if (pid == 0) child_exec(o, fds, errfd);
  return pid;
}

int spawn_process(const struct spawn_options *o, struct spawn_child *c) {
  int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1}, ep[2] = {-1, -1};
  int e;
  if ((e = make_pipe(in, 1)) < 0 || (e = make_pipe(out, 0)) < 0 ||
      (e = make_pipe(err, 0)) < 0)
    goto fail;
  if (pipe2(ep, O_CLOEXEC) < 0) {
    e = -errno;
    goto fail;
  }
  int fds[3] = {in[0], out[1], err[1]};
  pid_t pid = start_child(o, fds, ep[1]);
  if (pid < 0) {
    e = pid;
    goto fail;
  }
  close_fd(&ep[1]);
  close_fd(&in[0]);
  close_fd(&out[1]);
  close_fd(&err[1]);
  e = read_verdict(ep[0]);
  close_fd(&ep[0]);
  if (e < 0) {
    reap(pid);
    goto fail;
  }
  c->pid = pid;
  c->in_fd = in[1];
  c->out_fd = out[0];
  c->err_fd = err[0];
  return 0;
fail:
  for (int i = 0; i < 2; i++) {
    close_fd(&in[i]);
    close_fd(&out[i]);
    close_fd(&err[i]);
    close_fd(&ep[i]);
  }
  return e;
}
