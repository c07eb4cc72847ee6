/* internal.h — private to runtime/probe/: the ops the serve loop
 * dispatches to, each a function from one request to its reply. */
#ifndef TREEPROOF_PROBE_INTERNAL_H
#define TREEPROOF_PROBE_INTERNAL_H

#include <stddef.h>

#include "edn.h"
#include "probe.h"

/* Every op fills `reply` (a map that already holds :id) in `a`, from
 * request `req`; an op that fails puts :error instead (probe_error). Each
 * returns 0, or -ENOMEM when the reply could not be built. */
int probe_op_ps(edn_arena *a, const edn_value *req, edn_value *reply,
                const struct probe_options *o);
int probe_op_fds(edn_arena *a, const edn_value *req, edn_value *reply,
                 const struct probe_options *o);
int probe_op_signal(edn_arena *a, const edn_value *req, edn_value *reply,
                    const struct probe_options *o);
int probe_op_read(edn_arena *a, const edn_value *req, edn_value *reply,
                  const struct probe_options *o);

/* Put :error {:type :wat/TYPE :message MSG} in `reply`. 0 or -ENOMEM. */
int probe_error(edn_arena *a, edn_value *reply, const char *type,
                const char *msg);
/* The integer under keyword `kw` of `req` into *v: 0, or -1 when absent or
 * not an integer in [min, max]. */
int probe_int_arg(const edn_value *req, const char *kw, long long min,
                  long long max, long long *v);

#endif
