/* junit_read.c — JUnit XML read back, by hand and strictly: the subset
 * report_junit.c writes (junit_read.h says which), every byte checked
 * (UTF-8, the characters XML 1.0 allows, entity references), every error
 * naming its line; and a set of read testsuites written back in the form
 * report_junit.c writes, for `treeproof merge`. */
#define _GNU_SOURCE
#include "junit_read.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "read_all.h"
#include "report_text.h"

#define MAX_ATTRS 32

struct parser {
  const char *s;
  size_t len, pos;
  char *msg;
  size_t msgsz;
};

struct attr {
  const char *name, *val; /* into the text; val without its quotes */
  size_t nlen, vlen, pos; /* pos: where the value starts */
};

struct tag {
  const char *name;
  size_t nlen, pos;
  struct attr a[MAX_ATTRS];
  int na;
  int empty; /* ended in "/>" */
};

static int line_at(const struct parser *p, size_t pos) {
  int line = 1;
  for (size_t i = 0; i < pos && i < p->len; i++)
    line += p->s[i] == '\n';
  return line;
}

__attribute__((format(printf, 3, 4)))
static int fail(struct parser *p, size_t pos, const char *fmt, ...) {
  int n = snprintf(p->msg, p->msgsz, "line %d: ", line_at(p, pos));
  if (n < 0 || (size_t)n >= p->msgsz)
    return -1;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(p->msg + n, p->msgsz - (size_t)n, fmt, ap);
  va_end(ap);
  return -1;
}

static int oom(struct parser *p) {
  snprintf(p->msg, p->msgsz, "out of memory");
  return -1;
}

static int at(const struct parser *p, const char *lit) {
  size_t n = strlen(lit);
  return p->len - p->pos >= n && memcmp(p->s + p->pos, lit, n) == 0;
}

static int is_ws(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void skip_ws(struct parser *p) {
  while (p->pos < p->len && is_ws(p->s[p->pos]))
    p->pos++;
}

/* Whitespace and comments. */
static int skip_misc(struct parser *p) {
  for (;;) {
    skip_ws(p);
    if (!at(p, "<!--"))
      return 0;
    size_t start = p->pos;
    const char *end = memmem(p->s + p->pos + 4, p->len - p->pos - 4, "--", 2);
    if (!end || (size_t)(end - p->s) + 3 > p->len || end[2] != '>')
      return fail(p, start, "a comment that does not end in '-->' "
                  "(or holds '--')");
    p->pos = (size_t)(end - p->s) + 3;
  }
}

/* Every byte: valid UTF-8, and a character XML 1.0 allows. */
static int check_chars(struct parser *p) {
  const unsigned char *u = (const unsigned char *)p->s;
  for (size_t i = 0; i < p->len;) {
    size_t n = report_utf8_len(u + i, p->len - i);
    if (n == 0)
      return fail(p, i, "invalid UTF-8 (byte 0x%02x)", u[i]);
    if (n == 1 && u[i] < 0x20 && !is_ws((char)u[i]))
      return fail(p, i, "control character 0x%02x, which XML does not allow",
                  u[i]);
    i += n;
  }
  return 0;
}

static int name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         c == ':';
}

