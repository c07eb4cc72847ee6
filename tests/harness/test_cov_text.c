/* test_cov_text.c — the reporters' text escaping on the inputs a node's
 * stderr or a hostile scenario can put into a report: multi-byte UTF-8
 * kept whole, invalid or overlong or surrogate sequences replaced by '?',
 * tabs and control characters escaped for YAML, XML and TAP. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_text.h"

typedef void (*put_fn)(FILE *, const char *);

static void put_yaml(FILE *f, const char *s) {
  report_put_yaml_string(f, s, strlen(s));
}

static char *render(put_fn fn, const char *s) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  cr_assert_not_null(f);
  fn(f, s);
  fclose(f);
  return buf;
}

static void expect_render(put_fn fn, const char *in, const char *want) {
  char *got = render(fn, in);
  cr_expect_str_eq(got, want, "in: %s", in);
  free(got);
}

Test(cov_text, utf8_lengths) {
  const unsigned char two[] = {0xc3, 0xa9}, three[] = {0xe2, 0x82, 0xac},
                      four[] = {0xf0, 0x9f, 0x98, 0x80},
                      overlong[] = {0xc0, 0xaf},
                      surrogate[] = {0xed, 0xa0, 0x80},
                      fffe[] = {0xef, 0xbf, 0xbe},
                      toobig[] = {0xf4, 0x90, 0x80, 0x80},
                      badcont[] = {0xe2, 0x28, 0xa1};
  cr_expect_eq(report_utf8_len((const unsigned char *)"a", 1), 1);
  cr_expect_eq(report_utf8_len(two, 2), 2);
  cr_expect_eq(report_utf8_len(three, 3), 3);
  cr_expect_eq(report_utf8_len(four, 4), 4);
  cr_expect_eq(report_utf8_len(four, 3), 0, "truncated sequence");
  cr_expect_eq(report_utf8_len(overlong, 2), 0, "overlong '/'");
  cr_expect_eq(report_utf8_len(surrogate, 3), 0, "UTF-16 surrogate");
  cr_expect_eq(report_utf8_len(fffe, 3), 0, "noncharacter U+FFFE");
  cr_expect_eq(report_utf8_len(toobig, 4), 0, "beyond U+10FFFF");
  cr_expect_eq(report_utf8_len(badcont, 3), 0, "bad continuation byte");
}

Test(cov_text, yaml_string) {
  expect_render(put_yaml, "caf\xc3\xa9 \xe2\x82\xac", "\"caf\xc3\xa9 \xe2\x82\xac\"");
  expect_render(put_yaml, "a\tb", "\"a\\tb\"");
  expect_render(put_yaml, "q\"b\\", "\"q\\\"b\\\\\"");
  expect_render(put_yaml, "x\x01y\x7f", "\"x\\x01y\\x7f\"");
  expect_render(put_yaml, "bad\xff\xc0z", "\"bad??z\"");
  /* an embedded NUL is data, not the end, when the length says so */
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  report_put_yaml_string(f, "a\0b", 3);
  fclose(f);
  cr_expect_str_eq(buf, "\"a\\x00b\"");
  free(buf);
}

Test(cov_text, xml) {
  expect_render(report_put_xml, "<a href='x'>&\"</a>",
                "&lt;a href=&apos;x&apos;&gt;&amp;&quot;&lt;/a&gt;");
  expect_render(report_put_xml, "l1\nl2\tt\x02", "l1&#10;l2&#9;t?");
  expect_render(report_put_xml, "\xe2\x82\xac\xfe", "\xe2\x82\xac?");
}

Test(cov_text, tap_description) {
  expect_render(report_put_tap_desc, "a # b \\ c", "a \\# b \\\\ c");
  expect_render(report_put_tap_desc, "two\nlines\r\x1b", "two lines  ");
  expect_render(report_put_tap_desc, "\xc3\xa9\x80", "\xc3\xa9?");
}
