/* edn_stream.c — the streaming reader: chunks in, top-level values out.
 *
 * A small scanner walks each byte once, tracking only what decides where a
 * top-level value ends (nesting depth, strings, comments, character and
 * token boundaries, and the `#_` / `#tag` prefixes in front of a top-level
 * form). When it finds the end, the span is read once by edn_read's parser.
 * So a large value fed one byte at a time costs linear time, not quadratic. */
#include <stdlib.h>
#include <string.h>

#include "edn_internal.h"

enum state {
  S_SPACE,      /* between forms */
  S_COMMENT,    /* after ';' */
  S_STRING,     /* inside "..." */
  S_STRING_ESC, /* after a backslash in a string */
  S_CHAR1,      /* after a backslash: the next byte is taken whatever it is */
  S_HASH,       /* after '#' */
  S_TOKEN       /* inside a symbol, number, keyword, tag or character */
};

enum { PREFIX_DISCARD = 'D', PREFIX_TAG = 'T' };

struct edn_reader {
  char *buf;          /* bytes fed and not yet consumed */
  size_t len, cap;
  size_t base;        /* stream offset of buf[0] */
  size_t start;       /* where the pending top-level form starts */
  size_t scan;        /* next byte to scan */
  size_t end;         /* when ready: the form is buf[start..end) */
  bool ready, finished, failed;
  enum state state;
  bool token_is_tag;  /* the token in progress is `#tag` at the top */
  size_t depth;       /* open collections */
  char *prefix;       /* pending #_ and #tag at the top level */
  size_t nprefix, capprefix;
  struct edn_limits lim;
  size_t max_depth, max_bytes;
  struct edn_error error; /* when failed */
};

edn_reader *edn_reader_new(const struct edn_limits *lim) {
  edn_reader *r = calloc(1, sizeof *r);
  if (!r)
    return NULL;
  if (lim)
    r->lim = *lim;
  r->max_depth = edn__max_depth(lim);
  r->max_bytes = edn__max_bytes(lim);
  r->state = S_SPACE;
  return r;
}

void edn_reader_free(edn_reader *r) {
  if (!r)
    return;
  free(r->buf);
  free(r->prefix);
  free(r);
}

/* Drop consumed bytes once they are the larger part of the buffer, so the
 * buffer holds about one pending value and moves cost amortised O(1). */
static void compact(edn_reader *r) {
  size_t k = r->start;
  if (k == 0 || k < r->len / 2)
    return;
  memmove(r->buf, r->buf + k, r->len - k);
  r->len -= k;
  r->base += k;
  r->scan -= k;
  r->end -= r->ready ? k : 0;
  r->start = 0;
}

int edn_reader_feed(edn_reader *r, const char *chunk, size_t len) {
  compact(r);
  if (r->cap - r->len < len) {
    size_t cap = r->cap ? r->cap : 4096;
    char *n;
    while (cap - r->len < len) {
      if (cap > SIZE_MAX / 2)
        return -1;
      cap *= 2;
    }
    if (!(n = realloc(r->buf, cap)))
      return -1;
    r->buf = n;
    r->cap = cap;
  }
  if (len)
    memcpy(r->buf + r->len, chunk, len);
  r->len += len;
  return 0;
}

void edn_reader_finish(edn_reader *r) { r->finished = true; }

/* ---- The scanner ------------------------------------------------------------ */

static bool idle(const edn_reader *r) { return r->depth == 0 && r->nprefix == 0; }

static void set_ready(edn_reader *r, size_t end) {
  r->ready = true;
  r->end = end;
}

static void push_prefix(edn_reader *r, char kind, size_t i) {
  if (r->nprefix == r->capprefix) {
    size_t cap = r->capprefix ? r->capprefix * 2 : 16;
    char *n = realloc(r->prefix, cap);
    if (!n) { /* let the parser say what it can of this span */
      set_ready(r, i);
      return;
    }
    r->prefix = n;
    r->capprefix = cap;
  }
  r->prefix[r->nprefix++] = kind;
  if (r->nprefix + r->depth > r->max_depth)
    set_ready(r, i); /* the parser reports the depth */
}

/* A form ended at i on the top level: tags wrap it, a discard drops it,
 * otherwise it is the value. */
static void form_done(edn_reader *r, size_t i) {
  while (r->nprefix && r->prefix[r->nprefix - 1] == PREFIX_TAG)
    r->nprefix--;
  if (r->nprefix) { /* a discard */
    r->nprefix--;
    if (r->nprefix == 0)
      r->start = i;
    return;
  }
  set_ready(r, i);
}

static void token_done(edn_reader *r, size_t i) {
  if (r->depth)
    return;
  if (r->token_is_tag)
    push_prefix(r, PREFIX_TAG, i);
  else
    form_done(r, i);
}

static void open_coll(edn_reader *r, size_t i) {
  r->depth++;
  if (r->nprefix + r->depth > r->max_depth)
    set_ready(r, i);
}

static void close_coll(edn_reader *r, size_t i) {
  if (r->depth == 0) { /* stray: the parser says so */
    set_ready(r, i);
    return;
  }
  if (--r->depth == 0)
    form_done(r, i);
}

static void scan_space(edn_reader *r, unsigned char c, size_t *ip) {
  size_t i = *ip;
  if (edn__class[c] & EDN_C_WS) {
    *ip = i + 1;
    if (idle(r))
      r->start = i + 1;
    return;
  }
  *ip = i + 1;
  switch (c) {
  case ';': r->state = S_COMMENT; break;
  case '"': r->state = S_STRING; break;
  case '\\': r->state = S_CHAR1; break;
  case '#': r->state = S_HASH; break;
  case '(': case '[': case '{': open_coll(r, i + 1); break;
  case ')': case ']': case '}': close_coll(r, i + 1); break;
  default:
    r->state = S_TOKEN;
    r->token_is_tag = false;
    if (c == 0 || c == '^') /* never a form: let the parser say so */
      set_ready(r, i + 1);
  }
}

