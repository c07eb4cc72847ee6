/* test_read.c — the reader on every form of the edn-format spec and on
 * malformed input: what it accepts, how it prints back, what it refuses
 * and the message and offset it gives. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edn_testutil.h"

static edn_arena *arena;
static void setup(void) { arena = edn_arena_new(); }
static void teardown(void) {
  edn_arena_free(arena);
  test_free_all();
}

struct form {
  const char *src;
  enum edn_type type;
  const char *printed; /* how our printer writes it back */
};

/* Criterion hands parameters to a worker process where pointers into this
 * one mean nothing: the parameter is an index into this table. */
static const struct form forms[] = {
  {"nil", EDN_NIL, "nil"},
  {"true", EDN_BOOL, "true"},
  {"false", EDN_BOOL, "false"},
  {"0", EDN_INT, "0"},
  {"-0", EDN_INT, "0"},
  {"+42", EDN_INT, "42"},
  {"-17", EDN_INT, "-17"},
  {"9223372036854775807", EDN_INT, "9223372036854775807"},
  {"-9223372036854775808", EDN_INT, "-9223372036854775808"},
  {"9223372036854775808", EDN_BIGINT, "9223372036854775808N"},
  {"-9223372036854775809", EDN_BIGINT, "-9223372036854775809N"},
  {"123456789012345678901234567890", EDN_BIGINT, "123456789012345678901234567890N"},
  {"7N", EDN_BIGINT, "7N"},
  {"-0N", EDN_BIGINT, "0N"},
  {"+12N", EDN_BIGINT, "12N"},
  {"1.5", EDN_FLOAT, "1.5"},
  {"-0.25", EDN_FLOAT, "-0.25"},
  {"1.", EDN_FLOAT, "1.0"},
  {"1e3", EDN_FLOAT, "1000.0"},
  {"1E-3", EDN_FLOAT, "0.001"},
  {"2.5e+10", EDN_FLOAT, "25000000000.0"},
  {"1e300", EDN_FLOAT, "1e+300"},
  {"0.1", EDN_FLOAT, "0.1"},
  {"-0.0", EDN_FLOAT, "-0.0"},
  {"1e400", EDN_FLOAT, "##Inf"},
  {"##Inf", EDN_FLOAT, "##Inf"},
  {"##-Inf", EDN_FLOAT, "##-Inf"},
  {"##NaN", EDN_FLOAT, "##NaN"},
  {"1.50M", EDN_DECIMAL, "1.50M"},
  {"3M", EDN_DECIMAL, "3M"},
  {"-1.2e5M", EDN_DECIMAL, "-1.2e5M"},
  {"+0.5M", EDN_DECIMAL, "0.5M"},
  {"\"\"", EDN_STRING, "\"\""},
  {"\"hello\"", EDN_STRING, "\"hello\""},
  {"\"a\\tb\\nc\\rd\\\\e\\\"f\"", EDN_STRING, "\"a\\tb\\nc\\rd\\\\e\\\"f\""},
  {"\"\\b\\f\"", EDN_STRING, "\"\\b\\f\""},
  {"\"\\u00e9\\u20AC\"", EDN_STRING, "\"\xc3\xa9\xe2\x82\xac\""},
  {"\"\\uD83D\\uDE00\"", EDN_STRING, "\"\xf0\x9f\x98\x80\""},
  {"\"\\u0000\"", EDN_STRING, "\"\\u0000\""},
  {"\"\\u0001\\u007f\"", EDN_STRING, "\"\\u0001\\u007F\""},
  {"\"caf\xc3\xa9\"", EDN_STRING, "\"caf\xc3\xa9\""},
  {"\"two\nlines\"", EDN_STRING, "\"two\\nlines\""},
  {"\\a", EDN_CHAR, "\\a"},
  {"\\newline", EDN_CHAR, "\\newline"},
  {"\\space", EDN_CHAR, "\\space"},
  {"\\tab", EDN_CHAR, "\\tab"},
  {"\\return", EDN_CHAR, "\\return"},
  {"\\formfeed", EDN_CHAR, "\\formfeed"},
  {"\\backspace", EDN_CHAR, "\\backspace"},
  {"\\u00e9", EDN_CHAR, "\\\xc3\xa9"},
  {"\\u0041", EDN_CHAR, "\\A"},
  {"\\u0000", EDN_CHAR, "\\u0000"},
  {"\\o101", EDN_CHAR, "\\A"},
  {"\\o0", EDN_CHAR, "\\u0000"},
  {"\\u", EDN_CHAR, "\\u"},
  {"\\o", EDN_CHAR, "\\o"},
  {"\\(", EDN_CHAR, "\\("},
  {"\\\\", EDN_CHAR, "\\\\"},
  {"\\\"", EDN_CHAR, "\\\""},
  {"\\\xc3\xa9", EDN_CHAR, "\\\xc3\xa9"},
  {"foo", EDN_SYMBOL, "foo"},
  {"foo.bar/baz", EDN_SYMBOL, "foo.bar/baz"},
  {"/", EDN_SYMBOL, "/"},
  {"+", EDN_SYMBOL, "+"},
  {"-", EDN_SYMBOL, "-"},
  {"...", EDN_SYMBOL, "..."},
  {"-a", EDN_SYMBOL, "-a"},
  {"+.", EDN_SYMBOL, "+."},
  {"-.5", EDN_SYMBOL, "-.5"},
  {"a#b", EDN_SYMBOL, "a#b"},
  {"a:b", EDN_SYMBOL, "a:b"},
  {"a'", EDN_SYMBOL, "a'"},
  {"<=>", EDN_SYMBOL, "<=>"},
  {"*ns*/x!?$%&", EDN_SYMBOL, "*ns*/x!?$%&"},
  {"nil?", EDN_SYMBOL, "nil?"},
  {"truex", EDN_SYMBOL, "truex"},
  {"\xce\xbb", EDN_SYMBOL, "\xce\xbb"},
  {":k", EDN_KEYWORD, ":k"},
  {":wat/panic", EDN_KEYWORD, ":wat/panic"},
  {":a.b/c-d", EDN_KEYWORD, ":a.b/c-d"},
  {":+", EDN_KEYWORD, ":+"},
  {":nil", EDN_KEYWORD, ":nil"},
  {"()", EDN_LIST, "()"},
  {"(1 2 3)", EDN_LIST, "(1 2 3)"},
  {"[]", EDN_VECTOR, "[]"},
  {"[1,2,,3]", EDN_VECTOR, "[1 2 3]"},
  {"[1\"a\":b\\c(d)]", EDN_VECTOR, "[1 \"a\" :b \\c (d)]"},
  {"{}", EDN_MAP, "{}"},
  {"{:a 1, :b [2 3]}", EDN_MAP, "{:a 1 :b [2 3]}"},
  {"{[1 2] {:x nil}}", EDN_MAP, "{[1 2] {:x nil}}"},
  {"#{}", EDN_SET, "#{}"},
  {"#{1 2 :three}", EDN_SET, "#{1 2 :three}"},
  {"#{[1] (1 2)}", EDN_SET, "#{[1] (1 2)}"},
  {"#inst \"1985-04-12T23:20:50.52Z\"", EDN_TAGGED, "#inst \"1985-04-12T23:20:50.52Z\""},
  {"#inst \"2020\"", EDN_TAGGED, "#inst \"2020\""},
  {"#inst \"2024-02-29T00:00:00-08:00\"", EDN_TAGGED, "#inst \"2024-02-29T00:00:00-08:00\""},
  {"#uuid \"f81d4fae-7dec-11d0-a765-00a0c91e6bf6\"", EDN_TAGGED,
   "#uuid \"f81d4fae-7dec-11d0-a765-00a0c91e6bf6\""},
  {"#my/tag [1 2]", EDN_TAGGED, "#my/tag [1 2]"},
  {"#my/tag{:a 1}", EDN_TAGGED, "#my/tag {:a 1}"},
  {"#a #b 1", EDN_TAGGED, "#a #b 1"},
  {"#_ 1 2", EDN_INT, "2"},
  {"#_#_ 1 2 3", EDN_INT, "3"},
  {"[1 #_ 2 3]", EDN_VECTOR, "[1 3]"},
  {"[1 #_ 2]", EDN_VECTOR, "[1]"},
  {"[1 #_ [2 #_ 3 4] 5]", EDN_VECTOR, "[1 5]"},
  {"{:a #_ :b 1}", EDN_MAP, "{:a 1}"},
  {"#my/tag #_ 1 2", EDN_TAGGED, "#my/tag 2"},
  {"1 #_ 2", EDN_INT, "1"},
  {"; comment\n  42 ; trailing", EDN_INT, "42"},
  {"[1 ; inside\n 2]", EDN_VECTOR, "[1 2]"},
  {",,, :x ,,,", EDN_KEYWORD, ":x"},
  {"\t\r\n\f\v nil", EDN_NIL, "nil"},
  {"{1 :int 1.0 :float}", EDN_MAP, "{1 :int 1.0 :float}"},
  {"#{1 1.0}", EDN_SET, "#{1 1.0}"},
};
ParameterizedTestParameters(read, forms) {
  static size_t idx[sizeof forms / sizeof forms[0]];
  return cr_make_param_array(size_t, idx, case_params(idx, sizeof idx / sizeof idx[0]));
}

