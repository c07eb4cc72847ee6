/* audit_replies.c — the replies property, counted from the root's side of
 * the wire once its stdout is closed: every `expect` matched in time (the
 * steps record those failures as they happen), and every request sent got
 * exactly one reply — none lost, none duplicated, none for an id never
 * sent. Requests lost with a node the scenario meant to kill (the root's own
 * :panic, a kill of the root) are not counted against it. The harness's own
 * requests count too, named by what they were (their ids are internal);
 * the backpressure flood's are judged by backpressure, not here. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "audit.h"

/* Did the root go down other than by the graceful end (exit 0)? */
static bool root_crashed(const struct engine *e) {
  return e->root_reaped &&
         !(WIFEXITED(e->root_status) && WEXITSTATUS(e->root_status) == 0);
}

void audit_replies_end(struct engine *e) {
  if (!engine_listed(e, PROP_REPLIES))
    return;
  size_t requests = 0, lost = 0, exempt = 0, extra = 0;
  bool crashed = root_crashed(e);
  for (size_t i = 0; i < e->capids; i++) {
    const struct idcount *c = &e->ids[i];
    if (!c->used ||
        (e->bulk_hi < 0 && c->id >= e->bulk_lo && c->id <= e->bulk_hi))
      continue; /* the flood's holes (wire.c): audit_backpressure.c's */
    requests += (size_t)c->sent;
    if (c->got < c->sent) {
      if (c->exempt || crashed || e->interrupted) {
        exempt++;
        continue;
      }
      lost++;
      if (lost <= 16 && c->what)
        engine_fail(e, PROP_REPLIES, "replies: %s was sent %d time(s) but "
                    "answered %d time(s): a reply was lost", c->what, c->sent,
                    c->got);
      else if (lost <= 16)
        engine_fail(e, PROP_REPLIES, "replies: request :id %" PRId64 " was "
                    "sent %d time(s) but answered %d time(s): a reply was lost",
                    c->id, c->sent, c->got);
    } else if (c->got > c->sent && c->sent == 0) {
      extra++;
      if (extra <= 16)
        engine_fail(e, PROP_REPLIES, "replies: %d reply(ies) with :id %" PRId64
                    " that was never sent", c->got, c->id);
    }
  }
  if (lost > 16)
    engine_fail(e, PROP_REPLIES, "replies: ... %zu lost in all", lost);
  if (!e->fail[PROP_REPLIES])
    engine_summary(e, PROP_REPLIES, "%zu requests, each answered once%s",
                   requests, exempt ? " (but those lost with a crashed root)"
                                    : "");
}
