/* test_printed.c — the printer's exact bytes are pinned: every value of the
 * fixtures (valid and hostile) and a generated set of scalars and small
 * collections, printed compactly and pretty, must equal the recorded
 * fixtures/edn/printed.txt. Round trips only prove the output reads back;
 * this catches a faster printer that prints the same value differently.
 * A print longer than a line is recorded as its length and FNV-1a hash,
 * to keep the file small. EDN_PRINTED_RECORD=1 writes the file instead
 * (only after a change of output that is meant). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edn_fixture.h"
#include "edn_testutil.h"

static const char *const expected_path = "fixtures/edn/printed.txt";

enum { LONG_PRINT = 200 };

/* Append what was printed from `from` on, or its length and hash. */
static void record(struct edn_buf *out, size_t from) {
  char h[64];
  uint64_t x = 14695981039346656037ULL;
  size_t n = out->len - from;
  if (n > LONG_PRINT) {
    for (size_t i = from; i < out->len; i++)
      x = (x ^ (unsigned char)out->ptr[i]) * 1099511628211ULL;
    out->len = from;
    edn_buf_append(out, h, (size_t)snprintf(h, sizeof h, "%zu bytes, hash %016llx", n,
                                            (unsigned long long)x));
  }
  cr_assert(edn_buf_append(out, "\n", 1) == 0);
}

static void line(struct edn_buf *out, const edn_value *v) {
  size_t from = out->len;
  cr_assert(edn_print(out, v) == 0);
  record(out, from);
  from = out->len;
  cr_assert(edn_print_pretty(out, v) == 0);
  record(out, from);
}

/* Each value the streaming reader takes from every fixture of dir. */
static void fixture_values(struct edn_buf *out, const char *dir) {
  size_t n;
  struct fixture *f = fixtures_load(dir, &n);
  for (size_t i = 0; i < n; i++) {
    edn_arena *a = edn_arena_new();
    edn_reader *r = edn_reader_new(NULL);
    edn_value *v;
    struct edn_error err;
    cr_assert(edn_reader_feed(r, f[i].data, f[i].len) == 0);
    edn_reader_finish(r);
    edn_buf_append(out, f[i].name, strlen(f[i].name));
    edn_buf_append(out, "\n", 1);
    while (edn_reader_next(r, a, &v, &err) == 1)
      line(out, v);
    edn_reader_free(r);
    edn_arena_free(a);
  }
  fixtures_free(f, n);
}

static unsigned long long rng = 0x9e3779b97f4a7c15ULL;
static unsigned long long next_rand(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

static edn_value *random_int(edn_arena *a, int k) {
  static const int64_t edges[] = {0, 1, -1, 9, 10, 99, 100, INT64_MAX, INT64_MIN,
                                  INT64_MIN + 1, 999999999999999999LL};
  unsigned long long r = next_rand();
  if (k < (int)(sizeof edges / sizeof edges[0]))
    return edn_int(a, edges[k]);
  return edn_int(a, (int64_t)(r >> (r % 64))); /* every length of digits */
}

static edn_value *random_float(edn_arena *a, int k) {
  unsigned long long r = next_rand();
  double d;
  if (k % 2) { /* short decimals, the printer's fast path */
    d = (double)(r % 100000000) / pow(10, (double)((r >> 40) % 9));
    return edn_float(a, (r >> 50) & 1 ? -d : d);
  }
  memcpy(&d, &r, sizeof d);
  return edn_float(a, d);
}

/* Text of random length over bytes that matter to escaping and names. */
static size_t random_text(char *t, size_t cap) {
  static const char pool[] = "ab-_.?!*+<>=$%&'Z09:/#\"\\\n\r\t\b\f\x01\x1f\x7f \xc3\xa9";
  size_t n = next_rand() % cap;
  for (size_t i = 0; i < n; i++)
    t[i] = pool[next_rand() % (sizeof pool - 1)];
  t[n] = '\0';
  return n;
}

static void generated_values(struct edn_buf *out) {
  edn_arena *a = edn_arena_new();
  char t[80];
  for (int k = 0; k < 400; k++) {
    edn_value *vec = edn_coll(a, EDN_VECTOR), *map = edn_coll(a, EDN_MAP);
    size_t n = random_text(t, sizeof t);
    edn_push(a, vec, random_int(a, k));
    edn_push(a, vec, random_float(a, k));
    edn_push(a, vec, random_float(a, k + 1));
    edn_push(a, vec, edn_string(a, t, n));
    edn_push(a, vec, edn_char(a, (uint32_t)(next_rand() % 0x110000)));
    edn_push(a, vec, edn_char(a, (uint32_t)(next_rand() % 0x80)));
    edn_push(a, vec, edn_symbol(a, t, random_text(t, 20)));
    random_text(t, 20);
    edn_map_push(a, map, edn_keyword(a, t), edn_coll(a, k % 2 ? EDN_SET : EDN_LIST));
    edn_push(a, vec, map);
    edn_push(a, vec, edn_tagged(a, "my/tag", edn_bool(a, k % 3 == 0)));
    line(out, vec);
  }
  edn_arena_free(a);
}

Test(printed, bytes_are_as_recorded, .timeout = 60) {
  struct edn_buf out = {NULL, 0, 0};
  size_t len = 0;
  char *want;
  fixture_values(&out, "valid");
  fixture_values(&out, "hostile");
  generated_values(&out);
  if (getenv("EDN_PRINTED_RECORD")) {
    char path[4096];
    const char *top = getenv("TREEPROOF_SOURCE_DIR");
    snprintf(path, sizeof path, "%s/%s", top ? top : ".", expected_path);
    FILE *f = fopen(path, "wb");
    cr_assert(f && fwrite(out.ptr, 1, out.len, f) == out.len && fclose(f) == 0);
  }
  want = slurp(expected_path, &len);
  cr_assert(want, "cannot read %s", expected_path);
  size_t i = 0;
  while (i < len && i < out.len && want[i] == out.ptr[i])
    i++;
  cr_expect(i == len && i == out.len, "printed output differs from %s at byte %zu: "
            "%.60s", expected_path, i, i < out.len ? out.ptr + i : "(end)");
  free(want);
  edn_buf_free(&out);
}
