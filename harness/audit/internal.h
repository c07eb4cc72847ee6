/* internal.h — private to harness/audit/: what the containment files
 * share (audit_containment.c judges a crash level by level;
 * audit_supervision.c judges what a supervising parent did beyond one
 * child: a group's stops and starts, their order and timing, a backoff,
 * a removal, an intensity crossed), and what the isolation files share
 * (audit_isolation.c judges the nodes; audit_isolation_hop.c the two
 * halves of each hop to another host, which are no nodes). */
#ifndef TREEPROOF_AUDIT_INTERNAL_H
#define TREEPROOF_AUDIT_INTERNAL_H

#include "audit.h"

/* The pid (and start) `t` had just before the crash, or 0. */
pid_t crash_before_pid(const struct crash *k, const struct tree_node *t,
                       unsigned long long *start);

/* How long one crash's judgement may wait for the tree to act: the step's
 * bound (audit_containment.c). */
double crash_bound_ms(const struct engine *e, const struct crash *k);
/* The end of a wait for a process of k's to die, given the judgement's
 * `deadline` (its start + crash_bound_ms): no later, and no later than the
 * bound plus the slack counted from the crash itself. So a death cascade
 * already waited for in vain is checked once, not waited out again, and a
 * process always had at least the bound since the crash to go. */
double crash_death_deadline(const struct engine *e, const struct crash *k,
                            double deadline);

/* The parent `by` restarted k->down, within its intensity: the siblings
 * its strategy names were stopped one at a time in reverse spec order,
 * each within its shutdown, and came back (temporary ones removed) in
 * spec order after the exited child's backoff. */
void judge_group_restart(struct engine *e, const struct crash *k,
                         double deadline);
/* k->down was not restarted and is temporary: its parent, alive, no
 * longer lists it. */
void judge_removed(struct engine *e, const struct crash *k, double deadline);
/* `p` crossed its intensity when `exited` exited: its other children were
 * stopped one at a time in reverse spec order before it went down. */
void judge_intensity_stops(struct engine *e, const struct crash *k,
                           const struct tree_node *p,
                           const struct tree_node *exited, double deadline);
/* k->node ended with stop_order reverse: its children went one at a time,
 * last first. */
void judge_own_stop_order(struct engine *e, const struct crash *k,
                          double deadline);

/* ---- isolation: one reading of every node's fds, on every host -------- */

struct iso_node {
  struct live_node *ln;
  size_t hix;           /* its host: 0 this machine, 1 + i the i-th far */
  struct host *h;
  struct fd_list fds;
  struct proc_info pi;
  size_t nchildren;     /* in its host's /proc, zombies included */
  bool gone;
  bool hop_top;         /* its parent runs on another host (or it is the
                           root): its stdio's other ends are no node's */
  char on[80];          /* "" here, " on h1" for a far node */
};

/* A pipe: its host and inode (inodes are per machine). */
struct iso_pipe {
  size_t hix;
  unsigned long long ino;
};

/* A pipe of an edge below a node, and that node's snapshot index. */
struct iso_edge {
  struct iso_pipe p;
  long parent;
};

/* An ssh client that carries a far child of snapshot node `node`. */
struct iso_client {
  size_t node;
  struct proc_info pi;
  struct fd_list fds;
};

struct iso_snapshot {
  struct iso_node *v;
  size_t n;
  struct iso_client *clients;
  size_t nclients;
  long *index;          /* node table index -> snapshot index, or -1 */
  struct readings rd;   /* every host's process table */
  struct iso_edge *edges; /* sorted by pipe once all are in */
  size_t nedges, capedges;
};

/* Append pipe p as an edge below snapshot node `parent`; -1: no memory. */
int iso_add_edge(struct iso_snapshot *s, struct iso_pipe p, long parent);
/* The ssh clients that carry s->v[self]'s far children (its non-node
 * children named "ssh" on its host): their pipes go into s's edges as
 * edges below it. -1 when out of memory. */
int iso_hop_edges(struct iso_snapshot *s, long self);
void iso_hop_free(struct iso_snapshot *s);
/* Judge the two halves of each hop: each ssh client holds only its edge
 * (three pipes its parent node holds once each and nobody else), its
 * socket and /dev/null; each far node's stdio is held by its sshd
 * session. Returns the failures. */
size_t iso_judge_hops(struct engine *e, const struct iso_snapshot *s,
                      const char *when);
/* Could pi, on sn's host, be an ssh client of sn's (a child named "ssh"
 * of a node with far children)? The caller rules out that it is a node. */
bool iso_is_client(const struct iso_node *sn, const struct proc_info *pi);
/* Is pid, on host hix, one of the snapshot's nodes? */
bool iso_is_node(const struct iso_snapshot *s, size_t hix, pid_t pid);

#endif