static void check_read_forms(const struct form *f) {
  edn_value *v = must_read(arena, f->src);
  cr_expect_eq(v->type, f->type, "%s read as a %s, expected a %s", f->src,
               edn_type_name(v->type), edn_type_name(f->type));
  cr_expect_str_eq(printed(v), f->printed, "%s printed as %s, expected %s",
                   f->src, printed(v), f->printed);
  if (!(v->type == EDN_FLOAT && isnan(v->u.real)))
    check_round_trip(arena, v, f->src);
}

ParameterizedTest(size_t *i, read, forms, .init = setup, .fini = teardown) {
  size_t from, to;
  case_range(*i, sizeof forms / sizeof forms[0], &from, &to);
  for (size_t k = from; k < to; k++)
    check_read_forms(&forms[k]);
}

struct bad {
  const char *src;
  const char *message; /* a part of the error message */
  size_t offset;
};

static const struct bad bad[] = {
  {"\"abc", "unterminated string", 0},
  {"[1 2", "unterminated vector", 4},
  {"(1 [2 3]", "unterminated list", 8},
  {"{:a 1", "unterminated map", 5},
  {"#{1", "unterminated set", 3},
  {"{:a}", "even number", 0},
  {"{:a 1 :b}", "even number", 0},
  {")", "unmatched delimiter ')'", 0},
  {"[1 2)", "unmatched delimiter ')'", 4},
  {"(]", "unmatched delimiter ']'", 1},
  {"1 2", "second value", 2},
  {"1 )", "unmatched delimiter", 2},
  {"\"\\q\"", "bad escape", 1},
  {"\"\\u12\"", "\\u escape", 1},
  {"\"\\u12G4\"", "\\u escape", 1},
  {"\"\\uD800\"", "high surrogate", 1},
  {"\"\\uDC00\"", "lone low surrogate", 1},
  {"\"\\uD800\\u0041\"", "high surrogate", 1},
  {"\"\\", "unterminated string", 0},
  {"\"\xff\"", "invalid UTF-8", 1},
  {"\"\xc0\xaf\"", "invalid UTF-8", 1},
  {"\"\xed\xa0\x80\"", "invalid UTF-8", 1},
  {"\"\xe2\x82\"", "invalid UTF-8", 1},
  {"\"\xf4\x90\x80\x80\"", "invalid UTF-8", 1},
  {"sym\xff", "invalid symbol", 0},
  {"\\", "backslash at end", 0},
  {"\\ ", "backslash followed by whitespace", 0},
  {"\\abc", "unsupported character", 0},
  {"\\uD800", "surrogate", 0},
  {"\\u12", "unsupported character", 0},
  {"\\o400", "octal", 0},
  {"\\o8", "unsupported character", 0},
  {"\\\xff", "invalid UTF-8", 1},
  {"#", "'#' at end", 0},
  {"#_", "should be", 2},
  {"[#_]", "should be", 3},
  {"#foo", "should be", 4},
  {"[#foo]", "should be", 5},
  {"#{1 1}", "duplicate element 1", 0},
  {"#{1 1N}", "duplicate element", 0},
  {"{:a 1 :a 2}", "duplicate key :a", 0},
  {"{[1 2] 1 (1 2) 2}", "duplicate key", 0},
  {"{#{1 2} 1 #{2 1} 2}", "duplicate key", 0},
  {"{{:a 1 :b 2} 1 {:b 2 :a 1} 2}", "duplicate key", 0},
  {"#inst 1", "#inst needs", 0},
  {"#inst \"2020-13-01\"", "#inst needs", 0},
  {"#inst \"2021-02-29\"", "#inst needs", 0},
  {"#inst \"2020-01-01T25:00:00Z\"", "#inst needs", 0},
  {"#inst \"yesterday\"", "#inst needs", 0},
  {"#uuid \"not-a-uuid\"", "#uuid needs", 0},
  {"#uuid 42", "#uuid needs", 0},
  {"#:a{:b 1}", "invalid dispatch", 0},
  {"#\"re\"", "invalid dispatch", 0},
  {"#1 2", "invalid dispatch", 0},
  {"##Foo", "unknown symbolic value", 0},
  {"^:meta x", "metadata", 0},
  {"'quoted", "invalid symbol", 0},
  {"a/b/c", "invalid symbol", 0},
  {"foo/", "invalid symbol", 0},
  {"/foo", "invalid symbol", 0},
  {".5", "invalid symbol", 0},
  {"a@b", "invalid symbol", 0},
  {"a::b", "invalid symbol", 0},
  {"a:", "invalid symbol", 0},
  {":", "invalid keyword", 0},
  {"::foo", "invalid keyword", 0},
  {":1", "invalid keyword", 0},
  {":a/", "invalid keyword", 0},
  {":/", "invalid keyword", 0},
  {"01", "invalid number", 0},
  {"-01.5", "invalid number", 0},
  {"1.5N", "invalid number", 0},
  {"1e", "invalid number", 0},
  {"1.2.3", "invalid number", 0},
  {"0x1F", "invalid number", 0},
  {"1/2", "invalid number", 0},
  {"12abc", "invalid number", 0},
  {"1MM", "invalid number", 0},
  {"[1 \0 2]", "NUL byte", 3},
  {"\0", "NUL byte", 0},
};
ParameterizedTestParameters(read, malformed) {
  static size_t idx[sizeof bad / sizeof bad[0]];
  return cr_make_param_array(size_t, idx, case_params(idx, sizeof idx / sizeof idx[0]));
}

