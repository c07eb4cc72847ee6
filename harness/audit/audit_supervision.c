/* audit_supervision.c — what a supervising parent did beyond the exited
 * child, judged from the harness's own observations: the order in which
 * processes died (the crash's exit watch, a pidfd each on its own host),
 * the order in which the new ones started (/proc start time, then pid),
 * how long each stop took against the child's shutdown, the gap before a
 * restart against its backoff — each cross-checked with the parent's
 * :stats :exits, never taken from it. On every host alike: what a parent
 * did is judged among its children on its own host. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* Late bounds (ms): a stop may end this long after its shutdown bound, a
 * restart this long after its backoff — the parent's own latency (its
 * reap, its timer, the spawn) on a loaded machine: 250 ms, plus a 40th of
 * the slack (engine_slack_ms: 1.5 s, so 287 ms; a sanitized run's 20 s
 * makes it 750 ms). Only the
 * parent's reaction is timed, not a child's start-up, so the bound stays
 * tight. A restart may come one /proc clock tick early (start times are
 * in ticks). */
enum { STOP_LATE_MS = 250, BACKOFF_LATE_MS = 250, EARLY_MS = 25 };

static double late_ms(int base) { return base + engine_slack_ms() / 40; }

/* The early side widens too (a 50th of the slack: 55 ms by default, 105
 * ms in the plain suites, 425 ms in a sanitized run), for the watch thread
 * may see the death a stop is timed from late when the machine is loaded,
 * which shortens the stop it measures: CI's plain suites saw a 200 ms
 * shutdown end 139.5 ms after the death before it. */
static double early_ms(void) { return EARLY_MS + engine_slack_ms() / 50; }

static double tick_ms(void) {
  long hz = sysconf(_SC_CLK_TCK);
  return 1000.0 / (double)(hz > 0 ? hz : 100);
}

pid_t crash_before_pid(const struct crash *k, const struct tree_node *t,
                       unsigned long long *start) {
  for (size_t i = 0; i < k->nbefore; i++)
    if (k->before[i].t == t && k->before[i].state == NODE_ALIVE) {
      if (start)
        *start = k->before[i].start;
      return k->before[i].pid;
    }
  return 0;
}

/* ---- hosts: whose instants compare ------------------------------------- */

/* Is t on its parent's host? Only then are t's death and start the
 * parent's own acts on the parent's clock. A child on another host is
 * started and stopped through its ssh client, a process of the parent's
 * host: the far node itself dies when the hop brings it EOF (after its
 * client is killed, or later when it reads nothing) and starts once ssh
 * has connected — instants of the hop, not of its parent's order. And
 * instants of two hosts do not compare at all: each is stamped with its
 * own host's CLOCK_BOOTTIME, and /proc start times count from that host's
 * boot. So order, stop times and backoff are judged among a parent's
 * children on its host (a far group under a far parent included), and a
 * stop timed from a death on another host is not judged. */
static bool here(const struct engine *e, const struct tree_node *t) {
  return t->parent && engine_host(e, t) == engine_host(e, t->parent);
}

/* " on h1" for a node on another host, "" for this machine's. */
static const char *on_host(const struct tree_node *t, char *buf, size_t n) {
  const char *w = node_where(t);
  snprintf(buf, n, "%s%s", w ? " on " : "", w ? w : "");
  return buf;
}

/* The far hosts' readings of the watch brought up to date. False when
 * the watch of one of v (n nodes) failed on its host (failed here,
 * naming why: what their parent did there cannot be judged). */
static bool refresh(struct engine *e, const struct crash *k,
                    const struct tree_node *const *v, size_t n) {
  watch_refresh(k->watch);
  for (size_t i = 0; i < n; i++) {
    const char *why = watch_error(k->watch, v[i]);
    if (why) {
      engine_fail(e, PROP_CONTAINMENT, "containment: when %s's children "
                  "died cannot be told: %s", v[i]->parent->path, why);
      return false;
    }
  }
  return true;
}

/* Is t out of the watch for a reason that leaves nothing to judge (over
 * 256 processes, or gone before it began)? A far host's failed watch is
 * no such reason: the waits below fail, naming it. */
static bool unwatched(const struct crash *k, const struct tree_node *t) {
  return !k->watch ||
         (watch_died(k->watch, t) < 0 && !watch_error(k->watch, t));
}

static const char *policy_word(enum policy p) {
  return p == POLICY_ONE_FOR_ALL ? "one_for_all"
         : p == POLICY_REST_FOR_ONE ? "rest_for_one" : "restart";
}

