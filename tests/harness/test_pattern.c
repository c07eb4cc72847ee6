/* test_pattern.c — the expect matcher of docs/scenarios.md: `_` matches anything,
 * maps by the keys given, vectors and lists by position with the same
 * length, sets by membership, scalars by EDN value; and the `why` of a
 * mismatch: the path of the first difference, expected vs actual, and the
 * reply pretty-printed with the differing part marked `>>>`. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <string.h>

#include "pattern.h"

static edn_value *rd(edn_arena *a, const char *s) {
  edn_value *v = NULL;
  struct edn_error e;
  cr_assert_eq(edn_read(a, s, strlen(s), NULL, &v, &e), EDN_OK, "%s: %s", s,
               e.message);
  return v;
}

struct match_case {
  char pattern[128];
  char actual[128];
  bool matches;
};

ParameterizedTestParameters(pattern, table) {
  static struct match_case c[] = {
      {"_", "{:a 1}", true},
      {"_", "nil", true},
      {"{}", "{:a 1}", true},
      {"{:a 1}", "{:a 1 :b 2}", true},
      {"{:a 1 :b 2}", "{:a 1}", false},
      {"{:a _}", "{:a nil}", true},
      {"{:a _}", "{:b 1}", false},
      {"{:a 1}", "{:a 2}", false},
      {"{:a 1}", "[:a 1]", false},
      {"[_ _ _]", "[1 2 3]", true},
      {"[_ _]", "[1 2 3]", false},
      {"[1 2]", "(1 2)", true},
      {"[]", "[]", true},
      {"[{:x 1} _]", "[{:x 1 :y 2} 3]", true},
      {"[{:x 1} _]", "[{:x 2} 3]", false},
      {"#{1 2}", "#{3 2 1}", true},
      {"#{1 4}", "#{3 2 1}", false},
      {"#{{:node \"a\"}}", "#{{:node \"a\" :pid 3} 5}", true},
      {"#{}", "#{1}", true},
      {"#{1}", "[1]", false},
      {"1", "1", true},
      {"1", "1N", true},
      {"1", "1.0", false},
      {"\"a\"", "\"a\"", true},
      {"\"a\"", ":a", false},
      {":wat/dead", ":wat/dead", true},
      {":wat/dead", ":wat/child-exited", false},
      {"nil", "nil", true},
      {"nil", "false", false},
      {"x", "x", true},
      {"#inst \"2020-01-01T00:00:00Z\"", "#inst \"2020-01-01T00:00:00Z\"", true},
      {"#my/t _", "#my/t [1]", true},
      {"#my/t _", "#other/t [1]", false},
      {"{[1 2] :k}", "{[1 2] :k :z 1}", true},
      {"{:id 1 :replies [_ {:replies [{:node \"L3c\" :error {:type :wat/dead}} _]} _]}",
       "{:id 1 :node \"L1\" :replies [1 {:replies [{:node \"L3c\" :error {:type :wat/dead}} 2]} 3]}",
       true},
  };
  return cr_make_param_array(struct match_case, c, sizeof c / sizeof c[0]);
}

ParameterizedTest(struct match_case *c, pattern, table) {
  edn_arena *a = edn_arena_new();
  edn_value *p = rd(a, c->pattern), *v = rd(a, c->actual);
  cr_expect_eq(pattern_match(p, v, NULL), c->matches, "%s vs %s: expected %s",
               c->pattern, c->actual, c->matches ? "a match" : "no match");
  struct edn_buf why = {0};
  cr_expect_eq(pattern_match(p, v, &why), c->matches);
  if (c->matches)
    cr_expect_eq(why.len, 0, "no explanation for a match");
  else
    cr_expect_gt(why.len, 0, "a mismatch is explained");
  edn_buf_free(&why);
  edn_arena_free(a);
}

static char *why_of(const char *pattern, const char *actual) {
  edn_arena *a = edn_arena_new();
  struct edn_buf why = {0};
  cr_assert_not(pattern_match(rd(a, pattern), rd(a, actual), &why));
  edn_buf_append(&why, "", 1);
  char *s = strdup(why.ptr);
  edn_buf_free(&why);
  edn_arena_free(a);
  return s;
}

Test(pattern, why_names_the_path_and_both_values) {
  char *w = why_of(
      "{:id 3 :replies [_ {:replies [{:node \"L3c\" :error {:type :wat/dead}} _]} _]}",
      "{:id 3 :node \"L1\" :replies [{:node \"L2a\"} {:node \"L2b\" :replies "
      "[{:node \"L3c\" :error {:type :wat/child-exited :child \"L3c\"}} {:node "
      "\"L3d\"}]} {:node \"L2c\"}]}");
  cr_expect(strncmp(w, "at [:replies 1 :replies 0 :error :type]: expected "
                       ":wat/dead, got :wat/child-exited\n", 83) == 0, "%s", w);
  /* the marked line holds the differing value, and only one line is marked */
  const char *mark = strstr(w, "\n>>> ");
  cr_assert_not_null(mark, "%s", w);
  const char *eol = strchr(mark + 1, '\n');
  cr_expect(memmem(mark, (size_t)(eol - mark), ":wat/child-exited", 17) != NULL,
            "%s", w);
  cr_expect_null(strstr(eol, ">>> "), "one marked line: %s", w);
  free(w);
}

Test(pattern, why_missing_key_marks_the_map) {
  char *w = why_of("{:id 1 :pong true}", "{:id 1 :node \"L1\" :error {:type :wat/unknown-op}}");
  cr_expect(strstr(w, "at []: missing key :pong (expected true)") == w, "%s", w);
  cr_expect(strstr(w, ">>> {:id 1") != NULL, "%s", w);
  free(w);
}

Test(pattern, why_length) {
  char *w = why_of("{:replies [_ _ _]}", "{:replies [1 2]}");
  cr_expect(strstr(w, "at [:replies]: expected 3 items, got 2") == w, "%s", w);
  free(w);
}

Test(pattern, why_kind) {
  char *w = why_of("{:body [1]}", "{:body {:a 1}}");
  cr_expect(strstr(w, "at [:body]: expected a vector or list, got {:a 1}") == w, "%s", w);
  free(w);
}

Test(pattern, why_set) {
  char *w = why_of("#{1 9}", "#{1 2}");
  cr_expect(strstr(w, "at []: no element of the set matches 9") == w, "%s", w);
  free(w);
}

Test(pattern, pretty_marks_every_line_of_a_multiline_difference) {
  char *w = why_of(
      "{:body _ :x {:a 1}}",
      "{:body \"a long string that makes this reply too wide for one line of "
      "the report\" :x [{:deep \"another long string that will not fit\"} "
      "{:deeper \"and one more long string to wrap the vector\"}]}");
  int marked = 0;
  for (const char *p = w; (p = strstr(p, "\n>>> ")); p++)
    marked++;
  cr_expect_eq(marked, 2, "both lines of the vector are marked:\n%s", w);
  free(w);
}
