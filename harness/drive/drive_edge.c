/* drive_edge.c — the steps on the hop of a far node (`edge:`), which is no
 * node: a kill of its ssh client here or of its sshd session there, and a
 * silent partition (the client held with SIGSTOP, then released). Each
 * signal goes to the process with the pid and start time the harness
 * found, on its own host (through the probe when that is far). */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "htrace.h"
#include "internal.h"

/* Step i's node alive, its hop's two halves found, the crash begun. 0;
 * -1 (a step failure recorded) or -EINTR. */
static int begin(struct engine *e, size_t i, double deadline,
                 struct crash *k) {
  const struct step *st = &e->s->steps[i];
  int rc;
  if (!drive_alive_node(e, i, deadline, &rc))
    return rc;
  struct edge_ends x;
  char why[400], where[600];
  if (engine_edge_find(e, st->node, &x, why, sizeof why) < 0) {
    drive_step_where(e, i, where, sizeof where);
    engine_step_fail(e, "%s: cannot find the hop of %s: %s", where,
                     st->node->path, why);
    return -1;
  }
  rc = engine_crash_begin(e, st->node, k, deadline);
  if (rc < 0)
    return rc;
  k->step = i;
  k->edge = st->edge;
  k->ends = x;
  return 0;
}

/* Signal one half of k's hop; on failure a step failure, the crash
 * dropped, -1. */
static int signal_half(struct engine *e, size_t i, struct crash *k,
                       enum step_edge half, int sig) {
  const struct edge_ends *x = &k->ends;
  bool client = half == EDGE_CLIENT;
  struct host *h = client ? x->near : x->far;
  pid_t pid = client ? x->client : x->session;
  htrace_signal(e, k->node, pid, sig, client ? "edge-client" : "edge-session");
  int rc = host_signal(h, pid, client ? x->client_start : x->session_start, sig);
  if (rc == 0)
    return 0;
  char where[600];
  drive_step_where(e, i, where, sizeof where);
  engine_step_fail(e, "%s: signal %d to the %s of %s's hop (pid %d on %s): "
                   "%s", where, sig, client ? "ssh client" : "sshd session",
                   k->node->path, (int)pid, host_name(h), strerror(-rc));
  engine_crash_drop(k);
  return -1;
}

int drive_edge_kill(struct engine *e, size_t i, struct crash *out) {
  const struct step *st = &e->s->steps[i];
  struct crash k;
  int rc = begin(e, i, drive_step_deadline(e, st), &k);
  if (rc < 0)
    return rc;
  k.signal = st->signal; /* the loader allows only signals that end it */
  if (signal_half(e, i, &k, st->edge, st->signal) < 0)
    return -1;
  e->map_dirty = true;
  *out = k; /* its parent sees the far node lost: the caller judges it */
  return 0;
}

int drive_edge_hold(struct engine *e, size_t i, struct crash *out) {
  const struct step *st = &e->s->steps[i];
  struct crash k;
  int rc = begin(e, i, drive_step_deadline(e, st), &k);
  if (rc < 0)
    return rc;
  if (signal_half(e, i, &k, EDGE_CLIENT, SIGSTOP) < 0)
    return -1;
  struct live_node *ln = engine_live(e, st->node);
  ln->edge_held = k.ends.client;
  ln->edge_held_start = k.ends.client_start;
  k.partition = true;
  k.t0 = engine_now_ms();
  drive_wait_state(e, k.ends.near, k.ends.client, true, k.t0 + 1000);
  /* The step holds until the far side has gone by itself (sshd gave up
   * on the silent client), bounded by the stated partition bound, not
   * the step's timeout: releasing sooner would only resume the hop. The
   * caller's cascade judges what is left. */
  rc = engine_edge_far_gone(e, st->node, k.before, k.nbefore, &k.ends,
                            k.t0 + engine_partition_bound_ms(st->node));
  if (rc == -EINTR) {
    engine_crash_drop(&k);
    return rc;
  }
  *out = k;
  return 0;
}

int drive_edge_release(struct engine *e, size_t i, struct crash *out) {
  const struct step *st = &e->s->steps[i];
  struct live_node *ln = engine_live(e, st->node);
  char where[600];
  drive_step_where(e, i, where, sizeof where);
  if (!ln || !ln->edge_held) {
    engine_step_fail(e, "%s: the ssh client of %s is not held (release: "
                     "{edge: client} follows a hold: {edge: client})", where,
                     st->node->path);
    return -1;
  }
  /* The crash: the far node as its parent will see it once the client,
   * running again, finds its connection dead and exits 255 (:lost). Its
   * far side is gone already, judged at the hold. */
  struct crash k;
  int rc = engine_crash_begin(e, st->node, &k, drive_step_deadline(e, st));
  if (rc < 0) {
    engine_step_fail(e, "%s: %s is not alive in the model", where,
                     st->node->path);
    return rc == -EINTR ? rc : -1;
  }
  k.step = i;
  k.edge = EDGE_CLIENT;
  k.signal = SIGKILL; /* a lost hop reads as a far node killed */
  k.ends.near = engine_host(e, st->node->parent);
  k.ends.client = ln->edge_held;
  k.ends.client_start = ln->edge_held_start;
  ln->edge_held = 0;
  if (signal_half(e, i, &k, EDGE_CLIENT, SIGCONT) < 0)
    return -1;
  e->map_dirty = true;
  *out = k;
  return 0;
}
