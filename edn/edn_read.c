/* edn_read.c — the EDN reader: one buffer in, one value out.
 *
 * The reader is iterative: an explicit stack of open frames (collections,
 * `#tag`s waiting for their value, `#_` waiting for the value it drops) and
 * one scratch array of finished items. Items of a collection sit on the
 * scratch array until its closing delimiter, then move to the arena in one
 * exactly-sized copy. So nesting costs heap, not C stack, and the depth
 * limit is checked before a frame is pushed. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edn_internal.h"

const unsigned char edn__class[256] = {
    82,   0,   0,   0,   0,   0,   0,   0,   0,   3,   3,   3,   3,   3,   0,   0,
     0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
     3, 168,  82,   8, 168, 168, 168,  40,  66,  66, 168,  40,   3,  40,  40,   8,
    44,  44,  44,  44,  44,  44,  44,  44,  44,  44,   8,  66, 168, 168, 168, 168,
     0, 168, 168, 168, 168, 168, 168, 168, 168, 168, 168, 168, 168, 168, 168, 168,
   168, 168, 168, 168, 168, 168, 168, 168, 168, 168, 168,  66,  82,  66,  66, 168,
     0, 168, 168, 168, 168, 168, 168, 168, 168, 168, 168, 168, 168, 168, 168, 168,
   168, 168, 168, 168, 168, 168, 168, 168, 168, 168, 168,  66,   0,  66,   0,   0,
    24,  24,  24,  24,  24,  24,  24,  24,  24,  24,  24,  24,  24,  24,  24,  24,
    24,  24,  24,  24,  24,  24,  24,  24,  24,  24,  24,  24,  24,  24,  24,  24,
    24,  24,  24,  24,  24,  24,  24,  24,  24,  24,  24,  24,  24,  24,  24,  24,
    24,  24,  24,  24,  24,  24,  24,  24,  24,  24,  24,  24,  24,  24,  24,  24,
    24,  24,  24,  24,  24,  24,  24,  24,  24,  24,  24,  24,  24,  24,  24,  24,
    24,  24,  24,  24,  24,  24,  24,  24,  24,  24,  24,  24,  24,  24,  24,  24,
    24,  24,  24,  24,  24,  24,  24,  24,  24,  24,  24,  24,  24,  24,  24,  24,
    24,  24,  24,  24,  24,  24,  24,  24,  24,  24,  24,  24,  24,  24,  24,  24,
};

enum { DEFAULT_DEPTH = 512, DEFAULT_BYTES = 1 << 20 };
/* The printer, equality and hashing recurse; this keeps them on the stack. */
enum { DEPTH_CAP = 10000 };

size_t edn__max_depth(const struct edn_limits *lim) {
  size_t d = lim && lim->max_depth ? lim->max_depth : DEFAULT_DEPTH;
  return d > DEPTH_CAP ? DEPTH_CAP : d;
}

size_t edn__max_bytes(const struct edn_limits *lim) {
  return lim && lim->max_bytes ? lim->max_bytes : DEFAULT_BYTES;
}

int edn__fail(struct edn_error *err, size_t offset, const char *fmt, ...) {
  va_list ap;
  if (!err)
    return EDN_ERROR;
  err->offset = offset;
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof err->message, fmt, ap);
  va_end(ap);
  return EDN_ERROR;
}

size_t edn_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp) {
  uint32_t c = s[0];
  size_t len, i;
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  if (c >= 0xc2 && c <= 0xdf) {
    len = 2;
    c &= 0x1f;
  } else if (c >= 0xe0 && c <= 0xef) {
    len = 3;
    c &= 0x0f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4;
    c &= 0x07;
  } else {
    return 0;
  }
  if (n < len)
    return 0;
  for (i = 1; i < len; i++) {
    if ((s[i] & 0xc0) != 0x80)
      return 0;
    c = c << 6 | (s[i] & 0x3f);
  }
  if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) || c > 0x10ffff ||
      (c >= 0xd800 && c <= 0xdfff))
    return 0;
  *cp = c;
  return len;
}

/* ---- The parser's state -------------------------------------------------- */

enum { FRAME_DISCARD = 100 }; /* beside the edn_type of collections, TAGGED */
_Static_assert(EDN_LIST < EDN_TAGGED && EDN_VECTOR < EDN_TAGGED && EDN_MAP < EDN_TAGGED &&
               EDN_SET < EDN_TAGGED, "deliver: collections are the frame types below TAGGED");

struct frame {
  int type;         /* EDN_LIST, EDN_VECTOR, EDN_MAP, EDN_SET, EDN_TAGGED,
                       FRAME_DISCARD */
  size_t first;     /* its first item's index in vals */
  size_t off;       /* where it opened (buffer index) */
  const char *tag;  /* EDN_TAGGED: the tag, in the input buffer */
  size_t taglen;
};

struct parser {
  edn_arena *a;
  const unsigned char *s;
  size_t len;        /* may be cut short by the max_bytes limit */
  size_t pos;
  size_t base;       /* offset of s[0] in the caller's stream */
  size_t max_depth;
  bool hit_end;      /* some scan stopped because the input ran out */
  struct edn_error *err;
  struct edn_spans *sp; /* edn_read_spans: where to record, else NULL */
  size_t span_depth; /* record items delivered with at most this many frames
                        open; 0 when not recording (an item has at least
                        one), so the hot path pays one compare */
  struct frame *frames;
  size_t nframes, capframes;
  edn_value **vals;
  size_t nvals, capvals;
  struct frame frames0[16];
  edn_value *vals0[64];
};

static int fail(struct parser *p, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct parser *p, size_t at, const char *fmt, ...) {
  va_list ap;
  if (!p->err)
    return EDN_ERROR;
  p->err->offset = p->base + at;
  va_start(ap, fmt);
  vsnprintf(p->err->message, sizeof p->err->message, fmt, ap);
  va_end(ap);
  return EDN_ERROR;
}

static edn_value *fail_null(struct parser *p, size_t at, const char *what) {
  fail(p, at, "%s", what);
  return NULL;
}

static edn_value *oom(struct parser *p) {
  return fail_null(p, p->pos, "out of memory");
}

static const char *frame_name(int type) {
  switch (type) {
  case EDN_LIST: return "list";
  case EDN_VECTOR: return "vector";
  case EDN_MAP: return "map";
  case EDN_SET: return "set";
  case EDN_TAGGED: return "tagged value";
  default: return "#_ discard";
  }
}

