/* chaos.h — seeded, reproducible rounds of kills, holds, panics and spawns
 * against a live tree while requests flow (the library side of `treeproof
 * chaos`, whose command line is cli_chaos.c).
 *
 * A chaos run is a scenario: the plan (a pure function of the tree, the
 * seed and the round count) is written as scenario YAML with the tree of
 * the given file and generated steps, loaded by the ordinary loader and run
 * by run_scenario(), so the engine's launch, drive and auditors judge it. */
#ifndef TREEPROOF_CHAOS_H
#define TREEPROOF_CHAOS_H

#include <stdbool.h>
#include <stdint.h>

#include "edn.h"
#include "run.h"
#include "scenario.h"

struct chaos_plan {
  struct edn_buf yaml;  /* the generated scenario (NUL-terminated) */
  size_t nsteps;
  unsigned *round_of;   /* round (1-based) of each step, nsteps entries */
  char **what;          /* a one-line description of each step */
  size_t actions;       /* kills, holds, panics, spawns */
  size_t requests;      /* pings, echoes and spawns sent with an expect */
  size_t crashes;       /* kills and panics */
  size_t restarts;      /* of those, how many the model expects restarted */
  size_t escalations;   /* levels crashes climb by :escalate or a limit */
};

/* Build the plan for `s` (its steps are ignored: only its tree is used).
 * 0, or -1 when out of memory. */
int chaos_plan_make(const struct scenario *s, uint64_t seed, unsigned rounds,
                    struct chaos_plan *p);
void chaos_plan_free(struct chaos_plan *p);

/* A plan run by the engine. */
struct chaos_run {
  struct scenario *cs;      /* the plan as loaded (owned) */
  struct scenario_result r; /* the engine's verdicts, valid when ran */
  bool ran;
  size_t scans;             /* orphan/zombie scans: one after each round */
};

/* Load plan `p` (made from the scenario `file`) as a scenario, mark each
 * round's last step for the orphan and zombie scan (audit_leftovers.c) and
 * run it with the node command `node_argv`. 0 when it ran (the verdicts in
 * out->r; scenario_result_passed() says whether it held), or -1 with a
 * message in msg (the plan does not load — a harness bug — or the node
 * command cannot be started). Either way free `out` with chaos_run_free.
 * Prints nothing; leaves no process behind. */
int chaos_run(const struct chaos_plan *p, const char *file, char **node_argv,
              struct chaos_run *out, char *msg, size_t msglen);
void chaos_run_free(struct chaos_run *c);

/* Where a failed run broke, for the report (pointers into p and r). */
struct chaos_failure {
  long step;            /* 0-based step of the plan, or -1: at the end */
  unsigned round;       /* its round (1-based), 0 at the end */
  const char *what;     /* the step's description, or NULL */
  const char *check;    /* "steps" or the failed property's name */
  const char *summary;  /* one line, or NULL */
  const char *evidence; /* several lines, or NULL */
};
void chaos_failure(const struct chaos_plan *p, const struct scenario_result *r,
                   struct chaos_failure *f);

#endif
