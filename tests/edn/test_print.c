/* test_print.c — the printer: doubles as the shortest text that reads back
 * (and that Clojure reads as a double), string and character escapes, one
 * line always, and the pretty form for people. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <float.h>
#include <math.h>
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

struct float_case {
  double d;
  const char *text;
};

static const struct float_case floats[] = {
    {0.0, "0.0"},
    {-0.0, "-0.0"},
    {1.0, "1.0"},
    {-2.0, "-2.0"},
    {0.1, "0.1"},
    {0.5, "0.5"},
    {100.0, "100.0"},
    {1e15, "1e+15"},
    {123456789012345.0, "123456789012345.0"},
    {1e21, "1e+21"},
    {1e22, "1e+22"},
    {1e23, "1e+23"},
    {1.0 / 3, "0.3333333333333333"},
    {2.0 / 3, "0.6666666666666666"},
    {0.1 + 0.2, "0.30000000000000004"},
    {1e-7, "1e-07"},
    {5e-324, "5e-324"},
    {2.2250738585072014e-308, "2.2250738585072014e-308"},
    {1.7976931348623157e308, "1.7976931348623157e+308"},
    {3.141592653589793, "3.141592653589793"},
    {INFINITY, "##Inf"},
    {-INFINITY, "##-Inf"},
};

ParameterizedTestParameters(print, floats) {
  static size_t idx[sizeof floats / sizeof floats[0]];
  return cr_make_param_array(size_t, idx, case_params(idx, sizeof idx / sizeof idx[0]));
}

static void check_print_floats(const struct float_case *c) {
  edn_value *v = edn_float(arena, c->d);
  const char *s = printed(v);
  cr_expect_str_eq(s, c->text, "%.17g printed as %s, expected %s", c->d, s, c->text);
  check_round_trip(arena, v, c->text);
  cr_expect(memcmp(&must_read(arena, s)->u.real, &c->d, sizeof c->d) == 0,
            "%s does not read back to the same bits", s);
}

ParameterizedTest(size_t *i, print, floats, .init = setup, .fini = teardown) {
  size_t from, to;
  case_range(*i, sizeof floats / sizeof floats[0], &from, &to);
  for (size_t k = from; k < to; k++)
    check_print_floats(&floats[k]);
}

Test(print, nan, .init = setup, .fini = teardown) {
  edn_value *v = edn_float(arena, NAN);
  cr_expect_str_eq(printed(v), "##NaN");
  cr_expect(isnan(must_read(arena, "##NaN")->u.real));
  cr_expect(!edn_equal(v, v), "##NaN equals nothing, not even itself");
}

/* Significant digits of a number's text: no sign, exponent, point, leading
 * or trailing zeros. */
static size_t significant(const char *s) {
  char d[40];
  size_t n = 0, lead = 0;
  for (; *s && *s != 'e'; s++)
    if (*s >= '0' && *s <= '9')
      d[n++] = *s;
  while (lead < n && d[lead] == '0')
    lead++;
  while (n > lead && d[n - 1] == '0')
    n--;
  return n - lead;
}

/* Many doubles: the text reads back to the very same bits, always carries
 * '.' or 'e' (Clojure reads it as a double), and no shorter %g text would. */
Test(print, random_doubles_shortest_round_trip, .init = setup, .fini = teardown) {
  uint64_t x = 0x9e3779b97f4a7c15ULL;
  for (int k = 0; k < (under_memcheck() ? 1000 : 20000); k++) {
    double d, back;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    memcpy(&d, &x, sizeof d);
    if (!isfinite(d))
      continue;
    if (k % 2)
      d = (double)(int64_t)(x >> 20) / 1000.0; /* decimal-looking ones too */
    const char *s = printed(edn_float(arena, d));
    back = strtod(s, NULL);
    cr_assert(memcmp(&back, &d, sizeof d) == 0, "%.17g printed %s", d, s);
    cr_assert(strpbrk(s, ".e"), "%s has neither '.' nor 'e'", s);
    char shortest[40];
    for (int prec = 1; prec <= 17; prec++) { /* the slow, sure way */
      snprintf(shortest, sizeof shortest, "%.*g", prec, d);
      if (strtod(shortest, NULL) == d)
        break;
    }
    cr_assert_eq(significant(s), significant(shortest),
                 "%.17g: printed %s, shortest is %s", d, s, shortest);
    if (k % 1000 == 0)
      test_free_all();
  }
}

Test(print, string_escapes, .init = setup, .fini = teardown) {
  const char raw[] = "q\" b\\ n\n r\r t\t b\b f\f nul\0 soh\x01 del\x7f \xc3\xa9";
  edn_value *v = edn_string(arena, raw, sizeof raw - 1);
  cr_expect_str_eq(printed(v),
                   "\"q\\\" b\\\\ n\\n r\\r t\\t b\\b f\\f nul\\u0000 soh\\u0001 del\\u007F \xc3\xa9\"");
  check_round_trip(arena, v, "escapes");
}