/* ---- stops: who died when --------------------------------------------- */

/* Wait (bounded) until every node of `v` alive before the crash has
 * died in the watch, reading the far hosts' part each time round: 1; 0
 * for the first that did not (named in *late); -1 when a host's watch of
 * them failed (failed here). */
static int await_deaths(struct engine *e, const struct crash *k,
                        const struct tree_node *const *v, size_t n,
                        double deadline, const struct tree_node **late) {
  deadline = crash_death_deadline(e, k, deadline);
  for (;;) {
    *late = NULL;
    if (!refresh(e, k, v, n))
      return -1;
    for (size_t i = 0; i < n && !*late; i++)
      if (crash_before_pid(k, v[i], NULL) && watch_died(k->watch, v[i]) == 0)
        *late = v[i];
    if (!*late)
      return 1;
    if (engine_now_ms() > deadline || e->interrupted ||
        engine_pump(e, 10, false) < 0)
      return 0;
  }
}

/* `v` (p's children, in spec order) must have died last first: any pair
 * on p's host seen dying in spec order (strictly: one wake-up of the
 * watch orders nothing) fails. */
static void judge_reverse(struct engine *e, const struct crash *k,
                          const struct tree_node *p,
                          const struct tree_node *const *v, size_t n,
                          const char *why) {
  char on[80];
  for (size_t i = 0; i + 1 < n; i++)
    for (size_t j = i + 1; j < n; j++) {
      long long a = watch_died(k->watch, v[i]), b = watch_died(k->watch, v[j]);
      if (a <= 0 || b <= 0 || a >= b || !here(e, v[i]) || !here(e, v[j]))
        continue;
      engine_fail(e, PROP_CONTAINMENT, "containment: %s%s stopped %s before "
                  "%s (%s; the harness saw them die %.1f ms apart): children "
                  "are stopped one at a time in reverse spec order, %s first",
                  p->path, on_host(p, on, sizeof on), v[i]->path, v[j]->path,
                  why, (double)(b - a) / 1e6, v[j]->name);
      return;
    }
}

/* The children of p alive before the crash, in spec order, but `skip`. */
static size_t live_children(const struct crash *k, const struct tree_node *p,
                            const struct tree_node *skip,
                            const struct tree_node **out, size_t max) {
  size_t n = 0;
  for (size_t i = 0; i < p->nchildren && n < max; i++)
    if (p->children[i] != skip && crash_before_pid(k, p->children[i], NULL))
      out[n++] = p->children[i];
  return n;
}

enum { GROUP_MAX = 256 };

void judge_intensity_stops(struct engine *e, const struct crash *k,
                           const struct tree_node *p,
                           const struct tree_node *exited, double deadline) {
  const struct tree_node *v[GROUP_MAX], *late;
  if (unwatched(k, p))
    return; /* nothing to judge the order by */
  size_t n = live_children(k, p, exited, v, GROUP_MAX);
  if (await_deaths(e, k, v, n, deadline, &late) == 1)
    judge_reverse(e, k, p, v, n, "crossing its restart intensity");
}

void judge_own_stop_order(struct engine *e, const struct crash *k,
                          double deadline) {
  const struct tree_node *v[GROUP_MAX], *late;
  if (!k->watch || node_stop_order(k->node) != STOP_REVERSE)
    return;
  size_t n = live_children(k, k->node, NULL, v, GROUP_MAX);
  if (await_deaths(e, k, v, n, deadline, &late) == 1)
    judge_reverse(e, k, k->node, v, n, "its own end, stop_order reverse");
}

/* ---- one stop's time against its shutdown ------------------------------ */

static bool killed(const edn_value *rep) {
  const edn_value *st = rep ? edn_map_getk(rep, "status") : NULL;
  const edn_value *sig = st ? edn_map_getk(st, "signal") : NULL;
  return sig && sig->type == EDN_INT && sig->u.integer == 9;
}

