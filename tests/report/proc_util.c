/* proc_util.c — see proc_util.h. */
#define _GNU_SOURCE
#include "proc_util.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void proc_become_subreaper(void) {
  cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0, "subreaper: %s",
               strerror(errno));
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* The pids whose parent is this process, into pids[0..max): /proc/N/stat
 * of every process (an adopted orphan may hang under any of our threads). */
static int my_children(pid_t *pids, int max) {
  DIR *d = opendir("/proc");
  int n = 0;
  for (struct dirent *de; d && n < max && (de = readdir(d));) {
    char path[300], buf[512];
    if (de->d_name[0] < '1' || de->d_name[0] > '9')
      continue;
    snprintf(path, sizeof path, "/proc/%s/stat", de->d_name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t len = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    if (fd >= 0)
      close(fd);
    if (len <= 0)
      continue;
    buf[len] = '\0';
    char *paren = strrchr(buf, ')'), state;
    long ppid;
    if (paren && sscanf(paren + 1, " %c %ld", &state, &ppid) == 2 &&
        ppid == getpid())
      pids[n++] = (pid_t)atol(de->d_name);
  }
  if (d)
    closedir(d);
  return n;
}

int proc_reap_all(int ms) {
  double end = now_ms() + ms;
  int found = 0;
  for (;;) {
    while (waitpid(-1, NULL, WNOHANG) > 0) /* zombies first */
      found++;
    pid_t pids[256];
    int n = my_children(pids, 256);
    if (n == 0 || now_ms() > end)
      return found;
    for (int i = 0; i < n; i++)
      kill(pids[i], SIGKILL);
    for (int i = 0; i < n; i++) /* SIGKILLed: each exits promptly */
      if (waitpid(pids[i], NULL, 0) == pids[i])
        found++;
  }
}

/* Wait up to ms for pid: 1 when it exited (reaped, *status set), 0 when
 * it is still running. A pidfd when there is one; under valgrind, which
 * knows no pidfd_open, a WNOHANG poll every 10 ms. */
static int wait_bounded(pid_t pid, int ms, int *status) {
  int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (pfd >= 0) {
    struct pollfd p = {pfd, POLLIN, 0};
    int n;
    while ((n = poll(&p, 1, ms)) < 0 && errno == EINTR) {
    }
    close(pfd);
    if (n == 0)
      return 0;
    while (waitpid(pid, status, 0) < 0 && errno == EINTR) {
    }
    return 1;
  }
  double end = now_ms() + ms;
  while (waitpid(pid, status, WNOHANG) == 0) {
    if (now_ms() > end)
      return 0;
    struct timespec tick = {0, 10 * 1000 * 1000};
    nanosleep(&tick, NULL);
  }
  return 1;
}

static void child(const struct cmd *c) {
  if (c->own_group)
    setpgid(0, 0);
  int fd = open(c->out ? c->out : "/dev/null",
                O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (fd < 0 || null < 0 || dup2(null, 0) < 0 || dup2(fd, 1) < 0 ||
      dup2(null, 2) < 0)
    _exit(126);
  for (char *const *e = c->env; e && *e; e++)
    putenv(*e);
  execvp(c->argv[0], c->argv);
  _exit(127);
}

int proc_run(const struct cmd *c) {
  fflush(NULL);
  pid_t pid = fork();
  cr_assert(pid >= 0, "fork: %s", strerror(errno));
  if (pid == 0)
    child(c);
  if (c->own_group)
    setpgid(pid, pid); /* no race with the child's own setpgid */
  int status = 0, n = wait_bounded(pid, c->timeout_ms, &status);
  if (n == 0) {
    kill(c->own_group ? -pid : pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  if (c->own_group)
    kill(-pid, SIGKILL); /* helpers still in the group */
  proc_reap_all(10000);
  if (n == 0)
    return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

char *proc_tmpdir(void) {
  char *d = strdup("/tmp/treeproof-report-XXXXXX");
  cr_assert(d && mkdtemp(d), "mkdtemp: %s", strerror(errno));
  return d;
}

static int rm_one(const char *path, const struct stat *st, int flag,
                  struct FTW *ftw) {
  (void)st, (void)ftw;
  if (flag == FTW_DP)
    rmdir(path);
  else
    unlink(path);
  return 0;
}

void proc_rmtree(const char *dir) {
  if (dir)
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *proc_slurp(const char *path) {
  FILE *f = fopen(path, "re");
  if (!f)
    return NULL;
  char *buf = NULL;
  size_t cap = 0, len = 0;
  for (;;) {
    if (len + 65536 + 1 > cap) {
      cap = (len + 65536 + 1) * 2;
      char *b = realloc(buf, cap);
      if (!b)
        break;
      buf = b;
    }
    size_t n = fread(buf + len, 1, cap - len - 1, f);
    len += n;
    if (n == 0)
      break;
  }
  fclose(f);
  if (buf)
    buf[len] = '\0';
  return buf;
}

char *proc_which(const char *name) {
  if (strchr(name, '/'))
    return access(name, X_OK) == 0 ? strdup(name) : NULL;
  const char *path = getenv("PATH");
  char *copy = strdup(path ? path : "/usr/bin:/bin"), *save = NULL;
  char *found = NULL;
  for (char *d = strtok_r(copy, ":", &save); d && !found;
       d = strtok_r(NULL, ":", &save)) {
    char *p = NULL;
    if (asprintf(&p, "%s/%s", d, name) >= 0 && access(p, X_OK) == 0)
      found = p;
    else
      free(p);
  }
  free(copy);
  return found;
}
