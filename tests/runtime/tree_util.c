/* tree_util.c — driving a watvm tree from a test (see tree_util.h). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "tree_util.h"

extern char **environ;

int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int left(int64_t deadline) {
  int64_t d = deadline - now_ms();
  return d < 0 ? 0 : (int)d;
}

const char *watvm_path(void) {
  const char *w = getenv("WATVM");
  return w && *w ? w : WATVM_PATH;
}

void tree_subreaper(void) {
  prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, NULL);
  signal(SIGPIPE, SIG_IGN);
}

int fd_count(void) {
  DIR *d = opendir("/proc/self/fd");
  int n = 0;
  if (!d) return -1;
  while (readdir(d)) n++;
  closedir(d);
  return n - 3; /* ".", ".." and the listing's own fd */
}

/* envp = environ with WATVM_FAULT replaced (or removed when fault NULL). */
static char **make_env(const char *fault, char *slot) {
  size_t n = 0;
  while (environ[n]) n++;
  char **env = calloc(n + 2, sizeof *env);
  size_t k = 0;
  for (size_t i = 0; env && i < n; i++)
    if (strncmp(environ[i], "WATVM_FAULT=", 12) != 0) env[k++] = environ[i];
  if (env && fault) {
    snprintf(slot, 256, "WATVM_FAULT=%s", fault);
    env[k++] = slot;
  }
  return env;
}

/* Start `file` with `argv` (PATH searched when `search`), in its own group
 * over three pipes. */
static int start_argv(struct tree *t, const char *file, char *const *argv,
                      bool search, const char *fault) {
  memset(t, 0, sizeof *t);
  t->pid = -1;
  t->in = t->out = t->err = -1;
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) < 0) return -1;
  if (pipe2(out, O_CLOEXEC) < 0) return -1;
  if (pipe2(err, O_CLOEXEC) < 0) return -1;
  char slot[256];
  char **env = make_env(fault, slot);
  pid_t pid = fork();
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    setpgid(0, 0);
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    close_range(3, ~0U, 0); /* Criterion's own fds must not reach the tree */
    if (search) execvpe(file, argv, env);
    else execve(file, argv, env);
    _exit(127);
  }
  free(env);
  close(in[0]);
  close(out[1]);
  close(err[1]);
  if (pid < 0) return -1;
  setpgid(pid, pid);
  t->pid = pid;
  t->in = in[1];
  t->out = out[0];
  t->err = err[0];
  fcntl(t->in, F_SETFL, O_NONBLOCK);
  fcntl(t->out, F_SETFL, O_NONBLOCK);
  fcntl(t->err, F_SETFL, O_NONBLOCK);
  t->a = edn_arena_new();
  return 0;
}

int tree_start(struct tree *t, const char *spec, bool spec_stdin,
               const char *fault) {
  char *argv[4] = {"watvm", NULL, NULL, NULL};
  if (spec && spec_stdin) argv[1] = "--spec-stdin";
  else if (spec) argv[1] = "--spec", argv[2] = (char *)spec;
  if (start_argv(t, watvm_path(), argv, false, fault) < 0) return -1;
  if (spec && spec_stdin) return tree_send(t, spec, 5000);
  return 0;
}

int tree_start_args(struct tree *t, const char *const *args) {
  char *argv[16] = {"watvm"};
  for (size_t k = 0; args[k] && k < 14; k++) argv[k + 1] = (char *)args[k];
  return start_argv(t, watvm_path(), argv, false, NULL);
}

int tree_start_cmd(struct tree *t, const char *const *cmd, const char *spec,
                   const char *fault) {
  char *argv[16];
  size_t k = 0;
  while (cmd[k] && k < 13) argv[k] = (char *)cmd[k], k++;
  argv[k++] = "--spec";
  argv[k++] = (char *)spec;
  argv[k] = NULL;
  return start_argv(t, cmd[0], argv, true, fault);
}

static void drain_err(struct tree *t) {
  char tmp[4096];
  ssize_t n;
  while (t->err >= 0 && (n = read(t->err, tmp, sizeof tmp)) > 0) {
    if (t->errlen + (size_t)n + 1 > t->errcap) {
      t->errcap = (t->errlen + (size_t)n + 1) * 2;
      t->errbuf = realloc(t->errbuf, t->errcap);
    }
    memcpy(t->errbuf + t->errlen, tmp, (size_t)n);
    t->errlen += (size_t)n;
    t->errbuf[t->errlen] = '\0';
  }
}

int tree_send(struct tree *t, const char *line, int timeout_ms) {
  int64_t deadline = now_ms() + timeout_ms;
  size_t len = strlen(line), off = 0;
  char *buf = malloc(len + 1);
  memcpy(buf, line, len);
  buf[len++] = '\n';
  while (off < len) {
    ssize_t n = write(t->in, buf + off, len - off);
    if (n > 0) {
      off += (size_t)n;
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR) break;
    struct pollfd p = {.fd = t->in, .events = POLLOUT};
    drain_err(t);
    if (poll(&p, 1, left(deadline)) <= 0) break;
  }
  free(buf);
  return off == len ? 0 : -1;
}