static int name_char(char c) {
  return name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

static size_t read_name(struct parser *p) {
  size_t start = p->pos;
  if (p->pos < p->len && name_start(p->s[p->pos]))
    while (p->pos < p->len && name_char(p->s[p->pos]))
      p->pos++;
  return p->pos - start;
}

static int xml_char(uint32_t c) {
  return c == 0x9 || c == 0xa || c == 0xd || (c >= 0x20 && c <= 0xd7ff) ||
         (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff);
}

/* The reference at s[0..n) ('&' first): its length through ';', and the
 * character it stands for in *cp. 0 when it is not one XML knows. */
static size_t entity(const char *s, size_t n, uint32_t *cp) {
  static const struct {
    const char *name;
    char c;
  } named[] = {{"amp;", '&'}, {"lt;", '<'}, {"gt;", '>'}, {"quot;", '"'},
               {"apos;", '\''}};
  for (size_t k = 0; k < sizeof named / sizeof named[0]; k++) {
    size_t l = strlen(named[k].name);
    if (n >= l + 1 && memcmp(s + 1, named[k].name, l) == 0)
      return *cp = (uint32_t)named[k].c, l + 1;
  }
  if (n < 4 || s[1] != '#')
    return 0;
  int hex = s[2] == 'x';
  size_t i = hex ? 3 : 2, digits = 0;
  uint32_t v = 0;
  for (; i < n && i < 16 && s[i] != ';'; i++, digits++) {
    char c = s[i];
    int d = c >= '0' && c <= '9'               ? c - '0'
            : hex && c >= 'a' && c <= 'f'      ? c - 'a' + 10
            : hex && c >= 'A' && c <= 'F'      ? c - 'A' + 10
                                               : -1;
    if (d < 0 || v > 0x10ffff)
      return 0;
    v = v * (hex ? 16 : 10) + (uint32_t)d;
  }
  if (i >= n || s[i] != ';' || digits == 0 || !xml_char(v))
    return 0;
  return *cp = v, i + 1;
}

static size_t put_utf8(char *out, uint32_t c) {
  if (c < 0x80)
    return out[0] = (char)c, 1;
  if (c < 0x800)
    return out[0] = (char)(0xc0 | c >> 6), out[1] = (char)(0x80 | (c & 0x3f)),
           2;
  if (c < 0x10000)
    return out[0] = (char)(0xe0 | c >> 12),
           out[1] = (char)(0x80 | ((c >> 6) & 0x3f)),
           out[2] = (char)(0x80 | (c & 0x3f)), 3;
  out[0] = (char)(0xf0 | c >> 18);
  out[1] = (char)(0x80 | ((c >> 12) & 0x3f));
  out[2] = (char)(0x80 | ((c >> 6) & 0x3f));
  out[3] = (char)(0x80 | (c & 0x3f));
  return 4;
}

/* Check character data s[0..n) at pos (no '<', references known, no "]]>")
 * and, when out is given, decode it into a new string there (attribute
 * values: literal whitespace becomes a space, as XML normalizes it). */
static int text(struct parser *p, const char *s, size_t n, size_t pos,
                char **out) {
  char *d = out ? malloc(n + 1) : NULL;
  if (out && !d)
    return oom(p);
  size_t k = 0;
  for (size_t i = 0; i < n;) {
    if (s[i] == '<') {
      free(d);
      return fail(p, pos + i, "'<' in text (only <failure>, <error> and "
                  "<skipped> hold text, and no element)");
    }
    if (s[i] == ']' && n - i >= 3 && memcmp(s + i, "]]>", 3) == 0) {
      free(d);
      return fail(p, pos + i, "']]>' in text");
    }
    if (s[i] == '&') {
      uint32_t cp;
      size_t l = entity(s + i, n - i, &cp);
      if (l == 0) {
        free(d);
        return fail(p, pos + i, "'&' that starts no reference XML knows "
                    "(&amp; &lt; &gt; &quot; &apos; &#N; &#xN;)");
      }
      if (d)
        k += put_utf8(d + k, cp); /* never longer than the reference */
      i += l;
      continue;
    }
    if (d)
      d[k++] = is_ws(s[i]) ? ' ' : s[i];
    i++;
  }
  if (d) {
    d[k] = '\0';
    *out = d;
  }
  return 0;
}

/* At '<': "<NAME ATTR="V"... >" or ".../>"; `close` is "?>" for the XML
 * declaration. */
static int read_tag(struct parser *p, struct tag *t, const char *close) {
  memset(t, 0, sizeof *t);
  t->pos = p->pos;
  p->pos += close[0] == '?' ? 2 : 1;
  t->name = p->s + p->pos;
  t->nlen = read_name(p);
  if (t->nlen == 0)
    return fail(p, t->pos, "'<' not followed by an element name");
  for (;;) {
    size_t before = p->pos;
    skip_ws(p);
    if (close[0] == '?' ? at(p, "?>") : at(p, ">")) {
      p->pos += strlen(close[0] == '?' ? "?>" : ">");
      return 0;
    }
    if (close[0] != '?' && at(p, "/>")) {
      p->pos += 2;
      t->empty = 1;
      return 0;
    }
    if (p->pos >= p->len)
      return fail(p, t->pos, "<%.*s> is not closed", (int)t->nlen, t->name);
    if (p->pos == before)
      return fail(p, p->pos, "no space before an attribute in <%.*s>",
                  (int)t->nlen, t->name);
    if (t->na == MAX_ATTRS)
      return fail(p, p->pos, "more than %d attributes in <%.*s>", MAX_ATTRS,
                  (int)t->nlen, t->name);
    struct attr *a = &t->a[t->na];
    a->name = p->s + p->pos;
    a->nlen = read_name(p);
    if (a->nlen == 0)
      return fail(p, p->pos, "not an attribute in <%.*s>", (int)t->nlen,
                  t->name);
    for (int k = 0; k < t->na; k++)
      if (t->a[k].nlen == a->nlen && memcmp(t->a[k].name, a->name, a->nlen) == 0)
        return fail(p, p->pos, "attribute %.*s given twice", (int)a->nlen,
                    a->name);
    skip_ws(p);
    if (!at(p, "="))
      return fail(p, p->pos, "attribute %.*s has no '=' and value",
                  (int)a->nlen, a->name);
    p->pos++;
    skip_ws(p);
    char q = p->pos < p->len ? p->s[p->pos] : '\0';
    if (q != '"' && q != '\'')
      return fail(p, p->pos, "the value of %.*s is not quoted", (int)a->nlen,
                  a->name);
    const char *v = p->s + p->pos + 1;
    const char *end = memchr(v, q, p->len - p->pos - 1);
    if (!end)
      return fail(p, p->pos, "the value of %.*s has no closing quote",
                  (int)a->nlen, a->name);
    a->val = v;
    a->vlen = (size_t)(end - v);
    a->pos = p->pos + 1;
    if (text(p, a->val, a->vlen, a->pos, NULL) < 0)
      return -1;
    p->pos = (size_t)(end - p->s) + 1;
    t->na++;
  }
}

static int tag_is(const struct tag *t, const char *name) {
  return t->nlen == strlen(name) && memcmp(t->name, name, t->nlen) == 0;
}

static const struct attr *attr(const struct tag *t, const char *name) {
  for (int k = 0; k < t->na; k++)
    if (t->a[k].nlen == strlen(name) && memcmp(t->a[k].name, name, t->a[k].nlen) == 0)
      return &t->a[k];
  return NULL;
}

/* The decoded value of a required attribute. */
static int need(struct parser *p, const struct tag *t, const char *name,
                char **out) {
  const struct attr *a = attr(t, name);
  if (!a)
    return fail(p, t->pos, "<%.*s> has no %s attribute", (int)t->nlen, t->name,
                name);
  return text(p, a->val, a->vlen, a->pos, out);
}

/* "12", "0.250", "1.5": seconds (digits, then '.' and digits), into ms,
 * rounded half up at the fourth decimal; at most 12 digits before it. */
static int seconds(struct parser *p, const struct attr *a, uint64_t *ms) {
  const char *s = a->val;
  size_t n = a->vlen, i = 0;
  uint64_t whole = 0, frac = 0;
  while (i < n && i < 12 && s[i] >= '0' && s[i] <= '9')
    whole = whole * 10 + (uint64_t)(s[i++] - '0');
  int ok = i > 0, round_up = 0;
  if (ok && i < n && s[i] == '.') {
    size_t k = 0;
    for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, k++) {
      if (k < 3)
        frac = frac * 10 + (uint64_t)(s[i] - '0');
      else if (k == 3)
        round_up = s[i] >= '5';
    }
    ok = k > 0;
    for (; k < 3; k++)
      frac *= 10;
  }
  if (!ok || i != n)
    return fail(p, a->pos, "time: '%.*s' is not a number of seconds "
                "(digits, optionally '.' and digits)", (int)n, s);
  *ms = whole * 1000 + frac + (uint64_t)round_up;
  return 0;
}