/* A short, printable quote of the input at i (for messages). */
static const char *quote(const struct parser *p, size_t i, size_t n,
                         char *buf, size_t size) {
  size_t k = 0;
  for (; i < p->len && k < n && k + 5 < size; i++) {
    unsigned char c = p->s[i];
    if (c >= 0x20 && c < 0x7f) {
      buf[k++] = (char)c;
    } else {
      k += (size_t)snprintf(buf + k, size - k, "\\x%02x", c);
    }
  }
  buf[k] = '\0';
  return buf;
}

/* ---- Growing the stacks --------------------------------------------------- */

static int stack_grow(void **arr, size_t *cap, size_t size, void *inline0) {
  size_t ncap = *cap * 2;
  void *n;
  if (*arr == inline0) {
    n = malloc(ncap * size);
    if (n)
      memcpy(n, *arr, *cap * size);
  } else {
    n = realloc(*arr, ncap * size);
  }
  if (!n)
    return -1;
  *arr = n;
  *cap = ncap;
  return 0;
}

static int push_val(struct parser *p, edn_value *v) {
  if (p->nvals == p->capvals) {
    void *arr = p->vals;
    if (stack_grow(&arr, &p->capvals, sizeof *p->vals, p->vals0))
      return -1;
    p->vals = arr;
  }
  p->vals[p->nvals++] = v;
  return 0;
}

static inline int push_frame(struct parser *p, int type, size_t off) {
  struct frame *f;
  if (p->nframes >= p->max_depth)
    return fail(p, off, "nesting deeper than %zu", p->max_depth);
  if (p->nframes == p->capframes) {
    void *arr = p->frames;
    if (stack_grow(&arr, &p->capframes, sizeof *p->frames, p->frames0))
      return fail(p, off, "out of memory");
    p->frames = arr;
  }
  f = &p->frames[p->nframes++];
  f->type = type;
  f->first = p->nvals;
  f->off = off;
  f->tag = NULL;
  f->taglen = 0;
  return 0;
}

/* ---- Whitespace and tokens ------------------------------------------------ */

/* Skip whitespace, commas and ; comments; false at the end of the input. */
static inline bool skip_space(struct parser *p) {
  const unsigned char *s = p->s;
  size_t i = p->pos, n = p->len;
  for (;;) {
    while (i < n && (edn__class[s[i]] & EDN_C_WS))
      i++;
    if (i < n && s[i] == ';') {
      while (i < n && s[i] != '\n' && s[i] != '\r')
        i++;
      continue;
    }
    break;
  }
  p->pos = i;
  return i < n;
}

/* End of the token that starts at i (exclusive). */
static size_t token_end(struct parser *p, size_t i) {
  const unsigned char *s = p->s;
  size_t n = p->len;
  while (i < n && !(edn__class[s[i]] & EDN_C_DELIM))
    i++;
  if (i == n)
    p->hit_end = true;
  return i;
}

static bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

