/* engine.h — the engine layer: everything a run of one scenario stands on.
 * One `struct engine` per scenario: the root launched and its three pipes
 * (replies by id), the node table (pids learnt by `:fan :inspect`, checked
 * against /proc), the evidence per property, crash bookkeeping and reaping.
 * The drive, audit and run layers above call it; it calls only the
 * scenario and observe layers (and the codec) below. Not installed: nothing
 * outside harness/ and tests/ includes it.
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
#include "host.h"
#include "model.h"
#include "proctree.h"
#include "result.h"
#include "session.h"
#include "scenario.h"

/* ---- the node table ------------------------------------------------------ */

/* The model of the tree: the state each node should be in, changed only
 * by what the steps and the policies imply (a spawn step makes nodes
 * alive, a crash removes or restarts a subtree by its parent's policy),
 * never by what a node says. The observed tree (/proc) is judged against
 * it (audit_topology.c). */
enum node_state {
  NODE_PENDING, /* in the scenario, but its `spawn` step has not run yet */
  NODE_ALIVE,
  NODE_GONE
};

struct live_node {
  struct tree_node *t;
  enum node_state state;
  pid_t pid;                /* what the last :inspect claimed (checked
                               against /proc); 0 until known, and again
                               after a restart until the next refresh */
  unsigned long long start; /* from /proc, with pid */
  pid_t prev_pid;           /* the process before its latest restart, */
  unsigned long long prev_start; /* which no claim may name again */
  bool held;                /* SIGSTOPped by the harness */
  long said_ppid, said_pgid; /* what its last :inspect claimed (-1: none) */
  double restart_ms[16];    /* as a parent: when it restarted a child (a
                               group counted once), a ring; reset when
                               the node itself is restarted */
  unsigned nrestart;
  uint32_t backoff_row;     /* as a child: how many restarts in a row
                               (backoff) it may have had, a set: bit n
                               for n in a row (bit 0 alone: none yet).
                               More than one bit when a run ended too
                               near the period to tell whether the
                               runtime started its count again */
  bool removed;             /* gone as a temporary child: unlisted */
  int kill_signal;          /* the last kill step's signal, 0 if none */
  pid_t edge_held;          /* as a far child: its ssh client, SIGSTOPped
                               by a `hold: {edge: client}` (0: none), on
                               its parent's host */
  unsigned long long edge_held_start;
  bool panicked;            /* the scenario sent it a :panic */
};

/* The two halves of a far node's hop (DESIGN.md: they are not nodes): its
 * ssh client, a child of its parent's process on the parent's host, and
 * the sshd session process that is the far node's parent on its own host.
 * Found by engine_edge_find(); pids with their /proc start times. */
struct edge_ends {
  struct host *near;               /* the parent's host */
  pid_t client;
  unsigned long long client_start;
  struct host *far;                /* the far node's host */
  pid_t session;
  unsigned long long session_start;
};

/* A crash the scenario caused: a `:panic` sent, or a `kill` step — or a
 * fault on the hop of a far node (`edge:`), which its parent sees as the
 * far node's crash. */
struct crash {
  struct tree_node *node;
  pid_t pid;
  unsigned long long start;
  int signal;          /* kill: the signal; 0 for a panic */
  const char *reason;  /* panic: the :reason sent (NULL if none) */
  bool closing;        /* an :exit sent: a graceful close, judged by
                          cascade only (it is no crash) */
  double t0;           /* when it was caused (engine_now_ms) */
  long long t0_boot_ns; /* the same instant, CLOCK_BOOTTIME (as /proc's
                          start times count) */
  const struct tree_node *down; /* the subtree it takes down, by the
                          policies above (engine_crash_count() sets it) */
  size_t step;         /* index of the step */
  struct live_node *before; /* copy of the node table just before */
  size_t nbefore;
  struct model_outcome o;   /* what the model says it does (set by
                               engine_crash_count()) */
  uint32_t backoff_was; /* o.down's backoff_row before this restart */
  uint32_t backoff_may; /* the restarts in a row this may be (bit n: the
                          n-th), as far as the count knew; the audit
                          narrows it once it saw the death */
  unsigned long long down_start; /* o.down's /proc start before (0: not
                          known) */
  struct exit_watch *watch; /* when each watched process died */
  enum step_edge edge;  /* a kill of that half of node's hop (EDGE_NONE: of
                          the node itself), or the release of its held
                          client; ends holds both halves as they were */
  bool partition;       /* a hold of node's client: no crash yet (the
                          parent sees nothing until the release), only the
                          far side's going, judged by cascade */
  struct edge_ends ends;
};