static void free_case(struct junit_case *c) {
  free(c->name);
  free(c->classname);
  free(c->body);
}

static void free_suite(struct junit_suite *s) {
  for (size_t i = 0; i < s->ncases; i++)
    free_case(&s->cases[i]);
  free(s->cases);
  free(s->name);
}

void junit_doc_free(struct junit_doc *d) {
  for (size_t i = 0; i < d->nsuites; i++)
    free_suite(&d->suites[i]);
  free(d->suites);
  d->suites = NULL;
  d->nsuites = 0;
}

/* After "</": the end tag of t, NAME and '>'. */
static int end_tag(struct parser *p, const struct tag *t) {
  size_t pos = p->pos;
  p->pos += 2;
  const char *name = p->s + p->pos;
  size_t n = read_name(p);
  skip_ws(p);
  if (n != t->nlen || memcmp(name, t->name, n) != 0 || !at(p, ">"))
    return fail(p, pos, "expected </%.*s> (for line %d)", (int)t->nlen,
                t->name, line_at(p, t->pos));
  p->pos++;
  return 0;
}

/* A <failure>, <error> or <skipped> child of a testcase, t read. */
static int child(struct parser *p, const struct tag *t) {
  if (t->empty)
    return 0;
  size_t start = p->pos;
  const char *lt = memchr(p->s + start, '<', p->len - start);
  if (!lt)
    return fail(p, t->pos, "<%.*s> is not closed", (int)t->nlen, t->name);
  if (text(p, p->s + start, (size_t)(lt - p->s) - start, start, NULL) < 0)
    return -1;
  p->pos = (size_t)(lt - p->s);
  if (!at(p, "</"))
    return fail(p, p->pos, "an element inside <%.*s>, which holds text only",
                (int)t->nlen, t->name);
  return end_tag(p, t);
}

