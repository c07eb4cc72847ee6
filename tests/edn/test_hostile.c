/* test_hostile.c — inputs too big to keep as fixtures, generated here: a
 * 10 MB line, 100k-deep nesting, NUL bytes, long #_ chains, huge integers.
 * Each gives a value or a clean error, never a crash or a stack overflow. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edn_fixture.h"
#include "edn_testutil.h"

static edn_arena *arena;
static void setup(void) { arena = edn_arena_new(); }
static void teardown(void) {
  edn_arena_free(arena);
  test_free_all();
}

static char *repeat(const char *unit, size_t times, const char *tail, size_t *len) {
  size_t u = strlen(unit), t = strlen(tail);
  char *s = malloc(u * times + t + 1);
  for (size_t i = 0; i < times; i++)
    memcpy(s + i * u, unit, u);
  memcpy(s + u * times, tail, t + 1);
  *len = u * times + t;
  return s;
}

static void expect_error(const char *s, size_t len, const struct edn_limits *lim,
                         const char *what, size_t offset) {
  edn_value *v = NULL;
  struct edn_error err = {0, ""};
  char *streamed;
  cr_expect_eq(edn_read(arena, s, len, lim, &v, &err), EDN_ERROR, "expected: %s", what);
  cr_expect(strstr(err.message, what), "message \"%s\" does not say \"%s\"", err.message, what);
  cr_expect_eq(err.offset, offset, "%s: offset %zu, expected %zu", what, err.offset, offset);
  streamed = stream_outcome(s, len, NULL, 0, lim);
  cr_expect(strstr(streamed, what), "streamed: %s", streamed);
  free(streamed);
}

Test(hostile, ten_megabyte_line, .init = setup, .fini = teardown, .timeout = 60) {
  size_t len;
  char *s = repeat("abcdefghij", 1 << 20, "\"", &len);
  struct edn_limits big = {.max_bytes = 16 << 20};
  edn_value *v = NULL;
  struct edn_error err = {0, ""};
  s[0] = '"';
  expect_error(s, len, NULL, "limit of 1048576 bytes", 0);
  cr_assert_eq(edn_read(arena, s, len, &big, &v, &err), EDN_OK, "%s", err.message);
  cr_expect_eq(v->u.text.len, len - 2);
  free(s);
}

Test(hostile, hundred_thousand_deep, .init = setup, .fini = teardown, .timeout = 60) {
  size_t len, len2;
  char *open = repeat("[", 100000, "", &len);
  char *both = repeat("{:a [", 100000, "", &len2);
  struct edn_limits huge = {.max_depth = 1000000};
  expect_error(open, len, NULL, "nesting deeper than 512", 512);
  expect_error(both, len2, NULL, "nesting deeper than 512", 256 * 5);
  /* a limit asked for beyond what the printer's recursion may take is capped */
  expect_error(open, len, &huge, "nesting deeper than 10000", 10000);
  free(open);
  free(both);
}

Test(hostile, nul_bytes, .init = setup, .fini = teardown) {
  static const struct {
    const char *s;
    size_t len, at;
  } cases[] = {{"\0", 1, 0},      {"[\0]", 3, 1},   {"\"\0\"", 3, 1},
               {":a\0", 3, 2},    {"1\0", 2, 1},    {"{:a \0}", 6, 4},
               {"#\0", 2, 0},     {"\\\0", 2, 0},   {"; c\0\n\0", 6, 5}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    edn_value *v = NULL;
    struct edn_error err = {0, ""};
    int rc = edn_read(arena, cases[i].s, cases[i].len, NULL, &v, &err);
    cr_expect_eq(rc, EDN_ERROR, "case %zu read", i);
    cr_expect_eq(err.offset, cases[i].at, "case %zu: offset %zu (%s)", i, err.offset, err.message);
  }
}

Test(hostile, discard_chains, .init = setup, .fini = teardown, .timeout = 60) {
  size_t len, n = 100000;
  char *seq = repeat("#_ 1 ", n, "2", &len);
  char *nest = repeat("#_", n, " 1", &len);
  edn_value *v = must_read(arena, seq);
  cr_expect_eq(v->u.integer, 2);
  expect_error(nest, strlen(nest), NULL, "nesting deeper than 512", 1024);
  free(nest);
  nest = repeat("#_", 300, "", &len);
  /* 300 nested discards eat 300 values; the 301st stays */
  free(seq);
  seq = repeat(" 7", 301, "", &len);
  char *both = malloc(600 + len + 1);
  memcpy(both, nest, 600);
  memcpy(both + 600, seq, len + 1);
  cr_expect_eq(must_read(arena, both)->u.integer, 7);
  free(both);
  free(seq);
  free(nest);
  seq = repeat("#_ 1 ", n, "", &len);
  char *out = stream_outcome(seq, len, NULL, 0, NULL);
  cr_expect_str_eq(out, "", "all discarded");
  free(out);
  free(seq);
}

Test(hostile, huge_integers, .init = setup, .fini = teardown, .timeout = 60) {
  size_t len;
  char *digits = repeat("9876543210", 50000, "", &len); /* 500k digits */
  edn_value *v = must_readn(arena, digits, len);
  cr_expect_eq(v->type, EDN_BIGINT);
  cr_expect_eq(v->u.text.len, len);
  check_round_trip(arena, v, "500k-digit integer");
  digits[0] = '-';
  v = must_readn(arena, digits, len);
  cr_expect_eq(v->type, EDN_BIGINT, "-876543210... is still big");
  cr_expect_eq(v->u.text.ptr[0], '-');
  free(digits);
  digits = repeat("1", 400000, "e-999999999999999999999", &len);
  cr_expect_eq(must_readn(arena, digits, len)->type, EDN_FLOAT);
  free(digits);
  digits = repeat("1", 1000, "M", &len);
  cr_expect_eq(must_readn(arena, digits, len)->type, EDN_DECIMAL);
  free(digits);
}

Test(hostile, wide_collections, .init = setup, .fini = teardown, .timeout = 60) {
  size_t len;
  char *s = repeat("[] ", 300000, "]", &len);
  s[0] = '[';
  s[1] = ' ';
  edn_value *v = must_readn(arena, s, len);
  cr_expect_eq(v->u.seq.len, 299999);
  free(s);
  s = repeat(":k ", 200002, "}", &len); /* odd count of forms */
  s[0] = '{';
  s[1] = ' ';
  expect_error(s, len, NULL, "even number", 0);
  free(s);
}
