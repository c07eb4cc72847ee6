/* scenario_emit.h — a scenario written back as the YAML scenario_load()
 * reads: load → emit → load gives the same scenario (the same tree, steps,
 * properties, timeouts and backpressure; YAML positions aside). Replay
 * writes a recorded run this way and shrink writes each candidate and the
 * final reproducer. Nothing here prints: the text lands in an edn_buf. */
#ifndef TREEPROOF_SCENARIO_EMIT_H
#define TREEPROOF_SCENARIO_EMIT_H

#include <stdbool.h>

#include "edn.h"
#include "scenario.h"

struct emit_opts {
  const char *comment;     /* written first, each line as "# LINE", or NULL */
  const bool *skip_step;   /* s->nsteps flags: true leaves that step out;
                              NULL keeps every step */
  const bool *properties;  /* PROP_COUNT flags instead of s->properties, or
                              NULL */
};

/* Append `s` as scenario YAML to `out` (not NUL-terminated). Children spawned
 * by steps are left out of `tree:`: the steps that spawn them come back.
 * `o` may be NULL. 0, or -1 when out of memory. */
int scenario_emit(const struct scenario *s, const struct emit_opts *o,
                  struct edn_buf *out);

/* ---- the pieces, for writers that assemble a scenario from elsewhere ---- */

/* A YAML scalar holding exactly s[0..len): plain when that is safe, else
 * single-quoted, or double-quoted with escapes when it holds a line break
 * or a control character. 0 or -1. */
int scenario_emit_str(struct edn_buf *b, const char *s, size_t len);
/* A node given as its EDN spec (as scenario_node_spec() makes it: :name,
 * :children, :on-child-exit, :max-restarts, :restart-period-ms,
 * :queue-bytes, :grace-ms; :depth is ignored) as a YAML block mapping whose
 * lines are indented by `indent` spaces (the first line's indent is the
 * caller's). 0; -1 when out of memory; -2 when the spec is not one (an
 * unknown key, a wrong type), with `why` filled in. */
int scenario_emit_node(struct edn_buf *b, const edn_value *spec, int indent,
                       char *why, size_t whylen);
/* A signal number as the loader reads it: "KILL", "TERM", ... or digits. */
const char *scenario_signal_name(int sig, char *buf, size_t len);

#endif