static int read_case(struct parser *p, const struct tag *t,
                     struct junit_case *c) {
  memset(c, 0, sizeof *c);
  c->line = line_at(p, t->pos);
  const struct attr *time = attr(t, "time");
  if (need(p, t, "name", &c->name) < 0)
    return -1;
  const struct attr *cls = attr(t, "classname");
  if (cls && text(p, cls->val, cls->vlen, cls->pos, &c->classname) < 0)
    return -1;
  if (!time)
    return fail(p, t->pos, "<testcase> has no time attribute");
  if (seconds(p, time, &c->time_ms) < 0)
    return -1;
  if (t->empty)
    return 0;
  size_t body_start = 0, body_end = 0;
  for (;;) {
    if (skip_misc(p) < 0)
      return -1;
    if (p->pos >= p->len)
      return fail(p, t->pos, "<testcase> is not closed");
    if (at(p, "</"))
      break;
    if (!at(p, "<"))
      return fail(p, p->pos, "text inside <testcase> (outside <failure>, "
                  "<error>, <skipped>)");
    struct tag ct;
    size_t cpos = p->pos;
    if (read_tag(p, &ct, ">") < 0)
      return -1;
    if (tag_is(&ct, "failure"))
      c->failed = true;
    else if (tag_is(&ct, "error"))
      c->errored = true;
    else if (tag_is(&ct, "skipped"))
      c->skipped = true;
    else
      return fail(p, cpos, "<%.*s> inside <testcase> (this reader knows "
                  "<failure>, <error> and <skipped>)", (int)ct.nlen, ct.name);
    if (child(p, &ct) < 0)
      return -1;
    if (!body_end)
      body_start = cpos;
    body_end = p->pos;
  }
  if (end_tag(p, t) < 0)
    return -1;
  if (body_end && !(c->body = strndup(p->s + body_start, body_end - body_start)))
    return oom(p);
  return 0;
}

