/* dot.c — the one way the harness runs Graphviz `dot` (the SVG of
 * `treeproof graph --svg` and the tree picture of the HTML report). One
 * child in a process group of its own; four pipes, all close-on-exec from
 * birth: DOT to its stdin, its stdout and stderr back, and the exec-error
 * pipe on which the child writes errno when exec fails (as libuv does: then
 * _exit(127), and the parent reaps it). One poll loop moves the bytes until
 * dot has closed its pipes or the deadline has passed; a dot still there at
 * the deadline is SIGKILLed with its group and reaped. Owns the child and
 * the pipes for the length of one dot_render call: neither outlives it. */
#define _GNU_SOURCE
#include "dot.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The pipes, by dot's end: its fds 0, 1, 2, and the exec-error pipe. */
enum { IN = 0, OUT = 1, ERR = 2, EXEC = 3, NPIPES = 4 };

struct run {
  int mine[NPIPES];   /* the parent's ends: IN is written, the others read */
  int theirs[NPIPES]; /* the child's ends */
  const char *text;   /* the DOT, and how much of it dot has taken */
  size_t len, off;
  char *out; /* dot's stdout so far (malloc'ed) */
  size_t outlen, outcap;
  char err[256]; /* the start of dot's stderr, NUL-terminated */
  size_t errlen;
  unsigned char exec_errno[sizeof(int)]; /* the child's errno, when exec failed */
  size_t exec_got;
};

static long long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int dot_timeout_ms(void) {
  const char *s = getenv(DOT_TIMEOUT_ENV);
  char *end = NULL;
  errno = 0;
  long v = s && *s ? strtol(s, &end, 10) : 0;
  return v >= 1 && v <= 86400000 && errno == 0 && end && *end == '\0'
             ? (int)v : DOT_TIMEOUT_MS;
}

static void close_fd(int *fd) {
  if (*fd >= 0)
    close(*fd);
  *fd = -1;
}

/* The four pipes; the parent's ends non-blocking (dot's stay blocking).
 * Returns 0, or -1 with errno (what was made is in r, to be closed). */
static int open_pipes(struct run *r) {
  for (int i = 0; i < NPIPES; i++) {
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
      return -1;
    r->mine[i] = i == IN ? p[1] : p[0];
    r->theirs[i] = i == IN ? p[0] : p[1];
    if (fcntl(r->mine[i], F_SETFL, O_NONBLOCK) < 0)
      return -1;
  }
  return 0;
}

/* In the child (async-signal-safe calls only): its own process group,
 * default SIGPIPE and no blocked signal, the pipes as fds 0-2, exec. The
 * pipes are first copied above 2 so that no dup2 overwrites one. */
static void exec_dot(const struct run *r, char *const argv[]) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  signal(SIGPIPE, SIG_DFL);
  setpgid(0, 0);
  int fd[NPIPES], efd = r->theirs[EXEC];
  for (int i = 0; i < NPIPES; i++)
    if ((fd[i] = fcntl(r->theirs[i], F_DUPFD_CLOEXEC, 3)) < 0)
      goto fail;
  efd = fd[EXEC];
  for (int i = IN; i <= ERR; i++)
    if (dup2(fd[i], i) < 0)
      goto fail;
  execvp(argv[0], argv);
fail:;
  int e = errno;
  while (write(efd, &e, sizeof e) < 0 && errno == EINTR) {
  }
  _exit(127);
}

/* Give dot more DOT; close its stdin when all is taken or it is gone. */
static void on_write(struct run *r) {
  ssize_t w = write(r->mine[IN], r->text + r->off, r->len - r->off);
  if (w < 0 && (errno == EINTR || errno == EAGAIN))
    return;
  if (w > 0)
    r->off += (size_t)w;
  if (w <= 0 || r->off == r->len)
    close_fd(&r->mine[IN]); /* EPIPE: dot is gone, its status will say */
}

/* Append to dot's stdout, leaving room for the NUL. Returns 0, or -1 when
 * memory ran out. */
static int append(struct run *r, const char *p, size_t n) {
  if (r->outcap - r->outlen <= n) {
    size_t cap = r->outcap ? r->outcap : 65536;
    while (cap - r->outlen <= n)
      cap *= 2;
    char *b = realloc(r->out, cap);
    if (!b)
      return -1;
    r->out = b;
    r->outcap = cap;
  }
  memcpy(r->out + r->outlen, p, n);
  r->outlen += n;
  return 0;
}

/* Take what pipe `i` has (stdout whole; of stderr and the exec error only
 * what fits); close it at end of file. Returns -1 only when out of memory. */
static int on_read(struct run *r, int i) {
  char chunk[65536];
  ssize_t n = read(r->mine[i], chunk, sizeof chunk);
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return 0;
  if (n <= 0) {
    close_fd(&r->mine[i]);
    return 0;
  }
  if (i == OUT)
    return append(r, chunk, (size_t)n);
  unsigned char *to = i == ERR ? (unsigned char *)r->err : r->exec_errno;
  size_t *got = i == ERR ? &r->errlen : &r->exec_got;
  size_t room = (i == ERR ? sizeof r->err - 1 : sizeof r->exec_errno) - *got;
  size_t k = (size_t)n < room ? (size_t)n : room;
  memcpy(to + *got, chunk, k);
  *got += k;
  return 0;
}

/* Move bytes until dot has closed every pipe or `deadline` has passed.
 * Returns 0, 1 at the deadline, or -1 with msg when poll or memory failed. */
