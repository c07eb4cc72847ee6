/* edn.h — the EDN codec: values in an arena, a reader (one buffer or a
 * stream of chunks; for one buffer, also where each value lies in it), a
 * printer, and equality by value.
 *
 * Every value lives in an edn_arena and is freed with it, all at once: a
 * request, its reply and everything parsed on the way share one lifetime.
 * The codec does no I/O, never relies on a NUL terminator in its input, and
 * never prints or exits: errors come back as a byte offset and a message.
 *
 * Used by the runtime (libwatvm) and by the harness (libtreeproof); it is its
 * own library, libedn, and depends on nothing but libc and libm. */
#ifndef TREEPROOF_EDN_H
#define TREEPROOF_EDN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum edn_type {
  EDN_NIL,
  EDN_BOOL,
  EDN_INT,     /* fits in int64_t */
  EDN_BIGINT,  /* `N` suffix, or an integer too large for int64_t */
  EDN_FLOAT,   /* double, including ##Inf ##-Inf ##NaN */
  EDN_DECIMAL, /* `M` suffix: kept as text, exactly */
  EDN_STRING,
  EDN_CHAR,
  EDN_SYMBOL,
  EDN_KEYWORD,
  EDN_LIST,
  EDN_VECTOR,
  EDN_MAP,
  EDN_SET,
  EDN_TAGGED
};

typedef struct edn_value edn_value;

/* Text owned by the arena. `ptr` is NUL-terminated for convenience, but `len`
 * is the truth: a string may hold "\u0000". */
struct edn_text {
  const char *ptr;
  size_t len;
};

struct edn_entry {
  edn_value *key;
  edn_value *val;
};

struct edn_value {
  enum edn_type type;
  union {
    bool boolean;         /* EDN_BOOL */
    int64_t integer;      /* EDN_INT */
    double real;          /* EDN_FLOAT */
    uint32_t ch;          /* EDN_CHAR: a Unicode code point */
    struct edn_text text; /* EDN_STRING: the decoded UTF-8 bytes;
                             EDN_SYMBOL: "foo.bar/baz";
                             EDN_KEYWORD: "wat/panic" (no leading ':');
                             EDN_BIGINT: canonical digits, optional leading
                               '-', no '+', no leading zeros, no 'N';
                             EDN_DECIMAL: the number's text without 'M' */
    struct {              /* EDN_LIST, EDN_VECTOR, EDN_SET */
      edn_value **items;
      size_t len, cap;
    } seq;
    struct {              /* EDN_MAP, entries in the order read or put */
      struct edn_entry *entries;
      size_t len, cap;
    } map;
    struct {              /* EDN_TAGGED: #tag value */
      struct edn_text tag; /* "inst", "uuid", "my/tag" (no '#') */
      edn_value *value;
    } tagged;
  } u;
};

/* ---- Arena ------------------------------------------------------------- */

typedef struct edn_arena edn_arena;

/* A new, empty arena; NULL when out of memory. */
edn_arena *edn_arena_new(void);
/* Forget every value allocated in `a` (every pointer into it becomes
 * invalid) but keep its first block, and up to 4 MiB of the others, for
 * reuse: the cheap way to serve one request after another. */
void edn_arena_reset(edn_arena *a);
/* Free `a` and everything in it. NULL is allowed. */
void edn_arena_free(edn_arena *a);

/* ---- Building values ---------------------------------------------------- */
/* Each returns a new value in `a`, or NULL when out of memory. Text is
 * copied. */

edn_value *edn_nil(edn_arena *a);
edn_value *edn_bool(edn_arena *a, bool b);
edn_value *edn_int(edn_arena *a, int64_t i);
edn_value *edn_float(edn_arena *a, double d);
edn_value *edn_char(edn_arena *a, uint32_t code_point);
edn_value *edn_string(edn_arena *a, const char *s, size_t len);
edn_value *edn_symbol(edn_arena *a, const char *s, size_t len);
edn_value *edn_keyword(edn_arena *a, const char *name); /* "wat/panic" */
edn_value *edn_coll(edn_arena *a, enum edn_type type); /* empty list, vector,
                                                          map or set */
edn_value *edn_tagged(edn_arena *a, const char *tag, edn_value *value);

