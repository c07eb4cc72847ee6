/* edn_bench.c — EDN codec throughput: parse and print MB/s on a generated
 * corpus of ~200-byte request lines (each read into a reset arena, as a node
 * serves them) and on one large nested document; also the streaming reader
 * fed 64 KiB chunks of the corpus. Prints one line per figure: the median
 * MB/s of its slices with their min and max; the request lines' parse and
 * print have targets (>= 400 and >= 700 MB/s), printed "met" or "MISSED"
 * beside them (never an exit status). --json prints one JSON object instead.
 *
 * usage: edn_bench [--json] [--slices N] [SECONDS-PER-FIGURE [FIGURE]]
 *   SECONDS default 1, split over N slices (default 5); FIGURE one of lines,
 *   stream, document, big, to profile one alone. Seconds are CPU seconds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAXS 64
#define PARSE_TARGET 400.0 /* MB/s, request lines */
#define PRINT_TARGET 700.0

#include "edn.h"

/* CPU time of this process, not wall time: the figures should not depend on
 * what else the (shared) machine is running. */
static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *what) {
  fprintf(stderr, "edn_bench: fatal: %s\n", what);
  exit(1);
}

static unsigned long rng = 88172645463325252UL;
static unsigned long next_rand(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

static const char *const ops[] = {"echo", "fan", "route", "ping", "stats", "inspect"};
static const char *const names[] = {"L1", "L2a", "L2b", "L3c", "L3d", "L4-10-3"};

/* One request line of about 200 bytes, like those on a tree's edges. */
static int request(char *out, size_t size) {
  unsigned long r = next_rand();
  return snprintf(out, size,
      "{:id %lu :op :%s :path [\"%s\" \"%s\"] :req {:op :echo :body {:name \"%s\" "
      ":n %lu :ok %s :ratio %lu.%02lu :tags #{:a :b} :msg \"hello, world\\n\"}} "
      ":t-us %lu :edge [\"L1\" \"L2a\"]}\n",
      r % 1000000, ops[r % 6], names[(r >> 3) % 6], names[(r >> 6) % 6],
      names[(r >> 9) % 6], (r >> 12) % 100000, (r >> 20) & 1 ? "true" : "false",
      (r >> 21) % 100, (r >> 28) % 100, (r >> 30) % 100000000);
}

struct text {
  char *ptr;
  size_t len, cap;
};

static void add(struct text *t, const char *s, size_t n) {
  if (t->len + n + 1 > t->cap) {
    t->cap = (t->len + n + 1) * 2;
    if (!(t->ptr = realloc(t->ptr, t->cap)))
      die("out of memory");
  }
  memcpy(t->ptr + t->len, s, n);
  t->len += n;
}

static struct text corpus(size_t bytes, size_t *lines) {
  struct text t = {NULL, 0, 0};
  char line[512];
  *lines = 0;
  while (t.len < bytes) {
    int n = request(line, sizeof line);
    add(&t, line, (size_t)n);
    (*lines)++;
  }
  return t;
}

/* A nested document: a vector of node records, each with children,
 * file descriptors, strings with escapes, floats and keywords. */
static struct text document(size_t bytes) {
  struct text t = {NULL, 0, 0};
  char buf[1024];
  add(&t, "{:tree [", 8);
  for (unsigned long i = 0; t.len < bytes; i++) {
    unsigned long r = next_rand();
    int n = snprintf(buf, sizeof buf,
        "{:node \"L%lu-%lu\" :pid %lu :depth %lu :load %lu.%03lu :children "
        "[{:name \"c%lu\" :fds [[0 :pipe %lu] [1 :pipe %lu] [3 :anon \"eventpoll\"]]} "
        "{:name \"d%lu\" :status {:exit %lu} :panic nil}] :note \"tab\\there \\\"q\\\"\" "
        ":tags #{:x :y %lu} :ratio %.6g}\n ",
        i % 10, i, r % 4000000, r % 7, r % 100, r % 1000, i, r % 999983,
        r % 999979, i, r % 128, r % 50, (double)(r % 1000000) / 7.0);
    add(&t, buf, (size_t)n);
  }
  add(&t, "] :meta {:generated true :kind :bench}}", 39);
  return t;
}

/* A figure's slices: MB/s each, and bytes and seconds in all. */
struct fig {
  const char *kind, *what; /* "parse", "request lines" */
  double target;           /* MB/s, 0: none */
  int n;
  double mb_s[MAXS], bytes, secs;
};

static struct fig figs[8];
static int nfigs;
static int json;

static struct fig *fig(const char *kind, const char *what, double target) {
  struct fig *f = &figs[nfigs++];
  *f = (struct fig){kind, what, target, 0, {0}, 0, 0};
  return f;
}

static void slice(struct fig *f, size_t bytes, double secs) {
  f->mb_s[f->n++] = (double)bytes / secs / 1e6;
  f->bytes += (double)bytes;
  f->secs += secs;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void stats(const double *v, int n, double *med, double *min, double *max) {
  double s[MAXS];
  memcpy(s, v, (size_t)n * sizeof *s);
  qsort(s, (size_t)n, sizeof *s, cmp);
  *med = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  *min = s[0];
  *max = s[n - 1];
}

/* Lines in batches of 256, as a node meets them: read each into the batch's
 * arena (the parse figure), print each (the print figure), reset. Values
 * are warm in cache when printed, as a reply is when a node writes it. One
 * slice: whole passes over the corpus until both took min_secs. */
static void bench_lines(const struct text *t, double min_secs, struct fig *fp,
                        struct fig *fq) {
  enum { BATCH = 256 };
  edn_arena *a = edn_arena_new();
  edn_value *vals[BATCH];
  struct edn_buf out = {NULL, 0, 0};
  struct edn_error err;
  size_t parsed = 0, printed = 0;
  double parse_secs = 0, print_secs = 0, t0, t1;
  if (!a)
    die("out of memory");
  do {
    const char *p = t->ptr, *end = t->ptr + t->len;
    while (p < end) {
      const char *from = p;
      size_t n = 0;
      t0 = now();
      for (; n < BATCH && p < end; n++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (edn_read(a, p, (size_t)(nl - p), NULL, &vals[n], &err) != EDN_OK)
          die(err.message);
        p = nl + 1;
      }
      t1 = now();
      out.len = 0;
      for (size_t k = 0; k < n; k++)
        if (edn_print(&out, vals[k]) || edn_buf_append(&out, "\n", 1))
          die("print failed");
      print_secs += now() - t1;
      parse_secs += t1 - t0;
      parsed += (size_t)(p - from);
      printed += out.len;
      edn_arena_reset(a);
    }
  } while (parse_secs < min_secs || print_secs < min_secs);
  slice(fp, parsed, parse_secs);
  slice(fq, printed, print_secs);
  edn_buf_free(&out);
  edn_arena_free(a);
}

static void bench_stream(const struct text *t, double min_secs, struct fig *f) {
  edn_arena *a = edn_arena_new();
  struct edn_error err;
  size_t total = 0, count = 0;
  double t0 = now(), secs;
  do {
    edn_reader *r = edn_reader_new(NULL);
    edn_value *v;
    int rc;
    for (size_t at = 0; at < t->len; at += 65536) {
      size_t n = t->len - at < 65536 ? t->len - at : 65536;
      if (edn_reader_feed(r, t->ptr + at, n))
        die("out of memory");
      while ((rc = edn_reader_next(r, a, &v, &err)) == 1) {
        count++;
        edn_arena_reset(a);
      }
      if (rc < 0)
        die(err.message);
    }
    edn_reader_free(r);
    total += t->len;
  } while ((secs = now() - t0) < min_secs);
  slice(f, total, secs);
  edn_arena_free(a);
}

static void bench_document(const struct text *t, double min_secs, struct fig *fp,
                           struct fig *fq) {
  struct edn_limits lim = {.max_bytes = t->len + 1};
  edn_arena *a = edn_arena_new();
  struct edn_buf out = {NULL, 0, 0};
  struct edn_error err;
  edn_value *v = NULL;
  size_t total = 0, printed = 0;
  double t0 = now(), secs;
  do {
    edn_arena_reset(a);
    if (edn_read(a, t->ptr, t->len, &lim, &v, &err) != EDN_OK)
      die(err.message);
    total += t->len;
  } while ((secs = now() - t0) < min_secs);
  slice(fp, total, secs);
  t0 = now();
  do {
    out.len = 0;
    if (edn_print(&out, v))
      die("print failed");
    printed += out.len;
  } while ((secs = now() - t0) < min_secs);
  slice(fq, printed, secs);
  edn_buf_free(&out);
  edn_arena_free(a);
}

/* "parse", "nested document, 1 MB" -> parse_nested_document_1_mb_mb_s */
static void json_key(const struct fig *f, char *out, size_t size) {
  size_t n = (size_t)snprintf(out, size, "%s_", f->kind);
  for (const char *p = f->what; *p && n + 8 < size; p++) {
    char c = *p >= 'A' && *p <= 'Z' ? (char)(*p - 'A' + 'a') : *p;
    int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (alnum) out[n++] = c;
    else if (out[n - 1] != '_') out[n++] = '_';
  }
  if (out[n - 1] == '_') n--;
  snprintf(out + n, size - n, "_mb_s");
}

static void print_text(void) {
  for (int i = 0; i < nfigs; i++) {
    struct fig *f = &figs[i];
    double med, min, max;
    char label[64], target[32] = "";
    stats(f->mb_s, f->n, &med, &min, &max);
    snprintf(label, sizeof label, "%s: %s", f->kind, f->what);
    if (f->target > 0)
      snprintf(target, sizeof target, "  target >= %.0f %s", f->target,
               med >= f->target ? "met" : "MISSED");
    printf("%-34s %8.1f MB/s [%.1f..%.1f]  (%d slices, %.1f MB in %.2f s)%s\n", label, med,
           min, max, f->n, f->bytes / 1e6, f->secs, target);
  }
}

/* One object: "ratio" is, per slice, the worse of the request lines' parse
 * and print MB/s over their targets (>= 1.0: both met), its median the
 * headline; "parse"/"print" those two figures; then every figure's median
 * under its old key. */
static void print_json(struct fig *fp, struct fig *fq) {
  printf("{");
  if (fp && fq) {
    double r[MAXS], med, min, max;
    for (int s = 0; s < fp->n; s++) {
      double a = fp->mb_s[s] / fp->target, b = fq->mb_s[s] / fq->target;
      r[s] = a < b ? a : b;
    }
    stats(r, fp->n, &med, &min, &max);
    printf("\"ratio\": %.4f, \"median\": %.4f, \"min\": %.4f, \"max\": %.4f, "
           "\"target\": 1.00, \"met\": %s, \"higher_is_better\": true, "
           "\"unit\": \"of target\", ",
           med, med, min, max, med >= 1.0 ? "true" : "false");
    struct fig *two[2] = {fp, fq};
    for (int k = 0; k < 2; k++) {
      stats(two[k]->mb_s, two[k]->n, &med, &min, &max);
      printf("\"%s\": {\"median\": %.1f, \"min\": %.1f, \"max\": %.1f, \"target\": %.0f, "
             "\"met\": %s, \"unit\": \"MB/s\"}, ",
             two[k]->kind, med, min, max, two[k]->target, med >= two[k]->target ? "true" : "false");
    }
  }
  for (int i = 0; i < nfigs; i++) {
    double med, min, max;
    char key[96];
    stats(figs[i].mb_s, figs[i].n, &med, &min, &max);
    json_key(&figs[i], key, sizeof key);
    printf("\"%s\": %.1f, ", key, med);
  }
  printf("\"slices\": %d}\n", nfigs ? figs[0].n : 0);
}

int main(int argc, char **argv) {
  int i = 1, slices = 5;
  for (; i < argc && argv[i][0] == '-'; i++) {
    if (strcmp(argv[i], "--json") == 0) json = 1;
    else if (strcmp(argv[i], "--slices") == 0 && i + 1 < argc) slices = atoi(argv[++i]);
    else break;
  }
  double secs = i < argc ? atof(argv[i]) : 1.0;
  const char *only = i + 1 < argc ? argv[i + 1] : NULL;
  size_t lines;
  struct text c, d, big;
  if (secs <= 0 || slices < 1 || slices > MAXS)
    die("usage: edn_bench [--json] [--slices N] [SECONDS-PER-FIGURE [FIGURE]]");
  c = corpus(32u << 20, &lines);
  d = document(1000000); /* about the largest value a wire line may hold */
  big = document(16u << 20);
  if (!json)
    printf("corpus: %zu request lines, %.1f MB (%.0f bytes each); documents: %.2f MB, "
           "%.1f MB; %d slices of %.2f CPU s per figure\n", lines, (double)c.len / 1e6,
           (double)c.len / (double)lines, (double)d.len / 1e6, (double)big.len / 1e6,
           slices, secs / slices);
  double per = secs / slices;
  struct fig *lp = NULL, *lq = NULL;
  if (!only || strcmp(only, "lines") == 0) {
    lp = fig("parse", "request lines", PARSE_TARGET);
    lq = fig("print", "request lines", PRINT_TARGET);
    for (int s = 0; s < slices; s++) bench_lines(&c, per, lp, lq);
  }
  if (!only || strcmp(only, "stream") == 0) {
    struct fig *f = fig("parse", "streaming, 64 KiB chunks", 0);
    for (int s = 0; s < slices; s++) bench_stream(&c, per, f);
  }
  if (!only || strcmp(only, "document") == 0) {
    struct fig *fp = fig("parse", "nested document, 1 MB", 0);
    struct fig *fq = fig("print", "nested document, 1 MB", 0);
    for (int s = 0; s < slices; s++) bench_document(&d, per, fp, fq);
  }
  if (!only || strcmp(only, "big") == 0) {
    struct fig *fp = fig("parse", "nested document, 16 MB", 0);
    struct fig *fq = fig("print", "nested document, 16 MB", 0);
    for (int s = 0; s < slices; s++) bench_document(&big, per, fp, fq);
  }
  if (json) print_json(lp, lq);
  else print_text();
  free(c.ptr);
  free(d.ptr);
  free(big.ptr);
  return 0;
}
