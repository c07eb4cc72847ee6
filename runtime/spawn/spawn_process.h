/* spawn_process.h — spawn-process: one call makes a child with three private pipes.
 *
 * Modelled on libuv's uv_spawn: three pipes, a vfork-style clone (as
 * posix_spawn does it; it measures faster than fork) or fork, and in the
 * child: signal
 * dispositions reset to default (every signal, or those the caller says
 * differ) and the mask emptied, its own process group
 * (setpgid(0,0)), the pipe ends dup2'ed onto 0/1/2, every other fd closed at
 * exec, exec. A failure between fork and exec travels back as an errno over a
 * close-on-exec pipe; the parent then reaps the child and returns the error,
 * so a failed spawn never leaves a zombie or a silently missing child. */
#ifndef TREEPROOF_SPAWN_H
#define TREEPROOF_SPAWN_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

struct spawn_options {
  const char *file;   /* path to exec (no PATH search) */
  char *const *argv;  /* NULL-terminated, argv[0] included */
  char *const *envp;  /* NULL: the caller's environ */
  bool same_pgrp;     /* true: skip setpgid (the no-pgrp fault only) */
  int leak_fd;        /* >= 0: left open across exec in the child (the
                         leak-fd fault only); the caller keeps and closes
                         its own copy */
  bool fork_only;     /* use fork even where posix_spawn would do (tests
                         cover both ways with it) */
  const sigset_t *changed; /* NULL: the child sets every signal's
                         disposition to SIG_DFL (64 calls, while a cloned
                         child's parent waits); else only these, the ones
                         not SIG_DFL here (spawn_changed_signals) */
};

/* The signals whose disposition in this process is not SIG_DFL (ignored or
 * caught: SigIgn and SigCgt of /proc/self/status), into *out. 0, or -1
 * when that cannot be read. Valid until the caller changes a disposition. */
int spawn_changed_signals(sigset_t *out);

struct spawn_child {
  pid_t pid;
  int in_fd;   /* write end of the child's stdin, O_NONBLOCK|O_CLOEXEC */
  int out_fd;  /* read end of the child's stdout, O_NONBLOCK|O_CLOEXEC */
  int err_fd;  /* read end of the child's stderr, O_NONBLOCK|O_CLOEXEC */
};

/* Start a child. Returns 0 with *c filled (the caller owns and closes the
 * three fds and reaps the pid), or a negative errno: the pipe/fork failure
 * or the child's exec failure (its pid already reaped, no fd left open). */
int spawn_process(const struct spawn_options *o, struct spawn_child *c);

#endif
