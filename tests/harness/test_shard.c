/* test_shard.c — a suite spread over CI machines: the partition behind
 * `treeproof run --shard I/N` (deterministic whatever the order, disjoint,
 * complete, within the greedy LPT bound of the best split, moved by
 * recorded times), the I/N argument, the JUnit reader it and `merge` share
 * (the report's own form read back, every other form refused with a line
 * number, no prefix of a file crashing it); and end to end: N = 1..4 shards
 * of six shipped scenarios (one failing on purpose), each scenario run in
 * exactly one, their reports merged into the unsharded run's cases and
 * verdicts, valid to xmllint and read back by junitparser when installed;
 * --durations moving a scenario to another shard, an empty shard, and the
 * exit-2 cases. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../conformance/common.h"
#include "junit_read.h"
#include "shard.h"

/* ---- the partition ------------------------------------------------------ */

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint64_t next_rand(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

struct instance {
  struct shard_item items[64];
  char names[64][24], paths[64][24]; /* room for any size_t */
  size_t n;
};

/* n items, weights below `max`, some names shared (paths break the tie). */
static void make(struct instance *in, size_t n, uint64_t max) {
  in->n = n;
  for (size_t i = 0; i < n; i++) {
    snprintf(in->names[i], sizeof in->names[i], "s%02zu", i % 5 == 4 ? i - 1 : i);
    snprintf(in->paths[i], sizeof in->paths[i], "p%02zu", i);
    in->items[i] = (struct shard_item){next_rand() % max, in->names[i], in->paths[i]};
  }
}

static void loads(const struct instance *in, const size_t *part, size_t nparts,
                  uint64_t *load) {
  memset(load, 0, nparts * sizeof *load);
  for (size_t i = 0; i < in->n; i++) {
    cr_assert_lt(part[i], nparts, "item %zu in part %zu of %zu", i, part[i], nparts);
    load[part[i]] += in->items[i].weight;
  }
}

static uint64_t max_of(const uint64_t *v, size_t n) {
  uint64_t m = 0;
  for (size_t i = 0; i < n; i++)
    m = v[i] > m ? v[i] : m;
  return m;
}

/* The best possible heaviest part, by trying every assignment. */
static uint64_t best_split(const struct instance *in, size_t nparts) {
  size_t combos = 1;
  for (size_t i = 0; i < in->n; i++)
    combos *= nparts;
  uint64_t best = UINT64_MAX;
  for (size_t c = 0; c < combos; c++) {
    uint64_t load[8] = {0};
    size_t k = c;
    for (size_t i = 0; i < in->n; i++, k /= nparts)
      load[k % nparts] += in->items[i].weight;
    uint64_t m = max_of(load, nparts);
    best = m < best ? m : best;
  }
  return best;
}

Test(shard, parse_takes_i_of_n_and_nothing_else) {
  struct {
    const char *s;
    size_t i, n;
  } good[] = {{"1/1", 0, 1}, {"3/4", 2, 4}, {"4/4", 3, 4}, {"10000/10000", 9999, 10000},
              {"1/10000", 0, 10000}, {"07/10", 6, 10}};
  for (size_t k = 0; k < sizeof good / sizeof *good; k++) {
    size_t i = 99, n = 99;
    cr_expect_eq(shard_parse(good[k].s, &i, &n), 0, "%s", good[k].s);
    cr_expect(i == good[k].i && n == good[k].n, "%s: %zu/%zu", good[k].s, i, n);
  }
  const char *bad[] = {"", "0/1", "2/1", "1/0", "0/0", "1/10001", "10001/10001",
                       "1/2x", "x1/2", " 1/2", "1/2 ", "+1/2", "-1/2", "1/-2",
                       "1//2", "1/2/3", "a/b", "1", "/2", "1/", "/", "1.0/2",
                       "1/2\n", "99999999999999999999/2", "1/99999999999999999999"};
  for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
    size_t i = 99, n = 99;
    cr_expect_eq(shard_parse(bad[k], &i, &n), -1, "'%s' taken", bad[k]);
  }
}

Test(shard, every_item_in_exactly_one_part_within_the_lpt_bound) {
  for (int round = 0; round < 60; round++) {
    struct instance in;
    size_t n = (size_t)(next_rand() % 10), nparts = 2 + (size_t)(next_rand() % 2);
    make(&in, n, round % 3 ? 1000 : 5);
    size_t part[64];
    memset(part, 0xff, sizeof part);
    cr_assert_eq(shard_partition(in.items, n, nparts, part), 0);
    uint64_t load[8];
    loads(&in, part, nparts, load); /* each item has one part below nparts */
    uint64_t got = max_of(load, nparts), best = best_split(&in, nparts);
    /* LPT: heaviest <= (4/3 - 1/(3m)) OPT, i.e. 3m * heaviest <= (4m - 1) OPT */
    cr_expect_leq(3 * nparts * got, (4 * nparts - 1) * best,
                  "round %d: n %zu, %zu parts: heaviest %" PRIu64 ", best %" PRIu64,
                  round, n, nparts, got, best);
  }
  /* larger: the greedy bound, heaviest <= total/m + the heaviest item */
  for (int round = 0; round < 40; round++) {
    struct instance in;
    size_t n = 10 + (size_t)(next_rand() % 54), nparts = 1 + (size_t)(next_rand() % 8);
    make(&in, n, 100000);
    size_t part[64];
    cr_assert_eq(shard_partition(in.items, n, nparts, part), 0);
    uint64_t load[8], total = 0, heaviest = 0;
    loads(&in, part, nparts, load);
    for (size_t i = 0; i < n; i++) {
      total += in.items[i].weight;
      heaviest = in.items[i].weight > heaviest ? in.items[i].weight : heaviest;
    }
    uint64_t sum = 0;
    for (size_t p = 0; p < nparts; p++)
      sum += load[p];
    cr_expect_eq(sum, total, "complete: nothing lost, nothing twice");
    cr_expect_leq(max_of(load, nparts) * nparts, total + heaviest * nparts);
  }
}

