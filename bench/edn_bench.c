/* edn_bench.c — EDN codec throughput: parse and print MB/s on a generated
 * corpus of ~200-byte request lines (each read into a reset arena, as a node
 * serves them) and on one large nested document; also the streaming reader
 * fed 64 KiB chunks of the corpus. Prints one line per figure.
 *
 * usage: edn_bench [SECONDS-PER-FIGURE [FIGURE]]   (default 1; FIGURE one of
 * lines, stream, document, big, to profile one alone). Seconds are CPU seconds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

static void report(const char *what, size_t bytes, double secs) {
  printf("%-34s %8.1f MB/s  (%.1f MB in %.2f s)\n", what, (double)bytes / secs / 1e6,
         (double)bytes / 1e6, secs);
}

/* Lines in batches of 256, as a node meets them: read each into the batch's
 * arena (the parse figure), print each (the print figure), reset. Values
 * are warm in cache when printed, as a reply is when a node writes it. */
static void bench_lines(const struct text *t, double min_secs) {
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
  report("parse: request lines", parsed, parse_secs);
  report("print: request lines", printed, print_secs);
  edn_buf_free(&out);
  edn_arena_free(a);
}

static void bench_stream(const struct text *t, double min_secs) {
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
  report("parse: streaming, 64 KiB chunks", total, secs);
}

static void bench_document(const char *name, const struct text *t, double min_secs) {
  struct edn_limits lim = {.max_bytes = t->len + 1};
  edn_arena *a = edn_arena_new();
  struct edn_buf out = {NULL, 0, 0};
  struct edn_error err;
  edn_value *v = NULL;
  size_t total = 0, printed = 0;
  double t0 = now(), secs;
  char label[64];
  do {
    edn_arena_reset(a);
    if (edn_read(a, t->ptr, t->len, &lim, &v, &err) != EDN_OK)
      die(err.message);
    total += t->len;
  } while ((secs = now() - t0) < min_secs);
  snprintf(label, sizeof label, "parse: %s", name);
  report(label, total, secs);
  t0 = now();
  do {
    out.len = 0;
    if (edn_print(&out, v))
      die("print failed");
    printed += out.len;
  } while ((secs = now() - t0) < min_secs);
  snprintf(label, sizeof label, "print: %s", name);
  report(label, printed, secs);
  edn_buf_free(&out);
  edn_arena_free(a);
}

int main(int argc, char **argv) {
  double secs = argc > 1 ? atof(argv[1]) : 1.0;
  size_t lines;
  struct text c, d, big;
  if (secs <= 0)
    die("usage: edn_bench [SECONDS-PER-FIGURE]");
  c = corpus(32u << 20, &lines);
  d = document(1000000); /* about the largest value a wire line may hold */
  big = document(16u << 20);
  printf("corpus: %zu request lines, %.1f MB (%.0f bytes each); documents: %.2f MB, "
         "%.1f MB\n", lines, (double)c.len / 1e6, (double)c.len / (double)lines,
         (double)d.len / 1e6, (double)big.len / 1e6);
  if (argc < 3 || strcmp(argv[2], "lines") == 0)
    bench_lines(&c, secs);
  if (argc < 3 || strcmp(argv[2], "stream") == 0)
    bench_stream(&c, secs);
  if (argc < 3 || strcmp(argv[2], "document") == 0)
    bench_document("nested document, 1 MB", &d, secs);
  if (argc < 3 || strcmp(argv[2], "big") == 0)
    bench_document("nested document, 16 MB", &big, secs);
  free(c.ptr);
  free(d.ptr);
  free(big.ptr);
  return 0;
}
