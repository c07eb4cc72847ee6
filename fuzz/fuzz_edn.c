/* fuzz_edn.c — libFuzzer target for the EDN codec (runtime/edn_*.c).
 *
 * Arbitrary bytes go to edn_read. When they hold one value, the codec's own
 * promises are checked, and any broken one aborts (a finding):
 *   - the compact print has no raw newline, reads back, and the value read
 *     back is edn_equal to the first (both ways) with the same edn_hash;
 *   - printing is stable: print(read(print(v))) == print(v), byte for byte;
 *   - the pretty print reads back to an equal value too;
 *   - the streaming reader, fed the same bytes in two or three chunks split
 *     where the data says, yields exactly that one value (or nothing when
 *     edn_read found nothing), and errors only where edn_read did.
 * Values holding ##NaN equal nothing, themselves included: for them only the
 * byte-for-byte print check applies. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edn.h"

#define FUZZ_NAME "fuzz_edn"
#include "fuzz_check.h"

/* A print may be longer than the input (escapes): read it back without the
 * 1 MiB bound, but with the same depth bound as the first read. */
static const struct edn_limits big = {.max_depth = 0, .max_bytes = 1u << 30};

/* Read `text` back and check it equals `v`. */
static void check_reads_back(edn_arena *a, const edn_value *v,
                             const struct edn_buf *text, const char *what) {
  edn_value *back = NULL;
  struct edn_error err;
  int rc = edn_read(a, text->ptr, text->len, &big, &back, &err);
  CHECK(rc == EDN_OK, "%s print does not read back: at %zu: %s: %.*s", what,
        err.offset, err.message, (int)(text->len > 300 ? 300 : text->len),
        text->ptr);
  if (edn_equal(v, v)) { /* no ##NaN inside */
    CHECK(edn_equal(v, back) && edn_equal(back, v),
          "%s print reads back to a different value: %.*s", what,
          (int)(text->len > 300 ? 300 : text->len), text->ptr);
    CHECK(edn_hash(v) == edn_hash(back), "equal values, different hashes");
  }
}

static void check_round_trip(edn_arena *a, const edn_value *v) {
  struct edn_buf p1 = {0}, p2 = {0}, pp = {0};
  CHECK(edn_print(&p1, v) == 0, "edn_print failed");
  CHECK(memchr(p1.ptr, '\n', p1.len) == NULL, "raw newline in a compact print");
  check_reads_back(a, v, &p1, "compact");

  edn_value *back = NULL;
  struct edn_error err;
  CHECK(edn_read(a, p1.ptr, p1.len, &big, &back, &err) == EDN_OK, "re-read");
  CHECK(edn_print(&p2, back) == 0, "edn_print (second) failed");
  CHECK(p1.len == p2.len && memcmp(p1.ptr, p2.ptr, p1.len) == 0,
        "print is not stable: %.*s vs %.*s", (int)(p1.len > 200 ? 200 : p1.len),
        p1.ptr, (int)(p2.len > 200 ? 200 : p2.len), p2.ptr);

  CHECK(edn_print_pretty(&pp, v) == 0, "edn_print_pretty failed");
  check_reads_back(a, v, &pp, "pretty");

  char *s = edn_to_string(v);
  CHECK(s && strlen(s) == p1.len && memcmp(s, p1.ptr, p1.len) == 0,
        "edn_to_string differs from edn_print");
  free(s);
  edn_buf_free(&p1);
  edn_buf_free(&p2);
  edn_buf_free(&pp);
}

/* Split points from the data itself, so the fuzzer can steer them. */
static void split_points(const uint8_t *data, size_t size, size_t *s1,
                         size_t *s2) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < size && i < 8; i++) h = (h ^ data[i]) * 16777619u;
  if (size) h ^= (uint32_t)data[size - 1] << 8;
  *s1 = size ? h % (size + 1) : 0;
  *s2 = *s1 + (size - *s1 ? (h >> 16) % (size - *s1 + 1) : 0);
}

/* Stream the bytes in three chunks; compare with what edn_read said. */
static void check_stream(const uint8_t *data, size_t size, int rc,
                         const edn_value *v) {
  size_t s1, s2;
  split_points(data, size, &s1, &s2);
  edn_reader *r = edn_reader_new(NULL);
  edn_arena *a = edn_arena_new();
  CHECK(r && a, "out of memory");
  const char *p = (const char *)data;
  CHECK(edn_reader_feed(r, p, s1) == 0, "feed");
  CHECK(edn_reader_feed(r, p + s1, s2 - s1) == 0, "feed");
  CHECK(edn_reader_feed(r, p + s2, size - s2) == 0, "feed");
  edn_reader_finish(r);

  size_t nvalues = 0;
  edn_value *first = NULL;
  int k;
  struct edn_error err;
  for (;;) {
    edn_value *x = NULL;
    k = edn_reader_next(r, a, &x, &err);
    if (k != 1) break;
    CHECK(x != NULL, "edn_reader_next returned 1 without a value");
    if (!nvalues) first = x;
    CHECK(++nvalues <= size + 1, "the stream yields more values than bytes");
  }
  if (k == EDN_ERROR)
    CHECK(err.offset <= size, "stream error offset %zu past the end %zu",
          err.offset, size);
  if (rc == EDN_OK) {
    CHECK(k == 0 && nvalues == 1,
          "edn_read found one value; the stream (split %zu,%zu) gave %zu "
          "value(s) then %s", s1, s2, nvalues,
          k == EDN_ERROR ? err.message : "end");
    if (edn_equal(v, v))
      CHECK(edn_equal(first, v), "the stream read a different value");
  } else if (rc == EDN_EMPTY) {
    CHECK(k == 0 && nvalues == 0,
          "edn_read found nothing; the stream (split %zu,%zu) gave %zu "
          "value(s) then %s", s1, s2, nvalues,
          k == EDN_ERROR ? err.message : "end");
  }
  edn_arena_free(a);
  edn_reader_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  edn_arena *a = edn_arena_new();
  if (!a) abort();
  edn_value *v = NULL;
  struct edn_error err;
  int rc = edn_read(a, (const char *)data, size, NULL, &v, &err);
  CHECK(rc == EDN_OK || rc == EDN_EMPTY || rc == EDN_ERROR, "rc %d", rc);
  if (rc == EDN_OK) {
    CHECK(v != NULL, "EDN_OK without a value");
    check_round_trip(a, v);
  } else if (rc == EDN_ERROR) {
    CHECK(err.offset <= size, "error offset %zu past the end %zu", err.offset,
          size);
    CHECK(memchr(err.message, '\0', sizeof err.message) != NULL,
          "error message not terminated");
  }
  check_stream(data, size, rc, v);
  edn_arena_free(a);
  return 0;
}
