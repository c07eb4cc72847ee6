/* report_tap.c — TAP version 13: one test point per scenario for its steps
 * ("SCENARIO: steps") and one per listed property ("SCENARIO: PROPERTY"),
 * nothing else in the description; the summary, the evidence (a literal
 * block that both YAML and TAP::Parser's YAMLish read) and the time go in
 * the diagnostic block below the point. */
#include "report.h"

#include <string.h>

#include "report_text.h"

/* One line of a literal block: valid UTF-8, no control byte but tab. */
static void put_block_line(FILE *out, const char *s, size_t len) {
  const unsigned char *u = (const unsigned char *)s;
  fputs("    ", out);
  for (size_t i = 0; i < len;) {
    size_t n = report_utf8_len(u + i, len - i);
    if (n == 0 || (n == 1 && ((u[i] < 0x20 && u[i] != '\t') || u[i] == 0x7f)))
      fputc('?', out), n = n ? n : 1;
    else
      fwrite(u + i, 1, n, out);
    i += n;
  }
  fputc('\n', out);
}

/* The evidence as a YAML literal block (`|`), which TAP::Parser's YAMLish
 * reads too: its first line must not start with a space (YAML takes the
 * block's indentation from it) and no line may be empty (YAMLish would end
 * the block there), so the first line is trimmed and empty lines keep the
 * block's indentation. */
static void put_evidence(FILE *out, const char *text) {
  fputs("  evidence: |\n", out);
  const char *s = text + strspn(text, " \t");
  while (*s) {
    const char *nl = strchr(s, '\n');
    size_t len = nl ? (size_t)(nl - s) : strlen(s);
    put_block_line(out, s, len);
    s += len + (nl ? 1 : 0);
  }
}

static void put_point(FILE *out, size_t n, const struct scenario_result *r,
                      int i) {
  const struct check_result *c = report_check(r, i);
  fprintf(out, "%s %zu - ", c->verdict == VERDICT_FAIL ? "not ok" : "ok", n);
  report_put_tap_desc(out, r->scenario ? r->scenario->name : "?");
  fprintf(out, ": %s", report_check_name(i));
  if (c->verdict == VERDICT_SKIP)
    fputs(" # SKIP not judged", out);
  fputc('\n', out);
  if (c->verdict != VERDICT_FAIL && !c->summary)
    return;
  fputs("  ---\n", out);
  if (c->summary) {
    fputs("  message: ", out);
    report_put_yaml_string(out, c->summary, strlen(c->summary));
    fputc('\n', out);
  }
  fprintf(out, "  severity: %s\n", c->verdict == VERDICT_FAIL ? "fail" : "ok");
  if (report_evidence(c))
    put_evidence(out, report_evidence(c));
  fprintf(out, "  ms: %.1f\n", c->ms);
  fputs("  ...\n", out);
}

int report_tap(FILE *out, const struct scenario_result *rs, size_t n) {
  size_t points = 0;
  for (size_t k = 0; k < n; k++)
    for (int i = -1; i < PROP_COUNT; i++)
      points += report_listed(&rs[k], i);
  fputs("TAP version 13\n", out);
  fprintf(out, "1..%zu\n", points);
  size_t num = 0;
  for (size_t k = 0; k < n; k++)
    for (int i = -1; i < PROP_COUNT; i++)
      if (report_listed(&rs[k], i))
        put_point(out, ++num, &rs[k], i);
  fflush(out);
  return ferror(out) ? -1 : 0;
}