static void check_read_malformed(const struct bad *b) {
  edn_value *v = NULL;
  struct edn_error err = {0, ""};
  size_t len = strlen(b->src);
  if (strcmp(b->message, "NUL byte") == 0)
    len = b->src[0] ? 7 : 1; /* the NUL itself is part of the input */
  int rc = edn_read(arena, b->src, len, NULL, &v, &err);
  cr_assert_eq(rc, EDN_ERROR, "%s: expected an error, got rc %d", b->src, rc);
  cr_expect(strstr(err.message, b->message), "%s: message \"%s\" does not say \"%s\"",
            b->src, err.message, b->message);
  cr_expect_eq(err.offset, b->offset, "%s: offset %zu, expected %zu (%s)", b->src,
               err.offset, b->offset, err.message);
}

ParameterizedTest(size_t *i, read, malformed, .init = setup, .fini = teardown) {
  size_t from, to;
  case_range(*i, sizeof bad / sizeof bad[0], &from, &to);
  for (size_t k = from; k < to; k++)
    check_read_malformed(&bad[k]);
}

Test(read, empty_inputs, .init = setup, .fini = teardown) {
  const char *empty[] = {"", "   ", ",,,", "; just a comment", "#_ 1", "#_#_ 1 2 ; x\n"};
  for (size_t i = 0; i < sizeof empty / sizeof empty[0]; i++) {
    edn_value *v = NULL;
    struct edn_error err = {0, ""};
    cr_expect_eq(edn_read(arena, empty[i], strlen(empty[i]), NULL, &v, &err), EDN_EMPTY,
                 "\"%s\" should hold no value (%s)", empty[i], err.message);
  }
}

