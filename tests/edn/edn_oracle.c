/* edn_oracle.c — our side of tests/edn/clojure-oracle.
 *
 *   edn_oracle print FILE...        every value of every file, printed by
 *                                   us, one per line
 *   edn_oracle check OURS VERDICTS FILES
 *                                   compare with what oracle.clj said:
 *     - every line of OURS must be accepted by Clojure, and Clojure's pr-str
 *       of it, read by us, must be edn_equal to our value;
 *     - every file Clojure rejects, we reject; a file both accept must give
 *       equal values; files only Clojure accepts are listed (we are stricter
 *       there, on purpose: see the messages).
 * Exit status 0 when all held, 1 otherwise. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edn.h"

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  size_t cap = 0, n = 0, got;
  if (!f)
    return NULL;
  do {
    if (n + 65536 > cap && !(buf = realloc(buf, cap = (n + 65536) * 2)))
      break;
    got = fread(buf + n, 1, cap - n - 1, f);
    n += got;
  } while (got > 0);
  fclose(f);
  if (buf)
    buf[n] = '\0';
  *len = n;
  return buf;
}

/* The next line of *p (NUL-terminated in place), or NULL at the end. */
static char *next_line(char **p) {
  char *s = *p, *nl;
  if (!s || !*s)
    return NULL;
  nl = strchr(s, '\n');
  if (nl) {
    *nl = '\0';
    *p = nl + 1;
  } else {
    *p = s + strlen(s);
  }
  return s;
}

static int print_files(int n, char **paths) {
  edn_arena *a = edn_arena_new();
  struct edn_buf out = {NULL, 0, 0};
  int bad = 0;
  for (int i = 0; i < n; i++) {
    size_t len;
    char *data = slurp(paths[i], &len);
    edn_reader *r = edn_reader_new(NULL);
    edn_value *v;
    struct edn_error err;
    int rc;
    if (!data || !r) {
      fprintf(stderr, "edn_oracle: fatal: unable to read %s\n", paths[i]);
      return 2;
    }
    edn_reader_feed(r, data, len);
    edn_reader_finish(r);
    while ((rc = edn_reader_next(r, a, &v, &err)) == 1) {
      out.len = 0;
      edn_print(&out, v);
      fwrite(out.ptr, 1, out.len, stdout);
      putchar('\n');
    }
    if (rc < 0) {
      fprintf(stderr, "edn_oracle: %s: %s at %zu\n", paths[i], err.message, err.offset);
      bad = 1;
    }
    edn_reader_free(r);
    free(data);
    edn_arena_reset(a);
  }
  edn_buf_free(&out);
  edn_arena_free(a);
  return bad;
}

/* Clojure's printed value (after "accept ") equals ours? NaN compares by
 * text, since ##NaN equals nothing. */
static int same_value(edn_arena *a, edn_value *ours, const char *clj, const char *what) {
  edn_value *theirs = NULL;
  struct edn_error err;
  char *o, *t;
  int ok;
  if (edn_read(a, clj, strlen(clj), NULL, &theirs, &err) != EDN_OK) {
    printf("FAIL %s: we cannot read Clojure's %s: %s\n", what, clj, err.message);
    return 0;
  }
  if (edn_equal(ours, theirs))
    return 1;
  o = edn_to_string(ours);
  t = edn_to_string(theirs);
  ok = o && t && strcmp(o, t) == 0 && strstr(o, "##NaN");
  if (!ok)
    printf("FAIL %s: Clojure's value %s differs from ours %s\n", what, t, o);
  free(o);
  free(t);
  return ok;
}

static int check(const char *ours_path, const char *verdicts_path, const char *files_path) {
  size_t n1, n2, n3;
  char *ours = slurp(ours_path, &n1), *verdicts = slurp(verdicts_path, &n2);
  char *files = slurp(files_path, &n3);
  char *po = ours, *pv = verdicts, *pf = files, *line, *verdict;
  edn_arena *a = edn_arena_new();
  int failed = 0, values = 0, agreed = 0, stricter = 0, rejected = 0;
  if (!ours || !verdicts || !files || !a) {
    fprintf(stderr, "edn_oracle: fatal: unable to read the inputs\n");
    return 2;
  }
  while ((line = next_line(&po))) {
    edn_value *v;
    struct edn_error err;
    values++;
    verdict = next_line(&pv);
    if (edn_read(a, line, strlen(line), NULL, &v, &err) != EDN_OK) {
      printf("FAIL we cannot read our own %s: %s\n", line, err.message);
      failed++;
    } else if (!verdict || strncmp(verdict, "accept ", 7) != 0) {
      printf("FAIL Clojure does not read our %s: %s\n", line, verdict ? verdict : "(no verdict)");
      failed++;
    } else if (!same_value(a, v, verdict + 7, line)) {
      failed++;
    }
    edn_arena_reset(a);
  }
  while ((line = next_line(&pf))) {
    size_t len;
    char *data = slurp(line, &len);
    edn_value *v = NULL;
    struct edn_error err;
    int rc = data ? edn_read(a, data, len, NULL, &v, &err) : EDN_ERROR;
    verdict = next_line(&pv);
    if (!verdict) {
      printf("FAIL %s: no verdict from Clojure\n", line);
      failed++;
    } else if (strncmp(verdict, "reject", 6) == 0) {
      rejected++;
      if (rc != EDN_ERROR) {
        printf("FAIL %s: Clojure rejects it (%s) but we do not\n", line, verdict + 7);
        failed++;
      }
    } else if (rc == EDN_ERROR) {
      stricter++;
      printf("note %s: only Clojure accepts it; we say: %s\n", strrchr(line, '/') + 1,
             err.message);
    } else if (strcmp(verdict, "empty") == 0) {
      if (rc != EDN_EMPTY) {
        printf("FAIL %s: Clojure finds no value, we do\n", line);
        failed++;
      }
    } else if (rc != EDN_OK || !same_value(a, v, verdict + 7, line)) {
      failed++;
    } else {
      agreed++;
    }
    free(data);
    edn_arena_reset(a);
  }
  printf("%d printed values read by Clojure; of the malformed and hostile files, "
         "%d rejected by both, %d accepted by both, %d refused only by us; %d failures\n",
         values, rejected, agreed, stricter, failed);
  edn_arena_free(a);
  free(ours);
  free(verdicts);
  free(files);
  return failed ? 1 : 0;
}

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "print") == 0)
    return print_files(argc - 2, argv + 2);
  if (argc == 5 && strcmp(argv[1], "check") == 0)
    return check(argv[2], argv[3], argv[4]);
  fprintf(stderr, "usage: edn_oracle print FILE... | check OURS VERDICTS FILES\n");
  return 2;
}