static int read_suite(struct parser *p, const struct tag *t,
                      struct junit_suite *s) {
  memset(s, 0, sizeof *s);
  s->line = line_at(p, t->pos);
  if (need(p, t, "name", &s->name) < 0)
    return -1;
  const struct attr *time = attr(t, "time");
  uint64_t suite_ms = 0;
  if (time && seconds(p, time, &suite_ms) < 0)
    return -1;
  size_t cap = 0;
  while (!t->empty) {
    if (skip_misc(p) < 0)
      return -1;
    if (p->pos >= p->len)
      return fail(p, t->pos, "<testsuite> is not closed");
    if (at(p, "</")) {
      if (end_tag(p, t) < 0)
        return -1;
      break;
    }
    if (!at(p, "<"))
      return fail(p, p->pos, "text inside <testsuite>");
    struct tag ct;
    size_t cpos = p->pos;
    if (read_tag(p, &ct, ">") < 0)
      return -1;
    if (!tag_is(&ct, "testcase"))
      return fail(p, cpos, "<%.*s> inside <testsuite> (this reader knows "
                  "<testcase> only)", (int)ct.nlen, ct.name);
    if (s->ncases == cap) {
      size_t ncap = cap ? cap * 2 : 8;
      struct junit_case *nc = realloc(s->cases, ncap * sizeof *nc);
      if (!nc)
        return oom(p);
      s->cases = nc;
      cap = ncap;
    }
    struct junit_case *c = &s->cases[s->ncases];
    if (read_case(p, &ct, c) < 0) {
      free_case(c);
      return -1;
    }
    s->ncases++;
  }
  s->time_ms = time ? suite_ms : junit_suite_cases_ms(s);
  return 0;
}

/* <?xml version="1.0" encoding="UTF-8"?>, the encoding optional. */
static int declaration(struct parser *p) {
  struct tag t;
  if (read_tag(p, &t, "?>") < 0)
    return -1;
  const struct attr *v = attr(&t, "version"), *e = attr(&t, "encoding");
  if (!tag_is(&t, "xml") || !v || v->vlen != 3 || memcmp(v->val, "1.0", 3) != 0)
    return fail(p, t.pos, "the XML declaration is not <?xml version=\"1.0\" ...?>");
  if (e && !(e->vlen == 5 && strncasecmp(e->val, "UTF-8", 5) == 0))
    return fail(p, e->pos, "encoding '%.*s': this reader takes UTF-8 only",
                (int)e->vlen, e->val);
  return 0;
}

static int parse(struct parser *p, struct junit_doc *d) {
  if (check_chars(p) < 0)
    return -1;
  if (at(p, "\xef\xbb\xbf"))
    p->pos += 3;
  if (at(p, "<?xml") && p->pos + 5 < p->len && is_ws(p->s[p->pos + 5]) &&
      declaration(p) < 0)
    return -1;
  if (skip_misc(p) < 0)
    return -1;
  if (p->pos >= p->len)
    return fail(p, p->pos, "no <testsuites> element: the file is empty");
  if (!at(p, "<") || at(p, "<!") || at(p, "<?"))
    return fail(p, p->pos, "expected <testsuites> (no DOCTYPE, processing "
                "instruction or text)");
  struct tag root;
  size_t rpos = p->pos;
  if (read_tag(p, &root, ">") < 0)
    return -1;
  if (!tag_is(&root, "testsuites"))
    return fail(p, rpos, "the root element is <%.*s>, not <testsuites>",
                (int)root.nlen, root.name);
  size_t cap = 0;
  while (!root.empty) {
    if (skip_misc(p) < 0)
      return -1;
    if (p->pos >= p->len)
      return fail(p, rpos, "<testsuites> is not closed");
    if (at(p, "</")) {
      if (end_tag(p, &root) < 0)
        return -1;
      break;
    }
    if (!at(p, "<") || at(p, "<!") || at(p, "<?"))
      return fail(p, p->pos, "expected <testsuite> or </testsuites>");
    struct tag t;
    size_t tpos = p->pos;
    if (read_tag(p, &t, ">") < 0)
      return -1;
    if (!tag_is(&t, "testsuite"))
      return fail(p, tpos, "<%.*s> inside <testsuites> (this reader knows "
                  "<testsuite> only)", (int)t.nlen, t.name);
    if (d->nsuites == cap) {
      size_t ncap = cap ? cap * 2 : 8;
      struct junit_suite *ns = realloc(d->suites, ncap * sizeof *ns);
      if (!ns)
        return oom(p);
      d->suites = ns;
      cap = ncap;
    }
    struct junit_suite *s = &d->suites[d->nsuites];
    if (read_suite(p, &t, s) < 0) {
      free_suite(s);
      return -1;
    }
    d->nsuites++;
  }
  if (skip_misc(p) < 0)
    return -1;
  if (p->pos < p->len)
    return fail(p, p->pos, "something after </testsuites>");
  return 0;
}

