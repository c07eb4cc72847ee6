/* edn_print.c — the EDN printer: compact, one line (newlines in strings are
 * escaped), such that edn_read gives back an equal value and Clojure's
 * reader reads the same; and a pretty form for people. Output goes to a
 * growable buffer by whole runs (memcpy), never byte-by-byte calls. */
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edn_internal.h"

/* For the few functions whose inlining into the collection loop is the
 * point: without it GCC keeps a call per item. */
#define INLINE static inline __attribute__((always_inline))

/* ---- The buffer ------------------------------------------------------------ */

static int reserve_slow(struct edn_buf *b, size_t n);

/* Room for n more bytes; inline, since it runs for every token printed. */
static inline int reserve(struct edn_buf *b, size_t n) {
  return b->cap - b->len >= n ? 0 : reserve_slow(b, n);
}

static int reserve_slow(struct edn_buf *b, size_t n) {
  size_t cap;
  char *p;
  if (n > SIZE_MAX / 2 - b->len)
    return -1;
  cap = b->cap ? b->cap : 256;
  while (cap - b->len < n)
    cap *= 2;
  if (!(p = realloc(b->ptr, cap)))
    return -1;
  b->ptr = p;
  b->cap = cap;
  return 0;
}

static inline int append(struct edn_buf *out, const char *s, size_t len) {
  if (reserve(out, len + 1)) /* +1: room for a NUL, see edn_to_string */
    return -1;
  edn__copy(out->ptr + out->len, s, len);
  out->len += len;
  return 0;
}

int edn_buf_append(struct edn_buf *out, const char *s, size_t len) {
  if (reserve(out, len + 1))
    return -1;
  if (len)
    memcpy(out->ptr + out->len, s, len);
  out->len += len;
  return 0;
}

static inline int put_char(struct edn_buf *b, char c) {
  if (reserve(b, 2))
    return -1;
  b->ptr[b->len++] = c;
  return 0;
}

void edn_buf_free(struct edn_buf *out) {
  free(out->ptr);
  out->ptr = NULL;
  out->len = out->cap = 0;
}

/* ---- Scalars --------------------------------------------------------------- */

static const char digit_pairs[] = "00010203040506070809101112131415161718192021222324"
                                  "25262728293031323334353637383940414243444546474849"
                                  "50515253545556575859606162636465666768697071727374"
                                  "75767778798081828384858687888990919293949596979899";

/* Two digits per division: half the divisions of one at a time. `lead`
 * (here and below: 0 or 1) puts a space first, within the same reserve. */
INLINE int print_int(struct edn_buf *b, int64_t i, size_t lead) {
  char tmp[24], *e = tmp + sizeof tmp, *p = e;
  uint64_t m = i < 0 ? 0 - (uint64_t)i : (uint64_t)i;
  for (; m >= 100; m /= 100)
    memcpy(p -= 2, digit_pairs + m % 100 * 2, 2);
  if (m >= 10)
    memcpy(p -= 2, digit_pairs + m * 2, 2);
  else
    *--p = (char)('0' + m);
  if (i < 0)
    *--p = '-';
  if (lead)
    *--p = ' ';
  return append(b, p, (size_t)(e - p));
}

static const double pow10_exact[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6};

/* Most doubles in messages are short decimals (0.25, 1500.5): find the
 * fewest fraction digits k ≤ 6 with d = m / 10^k exactly as the reader
 * computes it (m an integer under 10^15, so the text has at most 15
 * significant digits and is then the shortest). Writes the text into out
 * and returns its length, or 0 when d is not such a number. */
static size_t fast_float(double d, char *out) {
  double a = fabs(d);
  char digits[24];
  size_t n = 0, k, len = 0, nd = 0;
  uint64_t m, ip;
  if (!(a >= 1e-3 && a < 1e15))
    return 0;
  for (k = 0; k <= 6; k++) {
    double x = a * pow10_exact[k];
    if (x >= 1e15)
      return 0;
    m = (uint64_t)(x + 0.5); /* a*10^k itself may round off the integer */
    if ((double)m / pow10_exact[k] == a)
      break;
  }
  if (k > 6)
    return 0;
  if (signbit(d))
    out[len++] = '-';
  ip = m;
  for (size_t j = 0; j < k; j++)
    ip /= 10;
  do { /* integer part */
    digits[nd++] = (char)('0' + ip % 10);
    ip /= 10;
  } while (ip);
  while (nd)
    out[len++] = digits[--nd];
  out[len++] = '.';
  if (k == 0) {
    out[len++] = '0';
    return len;
  }
  for (n = 0; n < k; n++, m /= 10) /* fraction, k digits with zeros */
    digits[n] = (char)('0' + m % 10);
  while (n)
    out[len++] = digits[--n];
  return len;
}

