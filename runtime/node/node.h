/* node.h — a watvm node: its state, its children, its requests in flight.
 *
 * The one public entry is node_run(); the rest of this header is shared by
 * the files that make up a node (node.c: lifecycle and signals; child.c: one
 * parent–child edge; req.c: requests and replies; ops.c: the op table;
 * proc.c: /proc readings; trace.c: WATVM_TRACE; fault.c: WATVM_FAULT) and by
 * the unit tests. Nothing here prints but the node's own wire output and its
 * panic line; main decides exit codes. */
#ifndef TREEPROOF_NODE_H
#define TREEPROOF_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "edn.h"
#include "idmap.h"
#include "linebuf.h"
#include "loop.h"
#include "outq.h"
#include "spec.h"

/* ---- Public entry ----------------------------------------------------- */

struct node_options {
  const char *spec;   /* the spec's EDN text, or NULL */
  size_t spec_len;
  bool spec_stdin;    /* the spec is the first line on stdin */
};

enum { NODE_EXIT_OK = 0, NODE_EXIT_USAGE = 64, NODE_EXIT_PANIC = 70,
       NODE_EXIT_SYSTEM = 71 };

/* Run a node until it ends. Returns its exit status: 0, 64 with a message in
 * why (bad spec), 70 after a panic, or 71 with a message in why when the
 * node could not be set up (no epoll, no signalfd, ...). */
int node_run(const struct node_options *o, char *why, size_t whylen);

/* ---- Fault switches (fault.c) ----------------------------------------- */

struct node;

enum {
  FAULT_LEAK_FD = 1u << 0,
  FAULT_NO_PGRP = 1u << 1,
  FAULT_UNBOUNDED_QUEUE = 1u << 2,
  FAULT_IGNORE_EOF = 1u << 3,
  FAULT_SWALLOW_PANIC = 1u << 4,
  /* Test-only hostile children (not contract switches): */
  FAULT_BABBLE = 1u << 5,       /* garbage lines on stdout among replies */
  FAULT_STDERR_FLOOD = 1u << 6, /* megabytes on stderr before serving */
  FAULT_STDOUT_FLOOD = 1u << 7, /* a 64 MiB line on stdout before serving */
  /* Process-tree negative controls: wrong trees the harness must notice. */
  FAULT_SKIP_CHILD = 1u << 8,   /* the spec's last child is never started */
  FAULT_RESTART_BARE = 1u << 9, /* :restart respawns a child from its name
                                   alone: its subtree never comes back */
  FAULT_ZOMBIE = 1u << 10,      /* one helper forked at start, never reaped */
  FAULT_NO_RESTART_LIMIT = 1u << 11, /* :max-restarts ignored: restarts forever */
};
/* The switches named in a comma-separated list (WATVM_FAULT); unknown names
 * are ignored. NULL → 0. */
unsigned fault_parse(const char *list);
/* The switches of `list` that apply to the node named `name`: all of them
 * when `only` (WATVM_FAULT_NODE, a comma-separated list of node names) is
 * NULL or empty, else only if `name` is in it. */
unsigned fault_select(const char *list, const char *only, const char *name);
/* At start-up, after the spec is loaded: the stderr flood, the first
 * babble burst, the zombie helper (no-op without those switches). */
void fault_start(struct node *n);
/* After a reply line was queued on n->out: one garbage line (babble). */
void fault_babble(struct node *n);

/* ---- Internals shared by the node's files ------------------------------ */

#define NODE_LINE_MAX (1u << 20)        /* a request line */
#define NODE_CHILD_LINE_MAX (256u << 20) /* a reply or report from a child */
#define NODE_CHILD_IDLE_LINE_MAX (1u << 20) /* a stdout line of a child owed nothing */
#define NODE_SPEC_LINE_MAX (64u << 20)  /* --spec-stdin's first line */
#define NODE_CHILD_ERR_LINE_MAX (1u << 20) /* a line on a child's stderr */
#define NODE_EXITS_KEPT 16

enum node_state {
  NODE_RUNNING,     /* serving */
  NODE_TERMINATING, /* SIGTERM/SIGINT: children signalled, grace running */
  NODE_PANICKING,   /* panic line written; taking the children down */
};

struct node;
struct req;

/* What a parent drops from one stream of a child (noise.c): lines that are
 * no reply on stdout, stderr beyond the pass-on budget, overlong lines. */
enum noise_stream { NOISE_STDOUT = 0, NOISE_STDERR = 1 };
struct noise {
  int64_t win_ms;       /* start of the current one-second window */
  unsigned notes;       /* notes written in it */
  uint64_t lines, bytes; /* dropped in it without a note of their own */
  size_t passed;        /* stderr bytes passed on in it */
};