/* s was stopped from `from_ns` (the previous death) to its own death. */
static void judge_stop_time(struct engine *e, const struct crash *k,
                            const struct tree_node *s, long long from_ns,
                            double deadline) {
  long long to = watch_died(k->watch, s);
  if (from_ns <= 0 || to <= 0)
    return;
  double took = (double)(to - from_ns) / 1e6;
  pid_t pid = crash_before_pid(k, s, NULL);
  const struct tree_node *from = NULL;
  const edn_value *rep = engine_exit_report(e, s, pid, deadline, &from);
  long b = node_shutdown_bound_ms(s);
  if (!rep) {
    engine_fail(e, PROP_CONTAINMENT, "containment: %s stopped %s (pid %d) "
                "but its :stats :exits does not record that exit",
                s->parent->path, s->path, (int)pid);
    return;
  }
  const char *bad = NULL;
  if (b == 0 && !killed(rep))
    bad = "its shutdown is brutal_kill, but it was not SIGKILLed";
  else if (b > 0 && killed(rep) && took < (double)b - early_ms())
    bad = "it was SIGKILLed before its shutdown_ms";
  else if (b >= 0 && took > (double)b + late_ms(STOP_LATE_MS))
    bad = "it took longer than its shutdown bound allows";
  else if (b < 0 && killed(rep))
    bad = "its shutdown is infinity, but it was SIGKILLed";
  if (bad) {
    char *t = edn_to_string(rep), on[80];
    engine_fail(e, PROP_CONTAINMENT, "containment: %s (pid %d%s) stopped in "
                "%.1f ms (shutdown bound %ld ms, late bound +%.0f ms): %s; "
                "its exit: %.200s", s->path, (int)pid, on_host(s, on, sizeof on),
                took, b, late_ms(STOP_LATE_MS), bad, t ? t : "?");
    free(t);
  }
}

/* ---- starts: who came back, in which order ------------------------------ */

/* Is process (sa, pa) started after (sb, pb)? Start ticks first; within
 * one tick the pid, allowing for a wrap at pid_max. */
static bool started_after(unsigned long long sa, pid_t pa,
                          unsigned long long sb, pid_t pb) {
  if (sa != sb)
    return sa > sb;
  long d = (long)pa - (long)pb;
  return (d > 0 && d < 16384) || d < -16384;
}

/* Wait (bounded) until each node of v has a new process known to the
 * engine (its claim checked against /proc); false when one never does. */
static bool await_new(struct engine *e, const struct tree_node *const *v,
                      size_t n, double deadline, const struct tree_node **late) {
  for (;;) {
    *late = NULL;
    for (size_t i = 0; i < n && !*late; i++) {
      const struct live_node *ln = engine_live(e, v[i]);
      if (!ln || !ln->pid || !ln->start)
        *late = v[i];
    }
    if (!*late || engine_now_ms() > deadline || e->interrupted)
      return !*late;
    /* the refresh gets the step's bound, not what is left of the wait
     * (one begun just before it ran out would read as a silent root) */
    if (engine_any_held(e) ||
        engine_refresh(e, engine_now_ms() + (double)e->s->timeout_ms) < 0 ||
        engine_pump(e, 20, false) < 0)
      return false;
  }
}

/* v (p's children back, in spec order) started in that order: each pair
 * of neighbours among those on p's host (a start time and a pid order
 * only one host's processes, and a far child starts when its ssh has
 * connected), by that host's /proc. */
static void judge_start_order(struct engine *e, const struct tree_node *p,
                              const struct tree_node *const *v, size_t n) {
  const struct tree_node *prev = NULL;
  char on[80];
  for (size_t i = 0; i < n; i++) {
    if (!here(e, v[i]))
      continue;
    const struct live_node *a = prev ? engine_live(e, prev) : NULL;
    const struct live_node *b = engine_live(e, v[i]);
    if (a && started_after(a->start, a->pid, b->start, b->pid)) {
      engine_fail(e, PROP_CONTAINMENT, "containment: %s%s started %s (pid "
                  "%d) after %s (pid %d): a restart starts children in spec "
                  "order (/proc start times %llu, %llu)", p->path,
                  on_host(p, on, sizeof on), prev->path, (int)a->pid,
                  v[i]->path, (int)b->pid, a->start, b->start);
      return;
    }
    prev = v[i];
  }
}

/* "n" or "n1 or n2 ..." for the restarts in a row `may` holds, and the
 * waits they mean, into buf. */
static void say_rows(const struct tree_node *t, uint32_t may, char *rows,
                     size_t nrows, char *waits, size_t nwaits) {
  size_t r = 0, w = 0;
  rows[0] = waits[0] = '\0';
  for (unsigned n = 1; n < 32; n++) {
    if (!(may & (1u << n)))
      continue;
    const char *sep = r ? " or " : "";
    r += (size_t)snprintf(rows + r, r < nrows ? nrows - r : 0, "%s%u", sep, n);
    w += (size_t)snprintf(waits + w, w < nwaits ? nwaits - w : 0, "%s%ld",
                          sep, node_backoff_ms(t, n));
  }
}