/* The shortest %g text that reads back to d (15, 16 or 17 digits; %g drops
 * trailing zeros, and a normal double that some shorter text reads back to
 * prints as that text at 15 digits, so 15 that round-trip are shortest), made
 * unmistakably a double for Clojure: a '.' or an exponent, always. */
static int print_float(struct edn_buf *b, double d) {
  char tmp[40];
  int n = 0;
  if (isnan(d))
    return edn_buf_append(b, "##NaN", 5);
  if (isinf(d))
    return d > 0 ? edn_buf_append(b, "##Inf", 5) : edn_buf_append(b, "##-Inf", 6);
  if ((n = (int)fast_float(d, tmp)) > 0)
    return append(b, tmp, (size_t)n);
  /* Subnormals carry fewer digits: there 15 may not be the shortest. */
  for (int prec = fabs(d) < DBL_MIN ? 1 : 15; prec <= 17; prec++) {
    n = snprintf(tmp, sizeof tmp, "%.*g", prec, d);
    if (strtod(tmp, NULL) == d)
      break;
  }
  if (!strpbrk(tmp, ".e")) {
    memcpy(tmp + n, ".0", 3);
    n += 2;
  }
  return edn_buf_append(b, tmp, (size_t)n);
}

/* Bytes a string cannot hold as they are: '"', '\\' and the controls. */
static const bool escaped[256] = {[0 ... 0x1f] = true, ['"'] = true, ['\\'] = true,
                                  [0x7f] = true};

/* The escape of c, with room left for `rest` more bytes of the string and
 * its closing quote. */
static int print_escape(struct edn_buf *b, unsigned char c, size_t rest) {
  char esc[8];
  const char *e = esc;
  size_t elen = 2;
  switch (c) {
  case '"': e = "\\\""; break;
  case '\\': e = "\\\\"; break;
  case '\n': e = "\\n"; break;
  case '\r': e = "\\r"; break;
  case '\t': e = "\\t"; break;
  case '\b': e = "\\b"; break;
  case '\f': e = "\\f"; break;
  default:
    snprintf(esc, sizeof esc, "\\u%04X", c);
    elen = 6;
  }
  if (reserve(b, elen + rest + 2))
    return -1;
  memcpy(b->ptr + b->len, e, elen);
  b->len += elen;
  return 0;
}

/* Room for the whole string is reserved once (an escape reserves its own):
 * runs of plain bytes are then copied without a check each. */
static int print_string(struct edn_buf *b, const struct edn_text *t, size_t lead) {
  const unsigned char *s = (const unsigned char *)t->ptr;
  size_t i = 0, n = t->len;
  if (n > SIZE_MAX / 2 || reserve(b, n + 3 + lead)) /* quotes and a NUL */
    return -1;
  b->ptr[b->len] = ' ';
  b->len += lead;
  b->ptr[b->len++] = '"';
  while (i < n) {
    size_t run = i;
    if (n - i >= 16) /* short strings: the byte loop alone is faster */
      i = edn__skip_str_printable(s, i, n);
    while (i < n && !escaped[s[i]])
      i++;
    edn__copy(b->ptr + b->len, (const char *)s + run, i - run);
    b->len += i - run;
    if (i == n)
      break;
    if (print_escape(b, s[i], n - i - 1))
      return -1;
    i++;
  }
  b->ptr[b->len++] = '"';
  return 0;
}

