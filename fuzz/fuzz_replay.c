/* fuzz_replay.c — libFuzzer target for the trace reader (harness/replay.c):
 * the bytes of a harness trace file in, through replay_load_mem, which
 * rebuilds the recorded scenario as YAML and loads it. A trace is input a
 * user hands to `treeproof replay` and `shrink`, edited or cut short.
 *
 * The reader promises never to crash; sanitizers watch that. Checks:
 *   - a failed load leaves a terminated message and a line >= 0;
 *   - a loaded trace's YAML is NUL-terminated at its length and loads
 *     again by itself to the same tree size and step count (so what replay
 *     --dry-run prints is a scenario that stands on its own). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replay.h"
#include "scenario.h"

#define FUZZ_NAME "fuzz_replay"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct replay r;
  struct replay_error err;
  memset(&err, 0x55, sizeof err); /* the reader must fill what it reports */
  if (replay_load_mem("fuzz.ednl", (const char *)data, size, &r, &err) < 0) {
    CHECK(memchr(err.message, '\0', sizeof err.message) != NULL,
          "error message not terminated");
    CHECK(memchr(err.file, '\0', sizeof err.file) != NULL,
          "error file not terminated");
    CHECK(err.line >= 0, "error at line %ld", err.line);
    CHECK(err.message[0], "an error without a message");
    return 0;
  }
  CHECK(r.s && r.s->root, "a loaded trace without a scenario");
  CHECK(r.yaml.len >= 1 && r.yaml.ptr[r.yaml.len - 1] == '\0',
        "the YAML is not NUL-terminated at its length");
  struct scenario_error se;
  struct scenario *again =
      scenario_load_mem("again.yaml", r.yaml.ptr, r.yaml.len - 1, &se);
  CHECK(again, "the rebuilt YAML does not load again: %d:%d: %s\n%s",
        se.pos.line, se.pos.column, se.message, r.yaml.ptr);
  CHECK(again->nnodes == r.s->nnodes && again->nsteps == r.s->nsteps,
        "loads again to %zu nodes / %zu steps, not %zu / %zu", again->nnodes,
        again->nsteps, r.s->nnodes, r.s->nsteps);
  scenario_free(again);
  replay_free(&r);
  return 0;
}
