/* test_spans.c — edn_read_spans: the byte span it records for the value
 * read and for those nested in it down to the depth asked, on every kind
 * of form, with whitespace, comments, discards and tags around them; and
 * that the value it gives is edn_read's. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "edn.h"

static edn_arena *arena;
static void setup(void) { arena = edn_arena_new(); }
static void teardown(void) { edn_arena_free(arena); }
TestSuite(spans, .init = setup, .fini = teardown);

/* The text of v's span in src, or "(none)". */
static const char *span_text(const struct edn_spans *sp, const char *src,
                             const edn_value *v, char *buf, size_t size) {
  const struct edn_span *s = edn_span_of(sp, v);
  if (!s)
    return "(none)";
  snprintf(buf, size, "%.*s", (int)s->len, src + s->off);
  return buf;
}

static edn_value *read_with(const char *src, struct edn_spans *sp) {
  edn_value *v = NULL;
  struct edn_error err;
  int rc = edn_read_spans(arena, src, strlen(src), NULL, sp, &v, &err);
  cr_assert_eq(rc, EDN_OK, "%s reads: %s", src, rc == EDN_ERROR ? err.message : "");
  return v;
}

/* Each value of a map, read at depth 1, spans exactly its own text. */
Test(spans, map_values) {
  const char *src = " ; lead\n {:id 7 , :op :route :path [\"a\" \"b\"] "
                    ":req #_ :gone {:op :echo :body #my/tag [1 \\a \"s\\\"\"]}"
                    " :f 1.5e3 :c \\newline :n nil} #_ 9 ";
  struct edn_spans sp = {.depth = 1};
  edn_value *m = read_with(src, &sp);
  char b[256];
  cr_expect_str_eq(span_text(&sp, src, m, b, sizeof b),
                   "{:id 7 , :op :route :path [\"a\" \"b\"] :req #_ :gone "
                   "{:op :echo :body #my/tag [1 \\a \"s\\\"\"]} :f 1.5e3 "
                   ":c \\newline :n nil}");
  cr_expect_str_eq(span_text(&sp, src, edn_map_getk(m, "id"), b, sizeof b), "7");
  cr_expect_str_eq(span_text(&sp, src, edn_map_getk(m, "path"), b, sizeof b),
                   "[\"a\" \"b\"]");
  cr_expect_str_eq(span_text(&sp, src, edn_map_getk(m, "req"), b, sizeof b),
                   "{:op :echo :body #my/tag [1 \\a \"s\\\"\"]}");
  cr_expect_str_eq(span_text(&sp, src, edn_map_getk(m, "f"), b, sizeof b), "1.5e3");
  cr_expect_str_eq(span_text(&sp, src, edn_map_getk(m, "c"), b, sizeof b), "\\newline");
  cr_expect_str_eq(span_text(&sp, src, edn_map_getk(m, "n"), b, sizeof b), "nil");
  cr_expect_str_eq(span_text(&sp, src, m->u.map.entries[0].key, b, sizeof b), ":id");
  /* depth 1: what is inside :req is not recorded */
  edn_value *req = edn_map_getk(m, "req");
  cr_expect_null(edn_span_of(&sp, edn_map_getk(req, "op")));
  cr_expect_eq(sp.len, 1 + 2 * 7, "the map and its 14 keys and values: %zu", sp.len);
}

/* Deeper levels, and a tag counting as one. */
Test(spans, depth) {
  const char *src = "[#t {:a (1 2)} #{\"x\"}]";
  struct edn_spans sp = {.depth = 3};
  edn_value *v = read_with(src, &sp);
  char b[128];
  edn_value *tagged = v->u.seq.items[0], *map = tagged->u.tagged.value;
  edn_value *list = map->u.map.entries[0].val;
  cr_expect_str_eq(span_text(&sp, src, tagged, b, sizeof b), "#t {:a (1 2)}");
  cr_expect_str_eq(span_text(&sp, src, map, b, sizeof b), "(none)",
                   "a tag's value is part of the tagged value, not an item");
  cr_expect_str_eq(span_text(&sp, src, list, b, sizeof b), "(1 2)");
  cr_expect_str_eq(span_text(&sp, src, list->u.seq.items[0], b, sizeof b), "(none)",
                   "(1 2)'s items are four levels down (vector, tag, map, list)");
  cr_expect_str_eq(span_text(&sp, src, v->u.seq.items[1]->u.seq.items[0], b, sizeof b),
                   "\"x\"");
}

/* depth 0: the value alone, without what surrounds it. */
Test(spans, top_only) {
  const char *src = "\t #_ [1] , #inst \"2020-01-01T00:00:00Z\" ; end";
  struct edn_spans sp = {.depth = 0};
  edn_value *v = read_with(src, &sp);
  char b[128];
  cr_expect_eq(sp.len, 1);
  cr_expect_str_eq(span_text(&sp, src, v, b, sizeof b), "#inst \"2020-01-01T00:00:00Z\"");
  cr_expect_null(edn_span_of(&sp, v->u.tagged.value));
  cr_expect_null(edn_span_of(NULL, v));
}

/* The value is edn_read's; a table reused starts afresh; errors still
 * come back as errors. */
Test(spans, same_value_and_errors) {
  const char *src = "{:a [1 2 3] :b {:c \"\\u00e9\"} :d 12345678901234567890}";
  struct edn_spans sp = {.depth = 2};
  edn_value *v = read_with(src, &sp), *w = NULL;
  cr_assert_eq(edn_read(arena, src, strlen(src), NULL, &w, NULL), EDN_OK);
  cr_expect(edn_equal(v, w));
  size_t first = sp.len;
  read_with("{:x 1}", &sp);
  cr_expect_eq(sp.len, 3, "a new read forgets the old spans (had %zu)", first);
  struct edn_error err;
  cr_expect_eq(edn_read_spans(arena, "{:a 1 :a 2}", 11, NULL, &sp, &w, &err),
               EDN_ERROR);
  cr_expect_eq(edn_read_spans(arena, "{:a 1} 2", 8, NULL, &sp, &w, &err), EDN_ERROR);
  cr_expect_eq(edn_read_spans(arena, "  ", 2, NULL, &sp, &w, &err), EDN_EMPTY);
}

/* Many items: the table grows (in the arena) and keeps every span. */
Test(spans, many) {
  char src[8192];
  size_t k = 0;
  src[k++] = '[';
  for (int i = 0; i < 1000; i++)
    k += (size_t)snprintf(src + k, sizeof src - k, "%d ", i);
  src[k++] = ']';
  src[k] = '\0';
  struct edn_spans sp = {.depth = 1};
  edn_value *v = read_with(src, &sp);
  char b[32], want[32];
  cr_assert_eq(sp.len, 1001);
  for (int i = 0; i < 1000; i += 97) {
    snprintf(want, sizeof want, "%d", i);
    cr_expect_str_eq(span_text(&sp, src, v->u.seq.items[i], b, sizeof b), want);
  }
}