/* The exited child's new process started no earlier than its backoff
 * after the old one died, and not much later. Which restart in a row it
 * is depends on how long the runtime saw the old process up: from the
 * harness's own start and death times, within a tick below and the late
 * bound above (the runtime's reap may come that late). Where that spans
 * the period, either count is right; the gap seen tells which, and the
 * count goes on from what it told. */
static void judge_backoff(struct engine *e, const struct crash *k) {
  const struct tree_node *down = k->down;
  if (down->backoff_base_ms < 0 || !here(e, down) || !refresh(e, k, &down, 1))
    return; /* no backoff; or its death and start are its hop's (here()) */
  long long died = watch_died(k->watch, k->down);
  const struct live_node *ln = engine_live(e, k->down);
  if (!k->backoff_may || died <= 0 || !ln || !ln->start)
    return;
  double period = (double)node_restart_period_ms(k->down->parent);
  uint32_t may = k->backoff_may;
  if (k->down_start) {
    double up = (double)died / 1e6 - (double)k->down_start * tick_ms();
    may &= engine_backoff_step(k->backoff_was, up - tick_ms(),
                               up + late_ms(BACKOFF_LATE_MS), period);
  }
  double born = (double)ln->start * tick_ms();
  double gap = born - (double)died / 1e6;
  uint32_t fits = 0;
  for (unsigned n = 1; n < 32; n++) {
    long want = node_backoff_ms(k->down, n);
    if ((may & (1u << n)) && gap >= (double)want - early_ms() &&
        gap <= (double)want + late_ms(BACKOFF_LATE_MS))
      fits |= 1u << n;
  }
  if (fits) {
    engine_backoff_learn(e, k->down, fits);
    return;
  }
  char rows[160], waits[160];
  say_rows(k->down, may, rows, sizeof rows, waits, sizeof waits);
  engine_fail(e, PROP_CONTAINMENT, "containment: %s came back %.0f ms after "
              "it died, but restart %s in a row waits %s ms "
              "(restart_backoff_ms [%ld, %ld]; the count starts again after "
              "%ld ms up; bounds -%.0f/+%.0f ms)", k->down->path, gap, rows,
              waits, k->down->backoff_base_ms, k->down->backoff_max_ms,
              (long)period, early_ms(), late_ms(BACKOFF_LATE_MS));
}

/* ---- the group --------------------------------------------------------- */

/* The siblings k's group restart stops, in spec order; *pos is where the
 * exited child would stand among them. */
static size_t group_of(const struct crash *k, const struct tree_node **out) {
  size_t n = 0;
  const struct tree_node *p = k->down->parent;
  for (size_t i = 0; i < p->nchildren && n < GROUP_MAX; i++)
    if (p->children[i] != k->down && engine_crash_touches(k, p->children[i]))
      out[n++] = p->children[i];
  return n;
}

/* Where the exit of `pid` stands in an :exits vector, or -1. */
static long exit_index(const edn_value *exits, pid_t pid) {
  for (size_t i = 0; exits && exits->type == EDN_VECTOR && i < exits->u.seq.len; i++) {
    const edn_value *x = edn_map_getk(exits->u.seq.items[i], "pid");
    if (x && x->type == EDN_INT && x->u.integer == pid)
      return (long)i;
  }
  return -1;
}

/* The parent's :exits cross-checked with the watch: two stops the harness
 * saw die over ORDER_GAP_MS apart are recorded in that order. (Closer
 * ones may be reaped either way round.) */
enum { ORDER_GAP_MS = 50 };
static void judge_exits_order(struct engine *e, const struct crash *k,
                              const struct tree_node *const *g, size_t n,
                              double deadline) {
  const struct tree_node *p = k->down->parent;
  edn_value *req = edn_coll(e->arena, EDN_MAP), *rep = NULL;
  edn_map_putk(e->arena, req, "op", edn_keyword(e->arena, "stats"));
  if (engine_any_held(e) || engine_request(e, p, req, deadline, &rep) < 0)
    return;
  const edn_value *exits = edn_map_getk(rep, "exits");
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++) {
      if (!here(e, g[i]) || !here(e, g[j]))
        continue;
      long long a = watch_died(k->watch, g[i]), b = watch_died(k->watch, g[j]);
      long ia = exit_index(exits, crash_before_pid(k, g[i], NULL));
      long ib = exit_index(exits, crash_before_pid(k, g[j], NULL));
      if (a <= 0 || b <= 0 || b - a <= ORDER_GAP_MS * 1000000LL || ia < 0 ||
          ib < 0 || ia < ib)
        continue;
      engine_fail(e, PROP_CONTAINMENT, "containment: %s's :stats :exits "
                  "records %s's exit before %s's, but the harness saw %s die "
                  "%.0f ms earlier", p->path, g[j]->path, g[i]->path,
                  g[i]->path, (double)(b - a) / 1e6);
      return;
    }
}