Test(read, no_nul_terminator_needed, .init = setup, .fini = teardown) {
  /* The reader must stop at len: the bytes after it are not input. */
  const char buf[] = "[1 2]]]]";
  edn_value *v = must_readn(arena, buf, 5);
  cr_expect_str_eq(printed(v), "[1 2]");
  v = must_readn(arena, "12345", 2);
  cr_expect_eq(v->u.integer, 12);
  v = must_readn(arena, ":abcdef", 3);
  cr_expect_str_eq(printed(v), ":ab");
}

Test(read, string_with_nul_escape_keeps_length, .init = setup, .fini = teardown) {
  edn_value *v = must_read(arena, "\"a\\u0000b\"");
  cr_assert_eq(v->u.text.len, 3);
  cr_expect(memcmp(v->u.text.ptr, "a\0b", 3) == 0);
}

Test(read, values_of_numbers, .init = setup, .fini = teardown) {
  cr_expect_eq(must_read(arena, "-9223372036854775808")->u.integer, INT64_MIN);
  cr_expect_eq(must_read(arena, "1e3")->u.real, 1000.0);
  cr_expect_str_eq(must_read(arena, "-0N")->u.text.ptr, "0");
  cr_expect_eq(must_read(arena, "\\o101")->u.ch, 'A');
  cr_expect_eq(must_read(arena, "\\u20AC")->u.ch, 0x20ac);
  cr_expect(signbit(must_read(arena, "-0.0")->u.real));
}