/* ---- watch.c, watch_far.c: when processes die, as the harness sees it - */

/* The processes watched during a crash step: the crashed node, its
 * parent, its siblings and its children (not when the parent has over 256
 * children), each on its own host: here by a pidfd of the harness's, on a
 * far host by that host's probe. Every death is stamped with its host's
 * CLOCK_BOOTTIME: two instants compare only when both are of one host. */
struct exit_watch;
struct engine;
enum { WATCH_BEFORE = -2 }; /* gone before the watch began */
/* NULL: none (too many, or no memory). A far host's watch that cannot be
 * started leaves its processes not watched, with why (watch_error). */
struct exit_watch *watch_start(struct engine *e, const struct crash *k);
/* Read the far hosts' watches now, for those of their processes not yet
 * seen dying (a request to each such host's probe; nothing to do for
 * this machine's, stamped as they die). 0, or -1 when a host's probe did
 * not answer: its processes are then not watched (watch_error says why). */
int watch_refresh(struct exit_watch *w);
/* When t's process (as it was at the crash) died, in its host's
 * CLOCK_BOOTTIME ns: 0 while alive (or not yet read from its host),
 * WATCH_BEFORE, or -1 when t is not watched. */
long long watch_died(const struct exit_watch *w, const struct tree_node *t);
/* Why t is not watched when its host's watch failed, else NULL. */
const char *watch_error(const struct exit_watch *w, const struct tree_node *t);
/* Stop it (here and on each far host) and free it. NULL does nothing. */
void watch_free(struct exit_watch *w);
long long engine_boottime_ns(void);

/* ---- the engine ---------------------------------------------------------- */

struct reply {
  int64_t id;
  edn_value *v; /* in e->arena */
};

struct idcount {
  int64_t id;
  int sent, got;
  bool used, exempt;
  const char *what; /* an internal request: what it was, for evidence
                       ("the harness's :stats request to L1"; e->arena) */
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
  bool session_counted;   /* session_begin() was called for it */
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

  /* the other hosts the tree runs on, each read through its probe */
  struct far_host {
    const char *dest;
    struct host *h;
    char *trace_dir; /* --trace: its nodes' directory there (far_trace.c),
                        malloc'ed; NULL when not tracing or not made */
  } *hosts;
  size_t nhosts;
  /* every process of the run seen on another host: each far node, and
   * the sshd session of each node started over ssh (refresh.c) */
  struct far_seen {
    struct host *h;
    pid_t pid;
    unsigned long long start;
    const struct tree_node *t; /* the node, or the node whose session */
    bool session;
  } *far;
  size_t nfar, capfar;
};

/* ---- engine.c: an engine's life --------------------------------------- */

/* Make `e` for running `s` into `r` (zeroed, with r's scenario set by the
 * caller). 0, or -1 when out of memory (engine_free() still applies). */
int engine_init(struct engine *e, const struct scenario *s,
                const struct run_opts *o, struct scenario_result *r);
/* Launch the root with the scenario's spec and register it with the
 * session. 0: it runs; -1: it could not start (message in err, nothing to
 * take down); -2: it runs but failed to get its spec (message in err; the
 * end's cascade takes it down). */
int engine_start(struct engine *e, char *err, size_t errlen);
/* The root is gone (reaped by the end's cascade): unregister it. */
void engine_stop(struct engine *e);
/* Turn the evidence into e->r's verdicts, summaries and node outcomes. */
void engine_fill_result(struct engine *e);
/* Close the pipes and free everything `e` holds (not e->r). */
void engine_free(struct engine *e);

/* ---- outcome.c --------------------------------------------------------- */

