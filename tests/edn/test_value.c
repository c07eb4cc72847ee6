/* test_value.c — values as data: builders, lookup, equality and hashing by
 * value (maps and sets order-free, 1 = 1N, 1 != 1.0, ##NaN equals nothing),
 * deep copy across arenas, and the arena itself. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "edn_testutil.h"

static edn_arena *arena;
static void setup(void) { arena = edn_arena_new(); }
static void teardown(void) {
  edn_arena_free(arena);
  test_free_all();
}

Test(value, build_a_reply, .init = setup, .fini = teardown) {
  edn_value *m = edn_coll(arena, EDN_MAP), *err = edn_coll(arena, EDN_MAP);
  edn_value *v = edn_coll(arena, EDN_VECTOR), *s = edn_coll(arena, EDN_SET);
  cr_assert(m && err && v && s);
  cr_assert(edn_map_putk(arena, m, "id", edn_int(arena, 7)) == 0);
  cr_assert(edn_map_putk(arena, m, "node", edn_string(arena, "L1", 2)) == 0);
  cr_assert(edn_map_putk(arena, err, "type", edn_keyword(arena, "wat/dead")) == 0);
  cr_assert(edn_map_putk(arena, err, "message", edn_string(arena, "gone", 4)) == 0);
  cr_assert(edn_map_putk(arena, m, "error", err) == 0);
  for (int i = 0; i < 100; i++)
    cr_assert(edn_push(arena, v, edn_int(arena, i)) == 0);
  cr_assert(edn_push(arena, s, edn_symbol(arena, "x", 1)) == 0);
  cr_assert(edn_push(arena, s, edn_nil(arena)) == 0);
  cr_assert(edn_map_putk(arena, m, "v", v) == 0);
  cr_assert(edn_map_putk(arena, m, "s", s) == 0);
  cr_assert(edn_map_putk(arena, m, "t", edn_tagged(arena, "my/tag", edn_bool(arena, true))) == 0);
  cr_assert(edn_map_putk(arena, m, "c", edn_char(arena, 'z')) == 0);
  cr_assert(edn_map_putk(arena, m, "f", edn_float(arena, 2.5)) == 0);
  cr_expect_eq(v->u.seq.len, 100);
  cr_expect(strncmp(printed(m), "{:id 7 :node \"L1\" :error {:type :wat/dead :message \"gone\"} :v [0 1 2 ", 66) == 0,
            "%s", printed(m));
  cr_expect(strstr(printed(m), " 99] :s #{x nil} :t #my/tag true :c \\z :f 2.5}"), "%s", printed(m));
  check_round_trip(arena, m, "built reply");
}

Test(value, map_put_replaces_and_get_finds, .init = setup, .fini = teardown) {
  edn_value *m = must_read(arena, "{:id 1 :op :ping [1 2] :vec 1 :one}");
  cr_assert(edn_map_putk(arena, m, "id", edn_int(arena, 2)) == 0);
  cr_expect_eq(m->u.map.len, 4, "replacing keeps one entry per key");
  cr_expect_eq(edn_map_getk(m, "id")->u.integer, 2);
  cr_expect(edn_is_keyword(edn_map_getk(m, "op"), "ping"));
  cr_expect(!edn_is_keyword(edn_map_getk(m, "op"), "pin"));
  cr_expect(!edn_is_keyword(edn_map_getk(m, "id"), "ping"));
  cr_expect_null(edn_map_getk(m, "nope"));
  cr_expect_null(edn_map_getk(must_read(arena, "[:id 1]"), "id"), "not a map");
  cr_expect_null(edn_map_getk(NULL, "id"));
  cr_expect(edn_is_keyword(edn_map_get(m, must_read(arena, "(1 2)")), "vec"),
            "a list key finds the equal vector key");
  cr_expect_str_eq(printed(edn_map_get(m, must_read(arena, "1N"))), ":one", "1N finds 1");
  cr_assert(edn_map_put(arena, m, must_read(arena, "1N"), edn_nil(arena)) == 0);
  cr_expect_eq(m->u.map.len, 4);
}

struct eq_case {
  const char *x, *y;
  bool equal;
};

static const struct eq_case eqs[] = {
    {"1", "1", true},
    {"1", "1N", true},
    {"-5N", "-5", true},
    {"9223372036854775808", "9223372036854775808N", true},
    {"1", "2", false},
    {"1", "1.0", false},
    {"1", "1M", false},
    {"1.0", "1.0M", false},
    {"1.0M", "1.00M", true},
    {"100M", "1e2M", true},
    {"0.05M", "5e-2M", true},
    {"0M", "-0.0M", true},
    {"1.5M", "1.50001M", false},
    {"0.0", "-0.0", true},
    {"##Inf", "##Inf", true},
    {"##Inf", "##-Inf", false},
    {"\"a\"", "\"a\"", true},
    {"\"a\"", "a", false},
    {"\"a\"", ":a", false},
    {"a", ":a", false},
    {"\\a", "\"a\"", false},
    {"\\a", "\\u0061", true},
    {"nil", "false", false},
    {"nil", "nil", true},
    {"[1 2]", "(1 2)", true},
    {"[1 2]", "[2 1]", false},
    {"[1 2]", "#{1 2}", false},
    {"[]", "()", true},
    {"{}", "[]", false},
    {"{}", "#{}", false},
    {"{:a 1 :b 2}", "{:b 2 :a 1}", true},
    {"{:a 1 :b 2}", "{:a 1 :b 3}", false},
    {"{:a 1 :b 2}", "{:a 1 :c 2}", false},
    {"{:a 1}", "{:a 1 :b 2}", false},
    {"#{1 2 3}", "#{3 2 1}", true},
    {"#{1 2 3}", "#{1 2 4}", false},
    {"#{[1 2] {:a #{}}}", "#{{:a #{}} (1 2)}", true},
    {"{[1] 1N}", "{(1) 1}", true},
    {"#inst \"2020\"", "#inst \"2020\"", true},
    {"#a 1", "#b 1", false},
    {"#a 1", "#a 1N", true},
    {"#a 1", "1", false},
    {"foo/bar", "foo/bar", true},
    {"foo/bar", "foo/baz", false},
};

ParameterizedTestParameters(value, equality) {
  static size_t idx[sizeof eqs / sizeof eqs[0]];
  return cr_make_param_array(size_t, idx, case_params(idx, sizeof idx / sizeof idx[0]));
}

static void check_value_equality(const struct eq_case *c) {
  edn_value *x = must_read(arena, c->x), *y = must_read(arena, c->y);
  cr_expect_eq(edn_equal(x, y), c->equal, "%s = %s should be %d", c->x, c->y, c->equal);
  cr_expect_eq(edn_equal(y, x), c->equal, "%s = %s should be %d", c->y, c->x, c->equal);
  cr_expect(edn_equal(x, x), "%s = itself", c->x);
  if (c->equal)
    cr_expect(edn_hash(x) == edn_hash(y), "equal %s and %s hash alike", c->x, c->y);
}

ParameterizedTest(size_t *i, value, equality, .init = setup, .fini = teardown) {
  size_t from, to;
  case_range(*i, sizeof eqs / sizeof eqs[0], &from, &to);
  for (size_t k = from; k < to; k++)
    check_value_equality(&eqs[k]);
}

/* Two 100k-entry maps in opposite orders: equal, quickly (hashing, not a
 * quadratic scan), and a map of that size reads with its duplicate check
 * in well under the timeout. */