/* `tok` alone (its end the buffer's) and as the item of a vector that
 * ends 1 to 18 bytes after it: the one item read. The input is a heap
 * copy of exactly its bytes, so that ASan and memcheck see a read past
 * its end. */
static edn_value *item_at(const char *tok, size_t pad, char *buf, size_t cap) {
  int n = pad ? snprintf(buf, cap, "[%s%*s]", tok, (int)pad - 1, "")
              : snprintf(buf, cap, "%s", tok);
  char *exact = malloc((size_t)n);
  cr_assert(exact);
  memcpy(exact, buf, (size_t)n);
  edn_value *v = must_readn(arena, exact, (size_t)n);
  free(exact);
  if (!pad)
    return v;
  cr_assert_eq(v->type, EDN_VECTOR, "%s", buf);
  cr_assert_eq(v->u.seq.len, 1, "%s", buf);
  return v->u.seq.items[0];
}

/* The reader takes a number's digits 8 at a time and a name's end from a
 * 16-byte look where 16 bytes are left, and copies a short name in one
 * 8-byte move where 8 are: integers of 1 to 20 digits and keywords of 1
 * to 24 bytes (some with a byte the quick look does not take), each at
 * every distance from the buffer's end, read as strtoull and the bytes
 * say. Past 19 digits a bigint. */
Test(read, every_length_at_every_distance_from_the_end, .init = setup, .fini = teardown) {
  char tok[32], buf[64];
  for (size_t len = 1; len <= 20; len++)
    for (size_t pad = 0; pad <= 18; pad++) {
      for (size_t i = 0; i < len; i++)
        tok[i] = (char)('0' + (i * 7 + len * 3 + pad) % 10);
      if (tok[0] == '0')
        tok[0] = '9';
      tok[len] = '\0';
      edn_value *v = item_at(tok, pad, buf, sizeof buf);
      unsigned long long want = strtoull(tok, NULL, 10);
      if (len < 19 || (len == 19 && want <= (unsigned long long)INT64_MAX)) {
        cr_assert_eq(v->type, EDN_INT, "%s", buf);
        cr_expect_eq((unsigned long long)v->u.integer, want, "%s: %lld", buf,
                     (long long)v->u.integer);
      } else {
        cr_assert_eq(v->type, EDN_BIGINT, "%s", buf);
        cr_expect_str_eq(v->u.text.ptr, tok, "%s", buf);
      }
    }
  static const char odd[] = "?_*!";
  for (size_t len = 1; len <= 24; len++)
    for (size_t pad = 0; pad <= 18; pad++)
      for (size_t o = 0; o <= len; o++) { /* o == len: none */
        tok[0] = ':';
        for (size_t i = 0; i < len; i++)
          tok[1 + i] = i == 0 ? (char)('a' + len % 26)
                              : i == o ? odd[(len + pad) % 4]
                                       : "bz-09Q"[(i + pad) % 6];
        tok[1 + len] = '\0';
        edn_value *v = item_at(tok, pad, buf, sizeof buf);
        cr_assert_eq(v->type, EDN_KEYWORD, "%s", buf);
        cr_expect_eq(v->u.text.len, len, "%s", buf);
        cr_expect_str_eq(v->u.text.ptr, tok + 1, "%s", buf);
      }
}

static char *nested(size_t depth, const char *open, const char *close, const char *mid) {
  size_t lo = strlen(open), lc = strlen(close), lm = strlen(mid);
  char *s = malloc(depth * (lo + lc) + lm + 1), *p = s;
  for (size_t i = 0; i < depth; i++, p += lo)
    memcpy(p, open, lo);
  memcpy(p, mid, lm);
  p += lm;
  for (size_t i = 0; i < depth; i++, p += lc)
    memcpy(p, close, lc);
  *p = '\0';
  return s;
}

