/* noise.c — what a parent does with a child that does not keep to the wire:
 * a stdout line that is no reply (not EDN, not a map, no integer :id, an
 * :id no request waits for, over the line limit) and stderr beyond what
 * may be passed on. Such bytes are dropped, never buffered, and each drop
 * is told on our own stderr as one EDN line,
 *   {:wat/child-noise {:node "L1" :child "B" :pid 4242 :stream :stdout
 *                      :lines 1 :bytes 17 :reason "not EDN: ..." :sample "..."}}
 * at most NOISE_NOTES (8) such notes a second per child and stream; what is
 * dropped beyond is counted and summed up in one note (no :sample) when the
 * next window begins or the child is reaped. So a babbling or flooding
 * child costs its parent bounded memory and bounded stderr, and its parent
 * keeps serving: the child itself is not punished (its replies still
 * count), since a stray debug line is no crash. */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "node.h"

#define NOISE_WINDOW_MS 1000
#define NOISE_NOTES 8
#define NOISE_SAMPLE 64
#define NOISE_STDERR_BUDGET 65536 /* stderr bytes passed on per child a second */

static void write_all(const char *p, size_t len) {
  while (len > 0) {
    ssize_t w = write(STDERR_FILENO, p, len);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    p += w;
    len -= (size_t)w;
  }
}

/* The first bytes of a line, printable ASCII only (the note must stay one
 * valid UTF-8 line whatever the child wrote). */
static edn_value *sample(edn_arena *a, const char *line, size_t len) {
  char buf[NOISE_SAMPLE];
  size_t k = len < sizeof buf ? len : sizeof buf;
  for (size_t i = 0; i < k; i++) {
    unsigned char ch = (unsigned char)line[i];
    buf[i] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
  }
  return edn_string(a, buf, k);
}

static void note(struct child *c, enum noise_stream s, uint64_t lines,
                 uint64_t bytes, const char *why, const char *line,
                 size_t len) {
  const char *me = c->n->spec.name;
  edn_arena *a = edn_arena_new();
  struct edn_buf b = {0};
  if (!a) return;
  edn_value *in = edn_coll(a, EDN_MAP), *out = edn_coll(a, EDN_MAP);
  if (in && out) {
    edn_map_putk(a, in, "node", edn_string(a, me, strlen(me)));
    edn_map_putk(a, in, "child", edn_string(a, c->name, strlen(c->name)));
    edn_map_putk(a, in, "pid", edn_int(a, c->pid));
    edn_map_putk(a, in, "stream",
                 edn_keyword(a, s == NOISE_STDOUT ? "stdout" : "stderr"));
    edn_map_putk(a, in, "lines", edn_int(a, (int64_t)lines));
    edn_map_putk(a, in, "bytes", edn_int(a, (int64_t)bytes));
    edn_map_putk(a, in, "reason", edn_string(a, why, strlen(why)));
    if (line) edn_map_putk(a, in, "sample", sample(a, line, len));
    edn_map_putk(a, out, "wat/child-noise", in);
    if (edn_print(&b, out) == 0 && edn_buf_append(&b, "\n", 1) == 0)
      write_all(b.ptr, b.len);
  }
  edn_buf_free(&b);
  edn_arena_free(a);
}

static void summary(struct child *c, enum noise_stream s) {
  struct noise *z = &c->noise[s];
  if (!z->lines) return;
  note(c, s, z->lines, z->bytes,
       "dropped beyond the notes allowed (8 a second per child and stream)",
       NULL, 0);
  z->lines = z->bytes = 0;
}

/* A new window when the current one is over; its summary goes first. */
static void roll(struct child *c, enum noise_stream s) {
  struct noise *z = &c->noise[s];
  int64_t now = loop_now_ms();
  if (z->win_ms && now - z->win_ms < NOISE_WINDOW_MS) return;
  summary(c, s);
  z->win_ms = now;
  z->notes = 0;
  z->passed = 0;
}

void noise_drop(struct child *c, enum noise_stream s, size_t bytes,
                const char *why, const char *line, size_t len) {
  struct noise *z = &c->noise[s];
  roll(c, s);
  if (z->notes < NOISE_NOTES) {
    z->notes++;
    note(c, s, 1, bytes, why, line, len);
    return;
  }
  z->lines++;
  z->bytes += bytes;
}

bool noise_pass(struct child *c, size_t bytes) {
  struct noise *z = &c->noise[NOISE_STDERR];
  roll(c, NOISE_STDERR);
  /* the first line of a window always passes: one long line is no flood */
  if (z->passed && z->passed + bytes > NOISE_STDERR_BUDGET) return false;
  z->passed += bytes;
  return true;
}

void noise_flush(struct child *c) {
  summary(c, NOISE_STDOUT);
  summary(c, NOISE_STDERR);
}
