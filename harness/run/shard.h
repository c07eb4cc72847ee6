/* shard.h — `treeproof run --shard I/N`: the scenarios given split into N
 * disjoint parts, the same on every machine for the same arguments. The
 * partition is greedy longest-processing-time: heaviest first, each to the
 * lightest part so far; its weights are the scenarios' recorded times (a
 * JUnit file of an earlier run) or their sizes. Nothing here depends on
 * the order of the arguments, on the clock or on chance. */
#ifndef TREEPROOF_SHARD_H
#define TREEPROOF_SHARD_H

#include <stddef.h>
#include <stdint.h>

#include "junit_read.h"
#include "scenario.h"

/* The most parts a suite may be split into. */
#define SHARD_MAX 10000

struct shard_item {
  uint64_t weight;
  const char *name; /* ties of weight are broken by name, */
  const char *path; /* then by path (byte order, strcmp) */
};

/* Assign each of items[0..n) a part in [0, nparts) (nparts >= 1) into
 * part[0..n): sorted by weight (heaviest first), then name, then path, each
 * goes to the part with the least weight so far (ties: the one holding
 * fewer items, then the lowest index). Every item gets exactly one part;
 * the heaviest part weighs at most (4/3 - 1/(3 nparts)) times the best
 * possible. Pure: the result depends only on the (weight, name, path)
 * multiset and nparts, not on the items' order. Returns 0, or -1 when out
 * of memory (part untouched). */
int shard_partition(const struct shard_item *items, size_t n, size_t nparts,
                    size_t *part);

/* "I/N" with 1 <= I <= N <= SHARD_MAX, two decimal numbers and nothing
 * else: *index = I - 1 (0-based), *count = N. Returns 0 or -1. */
int shard_parse(const char *s, size_t *index, size_t *count);

/* Weights by size: a scenario's node count, its step count as the lesser
 * digit (nnodes * (most steps + 1) + nsteps), so more nodes always weigh
 * more and steps break ties. */
void shard_node_weights(struct scenario *const *ss, size_t n, uint64_t *w);

/* Weights by a JUnit file of an earlier run: a scenario's weight is the sum
 * of the time attributes (ms) of the testcases of the testsuite named as
 * the scenario (the mean when several testsuites have its name); a
 * scenario the file does not name gets the median of those it does (for
 * an even count, the mean of the middle two, rounded down). Returns how
 * many scenarios the file
 * named; when none, w holds the size weights instead. Returns -1 when out
 * of memory. */
long shard_duration_weights(struct scenario *const *ss, size_t n,
                            const struct junit_doc *d, uint64_t *w);

#endif
