/* raw_node.c — the raw C baseline the benchmarks compare watvm with: the
 * least a program can do for the same shape. `raw_node FANOUT DEPTH` spawns
 * FANOUT copies of itself one level down (three pipes, dup2, its own process
 * group, every other fd closed), then relays lines: each line read from
 * stdin goes to every child and one line from each comes back, joined; a
 * leaf echoes the line. EOF on stdin closes the children's stdin, reaps them
 * and exits. Blocking I/O, no parsing: nothing a real node could skip.
 *
 * Built twice (bench/tree/CMakeLists.txt): raw_node starts each child with
 * fork() (the parent runs on at once, the child execs in parallel), and
 * raw_node_spawn, compiled with -DRAW_NODE_SPAWN, with posix_spawn() —
 * glibc's clone(CLONE_VM|CLONE_VFORK), the way watvm spawns
 * (runtime/spawn/spawn.c): no page-table copy, the parent waits for each
 * exec. Same pipes, dup2s, process group and fds otherwise. tree_bench
 * compares watvm's spawn-bound figures with the faster of the two. */
#define _GNU_SOURCE
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

struct child {
  pid_t pid;
  FILE *in, *out;
};

static void die(const char *what) {
  perror(what);
  exit(111);
}

extern char **environ;

static struct child spawn(const char *self, int fanout, int depth) {
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC))
    die("raw_node: pipe2");
#ifdef RAW_NODE_SPAWN
  /* The same child as below: its own group, the three pipe ends on 0..2
   * (dup2 clears their close-on-exec), every other fd closed. */
  char f[16], d[16];
  snprintf(f, sizeof f, "%d", fanout);
  snprintf(d, sizeof d, "%d", depth);
  char *argv[] = {(char *)self, f, d, NULL};
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  if (posix_spawn_file_actions_init(&fa) || posix_spawnattr_init(&at) ||
      posix_spawn_file_actions_adddup2(&fa, in[0], 0) ||
      posix_spawn_file_actions_adddup2(&fa, out[1], 1) ||
      posix_spawn_file_actions_adddup2(&fa, err[1], 2) ||
      posix_spawn_file_actions_addclosefrom_np(&fa, 3) ||
      posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP) ||
      posix_spawnattr_setpgroup(&at, 0))
    die("raw_node: posix_spawn setup");
  pid_t pid;
  int e = posix_spawn(&pid, self, &fa, &at, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&at);
  if (e) {
    errno = e;
    die("raw_node: posix_spawn");
  }
#else
  pid_t pid = fork();
  if (pid < 0) die("raw_node: fork");
  if (pid == 0) {
    char f[16], d[16];
    snprintf(f, sizeof f, "%d", fanout);
    snprintf(d, sizeof d, "%d", depth);
    setpgid(0, 0);
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    close_range(3, ~0U, 0);
    execl(self, self, f, d, (char *)NULL);
    _exit(127);
  }
#endif
  close(in[0]);
  close(out[1]);
  close(err[1]);
  close(err[0]); /* the baseline has no crash reports to read */
  struct child c = {pid, fdopen(in[1], "w"), fdopen(out[0], "r")};
  if (!c.in || !c.out) die("raw_node: fdopen");
  return c;
}

int main(int argc, char **argv) {
  int fanout = argc > 1 ? atoi(argv[1]) : 0;
  int depth = argc > 2 ? atoi(argv[2]) : 0;
  signal(SIGPIPE, SIG_IGN);
  int n = depth > 0 ? fanout : 0;
  struct child *kids = calloc((size_t)n + 1, sizeof *kids);
  for (int i = 0; i < n; i++) kids[i] = spawn("/proc/self/exe", fanout, depth - 1);

  char *line = NULL, *reply = NULL;
  size_t cap = 0, rcap = 0;
  ssize_t len;
  while ((len = getline(&line, &cap, stdin)) > 0) {
    if (n == 0) {
      fwrite(line, 1, (size_t)len, stdout);
      if (fflush(stdout)) break;
      continue;
    }
    for (int i = 0; i < n; i++) {
      fwrite(line, 1, (size_t)len, kids[i].in);
      fflush(kids[i].in);
    }
    fputc('[', stdout);
    for (int i = 0; i < n; i++) {
      ssize_t r = getline(&reply, &rcap, kids[i].out);
      if (r > 0) fwrite(reply, 1, (size_t)r - 1, stdout);
    }
    fputs("]\n", stdout);
    if (fflush(stdout)) break;
  }
  for (int i = 0; i < n; i++) fclose(kids[i].in);
  for (int i = 0; i < n; i++) waitpid(kids[i].pid, NULL, 0);
  return 0;
}
