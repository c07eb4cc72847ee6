/* test_fixtures.c — every input under fixtures/edn/: valid ones read and
 * round-trip, malformed ones are refused with the expected message, hostile
 * ones give a value or a clean error; and the streaming reader gives the
 * same outcome for every way of cutting each input into chunks. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "edn_fixture.h"
#include "edn_testutil.h"

static bool ends_with(const char *s, const char *tail) {
  size_t n = strlen(s), t = strlen(tail);
  return n >= t && strcmp(s + n - t, tail) == 0;
}

/* Values of an .ednl fixture: stream it whole and read each back alone. */
static void check_valid(const struct fixture *f) {
  edn_arena *a = edn_arena_new();
  edn_reader *r = edn_reader_new(NULL);
  edn_value *v = NULL, *one = NULL;
  struct edn_error err = {0, ""};
  size_t count = 0;
  int rc;
  cr_assert(edn_reader_feed(r, f->data, f->len) == 0);
  edn_reader_finish(r);
  while ((rc = edn_reader_next(r, a, &v, &err)) == 1) {
    count++;
    if (!(v->type == EDN_FLOAT && v->u.real != v->u.real)) /* ##NaN = nothing */
      check_round_trip(a, v, f->name);
  }
  cr_expect_eq(rc, 0, "%s: streaming failed at %zu: %s", f->name, err.offset, err.message);
  cr_expect_gt(count, 0, "%s holds no value", f->name);
  if (ends_with(f->name, ".edn")) {
    cr_expect_eq(count, 1, "%s should hold one value", f->name);
    rc = edn_read(a, f->data, f->len, NULL, &one, &err);
    cr_expect_eq(rc, EDN_OK, "%s: %s at %zu", f->name, err.message, err.offset);
    if (rc == EDN_OK && count == 1)
      cr_expect(edn_equal(one, v) || (v->type == EDN_FLOAT), "%s: stream and edn_read differ",
                f->name);
  }
  edn_reader_free(r);
  edn_arena_free(a);
}

Test(fixtures, valid, .timeout = 60) {
  size_t n;
  struct fixture *f = fixtures_load("valid", &n);
  cr_assert_gt(n, 10);
  for (size_t i = 0; i < n; i++)
    check_valid(&f[i]);
  fixtures_free(f, n);
  test_free_all();
}

Test(fixtures, malformed_are_refused, .timeout = 60) {
  size_t n;
  struct fixture *f = fixtures_load("malformed", &n);
  edn_arena *a = edn_arena_new();
  cr_assert_gt(n, 30);
  for (size_t i = 0; i < n; i++) {
    edn_value *v = NULL;
    struct edn_error err = {0, ""};
    int rc = edn_read(a, f[i].data, f[i].len, NULL, &v, &err);
    cr_expect_eq(rc, EDN_ERROR, "%s was not refused", f[i].name);
    cr_expect(f[i].expect, "%s has no .err file", f[i].name);
    if (rc == EDN_ERROR && f[i].expect)
      cr_expect(strstr(err.message, f[i].expect), "%s: message \"%s\" does not say \"%s\"",
                f[i].name, err.message, f[i].expect);
    cr_expect_leq(err.offset, f[i].len, "%s: offset %zu past the input", f[i].name,
                  err.offset);
    /* Streaming: an error too (two values in one stream are fine there). */
    if (rc == EDN_ERROR && !strstr(err.message, "second value")) {
      char *s = stream_outcome(f[i].data, f[i].len, NULL, 0, NULL);
      cr_expect(strstr(s, "error at"), "%s: the stream reader took it: %s", f[i].name, s);
      free(s);
    }
  }
  edn_arena_free(a);
  fixtures_free(f, n);
}