Test(shard, the_same_parts_whatever_the_order_given) {
  for (int round = 0; round < 30; round++) {
    struct instance in, shuffled;
    size_t n = 1 + (size_t)(next_rand() % 40), nparts = 1 + (size_t)(next_rand() % 7);
    make(&in, n, round % 2 ? 4 : 100); /* many equal weights: ties decide */
    shuffled = in;
    size_t where[64]; /* shuffled position of in's item i */
    for (size_t i = 0; i < n; i++)
      where[i] = i;
    for (size_t i = n - 1; i > 0; i--) {
      size_t j = (size_t)(next_rand() % (i + 1)), t = where[i];
      where[i] = where[j];
      where[j] = t;
    }
    for (size_t i = 0; i < n; i++) {
      shuffled.items[where[i]] = in.items[i];
      shuffled.items[where[i]].name = in.names[i];
      shuffled.items[where[i]].path = in.paths[i];
    }
    size_t a[64], b[64];
    cr_assert_eq(shard_partition(in.items, n, nparts, a), 0);
    cr_assert_eq(shard_partition(shuffled.items, n, nparts, b), 0);
    for (size_t i = 0; i < n; i++)
      cr_expect_eq(a[i], b[where[i]], "round %d: %s/%s in part %zu, then %zu", round,
                   in.names[i], in.paths[i], a[i], b[where[i]]);
    size_t again[64];
    cr_assert_eq(shard_partition(in.items, n, nparts, again), 0);
    cr_expect_arr_eq(a, again, n * sizeof *a, "the same call, the same parts");
  }
}

Test(shard, known_split_and_ties) {
  /* the six scenarios of the end-to-end test, by node count */
  struct shard_item it[] = {{101, "wide", "trees/wide.yaml"},
                            {9, "kill-middle", "k"},
                            {6, "crash-isolate", "c"},
                            {5, "crash-restart", "r"},
                            {4, "wrong-expect", "w"},
                            {3, "spawn-runtime", "s"}};
  size_t part[6];
  cr_assert_eq(shard_partition(it, 6, 2, part), 0);
  size_t want2[] = {0, 1, 1, 1, 1, 1};
  cr_expect_arr_eq(part, want2, sizeof want2);
  cr_assert_eq(shard_partition(it, 6, 4, part), 0);
  size_t want4[] = {0, 1, 2, 3, 3, 2};
  cr_expect_arr_eq(part, want4, sizeof want4);
  /* weight 0 everywhere: spread by count, in name order */
  struct shard_item zero[6] = {{0, "f", "1"}, {0, "a", "1"}, {0, "c", "1"},
                               {0, "b", "1"}, {0, "e", "1"}, {0, "d", "1"}};
  cr_assert_eq(shard_partition(zero, 6, 3, part), 0);
  size_t wantz[] = {2, 0, 2, 1, 1, 0}; /* a b c d e f -> 0 1 2 0 1 2 */
  cr_expect_arr_eq(part, wantz, sizeof wantz);
  /* same weight and name: the path decides */
  struct shard_item same[2] = {{7, "x", "b.yaml"}, {7, "x", "a.yaml"}};
  cr_assert_eq(shard_partition(same, 2, 2, part), 0);
  cr_expect(part[1] == 0 && part[0] == 1);
  /* more parts than items: the rest are empty; none: nothing to do */
  cr_assert_eq(shard_partition(it, 2, 5, part), 0);
  cr_expect(part[0] == 0 && part[1] == 1);
  cr_expect_eq(shard_partition(it, 0, 3, part), 0);
  cr_expect_eq(shard_partition(it, 1, 0, part), -1, "zero parts is refused");
}

/* ---- weights ------------------------------------------------------------ */

static struct scenario fake[6];
static struct scenario *fakes[6];

static void fake_scenarios(void) {
  static const struct {
    const char *name;
    size_t nodes, steps;
  } s[] = {{"wide", 101, 4}, {"kill-middle", 9, 8}, {"crash-isolate", 6, 7},
           {"crash-restart", 5, 9}, {"wrong-expect", 4, 1}, {"spawn-runtime", 3, 6}};
  for (size_t i = 0; i < 6; i++) {
    memset(&fake[i], 0, sizeof fake[i]);
    fake[i].name = (char *)s[i].name;
    fake[i].nnodes = s[i].nodes;
    fake[i].nsteps = s[i].steps;
    fakes[i] = &fake[i];
  }
}

static void parse_ok(const char *text, struct junit_doc *d) {
  char msg[300] = "";
  int rc = junit_parse(text, strlen(text), d, msg, sizeof msg);
  cr_assert_eq(rc, 0, "%s\nin:\n%s", msg, text);
}

#define SUITE(name, t1, t2)                                                     \
  "  <testsuite name=\"" name "\" tests=\"2\" time=\"9\">\n"                    \
  "    <testcase classname=\"treeproof." name "\" name=\"" name ": steps\" "    \
  "time=\"" t1 "\"/>\n"                                                         \
  "    <testcase name=\"" name ": replies\" time=\"" t2 "\"/>\n"                \
  "  </testsuite>\n"

Test(shard, weights_by_size_and_by_recorded_time, .init = fake_scenarios) {
  uint64_t w[6];
  shard_node_weights(fakes, 6, w);
  cr_expect_eq(w[0], 101 * 10 + 4, "nodes first, steps (at most 9) below");
  cr_expect_eq(w[3], 5 * 10 + 9);
  cr_expect_gt(w[2], w[3], "6 nodes 7 steps outweigh 5 nodes 9 steps");

  struct junit_doc d;
  parse_ok("<testsuites>\n" SUITE("crash-isolate", "1.000", "2.5")
           SUITE("kill-middle", "0.100", "0.1004")
           SUITE("kill-middle", "0.300", "0.0005")
           SUITE("not-given", "99", "99")
           SUITE("wide", "0.010", "0") "</testsuites>\n", &d);
  cr_assert_eq(shard_duration_weights(fakes, 6, &d, w), 3, "three of six named");
  cr_expect_eq(w[2], 3500, "crash-isolate: 1 s + 2.5 s");
  cr_expect_eq(w[1], (200 + 301) / 2, "kill-middle: the mean of its two runs");
  cr_expect_eq(w[0], 10, "wide");
  cr_expect_eq(w[3], 250, "unknown: the median of 10, 250, 3500");
  cr_expect(w[4] == 250 && w[5] == 250);
  junit_doc_free(&d);

  parse_ok("<testsuites>" SUITE("wide", "1", "0") SUITE("wrong-expect", "2", "0.001")
           "</testsuites>", &d);
  cr_assert_eq(shard_duration_weights(fakes, 6, &d, w), 2);
  cr_expect_eq(w[0], 1000);
  cr_expect_eq(w[2], (1000 + 2001) / 2, "an even count: the mean of the middle two");
  junit_doc_free(&d);

  parse_ok("<testsuites/>", &d);
  cr_assert_eq(shard_duration_weights(fakes, 6, &d, w), 0);
  uint64_t size[6];
  shard_node_weights(fakes, 6, size);
  cr_expect_arr_eq(w, size, sizeof w, "no scenario named: sizes decide");
  junit_doc_free(&d);
}