/* Fill e->r->nodes from the node table and the evidence. */
void engine_outcomes(struct engine *e);

/* ---- evidence.c: the clock and the evidence ---------------------------- */

double engine_now_ms(void);
/* How long a loop that re-reads /proc until something holds waits between
 * readings, `waited_ms` into its wait and `left_ms` before its deadline:
 * 20 ms at first, then an eighth of the time waited, at most 100 ms, and
 * never past the deadline. A reading costs a few ms of system time with
 * hundreds of processes on the machine (each /proc/PID/stat opened, read
 * and closed), and the waits that run long are mostly negative controls
 * waiting out a bound: a tree that settles late is still seen within an
 * eighth of the time it took. */
int engine_poll_ms(double waited_ms, double left_ms);
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

/* ---- wire.c: the root's pipes ------------------------------------------ */

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
/* The route path of `n` as an EDN vector of names (empty for the root). */
edn_value *engine_path_vec(struct engine *e, const struct tree_node *n);

/* ---- ids.c: request ids on the root edge ------------------------------- */

/* A fresh internal id: negative, and none the scenario's sends use. */
int64_t engine_next_id(struct engine *e);
/* Mark an id's lost reply as expected (its node was meant to die). */
void engine_exempt(struct engine *e, int64_t id);
struct idcount *engine_idcount(struct engine *e, int64_t id, bool create);

/* ---- nodes.c: the node table ------------------------------------------- */

struct live_node *engine_live(struct engine *e, const struct tree_node *t);
void engine_mark_subtree(struct engine *e, struct tree_node *t,
                         enum node_state st);
bool engine_any_held(const struct engine *e);
void engine_seen(struct engine *e, pid_t pid, unsigned long long start);
/* True when `pi`, a process the harness adopted (its parent is us), came
 * from this scenario's tree: a pid it saw, or — when this is the only
 * scenario running (`alone`: session_active() <= 1) — any adopted
 * process that is not another run's root. */
bool engine_orphan_is_ours(const struct engine *e, const struct proc_info *pi,
                           bool alone);

/* ---- refresh.c: learning pids ------------------------------------------ */

/* Re-learn pids with one `:fan :inspect` at the root, cross-checked with
 * /proc. Keeps the old table when a node is held (a fan would wait on it).
 * 0, or -1 with a step failure recorded. */
int engine_refresh(struct engine *e, double deadline);
/* Refresh only when something changed since the last one. */
int engine_ensure_map(struct engine *e, double deadline);

/* ---- reap.c ------------------------------------------------------------ */

/* Reap the root when it exited (non-blocking); true when it is reaped. */
bool engine_reap_root(struct engine *e);
/* Reap zombies among our own children that were nodes of this scenario
 * (orphans of a killed node end up ours: we are their subreaper), and the
 * root. How many were reaped: when none, `pt` still shows the tree as it
 * is, and a caller need not read /proc again. */
size_t engine_reap_orphans(struct engine *e, const struct proc_table *pt);
/* Reap `pid`, a zombie the harness adopted, and trace its exit (a node
 * whose parent was SIGKILLed is reaped by no node, so only we can). */
bool engine_reap_adopted(struct engine *e, pid_t pid);

/* ---- hosts.c: where the nodes run --------------------------------------- */

/* Start a probe on every host the scenario names (`host:`). 0; -1 with a
 * message naming the host that cannot be read (the run cannot be judged
 * there, so it fails rather than pass vacuously). */
int engine_hosts_open(struct engine *e, char *err, size_t errlen);
void engine_hosts_close(struct engine *e);
/* The host node t runs on (this machine's for local nodes). */
struct host *engine_host(const struct engine *e, const struct tree_node *t);
/* Does any node run on another host? */
bool engine_far(const struct engine *e);
/* This machine's processes that can be the run's: the harness and all
 * below it (proctree_scan_below). Every node, orphan and zombie of the
 * run is there: the root is our child, an orphan comes back to us (the
 * child subreaper), and no process joins a subtree from outside it. The
 * rest of the machine (hundreds of processes when suites run side by
 * side) is not read. 0 or -errno. */
