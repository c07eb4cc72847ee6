/* launch.c — starting the root the way a job-control shell starts one stage
 * of `echo REQ | watvm --spec ...`: three pipes on its 0/1/2, its own
 * process group, nothing else inherited, default signal dispositions and an
 * empty mask. An exec failure comes back through a close-on-exec pipe (as
 * libuv does it) and leaves no zombie. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <linux/close_range.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"

extern char **environ;

#define SPEC_ARG_MAX (64 * 1024)

static void close_fd(int *fd) {
  if (*fd >= 0) {
    int saved = errno;
    close(*fd);
    errno = saved;
    *fd = -1;
  }
}

/* After fork: report errno on `errfd` and die. Async-signal-safe only. */
static void child_fail(int errfd) {
  int e = errno;
  while (write(errfd, &e, sizeof e) < 0 && errno == EINTR) {
  }
  _exit(127);
}

/* Move `fd` out of 0..2 so the dup2s below cannot clobber it. */
static int lift(int fd) {
  return fd > 2 ? fd : fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

static void child_exec(int in, int out, int err, int errfd, pid_t parent,
                       char **argv, char **envp) {
  if (setpgid(0, 0) < 0)
    child_fail(errfd);
  /* The harness dying by SIGKILL must not orphan a tree either. */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent)
    _exit(127);
  if ((in = lift(in)) < 0 || (out = lift(out)) < 0 || (err = lift(err)) < 0 ||
      (errfd = lift(errfd)) < 0)
    child_fail(errfd);
  if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
    child_fail(errfd);
  for (int sig = 1; sig < NSIG; sig++)
    if (sig != SIGKILL && sig != SIGSTOP)
      signal(sig, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  /* Whatever the harness process holds (a report file, another scenario's
   * pipes) is not the root's business. errfd is close-on-exec already. */
  if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
    for (int fd = 3; fd < 1024; fd++)
      fcntl(fd, F_SETFD, FD_CLOEXEC);
  if (strchr(argv[0], '/'))
    execve(argv[0], argv, envp);
  else
    execvpe(argv[0], argv, envp);
  child_fail(errfd);
}

/* environ, with WATVM_TRACE=dir when tracing. Freed with free(). */
static char **child_env(const char *trace_dir, char **trace_var) {
  size_t n = 0;
  while (environ[n])
    n++;
  char **envp = calloc(n + 2, sizeof *envp);
  if (!envp)
    return NULL;
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (!trace_dir || strncmp(environ[i], "WATVM_TRACE=", 12))
      envp[k++] = environ[i];
  if (trace_dir) {
    if (asprintf(trace_var, "WATVM_TRACE=%s", trace_dir) < 0) {
      free(envp);
      return NULL;
    }
    envp[k++] = *trace_var;
  }
  return envp;
}

static char **child_argv(char **node_argv, const char *spec, bool on_stdin) {
  size_t n = 0;
  while (node_argv[n])
    n++;
  char **argv = calloc(n + 3, sizeof *argv);
  if (!argv)
    return NULL;
  memcpy(argv, node_argv, n * sizeof *argv);
  argv[n++] = on_stdin ? "--spec-stdin" : "--spec";
  if (!on_stdin)
    argv[n++] = (char *)spec;
  return argv;
}

static unsigned long long fd_ino(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 ? (unsigned long long)st.st_ino : 0;
}

/* Pipes, fork, exec: the root's ends of its three pipes into p[0..2]
 * (stdin's write end, stdout's and stderr's read ends); its pid, or -1
 * with a message in err and nothing left open or unreaped. */
static pid_t start_root(char **argv, char **envp, int p[3], char *err,
                        size_t errlen) {
  int in[2] = {-1, -1}, out[2] = {-1, -1}, er[2] = {-1, -1}, ex[2] = {-1, -1};
  pid_t pid = -1;
  if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 ||
      pipe2(er, O_CLOEXEC) < 0 || pipe2(ex, O_CLOEXEC) < 0) {
    snprintf(err, errlen, "unable to create pipes: %s", strerror(errno));
    goto done;
  }
  pid_t parent = getpid();
  pid = fork();
  if (pid < 0) {
    snprintf(err, errlen, "unable to fork: %s", strerror(errno));
    goto done;
  }
  if (pid == 0)
    child_exec(in[0], out[1], er[1], ex[1], parent, argv, envp);
  /* Both sides set the group, as shells do, so neither races the other. */
  setpgid(pid, pid);
  close_fd(&ex[1]);
  int child_errno = 0;
  ssize_t n;
  while ((n = read(ex[0], &child_errno, sizeof child_errno)) < 0 &&
         errno == EINTR) {
  }
  if (n > 0) {
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    snprintf(err, errlen, "unable to start the node command %s: %s",
             argv[0], strerror(child_errno));
    pid = -1;
    goto done;
  }
  p[0] = in[1];
  p[1] = out[0];
  p[2] = er[0];
  in[1] = out[0] = er[0] = -1;
done:
  for (int i = 0; i < 2; i++) {
    close_fd(&in[i]);
    close_fd(&out[i]);
    close_fd(&er[i]);
    close_fd(&ex[i]);
  }
  return pid;
}

/* The engine takes the root: its pid and start time, its pipes made
 * non-blocking, their inodes (the isolation auditor matches them). */
static void adopt_root(struct engine *e, pid_t pid, const int p[3]) {
  e->root_pid = pid;
  struct proc_info pi;
  if (proctree_read(pid, &pi) == 0)
    e->root_start = pi.start;
  e->in_fd = p[0];
  e->out_fd = p[1];
  e->err_fd = p[2];
  fcntl(e->in_fd, F_SETFL, fcntl(e->in_fd, F_GETFL) | O_NONBLOCK);
  fcntl(e->out_fd, F_SETFL, fcntl(e->out_fd, F_GETFL) | O_NONBLOCK);
  fcntl(e->err_fd, F_SETFL, fcntl(e->err_fd, F_GETFL) | O_NONBLOCK);
  e->in_ino = fd_ino(e->in_fd);
  e->out_ino = fd_ino(e->out_fd);
  e->err_ino = fd_ino(e->err_fd);
  engine_seen(e, pid, e->root_start);
}

int launch_root(struct engine *e, const char *spec, size_t speclen, char *err,
                size_t errlen) {
  if (!e->o->node_argv || !e->o->node_argv[0]) {
    snprintf(err, errlen, "no node command");
    return -1;
  }
  bool on_stdin = speclen > SPEC_ARG_MAX;
  char *trace_var = NULL;
  char **argv = child_argv(e->o->node_argv, spec, on_stdin);
  char **envp = child_env(e->o->trace_dir, &trace_var);
  int p[3] = {-1, -1, -1}, rc = -1;
  pid_t pid = -1;
  if (!argv || !envp)
    snprintf(err, errlen, "out of memory");
  else
    pid = start_root(argv, envp, p, err, errlen);
  free(argv);
  free(envp);
  free(trace_var);
  if (pid < 0)
    return rc;
  adopt_root(e, pid, p);
  rc = 0;
  if (on_stdin) {
    /* the spec is the first line on its stdin */
    double deadline = engine_now_ms() + (double)e->s->timeout_ms;
    if (engine_write(e, spec, speclen, deadline) < 0 ||
        engine_write(e, "\n", 1, deadline) < 0) {
      snprintf(err, errlen, "unable to write the spec to the root's stdin");
      rc = -2; /* the root runs: the caller's cleanup takes it down */
    }
  }
  return rc;
}