static bool is_alpha(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* One half of a symbol (prefix or name): not starting with a digit or with
 * +, - or . followed by a digit; no `::`, no trailing `:` (colons only
 * looked for when the caller saw one). */
static bool symbol_part_ok(const unsigned char *s, size_t n, bool colon) {
  if (n == 0 || is_digit(s[0]) || s[0] == ':' || s[0] == '#' || s[0] == '\'')
    return false;
  if ((s[0] == '+' || s[0] == '-' || s[0] == '.') && n > 1 && is_digit(s[1]))
    return false;
  if (!colon)
    return true;
  if (s[n - 1] == ':')
    return false;
  for (size_t i = 0; i + 1 < n; i++)
    if (s[i] == ':' && s[i + 1] == ':')
      return false;
  return true;
}

/* edn-format's symbol: `/`, `name` or `prefix/name`, symbol characters only
 * (non-ASCII must be well-formed UTF-8). One pass over the bytes. */
static bool symbol_ok(const unsigned char *s, size_t n) {
  size_t slash = n, i = 0;
  bool colon = false;
  uint32_t cp;
  if (n == 1 && s[0] == '/')
    return true;
  while (i < n) {
    unsigned char c = s[i];
    if (c < 0x80) {
      if (!(edn__class[c] & EDN_C_SYM))
        return false;
      if (c == '/') {
        if (slash != n)
          return false;
        slash = i;
      }
      colon |= c == ':';
      i++;
    } else {
      size_t l = edn_utf8_decode(s + i, n - i, &cp);
      if (!l)
        return false;
      i += l;
    }
  }
  if (slash == n)
    return symbol_part_ok(s, n, colon);
  return symbol_part_ok(s, slash, colon) &&
         symbol_part_ok(s + slash + 1, n - slash - 1, colon);
}

/* A value and its text in one allocation: the hot path of the reader. */
static inline edn_value *text_value(struct parser *p, enum edn_type type,
                                    const unsigned char *s, size_t n) {
  edn_value *v = edn__alloc(p->a, sizeof *v + n + 1);
  char *t;
  if (!v)
    return oom(p);
  t = (char *)(v + 1);
  /* A short text in one 8-byte move when 8 bytes of input are there: its
   * room (n + 1 rounded up to 8) holds them, and the branch on the length
   * edn__copy takes mispredicts on names of mixed lengths. */
  if (n < 8 && (size_t)(s - p->s) + 8 <= p->len)
    memcpy(t, s, 8);
  else
    edn__copy(t, (const char *)s, n);
  t[n] = '\0';
  v->type = type;
  v->u.text.ptr = t;
  v->u.text.len = n;
  return v;
}

/* ---- Numbers -------------------------------------------------------------- */

static const double pow10_exact[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,
                                     1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                     1e12, 1e13, 1e14, 1e15, 1e16, 1e17,
                                     1e18, 1e19, 1e20, 1e21, 1e22};

/* [+-]digits.digits with at most 15 digits in all: the digits as an integer
 * and 10^k are both exact doubles, and IEEE division rounds correctly, so
 * m / 10^k is what strtod would give, without strtod. */
static bool fast_float(const unsigned char *s, size_t n, double *out) {
  size_t i = 0, digits = 0, frac = 0;
  bool neg = false, point = false;
  uint64_t m = 0;
  if (s[0] == '-' || s[0] == '+')
    neg = s[i++] == '-';
  for (; i < n; i++) {
    if (is_digit(s[i])) {
      m = m * 10 + (uint64_t)(s[i] - '0');
      digits++;
      frac += point;
    } else if (s[i] == '.' && !point) {
      point = true;
    } else {
      return false;
    }
  }
  if (digits == 0 || digits > 15)
    return false;
  *out = (double)m / pow10_exact[frac];
  if (neg)
    *out = -*out;
  return true;
}

static edn_value *read_float(struct parser *p, size_t start, size_t end) {
  char small[64], *buf = small;
  size_t n = end - start;
  edn_value *v = edn__alloc(p->a, sizeof *v);
  if (!v)
    return oom(p);
  v->type = EDN_FLOAT;
  if (fast_float(p->s + start, n, &v->u.real))
    return v;
  if (n >= sizeof small && !(buf = malloc(n + 1)))
    return oom(p);
  memcpy(buf, p->s + start, n);
  buf[n] = '\0';
  v->type = EDN_FLOAT;
  v->u.real = strtod(buf, NULL); /* overflow gives ±HUGE_VAL, as Java's ±Inf */
  if (buf != small)
    free(buf);
  return v;
}

/* Canonical digits of an integer: no '+', no leading zeros, no "-0". */
static edn_value *bigint_value(struct parser *p, bool neg, size_t ds,
                               size_t de) {
  const unsigned char *s = p->s;
  edn_value *v = edn__alloc(p->a, sizeof *v);
  char *t;
  size_t k = 0;
  while (de - ds > 1 && s[ds] == '0')
    ds++;
  if (de - ds == 1 && s[ds] == '0')
    neg = false;
  t = edn__alloc(p->a, de - ds + 2);
  if (!v || !t)
    return oom(p);
  if (neg)
    t[k++] = '-';
  memcpy(t + k, s + ds, de - ds);
  k += de - ds;
  t[k] = '\0';
  v->type = EDN_BIGINT;
  v->u.text.ptr = t;
  v->u.text.len = k;
  return v;
}

static edn_value *bad_number(struct parser *p, size_t start, size_t end) {
  char q[48];
  fail(p, start, "invalid number %s", quote(p, start, end - start, q, sizeof q));
  return NULL;
}

/* [+-]digits then N, or M, or a fraction and/or exponent (then maybe M).
 * Leading zeros are refused, as edn-format says. */
static edn_value *read_number(struct parser *p, size_t start, size_t end) {
  const unsigned char *s = p->s;
  size_t i = start, ds, de;
  bool neg = false;
  uint64_t m = 0;
  edn_value *v;
  if (s[i] == '+' || s[i] == '-')
    neg = s[i++] == '-';
  ds = i;
  while (i < end && is_digit(s[i]))
    m = m * 10 + (s[i++] - '0'); /* wraps past 19 digits; checked below */
  de = i;
  if (de - ds > 1 && s[ds] == '0')
    return bad_number(p, start, end);
  if (i == end) {
    bool fits = de - ds < 19 ||
                (de - ds == 19 &&
                 memcmp(s + ds, neg ? "9223372036854775808"
                                    : "9223372036854775807", 19) <= 0);
    if (!fits)
      return bigint_value(p, neg, ds, de);
    if (!(v = edn__alloc(p->a, sizeof *v)))
      return oom(p);
    v->type = EDN_INT;
    v->u.integer = neg ? (int64_t)(0 - m) : (int64_t)m;
    return v;
  }
  if (s[i] == 'N' && i + 1 == end)
    return bigint_value(p, neg, ds, de);
  if (s[i] == '.') {
    i++;
    while (i < end && is_digit(s[i]))
      i++;
  }
  size_t exp_digits = 0; /* significant ones */
  if (i < end && (s[i] == 'e' || s[i] == 'E')) {
    size_t es;
    i++;
    if (i < end && (s[i] == '+' || s[i] == '-'))
      i++;
    es = i;
    for (; i < end && is_digit(s[i]); i++)
      if (exp_digits || s[i] != '0')
        exp_digits++;
    if (i == es)
      return bad_number(p, start, end);
  }
  /* A decimal's exponent must fit Java's BigDecimal scale, as Clojure
   * requires ("Too many nonzero exponent digits"): at most 9 digits here. */
  if (i + 1 == end && s[i] == 'M' && exp_digits > 9) {
    char q[48];
    fail(p, start, "decimal exponent out of range in %s",
         quote(p, start, end - start, q, sizeof q));
    return NULL;
  }
  if (i + 1 == end && s[i] == 'M')
    return text_value(p, EDN_DECIMAL, s + start + (s[start] == '+'),
                      i - start - (s[start] == '+'));
  if (i != end)
    return bad_number(p, start, end);
  return read_float(p, start, end);
}

/* ---- Scalars -------------------------------------------------------------- */

/* The digits that begin the 8 bytes at s: how many (0 to 8), and their
 * value in *m. Without a branch per digit: an id's or a count's length
 * varies from line to line, and a byte loop mispredicts its end at nearly
 * every number. */
static inline size_t digits8(const unsigned char *s, uint64_t *m) {
  uint64_t x = edn__load8(s) ^ 0x3030303030303030ULL; /* a digit's value */
  /* high bit of each byte that is not a digit: x >= 10 */
  uint64_t other = (((x & 0x7f7f7f7f7f7f7f7fULL) + 0x7676767676767676ULL) | x) &
                   EDN__HIGHS;
  size_t k = other ? (size_t)__builtin_ctzll(other) >> 3 : 8;
  uint64_t d = k ? x << (64 - 8 * k) : 0; /* the k digits last, zeros before */
  d = d * 10 + (d >> 8);                   /* pairs of digits, every other byte */
  d = (((d & 0x000000ff000000ffULL) * (100 + (1000000ULL << 32))) +
       (((d >> 16) & 0x000000ff000000ffULL) * (1 + (10000ULL << 32)))) >> 32;
  *m = d;
  return k;
}

/* The digits from i when they end before i + 16 and 16 bytes are there:
 * their count and (in *m) their value, else 0 with *m untouched — the
 * byte loop's case. */
static inline size_t digits16(const unsigned char *s, size_t i, size_t n,
                              uint64_t *m) {
  static const uint64_t pow10[8] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000};
  uint64_t hi, lo;
  size_t k, k2;
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
  return 0; /* digits8 takes the first byte to be the word's lowest */
#endif
  if (n - i < 16)
    return 0;
  k = digits8(s + i, &hi);
  if (k < 8) {
    *m = hi;
    return k;
  }
  k2 = digits8(s + i + 8, &lo);
  if (k2 == 8)
    return 0;
  *m = hi * pow10[k2] + lo;
  return 8 + k2;
}

/* The common number: up to 18 digits, no sign, no leading zero, then a
 * delimiter. Read in one pass (read_number scans the token again); NULL
 * for anything else, which the careful path then takes. */
