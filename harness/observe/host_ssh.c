/* host_ssh.c — the harness's channel to a far host's probe: the local ssh
 * client running `WATVM --probe` there, its stdio on three pipes, one EDN
 * request line out and its reply line back, every wait bounded by a
 * deadline; and its end, which leaves no process behind. */
#define _GNU_SOURCE
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

#include "host_internal.h"

/* A reply holds one entry per process of the host: allow big hosts. */
#define PROBE_REPLY_MAX ((size_t)64 << 20)

long long host_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void close_fd(int *fd) {
  if (*fd >= 0) {
    int e = errno;
    close(*fd);
    errno = e;
    *fd = -1;
  }
}

/* The far login shell runs the command line: quote the path for it
 * ('...' with each ' as '\''). 0, or -1 when it does not fit. */
static int quote_cmd(const char *watvm, char *out, size_t n) {
  size_t k = 0;
  out[k++] = '\'';
  for (const char *p = watvm; *p; p++) {
    const char *piece = *p == '\'' ? "'\\''" : NULL;
    size_t len = piece ? 4 : 1;
    if (k + len + 16 >= n)
      return -1;
    memcpy(out + k, piece ? piece : p, len);
    k += len;
  }
  memcpy(out + k, "' --probe", 10);
  return 0;
}

/* After fork: report errno on the close-on-exec pipe, never return. */
static void child_fail(int errfd) {
  int e = errno;
  while (write(errfd, &e, sizeof e) < 0 && errno == EINTR) {
  }
  _exit(127);
}

/* After fork, before exec (async-signal-safe calls only): a process group
 * of its own (so host_close can kill all of it), default signals, the
 * pipe ends moved out of 0-2 first and then onto 0-2. */
static void child_exec(const int ends[3], char *const argv[], int errfd) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  signal(SIGPIPE, SIG_DFL);
  if (setpgid(0, 0) < 0)
    child_fail(errfd);
  int moved[3];
  for (int i = 0; i < 3; i++)
    if ((moved[i] = fcntl(ends[i], F_DUPFD_CLOEXEC, 3)) < 0)
      child_fail(errfd);
  for (int i = 0; i < 3; i++)
    if (dup2(moved[i], i) < 0)
      child_fail(errfd);
  execvp(argv[0], argv);
  child_fail(errfd);
}

/* The argv of the ssh client, in `slots` (static strings and `cmd`). */
static void ssh_argv(const struct host_options *o, char *cmd, char *argv[10]) {
  size_t k = 0;
  argv[k++] = "ssh";
  argv[k++] = "-T";
  argv[k++] = "-o";
  argv[k++] = "BatchMode=yes";
  if (o->ssh_config) {
    argv[k++] = "-F";
    argv[k++] = (char *)o->ssh_config;
  }
  argv[k++] = (char *)o->dest;
  argv[k++] = cmd;
  argv[k] = NULL;
}

/* Wait for the child's exec report: EOF alone means exec happened. */
static int exec_result(struct host *h, int errpipe) {
  int e = 0;
  ssize_t n;
  while ((n = read(errpipe, &e, sizeof e)) < 0 && errno == EINTR) {
  }
  if (n <= 0)
    return 0;
  while (waitpid(h->ssh_pid, NULL, 0) < 0 && errno == EINTR) {
  }
  h->ssh_pid = 0;
  snprintf(h->error, sizeof h->error, "%s: unable to run ssh: %s", h->name,
           strerror(e));
  return -e;
}

int ssh_start(struct host *h, const struct host_options *o) {
  char cmd[4200];
  char *argv[10];
  const char *watvm = o->remote_watvm ? o->remote_watvm : "watvm";
  if (quote_cmd(watvm, cmd, sizeof cmd) < 0) {
    snprintf(h->error, sizeof h->error, "%s: remote_watvm is too long", h->name);
    return -ENAMETOOLONG;
  }
  ssh_argv(o, cmd, argv);
  int p[4][2] = {{-1, -1}, {-1, -1}, {-1, -1}, {-1, -1}};
  for (int i = 0; i < 4; i++)
    if (pipe2(p[i], O_CLOEXEC) < 0)
      goto fail;
  pid_t pid = fork();
  if (pid < 0)
    goto fail;
  if (pid == 0) {
    const int ends[3] = {p[0][0], p[1][1], p[2][1]};
    child_exec(ends, argv, p[3][1]);
  }
  setpgid(pid, pid); /* as the child does: whichever runs first */
  h->ssh_pid = pid;
  h->to_fd = p[0][1];
  h->from_fd = p[1][0];
  h->err_fd = p[2][0];
  close_fd(&p[0][0]);
  close_fd(&p[1][1]);
  close_fd(&p[2][1]);
  close_fd(&p[3][1]);
  int rc = exec_result(h, p[3][0]);
  close_fd(&p[3][0]);
  for (int i = 0; rc == 0 && i < 3; i++) {
    int fd = i == 0 ? h->to_fd : i == 1 ? h->from_fd : h->err_fd;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  }
  return rc;
fail:;
  int e = errno;
  for (int i = 0; i < 4; i++)
    close_fd(&p[i][0]), close_fd(&p[i][1]);
  snprintf(h->error, sizeof h->error, "%s: unable to start ssh: %s", h->name,
           strerror(e));
  return -e;
}

