/* replay.h — a recorded run (the harness's trace file, htrace.h) rebuilt as
 * a scenario: the tree from the header's :spec, the steps from the :step
 * events in order, properties, timeout and backpressure from the header,
 * and the verdict it recorded, so it can be run again against a fresh tree
 * with run_scenario() and the outcomes compared. */
#ifndef TREEPROOF_REPLAY_H
#define TREEPROOF_REPLAY_H

#include <stdbool.h>

#include "edn.h"
#include "run.h"
#include "scenario.h"

/* A set of checks: bit p for property p, bit REPLAY_STEPS for the steps. */
#define REPLAY_STEPS PROP_COUNT

struct replay {
  char *trace;            /* the harness trace file read */
  struct scenario *s;     /* the rebuilt scenario: s->file is the trace,
                             each step's position its :step line there */
  struct edn_buf yaml;    /* its YAML, NUL-terminated */
  char *file;             /* the scenario file the run came from, or NULL */
  char *fault;            /* WATVM_FAULT when it was recorded, or NULL */
  unsigned failed;        /* the recorded verdict's failed checks */
  char *summary[PROP_COUNT + 1]; /* each failed check's recorded summary */
};

/* A bad trace: "FILE:LINE: error: MESSAGE". */
struct replay_error {
  char file[512];
  long line;              /* 0 when about the file as a whole */
  char message[512];
};

/* Read the trace at `path`: a harness-*.ednl file, or a directory holding
 * exactly one. 0 with *r filled (free with replay_free), or -1 with *err
 * naming the line at fault. */
int replay_load(const char *path, struct replay *r, struct replay_error *err);
/* The same from the trace's bytes in memory, `name` standing for its file
 * in messages and in r->trace (the fuzz target's entry). */
int replay_load_mem(const char *name, const char *text, size_t len,
                    struct replay *r, struct replay_error *err);
void replay_free(struct replay *r);

/* The failed checks of a result, as a set. */
unsigned replay_failed_set(const struct scenario_result *res);
/* The name of check c ("steps", "replies", ...). */
const char *replay_check_name(unsigned c);
/* "containment, cascade" (or "nothing") into buf. */
void replay_set_text(unsigned set, char *buf, size_t len);

#endif
