/* edn_value.c — EDN values as data: the builders, equality and hashing by
 * value (as Clojure's `=` and `hash` see EDN data), map lookup, deep copy.
 * Every value lives in an arena (edn_arena.c); nothing here frees. */
#include <assert.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edn_internal.h"

/* ---- Builders ------------------------------------------------------------ */

static edn_value *value_new(edn_arena *a, enum edn_type type) {
  edn_value *v = edn__alloc(a, sizeof *v);
  if (v)
    v->type = type;
  return v;
}

edn_value *edn_nil(edn_arena *a) { return value_new(a, EDN_NIL); }

edn_value *edn_bool(edn_arena *a, bool b) {
  edn_value *v = value_new(a, EDN_BOOL);
  if (v)
    v->u.boolean = b;
  return v;
}

edn_value *edn_int(edn_arena *a, int64_t i) {
  edn_value *v = value_new(a, EDN_INT);
  if (v)
    v->u.integer = i;
  return v;
}

edn_value *edn_float(edn_arena *a, double d) {
  edn_value *v = value_new(a, EDN_FLOAT);
  if (v)
    v->u.real = d;
  return v;
}

edn_value *edn_char(edn_arena *a, uint32_t code_point) {
  edn_value *v = value_new(a, EDN_CHAR);
  if (v)
    v->u.ch = code_point;
  return v;
}

static edn_value *text_value(edn_arena *a, enum edn_type type, const char *s,
                             size_t len) {
  edn_value *v = value_new(a, type);
  if (!v)
    return NULL;
  v->u.text.ptr = edn__text(a, s, len);
  v->u.text.len = len;
  return v->u.text.ptr ? v : NULL;
}

edn_value *edn_string(edn_arena *a, const char *s, size_t len) {
  return text_value(a, EDN_STRING, s, len);
}

edn_value *edn_symbol(edn_arena *a, const char *s, size_t len) {
  return text_value(a, EDN_SYMBOL, s, len);
}

edn_value *edn_keyword(edn_arena *a, const char *name) {
  return text_value(a, EDN_KEYWORD, name, strlen(name));
}

edn_value *edn_coll(edn_arena *a, enum edn_type type) {
  edn_value *v = value_new(a, type);
  if (v)
    memset(&v->u, 0, sizeof v->u);
  return v;
}

edn_value *edn_tagged(edn_arena *a, const char *tag, edn_value *value) {
  edn_value *v = value_new(a, EDN_TAGGED);
  if (!v)
    return NULL;
  v->u.tagged.tag.len = strlen(tag);
  v->u.tagged.tag.ptr = edn__text(a, tag, v->u.tagged.tag.len);
  v->u.tagged.value = value;
  return v->u.tagged.tag.ptr ? v : NULL;
}

/* Make room for one more element of `size` bytes in *items (len of cap
 * used). The old array stays in the arena, unused: growth doubles, so the
 * waste is bounded by what is kept. */
static int grow(edn_arena *a, void **items, size_t len, size_t *cap,
                size_t size) {
  size_t ncap;
  void *n;
  if (len < *cap)
    return 0;
  ncap = *cap ? *cap * 2 : 4;
  n = edn__alloc(a, ncap * size);
  if (!n)
    return -1;
  if (len)
    memcpy(n, *items, len * size);
  *items = n;
  *cap = ncap;
  return 0;
}

int edn_push(edn_arena *a, edn_value *seq, edn_value *item) {
  void *items = seq->u.seq.items;
  assert(seq->type == EDN_LIST || seq->type == EDN_VECTOR || seq->type == EDN_SET);
  if (grow(a, &items, seq->u.seq.len, &seq->u.seq.cap, sizeof(edn_value *)))
    return -1;
  seq->u.seq.items = items;
  seq->u.seq.items[seq->u.seq.len++] = item;
  return 0;
}

/* Equal as map keys: the keyword case (nearly every key on the wire) by
 * its text alone, anything else by edn_equal. */
static bool key_equal(const edn_value *k, const edn_value *key) {
  if (k->type == EDN_KEYWORD || key->type == EDN_KEYWORD)
    return k->type == key->type && k->u.text.len == key->u.text.len &&
           memcmp(k->u.text.ptr, key->u.text.ptr, k->u.text.len) == 0;
  return edn_equal(k, key);
}