/* Read what stderr holds now; keep its last non-empty line in errtail.
 * Returns 1 at EOF, else 0. */
static int drain_stderr(struct host *h) {
  char chunk[1024];
  for (;;) {
    ssize_t n = h->err_fd >= 0 ? read(h->err_fd, chunk, sizeof chunk) : 0;
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return 0;
    if (n == 0) {
      close_fd(&h->err_fd);
      return 1;
    }
    for (ssize_t i = 0; i < n; i++) {
      char c = chunk[i];
      if (c == '\n' || c == '\r') {
        if (h->errlen) {
          memcpy(h->errtail, h->errline, h->errlen);
          h->errtail[h->errlen] = '\0';
        }
        h->errlen = 0;
      } else if (h->errlen < sizeof h->errline - 1) {
        h->errline[h->errlen++] = c;
      }
    }
  }
}

/* The connection ended: say so with ssh's last words, which may still be
 * on their way (stderr read to EOF, until the deadline). */
static int lost(struct host *h, long long deadline) {
  while (h->err_fd >= 0 && !drain_stderr(h)) {
    long long left = deadline - host_now_ms();
    if (left <= 0)
      break;
    struct pollfd pf = {.fd = h->err_fd, .events = POLLIN};
    poll(&pf, 1, (int)left);
  }
  if (h->errlen) /* a last line without its newline */
    memcpy(h->errtail, h->errline, h->errlen), h->errtail[h->errlen] = '\0';
  if (h->errtail[0])
    snprintf(h->error, sizeof h->error, "%.200s: %s", h->name, h->errtail);
  else
    snprintf(h->error, sizeof h->error,
             "%s: the probe's connection ended (ssh said nothing)", h->name);
  return -EPIPE;
}

static int timed_out(struct host *h) {
  snprintf(h->error, sizeof h->error, "%.200s: the probe did not answer within %d ms%s%s",
           h->name, h->timeout_ms, h->errtail[0] ? "; ssh: " : "", h->errtail);
  return -ETIMEDOUT;
}

/* Wait for `fd` to be ready for `ev` (or stderr to speak) until the
 * deadline: 1 ready, 0 timed out. Stderr is drained on the way. */
static int wait_fd(struct host *h, int fd, short ev, long long deadline) {
  for (;;) {
    long long left = deadline - host_now_ms();
    if (left <= 0)
      return 0;
    struct pollfd pf[2] = {{.fd = fd, .events = ev},
                           {.fd = h->err_fd, .events = POLLIN}};
    int n = poll(pf, 2, (int)left);
    if (n < 0 && errno != EINTR)
      return 1; /* let the read or write say what is wrong */
    if (n > 0 && pf[1].revents)
      drain_stderr(h);
    if (n > 0 && pf[0].revents)
      return 1;
  }
}

/* Write all of `s` to the probe's stdin by the deadline. SIGPIPE is
 * blocked meanwhile and swallowed (a dead ssh must be EPIPE, not our
 * death). 0, -EPIPE or -ETIMEDOUT. */
static int send_line(struct host *h, const char *s, size_t n, long long deadline) {
  sigset_t pipe_set, old, pending;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
  sigpending(&pending);
  bool was_pending = sigismember(&pending, SIGPIPE) == 1;
  int rc = 0;
  while (rc == 0 && n > 0) {
    ssize_t w = h->to_fd >= 0 ? write(h->to_fd, s, n) : (errno = EPIPE, -1);
    if (w > 0)
      s += w, n -= (size_t)w;
    else if (errno == EAGAIN)
      rc = wait_fd(h, h->to_fd, POLLOUT, deadline) ? 0 : -ETIMEDOUT;
    else if (errno != EINTR)
      rc = -EPIPE;
  }
  sigpending(&pending);
  struct timespec zero = {0, 0};
  if (!was_pending && sigismember(&pending, SIGPIPE) == 1)
    while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR) {
    }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  return rc == -ETIMEDOUT ? timed_out(h) : rc == -EPIPE ? lost(h, deadline) : 0;
}

/* Read more of the probe's stdout into h->buf: 1 got bytes, 0 EOF, -1
 * nothing yet, or -ENOMEM. */
