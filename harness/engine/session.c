/* session.c — what all the scenarios running in this process share: the
 * interruption (SIGINT/SIGTERM write to a self-pipe that every engine's
 * poll watches, never drained, so every scenario sees it) and the registry
 * of running roots (so a scenario run beside others under -j never judges
 * or kills another's tree). The only mutable state of the harness that
 * crosses scenarios; the registry is guarded by one mutex. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

#include "internal.h"

/* ---- interruption: a self-pipe never drained, so every poll sees it ---- */

static int g_intr[2] = {-1, -1};
static volatile sig_atomic_t g_intr_sig;

static void on_signal(int sig) {
  int saved = errno;
  g_intr_sig = sig;
  if (g_intr[1] >= 0) {
    ssize_t n = write(g_intr[1], "x", 1);
    (void)n;
  }
  errno = saved;
}

static int intr_pipe(void) {
  if (g_intr[0] < 0 && pipe2(g_intr, O_CLOEXEC | O_NONBLOCK) < 0) {
    g_intr[0] = g_intr[1] = -1;
    return -1;
  }
  return 0;
}

int session_install_signal_handlers(void) {
  if (intr_pipe() < 0)
    return -1;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0)
    return -1;
  signal(SIGPIPE, SIG_IGN);
  return 0;
}

int session_interrupted(void) { return (int)g_intr_sig; }

int session_intr_fd(void) { return g_intr[0]; }

/* ---- the roots of the scenarios running in this process ---------------- */

static pthread_mutex_t g_roots_lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t g_roots[256];
static size_t g_nroots;
static int g_active;

void session_begin(void) {
  intr_pipe();
  signal(SIGPIPE, SIG_IGN); /* a dead root's stdin gives EPIPE, not death */
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  pthread_mutex_lock(&g_roots_lock);
  g_active++;
  pthread_mutex_unlock(&g_roots_lock);
}

void session_end(void) {
  pthread_mutex_lock(&g_roots_lock);
  g_active--;
  pthread_mutex_unlock(&g_roots_lock);
}

void session_root_add(pid_t pid) {
  pthread_mutex_lock(&g_roots_lock);
  if (g_nroots < sizeof g_roots / sizeof g_roots[0])
    g_roots[g_nroots++] = pid;
  pthread_mutex_unlock(&g_roots_lock);
}

void session_root_del(pid_t pid) {
  pthread_mutex_lock(&g_roots_lock);
  for (size_t i = 0; i < g_nroots; i++)
    if (g_roots[i] == pid) {
      g_roots[i] = g_roots[--g_nroots];
      break;
    }
  pthread_mutex_unlock(&g_roots_lock);
}

bool session_other_root(pid_t pid, pid_t mine) {
  bool found = false;
  pthread_mutex_lock(&g_roots_lock);
  for (size_t i = 0; i < g_nroots; i++)
    if (g_roots[i] == pid && pid != mine)
      found = true;
  pthread_mutex_unlock(&g_roots_lock);
  return found;
}

int session_active(void) {
  pthread_mutex_lock(&g_roots_lock);
  int n = g_active;
  pthread_mutex_unlock(&g_roots_lock);
  return n;
}