int edn_map_push(edn_arena *a, edn_value *map, edn_value *key, edn_value *val) {
  void *entries = map->u.map.entries;
  assert(map->type == EDN_MAP);
  if (grow(a, &entries, map->u.map.len, &map->u.map.cap,
           sizeof(struct edn_entry)))
    return -1;
  map->u.map.entries = entries;
  map->u.map.entries[map->u.map.len].key = key;
  map->u.map.entries[map->u.map.len].val = val;
  map->u.map.len++;
  return 0;
}

int edn_map_put(edn_arena *a, edn_value *map, edn_value *key, edn_value *val) {
  assert(map->type == EDN_MAP);
  for (size_t i = 0; i < map->u.map.len; i++)
    if (key_equal(map->u.map.entries[i].key, key)) {
      map->u.map.entries[i].val = val;
      return 0;
    }
  return edn_map_push(a, map, key, val);
}

/* No key value is made unless the key is new: replacing :id on a message
 * that already has one allocates nothing. */
int edn_map_putk(edn_arena *a, edn_value *map, const char *kw, edn_value *val) {
  size_t n = strlen(kw);
  assert(map->type == EDN_MAP);
  for (size_t i = 0; i < map->u.map.len; i++) {
    const edn_value *k = map->u.map.entries[i].key;
    if (k->type == EDN_KEYWORD && k->u.text.len == n &&
        memcmp(k->u.text.ptr, kw, n) == 0) {
      map->u.map.entries[i].val = val;
      return 0;
    }
  }
  edn_value *k = text_value(a, EDN_KEYWORD, kw, n);
  return k ? edn_map_push(a, map, k, val) : -1;
}

edn_value *edn_copy(edn_arena *dst, const edn_value *v) {
  edn_value *c = value_new(dst, v->type);
  if (!c)
    return NULL;
  c->u = v->u;
  switch (v->type) {
  case EDN_BIGINT: case EDN_DECIMAL: case EDN_STRING: case EDN_SYMBOL:
  case EDN_KEYWORD:
    c->u.text.ptr = edn__text(dst, v->u.text.ptr, v->u.text.len);
    return c->u.text.ptr ? c : NULL;
  case EDN_LIST: case EDN_VECTOR: case EDN_SET:
    c->u.seq.cap = v->u.seq.len;
    c->u.seq.items = NULL;
    if (v->u.seq.len) {
      c->u.seq.items = edn__alloc(dst, v->u.seq.len * sizeof(edn_value *));
      if (!c->u.seq.items)
        return NULL;
    }
    for (size_t i = 0; i < v->u.seq.len; i++)
      if (!(c->u.seq.items[i] = edn_copy(dst, v->u.seq.items[i])))
        return NULL;
    return c;
  case EDN_MAP:
    c->u.map.cap = v->u.map.len;
    c->u.map.entries = NULL;
    if (v->u.map.len) {
      c->u.map.entries = edn__alloc(dst, v->u.map.len * sizeof(struct edn_entry));
      if (!c->u.map.entries)
        return NULL;
    }
    for (size_t i = 0; i < v->u.map.len; i++) {
      c->u.map.entries[i].key = edn_copy(dst, v->u.map.entries[i].key);
      c->u.map.entries[i].val = edn_copy(dst, v->u.map.entries[i].val);
      if (!c->u.map.entries[i].key || !c->u.map.entries[i].val)
        return NULL;
    }
    return c;
  case EDN_TAGGED:
    c->u.tagged.tag.ptr =
        edn__text(dst, v->u.tagged.tag.ptr, v->u.tagged.tag.len);
    c->u.tagged.value = edn_copy(dst, v->u.tagged.value);
    return c->u.tagged.tag.ptr && c->u.tagged.value ? c : NULL;
  default:
    return c;
  }
}

/* ---- Looking at values --------------------------------------------------- */

edn_value *edn_map_get(const edn_value *map, const edn_value *key) {
  if (!map || map->type != EDN_MAP)
    return NULL;
  for (size_t i = 0; i < map->u.map.len; i++)
    if (edn_equal(map->u.map.entries[i].key, key))
      return map->u.map.entries[i].val;
  return NULL;
}

