/* node.h — a watvm node: its state, its children, its requests in flight.
 *
 * The one public entry is node_run(); the rest of this header is shared by
 * the files that make up a node (node.c: lifecycle and signals; child.c: one
 * parent–child edge; supervise.c: what a child's exit sets off;
 * shutdown.c: stopping children; far.c: a child on another host, through
 * ssh; req.c: requests and replies; ops.c: the op table; fwd.c: the bytes
 * of a request passed on to a child;
 * proc.c: /proc readings; trace.c: WATVM_TRACE; fault.c: WATVM_FAULT) and by
 * the unit tests. Nothing here prints but the node's own wire output and its
 * panic line; main decides exit codes. */
#ifndef TREEPROOF_NODE_H
#define TREEPROOF_NODE_H

#include <signal.h>
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
  bool exit_at_end;   /* at a graceful end (or a panic), exit(2) from
                         node_run once stdin/stdout have their flags back,
                         leaving the memory to the kernel: node_release
                         frees thousands of blocks a tree is about to lose
                         anyway (the watvm executable; a caller that runs
                         node_run in-process leaves it false) */
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
  /* Supervision negative controls (supervise.c, shutdown.c): */
  FAULT_OFA_FORGET = 1u << 12,      /* one-for-all skips the first live sibling */
  FAULT_RFO_EARLY = 1u << 13,       /* rest-for-one starts the later ones first */
  FAULT_STOP_SPEC_ORDER = 1u << 14, /* one-at-a-time stops in spec order */
  FAULT_TRANSIENT_RESTART = 1u << 15, /* transient restarted after exit 0 */
  FAULT_TEMPORARY_RESTART = 1u << 16, /* temporary restarted as permanent */
  FAULT_INTENSITY_PER_CHILD = 1u << 17, /* intensity counted per child */
  FAULT_BACKOFF_NO_RESET = 1u << 18, /* the backoff count never resets */
  /* Test-only: a spelling that is not the printer's (test_wire.c). */
  FAULT_SPACED = 1u << 19,      /* :id last, a space inside the braces */
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
/* After a reply line of `len` bytes ('\n' included) was queued last on
 * n->out: spell `{:id N ...}` as `{ ... :id N }` (spaced-replies), the
 * same value in bytes no watvm prints, so a parent that passes it on as
 * bytes shows it (and cuts an :id that comes last). */
void fault_spaced(struct node *n, size_t len);

/* ---- Internals shared by the node's files ------------------------------ */

#define NODE_LINE_MAX (1u << 20)        /* a request line */
#define NODE_CHILD_LINE_MAX (256u << 20) /* a reply or report from a child */
#define NODE_CHILD_IDLE_LINE_MAX (1u << 20) /* a stdout line of a child owed nothing */
#define NODE_SPEC_LINE_MAX (64u << 20)  /* --spec-stdin's first line */
#define NODE_CHILD_ERR_LINE_MAX (1u << 20) /* a line on a child's stderr */
#define NODE_EXITS_KEPT 64

enum node_state {
  NODE_RUNNING,     /* serving */
  NODE_TERMINATING, /* SIGTERM/SIGINT: children on their ladders */
  NODE_PANICKING,   /* panic line written; taking the children down */
};

/* Why a parent stops a child (the :stopped key of its exit), or none. */
enum stop_why { STOP_NONE, STOP_ONE_FOR_ALL, STOP_REST_FOR_ONE,
                STOP_INTENSITY, STOP_END };

