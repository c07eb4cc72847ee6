/* chaos.h — `treeproof chaos`: seeded, reproducible rounds of kills,
 * holds, panics and spawns against a live tree while requests flow.
 *
 * A chaos run is a scenario: the plan (a pure function of the tree, the
 * seed and the round count) is written as scenario YAML with the tree of
 * the given file and generated steps, loaded by the ordinary loader and run
 * by run_scenario(), so the engine's launch, drive and auditors judge it. */
#ifndef TREEPROOF_CHAOS_H
#define TREEPROOF_CHAOS_H

#include <stdint.h>
#include <stdio.h>

#include "edn.h"
#include "scenario.h"

struct chaos_plan {
  struct edn_buf yaml;  /* the generated scenario (NUL-terminated) */
  size_t nsteps;
  unsigned *round_of;   /* round (1-based) of each step, nsteps entries */
  char **what;          /* a one-line description of each step */
  size_t actions;       /* kills, holds, panics, spawns */
  size_t requests;      /* pings, echoes and spawns sent with an expect */
};

/* Build the plan for `s` (its steps are ignored: only its tree is used).
 * 0, or -1 when out of memory. */
int chaos_plan_make(const struct scenario *s, uint64_t seed, unsigned rounds,
                    struct chaos_plan *p);
void chaos_plan_free(struct chaos_plan *p);

/* The `chaos` command: argv[0] is "chaos". Prints to out/err; returns the
 * exit status (0 held, 1 a round failed, 2 usage or scenario error, 130
 * interrupted). */
int chaos_cmd(int argc, char **argv, FILE *out, FILE *err);

#endif