edn_value *edn_map_getk(const edn_value *map, const char *kw) {
  size_t n = strlen(kw);
  if (!map || map->type != EDN_MAP)
    return NULL;
  for (size_t i = 0; i < map->u.map.len; i++) {
    const edn_value *k = map->u.map.entries[i].key;
    if (k->type == EDN_KEYWORD && k->u.text.len == n &&
        memcmp(k->u.text.ptr, kw, n) == 0)
      return map->u.map.entries[i].val;
  }
  return NULL;
}

bool edn_is_keyword(const edn_value *v, const char *name) {
  return v && v->type == EDN_KEYWORD && strlen(name) == v->u.text.len &&
         memcmp(v->u.text.ptr, name, v->u.text.len) == 0;
}

const char *edn_type_name(enum edn_type type) {
  static const char *const names[] = {
      [EDN_NIL] = "nil",         [EDN_BOOL] = "boolean",
      [EDN_INT] = "integer",     [EDN_BIGINT] = "bigint",
      [EDN_FLOAT] = "float",     [EDN_DECIMAL] = "decimal",
      [EDN_STRING] = "string",   [EDN_CHAR] = "character",
      [EDN_SYMBOL] = "symbol",   [EDN_KEYWORD] = "keyword",
      [EDN_LIST] = "list",       [EDN_VECTOR] = "vector",
      [EDN_MAP] = "map",         [EDN_SET] = "set",
      [EDN_TAGGED] = "tagged value"};
  if ((unsigned)type < sizeof names / sizeof names[0])
    return names[type];
  return "unknown";
}

/* ---- Numbers that compare across representations ------------------------- */

/* A BIGINT whose digits fit in int64_t: Clojure's 1N equals 1. */
static bool bigint_fits(const struct edn_text *t, int64_t *out) {
  const char *s = t->ptr;
  size_t n = t->len, i = 0;
  bool neg = false;
  uint64_t m = 0;
  if (n && s[0] == '-') {
    neg = true;
    i = 1;
  }
  if (n - i > 19 || i == n)
    return false;
  for (; i < n; i++) {
    unsigned d = (unsigned char)s[i] - '0';
    if (d > 9 || m > (UINT64_MAX - d) / 10)
      return false;
    m = m * 10 + d;
  }
  if (neg ? m > (uint64_t)INT64_MAX + 1 : m > (uint64_t)INT64_MAX)
    return false;
  *out = neg ? (int64_t)(0 - m) : (int64_t)m;
  return true;
}

/* A decimal as sign, significant digits (no leading or trailing zeros, in
 * a malloc'ed string) and the exponent of its first digit: 0.d1d2… × 10^e. */
struct decimal {
  bool neg;
  char *digits;
  size_t n;
  long exp;
};

static int decimal_norm(const struct edn_text *t, struct decimal *d) {
  const char *s = t->ptr;
  size_t i = 0, len = t->len;
  long intlen = 0, e = 0;
  bool in_frac = false;
  d->neg = false;
  d->n = 0;
  d->exp = 0;
  d->digits = malloc(len + 1);
  if (!d->digits)
    return -1;
  if (i < len && (s[i] == '-' || s[i] == '+'))
    d->neg = s[i++] == '-';
  for (; i < len && s[i] != 'e' && s[i] != 'E'; i++) {
    if (s[i] == '.') {
      in_frac = true;
      continue;
    }
    if (!in_frac)
      intlen++;
    if (d->n == 0 && s[i] == '0') { /* leading zero: shifts the point */
      intlen--;
      continue;
    }
    d->digits[d->n++] = s[i];
  }
  if (i < len) { /* the reader checked the digits; keep the sum in range */
    e = strtol(s + i + 1, NULL, 10);
    e = e > LONG_MAX / 4 ? LONG_MAX / 4 : e < -LONG_MAX / 4 ? -LONG_MAX / 4 : e;
  }
  while (d->n && d->digits[d->n - 1] == '0')
    d->n--;
  d->digits[d->n] = '\0';
  d->exp = d->n ? intlen + e : 0;
  if (!d->n)
    d->neg = false;
  return 0;
}

