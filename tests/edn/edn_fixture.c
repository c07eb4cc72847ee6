/* edn_fixture.c — loading fixtures/edn/ and streaming an input in chunks
 * (see edn_fixture.h). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edn_fixture.h"
#include "edn_testutil.h"

static int by_name(const void *x, const void *y) {
  return strcmp(((const struct fixture *)x)->name, ((const struct fixture *)y)->name);
}

static bool ends_with(const char *s, const char *tail) {
  size_t n = strlen(s), t = strlen(tail);
  return n >= t && strcmp(s + n - t, tail) == 0;
}

struct fixture *fixtures_load(const char *dir, size_t *n) {
  char path[512];
  struct fixture *f = NULL;
  struct dirent *e;
  size_t cap = 0;
  const char *top = getenv("TREEPROOF_SOURCE_DIR");
  DIR *d;
  snprintf(path, sizeof path, "%s/fixtures/edn/%s", top ? top : ".", dir);
  d = opendir(path);
  cr_assert(d, "cannot open %s (is TREEPROOF_SOURCE_DIR set?)", path);
  *n = 0;
  while ((e = readdir(d))) {
    size_t elen = 0;
    char *err;
    if (e->d_name[0] == '.' || ends_with(e->d_name, ".err"))
      continue;
    if (*n == cap) {
      cap = cap ? cap * 2 : 64;
      f = realloc(f, cap * sizeof *f);
      cr_assert(f);
    }
    snprintf(path, sizeof path, "fixtures/edn/%s/%s", dir, e->d_name);
    f[*n].name = strdup(path + strlen("fixtures/edn/"));
    f[*n].data = slurp(path, &f[*n].len);
    cr_assert(f[*n].data, "cannot read %s", path);
    snprintf(path + strlen(path) - strlen(strrchr(path, '.')), 16, ".err");
    err = slurp(path, &elen);
    if (err && strchr(err, '\n'))
      *strchr(err, '\n') = '\0';
    f[*n].expect = err;
    (*n)++;
  }
  closedir(d);
  qsort(f, *n, sizeof *f, by_name);
  return f;
}

void fixtures_free(struct fixture *f, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(f[i].name);
    free(f[i].data);
    free(f[i].expect);
  }
  free(f);
}

/* Take every value now available; false once the reader failed. */
static bool drain(edn_reader *r, edn_arena *a, struct edn_buf *out) {
  for (;;) {
    edn_value *v = NULL;
    struct edn_error err = {0, ""};
    int rc = edn_reader_next(r, a, &v, &err);
    if (rc == 0)
      return true;
    if (rc < 0) {
      char line[256];
      int k = snprintf(line, sizeof line, "error at %zu: %s\n", err.offset, err.message);
      edn_buf_append(out, line, (size_t)k);
      return false;
    }
    cr_assert(edn_print(out, v) == 0);
    edn_buf_append(out, "\n", 1);
  }
}

char *stream_outcome(const char *data, size_t len, const size_t *cuts,
                     size_t ncuts, const struct edn_limits *lim) {
  edn_reader *r = edn_reader_new(lim);
  edn_arena *a = edn_arena_new();
  struct edn_buf out = {NULL, 0, 0};
  size_t at = 0;
  bool ok = true;
  cr_assert(r && a);
  if (ncuts == (size_t)-1) {
    for (size_t i = 0; i < len && ok; i++) {
      cr_assert(edn_reader_feed(r, data + i, 1) == 0);
      ok = drain(r, a, &out);
    }
  } else {
    for (size_t c = 0; c <= ncuts && ok; c++) {
      size_t to = c < ncuts ? cuts[c] : len;
      cr_assert(edn_reader_feed(r, data + at, to - at) == 0);
      at = to;
      ok = drain(r, a, &out);
    }
  }
  if (ok) {
    edn_reader_finish(r);
    drain(r, a, &out);
  }
  edn_buf_append(&out, "", 0);
  out.ptr[out.len] = '\0'; /* edn_buf_append keeps room for it */
  edn_reader_free(r);
  edn_arena_free(a);
  return out.ptr;
}
