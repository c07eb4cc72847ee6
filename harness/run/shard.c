/* shard.c — the parts of `treeproof run --shard I/N`: the greedy
 * longest-processing-time partition over (weight, name, path), the I/N
 * argument, and the two ways of weighing a scenario (its size, or its time
 * in a JUnit file of an earlier run). Integer weights only, so every
 * machine computes the same sums. */
#define _GNU_SOURCE
#include "shard.h"

#include <stdlib.h>
#include <string.h>

static int by_weight(const void *a, const void *b, void *ctx) {
  const struct shard_item *items = ctx;
  size_t i = *(const size_t *)a, j = *(const size_t *)b;
  const struct shard_item *x = &items[i], *y = &items[j];
  if (x->weight != y->weight)
    return x->weight > y->weight ? -1 : 1;
  int c = strcmp(x->name ? x->name : "", y->name ? y->name : "");
  if (c == 0)
    c = strcmp(x->path ? x->path : "", y->path ? y->path : "");
  /* equal in all three: interchangeable, any fixed order will do */
  return c ? c : (i > j) - (i < j);
}

int shard_partition(const struct shard_item *items, size_t n, size_t nparts,
                    size_t *part) {
  if (nparts == 0)
    return -1;
  size_t *order = malloc((n ? n : 1) * sizeof *order);
  uint64_t *load = calloc(nparts, sizeof *load);
  size_t *count = calloc(nparts, sizeof *count);
  if (!order || !load || !count) {
    free(order);
    free(load);
    free(count);
    return -1;
  }
  for (size_t i = 0; i < n; i++)
    order[i] = i;
  qsort_r(order, n, sizeof *order, by_weight, (void *)items);
  for (size_t k = 0; k < n; k++) {
    size_t best = 0;
    for (size_t p = 1; p < nparts; p++)
      if (load[p] < load[best] || (load[p] == load[best] && count[p] < count[best]))
        best = p;
    part[order[k]] = best;
    uint64_t w = items[order[k]].weight;
    load[best] = load[best] > UINT64_MAX - w ? UINT64_MAX : load[best] + w;
    count[best]++;
  }
  free(order);
  free(load);
  free(count);
  return 0;
}

/* A decimal number from 1 to SHARD_MAX at *s, up to `end`. */
static int number(const char *s, const char *end, size_t *out) {
  size_t v = 0;
  if (s == end)
    return -1;
  for (; s < end; s++) {
    if (*s < '0' || *s > '9')
      return -1;
    v = v * 10 + (size_t)(*s - '0');
    if (v > SHARD_MAX)
      return -1;
  }
  if (v < 1)
    return -1;
  *out = v;
  return 0;
}

int shard_parse(const char *s, size_t *index, size_t *count) {
  const char *slash = s ? strchr(s, '/') : NULL;
  size_t i, n;
  if (!slash || number(s, slash, &i) < 0 ||
      number(slash + 1, slash + 1 + strlen(slash + 1), &n) < 0 || i > n)
    return -1;
  *index = i - 1;
  *count = n;
  return 0;
}

void shard_node_weights(struct scenario *const *ss, size_t n, uint64_t *w) {
  uint64_t most = 0;
  for (size_t i = 0; i < n; i++)
    if (ss[i]->nsteps > most)
      most = ss[i]->nsteps;
  for (size_t i = 0; i < n; i++)
    w[i] = (uint64_t)ss[i]->nnodes * (most + 1) + ss[i]->nsteps;
}

static int by_value(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

long shard_duration_weights(struct scenario *const *ss, size_t n,
                            const struct junit_doc *d, uint64_t *w) {
  unsigned char *known = calloc(n ? n : 1, 1);
  uint64_t *sorted = malloc((n ? n : 1) * sizeof *sorted);
  if (!known || !sorted) {
    free(known);
    free(sorted);
    return -1;
  }
  size_t nknown = 0;
  for (size_t i = 0; i < n; i++) {
    uint64_t sum = 0, times = 0;
    for (size_t k = 0; k < d->nsuites; k++)
      if (strcmp(d->suites[k].name, ss[i]->name) == 0) {
        sum += junit_suite_cases_ms(&d->suites[k]);
        times++;
      }
    if (times) {
      w[i] = sum / times;
      known[i] = 1;
      sorted[nknown++] = w[i];
    }
  }
  if (nknown == 0) {
    shard_node_weights(ss, n, w);
  } else {
    qsort(sorted, nknown, sizeof *sorted, by_value);
    uint64_t median = nknown % 2 ? sorted[nknown / 2]
                                 : sorted[nknown / 2 - 1] / 2 + sorted[nknown / 2] / 2 +
                                       (sorted[nknown / 2 - 1] % 2 + sorted[nknown / 2] % 2) / 2;
    for (size_t i = 0; i < n; i++)
      if (!known[i])
        w[i] = median;
  }
  free(known);
  free(sorted);
  return (long)nknown;
}