/* Decimal text compared by value: 1.0M equals 1.00M. */
static bool decimal_equal(const struct edn_text *x, const struct edn_text *y) {
  struct decimal a, b;
  bool eq;
  if (decimal_norm(x, &a))
    return false;
  if (decimal_norm(y, &b)) {
    free(a.digits);
    return false;
  }
  eq = a.neg == b.neg && a.exp == b.exp && a.n == b.n &&
       memcmp(a.digits, b.digits, a.n) == 0;
  free(a.digits);
  free(b.digits);
  return eq;
}

/* ---- Equality ------------------------------------------------------------ */

static bool text_eq(const struct edn_text *x, const struct edn_text *y) {
  return x->len == y->len && memcmp(x->ptr, y->ptr, x->len) == 0;
}

static bool int_eq_bigint(int64_t i, const struct edn_text *big) {
  int64_t b;
  return bigint_fits(big, &b) && b == i;
}

static bool is_seq(enum edn_type t) { return t == EDN_LIST || t == EDN_VECTOR; }

static bool seq_equal(const edn_value *x, const edn_value *y) {
  if (x->u.seq.len != y->u.seq.len)
    return false;
  for (size_t i = 0; i < x->u.seq.len; i++)
    if (!edn_equal(x->u.seq.items[i], y->u.seq.items[i]))
      return false;
  return true;
}

/* Small maps and sets by scanning; large ones through a hash index of y,
 * so comparing two 100k-entry maps is not quadratic. */
struct index {
  size_t *slots; /* position + 1, 0 = empty */
  size_t mask;
};

static int index_build(struct index *ix, const edn_value *c, size_t n) {
  size_t cap = 16;
  while (cap < n * 2)
    cap *= 2;
  ix->slots = calloc(cap, sizeof *ix->slots);
  if (!ix->slots)
    return -1;
  ix->mask = cap - 1;
  for (size_t i = 0; i < n; i++) {
    const edn_value *k =
        c->type == EDN_MAP ? c->u.map.entries[i].key : c->u.seq.items[i];
    size_t h = (size_t)edn_hash(k) & ix->mask;
    while (ix->slots[h])
      h = (h + 1) & ix->mask;
    ix->slots[h] = i + 1;
  }
  return 0;
}

/* Position in c of an element equal to k, or -1. */
static long index_find(const struct index *ix, const edn_value *c,
                       const edn_value *k) {
  size_t h = (size_t)edn_hash(k) & ix->mask;
  for (; ix->slots[h]; h = (h + 1) & ix->mask) {
    size_t i = ix->slots[h] - 1;
    const edn_value *o =
        c->type == EDN_MAP ? c->u.map.entries[i].key : c->u.seq.items[i];
    if (edn_equal(o, k))
      return (long)i;
  }
  return -1;
}

static long scan_find(const edn_value *c, const edn_value *k) {
  size_t n = c->type == EDN_MAP ? c->u.map.len : c->u.seq.len;
  for (size_t i = 0; i < n; i++) {
    const edn_value *o =
        c->type == EDN_MAP ? c->u.map.entries[i].key : c->u.seq.items[i];
    if (edn_equal(o, k))
      return (long)i;
  }
  return -1;
}

static bool unordered_equal(const edn_value *x, const edn_value *y) {
  bool map = x->type == EDN_MAP;
  size_t n = map ? x->u.map.len : x->u.seq.len;
  struct index ix = {NULL, 0};
  bool eq = true;
  if (n != (map ? y->u.map.len : y->u.seq.len))
    return false;
  if (n > 16 && index_build(&ix, y, n))
    return false;
  for (size_t i = 0; i < n && eq; i++) {
    const edn_value *k = map ? x->u.map.entries[i].key : x->u.seq.items[i];
    long j = ix.slots ? index_find(&ix, y, k) : scan_find(y, k);
    eq = j >= 0 && (!map || edn_equal(x->u.map.entries[i].val,
                                      y->u.map.entries[j].val));
  }
  free(ix.slots);
  return eq;
}

