/* run.c — the order of a run, and nothing else: launch the root, learn the
 * tree, audit isolation at the start, drive each step (judging every crash
 * a step hands back), release what the scenario left held, the end's
 * audits, the cascade at the end (always: nothing is left behind), the
 * far hosts' traces collected, the replies, the results. Every mechanism lives below, in the engine. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "drive.h"
#include "htrace.h"
#include "run.h"

static void progress(struct engine *e, size_t i) {
  if (!e->o->progress)
    return;
  fprintf(e->o->progress, "\r\033[K%s: step %zu/%zu", e->s->name, i + 1,
          e->s->nsteps);
  fflush(e->o->progress);
}

/* Time an audit into e->ms[p]. */
static void timed(struct engine *e, enum property p, void (*audit)(struct engine *)) {
  double t = engine_now_ms();
  audit(e);
  e->ms[p] += engine_now_ms() - t;
}

/* A crash a step caused, judged by cascade and containment when listed,
 * between the engine's counting and its update of the table. */
static void judge_crash(struct engine *e, struct crash *k) {
  if (k->partition) { /* no crash yet: only the far side's going */
    audit_edge_partition(e, k);
    engine_crash_drop(k);
    return;
  }
  engine_crash_count(e, k);
  if (engine_listed(e, PROP_CASCADE)) {
    double t = engine_now_ms();
    audit_cascade_crash(e, k);
    e->ms[PROP_CASCADE] += engine_now_ms() - t;
  }
  if (engine_listed(e, PROP_CONTAINMENT) && !k->closing) {
    double t = engine_now_ms();
    audit_containment_crash(e, k);
    e->ms[PROP_CONTAINMENT] += engine_now_ms() - t;
  }
  engine_crash_end(e, k);
}

/* What step i spawned exists now in the model: the next refresh learns
 * its pids. True when there was any. */
static bool spawned_by(struct engine *e, size_t i) {
  bool any = false;
  for (size_t k = 0; k < e->nnodes; k++)
    if (e->nodes[k].t->spawn_step == (long)i &&
        e->nodes[k].state == NODE_PENDING) {
      e->nodes[k].state = NODE_ALIVE;
      e->map_dirty = any = true;
    }
  return any;
}

/* After step i, which changed the tree (or chaos asks) and ended at
 * `ended`: the tree matches its model, and nothing lingers. */
static void after_step(struct engine *e, size_t i, bool changed, double ended) {
  const struct step *st = &e->s->steps[i];
  char when[96];
  if (changed) {
    snprintf(when, sizeof when, "after step %zu", i + 1);
    audit_topology(e, when, ended);
  }
  snprintf(when, sizeof when, "after step %zu (%s)", i + 1,
           st->send_text ? "a request" : "an action");
  audit_leftovers(e, when);
}

static void run_steps(struct engine *e) {
  for (size_t i = 0; i < e->s->nsteps; i++) {
    progress(e, i);
    struct crash k;
    int rc = drive_step(e, i, &k);
    /* the change the tree settles from: the crash judgement below may
     * take a while, and topology's settle time counts from here */
    double ended = engine_now_ms();
    /* a partition changes nothing the model or a :fan could see yet */
    bool changed = k.node != NULL && !k.partition;
    if (k.node)
      judge_crash(e, &k);
    changed |= spawned_by(e, i) || e->s->steps[i].action == STEP_SPAWN;
    if (rc == 0 && (changed || e->s->steps[i].scan_after))
      after_step(e, i, changed, ended);
    if (rc == 0)
      continue;
    if (rc == -EINTR)
      engine_step_fail(e, "interrupted at step %zu", i + 1);
    e->r->failed_step = (long)i;
    break;
  }
  if (e->o->progress) {
    fprintf(e->o->progress, "\r\033[K");
    fflush(e->o->progress);
  }
}

/* SIGCONT what the scenario left stopped, each on its own host (a held
 * node on its host, a held hop's ssh client on its parent's): the end
 * needs a running tree. */
static void release_all(struct engine *e) {
  for (size_t i = 0; i < e->nnodes; i++) {
    struct live_node *ln = &e->nodes[i];
    if (ln->held) {
      htrace_signal(e, ln->t, ln->pid, SIGCONT, "end");
      host_signal(engine_host(e, ln->t), ln->pid, ln->start, SIGCONT);
      ln->held = false;
    }
    if (ln->edge_held) {
      htrace_signal(e, ln->t, ln->edge_held, SIGCONT, "end");
      host_signal(engine_host(e, ln->t->parent), ln->edge_held,
                  ln->edge_held_start, SIGCONT);
      ln->edge_held = 0;
    }
  }
}