Test(shard, recorded_times_change_the_split, .init = fake_scenarios) {
  uint64_t w[6];
  struct shard_item it[6];
  size_t by_size[6], by_time[6];
  shard_node_weights(fakes, 6, w);
  for (size_t i = 0; i < 6; i++)
    it[i] = (struct shard_item){w[i], fake[i].name, fake[i].name};
  cr_assert_eq(shard_partition(it, 6, 2, by_size), 0);
  struct junit_doc d;
  parse_ok("<testsuites>" SUITE("crash-isolate", "10", "0") SUITE("kill-middle", "1", "0")
           SUITE("crash-restart", "1", "0") SUITE("spawn-runtime", "1", "0")
           SUITE("wrong-expect", "1", "0") "</testsuites>", &d);
  cr_assert_eq(shard_duration_weights(fakes, 6, &d, w), 5);
  junit_doc_free(&d);
  for (size_t i = 0; i < 6; i++)
    it[i].weight = w[i];
  cr_assert_eq(shard_partition(it, 6, 2, by_time), 0);
  cr_expect(by_size[0] == 0 && by_size[2] == 1, "by size: wide alone");
  cr_expect(by_time[2] == 0 && by_time[0] == 1, "by time: crash-isolate alone");
  for (size_t i = 1; i < 6; i++)
    if (i != 2)
      cr_expect_eq(by_time[i], 1, "%s with the rest", fake[i].name);
}

/* ---- the JUnit reader --------------------------------------------------- */