static void scan_hash(edn_reader *r, unsigned char c, size_t *ip) {
  r->state = S_SPACE;
  if (c == '{') {
    (*ip)++;
    open_coll(r, *ip);
  } else if (c == '_') {
    (*ip)++;
    if (r->depth == 0)
      push_prefix(r, PREFIX_DISCARD, *ip);
  } else if (c == '#' || (unsigned)((c | 0x20) - 'a') < 26u) {
    (*ip)++;
    r->state = S_TOKEN;
    r->token_is_tag = c != '#' && r->depth == 0;
  } else if (r->depth == 0) {
    set_ready(r, *ip + 1); /* not EDN: the parser says why */
  }
}

/* Inside a collection only strings, comments, character literals and
 * brackets decide where the top-level value ends (tokens, tags and
 * discards do not): skip every other byte at table speed. Returns where it
 * stopped, having set the state for what comes next. */
static size_t scan_nested(edn_reader *r, const unsigned char *s, size_t i,
                          size_t n) {
  while (i < n) {
    unsigned char c = s[i];
    if (!(edn__class[c] & EDN_C_NEST)) {
      i++;
      continue;
    }
    switch (c) {
    case '"': r->state = S_STRING; return i + 1;
    case ';': r->state = S_COMMENT; return i + 1;
    case '\\':
      if (i + 1 < n) { /* \( \" \; are characters, not syntax */
        i += 2;
        continue;
      }
      r->state = S_CHAR1;
      return i + 1;
    case '(': case '[': case '{':
      open_coll(r, ++i);
      if (r->ready)
        return i;
      continue;
    case ')': case ']': case '}':
      close_coll(r, ++i);
      if (r->depth == 0 || r->ready)
        return i;
      continue;
    default: /* NUL, ^: never EDN, let the parser say so now */
      set_ready(r, i + 1);
      return i + 1;
    }
  }
  return i;
}

static void scan(edn_reader *r) {
  const unsigned char *s = (const unsigned char *)r->buf;
  size_t i = r->scan, n = r->len;
  while (i < n && !r->ready) {
    unsigned char c = s[i];
    switch (r->state) {
    case S_SPACE:
      if (r->depth)
        i = scan_nested(r, s, i, n);
      else
        scan_space(r, c, &i);
      break;
    case S_COMMENT:
      while (i < n && s[i] != '\n' && s[i] != '\r')
        i++;
      if (i == n)
        break;
      i++;
      r->state = S_SPACE;
      if (idle(r))
        r->start = i;
      break;
    case S_STRING:
      while (i < n && s[i] != '"' && s[i] != '\\')
        i++;
      if (i == n)
        break;
      if (s[i++] == '\\') {
        r->state = S_STRING_ESC;
      } else {
        r->state = S_SPACE;
        if (r->depth == 0)
          form_done(r, i);
      }
      break;
    case S_STRING_ESC: r->state = S_STRING; i++; break;
    case S_CHAR1: r->state = S_TOKEN; r->token_is_tag = false; i++; break;
    case S_HASH: scan_hash(r, c, &i); break;
    case S_TOKEN:
      while (i < n && !(edn__class[s[i]] & EDN_C_DELIM))
        i++;
      if (i == n)
        break;
      r->state = S_SPACE;
      token_done(r, i);
      break;
    }
    if (!r->ready && i - r->start > r->max_bytes) {
      r->failed = true;
      edn__fail(&r->error, r->base + r->start,
                "value longer than the limit of %zu bytes", r->max_bytes);
      break;
    }
  }
  r->scan = i;
}

/* ---- Taking values ---------------------------------------------------------- */

static void restart_scanner(edn_reader *r, size_t at) {
  r->start = r->scan = at;
  r->ready = false;
  r->state = S_SPACE;
  r->depth = 0;
  r->nprefix = 0;
}

/* Read buf[start..end) as one value: 1, 0 (nothing there) or EDN_ERROR. */
static int take(edn_reader *r, size_t end, edn_arena *a, edn_value **out,
                struct edn_error *err) {
  int rc = edn__read_span(a, r->buf + r->start, end - r->start,
                          r->base + r->start, &r->lim, NULL, out, &r->error);
  restart_scanner(r, end);
  if (rc == EDN_OK)
    return 1;
  if (rc == EDN_EMPTY)
    return 0;
  r->failed = true;
  if (err)
    *err = r->error;
  return EDN_ERROR;
}

int edn_reader_next(edn_reader *r, edn_arena *a, edn_value **out,
                    struct edn_error *err) {
  for (;;) {
    int rc;
    if (r->failed) {
      if (err)
        *err = r->error;
      return EDN_ERROR;
    }
    if (!r->ready)
      scan(r);
    if (r->ready) {
      if ((rc = take(r, r->end, a, out, err)) != 0)
        return rc;
      continue;
    }
    if (r->failed)
      continue;
    if (!r->finished)
      return 0;
    /* End of input: a token at the top ends here; anything else left is
     * read as it is, which names what is unfinished. */
    if (r->state == S_TOKEN && r->depth == 0) {
      r->state = S_SPACE;
      token_done(r, r->len);
      if (r->ready)
        continue;
    }
    if (r->start >= r->len)
      return 0;
    if ((rc = take(r, r->len, a, out, err)) != 0)
      return rc;
  }
}
