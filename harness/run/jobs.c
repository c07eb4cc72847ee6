/* jobs.c — the parallel runner behind `treeproof run -j N`: forks one worker
 * per scenario (at most N alive), collects each worker's EDN result from its
 * pipe, watches a generous deadline per worker, stops everything on
 * SIGINT/SIGTERM/SIGHUP (taken through a signalfd), and as a subreaper
 * kills and reaps anything a worker left behind. */
#define _GNU_SOURCE
#include "jobs.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "result_wire.h"
#include "write_all.h"

struct worker {
  pid_t pid;                  /* 0 when the slot is free */
  int fd;                     /* read end of the result pipe; we close it */
  size_t index;
  struct edn_buf buf;
  double start_ms, deadline_ms;
  bool timed_out;
};

struct pool {
  struct scenario *const *ss;
  size_t n, next, finished;
  const struct jobs_opts *o;
  struct scenario_result *rs;
  struct worker *w;           /* o->jobs slots */
  int sfd;                    /* signalfd; we close it */
  sigset_t old_mask;
  bool interrupted;
  double stop_ms;             /* when SIGTERM went to workers, or 0 */
};

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* How long a worker may take before it is presumed stuck: every step's and
 * every audit's timeout, every wait, plus a minute. */
static double budget_ms(const struct scenario *s) {
  double ms = 60000.0 + (double)s->timeout_ms * (double)(PROP_COUNT + 2);
  for (size_t i = 0; i < s->nsteps; i++)
    ms += (double)s->steps[i].timeout_ms + (double)s->steps[i].wait_ms;
  return ms;
}


/* In the worker, after fork: run one scenario, write its result, exit. */
static void worker_main(struct pool *p, size_t index, int out) {
  for (int k = 0; k < p->o->jobs; k++)
    if (p->w[k].pid > 0)
      close(p->w[k].fd);
  close(p->sfd);
  sigprocmask(SIG_SETMASK, &p->old_mask, NULL);
  /* the pool's SIGTERM makes run_scenario tear its own tree down */
  session_install_signal_handlers();
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  struct run_opts ro = *p->o->run;
  if (p->o->jobs > 1)
    ro.progress = NULL;
  if (p->o->trace_dirs)
    ro.trace_dir = p->o->trace_dirs[index];
  struct scenario_result r;
  memset(&r, 0, sizeof r);
  r.scenario = p->ss[index];
  r.failed_step = -1;
  if (run_scenario(p->ss[index], &ro, &r) < 0)
    r.steps.verdict = VERDICT_FAIL;
  char *text = result_to_edn(&r);
  if (text)
    (void)write_all(out, text, strlen(text)); /* the parent reads what came */
  /* exit, not _exit: stdio was flushed before the fork, and a coverage
   * build needs its atexit dump from the worker too */
  exit(text ? 0 : 3);
}

static int launch(struct pool *p, struct worker *w) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0)
    return -1;
  fflush(NULL); /* no buffered output duplicated by the fork */
  size_t index = p->next;
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return -1;
  }
  if (pid == 0) {
    close(fds[0]);
    worker_main(p, index, fds[1]);
  }
  close(fds[1]);
  memset(w, 0, sizeof *w);
  w->pid = pid;
  w->fd = fds[0];
  w->index = index;
  w->start_ms = now_ms();
  w->deadline_ms = w->start_ms + budget_ms(p->ss[index]);
  p->next++;
  return 0;
}

static void fail_result(struct scenario_result *r, const char *fmt, int arg) {
  char msg[200];
  snprintf(msg, sizeof msg, fmt, arg);
  r->steps.verdict = VERDICT_FAIL;
  r->steps.summary = strdup(msg);
}