/* Append to a list, vector or set. Returns 0, or -1 when out of memory.
 * (It does not check a set for duplicates: the reader does.) */
int edn_push(edn_arena *a, edn_value *seq, edn_value *item);
/* Put key → val in a map, replacing the value of an equal key if present.
 * Returns 0, or -1 when out of memory. */
int edn_map_put(edn_arena *a, edn_value *map, edn_value *key, edn_value *val);
/* Append key → val to a map without looking for an equal key: for building
 * a map from keys known to be distinct (another map's, say). Returns 0, or
 * -1 when out of memory. */
int edn_map_push(edn_arena *a, edn_value *map, edn_value *key, edn_value *val);
/* Shorthand for edn_map_put with a keyword key, e.g. "id". */
int edn_map_putk(edn_arena *a, edn_value *map, const char *kw, edn_value *val);
/* Deep copy of `v` into `dst`; NULL when out of memory. */
edn_value *edn_copy(edn_arena *dst, const edn_value *v);

/* ---- Looking at values -------------------------------------------------- */

/* The value under `key` in `map`, or NULL if absent or `map` is not a map. */
edn_value *edn_map_get(const edn_value *map, const edn_value *key);
/* The value under the keyword `kw` ("id", "wat/panic"), or NULL. */
edn_value *edn_map_getk(const edn_value *map, const char *kw);
/* True when `v` is the keyword `name` ("isolate", "wat/dead"). */
bool edn_is_keyword(const edn_value *v, const char *name);
/* Equality by value, as Clojure's `=` on EDN data: maps and sets ignore
 * order; lists and vectors with the same items are equal; 1 and 1N are equal;
 * 1 and 1.0 are not; ##NaN equals nothing. */
bool edn_equal(const edn_value *x, const edn_value *y);
/* A hash consistent with edn_equal. */
uint64_t edn_hash(const edn_value *v);
/* The type's name, "map", "keyword", ... for messages. */
const char *edn_type_name(enum edn_type type);

/* ---- Reading ------------------------------------------------------------ */

struct edn_limits {
  size_t max_depth; /* nesting of collections, tags and #_; 0 → 512; more
                       than 10000 is taken as 10000 (the printer, equality
                       and hashing recurse) */
  size_t max_bytes; /* one top-level value's bytes, from its first byte;
                       0 → 1 MiB */
};

struct edn_error {
  size_t offset;     /* byte offset of the problem in the input */
  char message[160]; /* what was wrong, e.g. "unterminated string" */
};

enum { EDN_OK = 0, EDN_EMPTY = 1, EDN_ERROR = -1 };

/* Read exactly one value from buf[0..len). Whitespace, commas, comments and
 * #_ discards may surround it. Returns EDN_OK with *out set, EDN_EMPTY when
 * the input holds no value at all, or EDN_ERROR with *err filled in (also
 * when a second value follows the first). `lim` may be NULL. `err` may be
 * NULL. On error nothing leaks; what was allocated stays in `a`.
 *
 * What it takes is edn-format, checked against clojure.edn (see
 * tests/edn/clojure-oracle): where Clojure is laxer than the format it is
 * refused here — octal, hex, radix and ratio numbers, leading zeros, `.5`,
 * `a/b/c`, `:1`, `::k`, metadata `^`, `#:ns{}` maps, invalid UTF-8, lone
 * surrogates, NUL bytes anywhere (inside strings too: write "\u0000").
 * Integers past int64 become EDN_BIGINT, as in Clojure; an M decimal's
 * exponent must fit Java's BigDecimal. #inst must be an RFC 3339 string
 * and #uuid an 8-4-4-4-12 hex string (both kept as EDN_TAGGED); any other
 * tag is kept as it is. Duplicate map keys and set elements (by edn_equal)
 * are errors. */
int edn_read(edn_arena *a, const char *buf, size_t len,
             const struct edn_limits *lim, edn_value **out,
             struct edn_error *err);

/* ---- Where values lie in their input ------------------------------------ */
/* For passing bytes on without printing them again: a node forwards a
 * request's :req as it came and splices a reply's :id (runtime/node). */