static void isolation_at_start(struct engine *e) { audit_isolation(e, "at the start"); }
static void isolation_at_end(struct engine *e) { audit_isolation(e, "at the end"); }

static void run_audits(struct engine *e) {
  bool alive = !e->interrupted && proctree_alive(e->root_pid, e->root_start);
  if (!e->mapped) { /* without pids there is nothing to judge them on */
    for (int p = PROP_ISOLATION; p < PROP_COUNT; p++)
      if (p != PROP_CASCADE && engine_listed(e, (enum property)p))
        engine_fail(e, (enum property)p, "%s: cannot be judged: the tree "
                    "never answered the harness's first :inspect",
                    property_name((enum property)p));
    return;
  }
  if (engine_listed(e, PROP_ISOLATION) && alive &&
      engine_ensure_map(e, engine_now_ms() + (double)e->s->timeout_ms) == 0)
    timed(e, PROP_ISOLATION, isolation_at_end);
  if (engine_listed(e, PROP_BACKPRESSURE) && alive)
    timed(e, PROP_BACKPRESSURE, audit_backpressure);
  else if (engine_listed(e, PROP_BACKPRESSURE))
    engine_fail(e, PROP_BACKPRESSURE, "backpressure: cannot be judged: the "
                "tree is gone before the end of the scenario");
  if (engine_listed(e, PROP_CONTAINMENT) && !e->ncrashes && !e->fail[PROP_CONTAINMENT])
    engine_fail(e, PROP_CONTAINMENT, "containment: the scenario has no crash "
                "step (a :panic sent or a kill) to judge");
}

/* A launched root: learn the tree, drive it, judge it while it stands. */
static void run_tree(struct engine *e) {
  /* The first :inspect waits for every node to start: the step's bound
   * plus the loaded machine's slack, as cascade's and topology's waits
   * get it (CI's sanitized stage once missed 5 s starting 7 nodes). */
  double first = (double)e->s->timeout_ms + engine_slack_ms();
  if (engine_refresh(e, engine_now_ms() + first) == 0) {
    e->mapped = true;
    audit_topology(e, "at the start", engine_now_ms());
    if (engine_listed(e, PROP_ISOLATION))
      timed(e, PROP_ISOLATION, isolation_at_start);
    run_steps(e);
  } else {
    e->r->failed_step = 0;
  }
  release_all(e);
  if (e->mapped && !e->interrupted) {
    audit_topology(e, "at the end", engine_now_ms());
    audit_leftovers(e, "at the end");
  }
  run_audits(e);
}

/* The end, whatever came before: the cascade (which kills and reaps
 * whatever is left), the replies, and the run's own failures. */
static void run_end(struct engine *e) {
  timed(e, PROP_CASCADE, audit_cascade_end);
  htrace_root_exited(e);
  engine_stop(e);
  engine_far_trace_collect(e); /* the tree is gone: its far files are whole */
  timed(e, PROP_REPLIES, audit_replies_end);
  if (e->interrupted)
    engine_step_fail(e, "interrupted by signal %d: the tree was killed",
                     session_interrupted());
  if (e->internal_error)
    engine_step_fail(e, "harness: out of memory while running");
}

int run_scenario(const struct scenario *s, const struct run_opts *o,
                 struct scenario_result *r) {
  double t0 = engine_now_ms();
  memset(r, 0, sizeof *r);
  r->scenario = s;
  r->failed_step = -1;
  struct engine e;
  char err[512] = "";
  int rc = engine_init(&e, s, o, r);
  if (rc == 0)
    rc = engine_start(&e, err, sizeof err);
  else
    snprintf(err, sizeof err, "out of memory");
  if (rc == -1) {
    r->steps.verdict = VERDICT_FAIL;
    r->steps.summary = strdup(err[0] ? err : "internal error");
    engine_free(&e);
    r->ms = engine_now_ms() - t0;
    return -1;
  }
  if (rc == 0)
    run_tree(&e);
  else
    engine_step_fail(&e, "launch: %s", err);
  run_end(&e);
  engine_fill_result(&e);
  htrace_verdict(&e);
  engine_free(&e);
  r->ms = engine_now_ms() - t0;
  return 0;
}
