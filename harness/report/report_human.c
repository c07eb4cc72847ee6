/* report_human.c — the line people read per scenario: "PASS name (412 ms)",
 * or "FAIL name (...)" followed by each failed check's summary and its
 * evidence, indented, so the failure can be understood without a trace. */
#include "report.h"

#include <string.h>

#include "report_text.h"

/* Every line of `text` behind `indent`. */
static void put_indented(FILE *out, const char *text, const char *indent) {
  const char *s = text;
  while (*s) {
    const char *nl = strchr(s, '\n');
    size_t len = nl ? (size_t)(nl - s) : strlen(s);
    fprintf(out, "%s%.*s\n", indent, (int)len, s);
    s += len + (nl ? 1 : 0);
  }
}

static void put_check(FILE *out, const struct scenario_result *r, int i) {
  const struct check_result *c = report_check(r, i);
  if (!report_listed(r, i) || c->verdict != VERDICT_FAIL)
    return;
  fprintf(out, "  %s: %s\n", report_check_name(i),
          c->summary ? c->summary : "failed");
  const char *evidence = report_evidence(c);
  if (evidence)
    put_indented(out, evidence, "    ");
}

void report_human(FILE *out, const struct scenario_result *r) {
  const char *name = r->scenario ? r->scenario->name : "?";
  bool ok = report_passed(r);
  fprintf(out, "%s %s (%.0f ms)\n", ok ? "PASS" : "FAIL", name, r->ms);
  if (ok)
    return;
  for (int i = -1; i < PROP_COUNT; i++)
    put_check(out, r, i);
  fflush(out);
}