static int print_char(struct edn_buf *b, uint32_t c) {
  char tmp[16];
  size_t n = 0;
  const char *name = NULL;
  switch (c) {
  case '\n': name = "\\newline"; break;
  case ' ': name = "\\space"; break;
  case '\t': name = "\\tab"; break;
  case '\r': name = "\\return"; break;
  case '\f': name = "\\formfeed"; break;
  case '\b': name = "\\backspace"; break;
  }
  if (name)
    return edn_buf_append(b, name, strlen(name));
  if (c < 0x20 || c == 0x7f || (c >= 0xd800 && c <= 0xdfff) || c > 0xffff) {
    /* controls as \uXXXX; beyond the BMP Clojure has no char: keep the
     * code point as UTF-8, which our reader takes back */
    if (c <= 0xffff)
      return n = (size_t)snprintf(tmp, sizeof tmp, "\\u%04X", c),
             edn_buf_append(b, tmp, n);
  }
  tmp[n++] = '\\';
  if (c < 0x80) {
    tmp[n++] = (char)c;
  } else if (c < 0x800) {
    tmp[n++] = (char)(0xc0 | c >> 6);
    tmp[n++] = (char)(0x80 | (c & 0x3f));
  } else if (c < 0x10000) {
    tmp[n++] = (char)(0xe0 | c >> 12);
    tmp[n++] = (char)(0x80 | (c >> 6 & 0x3f));
    tmp[n++] = (char)(0x80 | (c & 0x3f));
  } else {
    tmp[n++] = (char)(0xf0 | (c >> 18 & 0x07));
    tmp[n++] = (char)(0x80 | (c >> 12 & 0x3f));
    tmp[n++] = (char)(0x80 | (c >> 6 & 0x3f));
    tmp[n++] = (char)(0x80 | (c & 0x3f));
  }
  return edn_buf_append(b, tmp, n);
}

/* ---- Values ---------------------------------------------------------------- */

static int print_coll(struct edn_buf *b, const edn_value *v);
static int print_other(struct edn_buf *b, const edn_value *v);

INLINE int print_keyword(struct edn_buf *b, const struct edn_text *t, size_t lead) {
  if (reserve(b, t->len + 2 + lead))
    return -1;
  b->ptr[b->len] = ' ';
  b->len += lead;
  b->ptr[b->len++] = ':';
  edn__copy(b->ptr + b->len, t->ptr, t->len);
  b->len += t->len;
  return 0;
}

/* What collections mostly hold is printed inline in their loops, the rest
 * by a call: one call per collection, not one per item. */
INLINE int print_value(struct edn_buf *b, const edn_value *v, size_t lead) {
  switch (v->type) {
  case EDN_KEYWORD: return print_keyword(b, &v->u.text, lead);
  case EDN_STRING: return print_string(b, &v->u.text, lead);
  case EDN_INT: return print_int(b, v->u.integer, lead);
  case EDN_LIST: case EDN_VECTOR: case EDN_SET: case EDN_MAP:
    return (lead && put_char(b, ' ')) || print_coll(b, v);
  default: return (lead && put_char(b, ' ')) || print_other(b, v);
  }
}

/* Items (a map's keys and values alike) separated by one space. */
static int print_coll(struct edn_buf *b, const edn_value *v) {
  const char *open = v->type == EDN_LIST ? "(" : v->type == EDN_VECTOR ? "["
                     : v->type == EDN_SET ? "#{" : "{";
  char close = v->type == EDN_LIST ? ')' : v->type == EDN_VECTOR ? ']' : '}';
  if (append(b, open, open[1] ? 2 : 1))
    return -1;
  if (v->type == EDN_MAP) {
    for (size_t i = 0; i < v->u.map.len; i++)
      if (print_value(b, v->u.map.entries[i].key, i > 0) ||
          print_value(b, v->u.map.entries[i].val, 1))
        return -1;
  } else {
    for (size_t i = 0; i < v->u.seq.len; i++)
      if (print_value(b, v->u.seq.items[i], i > 0))
        return -1;
  }
  return put_char(b, close);
}

static int print_other(struct edn_buf *b, const edn_value *v) {
  switch (v->type) {
  case EDN_NIL: return edn_buf_append(b, "nil", 3);
  case EDN_BOOL:
    return v->u.boolean ? edn_buf_append(b, "true", 4)
                        : edn_buf_append(b, "false", 5);
  case EDN_INT: return print_int(b, v->u.integer, 0);
  case EDN_BIGINT:
    return edn_buf_append(b, v->u.text.ptr, v->u.text.len) || put_char(b, 'N');
  case EDN_FLOAT: return print_float(b, v->u.real);
  case EDN_DECIMAL:
    return edn_buf_append(b, v->u.text.ptr, v->u.text.len) || put_char(b, 'M');
  case EDN_STRING: return print_string(b, &v->u.text, 0);
  case EDN_CHAR: return print_char(b, v->u.ch);
  case EDN_SYMBOL: return append(b, v->u.text.ptr, v->u.text.len);
  case EDN_KEYWORD: return print_keyword(b, &v->u.text, 0);
  case EDN_LIST: case EDN_VECTOR: case EDN_SET: case EDN_MAP: return print_coll(b, v);
  case EDN_TAGGED:
    return put_char(b, '#') ||
           edn_buf_append(b, v->u.tagged.tag.ptr, v->u.tagged.tag.len) ||
           print_value(b, v->u.tagged.value, 1);
  }
  return -1;
}