/* The worker's pipe is at EOF: reap it and take its result. */
static void finish(struct pool *p, struct worker *w) {
  int status = 0;
  while (waitpid(w->pid, &status, 0) < 0 && errno == EINTR) {
  }
  close(w->fd);
  struct scenario_result *r = &p->rs[w->index];
  memset(r, 0, sizeof *r);
  r->scenario = p->ss[w->index];
  r->failed_step = -1;
  bool got = w->buf.len > 0 &&
             result_from_edn(w->buf.ptr, w->buf.len, r) == 0;
  if (!got) {
    r->ms = now_ms() - w->start_ms;
    if (p->stop_ms > 0)
      fail_result(r, "interrupted: the run was stopped by a signal", 0);
    else if (w->timed_out)
      fail_result(r, "harness worker stuck: killed after %d ms", (int)r->ms);
    else if (WIFSIGNALED(status))
      fail_result(r, "harness worker died of signal %d", WTERMSIG(status));
    else
      fail_result(r, "harness worker exited %d without a result",
                  WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  }
  edn_buf_free(&w->buf);
  w->pid = 0;
  p->finished++;
  if (p->o->progress)
    fputs("\r\033[K", p->o->progress);
  if (p->o->done)
    p->o->done(p->o->ctx, w->index, r);
}

/* One read per wakeup (the pipe is blocking): data, or EOF = finished. */
static void drain(struct pool *p, struct worker *w) {
  char chunk[65536];
  ssize_t n;
  while ((n = read(w->fd, chunk, sizeof chunk)) < 0 && errno == EINTR) {
  }
  if (n > 0)
    edn_buf_append(&w->buf, chunk, (size_t)n);
  else
    finish(p, w);
}

static void on_signal(struct pool *p) {
  struct signalfd_siginfo si;
  while (read(p->sfd, &si, sizeof si) == sizeof si)
    p->interrupted = true;
  if (p->interrupted && p->stop_ms == 0) {
    p->stop_ms = now_ms();
    for (int k = 0; k < p->o->jobs; k++)
      if (p->w[k].pid > 0)
        kill(p->w[k].pid, SIGTERM);
  }
}

static void check_deadlines(struct pool *p) {
  double t = now_ms();
  for (int k = 0; k < p->o->jobs; k++) {
    struct worker *w = &p->w[k];
    bool late = t > w->deadline_ms || (p->stop_ms > 0 && t > p->stop_ms + 5000);
    if (w->pid > 0 && late && !w->timed_out) {
      w->timed_out = true;
      kill(w->pid, SIGKILL);
    }
  }
}

static void draw_progress(struct pool *p) {
  FILE *f = p->o->progress;
  if (!f)
    return;
  fprintf(f, "\r\033[K[%zu/%zu] running:", p->finished, p->n);
  for (int k = 0; k < p->o->jobs; k++)
    if (p->w[k].pid > 0)
      fprintf(f, " %s (%.0fs)", p->ss[p->w[k].index]->name,
              (now_ms() - p->w[k].start_ms) / 1000.0);
  fflush(f);
}

/* The next scenario could not get a worker: it fails, and says why. */
static void cannot_launch(struct pool *p) {
  size_t i = p->next++;
  fail_result(&p->rs[i], "cannot start a harness worker (errno %d)", errno);
  p->finished++;
  if (p->o->done)
    p->o->done(p->o->ctx, i, &p->rs[i]);
}

static void loop(struct pool *p) {
  int jobs = p->o->jobs;
  struct pollfd *pfd = calloc((size_t)jobs + 1, sizeof *pfd);
  if (!pfd)
    return;
  for (;;) {
    int active = 0;
    for (int k = 0; k < jobs; k++) {
      if (p->w[k].pid == 0 && p->next < p->n && !p->interrupted &&
          launch(p, &p->w[k]) < 0)
        cannot_launch(p);
      active += p->w[k].pid > 0;
    }
    if (active == 0 && (p->next >= p->n || p->interrupted))
      break;
    pfd[0] = (struct pollfd){.fd = p->sfd, .events = POLLIN};
    for (int k = 0; k < jobs; k++)
      pfd[k + 1] = (struct pollfd){.fd = p->w[k].pid > 0 ? p->w[k].fd : -1,
                                   .events = POLLIN};
    draw_progress(p);
    int rc = poll(pfd, (nfds_t)jobs + 1, 250);
    if (rc < 0 && errno != EINTR)
      break;
    if (rc > 0 && (pfd[0].revents & POLLIN))
      on_signal(p);
    for (int k = 0; k < jobs; k++)
      if (rc > 0 && p->w[k].pid > 0 && pfd[k + 1].revents)
        drain(p, &p->w[k]);
    check_deadlines(p);
  }
  if (p->o->progress)
    fputs("\r\033[K", p->o->progress), fflush(p->o->progress);
  free(pfd);
}

/* Children we did not start (orphans of a worker's tree): kill, reap. */
static size_t sweep(void) {
  size_t killed = 0;
  for (int round = 0; round < 100; round++) {
    int status;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid > 0)
      continue;
    if (pid < 0 && errno == ECHILD)
      return killed;
    /* live children remain: find them through /proc and kill them */
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", getpid(), getpid());
    FILE *f = fopen(path, "re");
    long child;
    while (f && fscanf(f, "%ld", &child) == 1) {
      kill(-(pid_t)child, SIGKILL);
      kill((pid_t)child, SIGKILL);
      killed++;
    }
    if (f)
      fclose(f);
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL); /* give SIGKILL time to land before reaping */
  }
  return killed;
}

int jobs_run(struct scenario *const *ss, size_t n, const struct jobs_opts *o,
             struct scenario_result *rs, size_t *leftovers) {
  struct pool p = {.ss = ss, .n = n, .o = o, .rs = rs, .sfd = -1};
  for (size_t i = 0; i < n; i++) {
    memset(&rs[i], 0, sizeof rs[i]);
    rs[i].scenario = ss[i];
    rs[i].failed_step = -1;
  }
  *leftovers = 0;
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  sigprocmask(SIG_BLOCK, &set, &p.old_mask);
  p.sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  p.w = calloc((size_t)o->jobs, sizeof *p.w);
  if (p.w && p.sfd >= 0)
    loop(&p);
  for (size_t i = p.next; i < n; i++)
    if (!rs[i].steps.summary)
      rs[i].steps.summary = strdup("not run: interrupted");
  *leftovers = sweep();
  free(p.w);
  if (p.sfd >= 0)
    close(p.sfd);
  sigprocmask(SIG_SETMASK, &p.old_mask, NULL);
  return p.interrupted ? 1 : 0;
}