Test(value, big_maps_compare_and_read_fast, .init = setup, .fini = teardown, .timeout = 20) {
  size_t n = under_memcheck() ? 20000 : 100000, cap = n * 24 + 16, k = 0, j = 0;
  char *fwd = malloc(cap), *rev = malloc(cap);
  edn_value *x, *y;
  struct edn_error err = {0, ""};
  clock_t t0 = clock();
  fwd[k++] = rev[j++] = '{';
  for (size_t i = 0; i < n; i++) {
    k += (size_t)snprintf(fwd + k, cap - k, "[%zu \"k\"] %zu ", i, i);
    j += (size_t)snprintf(rev + j, cap - j, "[%zu \"k\"] %zu ", n - 1 - i, n - 1 - i);
  }
  fwd[k++] = rev[j++] = '}';
  struct edn_limits lim = {.max_bytes = 8 << 20};
  cr_assert_eq(edn_read(arena, fwd, k, &lim, &x, &err), EDN_OK, "%s", err.message);
  cr_assert_eq(edn_read(arena, rev, j, &lim, &y, &err), EDN_OK, "%s", err.message);
  cr_expect_eq(x->u.map.len, n);
  cr_expect(edn_equal(x, y));
  cr_expect(edn_hash(x) == edn_hash(y));
  cr_expect_lt((double)(clock() - t0) / CLOCKS_PER_SEC, 5.0, "not quadratic");
  /* the same with a duplicate at the very end */
  snprintf(fwd + k - 1, cap - k + 1, "[5 \"k\"] 0}");
  cr_expect_eq(edn_read(arena, fwd, strlen(fwd), &lim, &x, &err), EDN_ERROR);
  cr_expect(strstr(err.message, "duplicate key [5 \"k\"]"), "%s", err.message);
  free(fwd);
  free(rev);
}

Test(value, copy_outlives_its_source, .init = setup, .fini = teardown) {
  edn_arena *src = edn_arena_new();
  edn_value *v = must_read(src, "{:a [1 2N 3.5 4.5M \"s\" \\c sym #t {:x #{nil}}] :b ()}");
  edn_value *c = edn_copy(arena, v);
  char *before = edn_to_string(v);
  cr_assert(c);
  edn_arena_free(src);
  cr_expect_str_eq(printed(c), before);
  free(before);
}

Test(value, arena_reset_and_big_allocations, .init = setup, .fini = teardown) {
  for (int round = 0; round < 5; round++) {
    edn_value *big = edn_string(arena, NULL, 0);
    char *s = malloc(3 << 20);
    cr_assert(big);
    memset(s, 'x', 3 << 20);
    big = edn_string(arena, s, 3 << 20); /* larger than any block */
    cr_assert(big && big->u.text.len == 3u << 20 && big->u.text.ptr[(3 << 20) - 1] == 'x');
    for (int i = 0; i < 100000; i++)
      cr_assert(edn_int(arena, i));
    free(s);
    edn_arena_reset(arena);
  }
  cr_expect_eq(must_read(arena, "42")->u.integer, 42, "usable after reset");
  edn_arena_free(NULL);
}

Test(value, type_names) {
  cr_expect_str_eq(edn_type_name(EDN_MAP), "map");
  cr_expect_str_eq(edn_type_name(EDN_KEYWORD), "keyword");
  cr_expect_str_eq(edn_type_name(EDN_TAGGED), "tagged value");
  cr_expect_str_eq(edn_type_name((enum edn_type)99), "unknown");
}