int edn_print(struct edn_buf *out, const edn_value *v) {
  return print_value(out, v, 0) ? -1 : 0;
}

char *edn_to_string(const edn_value *v) {
  struct edn_buf b = {NULL, 0, 0};
  if (edn_print(&b, v) || reserve(&b, 1)) {
    edn_buf_free(&b);
    return NULL;
  }
  b.ptr[b.len] = '\0';
  return b.ptr;
}

/* ---- Pretty ---------------------------------------------------------------- */

enum { PRETTY_WIDTH = 72 };

static int indent(struct edn_buf *b, size_t col) {
  if (put_char(b, '\n') || reserve(b, col + 1))
    return -1;
  memset(b->ptr + b->len, ' ', col);
  b->len += col;
  return 0;
}

/* Whether v printed compactly takes at most *budget bytes (what is left of
 * the line); spends the budget. Stops as soon as it is spent, so deciding
 * costs about one line's worth of printing, not the whole subtree's. */
static bool fits(const edn_value *v, long *budget) {
  struct edn_buf t = {NULL, 0, 0};
  size_t n;
  switch (v->type) {
  case EDN_LIST: case EDN_VECTOR: case EDN_SET:
    *budget -= v->type == EDN_SET ? 3 : 2;
    for (size_t i = 0; i < v->u.seq.len && *budget >= 0; i++) {
      *budget -= i > 0;
      if (!fits(v->u.seq.items[i], budget))
        return false;
    }
    return *budget >= 0;
  case EDN_MAP:
    *budget -= 2;
    for (size_t i = 0; i < v->u.map.len && *budget >= 0; i++) {
      *budget -= 1 + (i > 0);
      if (!fits(v->u.map.entries[i].key, budget) ||
          !fits(v->u.map.entries[i].val, budget))
        return false;
    }
    return *budget >= 0;
  case EDN_TAGGED:
    *budget -= (long)v->u.tagged.tag.len + 2;
    return *budget >= 0 && fits(v->u.tagged.value, budget);
  case EDN_BIGINT: case EDN_DECIMAL: case EDN_STRING: case EDN_SYMBOL:
  case EDN_KEYWORD:
    if ((long)v->u.text.len > *budget) /* printing only makes it longer */
      return *budget = -1, false;
    break;
  default:
    break;
  }
  if (edn_print(&t, v)) {
    edn_buf_free(&t);
    return *budget = -1, false;
  }
  n = t.len;
  edn_buf_free(&t);
  *budget -= (long)n;
  return *budget >= 0;
}

/* Collections that fit in what is left of the line stay on it; others put
 * one item (one key and its value, for maps) per line, aligned under the
 * first, as Clojure's pprint does. */
static int pretty(struct edn_buf *b, const edn_value *v, size_t col) {
  long budget = (long)PRETTY_WIDTH - (long)col;
  size_t n, open;
  const char *o, *c;
  if (v->type < EDN_LIST || v->type == EDN_TAGGED || fits(v, &budget)) {
    if (v->type != EDN_TAGGED)
      return edn_print(b, v);
    return put_char(b, '#') ||
           edn_buf_append(b, v->u.tagged.tag.ptr, v->u.tagged.tag.len) ||
           put_char(b, ' ') ||
           pretty(b, v->u.tagged.value, col + v->u.tagged.tag.len + 2);
  }
  o = v->type == EDN_LIST ? "(" : v->type == EDN_VECTOR ? "[" :
      v->type == EDN_SET ? "#{" : "{";
  c = v->type == EDN_LIST ? ")" : v->type == EDN_VECTOR ? "]" : "}";
  open = strlen(o);
  if (edn_buf_append(b, o, open))
    return -1;
  n = v->type == EDN_MAP ? v->u.map.len : v->u.seq.len;
  for (size_t i = 0; i < n; i++) {
    if (i && indent(b, col + open))
      return -1;
    if (v->type == EDN_MAP) {
      const edn_value *k = v->u.map.entries[i].key;
      size_t before = b->len;
      if (pretty(b, k, col + open) || put_char(b, ' ') ||
          pretty(b, v->u.map.entries[i].val, col + open + (b->len - before)))
        return -1;
    } else if (pretty(b, v->u.seq.items[i], col + open)) {
      return -1;
    }
  }
  return edn_buf_append(b, c, strlen(c));
}

int edn_print_pretty(struct edn_buf *out, const edn_value *v) {
  return pretty(out, v, 0) ? -1 : 0;
}