static int read_more(struct host *h) {
  if (h->cap - h->len < 65536) {
    size_t cap = h->cap ? h->cap * 2 : 131072;
    char *b = realloc(h->buf, cap);
    if (!b)
      return -ENOMEM;
    h->buf = b, h->cap = cap;
  }
  ssize_t n = read(h->from_fd, h->buf + h->len, h->cap - h->len);
  if (n > 0)
    h->len += (size_t)n;
  return n > 0 ? 1 : n == 0 ? 0 : -1;
}

/* Parse the first line of h->buf (of `n` bytes) and drop it: 1 with *out
 * when it is the reply `id`, 0 another id's (dropped), or -EPROTO. */
static int take_line(struct host *h, size_t n, long long id, edn_value **out) {
  struct edn_limits lim = {.max_depth = 0, .max_bytes = PROBE_REPLY_MAX};
  struct edn_error err;
  edn_value *v = NULL;
  int r = edn_read(h->arena, h->buf, n, &lim, &v, &err);
  memmove(h->buf, h->buf + n + 1, h->len - n - 1);
  h->len -= n + 1;
  if (r == EDN_EMPTY)
    return 0;
  const edn_value *vid = r == EDN_OK ? edn_map_getk(v, "id") : NULL;
  if (r != EDN_OK || v->type != EDN_MAP) {
    snprintf(h->error, sizeof h->error, "%s: the probe wrote an unreadable line%s%s",
             h->name, r == EDN_OK ? "" : ": ", r == EDN_OK ? "" : err.message);
    return -EPROTO;
  }
  if (!vid || vid->type != EDN_INT || vid->u.integer != id)
    return 0;
  *out = v;
  return 1;
}

static int await_reply(struct host *h, long long id, long long deadline,
                       edn_value **out) {
  size_t scanned = 0;
  for (;;) {
    /* nothing read yet: no buffer (memchr must not see a NULL) */
    char *nl = h->len > scanned ? memchr(h->buf + scanned, '\n', h->len - scanned)
                                : NULL;
    if (nl) {
      int r = take_line(h, (size_t)(nl - h->buf), id, out);
      scanned = 0;
      if (r != 0)
        return r < 0 ? r : 0;
      continue;
    }
    scanned = h->len;
    if (h->len > PROBE_REPLY_MAX) {
      snprintf(h->error, sizeof h->error, "%s: a reply line over %zu bytes",
               h->name, PROBE_REPLY_MAX);
      return -EPROTO;
    }
    int r = h->from_fd >= 0 ? read_more(h) : 0;
    if (r == -ENOMEM)
      return -ENOMEM;
    if (r == 0)
      return lost(h, deadline);
    if (r < 0 && errno != EINTR && !wait_fd(h, h->from_fd, POLLIN, deadline))
      return timed_out(h);
  }
}

int ssh_ask(struct host *h, const char *body, edn_value **reply) {
  long long deadline = host_now_ms() + h->timeout_ms;
  long long id = ++h->next_id;
  char stack[8192], *line = stack; /* a longer one (a watch's processes) is
                                       malloc'ed */
  int n = snprintf(line, sizeof stack, "{:id %lld %s}\n", id, body);
  if (n < 0)
    return -EINVAL;
  if ((size_t)n >= sizeof stack &&
      (!(line = malloc((size_t)n + 1)) ||
       snprintf(line, (size_t)n + 1, "{:id %lld %s}\n", id, body) != n)) {
    free(line);
    return -ENOMEM;
  }
  edn_arena_reset(h->arena);
  *reply = NULL;
  h->error[0] = '\0';
  int rc = send_line(h, line, (size_t)n, deadline);
  if (line != stack)
    free(line);
  return rc < 0 ? rc : await_reply(h, id, deadline, reply);
}

/* Has the ssh client exited? Not reaped (WNOWAIT): while it is a zombie
 * its pid, and so its process group's id, cannot be reused. */
static bool exited(pid_t pid) {
  siginfo_t si = {0};
  if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
    return errno == ECHILD;
  return si.si_pid == pid;
}

void ssh_stop(struct host *h, int grace_ms) {
  close_fd(&h->to_fd); /* the probe reads EOF and exits; so does ssh */
  if (h->ssh_pid > 0) {
    long long deadline = host_now_ms() + grace_ms;
    while (!exited(h->ssh_pid) && host_now_ms() < deadline) {
      struct timespec ts = {0, 10 * 1000000};
      nanosleep(&ts, NULL);
    }
    kill(-h->ssh_pid, SIGKILL); /* whatever is left of its group */
    while (waitpid(h->ssh_pid, NULL, 0) < 0 && errno == EINTR) {
    }
    h->ssh_pid = 0;
  }
  close_fd(&h->from_fd);
  close_fd(&h->err_fd);
}