static int pump(struct run *r, long long deadline, char *msg, size_t msgsz) {
  if (r->off == r->len)
    close_fd(&r->mine[IN]);
  for (;;) {
    struct pollfd p[NPIPES];
    int which[NPIPES];
    nfds_t n = 0;
    for (int i = 0; i < NPIPES; i++)
      if (r->mine[i] >= 0) {
        p[n] = (struct pollfd){r->mine[i], i == IN ? POLLOUT : POLLIN, 0};
        which[n++] = i;
      }
    long long left = deadline - now_ms();
    if (n == 0)
      return 0;
    if (left <= 0)
      return 1;
    int k = poll(p, n, left < INT_MAX ? (int)left : INT_MAX);
    if (k < 0 && errno == EINTR)
      continue;
    if (k < 0)
      return snprintf(msg, msgsz, "poll: %s", strerror(errno)), -1;
    for (nfds_t j = 0; j < n; j++) {
      if (!p[j].revents)
        continue;
      if (which[j] == IN)
        on_write(r);
      else if (on_read(r, which[j]) < 0)
        return snprintf(msg, msgsz, "out of memory"), -1;
    }
  }
}

/* Block SIGPIPE (writing to a dead dot must be EPIPE, not our death).
 * Returns whether one was pending already (then it is not ours). */
static bool block_sigpipe(sigset_t *old) {
  sigset_t set, pending;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &set, old);
  sigpending(&pending);
  return sigismember(&pending, SIGPIPE) == 1;
}

/* Swallow the SIGPIPE our writes raised, if any; restore the mask. */
static void unblock_sigpipe(const sigset_t *old, bool was_pending) {
  sigset_t set, pending;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  sigpending(&pending);
  if (!was_pending && sigismember(&pending, SIGPIPE) == 1) {
    struct timespec zero = {0, 0};
    while (sigtimedwait(&set, NULL, &zero) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, old, NULL);
}

/* Wait for dot until `deadline` (not at all when `now`), then SIGKILL its
 * process group and reap it. Returns 1 when it was killed so, 0 when it
 * ended by itself, -1 with errno when waitpid failed; *status: how. */
static int reap(pid_t pid, long long deadline, bool now, int *status) {
  struct timespec nap = {0, 2 * 1000 * 1000};
  while (!now) {
    pid_t w = waitpid(pid, status, WNOHANG);
    if (w == pid)
      return 0;
    if (w < 0 && errno != EINTR)
      return -1;
    now = now_ms() >= deadline;
    if (!now)
      nanosleep(&nap, NULL);
  }
  if (kill(-pid, SIGKILL) < 0)
    kill(pid, SIGKILL);
  while (waitpid(pid, status, 0) < 0)
    if (errno != EINTR)
      return -1;
  return 1;
}

/* What dot's end says: 0 when it ran and exited 0, else -1 with msg. */
static int judge(const struct run *r, int status, char *msg, size_t msgsz) {
  if (r->exec_got == sizeof(int)) {
    int e;
    memcpy(&e, r->exec_errno, sizeof e);
    snprintf(msg, msgsz, "cannot run dot: %s (install graphviz)", strerror(e));
  } else if (WIFSIGNALED(status)) {
    snprintf(msg, msgsz, "dot was killed by signal %d", WTERMSIG(status));
  } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    int n = (int)strcspn(r->err, "\r\n");
    snprintf(msg, msgsz, "dot failed (exit %d)%s%.*s", WEXITSTATUS(status),
             n ? ": " : "", n, r->err);
  } else {
    return 0;
  }
  return -1;
}

/* Fork dot, feed it, drain it, reap it: 0 when it exited 0, else -1 with
 * msg. Closes the child's ends of the pipes. */
static int run_dot(struct run *r, char *const argv[], int timeout_ms,
                   char *msg, size_t msgsz) {
  long long deadline = now_ms() + timeout_ms;
  pid_t pid = fork();
  if (pid < 0)
    return snprintf(msg, msgsz, "fork: %s", strerror(errno)), -1;
  if (pid == 0)
    exec_dot(r, argv);
  setpgid(pid, pid); /* as the child does, so the group is there for kill */
  for (int i = 0; i < NPIPES; i++)
    close_fd(&r->theirs[i]);
  sigset_t old;
  bool pending = block_sigpipe(&old);
  int pumped = pump(r, deadline, msg, msgsz);
  unblock_sigpipe(&old, pending);
  int status = 0, killed = reap(pid, deadline, pumped != 0, &status);
  if (pumped < 0)
    return -1;
  if (killed < 0)
    return snprintf(msg, msgsz, "waitpid: %s", strerror(errno)), -1;
  if (killed)
    return snprintf(msg, msgsz, "dot did not finish within %d ms: killed",
                    timeout_ms), -1;
  return judge(r, status, msg, msgsz);
}

char *dot_render(const char *format, const char *text, size_t len,
                 int timeout_ms, size_t *outlen, char *msg, size_t msgsz) {
  char flag[64];
  snprintf(flag, sizeof flag, "-T%s", format);
  char *argv[] = {"dot", flag, NULL};
  struct run r = {.text = text, .len = len};
  for (int i = 0; i < NPIPES; i++)
    r.mine[i] = r.theirs[i] = -1;
  int rc = -1;
  if (open_pipes(&r) < 0)
    snprintf(msg, msgsz, "pipe: %s", strerror(errno));
  else if ((rc = run_dot(&r, argv, timeout_ms, msg, msgsz)) == 0 && !r.out &&
           !(r.out = malloc(1)))
    rc = -1, snprintf(msg, msgsz, "out of memory");
  for (int i = 0; i < NPIPES; i++) {
    close_fd(&r.mine[i]);
    close_fd(&r.theirs[i]);
  }
  if (rc < 0) {
    free(r.out);
    return NULL;
  }
  r.out[r.outlen] = '\0';
  *outlen = r.outlen;
  return r.out;
}