Test(fixtures, hostile_fail_cleanly, .timeout = 60) {
  size_t n;
  struct fixture *f = fixtures_load("hostile", &n);
  edn_arena *a = edn_arena_new();
  cr_assert_gt(n, 10);
  for (size_t i = 0; i < n; i++) {
    edn_value *v = NULL;
    struct edn_error err = {0, ""};
    int rc = edn_read(a, f[i].data, f[i].len, NULL, &v, &err);
    cr_expect(rc == EDN_OK || rc == EDN_ERROR || rc == EDN_EMPTY, "%s: rc %d", f[i].name, rc);
    if (f[i].expect) {
      cr_expect_eq(rc, EDN_ERROR, "%s was not refused", f[i].name);
      cr_expect(strstr(err.message, f[i].expect), "%s: message \"%s\" does not say \"%s\"",
                f[i].name, err.message, f[i].expect);
    }
    if (rc == EDN_OK)
      check_round_trip(a, v, f[i].name);
    else if (rc == EDN_ERROR)
      cr_expect(err.message[0] && err.offset <= f[i].len, "%s: error without message", f[i].name);
    edn_arena_reset(a);
  }
  edn_arena_free(a);
  fixtures_free(f, n);
  test_free_all();
}

/* Every split point (every one for small inputs, 97 spread ones for big),
 * and one byte at a time: always the outcome of feeding it whole. */
static void check_splits(const char *dir) {
  size_t n;
  struct fixture *f = fixtures_load(dir, &n);
  for (size_t i = 0; i < n; i++) {
    size_t len = f[i].len, small = under_memcheck() ? 256 : 4096;
    size_t step = len <= small ? 1 : len / (under_memcheck() ? 31 : 97);
    char *whole = stream_outcome(f[i].data, len, NULL, 0, NULL);
    char *bytes = stream_outcome(f[i].data, len, NULL, (size_t)-1, NULL);
    cr_expect_str_eq(bytes, whole, "%s fed byte by byte:\n%s\nwhole:\n%s", f[i].name, bytes,
                     whole);
    free(bytes);
    for (size_t cut = 0; cut <= len; cut += step) {
      char *s = stream_outcome(f[i].data, len, &cut, 1, NULL);
      if (strcmp(s, whole) != 0)
        cr_expect_str_eq(s, whole, "%s cut at %zu:\n%s\nwhole:\n%s", f[i].name, cut, s,
                         whole);
      free(s);
    }
    free(whole);
  }
  fixtures_free(f, n);
}

Test(fixtures, split_valid, .timeout = 120) { check_splits("valid"); }
Test(fixtures, split_malformed, .timeout = 120) { check_splits("malformed"); }
Test(fixtures, split_hostile, .timeout = 120) { check_splits("hostile"); }

/* Three cuts at once, at random places, many times: chunk boundaries inside
 * escapes, tokens and discards together. */
Test(fixtures, random_three_cuts, .timeout = 120) {
  size_t n;
  struct fixture *f = fixtures_load("valid", &n);
  unsigned seed = 12345;
  for (size_t i = 0; i < n; i++) {
    char *whole = stream_outcome(f[i].data, f[i].len, NULL, 0, NULL);
    for (int k = 0; k < (under_memcheck() ? 10 : 200); k++) {
      size_t cuts[3];
      for (int c = 0; c < 3; c++) {
        seed = seed * 1103515245u + 12345u;
        cuts[c] = (seed >> 8) % (f[i].len + 1);
      }
      for (int x = 0; x < 3; x++) /* sort */
        for (int y = x + 1; y < 3; y++)
          if (cuts[y] < cuts[x]) {
            size_t t = cuts[x];
            cuts[x] = cuts[y];
            cuts[y] = t;
          }
      char *s = stream_outcome(f[i].data, f[i].len, cuts, 3, NULL);
      cr_expect_str_eq(s, whole, "%s cut at %zu %zu %zu", f[i].name, cuts[0], cuts[1], cuts[2]);
      free(s);
    }
    free(whole);
  }
  fixtures_free(f, n);
}
