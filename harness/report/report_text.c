/* report_text.c — what every reporter needs: text made safe for YAML, XML
 * and TAP readers (invalid UTF-8 and control characters never reach them),
 * and which checks of a result are test points. */
#include "report_text.h"

#include <string.h>

#include "edn.h"

size_t report_utf8_len(const unsigned char *s, size_t len) {
  uint32_t cp;
  size_t n = edn_utf8_decode(s, len, &cp);
  /* XML 1.0 forbids the two noncharacters; YAML and TAP readers balk too */
  return n && (cp == 0xfffe || cp == 0xffff) ? 0 : n;
}

/* Write s[0..len): each valid multi-byte UTF-8 sequence as it is, each
 * invalid byte as '?', each ASCII byte as `ascii` escapes it for the
 * reader at hand. */
static void put_text(FILE *out, const char *s, size_t len,
                     void (*ascii)(FILE *out, unsigned char c)) {
  const unsigned char *u = (const unsigned char *)s;
  for (size_t i = 0; i < len;) {
    size_t n = report_utf8_len(u + i, len - i);
    if (n == 0) {
      fputc('?', out);
      i++;
      continue;
    }
    if (n > 1)
      fwrite(u + i, 1, n, out);
    else
      ascii(out, u[i]);
    i += n;
  }
}

static void yaml_ascii(FILE *out, unsigned char c) {
  if (c == '"' || c == '\\')
    fprintf(out, "\\%c", c);
  else if (c == '\t')
    fputs("\\t", out);
  else if (c < 0x20 || c == 0x7f)
    fprintf(out, "\\x%02x", c);
  else
    fputc(c, out);
}

static void xml_ascii(FILE *out, unsigned char c) {
  if (c == '&')
    fputs("&amp;", out);
  else if (c == '<')
    fputs("&lt;", out);
  else if (c == '>')
    fputs("&gt;", out);
  else if (c == '"')
    fputs("&quot;", out);
  else if (c == '\'')
    fputs("&apos;", out);
  else if (c == '\n')
    fputs("&#10;", out);
  else if (c == '\t')
    fputs("&#9;", out);
  else if (c < 0x20 || c == 0x7f)
    fputc('?', out); /* not allowed in XML 1.0, even as a reference */
  else
    fputc(c, out);
}

static void tap_ascii(FILE *out, unsigned char c) {
  if (c == '#' || c == '\\')
    fprintf(out, "\\%c", c);
  else if (c < 0x20 || c == 0x7f)
    fputc(' ', out);
  else
    fputc(c, out);
}

void report_put_yaml_string(FILE *out, const char *s, size_t len) {
  fputc('"', out);
  put_text(out, s, len, yaml_ascii);
  fputc('"', out);
}

void report_put_xml(FILE *out, const char *s) {
  put_text(out, s, strlen(s), xml_ascii);
}

void report_put_tap_desc(FILE *out, const char *s) {
  put_text(out, s, strlen(s), tap_ascii);
}

const struct check_result *report_check(const struct scenario_result *r,
                                        int i) {
  return i < 0 ? &r->steps : &r->props[i];
}

const char *report_check_name(int check) {
  return check < 0 ? "steps" : property_name((enum property)check);
}

bool report_listed(const struct scenario_result *r, int i) {
  if (i < 0)
    return true;
  if (r->scenario)
    return r->scenario->properties[i];
  return r->props[i].verdict != VERDICT_SKIP;
}

bool report_passed(const struct scenario_result *r) {
  if (r->steps.verdict != VERDICT_PASS)
    return false;
  for (int i = 0; i < PROP_COUNT; i++)
    if (report_listed(r, i) && r->props[i].verdict == VERDICT_FAIL)
      return false;
  return true;
}

const char *report_evidence(const struct check_result *c) {
  const char *e = c->evidence;
  if (!e)
    return NULL;
  size_t n = c->summary ? strlen(c->summary) : 0;
  if (n && strncmp(e, c->summary, n) == 0 && (e[n] == '\n' || e[n] == '\0'))
    e += n + (e[n] == '\n');
  return *e ? e : NULL;
}
