/* edn_internal.h — what the codec's own files share and nobody else sees:
 * the arena's bump allocation (inline, it is the hot path of the reader),
 * the byte classes the reader and printer scan with, and the one-span parse
 * the streaming reader calls. Not installed, not for the runtime. */
#ifndef TREEPROOF_EDN_INTERNAL_H
#define TREEPROOF_EDN_INTERNAL_H

#include <string.h>

#include "edn.h"

/* ---- Arena internals (edn_arena.c) --------------------------------------- */

struct edn_block {
  struct edn_block *next; /* every block of the arena, first block first */
  size_t size, used;      /* bytes in data[], bytes handed out */
  char data[];            /* 8-aligned: the header is three words */
};

struct edn_arena {
  struct edn_block *first; /* kept by edn_arena_reset */
  struct edn_block *cur;   /* where bump allocation happens */
  struct edn_block *spare; /* emptied by a reset, for reuse (bounded) */
  size_t next_size;        /* size of the next ordinary block */
};

void *edn__alloc_slow(edn_arena *a, size_t n);

/* n bytes, 8-aligned, owned by `a`; NULL when out of memory. */
static inline void *edn__alloc(edn_arena *a, size_t n) {
  struct edn_block *b = a->cur;
  n = (n + 7) & ~(size_t)7;
  if (n <= b->size - b->used) {
    void *p = b->data + b->used;
    b->used += n;
    return p;
  }
  return edn__alloc_slow(a, n);
}

/* Copy s[0..n) to d: names and short strings, most of what the codec moves,
 * by overlapping word moves (a call to memcpy costs more than such a copy),
 * touching only s[0..n) and d[0..n). */
static inline void edn__copy(char *d, const char *s, size_t n) {
  uint64_t x, y;
  uint32_t u, w;
  if (n < 4) { /* the shortest first: most keywords */
    if (n) {
      d[0] = s[0];
      d[n / 2] = s[n / 2];
      d[n - 1] = s[n - 1];
    }
  } else if (n < 8) {
    memcpy(&u, s, 4);
    memcpy(&w, s + n - 4, 4);
    memcpy(d, &u, 4);
    memcpy(d + n - 4, &w, 4);
  } else if (n <= 16) {
    memcpy(&x, s, 8);
    memcpy(&y, s + n - 8, 8);
    memcpy(d, &x, 8);
    memcpy(d + n - 8, &y, 8);
  } else {
    memcpy(d, s, n);
  }
}

/* A copy of s[0..n) with a NUL after it, in `a`; NULL when out of memory. */
char *edn__text(edn_arena *a, const char *s, size_t n);

/* ---- Byte classes (edn_read.c) ------------------------------------------- */

enum {
  EDN_C_WS = 1,     /* whitespace, comma included */
  EDN_C_DELIM = 2,  /* ends a token: whitespace, " ; ( ) [ ] { } \ ^ NUL */
  EDN_C_DIGIT = 4,
  EDN_C_SYM = 8,    /* may appear in a symbol (non-ASCII included) */
  EDN_C_STR = 16,   /* needs a look inside a string: " \ NUL non-ASCII */
  EDN_C_PLAIN = 32, /* ASCII symbol character but / : # */
  EDN_C_NEST = 64   /* matters to the stream scanner inside a collection:
                       " ; \ ( ) [ ] { } ^ NUL */,
  EDN_C_HEAD = 128  /* PLAIN, and a name starting with it needs no second
                       look: not a digit, ' + - or . */
};
extern const unsigned char edn__class[256];

/* ---- Reading one span (edn_read.c) --------------------------------------- */

/* edn_read on buf[0..len), reporting offsets as base + index; with `sp`
 * (may be NULL) as edn_read_spans, spans counted from buf[0]. */
int edn__read_span(edn_arena *a, const char *buf, size_t len, size_t base,
                   const struct edn_limits *lim, struct edn_spans *sp,
                   edn_value **out, struct edn_error *err);