/* The rungs of a child's shutdown ladder. */
enum stop_rung { RUNG_NONE, RUNG_EOF, RUNG_TERM, RUNG_KILL };

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
  struct noise noise[2]; /* by enum noise_stream; reset at each spawn */

  /* Supervision (supervise.c, shutdown.c). */
  struct spec keys;      /* the child's spec as its parent reads it */
  char *report;          /* its last exit map, printed; malloc'ed or NULL */
  int64_t spawned_ms;    /* when it was last spawned */
  unsigned backoff_n;    /* restarts in a row (for :restart-backoff-ms) */
  bool restarting;       /* dead, to be started again: a backoff wait or a
                            group restart it belongs to */
  bool in_group;         /* a member of the parent's group restart */
  bool stop_mark;        /* the stopper is to stop it */
  enum stop_why stop_why;/* set while the parent stops it */
  enum stop_rung rung;   /* the last rung of its ladder taken */
  struct loop_timer stop_timer;  /* the ladder's wait before SIGKILL */
  struct loop_timer start_timer; /* a one-for-one backoff wait */
  int64_t *restart_ms;   /* intensity-per-child fault only: its restarts */
  size_t nrestart;

  /* A far child (far.c): its spec has :host; pid above is the local ssh
   * client's. Reset at each spawn. */
  bool far;
  bool far_first;        /* its first stdout line has come */
  bool far_started;      /* ... and it was {:wat/started ...} */
  pid_t far_pid;         /* its pid on its host, from that line; 0 if none */
  char *far_err;         /* ssh's last stderr line (truncated), malloc'ed */
};

/* A fan's slot filled with bytes: rawbuf[off, off + len), one EDN value
 * (a child's reply without its :id, in the child's own spelling). */
struct fan_raw {
  size_t off, len;
  bool set;
};

struct req {
  struct node *n;
  edn_arena *a;          /* shared with sub-requests; owned by the top one */
  bool top;              /* answers a line from stdin */
  edn_value *id;         /* top: the sender's :id (in a) */
  struct req *parent;    /* sub: the fan waiting for this reply */
  int pslot;
  edn_value **slots;     /* fan: [0] own result, [1..] children; malloc'ed */
  struct fan_raw *raw;   /* fan: per slot, a reply kept as bytes (req.c);
                            in the block of slots */
  struct edn_buf rawbuf; /* ... those bytes, one after another; freed with r */
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
  sigset_t sig_changed;   /* dispositions not SIG_DFL (child.c) */
  int sig_known;          /* sig_changed: 0 not read yet, 1 read, -1 unknown */
  int trace_fd;           /* WATVM_TRACE file or -1 */
  char *exe;              /* our own executable, to exec children
                             (node_exe(); NULL until the first spawn) */
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

  /* The request line ops_handle_line is dispatching, and where its
   * values lie in it (edn_read_spans, depth 1): what fwd.c passes on as
   * bytes. ptr is NULL outside that call: a request answered later never
   * looks at a line gone. */
  struct {
    const char *ptr;
    const struct edn_spans *spans;
  } line;

  struct edn_buf fwd_path; /* fwd_route's printed rest of a path, reused */

  struct req *reqs;       /* every request in flight */
  size_t ntop;            /* of which from stdin */
  struct req *spare;      /* freed requests kept for the next (req.c) */
  size_t nspare;
  edn_arena **pool;       /* spare arenas */
  size_t npool, cappool;
  edn_arena *scratch;     /* one line from a child at a time */

  int64_t hold_until_ms;
  struct loop_timer hold_timer;

  /* Stopping children one at a time or all at once (shutdown.c). */
  bool got_term;          /* SIGTERM/SIGINT: the ladders' first rung is TERM */
  bool ending;            /* the node's own end has begun stopping children */
  struct {
    bool active, sequential;
    enum stop_why why;
    void (*done)(struct node *n); /* once no marked child is alive */
  } stopper;
  /* A one-for-all or rest-for-one restart in progress (supervise.c). */
  struct {
    bool active;
    bool waiting;         /* the trigger's backoff has not run out */
    bool counted;         /* recorded toward intensity already */
    struct child *trigger;
    struct loop_timer timer;
  } group;
  int64_t *restart_ms;    /* times of recent restarts, for intensity */
  size_t nrestart;

  uint64_t restarts;
  char *exits[NODE_EXITS_KEPT]; /* printed child-exit maps, a ring */
  size_t nexits;                /* total ever recorded */
};

/* node.c */
/* Free everything `n` holds: requests, children (closing their edges),
 * arenas, buffers, the loop, and the fds it opened (fds still -1 were never
 * opened and are skipped); stdin/stdout get back their original flags. */
void node_release(struct node *n);
/* Our own executable (/proc/self/exe), read once, at the first spawn; NULL
 * when it cannot be read (the spawn then fails with ENOENT). */