static const char report_text[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<testsuites name=\"treeproof\" tests=\"3\" failures=\"1\" errors=\"0\" "
    "skipped=\"1\" time=\"1.250\">\n"
    "  <testsuite name=\"a &amp; &lt;b&gt;\" tests=\"3\" failures=\"1\" "
    "errors=\"0\" skipped=\"1\" time=\"1.250\">\n"
    "    <testcase classname=\"treeproof.a\" name=\"a: steps\" time=\"0.250\">\n"
    "      <failure type=\"treeproof\" message=\"step 1 &quot;x&quot;\">line one&#10;"
    "&#x3bb; &gt;&gt;&gt; {:id 1}</failure>\n"
    "    </testcase>\n"
    "    <testcase classname=\"treeproof.a\" name=\"a: replies\" time=\"0.001\"/>\n"
    "    <testcase classname=\"treeproof.a\" name=\"a: backpressure\" time=\"0.000\">\n"
    "      <skipped message=\"not judged\"/>\n"
    "    </testcase>\n"
    "  </testsuite>\n"
    "  <!-- a comment -->\n"
    "  <testsuite name='empty' tests='0' time='0.000'></testsuite>\n"
    "</testsuites>\n";

Test(shard, reader_reads_the_reports_form) {
  struct junit_doc d;
  parse_ok(report_text, &d);
  cr_assert_eq(d.nsuites, 2);
  const struct junit_suite *s = &d.suites[0];
  cr_expect_str_eq(s->name, "a & <b>");
  cr_expect_eq(s->time_ms, 1250);
  cr_assert_eq(s->ncases, 3);
  cr_expect_str_eq(s->cases[0].name, "a: steps");
  cr_expect_str_eq(s->cases[0].classname, "treeproof.a");
  cr_expect_eq(s->cases[0].time_ms, 250);
  cr_expect(s->cases[0].failed && !s->cases[0].skipped && !s->cases[0].errored);
  cr_expect_str_eq(s->cases[0].body,
                   "<failure type=\"treeproof\" message=\"step 1 &quot;x&quot;\">line one"
                   "&#10;&#x3bb; &gt;&gt;&gt; {:id 1}</failure>",
                   "the child verbatim");
  cr_expect_null(s->cases[1].body);
  cr_expect(!s->cases[1].failed && s->cases[2].skipped && !s->cases[2].failed);
  cr_expect_eq(s->cases[1].line, 7);
  cr_expect_eq(junit_suite_cases_ms(s), 251);
  cr_expect_str_eq(d.suites[1].name, "empty");
  cr_expect_eq(d.suites[1].ncases, 0);
  cr_expect_eq(d.suites[1].line, 13);
  junit_doc_free(&d);
}

Test(shard, reader_times_to_the_millisecond) {
  struct {
    const char *t;
    uint64_t ms;
  } c[] = {{"0", 0}, {"12", 12000}, {"0.5", 500}, {"1.25", 1250}, {"0.0004", 0},
           {"0.0005", 1}, {"2.9996", 3000}, {"999999999999.999", 999999999999999}};
  for (size_t k = 0; k < sizeof c / sizeof *c; k++) {
    char *text = NULL;
    cr_assert(asprintf(&text, "<testsuites><testsuite name=\"s\"><testcase name=\"c\" "
                       "time=\"%s\"/></testsuite></testsuites>", c[k].t) > 0);
    struct junit_doc d;
    parse_ok(text, &d);
    cr_expect_eq(d.suites[0].cases[0].time_ms, c[k].ms, "%s: %" PRIu64, c[k].t,
                 d.suites[0].cases[0].time_ms);
    cr_expect_eq(d.suites[0].time_ms, c[k].ms, "no suite time: the cases' sum");
    junit_doc_free(&d);
    free(text);
  }
}

Test(shard, reader_refuses_what_it_does_not_know_with_a_line) {
  struct {
    const char *text, *says;
  } bad[] = {
      {"", "line 1: no <testsuites> element"},
      {"<?xml version=\"1.0\"?>\n\n", "line 3: no <testsuites>"},
      {"<testsuite name=\"a\"/>", "line 1: the root element is <testsuite>"},
      {"<!DOCTYPE x>\n<testsuites/>", "line 1: expected <testsuites>"},
      {"<?xml version=\"1.1\"?><testsuites/>", "line 1: the XML declaration"},
      {"<?xml version=\"1.0\" encoding=\"latin1\"?><testsuites/>", "encoding 'latin1'"},
      {"<testsuites>\n<testsuite>\n</testsuite></testsuites>",
       "line 2: <testsuite> has no name attribute"},
      {"<testsuites>\n<testsuite name=\"a\">\n<testcase name=\"x\"/>", "line 3: <testcase> has no time"},
      {"<testsuites>\n<testsuite name=\"a\">\n<properties/>\n</testsuite></testsuites>",
       "line 3: <properties> inside <testsuite>"},
      {"<testsuites>\n<testsuite name=\"a\">\n<testcase name=\"x\" time=\"1\">\n"
       "<system-out>hi</system-out></testcase></testsuite></testsuites>",
       "line 4: <system-out> inside <testcase>"},
      {"<testsuites>\n<testsuite name=\"a\">\n<testcase name=\"x\" time=\"-1\"/>",
       "line 3: time: '-1' is not a number"},
      {"<testsuites><testsuite name=\"a\"><testcase name=\"x\" time=\"1e3\"/>",
       "time: '1e3'"},
      {"<testsuites><testsuite name=\"a\"><testcase name=\"x\" time=\"1.\"/>", "time: '1.'"},
      {"<testsuites><testsuite name=\"a\"><testcase name=\"x\" time=\"\"/>", "time: ''"},
      {"<testsuites><testsuite name=\"a\" name=\"b\">", "attribute name given twice"},
      {"<testsuites><testsuite name=a>", "the value of name is not quoted"},
      {"<testsuites><testsuite name=\"a&b\">", "'&' that starts no reference"},
      {"<testsuites><testsuite name=\"&#0;\">", "'&' that starts no reference"},
      {"<testsuites><testsuite name=\"&#xD800;\">", "'&' that starts no reference"},
      {"<testsuites><testsuite name=\"a<b\">", "'<' in text"},
      {"<testsuites>\n\n<testsuite name=\"a\">\n</testsuites>", "line 4: expected </testsuite> (for line 3)"},
      {"<testsuites>\n<testsuite name=\"a\">\n<testcase name=\"x\" time=\"1\">\n"
       "<failure>a<b/></failure>", "line 4: an element inside <failure>"},
      {"<testsuites>\n<testsuite name=\"a\">\n<testcase name=\"x\" time=\"1\">\n"
       "<failure>a]]>b</failure>", "line 4: ']]>' in text"},
      {"<testsuites>\n<testsuite name=\"a\">\n<testcase name=\"x\" time=\"1\">\nstray",
       "line 4: text inside <testcase>"},
      {"<testsuites>\nstray</testsuites>", "line 2: expected <testsuite> or </testsuites>"},
      {"<testsuites></testsuites>\n<testsuites/>", "line 2: something after </testsuites>"},
      {"<testsuites>\n<!-- a -- b -->", "line 2: a comment"},
      {"<testsuites>\n<testsuite name=\"\xff\"/>", "line 2: invalid UTF-8 (byte 0xff)"},
      {"<testsuites>\n\n<testsuite name=\"\x01\"/>", "line 3: control character 0x01"},
      {"<testsuites name=\"x\"", "<testsuites> is not closed"},
      {"<testsuites>\n<testsuite name=\"a\">", "line 2: <testsuite> is not closed"},
      {"<testsuites><testsuite name=\"a\"b=\"c\"/>", "no space before an attribute"},
      {"<testsuites><testsuite name=\"a\" =\"c\"/>", "not an attribute"},
      {"< testsuites/>", "not followed by an element name"},
  };
  for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
    struct junit_doc d = {(void *)1, 99};
    char msg[300] = "";
    int rc = junit_parse(bad[k].text, strlen(bad[k].text), &d, msg, sizeof msg);
    cr_expect_eq(rc, -1, "case %zu taken: %s", k, bad[k].text);
    cr_expect(strstr(msg, bad[k].says) != NULL, "case %zu: '%s', not '%s'", k, msg,
              bad[k].says);
    cr_expect(strncmp(msg, "line ", 5) == 0, "case %zu: a line number: %s", k, msg);
    cr_expect(d.suites == NULL && d.nsuites == 0, "case %zu: left empty", k);
  }
  struct junit_doc d;
  char msg[300];
  cr_expect_eq(junit_read("/nonexistent/junit.xml", &d, msg, sizeof msg), -1);
  cr_expect(strstr(msg, "cannot read: No such file") != NULL, "%s", msg);
}

/* Every prefix of a real report, and every byte of it replaced by each of
 * a few troublemakers: read or refused (with a line), never a crash. */
Test(shard, reader_survives_every_prefix_and_byte) {
  size_t len = strlen(report_text);
  const char subst[] = {'<', '>', '&', '"', '\'', '/', ' ', 'x', '\0', '\xc3', '-'};
  for (size_t cut = 0; cut <= len; cut++) {
    struct junit_doc d;
    char msg[300] = "";
    int rc = junit_parse(report_text, cut, &d, msg, sizeof msg);
    /* only the whole text, with or without its last newline, is a report */
    cr_assert_eq(rc, cut < len - 1 ? -1 : 0, "prefix %zu of %zu: %s", cut, len, msg);
    if (rc == 0)
      junit_doc_free(&d);
    else
      cr_assert(strncmp(msg, "line ", 5) == 0, "prefix %zu: %s", cut, msg);
  }
  char *copy = malloc(len);
  cr_assert_not_null(copy);
  for (size_t i = 0; i < len; i++)
    for (size_t k = 0; k < sizeof subst; k++) {
      memcpy(copy, report_text, len);
      copy[i] = subst[k];
      struct junit_doc d;
      char msg[300] = "";
      if (junit_parse(copy, len, &d, msg, sizeof msg) == 0)
        junit_doc_free(&d);
      else
        cr_assert(strncmp(msg, "line ", 5) == 0, "byte %zu as %02x: %s", i,
                  (unsigned char)subst[k], msg);
    }
  free(copy);
}