int junit_parse(const char *text_, size_t len, struct junit_doc *d, char *msg,
                size_t msgsz) {
  struct parser p = {text_, len, 0, msg, msgsz};
  memset(d, 0, sizeof *d);
  if (parse(&p, d) < 0) {
    junit_doc_free(d);
    return -1;
  }
  return 0;
}

int junit_read(const char *path, struct junit_doc *d, char *msg, size_t msgsz) {
  memset(d, 0, sizeof *d);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    snprintf(msg, msgsz, "cannot read: %s", strerror(errno));
    return -1;
  }
  size_t len = 0;
  int err = 0;
  char *buf = read_all(fd, JUNIT_READ_MAX, &len, &err);
  close(fd);
  if (!buf) {
    if (err == EFBIG)
      snprintf(msg, msgsz, "cannot read: larger than %u MiB", JUNIT_READ_MAX >> 20);
    else
      snprintf(msg, msgsz, "cannot read: %s", strerror(err));
    return -1;
  }
  int rc = junit_parse(buf, len, d, msg, msgsz);
  free(buf);
  return rc;
}

uint64_t junit_suite_cases_ms(const struct junit_suite *s) {
  uint64_t ms = 0;
  for (size_t i = 0; i < s->ncases; i++)
    ms += s->cases[i].time_ms;
  return ms;
}

struct counts {
  size_t tests, failures, errors, skipped;
};

static struct counts count(const struct junit_suite *s) {
  struct counts c = {s->ncases, 0, 0, 0};
  for (size_t i = 0; i < s->ncases; i++) {
    c.failures += s->cases[i].failed;
    c.errors += s->cases[i].errored;
    c.skipped += s->cases[i].skipped;
  }
  return c;
}

static void put_seconds(FILE *out, uint64_t ms) {
  fprintf(out, "%" PRIu64 ".%03u", ms / 1000, (unsigned)(ms % 1000));
}

static void put_counts(FILE *out, struct counts c, uint64_t ms) {
  fprintf(out, " tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\" "
          "time=\"", c.tests, c.failures, c.errors, c.skipped);
  put_seconds(out, ms);
  fputs("\"", out);
}

int junit_write(const char *path, const struct junit_suite *const *suites,
                size_t n) {
  FILE *out = fopen(path, "we");
  if (!out)
    return -1;
  struct counts all = {0, 0, 0, 0};
  uint64_t ms = 0;
  for (size_t k = 0; k < n; k++) {
    struct counts c = count(suites[k]);
    all.tests += c.tests;
    all.failures += c.failures;
    all.errors += c.errors;
    all.skipped += c.skipped;
    ms += suites[k]->time_ms;
  }
  fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", out);
  fputs("<testsuites name=\"treeproof\"", out);
  put_counts(out, all, ms);
  fputs(">\n", out);
  for (size_t k = 0; k < n; k++) {
    const struct junit_suite *s = suites[k];
    fputs("  <testsuite name=\"", out);
    report_put_xml(out, s->name);
    fputs("\"", out);
    put_counts(out, count(s), s->time_ms);
    fputs(">\n", out);
    for (size_t i = 0; i < s->ncases; i++) {
      const struct junit_case *c = &s->cases[i];
      fputs("    <testcase", out);
      if (c->classname) {
        fputs(" classname=\"", out);
        report_put_xml(out, c->classname);
        fputs("\"", out);
      }
      fputs(" name=\"", out);
      report_put_xml(out, c->name);
      fputs("\" time=\"", out);
      put_seconds(out, c->time_ms);
      if (!c->body) {
        fputs("\"/>\n", out);
        continue;
      }
      fprintf(out, "\">\n      %s\n    </testcase>\n", c->body);
    }
    fputs("  </testsuite>\n", out);
  }
  fputs("</testsuites>\n", out);
  int bad = ferror(out);
  if (fclose(out) != 0 || bad) {
    if (!errno)
      errno = EIO;
    return -1;
  }
  return 0;
}
