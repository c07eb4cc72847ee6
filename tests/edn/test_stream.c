/* test_stream.c — the streaming reader's own contract: values as they
 * complete, tokens that complete only at the end, errors that stay, offsets
 * counted from the start of the stream, limits per value, and linear cost
 * for a large value fed a byte at a time. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "edn_fixture.h"
#include "edn_testutil.h"

static edn_arena *arena;
static edn_reader *reader;
static void setup(void) {
  arena = edn_arena_new();
  reader = edn_reader_new(NULL);
}
static void teardown(void) {
  edn_reader_free(reader);
  edn_arena_free(arena);
  test_free_all();
}

static void feed(const char *s) { cr_assert(edn_reader_feed(reader, s, strlen(s)) == 0); }

/* The next value printed, "" when none yet, "error: ..." on error. */
static const char *next(void) {
  static char out[512];
  edn_value *v = NULL;
  struct edn_error err = {0, ""};
  int rc = edn_reader_next(reader, arena, &v, &err);
  if (rc == 0)
    return "";
  if (rc < 0) {
    snprintf(out, sizeof out, "error at %zu: %s", err.offset, err.message);
    return out;
  }
  cr_assert_eq(rc, 1);
  snprintf(out, sizeof out, "%s", printed(v));
  return out;
}

Test(stream, values_as_they_complete, .init = setup, .fini = teardown) {
  feed("{:id 1 :op :ping}\n{:id 2 ");
  cr_expect_str_eq(next(), "{:id 1 :op :ping}");
  cr_expect_str_eq(next(), "");
  feed(":op :echo :body [1 2]}\n[3]");
  cr_expect_str_eq(next(), "{:id 2 :op :echo :body [1 2]}");
  cr_expect_str_eq(next(), "[3]");
  cr_expect_str_eq(next(), "");
}

Test(stream, token_completes_at_delimiter_or_finish, .init = setup, .fini = teardown) {
  feed("42");
  cr_expect_str_eq(next(), "", "42 may go on: 421");
  feed("1");
  cr_expect_str_eq(next(), "");
  feed(" :k");
  cr_expect_str_eq(next(), "421");
  cr_expect_str_eq(next(), "");
  edn_reader_finish(reader);
  cr_expect_str_eq(next(), ":k");
  cr_expect_str_eq(next(), "");
}

Test(stream, tags_and_discards_at_top_level, .init = setup, .fini = teardown) {
  feed("#_ 1 #my/tag ");
  cr_expect_str_eq(next(), "");
  feed("[1] #_ #_ 2 3 #inst \"2020\" #_ 9");
  cr_expect_str_eq(next(), "#my/tag [1]");
  cr_expect_str_eq(next(), "#inst \"2020\"");
  cr_expect_str_eq(next(), "");
  edn_reader_finish(reader);
  cr_expect_str_eq(next(), "");
}

Test(stream, unfinished_input_is_an_error_at_finish, .init = setup, .fini = teardown) {
  feed("[1 2] [3 \"abc");
  cr_expect_str_eq(next(), "[1 2]");
  cr_expect_str_eq(next(), "");
  edn_reader_finish(reader);
  cr_expect_str_eq(next(), "error at 9: unterminated string");
  cr_expect_str_eq(next(), "error at 9: unterminated string", "the reader stays failed");
}

Test(stream, errors_stay_and_offsets_count_from_stream_start, .init = setup, .fini = teardown) {
  for (int i = 0; i < 1000; i++)
    feed("[1 2 3] ");
  for (int i = 0; i < 1000; i++)
    cr_assert_str_eq(next(), "[1 2 3]");
  feed("{:a}");
  cr_expect_str_eq(next(), "error at 8000: map literal needs an even number of forms, this one has 1");
  feed("[4]");
  cr_expect(strncmp(next(), "error at 8000", 13) == 0);
}

Test(stream, stray_closer_and_bad_dispatch, .init = setup, .fini = teardown) {
  feed("1 ) 2");
  cr_expect_str_eq(next(), "1");
  cr_expect_str_eq(next(), "error at 2: unmatched delimiter ')'");
}

Test(stream, empty_and_blank_streams, .init = setup, .fini = teardown) {
  cr_expect_str_eq(next(), "");
  feed("  ,, ; only a comment\n\n");
  cr_expect_str_eq(next(), "");
  edn_reader_finish(reader);
  cr_expect_str_eq(next(), "");
}

Test(stream, limits_apply_to_each_value, .timeout = 30) {
  struct edn_limits lim = {.max_depth = 4, .max_bytes = 16};
  edn_reader *r = edn_reader_new(&lim);
  edn_arena *a = edn_arena_new();
  edn_value *v;
  struct edn_error err = {0, ""};
  for (int i = 0; i < 100; i++) /* 100 values of 14 bytes: each under 16 */
    cr_assert(edn_reader_feed(r, "[[[1 2 3 4]]] ", 14) == 0);
  for (int i = 0; i < 100; i++)
    cr_assert_eq(edn_reader_next(r, a, &v, &err), 1, "%s", err.message);
  cr_assert(edn_reader_feed(r, "\"0123456789abcdefghij", 21) == 0);
  cr_expect_eq(edn_reader_next(r, a, &v, &err), EDN_ERROR);
  cr_expect(strstr(err.message, "limit of 16 bytes"), "%s", err.message);
  cr_expect_eq(err.offset, 1400);
  edn_reader_free(r);
  r = edn_reader_new(&lim);
  cr_assert(edn_reader_feed(r, "[[[[[1]]]]]", 11) == 0);
  cr_expect_eq(edn_reader_next(r, a, &v, &err), EDN_ERROR);
  cr_expect(strstr(err.message, "nesting deeper than 4"), "%s", err.message);
  edn_reader_free(r);
  edn_arena_free(a);
}