bool edn_equal(const edn_value *x, const edn_value *y) {
  if (x->type != y->type) {
    if (x->type == EDN_INT && y->type == EDN_BIGINT)
      return int_eq_bigint(x->u.integer, &y->u.text);
    if (x->type == EDN_BIGINT && y->type == EDN_INT)
      return int_eq_bigint(y->u.integer, &x->u.text);
    return is_seq(x->type) && is_seq(y->type) && seq_equal(x, y);
  }
  switch (x->type) {
  case EDN_NIL: return true;
  case EDN_BOOL: return x->u.boolean == y->u.boolean;
  case EDN_INT: return x->u.integer == y->u.integer;
  case EDN_FLOAT: return x->u.real == y->u.real;
  case EDN_CHAR: return x->u.ch == y->u.ch;
  case EDN_DECIMAL: return decimal_equal(&x->u.text, &y->u.text);
  case EDN_BIGINT: case EDN_STRING: case EDN_SYMBOL: case EDN_KEYWORD:
    return text_eq(&x->u.text, &y->u.text);
  case EDN_LIST: case EDN_VECTOR: return seq_equal(x, y);
  case EDN_MAP: case EDN_SET: return unordered_equal(x, y);
  case EDN_TAGGED:
    return text_eq(&x->u.tagged.tag, &y->u.tagged.tag) &&
           edn_equal(x->u.tagged.value, y->u.tagged.value);
  }
  return false;
}

/* ---- Hashing ------------------------------------------------------------- */

static uint64_t mix(uint64_t h) { /* splitmix64's finaliser */
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return h;
}

static uint64_t bytes_hash(const char *s, size_t n, uint64_t seed) {
  uint64_t h = 0xcbf29ce484222325ULL ^ seed; /* FNV-1a, then mixed */
  for (size_t i = 0; i < n; i++) {
    h ^= (unsigned char)s[i];
    h *= 0x100000001b3ULL;
  }
  return mix(h);
}

/* Decimal text hashed by value, as decimal_equal() compares it. */
static uint64_t decimal_hash(const struct edn_text *t) {
  struct decimal d;
  uint64_t h;
  if (decimal_norm(t, &d))
    return 0;
  h = bytes_hash(d.digits, d.n, (uint64_t)d.exp * 31 + d.neg);
  free(d.digits);
  return h;
}

uint64_t edn_hash(const edn_value *v) {
  uint64_t h = 0;
  int64_t i;
  double d;
  switch (v->type) {
  case EDN_NIL: return 0x6e696c;
  case EDN_BOOL: return v->u.boolean ? 0x7472756531 : 0x66616c7365;
  case EDN_INT: return mix((uint64_t)v->u.integer);
  case EDN_BIGINT:
    if (bigint_fits(&v->u.text, &i))
      return mix((uint64_t)i);
    return bytes_hash(v->u.text.ptr, v->u.text.len, 1);
  case EDN_FLOAT:
    d = v->u.real == 0 ? 0.0 : v->u.real; /* -0.0 equals 0.0 */
    memcpy(&h, &d, sizeof h);
    return mix(h ^ 0xf10a7);
  case EDN_DECIMAL: return decimal_hash(&v->u.text);
  case EDN_STRING: return bytes_hash(v->u.text.ptr, v->u.text.len, 2);
  case EDN_SYMBOL: return bytes_hash(v->u.text.ptr, v->u.text.len, 3);
  case EDN_KEYWORD: return bytes_hash(v->u.text.ptr, v->u.text.len, 4);
  case EDN_CHAR: return mix(v->u.ch ^ 0xc4a2ULL << 32);
  case EDN_LIST: case EDN_VECTOR: /* ordered, and '(1 2) = [1 2] */
    h = 0x5e9;
    for (size_t k = 0; k < v->u.seq.len; k++)
      h = mix(h * 31 + edn_hash(v->u.seq.items[k]));
    return h;
  case EDN_SET: /* order-free: a sum */
    h = 0x5e7;
    for (size_t k = 0; k < v->u.seq.len; k++)
      h += edn_hash(v->u.seq.items[k]);
    return mix(h);
  case EDN_MAP:
    h = 0x3a9;
    for (size_t k = 0; k < v->u.map.len; k++)
      h += mix(edn_hash(v->u.map.entries[k].key) * 7 +
               edn_hash(v->u.map.entries[k].val));
    return mix(h);
  case EDN_TAGGED:
    return mix(bytes_hash(v->u.tagged.tag.ptr, v->u.tagged.tag.len, 5) ^
               edn_hash(v->u.tagged.value));
  }
  return 0;
}