Test(print, chars, .init = setup, .fini = teardown) {
  static const struct {
    uint32_t c;
    const char *text;
  } cases[] = {{'a', "\\a"},         {'\n', "\\newline"}, {' ', "\\space"},
               {'\t', "\\tab"},      {'\r', "\\return"},  {'\f', "\\formfeed"},
               {'\b', "\\backspace"}, {0, "\\u0000"},      {0x7f, "\\u007F"},
               {0xe9, "\\\xc3\xa9"},  {0x20ac, "\\\xe2\x82\xac"}, {'\\', "\\\\"},
               {'"', "\\\""},         {'(', "\\("},         {',', "\\,"}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    edn_value *v = edn_char(arena, cases[i].c);
    cr_expect_str_eq(printed(v), cases[i].text, "U+%04X", cases[i].c);
    check_round_trip(arena, v, cases[i].text);
  }
}

Test(print, one_line_always, .init = setup, .fini = teardown) {
  edn_value *v = must_read(arena, "{:a \"x\ny\" :b [\\newline \"\r\n\"] :c {:d \"\\n\"}}");
  cr_expect(!strchr(printed(v), '\n'));
  cr_expect(!strchr(printed(v), '\r'));
}

Test(print, pretty_breaks_long_collections, .init = setup, .fini = teardown) {
  edn_value *v = must_read(arena,
      "{:id 3 :node \"L1\" :replies [{:node \"L2a\" :result {:node \"L2a\" :pong true}} "
      "{:node \"L2b\" :error {:type :wat/dead :message \"the child exited a while ago\"}}] "
      ":t #my/tag [1 2 3] :s #{:a}}");
  struct edn_buf b = {NULL, 0, 0};
  edn_value *back = NULL;
  struct edn_error err = {0, ""};
  cr_assert(edn_print_pretty(&b, v) == 0);
  cr_assert(edn_buf_append(&b, "", 0) == 0);
  b.ptr[b.len] = '\0';
  cr_expect(strchr(b.ptr, '\n'), "a long map spans lines: %s", b.ptr);
  cr_expect(strstr(b.ptr, "\n :replies ["), "keys align under the first:\n%s", b.ptr);
  for (char *line = b.ptr; line; line = strchr(line + 1, '\n'))
    cr_expect(strcspn(line + 1, "\n") <= 80, "a line too long in:\n%s", b.ptr);
  cr_assert_eq(edn_read(arena, b.ptr, b.len, NULL, &back, &err), EDN_OK, "%s", err.message);
  cr_expect(edn_equal(v, back), "pretty output reads back equal");
  edn_buf_free(&b);
  v = must_read(arena, "{:a 1 :b [1 2]}");
  cr_assert(edn_print_pretty(&b, v) == 0);
  cr_expect(b.len == strlen("{:a 1 :b [1 2]}") && memcmp(b.ptr, "{:a 1 :b [1 2]}", b.len) == 0,
            "a short value stays on one line");
  edn_buf_free(&b);
  cr_expect_null(b.ptr);
}

Test(print, appends_to_a_buffer, .init = setup, .fini = teardown) {
  struct edn_buf b = {NULL, 0, 0};
  cr_assert(edn_buf_append(&b, "x=", 2) == 0);
  cr_assert(edn_print(&b, must_read(arena, "[1 :a]")) == 0);
  cr_expect(b.len == 8 && memcmp(b.ptr, "x=[1 :a]", 8) == 0);
  edn_buf_free(&b);
}

/* Deciding whether a collection fits the line looks at one line's worth,
 * not the whole subtree: deep and wide values pretty-print in linear time. */
Test(print, pretty_deep_and_wide_is_fast, .init = setup, .fini = teardown, .timeout = 20) {
  size_t depth = 500, n = 0, cap = 4 << 20;
  char *s = malloc(cap);
  struct edn_buf b = {NULL, 0, 0};
  struct edn_limits lim = {.max_bytes = cap};
  edn_value *v = NULL, *back = NULL;
  struct edn_error err = {0, ""};
  for (size_t i = 0; i < depth; i++)
    n += (size_t)snprintf(s + n, cap - n, "[\"%0500zu\" {:k %zu} ", i, i);
  for (size_t i = 0; i < depth; i++)
    s[n++] = ']';
  cr_assert_eq(edn_read(arena, s, n, &lim, &v, &err), EDN_OK, "%s", err.message);
  cr_assert(edn_print_pretty(&b, v) == 0);
  cr_assert_eq(edn_read(arena, b.ptr, b.len, &lim, &back, &err), EDN_OK, "%s", err.message);
  cr_expect(edn_equal(v, back));
  edn_buf_free(&b);
  free(s);
}