int engine_read_local(const struct engine *e, struct proc_table *t);
/* One /proc reading of every host: v[0] this machine's (as
 * engine_read_local), v[1 + i] e->hosts[i]'s (a host whose probe fails
 * is a steps failure, and an empty table). Free with
 * engine_readings_free. */
struct readings {
  struct proc_table *v;
  size_t n;
};
int engine_read_hosts(struct engine *e, struct readings *r);
/* The table of the host node t runs on. */
const struct proc_table *engine_reading(const struct engine *e,
                                        const struct readings *r,
                                        const struct tree_node *t);
void engine_readings_free(struct readings *r);
/* ---- far_trace.c: --trace on other hosts ------------------------------- */

/* When tracing, a trace directory on every far host, made by its probe
 * (after engine_hosts_open). A host where none can be made is noted in
 * the result's trace_error; its nodes then trace nowhere. Never fails the
 * run: a trace helps read a run, it is no part of its verdict. */
void engine_far_trace_open(struct engine *e);
/* Into `spec`, the spec of tree node `t` (scenario_node_spec(t), its
 * children in the same order), put :env {"WATVM_TRACE" DIR} on each node
 * of t's subtree whose host differs from its parent's: the top far node
 * of each subtree on a host, so every node there traces into that host's
 * directory (a child's own :env wins over what it inherits). 0, or -1
 * when out of memory. Nothing when not tracing or no host is far. */
int engine_far_trace_env(struct engine *e, edn_value *spec, const struct tree_node *t);
/* The directory node t's trace file lies in, as its host names it: its
 * far host's, or --trace DIR; NULL when t does not trace. */
const char *engine_trace_dir(const struct engine *e, const struct tree_node *t);
/* After the run (the tree gone, whatever its outcome): each far host's
 * trace files copied into DIR/HOST/ and its directory removed there. A
 * host whose files cannot all be copied keeps its directory (their only
 * copy); it, and one whose directory cannot be removed, is named in the
 * result's trace_error; nothing local is touched but DIR/HOST/. TREEPROOF_TRACE_NO_COLLECT=1 (a test switch: the negative
 * control of the suite that checks the copies) skips the copying, not the
 * removal. */
void engine_far_trace_collect(struct engine *e);
/* Remove what engine_far_trace_collect did not (an engine freed before
 * its run ended), copying nothing. */
void engine_far_trace_drop(struct engine *e);

/* Record a process of the run on a far host (once). */
void engine_far_seen(struct engine *e, const struct tree_node *t, pid_t pid,
                     unsigned long long start, bool session);
/* Whether the node command is a watvm (an absolute path named watvm):
 * then the far nodes and the probes run the same binary. */
bool engine_node_is_watvm(const struct engine *e);
/* The watvm the probes run: when the node command is a watvm,
 * remote_watvm, else that watvm (the far nodes run it too); when it is
 * another program, remote_watvm if that is named watvm, else the
 * harness's own watvm (run_opts.own_watvm) — the nodes are the user's,
 * the probe is ours. NULL when there is none. */
const char *engine_probe_watvm(const struct engine *e);

/* ---- edge.c: the hop of a far node ------------------------------------- */

/* The two halves of t's hop (t has a host: of its own, and its parent's
 * and t's pids are known) into *out: the parent's one live child process
 * named ssh on the parent's host that may carry t (locally, its command
 * line names t's host; more than one candidate cannot be told apart and
 * is refused), and t's parent on its host, which must be an sshd. 0, or
 * -1 with why in `why`. */
int engine_edge_find(struct engine *e, const struct tree_node *t,
                     struct edge_ends *out, char *why, size_t whylen);
/* Is either half of the hop still there (on its host, same start time)? */
bool engine_edge_client_alive(const struct edge_ends *x);
bool engine_edge_session_alive(const struct edge_ends *x);
/* Wait, bounded by `deadline`, until every node of t's subtree that was
 * alive in `before` (nbefore entries) and the session of `x` are gone from
 * their hosts: the far side of a partitioned hop going by itself. Returns
 * how many are left (0: all gone), or -EINTR. */
