/* engine.h — the insides of run_scenario(), shared by run.c (the engine:
 * pipes, replies by id, the node table), launch.c, proctree.c, drive.c and
 * the five audit_*.c. Not a public header: nothing outside harness/ and
 * tests/engine/ includes it.
 *
 * The harness trusts only two things: the bytes on the root's three pipes
 * and /proc. Node names come from one `:fan :inspect` at the root; every pid
 * it reports is checked against /proc before anyone relies on it. */
#ifndef TREEPROOF_ENGINE_H
#define TREEPROOF_ENGINE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "edn.h"
#include "run.h"
#include "scenario.h"

/* ---- proctree.c: the process tree as /proc shows it ---------------------- */

struct proc_info {
  pid_t pid, ppid, pgid;
  char state;               /* 'R' 'S' 'T' 'Z' ... */
  unsigned long long start; /* starttime in clock ticks: with the pid, the
                               identity of a process (pids are reused) */
};

/* Every process on the machine, sorted by pid. Zero-initialise. */
struct proc_table {
  struct proc_info *v;
  size_t n, cap;
};

/* Fill `t` from /proc (replacing what it held). 0 or -errno. */
int proctree_scan(struct proc_table *t);
void proctree_free(struct proc_table *t);
/* The entry for `pid`, or NULL. */
const struct proc_info *proctree_find(const struct proc_table *t, pid_t pid);
/* How many processes have `pid` as parent (zombies included). */
size_t proctree_nchildren(const struct proc_table *t, pid_t pid);
/* Every descendant of `pid` (not `pid` itself), malloc'ed into *out (the
 * caller frees). Returns the count, or -1 when out of memory. */
long proctree_descendants(const struct proc_table *t, pid_t pid, pid_t **out);
/* One process, read now: 0, or -ENOENT when it has no /proc entry. */
int proc_read(pid_t pid, struct proc_info *out);
/* True when `pid` with start time `start` still exists and is not a
 * zombie (start 0: any process with that pid). */
bool proc_alive(pid_t pid, unsigned long long start);
/* VmRSS of `pid` in kB, or -1. */
long proc_rss_kb(pid_t pid);

enum fd_kind { FD_PIPE, FD_SOCKET, FD_ANON, FD_FILE, FD_OTHER };

struct fd_entry {
  int fd;
  enum fd_kind kind;
  unsigned long long ino; /* FD_PIPE, FD_SOCKET */
  char text[200];         /* the readlink string */
};

struct fd_list {
  struct fd_entry *v;
  size_t n, cap;
};

/* The open fds of `pid`, sorted by fd, replacing what `l` held. 0, or
 * -errno (-ENOENT: the process is gone). */
int proc_fds(pid_t pid, struct fd_list *l);
void fd_list_free(struct fd_list *l);
/* The open flags of `pid`'s fd (from /proc/PID/fdinfo), or -1. */
int proc_fd_flags(pid_t pid, int fd);
const char *fd_kind_name(enum fd_kind k);

/* ---- the node table ------------------------------------------------------ */

enum node_state {
  NODE_PENDING, /* in the scenario, but its `spawn` step has not run yet */
  NODE_ALIVE,
  NODE_GONE
};

struct live_node {
  struct tree_node *t;
  enum node_state state;
  pid_t pid;                /* 0 until known */
  unsigned long long start; /* from /proc, with pid */
  bool held;                /* SIGSTOPped by the harness */
  long said_ppid, said_pgid; /* what its last :inspect claimed (-1: none) */
  double crash_ms[16];      /* when the scenario crashed it (ring) */
  unsigned ncrash;
  int kill_signal;          /* the last kill step's signal, 0 if none */
  bool panicked;            /* the scenario sent it a :panic */
};

/* A crash the scenario caused: a `:panic` sent, or a `kill` step. */
struct crash {
  struct tree_node *node;
  pid_t pid;
  unsigned long long start;
  int signal;          /* kill: the signal; 0 for a panic */
  const char *reason;  /* panic: the :reason sent (NULL if none) */
  bool closing;        /* an :exit sent: a graceful close, judged by
                          cascade only (it is no crash) */
  double t0;           /* when it was caused (engine_now_ms) */
  size_t step;         /* index of the step */
  struct live_node *before; /* copy of the node table just before */
  size_t nbefore;
};

/* ---- the engine ---------------------------------------------------------- */

struct reply {
  int64_t id;
  edn_value *v; /* in e->arena */
};

struct idcount {
  int64_t id;
  int sent, got;
  bool used, exempt;
};

struct engine {
  const struct scenario *s;
  const struct run_opts *o;
  struct scenario_result *r;
  pid_t self;