const char *node_exe(struct node *n);
void node_panic(struct node *n, const char *reason, edn_value *cause);
/* Restart intensity crossed: the panic line now, then every child stopped
 * one at a time in reverse spec order (:stopped :intensity), exit 70. */
void node_give_up(struct node *n, const char *reason, edn_value *cause);
void node_begin_exit(struct node *n); /* after :exit */
int64_t node_queue_bound(const struct node *n);

/* child.c */
struct child *child_find(struct node *n, const char *name);
struct child *child_add(struct node *n, const edn_value *spec);
int child_spawn(struct child *c);            /* 0 or -errno */
int child_send(struct child *c, edn_value *msg, struct req *r, int slot,
               edn_arena *a);                /* 0 or -1 */
struct fwd;
/* child_send for a request already in bytes (fwd.c): f's head, the id of
 * this edge, f's tail. 0 or -1. */
int child_send_bytes(struct child *c, const struct fwd *f, struct req *r,
                     int slot);
void child_watch(struct child *c);
void child_reaped(struct child *c, int status);
void child_free(struct child *c);
/* Take a dead child out of n->kids for good (a temporary child): it is
 * freed, and the children after it move up one place. */
void child_remove(struct child *c);
void child_signal(struct child *c, int sig);
/* The child-exit map of c's last exit, parsed into a, or nil. */
edn_value *child_report(struct child *c, edn_arena *a);

/* supervise.c */
/* An exit the parent did not cause, while the node runs: the restart type,
 * the strategy, backoff and intensity decide what follows. `status` as
 * waitpid gives it. c may be freed (a temporary child is removed). */
void supervise_exit(struct child *c, int status);
/* An exit the parent caused (c->stop_why set): a temporary child stopped
 * by a group restart is removed. c may be freed. */
void supervise_stopped(struct child *c);
/* The node is ending: no restart will happen; waits are cancelled. */
void supervise_cancel(struct node *n);

/* shutdown.c */
/* Put c on its shutdown ladder (nothing if it is dead or on it already). */
void shutdown_child(struct child *c, enum stop_why why);
/* Stop every child whose stop_mark is set, in one go or one at a time in
 * reverse spec order; then call done (may be NULL). */
void shutdown_marked(struct node *n, enum stop_why why, bool sequential,
                     void (*done)(struct node *n));
/* After a reap: the next stop of a one-at-a-time order, or done. */
void shutdown_pump(struct node *n);
/* The keyword (without ':') naming why / rung: "one-for-all", "eof", ... */
const char *shutdown_why_name(enum stop_why why);
const char *shutdown_rung_name(enum stop_rung rung);
/* The node's own end: every live child stopped in its :stop-order. */
void shutdown_end(struct node *n);
/* SIGTERM/SIGINT reached the node: children already on an EOF rung get
 * SIGTERM too. */
void shutdown_term_all(struct node *n);

/* far.c */
/* The ssh command that starts a far child: file is ssh found in PATH. */
struct far_cmd {
  char file[4096];
  char *argv[12];        /* NULL-terminated; points into the child's keys,
                            the node's spec and quoted */
  char *quoted;          /* the far watvm's path, single-quoted; malloc'ed */
};
/* Fill fc for c (c->keys.host set): ssh -T -o BatchMode=yes [-F CONFIG]
 * DEST 'WATVM' --spec-stdin, CONFIG and WATVM as in effect for c. 0, or
 * -ENOENT (no ssh in PATH) / -ENOMEM; far_command_free() either way. */
int far_command(const struct child *c, struct far_cmd *fc);
void far_command_free(struct far_cmd *fc);
/* c was just spawned: forget what its previous run said. */
void far_spawned(struct child *c);
/* c's stdout line v (parsed): true when it was a far child's started line,
 * which is consumed (its pid recorded). Only the first line is looked at. */
bool far_first_line(struct child *c, const edn_value *v);
/* Remember a far child's stderr line (ssh's diagnostics come this way). */
void far_err_line(struct child *c, const char *line, size_t len);
/* For a far child's exit: :pid (far), :via-pid and :host put in m;
 * returns the :status map ({:lost true} or {:exit N}), NULL out of memory. */