/* Read what stdout offers; returns bytes read, 0 at EOF, -1 if nothing. */
static ssize_t fill(struct tree *t) {
  if (t->cap - t->len < 65536) {
    t->cap = t->cap ? t->cap * 2 : 131072;
    t->buf = realloc(t->buf, t->cap);
  }
  ssize_t n = read(t->out, t->buf + t->len, t->cap - t->len);
  if (n > 0) t->len += (size_t)n;
  return n;
}

char *tree_line(struct tree *t, int timeout_ms) {
  int64_t deadline = now_ms() + timeout_ms;
  for (;;) {
    char *nl = t->len ? memchr(t->buf, '\n', t->len) : NULL;
    if (nl) {
      size_t n = (size_t)(nl - t->buf);
      char *line = malloc(n + 1);
      memcpy(line, t->buf, n);
      line[n] = '\0';
      memmove(t->buf, nl + 1, t->len - n - 1);
      t->len -= n + 1;
      return line;
    }
    if (t->out < 0) return NULL;
    ssize_t r = fill(t);
    if (r == 0) return NULL;
    if (r > 0) continue;
    struct pollfd p[2] = {{.fd = t->out, .events = POLLIN},
                          {.fd = t->err, .events = POLLIN}};
    if (poll(p, t->err >= 0 ? 2 : 1, left(deadline)) <= 0) return NULL;
    drain_err(t);
  }
}

edn_value *tree_reply(struct tree *t, int timeout_ms) {
  char *line = tree_line(t, timeout_ms);
  if (!line) return NULL;
  struct edn_limits lim = {.max_depth = 100000, .max_bytes = 1u << 30};
  struct edn_error err;
  edn_value *v = NULL;
  if (edn_read(t->a, line, strlen(line), &lim, &v, &err) != EDN_OK) v = NULL;
  free(line);
  return v;
}

int64_t get_int(const edn_value *m, const char *kw) {
  const edn_value *v = edn_map_getk(m, kw);
  return v && v->type == EDN_INT ? v->u.integer : INT64_MIN;
}

const char *get_str(const edn_value *m, const char *kw) {
  const edn_value *v = edn_map_getk(m, kw);
  return v && v->type == EDN_STRING ? v->u.text.ptr : NULL;
}

edn_value *tree_ask(struct tree *t, const char *line, int timeout_ms) {
  int64_t deadline = now_ms() + timeout_ms;
  edn_value *req = NULL;
  struct edn_error err;
  if (edn_read(t->a, line, strlen(line), NULL, &req, &err) != EDN_OK) return NULL;
  int64_t id = get_int(req, "id");
  if (tree_send(t, line, timeout_ms) < 0) return NULL;
  for (;;) {
    edn_value *r = tree_reply(t, left(deadline));
    if (!r) return NULL;
    if (get_int(r, "id") == id) return r;
  }
}

/* A pidfd to wait on, or -1: not under memcheck, which does not know
 * pidfd_open and says so in its log (scripts/memcheck sets
 * TREEPROOF_MEMCHECK and fails on any log line). */
