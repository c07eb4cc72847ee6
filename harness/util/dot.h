/* dot.h — the one way the harness runs Graphviz `dot`: DOT text in through
 * a pipe, the rendering back in memory, within a deadline. A dot that does
 * not finish in time is killed (its whole process group) and reaped. */
#ifndef TREEPROOF_DOT_H
#define TREEPROOF_DOT_H

#include <stddef.h>

/* How long dot may take, in ms, unless the environment says otherwise:
 * far more than a real dot needs for the biggest picture the harness draws,
 * even on a loaded 2-core machine. */
#define DOT_TIMEOUT_MS 60000
/* The environment variable that overrides DOT_TIMEOUT_MS: a decimal number
 * of ms, 1 to 86400000 (tests set it low to see a hung dot killed fast).
 * Any other value is ignored. */
#define DOT_TIMEOUT_ENV "TREEPROOF_DOT_TIMEOUT_MS"

/* The time limit to give dot_render: $TREEPROOF_DOT_TIMEOUT_MS when it is
 * valid, else DOT_TIMEOUT_MS. Never fails. */
int dot_timeout_ms(void);

/* Run `dot -T<format>` (dot found on PATH, in a process group of its own),
 * feed it the `len` bytes of DOT at `text` on its stdin, and collect its
 * stdout, all within `timeout_ms` ms (> 0; dot_timeout_ms() is the usual).
 * dot's stderr is collected too, for the message.
 *
 * Returns dot's stdout as a malloc'ed buffer, NUL-terminated (the NUL not
 * counted in *outlen), which the caller frees; only when dot exited 0.
 * Otherwise returns NULL with `msg` (msgsz bytes, NUL-terminated) saying
 * why: "cannot run dot: ERROR (install graphviz)" when exec failed, "dot did
 * not finish within N ms: killed" when `timeout_ms` ran out (dot's group
 * was sent SIGKILL), "dot was killed by signal N", "dot failed (exit N):
 * FIRST LINE OF ITS STDERR", or the system call that failed. `text`, `format`
 * stay the caller's. On every return dot has been reaped and every fd this
 * made is closed; a SIGPIPE from writing to a dead dot is swallowed. */
char *dot_render(const char *format, const char *text, size_t len,
                 int timeout_ms, size_t *outlen, char *msg, size_t msgsz);

#endif