edn_value *far_exit_status(struct child *c, int status, edn_arena *a,
                           edn_value *m);
/* {:type :wat/host-unreachable :message ssh's last line} when ssh exited
 * 255 before the started line, else NULL. */
edn_value *far_exit_error(struct child *c, int status, edn_arena *a);
/* Set the spec's :env in our environment. 0, or -1 with a message. */
int far_apply_env(const struct spec *s, char *why, size_t whylen);
/* A node whose own spec has :host: queue its started line on stdout. */
void far_announce(struct node *n);

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
void req_spares_free(struct node *n);          /* at the node's end */
void req_fail(struct req *r, const char *type, const char *msg);
/* A child's whole reply `m` (with its :id, in n->scratch) answers r; it
 * was read from line[] with its spans in sp (edn_read_spans, depth 1),
 * which a top request's reply is spliced from (NULL: printed). */
void req_pass_up(struct req *r, edn_value *m, const char *line,
                 const struct edn_spans *sp);
void req_drop(struct req *r);                  /* forget, no reply */
/* An id as the wire spells it (as edn_print writes an integer) into buf;
 * its length. The one spelling of ids spliced into bytes (fwd, replies). */
enum { REQ_ID_TEXT = 24 };
size_t req_id_text(int64_t id, char buf[REQ_ID_TEXT]);
void req_fill(struct req *r, int slot, edn_value *m); /* a fan's part */
/* The slots of a fan of n parts (r->slots, r->raw), all empty. 0 or -1. */
int req_fan_slots(struct req *r, size_t n);
/* A child's reply `m` (with its :id, read from line[] with its spans sp,
 * depth 1) fills slot `slot` of the fan r: copied as the child's bytes
 * without the :id key and value, or (a span missing) as a value. */
void req_fill_child(struct req *r, int slot, const edn_value *m,
                    const char *line, const struct edn_spans *sp);
edn_value *wat_error(edn_arena *a, const char *type, const char *msg);
edn_value *map_without_id(edn_arena *a, const edn_value *m);

/* fwd.c */
/* A request for children in bytes: the head pieces, then the :id each
 * edge gives it (child_send_bytes), then the tail pieces; one line without
 * its '\n'. The pieces point into the line being dispatched, string
 * constants and n->fwd_path: valid while that line is dispatched, and
 * only until the next fwd_* call. */
enum { FWD_HEAD = 2, FWD_TAIL = 5 };
struct fwd {
  struct outq_piece head[FWD_HEAD], tail[FWD_TAIL];
  size_t nhead, ntail;
};
/* Where v lies in the request line being dispatched (n->line), or NULL:
 * v was built, or read deeper than the spans go, or no line is. */
const struct edn_span *fwd_span(const struct node *n, const edn_value *v);
/* {:id ID :op :fan :req REQ}, REQ the bytes of the :req value `req`.
 * 0, or 1 when req has no span (the caller prints). */
int fwd_fan(struct fwd *f, const struct node *n, const edn_value *req);
/* {:id ID :op :route :path REST :req REQ} for a route with hops left
 * (REST printed into n->fwd_path: a few names), or at the last hop REQ
 * itself with ID for its :id (in its place if it has one, else last).
 * 0, 1 as fwd_fan, -1 out of memory. */
int fwd_route(struct fwd *f, struct node *n, edn_arena *a,
              const edn_value *rest, const edn_value *req);

/* ops.c */
void ops_handle_line(struct node *n, const char *line, size_t len);

/* trace.c */
int trace_open(const char *dir);    /* fd or -1 */

void trace_event(struct node *n, const char *child, const char *dir,
                 const edn_value *msg);
/* trace_event for a message sent as bytes (fwd.c): the pieces, one EDN
 * value between them, are the :msg as it went on the edge. */
void trace_event_bytes(struct node *n, const char *child, const char *dir,
                       const struct outq_piece *p, size_t np);
/* Write the events gathered this loop turn (one write). */
void trace_flush(struct node *n);

#endif