int engine_edge_far_gone(struct engine *e, const struct tree_node *t,
                         const struct live_node *before, size_t nbefore,
                         const struct edge_ends *x, double deadline);
/* The bound within which the far side of a silent partition must be gone
 * from its host: PARTITION_BOUND_MS (the hosts' ClientAlive settings, as
 * docs/hosts.md measures them) plus t's own end (stopping its subtree)
 * plus the slack. */
double engine_partition_bound_ms(const struct tree_node *t);

/* ---- crash.c: a crash's bookkeeping ------------------------------------ */

/* Before a step crashes `n`: copy the node table into k (0), or -1 when n
 * is not alive, -EINTR. */
int engine_crash_begin(struct engine *e, struct tree_node *n, struct crash *k,
                       double deadline);
/* Count the crash `k` as the runtime counts it (before it is judged): the
 * model's outcome into k->o, and the node table changed as it says (the
 * subtrees that go down gone or removed, those restarted — a group's too
 * — alive with processes not yet known). */
void engine_crash_count(struct engine *e, struct crash *k);
/* Is `t` touched by the crash k: in the subtree that went down, or in a
 * sibling's subtree its parent's group restart stopped? */
bool engine_crash_touches(const struct crash *k, const struct tree_node *t);
/* The exit of `k->node` was normal (status 0): an :exit sent, or a
 * SIGTERM/SIGINT it ends by gracefully. */
bool engine_crash_normal(const struct crash *k);
/* After the crash was judged: the tree changed (refresh before relying on
 * pids); k's copy and watch are freed. */
void engine_crash_end(struct engine *e, struct crash *k);
/* A crash begun but not caused after all (the step failed first). */
void engine_crash_drop(struct crash *k);
/* Restarts in a row (as a set, bit n: the n-th) after a run `up_lo` to
 * `up_hi` ms long ended, from `row`, the set before: a run surely as long
 * as the period starts the count again, a run surely shorter adds one,
 * and one in between may do either. */
uint32_t engine_backoff_step(uint32_t row, double up_lo, double up_hi,
                             double period);
/* The restart in a row `may` holds that waits longest (0: none). */
unsigned engine_backoff_most(uint32_t may);
/* What the audit learned: t's restarts in a row are `row`. */
void engine_backoff_learn(struct engine *e, const struct tree_node *t,
                          uint32_t row);

/* ---- exit_report.c ----------------------------------------------------- */

/* The next {:wat/panic ...} line on the root's stderr at or after byte
 * *at (which it moves past that line), read into e->arena; NULL when
 * there is none. */
const edn_value *engine_next_root_panic(struct engine *e, size_t *at);
/* The child-exit map of node `n` with `pid` (pid <= 0: any), as its nearest
 * live ancestor reports it in :stats :exits (an escalation nests the exit it
 * escalates in :panic :cause), or from the root's own panic on stderr.
 * *from (may be NULL) gets the ancestor asked. NULL when not (yet) seen. */
const edn_value *engine_exit_report(struct engine *e, const struct tree_node *n,
                                    pid_t pid, double deadline,
                                    const struct tree_node **from);

/* The grace a node gets to go down (docs/node-contract.md: SIGTERM grace, 2 s) plus
 * scheduling slack on a loaded machine: 1.5 s, or TREEPROOF_SLACK_MS from
 * the environment (sanitized nodes scan for leaks as they exit: slow). */
#define CASCADE_GRACE_MS NODE_DEFAULT_GRACE_MS
/* How long a zombie may sit under a live node before cascade fails: its
 * parent reaps it when the SIGCHLD arrives, so this is scheduling only. */
#define ZOMBIE_BOUND_MS 500
/* How long after its client went silent a far session is gone from a
 * test host (ClientAliveInterval 1, ClientAliveCountMax 3: measured at
 * 8.0 s, docs/hosts.md "A lost connection, bounded"). */
#define PARTITION_BOUND_MS 8000
/* The slack itself, for every bound that waits on a loaded machine's
 * scheduling (cascade's, topology's settling, supervision's timing). */
double engine_slack_ms(void);
#define CASCADE_SLACK_MS engine_slack_ms()

#endif