Test(shard, written_back_it_reads_the_same) {
  struct junit_doc d, e;
  parse_ok(report_text, &d);
  char dir[] = "/tmp/treeproof-junit-rt-XXXXXX";
  cr_assert_not_null(mkdtemp(dir));
  char path[64], path2[64];
  snprintf(path, sizeof path, "%s/a.xml", dir);
  snprintf(path2, sizeof path2, "%s/b.xml", dir);
  const struct junit_suite *ss[] = {&d.suites[1], &d.suites[0]};
  cr_assert_eq(junit_write(path, ss, 2), 0);
  char msg[300];
  cr_assert_eq(junit_read(path, &e, msg, sizeof msg), 0, "%s", msg);
  cr_assert_eq(e.nsuites, 2);
  cr_expect_str_eq(e.suites[0].name, "empty", "in the order given");
  const struct junit_suite *a = &d.suites[0], *b = &e.suites[1];
  cr_expect_str_eq(b->name, a->name);
  cr_expect_eq(b->time_ms, a->time_ms);
  cr_assert_eq(b->ncases, a->ncases);
  for (size_t i = 0; i < a->ncases; i++) {
    cr_expect_str_eq(b->cases[i].name, a->cases[i].name);
    cr_expect_str_eq(b->cases[i].classname, a->cases[i].classname);
    cr_expect_eq(b->cases[i].time_ms, a->cases[i].time_ms);
    cr_expect_eq(b->cases[i].failed, a->cases[i].failed);
    cr_expect_eq(b->cases[i].skipped, a->cases[i].skipped);
    cr_expect((!a->cases[i].body && !b->cases[i].body) ||
              strcmp(a->cases[i].body, b->cases[i].body) == 0);
  }
  /* and written again, byte for byte the same file */
  const struct junit_suite *es[] = {&e.suites[0], &e.suites[1]};
  cr_assert_eq(junit_write(path2, es, 2), 0);
  char *cmd = NULL;
  cr_assert(asprintf(&cmd, "cmp -s %s %s", path, path2) > 0);
  cr_expect_eq(system(cmd), 0, "a second write differs");
  free(cmd);
  if (access("/usr/bin/xmllint", X_OK) == 0) {
    cr_assert(asprintf(&cmd, "xmllint --noout %s", path) > 0);
    cr_expect_eq(system(cmd), 0);
    free(cmd);
  }
  FILE *f = fopen(path, "r");
  char head[300] = "";
  cr_assert_not_null(f);
  cr_assert(fread(head, 1, sizeof head - 1, f) > 0);
  fclose(f);
  cr_expect(strstr(head, "<testsuites name=\"treeproof\" tests=\"3\" failures=\"1\" "
                         "errors=\"0\" skipped=\"1\" time=\"1.250\">") != NULL, "%s", head);
  cr_expect_eq(junit_write("/nonexistent/x.xml", es, 2), -1);
  junit_doc_free(&d);
  junit_doc_free(&e);
  cr_assert(asprintf(&cmd, "rm -rf %s", dir) > 0);
  cr_expect_eq(system(cmd), 0);
  free(cmd);
}

/* ---- end to end --------------------------------------------------------- */

static const char *const shipped[] = {
    "trees/crash-isolate.yaml", "trees/kill-middle.yaml", "trees/spawn-runtime.yaml",
    "trees/crash-restart.yaml", "trees/wide.yaml",        "fixtures/yaml/wrong-expect.yaml"};
#define NSHIPPED (sizeof shipped / sizeof *shipped)

static char *abs_paths[NSHIPPED];

static void e2e_init(void) {
  tp_subreaper();
  for (size_t i = 0; i < NSHIPPED; i++)
    abs_paths[i] = tp_source(shipped[i]);
}

/* treeproof ARGS... followed by the six scenarios (when `scenarios`). */
static struct tp_run tp(double timeout_s, bool scenarios, const char *const *args) {
  const char *argv[48];
  size_t n = 0;
  for (; args[n]; n++)
    argv[n] = args[n];
  for (size_t i = 0; scenarios && i < NSHIPPED; i++)
    argv[n++] = abs_paths[i];
  argv[n] = NULL;
  struct tp_run r;
  int rc = tp_run_args(&r, NULL, timeout_s, argv);
  cr_assert_eq(rc, 0, "treeproof %s ... did not finish in %.0f s", args[0], timeout_s);
  return r;
}

/* One line per testcase, "SUITE\tCASE\tfailed|passed|skipped", sorted. */
struct cases {
  char **line;
  size_t n;
  char **suite; /* the testsuites' names, in file order */
  size_t nsuites;
};

static int by_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static struct cases read_cases(const char *path) {
  struct junit_doc d;
  char msg[300];
  cr_assert_eq(junit_read(path, &d, msg, sizeof msg), 0, "%s: %s", path, msg);
  struct cases c = {0};
  for (size_t i = 0; i < d.nsuites; i++)
    c.n += d.suites[i].ncases;
  c.line = calloc(c.n + 1, sizeof *c.line);
  c.suite = calloc(d.nsuites + 1, sizeof *c.suite);
  cr_assert(c.line && c.suite);
  size_t k = 0;
  for (size_t i = 0; i < d.nsuites; i++) {
    c.suite[c.nsuites++] = strdup(d.suites[i].name);
    for (size_t j = 0; j < d.suites[i].ncases; j++) {
      const struct junit_case *tc = &d.suites[i].cases[j];
      cr_assert(asprintf(&c.line[k++], "%s\t%s\t%s", d.suites[i].name, tc->name,
                         tc->failed ? "failed" : tc->skipped ? "skipped" : "passed") > 0);
    }
  }
  qsort(c.line, c.n, sizeof *c.line, by_str);
  junit_doc_free(&d);
  return c;
}

