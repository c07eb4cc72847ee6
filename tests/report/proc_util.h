/* proc_util.h — what the report suites need to run programs from a test:
 * a bounded run of a command (in its own process group when asked, its
 * stdout into a file), cleanup of everything such a run may leave behind
 * (the test is a child subreaper, so daemonised helpers come back to it),
 * temporary directories removed recursively, and whole files read. */
#ifndef TREEPROOF_TEST_PROC_UTIL_H
#define TREEPROOF_TEST_PROC_UTIL_H

#include <stdbool.h>
#include <stddef.h>

struct cmd {
  char *const *argv;        /* argv[0] is looked up on PATH */
  char *const *env;         /* extra "NAME=VALUE"s, NULL-terminated; or NULL */
  const char *out;          /* stdout into this file, or NULL for /dev/null */
  bool own_group;           /* setpgid(0, 0): the whole group is killed at
                               the end (chromium's helpers) */
  int timeout_ms;
};

/* Make this test process a child subreaper (call first). */
void proc_become_subreaper(void);
/* Run c and wait up to its timeout. Returns the exit status (0..255), 128+N
 * for a signal, or -1 when it was killed for taking too long. Its process
 * group (own_group) is SIGKILLed afterwards in every case, and every
 * process that ended up as our child is killed and reaped. */
int proc_run(const struct cmd *c);
/* Kill and reap every child of this process (orphans adopted as a
 * subreaper included), for up to `ms`. Returns how many there were. */
int proc_reap_all(int ms);
/* A new directory /tmp/treeproof-report-XXXXXX (malloc'ed path). */
char *proc_tmpdir(void);
/* rm -rf dir (no following symlinks). */
void proc_rmtree(const char *dir);
/* The whole file as a malloc'ed NUL-terminated string, or NULL. */
char *proc_slurp(const char *path);
/* A program on PATH (or the absolute path given): its path, malloc'ed, or
 * NULL when absent. */
char *proc_which(const char *name);

#endif