static inline edn_value *small_int(struct parser *p, size_t i) {
  const unsigned char *s = p->s;
  size_t start = i, n = p->len, lim = n - i > 18 ? i + 18 : n;
  uint64_t m = 0;
  edn_value *v;
  size_t k = digits16(s, i, n, &m);
  if (k)
    i += k;
  else
    while (i < lim && is_digit(s[i]))
      m = m * 10 + (s[i++] - '0');
  if ((i < n && !(edn__class[s[i]] & EDN_C_DELIM)) || (s[start] == '0' && i - start > 1))
    return NULL;
  if (!(v = edn__alloc(p->a, sizeof *v)))
    return NULL; /* the careful path says so */
  if (i == n)
    p->hit_end = true;
  p->pos = i;
  v->type = EDN_INT;
  v->u.integer = (int64_t)m;
  return v;
}

/* A symbol, nil, true, false or a number: whatever token starts at pos. */
static edn_value *read_token(struct parser *p) {
  size_t start = p->pos, end;
  edn_value *v;
  if (is_digit(p->s[start]) && (v = small_int(p, start)))
    return v;
  end = token_end(p, start);
  const unsigned char *s = p->s + start;
  size_t n = end - start;
  char q[48];
  p->pos = end;
  if (is_digit(s[0]) || ((s[0] == '+' || s[0] == '-') && n > 1 && is_digit(s[1])))
    return read_number(p, start, end);
  if (n == 3 && memcmp(s, "nil", 3) == 0) {
    if ((v = edn__alloc(p->a, sizeof *v)))
      v->type = EDN_NIL;
    return v ? v : oom(p);
  }
  if ((n == 4 && memcmp(s, "true", 4) == 0) ||
      (n == 5 && memcmp(s, "false", 5) == 0)) {
    if (!(v = edn__alloc(p->a, sizeof *v)))
      return oom(p);
    v->type = EDN_BOOL;
    v->u.boolean = n == 4;
    return v;
  }
  if (!symbol_ok(s, n)) {
    fail(p, start, "invalid symbol %s", quote(p, start, n, q, sizeof q));
    return NULL;
  }
  return text_value(p, EDN_SYMBOL, s, n);
}

/* The common symbol or keyword: plain ASCII up to a delimiter, no '/' or
 * ':'. Returns the end of the token when it is one and valid, else 0 (then
 * the careful path decides). */
static size_t plain_name(struct parser *p, size_t i) {
  const unsigned char *s = p->s;
  size_t start = i, n = p->len;
  i = edn__skip_name_fast(s, i, n);
  while (i < n && (edn__class[s[i]] & EDN_C_PLAIN))
    i++;
  if ((i < n && !(edn__class[s[i]] & EDN_C_DELIM)) || i == start)
    return 0;
  if (!(edn__class[s[start]] & EDN_C_HEAD) &&
      (is_digit(s[start]) || s[start] == '\'' ||
       (i - start > 1 && is_digit(s[start + 1])))) /* +1 -.5 */
    return 0;
  if (i == n)
    p->hit_end = true;
  return i;
}

static edn_value *read_keyword(struct parser *p) {
  size_t start = p->pos, end = plain_name(p, start + 1);
  if (end) {
    p->pos = end;
    return text_value(p, EDN_KEYWORD, p->s + start + 1, end - start - 1);
  }
  end = token_end(p, start + 1);
  const unsigned char *s = p->s + start + 1;
  size_t n = end - start - 1;
  char q[48];
  p->pos = end;
  if (n == 0 || s[0] == '/' || !symbol_ok(s, n)) {
    fail(p, start, "invalid keyword %s",
         quote(p, start, end - start, q, sizeof q));
    return NULL;
  }
  return text_value(p, EDN_KEYWORD, s, n);
}

