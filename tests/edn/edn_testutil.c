/* edn_testutil.c — helpers shared by the EDN suites (see edn_testutil.h). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edn_testutil.h"

static char *kept[256];
static size_t nkept;

edn_value *must_readn(edn_arena *a, const char *src, size_t len) {
  edn_value *v = NULL;
  struct edn_error err = {0, ""};
  int rc = edn_read(a, src, len, NULL, &v, &err);
  cr_assert_eq(rc, EDN_OK, "reading %.200s: rc %d, error at %zu: %s", src, rc,
               err.offset, err.message);
  return v;
}

edn_value *must_read(edn_arena *a, const char *src) {
  return must_readn(a, src, strlen(src));
}

const char *printed(const edn_value *v) {
  char *s = edn_to_string(v);
  cr_assert(s, "edn_to_string failed");
  if (nkept == sizeof kept / sizeof kept[0])
    test_free_all();
  kept[nkept++] = s;
  return s;
}

void test_free_all(void) {
  while (nkept)
    free(kept[--nkept]);
}

void check_round_trip(edn_arena *a, const edn_value *v, const char *what) {
  char *s1 = edn_to_string(v), *s2;
  edn_value *back = NULL;
  struct edn_error err = {0, ""};
  cr_assert(s1, "print failed for %s", what);
  cr_assert(!strchr(s1, '\n'), "printed %s holds a raw newline: %s", what, s1);
  cr_assert_eq(edn_read(a, s1, strlen(s1), NULL, &back, &err), EDN_OK,
               "%s printed as %.200s does not read back: %s at %zu", what, s1,
               err.message, err.offset);
  cr_assert(edn_equal(v, back), "%s: read(print(x)) != x; printed %.200s", what, s1);
  cr_assert(edn_hash(v) == edn_hash(back), "%s: hash differs after round trip", what);
  s2 = edn_to_string(back);
  cr_assert(s2, "print failed");
  cr_assert_str_eq(s1, s2, "%s: printing is not stable", what);
  free(s1);
  free(s2);
}

char *slurp(const char *path, size_t *len) {
  const char *top = getenv("TREEPROOF_SOURCE_DIR");
  char full[4096];
  FILE *f;
  char *buf = NULL;
  long n;
  snprintf(full, sizeof full, "%s/%s", top ? top : ".", path);
  if (!(f = fopen(full, "rb")))
    return NULL;
  if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
      (buf = malloc((size_t)n + 1)) && fread(buf, 1, (size_t)n, f) == (size_t)n) {
    buf[n] = '\0';
    *len = (size_t)n;
  } else {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  return buf;
}

bool under_memcheck(void) {
  const char *m = getenv("TREEPROOF_MEMCHECK");
  return m && *m && strcmp(m, "0") != 0;
}

size_t case_params(size_t *idx, size_t n) {
  if (under_memcheck()) {
    idx[0] = (size_t)ALL_CASES;
    return 1;
  }
  for (size_t i = 0; i < n; i++)
    idx[i] = i;
  return n;
}

void case_range(size_t param, size_t n, size_t *from, size_t *to) {
  *from = param == (size_t)ALL_CASES ? 0 : param;
  *to = param == (size_t)ALL_CASES ? n : param + 1;
}