/* The stops, last first, each timed from the death before it. False when
 * one never came (failed here). */
static bool judge_stops(struct engine *e, const struct crash *k,
                        const struct tree_node *const *g, size_t n,
                        double deadline) {
  const struct tree_node *p = k->down->parent, *late;
  int got = await_deaths(e, k, g, n, deadline, &late);
  char on[80], lon[80];
  if (got == 0)
    engine_fail(e, PROP_CONTAINMENT, "containment: %s%s (%s) did not stop "
                "its child %s (pid %d%s) after %s exited: it still runs",
                p->path, on_host(p, on, sizeof on), policy_word(k->o.strategy),
                late->path, (int)crash_before_pid(k, late, NULL),
                here(e, late) ? "" : on_host(late, lon, sizeof lon),
                k->down->path);
  if (got != 1)
    return false;
  judge_reverse(e, k, p, g, n, policy_word(k->o.strategy));
  /* each stop is timed from the death before it, both on p's host */
  long long prev = here(e, k->down) ? watch_died(k->watch, k->down) : 0;
  for (size_t i = n; i-- > 0;) {
    if (!crash_before_pid(k, g[i], NULL))
      continue;
    bool ours = here(e, g[i]);
    if (ours)
      judge_stop_time(e, k, g[i], prev, deadline);
    prev = ours ? watch_died(k->watch, g[i]) : 0;
  }
  judge_exits_order(e, k, g, n, deadline);
  return true;
}

void judge_group_restart(struct engine *e, const struct crash *k,
                         double deadline) {
  const struct tree_node *g[GROUP_MAX], *back[GROUP_MAX + 1], *late;
  const struct tree_node *p = k->down->parent;
  if (unwatched(k, k->down))
    return; /* a parent of over 256 children */
  size_t n = group_of(k, g), nb = 0;
  if (!judge_stops(e, k, g, n, deadline))
    return; /* a sibling still runs: waiting for its restart adds nothing */
  for (size_t i = 0; i < p->nchildren; i++) {
    const struct tree_node *c = p->children[i];
    const struct live_node *ln = engine_live(e, c);
    if ((c == k->down || engine_crash_touches(k, c)) && ln &&
        ln->state == NODE_ALIVE && nb <= GROUP_MAX)
      back[nb++] = c;
  }
  /* the slack on top, as judge_last's wait for the exited child has it */
  double until = deadline + engine_slack_ms() +
                 (double)node_backoff_ms(k->down,
                                         engine_backoff_most(k->backoff_may));
  if (!await_new(e, back, nb, until, &late)) {
    engine_fail(e, PROP_CONTAINMENT, "containment: %s (%s) did not bring %s "
                "back: no new process under it answers", p->path,
                policy_word(k->o.strategy), late->path);
    return;
  }
  judge_start_order(e, p, back, nb);
  judge_backoff(e, k);
}

void judge_removed(struct engine *e, const struct crash *k, double deadline) {
  const struct tree_node *p = k->down->parent;
  edn_value *req = edn_coll(e->arena, EDN_MAP), *rep = NULL;
  edn_map_putk(e->arena, req, "op", edn_keyword(e->arena, "fan"));
  if (engine_any_held(e) || engine_request(e, p, req, deadline, &rep) < 0)
    return;
  const edn_value *reps = edn_map_getk(rep, "replies");
  for (size_t i = 0; reps && reps->type == EDN_VECTOR && i < reps->u.seq.len;
       i++) {
    const edn_value *name = edn_map_getk(reps->u.seq.items[i], "node");
    if (name && name->type == EDN_STRING &&
        !strcmp(name->u.text.ptr, k->down->name)) {
      char *t = edn_to_string(reps->u.seq.items[i]);
      engine_fail(e, PROP_CONTAINMENT, "containment: %s still lists its "
                  "temporary child %s after it exited (a temporary child is "
                  "removed): %.200s", p->path, k->down->path, t ? t : "?");
      free(t);
      return;
    }
  }
}