static int hex_digit(unsigned char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Exactly four hex digits at s, or -1. */
static long hex4(const unsigned char *s) {
  long v = 0;
  for (int i = 0; i < 4; i++) {
    int d = hex_digit(s[i]);
    if (d < 0)
      return -1;
    v = v * 16 + d;
  }
  return v;
}

static const struct {
  const char *name;
  uint32_t ch;
} char_names[] = {{"newline", '\n'}, {"space", ' '},     {"tab", '\t'},
                  {"return", '\r'},  {"formfeed", '\f'}, {"backspace", '\b'}};

/* \c, \newline ... \uXXXX, \oNNN: the first character after the backslash
 * is taken whatever it is ( \( is a character), then the token goes on. */
static edn_value *read_char(struct parser *p) {
  size_t start = p->pos, i = start + 1, end, l;
  const unsigned char *s = p->s;
  uint32_t cp = 0;
  edn_value *v;
  char q[48];
  if (i >= p->len) {
    p->hit_end = true;
    return fail_null(p, start, "backslash at end of input");
  }
  if ((edn__class[s[i]] & EDN_C_WS && s[i] != ',') || s[i] == 0) /* \, is ',' */
    return fail_null(p, start, "backslash followed by whitespace or NUL");
  if (!(l = edn_utf8_decode(s + i, p->len - i, &cp)))
    return fail_null(p, i, "invalid UTF-8 in character");
  end = token_end(p, i + l);
  p->pos = end;
  if (end - i > l) {
    const unsigned char *t = s + i;
    size_t n = end - i;
    long c = -1;
    for (size_t k = 0; k < sizeof char_names / sizeof char_names[0]; k++)
      if (strlen(char_names[k].name) == n && memcmp(char_names[k].name, t, n) == 0)
        c = char_names[k].ch;
    if (c < 0 && t[0] == 'u' && n == 5) {
      c = hex4(t + 1);
      if (c >= 0xd800 && c <= 0xdfff)
        return fail_null(p, start, "invalid character: a lone UTF-16 surrogate");
    } else if (c < 0 && t[0] == 'o' && n >= 2 && n <= 4) {
      c = 0;
      for (size_t k = 1; k < n && c >= 0; k++)
        c = t[k] >= '0' && t[k] <= '7' ? c * 8 + (t[k] - '0') : -1;
      if (c > 0377)
        return fail_null(p, start, "octal character out of range 0-377");
    }
    if (c < 0) {
      fail(p, start, "unsupported character %s",
           quote(p, start, end - start, q, sizeof q));
      return NULL;
    }
    cp = (uint32_t)c;
  }
  if (!(v = edn__alloc(p->a, sizeof *v)))
    return oom(p);
  v->type = EDN_CHAR;
  v->u.ch = cp;
  return v;
}

static size_t put_utf8(char *o, uint32_t c) {
  if (c < 0x80) {
    o[0] = (char)c;
    return 1;
  }
  if (c < 0x800) {
    o[0] = (char)(0xc0 | c >> 6);
    o[1] = (char)(0x80 | (c & 0x3f));
    return 2;
  }
  if (c < 0x10000) {
    o[0] = (char)(0xe0 | c >> 12);
    o[1] = (char)(0x80 | (c >> 6 & 0x3f));
    o[2] = (char)(0x80 | (c & 0x3f));
    return 3;
  }
  o[0] = (char)(0xf0 | c >> 18);
  o[1] = (char)(0x80 | (c >> 12 & 0x3f));
  o[2] = (char)(0x80 | (c >> 6 & 0x3f));
  o[3] = (char)(0x80 | (c & 0x3f));
  return 4;
}

/* \uXXXX at s[i] (i at the 'u'), a surrogate pair taken whole; the code
 * point in *cp and the bytes consumed after the backslash, or 0. */
static size_t string_unicode(struct parser *p, size_t i, size_t end,
                             uint32_t *cp) {
  const unsigned char *s = p->s;
  long hi, lo;
  if (end - i < 5 || (hi = hex4(s + i + 1)) < 0) {
    fail(p, i - 1, "bad \\u escape in string: four hex digits expected");
    return 0;
  }
  if (hi >= 0xdc00 && hi <= 0xdfff) {
    fail(p, i - 1, "lone low surrogate \\u%04lX in string", hi);
    return 0;
  }
  if (hi < 0xd800 || hi > 0xdbff) {
    *cp = (uint32_t)hi;
    return 5;
  }
  if (end - i < 11 || s[i + 5] != '\\' || s[i + 6] != 'u' ||
      (lo = hex4(s + i + 7)) < 0xdc00 || lo > 0xdfff) {
    fail(p, i - 1, "high surrogate \\u%04lX not followed by a low one", hi);
    return 0;
  }
  *cp = 0x10000 + (((uint32_t)hi - 0xd800) << 10) + ((uint32_t)lo - 0xdc00);
  return 11;
}

/* Decode the escapes of s[start..end) (between the quotes) into o. */
static size_t string_decode(struct parser *p, size_t start, size_t end,
                            char *o) {
  const unsigned char *s = p->s;
  size_t k = 0, i = start;
  while (i < end) {
    size_t run = i;
    uint32_t cp = 0;
    while (i < end && s[i] != '\\')
      i++;
    memcpy(o + k, s + run, i - run);
    k += i - run;
    if (i == end)
      break;
    i++; /* the backslash */
    switch (s[i]) {
    case 't': o[k++] = '\t'; i++; break;
    case 'r': o[k++] = '\r'; i++; break;
    case 'n': o[k++] = '\n'; i++; break;
    case 'b': o[k++] = '\b'; i++; break;
    case 'f': o[k++] = '\f'; i++; break;
    case '\\': o[k++] = '\\'; i++; break;
    case '"': o[k++] = '"'; i++; break;
    case 'u': {
      size_t used = string_unicode(p, i, end, &cp);
      if (!used)
        return (size_t)-1;
      k += put_utf8(o + k, cp);
      i += used;
      break;
    }
    default: {
      char q[16];
      fail(p, i - 1, "bad escape %s in string", quote(p, i - 1, 2, q, sizeof q));
      return (size_t)-1;
    }
    }
  }
  return k;
}

static edn_value *read_string(struct parser *p) {
  const unsigned char *s = p->s;
  size_t start = p->pos + 1, i = start, n = p->len;
  bool escaped = false;
  uint32_t cp;
  edn_value *v;
  char *t;
  for (;;) {
    i = edn__skip_str_plain(s, i, n);
    while (i < n && !(edn__class[s[i]] & EDN_C_STR))
      i++;
    if (i >= n) {
      p->hit_end = true;
      return fail_null(p, start - 1, "unterminated string");
    }
    if (s[i] == '"')
      break;
    if (s[i] == '\\') {
      escaped = true;
      i += 2;
    } else if (s[i] == 0) {
      return fail_null(p, i, "NUL byte in string");
    } else {
      size_t l = edn_utf8_decode(s + i, n - i, &cp);
      if (!l)
        return fail_null(p, i, "invalid UTF-8 in string");
      i += l;
    }
  }
  p->pos = i + 1;
  if (!escaped)
    return text_value(p, EDN_STRING, s + start, i - start);
  v = edn__alloc(p->a, sizeof *v);
  t = edn__alloc(p->a, i - start + 1); /* decoding never grows the text */
  if (!v || !t)
    return oom(p);
  v->type = EDN_STRING;
  v->u.text.ptr = t;
  v->u.text.len = string_decode(p, start, i, t);
  if (v->u.text.len == (size_t)-1)
    return NULL;
  t[v->u.text.len] = '\0';
  return v;
}

/* ##Inf ##-Inf ##NaN */
static edn_value *read_symbolic(struct parser *p) {
  size_t start = p->pos, end = token_end(p, start + 2);
  const unsigned char *s = p->s + start + 2;
  size_t n = end - start - 2;
  edn_value *v;
  char q[48];
  p->pos = end;
  if (!(v = edn__alloc(p->a, sizeof *v)))
    return oom(p);
  v->type = EDN_FLOAT;
  if (n == 3 && memcmp(s, "Inf", 3) == 0)
    v->u.real = INFINITY;
  else if (n == 4 && memcmp(s, "-Inf", 4) == 0)
    v->u.real = -INFINITY;
  else if (n == 3 && memcmp(s, "NaN", 3) == 0)
    v->u.real = NAN;
  else {
    fail(p, start, "unknown symbolic value %s",
         quote(p, start, end - start, q, sizeof q));
    return NULL;
  }
  return v;
}

/* ---- Collections ---------------------------------------------------------- */

/* A cheap look that settles most pairs of keys without edn_equal: types
 * that never compare equal, texts of different lengths, different ints. */
static bool surely_differ(const edn_value *x, const edn_value *y) {
  if (x->type != y->type)
    return x->type != EDN_INT && x->type != EDN_BIGINT && x->type != EDN_LIST &&
           x->type != EDN_VECTOR;
  switch (x->type) {
  case EDN_INT: return x->u.integer != y->u.integer;
  case EDN_STRING: case EDN_SYMBOL: case EDN_KEYWORD:
    return x->u.text.len != y->u.text.len ||
           x->u.text.ptr[x->u.text.len - (x->u.text.len > 0)] !=
               y->u.text.ptr[y->u.text.len - (y->u.text.len > 0)];
  default: return false;
  }
}

/* One of 64 bits for a text key, by its length and last byte (one load
 * less than the first byte too: a collision costs only a comparison), the
 * same for equal keys; 64 for the types that may equal another type or
 * whose equality is not their text. */
static inline unsigned key_bit(const edn_value *v) {
  const unsigned char *t = (const unsigned char *)v->u.text.ptr;
  size_t n = v->u.text.len;
  if (v->type != EDN_KEYWORD && v->type != EDN_STRING && v->type != EDN_SYMBOL)
    return 64;
  /* NUL-terminated: t[0] is there when n is 0 */
  uint32_t x = (uint32_t)t[n - (n > 0)] | (uint32_t)n << 8;
  return (x * 0x9e3779b1u) >> 26;
}

/* Every pair, edn_equal only where a cheap look cannot tell. */
static size_t find_dup_pairs(edn_value **items, size_t count, size_t stride) {
  for (size_t i = 1; i < count; i++)
    for (size_t j = 0; j < i; j++)
      if (!surely_differ(items[i * stride], items[j * stride]) &&
          edn_equal(items[i * stride], items[j * stride]))
        return i * stride;
  return (size_t)-1;
}

/* A few keys: each falls on one of 64 bits, and only keys on the same bit
 * can be equal (a request's maps, all keywords, mostly need no comparison
 * at all); other keys than texts: every pair. */
static inline size_t find_dup_small(edn_value **items, size_t count, size_t stride) {
  uint64_t seen = 0;
  unsigned char bit[8];
  for (size_t i = 0; i < count; i++) {
    edn_value *k = items[i * stride];
    if ((bit[i] = (unsigned char)key_bit(k)) == 64)
      return find_dup_pairs(items, count, stride);
    if (seen >> bit[i] & 1)
      for (size_t j = 0; j < i; j++)
        if (bit[j] == bit[i] && edn_equal(k, items[j * stride]))
          return i * stride;
    seen |= 1ULL << bit[i];
  }
  return (size_t)-1;
}

/* More keys: a table of their hashes (*oom_out when it cannot be had). */
static size_t find_dup_big(edn_value **items, size_t count, size_t stride,
                           bool *oom_out) {
  size_t cap = 16, *slots, mask, dup = (size_t)-1;
  while (cap < count * 2)
    cap *= 2;
  if (!(slots = calloc(cap, sizeof *slots))) {
    *oom_out = true;
    return dup;
  }
  mask = cap - 1;
  for (size_t i = 0; i < count && dup == (size_t)-1; i++) {
    edn_value *k = items[i * stride];
    size_t h = (size_t)edn_hash(k) & mask;
    for (; slots[h]; h = (h + 1) & mask)
      if (edn_equal(items[(slots[h] - 1) * stride], k)) {
        dup = i * stride;
        break;
      }
    slots[h] = i + 1;
  }
  free(slots);
  return dup;
}

/* Index of the first element (stride 1) or key (stride 2) among items that
 * equals an earlier one, or (size_t)-1. Hashing for all but small ones;
 * the small case inline in the reader's loop, as a request's maps are. */
static inline size_t find_dup(edn_value **items, size_t n, size_t stride,
                              bool *oom_out) {
  size_t count = stride == 2 ? n / 2 : n; /* not a division: stride is 1 or 2 */
  *oom_out = false;
  if (count <= 8)
    return find_dup_small(items, count, stride);
  return find_dup_big(items, count, stride, oom_out);
}

static edn_value *dup_error(struct parser *p, struct frame *f, edn_value *k) {
  char *text = edn_to_string(k);
  fail(p, f->off, "duplicate %s %.60s%s in %s", f->type == EDN_MAP ? "key" : "element",
       text ? text : "?", text && strlen(text) > 60 ? "..." : "",
       frame_name(f->type));
  free(text);
  return NULL;
}

/* The frame on top is closed by the delimiter at pos: build its value;
 * *at is set to where it opened. */
static edn_value *close_frame(struct parser *p, size_t *at) {
  unsigned char c = p->s[p->pos];
  struct frame *f;
  edn_value *v, **items;
  size_t n, d;
  bool nomem;
  char want;
  if (p->nframes == 0)
    return fail(p, p->pos, "unmatched delimiter '%c'", c), NULL;
  f = &p->frames[p->nframes - 1];
  *at = f->off;
  if (f->type == EDN_TAGGED || f->type == FRAME_DISCARD)
    return fail(p, p->pos, "'%c' where the value of a %s (at offset %zu) should be",
                c, frame_name(f->type), p->base + f->off), NULL;
  want = f->type == EDN_LIST ? ')' : f->type == EDN_VECTOR ? ']' : '}';
  if (c != want)
    return fail(p, p->pos, "unmatched delimiter '%c': the %s opened at offset %zu "
                "needs '%c'", c, frame_name(f->type), p->base + f->off, want), NULL;
  n = p->nvals - f->first;
  items = p->vals + f->first;
  if (!(v = edn__alloc(p->a, sizeof *v)))
    return oom(p);
  v->type = (enum edn_type)f->type;
  if (f->type == EDN_MAP) {
    if (n % 2)
      return fail(p, f->off, "map literal needs an even number of forms, "
                  "this one has %zu", n), NULL;
    d = find_dup(items, n, 2, &nomem);
    if (nomem)
      return oom(p);
    if (d != (size_t)-1)
      return dup_error(p, f, items[d]);
    v->u.map.len = v->u.map.cap = n / 2;
    v->u.map.entries = NULL;
    if (n && !(v->u.map.entries = edn__alloc(p->a, n * sizeof *items)))
      return oom(p);
    if (n)
      memcpy(v->u.map.entries, items, n * sizeof *items); /* key, val pairs */
  } else {
    if (f->type == EDN_SET) {
      d = find_dup(items, n, 1, &nomem);
      if (nomem)
        return oom(p);
      if (d != (size_t)-1)
        return dup_error(p, f, items[d]);
    }
    v->u.seq.len = v->u.seq.cap = n;
    v->u.seq.items = NULL;
    if (n && !(v->u.seq.items = edn__alloc(p->a, n * sizeof *items)))
      return oom(p);
    if (n)
      memcpy(v->u.seq.items, items, n * sizeof *items);
  }
  p->nvals = f->first;
  p->nframes--;
  p->pos++;
  return v;
}

/* ---- Tags ----------------------------------------------------------------- */

static bool leap(long y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static long num(const char *s, size_t n) {
  long v = 0;
  for (size_t i = 0; i < n; i++) {
    if (!is_digit((unsigned char)s[i]))
      return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

/* RFC 3339 as Clojure's #inst reader takes it: yyyy[-mm[-dd[Thh[:mm[:ss[.f+]]]]]]
 * then Z or ±hh:mm or nothing, with the fields in range. */
static bool inst_ok(const char *s, size_t n) {
  static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  long y, mo = 1, d = 1, h = 0, mi = 0, sec = 0;
  size_t i = 4;
  if (n < 4 || (y = num(s, 4)) < 0)
    return false;
  if (i < n && s[i] == '-') {
    if (n < i + 3 || (mo = num(s + i + 1, 2)) < 1 || mo > 12)
      return false;
    i += 3;
    if (i < n && s[i] == '-') {
      if (n < i + 3 || (d = num(s + i + 1, 2)) < 1 ||
          d > mdays[mo - 1] + (mo == 2 && leap(y)))
        return false;
      i += 3;
      if (i < n && s[i] == 'T') {
        if (n < i + 3 || (h = num(s + i + 1, 2)) < 0 || h > 23)
          return false;
        i += 3;
        if (i < n && s[i] == ':') {
          if (n < i + 3 || (mi = num(s + i + 1, 2)) < 0 || mi > 59)
            return false;
          i += 3;
          if (i < n && s[i] == ':') {
            if (n < i + 3 || (sec = num(s + i + 1, 2)) < 0 ||
                sec > (mi == 59 ? 60 : 59))
              return false;
            i += 3;
            if (i < n && s[i] == '.') {
              size_t fs = ++i;
              while (i < n && is_digit((unsigned char)s[i]))
                i++;
              if (i == fs)
                return false;
            }
          }
        }
      }
    }
  }
  if (i == n)
    return true;
  if (s[i] == 'Z')
    return i + 1 == n;
  if ((s[i] == '+' || s[i] == '-') && n == i + 6 && s[i + 3] == ':') {
    long oh = num(s + i + 1, 2), om = num(s + i + 4, 2);
    return oh >= 0 && oh <= 23 && om >= 0 && om <= 59;
  }
  return false;
}

/* 8-4-4-4-12 hex digits. */
static bool uuid_ok(const char *s, size_t n) {
  if (n != 36)
    return false;
  for (size_t i = 0; i < n; i++) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : hex_digit((unsigned char)s[i]) < 0)
      return false;
  }
  return true;
}

static edn_value *make_tagged(struct parser *p, struct frame *f, edn_value *val) {
  edn_value *v;
  bool inst = f->taglen == 4 && memcmp(f->tag, "inst", 4) == 0;
  bool uuid = f->taglen == 4 && memcmp(f->tag, "uuid", 4) == 0;
  if (inst && (val->type != EDN_STRING || !inst_ok(val->u.text.ptr, val->u.text.len)))
    return fail_null(p, f->off, "#inst needs an RFC 3339 timestamp string");
  if (uuid && (val->type != EDN_STRING || !uuid_ok(val->u.text.ptr, val->u.text.len)))
    return fail_null(p, f->off, "#uuid needs a string of 8-4-4-4-12 hex digits");
  if (!(v = edn__alloc(p->a, sizeof *v)) ||
      !(v->u.tagged.tag.ptr = edn__text(p->a, f->tag, f->taglen)))
    return oom(p);
  v->type = EDN_TAGGED;
  v->u.tagged.tag.len = f->taglen;
  v->u.tagged.value = val;
  return v;
}

/* At '#': a set, a discard, a symbolic value, or a tag. Returns a value for
 * ##…, NULL with *pushed set for a frame, NULL alone for an error. */
static edn_value *read_dispatch(struct parser *p, bool *pushed) {
  size_t start = p->pos, end;
  const unsigned char *s = p->s;
  char q[48];
  *pushed = false;
  if (start + 1 >= p->len) {
    p->hit_end = true;
    return fail_null(p, start, "'#' at end of input");
  }
  switch (s[start + 1]) {
  case '{':
    if (push_frame(p, EDN_SET, start))
      return NULL;
    p->pos += 2;
    *pushed = true;
    return NULL;
  case '_':
    if (push_frame(p, FRAME_DISCARD, start))
      return NULL;
    p->pos += 2;
    *pushed = true;
    return NULL;
  case '#':
    return read_symbolic(p);
  }
  if (!is_alpha(s[start + 1])) {
    fail(p, start, "invalid dispatch %s (not EDN)", quote(p, start, 2, q, sizeof q));
    return NULL;
  }
  end = token_end(p, start + 1);
  if (!symbol_ok(s + start + 1, end - start - 1)) {
    fail(p, start, "invalid tag %s", quote(p, start, end - start, q, sizeof q));
    return NULL;
  }
  if (push_frame(p, EDN_TAGGED, start))
    return NULL;
  p->frames[p->nframes - 1].tag = (const char *)s + start + 1;
  p->frames[p->nframes - 1].taglen = end - start - 1;
  p->pos = end;
  *pushed = true;
  return NULL;
}

/* ---- Spans (edn_read_spans) --------------------------------------------- */

/* The table is full: a new one twice the size, in the arena (each read
 * starts a new one): old copies stay there until the arena is reset, a
 * few words for the handful of keys a request has. 0, or -1 out of memory. */
static int span_grow(struct parser *p) {
  struct edn_spans *sp = p->sp;
  size_t cap = sp->cap ? sp->cap * 2 : 16;
  struct edn_span *n = edn__alloc(p->a, cap * sizeof *n);
  if (!n)
    return -1;
  if (sp->len)
    memcpy(n, sp->at, sp->len * sizeof *n);
  sp->at = n;
  sp->cap = cap;
  return 0;
}

/* Note that v spans [at, pos) of the input. Returns 0, or -1 when out of
 * memory. Inline: a request records a dozen, and a call costs more. */
static inline int span_record(struct parser *p, const edn_value *v, size_t at) {
  struct edn_spans *sp = p->sp;
  if (sp->len == sp->cap && span_grow(p))
    return -1;
  struct edn_span *e = &sp->at[sp->len++];
  e->value = v;
  e->off = at;
  e->len = p->pos - at;
  return 0;
}

const struct edn_span *edn_span_of(const struct edn_spans *sp,
                                   const edn_value *v) {
  /* from the last: the value read itself is there, and a map's last keys
   * (a request's :req) are near it */
  for (size_t i = sp && v ? sp->len : 0; i-- > 0;)
    if (sp->at[i].value == v)
      return &sp->at[i];
  return NULL;
}

/* ---- The loop ------------------------------------------------------------- */

static int unterminated(struct parser *p) {
  struct frame *f = &p->frames[p->nframes - 1];
  p->hit_end = true;
  if (f->type == EDN_TAGGED || f->type == FRAME_DISCARD)
    return fail(p, p->len, "end of input where the value of a %s (at offset "
                "%zu) should be", frame_name(f->type), p->base + f->off);
  return fail(p, p->len, "unterminated %s (opened at offset %zu)",
              frame_name(f->type), p->base + f->off);
}

/* A finished value meets the frames above it: a tag wraps it, a discard
 * drops it, a collection keeps it. `at` is where it began (a tag's '#'
 * once wrapped), the end is pos. Returns 1 when it is the top-level value
 * (*out set), 0 to go on reading, EDN_ERROR. */
static int deliver(struct parser *p, edn_value *v, size_t at, edn_value **out) {
  while (p->nframes) {
    struct frame *f = &p->frames[p->nframes - 1];
    if (f->type < EDN_TAGGED) { /* a collection: the common case first */
      if (push_val(p, v) ||
          (p->nframes <= p->span_depth && span_record(p, v, at)))
        return fail(p, p->pos, "out of memory");
      return 0;
    }
    if (f->type == FRAME_DISCARD) {
      p->nframes--;
      return 0;
    }
    if (!(v = make_tagged(p, f, v)))
      return EDN_ERROR;
    at = f->off;
    p->nframes--;
  }
  *out = v;
  return 1;
}

/* What a byte begins: the loop looks each value's first byte up once, to
 * skip space or to pick the value's reader. */
enum { B_TOKEN, B_SPACE, B_OPEN, B_CLOSE, B_STRING, B_CHAR, B_KEYWORD,
       B_DISPATCH, B_META, B_NUL, B_COMMENT, B_END /* not a byte */ };
static const unsigned char begins[256] = {
    [0] = B_NUL,         ['\t'] = B_SPACE,     ['\n'] = B_SPACE,   ['\v'] = B_SPACE,
    ['\f'] = B_SPACE,    ['\r'] = B_SPACE,     [' '] = B_SPACE,    [','] = B_SPACE,
    [';'] = B_COMMENT,   ['('] = B_OPEN,       ['['] = B_OPEN,     ['{'] = B_OPEN,
    [')'] = B_CLOSE,     [']'] = B_CLOSE,      ['}'] = B_CLOSE,    ['"'] = B_STRING,
    ['\\'] = B_CHAR,     [':'] = B_KEYWORD,    ['#'] = B_DISPATCH, ['^'] = B_META};

/* The next top-level value from pos: EDN_OK, EDN_EMPTY, EDN_ERROR. *start is
 * where it began. */
static int parse_value(struct parser *p, edn_value **out, size_t *start) {
  const unsigned char *s = p->s;
  size_t n = p->len;
  for (;;) {
    size_t at = p->pos;
    unsigned b = at < n ? begins[s[at]] : B_END;
    edn_value *v = NULL;
    bool pushed = false;
    int rc;
    while (b == B_SPACE) /* mostly one space */
      b = ++at < n ? begins[s[at]] : B_END;
    p->pos = at;
    if (b >= B_COMMENT) {
      if (!skip_space(p))
        return p->nframes ? unterminated(p) : EDN_EMPTY;
      continue;
    }
    if (p->nframes == 0)
      *start = at;
    switch (b) {
    case B_OPEN:
      if (push_frame(p, s[at] == '(' ? EDN_LIST : s[at] == '[' ? EDN_VECTOR : EDN_MAP,
                     at))
        return EDN_ERROR;
      p->pos++;
      continue;
    case B_CLOSE: v = close_frame(p, &at); break;
    case B_STRING: v = read_string(p); break;
    case B_CHAR: v = read_char(p); break;
    case B_KEYWORD: v = read_keyword(p); break;
    case B_DISPATCH:
      v = read_dispatch(p, &pushed);
      if (pushed)
        continue;
      break;
    case B_META: return fail(p, at, "metadata '^' is not EDN");
    case B_NUL: return fail(p, at, "NUL byte");
    default: v = read_token(p); break;
    }
    if (!v)
      return EDN_ERROR;
    rc = deliver(p, v, at, out);
    if (rc)
      return rc < 0 ? EDN_ERROR : EDN_OK;
  }
}

static void parser_done(struct parser *p) {
  if (p->frames != p->frames0)
    free(p->frames);
  if (p->vals != p->vals0)
    free(p->vals);
}

int edn__read_span(edn_arena *a, const char *buf, size_t len, size_t base,
                   const struct edn_limits *lim, struct edn_spans *sp,
                   edn_value **out, struct edn_error *err) {
  struct parser p;
  size_t max_bytes = edn__max_bytes(lim), start = 0, second = 0;
  edn_value *v = NULL, *extra = NULL;
  bool cut = false;
  int rc;
  p.a = a;
  p.s = (const unsigned char *)buf;
  p.len = len;
  p.pos = 0;
  p.base = base;
  p.max_depth = edn__max_depth(lim);
  p.hit_end = false;
  p.err = err;
  p.sp = sp;
  p.span_depth = sp ? sp->depth : 0;
  if (sp) { /* a table of an earlier read may be in an arena reset since */
    sp->at = NULL;
    sp->len = sp->cap = 0;
  }
  p.frames = p.frames0;
  p.nframes = 0;
  p.capframes = sizeof p.frames0 / sizeof p.frames0[0];
  p.vals = p.vals0;
  p.nvals = 0;
  p.capvals = sizeof p.vals0 / sizeof p.vals0[0];
  /* Find where the value starts, then read it within max_bytes of there. */
  if (!skip_space(&p)) {
    parser_done(&p);
    return EDN_EMPTY;
  }
  if (len - p.pos > max_bytes) {
    p.len = p.pos + max_bytes;
    cut = true;
  }
  rc = parse_value(&p, &v, &start);
  if (cut && p.hit_end && (rc != EDN_OK || p.pos == p.len)) {
    parser_done(&p);
    return edn__fail(err, base + start, "value longer than the limit of %zu bytes",
                     max_bytes);
  }
  if (rc == EDN_OK && sp && span_record(&p, v, start))
    rc = fail(&p, p.pos, "out of memory");
  if (rc == EDN_OK) {
    p.len = len;
    p.span_depth = 0; /* a second value is an error: nothing to record */
    rc = parse_value(&p, &extra, &second);
    if (rc == EDN_OK)
      rc = fail(&p, second, "a second value follows the first");
    else if (rc == EDN_EMPTY)
      rc = EDN_OK;
  }
  parser_done(&p);
  if (rc == EDN_OK)
    *out = v;
  else if (rc == EDN_EMPTY)
    rc = EDN_EMPTY;
  return rc;
}

int edn_read(edn_arena *a, const char *buf, size_t len,
             const struct edn_limits *lim, edn_value **out,
             struct edn_error *err) {
  return edn__read_span(a, buf, len, 0, lim, NULL, out, err);
}

int edn_read_spans(edn_arena *a, const char *buf, size_t len,
                   const struct edn_limits *lim, struct edn_spans *sp,
                   edn_value **out, struct edn_error *err) {
  return edn__read_span(a, buf, len, 0, lim, sp, out, err);
}