Test(stream, endless_value_is_refused_without_buffering_it_all, .timeout = 30) {
  edn_reader *r = edn_reader_new(NULL);
  edn_arena *a = edn_arena_new();
  char chunk[4096];
  edn_value *v;
  struct edn_error err = {0, ""};
  int rc = 0;
  size_t fed = 0;
  memset(chunk, 'x', sizeof chunk);
  chunk[0] = '[';
  chunk[1] = '"';
  while (rc == 0 && fed < (64u << 20)) {
    cr_assert(edn_reader_feed(r, chunk, sizeof chunk) == 0);
    fed += sizeof chunk;
    chunk[0] = chunk[1] = 'x';
    rc = edn_reader_next(r, a, &v, &err);
  }
  cr_expect_eq(rc, EDN_ERROR);
  cr_expect(fed <= (1u << 20) + 2 * sizeof chunk, "refused only after %zu bytes", fed);
  cr_expect(strstr(err.message, "limit of 1048576 bytes"), "%s", err.message);
  edn_reader_free(r);
  edn_arena_free(a);
}

/* A 900 KB value fed one byte at a time: linear, so well under a second
 * (quadratic rescanning would be ~10^11 steps). */
Test(stream, large_value_byte_by_byte_is_linear, .timeout = 60) {
  size_t n = 0, cap = 1 << 20;
  char *s = malloc(cap);
  edn_reader *r = edn_reader_new(NULL);
  edn_arena *a = edn_arena_new();
  edn_value *v = NULL;
  struct edn_error err = {0, ""};
  int rc = 0;
  s[n++] = '[';
  while (n < (under_memcheck() ? 100000 : 900000))
    n += (size_t)snprintf(s + n, cap - n, "{:k \"v%zu\" :n [%zu 1.5]} ", n, n);
  s[n++] = ']';
  for (size_t i = 0; i < n && rc == 0; i++) {
    cr_assert(edn_reader_feed(r, s + i, 1) == 0);
    rc = edn_reader_next(r, a, &v, &err);
  }
  cr_assert_eq(rc, 1, "rc %d: %s", rc, err.message);
  cr_expect_eq(v->type, EDN_VECTOR);
  cr_expect_gt(v->u.seq.len, 1000);
  edn_reader_free(r);
  edn_arena_free(a);
  free(s);
}

Test(stream, many_small_values_one_byte_at_a_time, .init = setup, .fini = teardown) {
  const char *in = "{:id 1 :op :ping}\n\"s\\\"tr\" \\a \\newline #_ [x] 1.5M ##NaN (a b) #{1}";
  char *bytes = stream_outcome(in, strlen(in), NULL, (size_t)-1, NULL);
  cr_expect_str_eq(bytes, "{:id 1 :op :ping}\n\"s\\\"tr\"\n\\a\n\\newline\n1.5M\n##NaN\n(a b)\n#{1}\n");
  free(bytes);
}

Test(stream, free_with_pending_input, .init = setup, .fini = teardown) {
  feed("[1 2 {:unfinished");
  cr_expect_str_eq(next(), "");
  /* teardown frees it: memcheck and ASan check nothing leaks */
}

/* Inside collections the scanner skips all but strings, comments, character
 * literals and brackets: every one of those, cut at every point. */
Test(stream, nested_syntax_at_every_cut, .init = setup, .fini = teardown) {
  const char *in = "[\\\" \\( \\; \\] \"a]b\\\"[\" ; c ] \" \n #{#_ [1] \\{} #t [2] \\\\] "
                   "{:k \\newline} (\\u0041 \"\\\\\") [#_#_ ) ( ]]\n";
  const char *want = "[\\\" \\( \\; \\] \"a]b\\\"[\" #{\\{} #t [2] \\\\]\n"
                     "{:k \\newline}\n(\\A \"\\\\\")\n";
  size_t len = strlen(in);
  char *whole = stream_outcome(in, len, NULL, 0, NULL);
  cr_expect(strncmp(whole, want, strlen(want)) == 0, "got:\n%s", whole);
  cr_expect(strstr(whole, "error at"), "the last vector is malformed: %s", whole);
  for (size_t a = 0; a <= len; a++)
    for (size_t b = a; b <= len; b += 7) {
      size_t cuts[2] = {a, b};
      char *s = stream_outcome(in, len, cuts, 2, NULL);
      cr_assert_str_eq(s, whole, "cut at %zu and %zu", a, b);
      free(s);
    }
  free(whole);
}