/* Where a value read by edn_read_spans lies in its input: the bytes
 * buf[off, off + len), from its first byte (the '#' of a tagged value) to
 * its last, without the whitespace, comments and #_ discards around it. */
struct edn_span {
  const edn_value *value;
  size_t off, len;
};

/* The spans edn_read_spans records. The caller sets `depth`; the reader
 * fills the rest (each read starts a new table, in its arena).
 * depth 0 records the value read alone; 1 also every key and value of it
 * (a map) or item (a vector, list or set); 2 their keys, values and items
 * too; and so on, a #tag between counting as one level. Values inside a
 * #_ discard may be recorded too: no value of the result is among them.
 * The table lives in the arena of the read. */
struct edn_spans {
  size_t depth;         /* set by the caller */
  struct edn_span *at;  /* filled by the reader: `len` spans, in the order */
  size_t len, cap;      /*   the values ended (an item before its collection) */
};

/* edn_read, recording in *sp where the value read and those nested in it
 * down to sp->depth lie in buf (sp NULL: edn_read itself). Returns as
 * edn_read does; the spans mean something only after EDN_OK. Each span
 * costs a few words of `a`; without spans the reader only carries where
 * each value began (bench/edn_bench.c: about 1% more instructions). The
 * streaming reader records none. */
int edn_read_spans(edn_arena *a, const char *buf, size_t len,
                   const struct edn_limits *lim, struct edn_spans *sp,
                   edn_value **out, struct edn_error *err);
/* The span of v, by identity (not by value), in the table the last
 * edn_read_spans filled; NULL when it is not there: built rather than
 * read, or nested deeper than sp->depth. Linear in sp->len, looking from
 * the last recorded (the value read itself). sp may be NULL. */
const struct edn_span *edn_span_of(const struct edn_spans *sp,
                                   const edn_value *v);

/* A streaming reader: feed it chunks of any size (one byte at a time works)
 * and take each complete top-level value as it arrives. */
typedef struct edn_reader edn_reader;

/* NULL when out of memory. `lim` may be NULL. */
edn_reader *edn_reader_new(const struct edn_limits *lim);
void edn_reader_free(edn_reader *r);
/* Append a chunk (copied). Returns 0, or -1 when out of memory. */
int edn_reader_feed(edn_reader *r, const char *chunk, size_t len);
/* Mark the end of the input: a trailing token such as `42` completes, and an
 * unfinished value becomes an error. */
void edn_reader_finish(edn_reader *r);
/* The next complete top-level value, allocated in `a`: returns 1 with *out
 * set, 0 when more input is needed (or the input is finished and empty), or
 * EDN_ERROR with *err set (offset counted from the start of the stream);
 * after an error the reader stays failed. */
int edn_reader_next(edn_reader *r, edn_arena *a, edn_value **out,
                    struct edn_error *err);

/* ---- Printing ----------------------------------------------------------- */

/* A growable byte buffer (malloc'ed). Zero-initialise it before first use. */
struct edn_buf {
  char *ptr;
  size_t len, cap;
};

/* Append `v` as compact EDN (no newline, never a raw newline inside: strings
 * escape it) such that edn_read gives back an edn_equal value, and Clojure's
 * reader reads the same value. Returns 0, or -1 when out of memory. */
int edn_print(struct edn_buf *out, const edn_value *v);
/* Append `v` indented for people (nested maps and vectors over several
 * lines), for failure reports. Returns 0 or -1. */
int edn_print_pretty(struct edn_buf *out, const edn_value *v);
/* Append raw bytes. Returns 0 or -1. */
int edn_buf_append(struct edn_buf *out, const char *s, size_t len);
/* Free the buffer's memory and zero it. */
void edn_buf_free(struct edn_buf *out);
/* `v` printed compactly as a new malloc'ed NUL-terminated string (the caller
 * frees it), or NULL when out of memory. */
char *edn_to_string(const edn_value *v);

/* ---- Text ------------------------------------------------------------ */

/* Length (1..4) of the well-formed UTF-8 sequence at s[0..n), n >= 1, with
 * its code point in *cp; 0 when it is not well-formed (overlong, surrogate,
 * past U+10FFFF, cut short). The reader's own test of string bytes, public
 * so that other text in the project is judged the same way. */
size_t edn_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

#endif