static void free_cases(struct cases *c) {
  for (size_t i = 0; i < c->n; i++)
    free(c->line[i]);
  for (size_t i = 0; i < c->nsuites; i++)
    free(c->suite[i]);
  free(c->line);
  free(c->suite);
}

static size_t failed_cases(const struct cases *c) {
  size_t f = 0;
  for (size_t i = 0; i < c->n; i++)
    f += strstr(c->line[i], "\tfailed") != NULL;
  return f;
}

static char *py_with(const char *module) {
  const char *pys[] = {"/usr/bin/python3", "python3"};
  for (size_t i = 0; i < 2; i++) {
    char *cmd = NULL;
    if (asprintf(&cmd, "%s -c 'import %s' >/dev/null 2>&1", pys[i], module) < 0)
      return NULL;
    int rc = system(cmd);
    free(cmd);
    if (rc == 0)
      return strdup(pys[i]);
  }
  return NULL;
}

/* junitparser's reading of `path`: "SUITES TESTS FAILURES CASES FAILED". */
static void junitparser_agrees(const char *path, const struct cases *want) {
  char *py = py_with("junitparser");
  if (!py) {
    cr_log_warn("SKIP: junitparser check: the python3 module junitparser is not "
                "importable (apt-get install python3-junitparser)");
    fprintf(stderr, "test_shard: SKIP the junitparser check: python3-junitparser "
            "is not installed\n");
    return;
  }
  char *cmd = NULL;
  cr_assert(asprintf(&cmd,
      "%s -c 'import sys\n"
      "from junitparser import JUnitXml, Failure\n"
      "x = JUnitXml.fromfile(sys.argv[1])\n"
      "suites = list(x)\n"
      "cases = [c for s in suites for c in s]\n"
      "failed = [c for c in cases if any(isinstance(r, Failure) for r in c.result)]\n"
      "print(len(suites), sum(s.tests for s in suites), sum(s.failures for s in suites),"
      " x.tests, x.failures, len(cases), len(failed))' %s", py, path) > 0);
  FILE *p = popen(cmd, "r");
  cr_assert_not_null(p);
  char out[200] = "";
  size_t n = fread(out, 1, sizeof out - 1, p);
  out[n] = '\0';
  cr_expect_eq(pclose(p), 0, "junitparser failed on %s: %s", path, out);
  char expect[200];
  size_t f = failed_cases(want);
  snprintf(expect, sizeof expect, "%zu %zu %zu %zu %zu %zu %zu\n", want->nsuites, want->n, f,
           want->n, f, want->n, f);
  cr_expect_str_eq(out, expect, "junitparser read %s as %s", path, out);
  free(cmd);
  free(py);
}

static void expect_valid_xml(const char *path) {
  if (access("/usr/bin/xmllint", X_OK) != 0) {
    cr_log_warn("xmllint is not installed: %s not validated", path);
    return;
  }
  char *cmd = NULL;
  cr_assert(asprintf(&cmd, "xmllint --noout '%s'", path) > 0);
  cr_expect_eq(system(cmd), 0, "xmllint refuses %s", path);
  free(cmd);
}

TestSuite(shard_e2e, .init = e2e_init, .timeout = 150.);

Test(shard_e2e, shards_run_each_scenario_once_and_merge_into_the_whole) {
  char *dir = tp_temp_dir("shard");
  char whole[200];
  snprintf(whole, sizeof whole, "%s/whole.xml", dir);
  struct tp_run r = tp(60, true, (const char *[]){"run", "-j", "2", "--junit", whole, NULL});
  cr_expect_eq(r.status, 1, "wrong-expect fails: %s\n%s", r.out, r.err);
  tp_run_free(&r);
  struct cases all = read_cases(whole);
  cr_assert_eq(all.nsuites, NSHIPPED);
  cr_assert_gt(failed_cases(&all), 0, "one scenario fails on purpose");

  for (size_t nshards = 1; nshards <= 4; nshards++) {
    char *merged = NULL, *shard_files[4];
    int ran[NSHIPPED] = {0};
    for (size_t i = 1; i <= nshards; i++) {
      char spec[16];
      snprintf(spec, sizeof spec, "%zu/%zu", i, nshards);
      cr_assert(asprintf(&shard_files[i - 1], "%s/j%zu-%zu.xml", dir, nshards, i) > 0);
      r = tp(60, true, (const char *[]){"run", "--junit", shard_files[i - 1], "--shard",
                                        spec, NULL});
      cr_expect(r.status == 0 || r.status == 1, "shard %s: exit %d\n%s", spec, r.status,
                r.err);
      struct cases c = read_cases(shard_files[i - 1]);
      bool has_wrong = false;
      for (size_t s = 0; s < c.nsuites; s++) {
        has_wrong |= strcmp(c.suite[s], "wrong-expect") == 0;
        for (size_t k = 0; k < NSHIPPED; k++) { /* each is named by its stem */
          const char *stem = strrchr(shipped[k], '/') + 1;
          ran[k] += strlen(stem) == strlen(c.suite[s]) + 5 &&
                    strncmp(stem, c.suite[s], strlen(c.suite[s])) == 0;
        }
      }
      cr_expect_eq(r.status, has_wrong ? 1 : 0, "shard %s: exit %d with%s wrong-expect",
                   spec, r.status, has_wrong ? "" : "out");
      char head[64];
      snprintf(head, sizeof head, "shard %s: %zu of 6 scenarios:", spec, c.nsuites);
      cr_expect(strstr(r.out, head) != NULL, "'%s' in %s", head, r.out);
      free_cases(&c);
      tp_run_free(&r);
    }
    for (size_t k = 0; k < NSHIPPED; k++)
      cr_expect_eq(ran[k], 1, "%zu shards: %s ran in %d shards", nshards, shipped[k],
                   ran[k]);

    cr_assert(asprintf(&merged, "%s/merged-%zu.xml", dir, nshards) > 0);
    const char *margs[8] = {"merge", "--junit", merged};
    for (size_t i = 0; i < nshards; i++)
      margs[3 + i] = shard_files[i];
    margs[3 + nshards] = NULL;
    r = tp(30, false, margs);
    cr_expect_eq(r.status, 0, "merge exits 0 though a case failed: %s", r.err);
    cr_expect(strstr(r.out, "6 testsuite(s)") != NULL, "%s", r.out);
    tp_run_free(&r);
    expect_valid_xml(merged);
    struct cases m = read_cases(merged);
    cr_assert_eq(m.n, all.n, "%zu shards: %zu cases merged, %zu in the whole run",
                 nshards, m.n, all.n);
    for (size_t i = 0; i < m.n; i++)
      cr_expect_str_eq(m.line[i], all.line[i], "%zu shards", nshards);
    for (size_t s = 1; s < m.nsuites; s++)
      cr_expect_lt(strcmp(m.suite[s - 1], m.suite[s]), 0, "merge sorts by name: %s, %s",
                   m.suite[s - 1], m.suite[s]);
    if (nshards == 3)
      junitparser_agrees(merged, &all);
    free_cases(&m);
    free(merged);
    for (size_t i = 0; i < nshards; i++)
      free(shard_files[i]);
  }
  free_cases(&all);
  cr_expect_eq(tp_leftovers(), 0, "processes left behind");
  tp_rm_dir(dir);
}

