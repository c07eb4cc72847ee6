/* report_junit.c — JUnit XML for CI systems: <testsuites>, one <testsuite>
 * per scenario, one <testcase> per test point ("SCENARIO: steps",
 * "SCENARIO: PROPERTY", as in TAP), a <failure> holding the summary (as its
 * message) and the evidence (as its text) for each failed one, <skipped>
 * for a listed property that was not judged. Text is escaped and made valid
 * UTF-8 without the control characters XML 1.0 forbids. */
#include "report.h"

#include <string.h>

#include "report_text.h"

struct counts {
  size_t tests, failures, skipped;
};

static struct counts count(const struct scenario_result *r) {
  struct counts c = {0, 0, 0};
  for (int i = -1; i < PROP_COUNT; i++) {
    if (!report_listed(r, i))
      continue;
    c.tests++;
    c.failures += report_check(r, i)->verdict == VERDICT_FAIL;
    c.skipped += report_check(r, i)->verdict == VERDICT_SKIP;
  }
  return c;
}

static void put_case(FILE *out, const struct scenario_result *r, int i) {
  const struct check_result *c = report_check(r, i);
  const char *name = r->scenario ? r->scenario->name : "?";
  fputs("    <testcase classname=\"treeproof.", out);
  report_put_xml(out, name);
  fputs("\" name=\"", out);
  report_put_xml(out, name);
  fprintf(out, ": %s\" time=\"%.3f\"", report_check_name(i), c->ms / 1000.0);
  if (c->verdict == VERDICT_PASS) {
    fputs("/>\n", out);
    return;
  }
  fputs(">\n", out);
  if (c->verdict == VERDICT_SKIP) {
    fputs("      <skipped message=\"not judged\"/>\n", out);
  } else {
    fputs("      <failure type=\"treeproof\" message=\"", out);
    report_put_xml(out, c->summary ? c->summary : "failed");
    fputs("\">", out);
    if (c->evidence)
      report_put_xml(out, c->evidence);
    fputs("</failure>\n", out);
  }
  fputs("    </testcase>\n", out);
}

static void put_suite(FILE *out, const struct scenario_result *r) {
  struct counts c = count(r);
  fputs("  <testsuite name=\"", out);
  report_put_xml(out, r->scenario ? r->scenario->name : "?");
  fprintf(out, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" "
          "skipped=\"%zu\" time=\"%.3f\">\n", c.tests, c.failures, c.skipped,
          r->ms / 1000.0);
  for (int i = -1; i < PROP_COUNT; i++)
    if (report_listed(r, i))
      put_case(out, r, i);
  fputs("  </testsuite>\n", out);
}

int report_junit(const char *path, const struct scenario_result *rs, size_t n) {
  FILE *out = fopen(path, "we");
  if (!out)
    return -1;
  struct counts all = {0, 0, 0};
  double ms = 0;
  for (size_t k = 0; k < n; k++) {
    struct counts c = count(&rs[k]);
    all.tests += c.tests;
    all.failures += c.failures;
    all.skipped += c.skipped;
    ms += rs[k].ms;
  }
  fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", out);
  fprintf(out, "<testsuites name=\"treeproof\" tests=\"%zu\" failures=\"%zu\" "
          "errors=\"0\" skipped=\"%zu\" time=\"%.3f\">\n", all.tests,
          all.failures, all.skipped, ms / 1000.0);
  for (size_t k = 0; k < n; k++)
    put_suite(out, &rs[k]);
  fputs("</testsuites>\n", out);
  int bad = ferror(out);
  if (fclose(out) != 0 || bad)
    return -1;
  return 0;
}