static int open_pidfd(pid_t pid) {
  if (getenv("TREEPROOF_MEMCHECK")) return -1;
  return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* Block until `pid` exits or `deadline` passes: on its pidfd, or where
 * there is none (valgrind) for a SIGCHLD, 10 ms at most. No sleep as
 * synchronisation: the wait ends on the exit itself. */
static void await_exit(pid_t pid, int64_t deadline) {
  int pfd = open_pidfd(pid);
  if (pfd < 0) {
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    struct timespec ts = {0, 10 * 1000000};
    sigtimedwait(&chld, NULL, &ts);
    return;
  }
  struct pollfd p = {.fd = pfd, .events = POLLIN};
  poll(&p, 1, left(deadline));
  close(pfd);
}

static int wait_pid(pid_t pid, int *status, int timeout_ms) {
  int64_t deadline = now_ms() + timeout_ms;
  for (;;) {
    pid_t r = waitpid(pid, status, WNOHANG);
    if (r == pid) return 0;
    if (r < 0 && errno != EINTR) return -1;
    if (now_ms() >= deadline) return -1;
    await_exit(pid, deadline);
  }
}

int tree_wait(struct tree *t, int timeout_ms) {
  if (t->pid < 0) return t->status;
  int64_t deadline = now_ms() + timeout_ms;
  while (t->out >= 0) { /* keep its stdout drained while it ends */
    ssize_t r = fill(t);
    if (r == 0) {
      close(t->out);
      t->out = -1;
      break;
    }
    if (r > 0) continue;
    drain_err(t);
    struct pollfd p = {.fd = t->out, .events = POLLIN};
    if (poll(&p, 1, left(deadline)) <= 0) break;
  }
  if (wait_pid(t->pid, &t->status, left(deadline)) < 0) {
    kill(-t->pid, SIGKILL);
    waitpid(t->pid, &t->status, 0);
    t->pid = -1;
    drain_err(t);
    return -1;
  }
  t->pid = -1;
  drain_err(t);
  return t->status;
}

void tree_close_stdin(struct tree *t) {
  if (t->in >= 0) close(t->in);
  t->in = -1;
}

int tree_close(struct tree *t, int timeout_ms) {
  tree_close_stdin(t);
  return tree_wait(t, timeout_ms);
}

void tree_free(struct tree *t) {
  /* Sanitized nodes report on stderr; parents pass such lines up. */
  drain_err(t);
  static const char *const bad[] = {"Sanitizer", "runtime error:", "ASan",
                                    "definitely lost", "Invalid read",
                                    "Invalid write", "uninitialised",
                                    "Syscall param", "Invalid free"};
  for (size_t i = 0; t->errbuf && i < sizeof bad / sizeof *bad; i++)
    cr_expect(!strstr(t->errbuf, bad[i]),
              "no sanitizer or memcheck report from any node:\n%s", t->errbuf);
  if (t->pid > 0) {
    kill(-t->pid, SIGKILL);
    waitpid(t->pid, NULL, 0);
  }
  if (t->in >= 0) close(t->in);
  if (t->out >= 0) close(t->out);
  if (t->err >= 0) close(t->err);
  free(t->buf);
  free(t->errbuf);
  edn_arena_free(t->a);
  memset(t, 0, sizeof *t);
  t->pid = t->in = t->out = t->err = -1;
}

/* Kill every process whose parent is us (orphans handed to the subreaper
 * included); returns how many. */
static int kill_our_children(void) {
  int n = 0;
  DIR *d = opendir("/proc");
  struct dirent *de;
  pid_t me = getpid();
  while (d && (de = readdir(d))) {
    pid_t p = atoi(de->d_name);
    if (p <= 0) continue;
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", p);
    FILE *f = fopen(path, "re");
    if (!f) continue;
    if (fgets(buf, sizeof buf, f)) {
      char *rp = strrchr(buf, ')');
      int ppid = 0;
      if (rp && sscanf(rp + 2, "%*c %d", &ppid) == 1 && ppid == me) {
        kill(p, SIGKILL);
        n++;
      }
    }
    fclose(f);
  }
  if (d) closedir(d);
  return n;
}

int tree_reap_orphans(int timeout_ms) {
  int64_t deadline = now_ms() + timeout_ms;
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  for (;;) {
    pid_t r = waitpid(-1, NULL, WNOHANG);
    if (r < 0 && errno == ECHILD) return 0;
    if (r > 0) continue;
    if (now_ms() >= deadline) break;
    /* SIGCHLD is blocked (tree_subreaper): wait for the next child event. */
    int ms = left(deadline);
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    sigtimedwait(&chld, NULL, &ts);
  }
  int n = kill_our_children();
  while (waitpid(-1, NULL, 0) > 0) {
  }
  return n ? n : 1;
}

bool pid_alive(pid_t pid) {
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  FILE *f = fopen(path, "re");
  if (!f) return false;
  bool alive = false;
  if (fgets(buf, sizeof buf, f)) {
    char *rp = strrchr(buf, ')');
    alive = rp && rp[2] != 'Z' && rp[2] != 'X';
  }
  fclose(f);
  return alive;
}

bool pid_wait_gone(pid_t pid, int timeout_ms) {
  int64_t deadline = now_ms() + timeout_ms;
  for (;;) {
    waitpid(pid, NULL, WNOHANG); /* ours if it was orphaned to us */
    if (!pid_alive(pid)) return true;
    if (now_ms() >= deadline) return false;
    await_exit(pid, deadline);
  }
}

const char *route_line(char *buf, size_t cap, int64_t id, const char *path,
                       const char *req) {
  size_t n = (size_t)snprintf(buf, cap, "{:id %lld :op :route :path [",
                              (long long)id);
  const char *p = path;
  while (*p && n < cap) {
    size_t k = strcspn(p, "/");
    n += (size_t)snprintf(buf + n, cap - n, "\"%.*s\" ", (int)k, p);
    p += k;
    if (*p == '/') p++;
  }
  snprintf(buf + n, cap - n, "] :req %s}", req);
  return buf;
}

pid_t tree_node_pid(struct tree *t, const char *path, int timeout_ms) {
  static int64_t next = -1000;
  char line[4096];
  route_line(line, sizeof line, next--, path, "{:op :inspect}");
  edn_value *r = tree_ask(t, line, timeout_ms);
  int64_t pid = r ? get_int(r, "pid") : -1;
  return pid > 0 ? (pid_t)pid : -1;
}

/* Criterion's runner keeps one allocation to its end; under ASan that is
 * reported as a leak of the test executable, not of anything tested. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:libcriterion.so\n"; }