Test(shard_e2e, durations_move_a_scenario_to_another_shard) {
  char *dir = tp_temp_dir("shard-dur");
  char times[200], junit[200], badf[200];
  snprintf(times, sizeof times, "%s/times.xml", dir);
  snprintf(junit, sizeof junit, "%s/j.xml", dir);
  snprintf(badf, sizeof badf, "%s/bad.xml", dir);
  FILE *f = fopen(times, "w");
  cr_assert_not_null(f);
  /* crash-isolate slow, four others fast, wide not recorded (the median) */
  fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"treeproof\">\n"
        SUITE("crash-isolate", "9.000", "1.000") SUITE("kill-middle", "1", "0")
        SUITE("crash-restart", "1", "0") SUITE("spawn-runtime", "1", "0")
        SUITE("wrong-expect", "0.500", "0.500") "</testsuites>\n", f);
  cr_assert_eq(fclose(f), 0);

  struct tp_run r = tp(60, true, (const char *[]){"run", "--shard", "1/2", "--junit",
                                                  junit, NULL});
  cr_expect_eq(r.status, 0, "%s", r.err);
  cr_expect(strstr(r.out, "shard 1/2: 1 of 6 scenarios: wide\n") != NULL, "%s", r.out);
  tp_run_free(&r);
  struct cases c = read_cases(junit);
  cr_expect(c.nsuites == 1 && strcmp(c.suite[0], "wide") == 0, "by size: wide alone");
  free_cases(&c);

  r = tp(60, true, (const char *[]){"run", "--shard=1/2", "--durations", times,
                                    "--junit", junit, NULL});
  cr_expect_eq(r.status, 0, "%s", r.err);
  cr_expect(strstr(r.out, "shard 1/2: 1 of 6 scenarios: crash-isolate\n") != NULL, "%s",
            r.out);
  tp_run_free(&r);
  c = read_cases(junit);
  cr_expect(c.nsuites == 1 && strcmp(c.suite[0], "crash-isolate") == 0,
            "by time: crash-isolate alone");
  free_cases(&c);

  /* a bad durations file: exit 2, FILE: error: line N, nothing run */
  f = fopen(badf, "w");
  cr_assert_not_null(f);
  fputs("<testsuites>\n  <testsuite name=\"x\">\n    <testcase name=\"a\" time=\"soon\"/>\n",
        f);
  cr_assert_eq(fclose(f), 0);
  char says[300];
  r = tp(30, true, (const char *[]){"run", "--shard", "2/2", "--durations", badf, NULL});
  cr_expect_eq(r.status, 2);
  snprintf(says, sizeof says, "%s: error: line 3: time: 'soon'", badf);
  cr_expect(strstr(r.err, says) != NULL, "'%s' in %s", says, r.err);
  cr_expect_null(strstr(r.out, "PASS"), "nothing ran: %s", r.out);
  tp_run_free(&r);
  char missing[200];
  snprintf(missing, sizeof missing, "%s/missing.xml", dir);
  r = tp(30, true, (const char *[]){"run", "--shard", "1/2", "--durations", missing, NULL});
  cr_expect_eq(r.status, 2);
  snprintf(says, sizeof says, "%s: error: cannot read: No such file or directory", missing);
  cr_expect(strstr(r.err, says) != NULL, "'%s' in %s", says, r.err);
  tp_run_free(&r);
  r = tp(30, true, (const char *[]){"run", "--durations", times, NULL});
  cr_expect_eq(r.status, 2);
  cr_expect(strstr(r.err, "treeproof: fatal: --durations needs --shard I/N") != NULL, "%s",
            r.err);
  tp_run_free(&r);
  cr_expect_eq(tp_leftovers(), 0);
  tp_rm_dir(dir);
}

Test(shard_e2e, an_empty_shard_runs_nothing_and_exits_0) {
  char *dir = tp_temp_dir("shard-empty");
  char junit[200], merged[200];
  snprintf(junit, sizeof junit, "%s/j.xml", dir);
  snprintf(merged, sizeof merged, "%s/m.xml", dir);
  char *wide = tp_source("trees/wide.yaml"), *restart = tp_source("trees/crash-restart.yaml");
  struct tp_run r = tp(30, false, (const char *[]){"run", "--shard", "3/3", "--junit", junit,
                                                   wide, restart, NULL});
  cr_expect_eq(r.status, 0, "%s", r.err);
  cr_expect(strstr(r.out, "treeproof: shard 3/3 has no scenario (2 scenario(s) over 3 "
                          "shards): nothing to run") != NULL, "%s", r.out);
  cr_expect_null(strstr(r.out, "PASS"), "%s", r.out);
  tp_run_free(&r);
  expect_valid_xml(junit);
  struct cases c = read_cases(junit);
  cr_expect_eq(c.nsuites, 0, "an empty JUnit file for the merge job");
  free_cases(&c);
  r = tp(30, false, (const char *[]){"run", "--tap", "--shard", "2/2", wide, NULL});
  cr_expect_eq(r.status, 0, "%s", r.err);
  cr_expect_str_eq(r.out, "TAP version 13\n1..0\n", "an empty plan on stdout");
  cr_expect(strstr(r.err, "has no scenario") != NULL, "%s", r.err);
  tp_run_free(&r);
  r = tp(30, false, (const char *[]){"merge", "--junit", merged, junit, NULL});
  cr_expect_eq(r.status, 0, "%s", r.err);
  tp_run_free(&r);
  expect_valid_xml(merged);
  free(wide);
  free(restart);
  tp_rm_dir(dir);
}