size_t edn__max_depth(const struct edn_limits *lim);
size_t edn__max_bytes(const struct edn_limits *lim);
/* Fill *err (if not NULL) and return EDN_ERROR. */
int edn__fail(struct edn_error *err, size_t offset, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- Values (edn_value.c) ------------------------------------------------ */


/* ---- Many bytes at a time ---------------------------------------------- */
/* The string scans of the reader and the printer skip the bytes that need
 * no look 16 at a time (SSE2, on every x86-64) or 8 at a time (a word
 * elsewhere), and only then look at single bytes: long strings (a 64 KiB
 * :body) go several times faster. Each returns the index of the first byte
 * that may stop the caller's byte loop, or a point less than a block from
 * the end; the caller's byte loop does the rest. */

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define EDN__ONES 0x0101010101010101ULL
#define EDN__HIGHS 0x8080808080808080ULL

static inline uint64_t edn__load8(const unsigned char *s) {
  uint64_t w;
  memcpy(&w, s, 8);
  return w;
}

/* Nonzero when some byte of w is below c (c <= 0x80). */
static inline uint64_t edn__has_below(uint64_t w, unsigned c) {
  return (w - EDN__ONES * c) & ~w & EDN__HIGHS;
}

/* Nonzero when some byte of w is c. */
static inline uint64_t edn__has_byte(uint64_t w, unsigned c) {
  return edn__has_below(w ^ (EDN__ONES * c), 1);
}

/* Reader: skip bytes that are not '"', '\\', NUL or non-ASCII. */
static inline size_t edn__skip_str_plain(const unsigned char *s, size_t i,
                                         size_t n) {
#ifdef __SSE2__
  const __m128i q = _mm_set1_epi8('"'), b = _mm_set1_epi8('\\');
  const __m128i z = _mm_setzero_si128();
  for (; i + 16 <= n; i += 16) {
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
    __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, b)),
                             _mm_cmpeq_epi8(v, z));
    unsigned bits = (unsigned)(_mm_movemask_epi8(m) | _mm_movemask_epi8(v));
    if (bits)
      return i + (size_t)__builtin_ctz(bits);
  }
#endif
  for (; i + 8 <= n; i += 8) {
    uint64_t w = edn__load8(s + i);
    if ((w & EDN__HIGHS) | edn__has_below(w, 1) | edn__has_byte(w, '"') |
        edn__has_byte(w, '\\'))
      break;
  }
  return i;
}

/* Reader: the end of the run of letters, digits and '-' from i, the bytes
 * of most names (:id, :t-us, L2a, true): one look at 16 bytes finds it,
 * where a byte loop pays a mispredicted branch at every name's end.
 * Returns the first other byte's index when it lies in the block, else i
 * unchanged (a long name, or fewer than 16 bytes left). Each byte skipped
 * may stand in a plain name, so the caller's byte loop goes on from the
 * index returned and decides what the byte there is. */
static inline size_t edn__skip_name_fast(const unsigned char *s, size_t i,
                                         size_t n) {
#ifdef __SSE2__
  if (i + 16 <= n) {
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
    /* x in [lo, lo+k): (x + 0x80 - lo) as signed < -0x80 + k */
    __m128i letter = _mm_cmplt_epi8(
        _mm_add_epi8(_mm_or_si128(v, _mm_set1_epi8(0x20)), _mm_set1_epi8((char)(0x80 - 'a'))),
        _mm_set1_epi8((char)(-0x80 + 26)));
    __m128i digit = _mm_cmplt_epi8(_mm_add_epi8(v, _mm_set1_epi8((char)(0x80 - '0'))),
                                   _mm_set1_epi8((char)(-0x80 + 10)));
    __m128i dash = _mm_cmpeq_epi8(v, _mm_set1_epi8('-'));
    unsigned bits = ~(unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(letter, digit), dash)) &
                    0xffffu;
    if (bits)
      return i + (size_t)__builtin_ctz(bits);
  }
#endif
  (void)s;
  (void)n;
  return i;
}

/* Printer: skip bytes printed as they are: not '"', '\\', 0x7f or below
 * 0x20. */
static inline size_t edn__skip_str_printable(const unsigned char *s, size_t i,
                                             size_t n) {
#ifdef __SSE2__
  const __m128i q = _mm_set1_epi8('"'), b = _mm_set1_epi8('\\');
  const __m128i del = _mm_set1_epi8(0x7f), sp = _mm_set1_epi8(0x20);
  for (; i + 16 <= n; i += 16) {
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
    __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, b)),
                             _mm_cmpeq_epi8(v, del));
    __m128i ok = _mm_cmpeq_epi8(_mm_max_epu8(v, sp), v); /* v >= 0x20 */
    unsigned bits = (unsigned)_mm_movemask_epi8(m) |
                    (~(unsigned)_mm_movemask_epi8(ok) & 0xffffu);
    if (bits)
      return i + (size_t)__builtin_ctz(bits);
  }
#endif
  for (; i + 8 <= n; i += 8) {
    uint64_t w = edn__load8(s + i);
    if (edn__has_below(w, 0x20) | edn__has_byte(w, '"') |
        edn__has_byte(w, '\\') | edn__has_byte(w, 0x7f))
      break;
  }
  return i;
}

#endif
