/* tree_util.h — driving a watvm tree from a test: start the root with a spec
 * over three pipes (in its own process group, as a shell would), send lines,
 * read replies with poll() timeouts (never sleeps), and prove at the end that
 * no process of the tree is left (the test process is a child subreaper, so
 * every orphan comes back to it) and no fd was leaked. */
#ifndef TREEPROOF_TREE_UTIL_H
#define TREEPROOF_TREE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "edn.h"

struct tree {
  pid_t pid;          /* the root, or -1 once reaped */
  int in, out, err;   /* our ends, -1 when closed */
  char *buf;          /* stdout bytes not yet handed out */
  size_t len, cap;
  char *errbuf;       /* everything read from stderr */
  size_t errlen, errcap;
  edn_arena *a;       /* replies parsed by tree_reply live here */
  int status;         /* the root's wait status once reaped */
};

/* The watvm under test ($WATVM, else the build's). */
const char *watvm_path(void);
/* Become a child subreaper; call in each test's init. */
void tree_subreaper(void);
/* Open fds of this process. */
int fd_count(void);

/* Start `watvm --spec SPEC` (SPEC NULL: no argument; spec_stdin: the spec as
 * the first stdin line instead), with WATVM_FAULT=fault if fault != NULL.
 * Returns 0 or -1. */
int tree_start(struct tree *t, const char *spec, bool spec_stdin,
               const char *fault);
/* Start watvm with the arguments `args` (a NULL-terminated list of at most
 * 14, e.g. {"--probe", NULL}) and no spec. Returns 0 or -1. */
int tree_start_args(struct tree *t, const char *const *args);
/* As tree_start, but the node is the command `cmd` (a NULL-terminated argv
 * of at most 13 words, cmd[0] searched in PATH) followed by --spec SPEC: the
 * Python node, say. */
int tree_start_cmd(struct tree *t, const char *const *cmd, const char *spec,
                   const char *fault);
/* Write a line (a '\n' is added); waits for room at most timeout_ms.
 * Returns 0, or -1 on timeout or error. */
int tree_send(struct tree *t, const char *line, int timeout_ms);
/* The next reply line (malloc'ed, no '\n'), or NULL on timeout or EOF. */
char *tree_line(struct tree *t, int timeout_ms);
/* The next reply parsed into t->a, or NULL. */
edn_value *tree_reply(struct tree *t, int timeout_ms);
/* Send `line` and return the reply with the :id of the line's request. */
edn_value *tree_ask(struct tree *t, const char *line, int timeout_ms);
/* Close the root's stdin (its EOF), not waiting for anything. */
void tree_close_stdin(struct tree *t);
/* Close the root's stdin and wait for it to exit; returns its wait status,
 * or -1 on timeout (then it is killed). Drains its stdout meanwhile. */
int tree_close(struct tree *t, int timeout_ms);
/* Wait for the root to end, without closing stdin; status or -1. */
int tree_wait(struct tree *t, int timeout_ms);
/* Free what the tree holds; kills the root's group if it still runs. */
void tree_free(struct tree *t);
/* Reap every process handed to us as subreaper until none is left,
 * for at most timeout_ms. Returns how many were still there at the end
 * (killed then), 0 when the tree left nothing. */
int tree_reap_orphans(int timeout_ms);
/* True when pid exists (and is not a zombie). */
bool pid_alive(pid_t pid);
/* Wait until pid no longer exists (reaping it if it is ours). */
bool pid_wait_gone(pid_t pid, int timeout_ms);

/* Helpers over parsed values. */
int64_t get_int(const edn_value *m, const char *kw);
const char *get_str(const edn_value *m, const char *kw);
/* The :pid of the node at `path` ("" = root, "L2a/L3b"), or -1. */
pid_t tree_node_pid(struct tree *t, const char *path, int timeout_ms);
/* A route request to path ("L2a/L3b") of `req`, with id, in buf. */
const char *route_line(char *buf, size_t cap, int64_t id, const char *path,
                       const char *req);

int64_t now_ms(void);

#endif