struct child {
  struct node *n;
  char *name;            /* malloc'ed */
  const edn_value *spec; /* in n->spec_arena */
  bool alive;            /* spawned and not yet reaped */
  pid_t pid;
  int in_fd, out_fd, err_fd; /* parent-side ends, -1 when closed; closed by
                                child_close_fds() when the child is reaped */
  bool in_closing;       /* close in_fd once inq has drained */
  struct linebuf out_lb, err_lb;
  struct outq inq;       /* toward the child's stdin */
  struct idmap pending;  /* id we sent → who waits */
  int64_t next_id;
  char *panic;           /* last {:wat/panic M} seen: M printed, or NULL */
  int64_t *restart_ms;   /* times of recent restarts, malloc'ed */
  size_t nrestart;
  struct noise noise[2]; /* by enum noise_stream; reset at each spawn */
};

struct req {
  struct node *n;
  edn_arena *a;          /* shared with sub-requests; owned by the top one */
  bool top;              /* answers a line from stdin */
  edn_value *id;         /* top: the sender's :id (in a) */
  struct req *parent;    /* sub: the fan waiting for this reply */
  int pslot;
  edn_value **slots;     /* fan: [0] own result, [1..] children; malloc'ed */
  size_t nslots, remaining;
  struct loop_timer timer; /* :sleep */
  int64_t ms;
  struct req *prev, *next; /* n->reqs: every request not yet answered */
};

struct node {
  struct spec spec;
  edn_arena *spec_arena;  /* the spec and every :spawn'ed spec */
  struct loop *loop;
  int sig_fd;             /* signalfd, closed by node cleanup */
  int trace_fd;           /* WATVM_TRACE file or -1 */
  char *exe;              /* our own executable, to exec children */
  unsigned faults;
  enum node_state state;
  int exit_code;
  bool done;

  struct linebuf in;      /* stdin */
  bool in_eof, in_watch_off, exiting, kids_closed;
  struct outq out;        /* stdout */
  bool out_dead;          /* stdout's reader is gone */
  int in_fl0, out_fl0;    /* fd flags to restore at exit, or -1 */

  struct child **kids;    /* spec order, then spawn order */
  size_t nkids, capkids, nalive;

  struct req *reqs;       /* every request in flight */
  size_t ntop;            /* of which from stdin */
  edn_arena **pool;       /* spare arenas */
  size_t npool, cappool;
  edn_arena *scratch;     /* one line from a child at a time */

  int64_t hold_until_ms;
  struct loop_timer hold_timer, grace_timer;
  bool grace_over;

  uint64_t restarts;
  char *exits[NODE_EXITS_KEPT]; /* printed child-exit maps, a ring */
  size_t nexits;                /* total ever recorded */
};

/* node.c */
/* Free everything `n` holds: requests, children (closing their edges),
 * arenas, buffers, the loop, and the fds it opened (fds still -1 were never
 * opened and are skipped); stdin/stdout get back their original flags. */
void node_release(struct node *n);
void node_panic(struct node *n, const char *reason, edn_value *cause);
void node_begin_exit(struct node *n); /* after :exit */
int64_t node_queue_bound(const struct node *n);

/* child.c */
struct child *child_find(struct node *n, const char *name);
struct child *child_add(struct node *n, const edn_value *spec);
int child_spawn(struct child *c);            /* 0 or -errno */
int child_send(struct child *c, edn_value *msg, struct req *r, int slot,
               edn_arena *a);                /* 0 or -1 */
void child_watch(struct child *c);
void child_reaped(struct child *c, int status);
void child_free(struct child *c);
void child_signal(struct child *c, int sig);

/* noise.c */
/* Drop `bytes` of a child's `s` stream with a {:wat/child-noise ...} note
 * on our stderr: one note per dropped line, at most NOISE_NOTES a second
 * per stream; beyond, counted and summed up in one note when the next
 * window starts or the child is reaped. `line` (may be NULL) gives a sample. */
void noise_drop(struct child *c, enum noise_stream s, size_t bytes,
                const char *why, const char *line, size_t len);
/* May `bytes` more of the child's stderr be passed on to ours now?
 * (NOISE_STDERR_BUDGET bytes a second per child.) */
bool noise_pass(struct child *c, size_t bytes);
/* Write the summary of what was dropped without a note (child reaped). */
void noise_flush(struct child *c);

/* req.c */
struct req *req_new_top(struct node *n);
struct req *req_new_sub(struct req *parent, int slot);
void req_reply(struct req *r, edn_value *m);   /* m: reply without :id */
void req_fail(struct req *r, const char *type, const char *msg);
/* A child's whole reply `m` (with its :id, in n->scratch) answers r. */
void req_pass_up(struct req *r, edn_value *m);
void req_drop(struct req *r);                  /* forget, no reply */
void req_fill(struct req *r, int slot, edn_value *m); /* a fan's part */
edn_value *wat_error(edn_arena *a, const char *type, const char *msg);
edn_value *map_without_id(edn_arena *a, const edn_value *m);

/* ops.c */
void ops_handle_line(struct node *n, const char *line, size_t len);

/* trace.c */
int trace_open(const char *dir);    /* fd or -1 */
void trace_event(struct node *n, const char *child, const char *dir,
                 const edn_value *msg);

#endif