Test(read, depth_limit, .init = setup, .fini = teardown) {
  char *ok = nested(512, "[", "]", "1"), *deep = nested(513, "[", "]", "1");
  edn_value *v = NULL;
  struct edn_error err = {0, ""};
  cr_expect_eq(edn_read(arena, ok, strlen(ok), NULL, &v, &err), EDN_OK, "512 deep: %s",
               err.message);
  check_round_trip(arena, v, "512 nested vectors");
  cr_expect_eq(edn_read(arena, deep, strlen(deep), NULL, &v, &err), EDN_ERROR);
  cr_expect(strstr(err.message, "nesting deeper than 512"), "message: %s", err.message);
  cr_expect_eq(err.offset, 512);
  free(ok);
  free(deep);
}

Test(read, depth_counts_tags_and_discards, .init = setup, .fini = teardown) {
  char *tags = nested(600, "#t ", "", "1"), *disc = nested(600, "#_", "", "1 2");
  edn_value *v = NULL;
  struct edn_error err = {0, ""};
  cr_expect_eq(edn_read(arena, tags, strlen(tags), NULL, &v, &err), EDN_ERROR);
  cr_expect(strstr(err.message, "nesting"), "%s", err.message);
  cr_expect_eq(edn_read(arena, disc, strlen(disc), NULL, &v, &err), EDN_ERROR);
  free(tags);
  free(disc);
}

Test(read, configurable_limits, .init = setup, .fini = teardown) {
  struct edn_limits lim = {.max_depth = 3, .max_bytes = 10};
  edn_value *v = NULL;
  struct edn_error err = {0, ""};
  cr_expect_eq(edn_read(arena, "[[[1]]]", 7, &lim, &v, &err), EDN_OK, "%s", err.message);
  cr_expect_eq(edn_read(arena, "[[[[1]]]]", 9, &lim, &v, &err), EDN_ERROR);
  cr_expect_eq(edn_read(arena, "  \"123456789\"", 13, &lim, &v, &err), EDN_ERROR);
  cr_expect(strstr(err.message, "limit of 10 bytes"), "%s", err.message);
  cr_expect_eq(err.offset, 2);
  cr_expect_eq(edn_read(arena, "  \"1234567\"   ", 14, &lim, &v, &err), EDN_OK, "%s",
               err.message);
  cr_expect_eq(edn_read(arena, "12345678901", 11, &lim, &v, &err), EDN_ERROR);
  cr_expect(strstr(err.message, "limit"), "%s", err.message);
  cr_expect_eq(edn_read(arena, "1234567890", 10, &lim, &v, &err), EDN_OK);
}

Test(read, default_byte_limit_is_one_mib, .init = setup, .fini = teardown) {
  size_t n = (1 << 20) + 10;
  char *s = malloc(n);
  edn_value *v = NULL;
  struct edn_error err = {0, ""};
  memset(s, 'a', n);
  s[0] = '"';
  s[n - 1] = '"';
  cr_expect_eq(edn_read(arena, s, n, NULL, &v, &err), EDN_ERROR);
  cr_expect(strstr(err.message, "limit of 1048576 bytes"), "%s", err.message);
  s[n - 1] = 'a';
  s[(1 << 20) - 1] = '"';
  cr_expect_eq(edn_read(arena, s, 1 << 20, NULL, &v, &err), EDN_OK, "%s", err.message);
  free(s);
}

Test(read, decimal_exponent_must_fit_a_bigdecimal, .init = setup, .fini = teardown) {
  edn_value *v = NULL;
  struct edn_error err = {0, ""};
  cr_expect_eq(must_read(arena, "1e999999999M")->type, EDN_DECIMAL);
  cr_expect_eq(must_read(arena, "1e-0000000000999999999M")->type, EDN_DECIMAL);
  cr_expect_eq(edn_read(arena, "1e1000000000M", 13, NULL, &v, &err), EDN_ERROR);
  cr_expect(strstr(err.message, "decimal exponent out of range"), "%s", err.message);
  cr_expect_eq(must_read(arena, "1e1000000000")->type, EDN_FLOAT, "a double just overflows");
}

Test(read, error_out_may_be_null, .init = setup, .fini = teardown) {
  edn_value *v = NULL;
  cr_expect_eq(edn_read(arena, "[1 2", 4, NULL, &v, NULL), EDN_ERROR);
  cr_expect_eq(edn_read(arena, "{:a 1 :a 2}", 11, NULL, &v, NULL), EDN_ERROR);
  cr_expect_eq(edn_read(arena, "#inst 1", 7, NULL, &v, NULL), EDN_ERROR);
  cr_expect_eq(edn_read(arena, "[1]", 3, NULL, &v, NULL), EDN_OK);
}
