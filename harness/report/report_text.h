/* report_text.h — private to the reporters: text made safe for its reader
 * (valid UTF-8, no control characters; quoted for YAML, escaped for XML),
 * and the verdict arithmetic every reporter shares. */
#ifndef TREEPROOF_REPORT_TEXT_H
#define TREEPROOF_REPORT_TEXT_H

#include <stdbool.h>
#include <stdio.h>

#include "result.h"

/* Write `s` as a YAML double-quoted scalar (quotes included). */
void report_put_yaml_string(FILE *out, const char *s, size_t len);
/* Write `s` escaped for XML text or attribute values. */
void report_put_xml(FILE *out, const char *s);
/* Write `s` for a TAP description: '#' and '\' escaped, line breaks and
 * control characters replaced. */
void report_put_tap_desc(FILE *out, const char *s);
/* The length of the valid UTF-8 sequence at s[0..len), or 0 if invalid. */
size_t report_utf8_len(const unsigned char *s, size_t len);
/* Whether the steps and every listed property passed (the reporters' own
 * judgement, so they need nothing from the engine). */
bool report_passed(const struct scenario_result *r);
/* "steps" for -1, else the property's name. */
const char *report_check_name(int check);
/* The check `i` (-1 = steps) of r. */
const struct check_result *report_check(const struct scenario_result *r, int i);
/* The evidence to show below the summary: c->evidence without a first line
 * that merely repeats the summary; NULL when nothing is left. */
const char *report_evidence(const struct check_result *c);
/* Whether check i (-1 = steps) is a test point: steps always, a property
 * when the scenario lists it. */
bool report_listed(const struct scenario_result *r, int i);

#endif