Test(shard_e2e, bad_shard_invalid_scenarios_and_bad_merges_exit_2) {
  const char *bad[] = {"0/2", "3/2", "1/0", "1/10001", "10001/10001", "1/2x", "x",
                       "1/", "/2", "1//2", "-1/2", "+1/2", " 1/2", "1/2 ", "", "1.0/2",
                       "2/2/2"};
  for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
    char opt[64], says[128];
    snprintf(opt, sizeof opt, "--shard=%s", bad[k]);
    struct tp_run r = tp(10, true, (const char *[]){"run", opt, NULL});
    cr_expect_eq(r.status, 2, "'%s': exit %d", bad[k], r.status);
    snprintf(says, sizeof says, "treeproof: fatal: --shard: '%s' is not I/N with 1 <= I <= N\n",
             bad[k]);
    cr_expect(strncmp(r.err, says, strlen(says)) == 0, "'%s' in %s", says, r.err);
    cr_expect_str_eq(r.out, "");
    tp_run_free(&r);
  }
  struct tp_run r = tp(10, true, (const char *[]){"run", "--shard", "5/4", NULL});
  cr_expect_eq(r.status, 2);
  cr_expect(strstr(r.err, "--shard: '5/4' is not I/N") != NULL, "%s", r.err);
  tp_run_free(&r);

  /* an invalid scenario in either shard stops both: all are validated */
  char *wide = tp_source("trees/wide.yaml"),
       *invalid = tp_source("fixtures/yaml/bad-two-actions.yaml");
  for (int i = 1; i <= 2; i++) {
    char spec[16];
    snprintf(spec, sizeof spec, "%d/2", i);
    r = tp(20, false, (const char *[]){"run", "--shard", spec, wide, invalid, NULL});
    cr_expect_eq(r.status, 2, "shard %s: exit %d", spec, r.status);
    cr_expect(strstr(r.err, "bad-two-actions.yaml:4:5: error: step: two actions") != NULL,
              "%s", r.err);
    cr_expect_null(strstr(r.out, "PASS"), "nothing ran: %s", r.out);
    tp_run_free(&r);
  }

  char *dir = tp_temp_dir("merge-bad");
  char out[200], good[200], broken[200];
  snprintf(out, sizeof out, "%s/out.xml", dir);
  snprintf(good, sizeof good, "%s/good.xml", dir);
  snprintf(broken, sizeof broken, "%s/broken.xml", dir);
  FILE *f = fopen(good, "w");
  fputs("<testsuites>" SUITE("a", "1", "2") "</testsuites>\n", f);
  fclose(f);
  f = fopen(broken, "w");
  fputs("<testsuites>\n<testsuite name=\"b\">\n<testcase name=\"c\" time=\"1\">\n"
        "<system-out>x</system-out>\n</testcase></testsuite></testsuites>\n", f);
  fclose(f);
  r = tp(10, false, (const char *[]){"merge", "--junit", out, good, broken, NULL});
  cr_expect_eq(r.status, 2);
  char says[300];
  snprintf(says, sizeof says, "%s: error: line 4: <system-out> inside <testcase>", broken);
  cr_expect(strstr(r.err, says) != NULL, "'%s' in %s", says, r.err);
  cr_expect_neq(access(out, F_OK), 0, "nothing written");
  tp_run_free(&r);
  const char *const *usage[] = {
      (const char *[]){"merge", good, NULL},
      (const char *[]){"merge", "--junit", out, NULL},
      (const char *[]){"merge", "--junit=", good, NULL},
      (const char *[]){"merge", "--bogus", "--junit", out, good, NULL},
  };
  for (size_t k = 0; k < sizeof usage / sizeof *usage; k++) {
    r = tp(10, false, usage[k]);
    cr_expect_eq(r.status, 2, "case %zu: exit %d", k, r.status);
    cr_expect(strstr(r.err, "treeproof: fatal: ") != NULL, "case %zu: %s", k, r.err);
    tp_run_free(&r);
  }
  char unwritable[] = "/nonexistent-dir/m.xml";
  r = tp(10, false, (const char *[]){"merge", "--junit", unwritable, good, NULL});
  cr_expect_eq(r.status, 2);
  cr_expect(strstr(r.err, "treeproof: fatal: unable to write /nonexistent-dir/m.xml") != NULL,
            "%s", r.err);
  tp_run_free(&r);
  /* the same testsuite in two inputs: kept both, with a warning */
  r = tp(10, false, (const char *[]){"merge", "--junit", out, good, good, NULL});
  cr_expect_eq(r.status, 0, "%s", r.err);
  cr_expect(strstr(r.err, "warning: testsuite 'a' is in both") != NULL, "%s", r.err);
  cr_expect(strstr(r.out, "2 testsuite(s), 4 testcase(s)") != NULL, "%s", r.out);
  tp_run_free(&r);
  free(wide);
  free(invalid);
  tp_rm_dir(dir);
}

Test(shard_e2e, help_names_both) {
  struct tp_run r = tp(10, false, (const char *[]){"--help", NULL});
  cr_expect_eq(r.status, 0);
  cr_expect(strstr(r.out, "[--shard I/N [--durations JUNIT]] SCENARIO.yaml...") != NULL,
            "%s", r.out);
  cr_expect(strstr(r.out, "treeproof merge --junit OUT JUNIT...") != NULL, "%s", r.out);
  tp_run_free(&r);
  r = tp(10, false, (const char *[]){"merge", "--help", NULL});
  cr_expect_eq(r.status, 0);
  cr_expect(strncmp(r.out, "usage: treeproof merge --junit OUT JUNIT...\n", 44) == 0, "%s",
            r.out);
  tp_run_free(&r);
}