  /* the root; in/out/err are the harness's ends (engine_free closes) */
  pid_t root_pid;
  unsigned long long root_start;
  bool root_reaped;
  int root_status;
  bool root_registered;
  int in_fd, out_fd, err_fd;
  unsigned long long in_ino, out_ino, err_ino;
  bool out_eof, err_eof;
  struct edn_buf outline; /* stdout bytes not yet a whole line */
  size_t outscan;         /* bytes of outline known to hold no '\n' */
  bool out_overlong;      /* dropping the rest of a line over REPLY_LINE_MAX */
  struct edn_buf errtext; /* the root's stderr (first 1 MiB) */

  edn_arena *arena;   /* replies kept, requests built, specs */
  edn_arena *scratch; /* one received line at a time */
  struct reply *replies; /* received, not yet taken */
  size_t nreplies, capreplies;
  struct idcount *ids;   /* open addressing, capacity a power of two */
  size_t nids, capids;
  int64_t next_id;       /* the next internal id (negative, going down) */

  /* bulk window (backpressure): replies with ids in [bulk_lo, bulk_hi] are
   * counted and order-checked here instead of being kept */
  bool bulk_on;
  int64_t bulk_lo, bulk_hi, bulk_next;
  size_t bulk_got, bulk_dup, bulk_bad;
  int64_t bulk_first_disorder;
  size_t bulk_body_len;

  struct live_node *nodes; /* sorted by t (pointer order) */
  size_t nnodes;
  bool map_dirty;
  bool mapped; /* the first :fan :inspect was answered and checked */

  pid_t *seen; /* every node pid ever known (orphans are attributed by it) */
  unsigned long long *seen_start;
  size_t nseen, capseen;

  int trace_fd;
  bool root_exit_traced; /* htrace wrote the root's :exited */
  double t0_ms;
  bool interrupted;
  bool internal_error;
  size_t ncrashes;

  struct edn_buf ev[PROP_COUNT]; /* evidence lines per property */
  bool fail[PROP_COUNT];
  size_t fail_at[PROP_COUNT];    /* where the first failure's line starts */
  char *sum[PROP_COUNT];         /* summary of a pass (figures), malloc'ed */
  double ms[PROP_COUNT];
  struct edn_buf steps_ev;
  bool steps_failed;
};

/* outcome.c: fill e->r->nodes from the node table and the evidence. */
void engine_outcomes(struct engine *e);

/* run.c ---------------------------------------------------------------- */

double engine_now_ms(void);
/* Record a failure of property p (evidence line, printf style). */
void engine_fail(struct engine *e, enum property p, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Add an evidence line to p without failing it. */
void engine_note(struct engine *e, enum property p, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void engine_step_fail(struct engine *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Set the pass summary of p (replacing the previous one). */
void engine_summary(struct engine *e, enum property p, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
bool engine_listed(const struct engine *e, enum property p);

/* Wait up to timeout_ms for the root's pipes (and for room on its stdin
 * when want_write); read whatever arrived and dispatch whole lines.
 * Returns 1 when its stdin can take bytes, 0 otherwise, -EINTR when the
 * harness was interrupted (SIGINT/SIGTERM). */
int engine_pump(struct engine *e, int timeout_ms, bool want_write);
/* Write all of buf to the root's stdin by `deadline`, reading its output
 * meanwhile. 0, -ETIMEDOUT, -EPIPE or -EINTR. */
int engine_write(struct engine *e, const char *buf, size_t len, double deadline);
/* Send one request line (a newline is added); counts its :id as sent. */
int engine_send(struct engine *e, int64_t id, const char *line, size_t len,
                double deadline);
/* The next reply with `id` (buffered or arriving by `deadline`).
 * 0 with *out set, -ETIMEDOUT, -EPIPE (root's stdout closed) or -EINTR. */
int engine_await(struct engine *e, int64_t id, double deadline, edn_value **out);
/* Send `req` (a map without :id) to node `to` under a fresh negative id,
 * routed from the root, and wait for its reply. The reply is the route's,
 * i.e. the node's own reply (or an error from a node on the way). */
int engine_request(struct engine *e, const struct tree_node *to, edn_value *req,
                   double deadline, edn_value **out);
/* A fresh internal id: negative, and none the scenario's sends use. */
int64_t engine_next_id(struct engine *e);
/* The route path of `n` as an EDN vector of names (empty for the root). */
edn_value *engine_path_vec(struct engine *e, const struct tree_node *n);
/* Mark an id's lost reply as expected (its node was meant to die). */
void engine_exempt(struct engine *e, int64_t id);
struct idcount *engine_idcount(struct engine *e, int64_t id, bool create);

struct live_node *engine_live(struct engine *e, const struct tree_node *t);
void engine_mark_subtree(struct engine *e, struct tree_node *t,
                         enum node_state st);
bool engine_any_held(const struct engine *e);
bool engine_in_subtree(const struct tree_node *n, const struct tree_node *top);
/* Re-learn pids with one `:fan :inspect` at the root, cross-checked with
 * /proc. Keeps the old table when a node is held (a fan would wait on it).
 * 0, or -1 with a step failure recorded. */
int engine_refresh(struct engine *e, double deadline);
/* Refresh only when something changed since the last one. */
int engine_ensure_map(struct engine *e, double deadline);
/* Reap the root when it exited (non-blocking); true when it is reaped. */
bool engine_reap_root(struct engine *e);
/* Reap zombies among our own children that were nodes of this scenario
 * (orphans of a killed node end up ours: we are their subreaper). */
void engine_reap_orphans(struct engine *e, const struct proc_table *pt);
/* Reap `pid`, a zombie the harness adopted, and trace its exit (a node
 * whose parent was SIGKILLed is reaped by no node, so only we can). */
void engine_reap_adopted(struct engine *e, pid_t pid);
void engine_seen(struct engine *e, pid_t pid, unsigned long long start);
/* True when `pi`, a process the harness adopted (its parent is us), came
 * from this scenario's tree: a pid it saw, or — when this is the only
 * scenario running (`alone`: run_active_scenarios() <= 1) — any adopted
 * process that is not another run's root. */
bool engine_orphan_is_ours(const struct engine *e, const struct proc_info *pi,
                           bool alone);
/* Default per-node values (DESIGN.md "A node's spec"). */
long node_queue_bytes(const struct tree_node *t);
enum policy node_policy(const struct tree_node *t);
/* Will `parent` (policy :restart) give up on `child` after its latest
 * crash: more than :max-restarts crashes within :restart-period-ms? */
bool engine_restart_limit(struct engine *e, const struct tree_node *child);
/* Handle a crash the scenario caused (judges containment and cascade when
 * listed, updates the node table). `k` is consumed (its copy freed). */
void engine_crash(struct engine *e, struct crash *k);
int engine_crash_begin(struct engine *e, struct tree_node *n, struct crash *k,
                       double deadline);

/* True when `pid` is the root of another scenario running in this process
 * (-j): its tree is not ours to judge or kill. */
bool run_other_root(pid_t pid, pid_t mine);
/* How many scenarios are running in this process now. */
int run_active_scenarios(void);

/* launch.c -------------------------------------------------------------- */

/* Start the root: pipes on 0/1/2, its own process group, the node command
 * with `--spec SPEC` or `--spec-stdin` (spec over 64 KiB, written as the
 * first stdin line). Fills e->root_pid and the fds. 0, or -1 with a message
 * in `err`. */
int launch_root(struct engine *e, const char *spec, size_t speclen, char *err,
                size_t errlen);

/* drive.c --------------------------------------------------------------- */

/* Run step i. 0 when it held, -1 when it failed (evidence recorded),
 * -EINTR when interrupted. */
int drive_step(struct engine *e, size_t i);
/* The node a request would crash (a :panic, possibly inside :route), or
 * NULL; *reason gets the :reason. */
struct tree_node *drive_crash_target(struct engine *e, const edn_value *req,
                                     const char **reason);

/* The child-exit map of node `n` with `pid` (pid <= 0: any), as its nearest
 * live ancestor reports it in :stats :exits (an escalation nests the exit it
 * escalates in :panic :cause), or from the root's own panic on stderr.
 * *from (may be NULL) gets the ancestor asked. NULL when not (yet) seen. */
const edn_value *engine_exit_report(struct engine *e, const struct tree_node *n,
                                    pid_t pid, double deadline,
                                    const struct tree_node **from);

/* the auditors ---------------------------------------------------------- */

void audit_isolation(struct engine *e, const char *when);
void audit_backpressure(struct engine *e);
void audit_containment_crash(struct engine *e, const struct crash *k);
/* Cascade after a crash or kill: exactly the subtree gone within grace. */
void audit_cascade_crash(struct engine *e, const struct crash *k);
/* The end: close the root's stdin, everything gone within the grace, no
 * orphan or zombie; kill and reap whatever is left (always runs). */
void audit_cascade_end(struct engine *e);
/* After step `step` (one with scan_after set): no orphan adopted by the
 * harness and no unreaped zombie below the root lingers (audit_leftovers.c). */
void audit_leftovers(struct engine *e, size_t step);
void audit_replies_end(struct engine *e);

/* The grace a node gets to go down (DESIGN.md: SIGTERM grace, 2 s) plus
 * scheduling slack on a loaded machine: 1.5 s, or TREEPROOF_SLACK_MS from
 * the environment (sanitized nodes scan for leaks as they exit: slow). */
#define CASCADE_GRACE_MS 2000
double cascade_slack_ms(void);
#define CASCADE_SLACK_MS cascade_slack_ms()

#endif
