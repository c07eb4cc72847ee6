/* wire.c — the root's three pipes, read and written without ever blocking:
 * its stdout cut into lines and replies kept by :id (only answers to
 * requests sent; strays are evidence only), its stderr kept (first 1 MiB),
 * requests written with the output read meanwhile, and one request routed
 * from the root to any node with its reply awaited. The harness's own
 * requests go under internal (negative) ids that evidence never shows: it
 * names the request instead ("the harness's :stats request to L1"). */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

static void keep_reply(struct engine *e, int64_t id, const edn_value *v) {
  if (e->nreplies == e->capreplies) {
    size_t cap = e->capreplies ? e->capreplies * 2 : 64;
    struct reply *r = realloc(e->replies, cap * sizeof *r);
    if (!r) {
      e->internal_error = true;
      return;
    }
    e->replies = r;
    e->capreplies = cap;
  }
  edn_value *copy = edn_copy(e->arena, v);
  if (!copy) {
    e->internal_error = true;
    return;
  }
  e->replies[e->nreplies++] = (struct reply){id, copy};
}

/* A reply in the backpressure window (the flood's ids go down from
 * bulk_hi, one per request; bulk_next is one below the lowest answered).
 * A reply below bulk_next is in order, or ahead of requests still
 * unanswered: those are the holes it leaves, each kept in the id table
 * (sent once, got 0) until its own reply comes. A reply above bulk_next
 * fills a hole, and then came after a later request's reply: out of order
 * (bulk_first_disorder is the first); anything else above bulk_next is a
 * duplicate. audit_backpressure.c counts the holes after the drain. */
static void bulk_reply(struct engine *e, int64_t id, const edn_value *v) {
  if (!e->bulk_on) {
    engine_fail(e, PROP_BACKPRESSURE, "backpressure: a reply to request %"
                PRId64 " of the flood came after its drain had ended",
                e->bulk_hi - id + 1);
    return;
  }
  if (id > e->bulk_next) {
    struct idcount *hole = engine_idcount(e, id, false);
    if (!hole || hole->got++ > 0) {
      e->bulk_dup++;
      return;
    }
    if (!e->bulk_first_disorder)
      e->bulk_first_disorder = id;
  } else {
    for (int64_t h = e->bulk_next; h > id; h--) {
      struct idcount *hole = engine_idcount(e, h, true);
      if (!hole) {
        e->internal_error = true;
        break;
      }
      hole->sent = 1;
    }
    e->bulk_next = id - 1;
  }
  e->bulk_got++;
  const edn_value *body = edn_map_getk(v, "body");
  if (!body || body->type != EDN_STRING || body->u.text.len != e->bulk_body_len)
    e->bulk_bad++;
}

/* Take the :id out of a reply map (in place): a reply to an internal
 * request is shown, and handed on, without it. */
static void drop_id(edn_value *v) {
  if (!v || v->type != EDN_MAP)
    return;
  for (size_t i = 0; i < v->u.map.len; i++)
    if (edn_is_keyword(v->u.map.entries[i].key, "id")) {
      memmove(&v->u.map.entries[i], &v->u.map.entries[i + 1],
              (v->u.map.len - i - 1) * sizeof *v->u.map.entries);
      v->u.map.len--;
      return;
    }
}

static void on_line(struct engine *e, const char *p, size_t n) {
  while (n && (p[n - 1] == '\r'))
    n--;
  /* a reply may claim a process (a restarted node's new pid) newer than
   * a far host's last scan: the next reading of each is taken afresh */
  for (size_t i = 0; i < e->nhosts; i++)
    if (e->hosts[i].h) /* NULL: no probe there (TREEPROOF_PROBE_SKIP) */
      host_forget(e->hosts[i].h);
  edn_arena_reset(e->scratch);
  edn_value *v = NULL;
  struct edn_error err;
  struct edn_limits lim = {.max_depth = 4096, .max_bytes = 256u << 20};
  int rc = edn_read(e->scratch, p, n, &lim, &v, &err);
  htrace_edge(e, "up", p, n, rc == EDN_OK);
  int show = n > 300 ? 300 : (int)n; /* p is not NUL-terminated */
  if (rc == EDN_EMPTY)
    return;
  if (rc != EDN_OK || v->type != EDN_MAP) {
    engine_fail(e, PROP_REPLIES,
                "replies: the root wrote a line that is not an EDN map (%s): "
                "%.*s",
                rc == EDN_OK ? edn_type_name(v->type) : err.message, show, p);
    return;
  }
  const edn_value *idv = edn_map_getk(v, "id");
  if (!idv || idv->type != EDN_INT) {
    engine_fail(e, PROP_REPLIES,
                "replies: a reply without an integer :id: %.*s", show, p);
    return;
  }
  int64_t id = idv->u.integer;
  if (e->bulk_hi < 0 && id >= e->bulk_lo && id <= e->bulk_hi) {
    bulk_reply(e, id, v); /* the flood's, during its drain or after */
    return;
  }
  /* Only answers to what was sent are kept: a stray or a surplus reply is
   * evidence, not a reply to wait for, so what a broken root floods us
   * with costs no memory. */
  struct idcount *c = engine_idcount(e, id, false);
  if (!c || !c->sent) {
    engine_fail(e, PROP_REPLIES, "replies: a reply for :id %" PRId64
                ", which was never sent: %.*s", id, show, p);
    return;
  }
  if (++c->got > c->sent && c->what) {
    drop_id(v);
    char *text = edn_to_string(v);
    engine_fail(e, PROP_REPLIES, "replies: %s was answered %d time(s) but "
                "sent %d time(s): %.300s", c->what, c->got, c->sent,
                text ? text : "?");
    free(text);
    return;
  }
  if (c->got > c->sent) {
    engine_fail(e, PROP_REPLIES,
                "replies: :id %" PRId64 " answered %d time(s) but sent %d "
                "time(s): %.*s",
                id, c->got, c->sent, show, p);
    return;
  }
  keep_reply(e, id, v);
}

/* The longest reply line the harness reads: a node's own limit for a
 * child's reply (a :fan :inspect of a big tree is tens of MB). */
#define REPLY_LINE_MAX (256u << 20)

static void drop_overlong(struct engine *e) {
  if (!e->out_overlong)
    engine_fail(e, PROP_REPLIES, "replies: the root wrote a line over %u MiB "
                "without a newline (dropped as it streams): %.*s",
                REPLY_LINE_MAX >> 20, 300, e->outline.ptr);
  e->out_overlong = true;
  e->outline.len = e->outscan = 0;
}

/* Hand every whole line in outline to on_line. Each byte is looked at
 * once: a long line arrives in many reads, and rescanning it from its
 * start on each would be quadratic. */
static void split_lines(struct engine *e) {
  size_t start = 0;
  char *nl;
  while (e->outscan < e->outline.len &&
         (nl = memchr(e->outline.ptr + e->outscan, '\n',
                      e->outline.len - e->outscan))) {
    size_t end = (size_t)(nl - e->outline.ptr);
    if (e->out_overlong) /* the tail of the dropped line */
      e->out_overlong = false;
    else
      on_line(e, e->outline.ptr + start, end - start);
    start = e->outscan = end + 1;
  }
  e->outscan = e->outline.len;
  if (start) {
    memmove(e->outline.ptr, e->outline.ptr + start, e->outline.len - start);
    e->outline.len -= start;
    e->outscan -= start;
  }
  if (e->outline.len > REPLY_LINE_MAX || (e->out_overlong && e->outline.len))
    drop_overlong(e);
}

static void read_out(struct engine *e) {
  char chunk[65536];
  for (int round = 0; round < 64; round++) {
    ssize_t n = read(e->out_fd, chunk, sizeof chunk);
    if (n > 0) {
      edn_buf_append(&e->outline, chunk, (size_t)n);
      split_lines(e);
      continue;
    }
    if (n == 0) {
      if (e->outline.len && !e->out_overlong) /* a last line, no newline */
        on_line(e, e->outline.ptr, e->outline.len);
      e->outline.len = e->outscan = 0;
      e->out_eof = true;
    } else if (errno == EINTR) {
      continue;
    }
    return;
  }
}

static void read_err(struct engine *e) {
  char chunk[16384];
  for (int round = 0; round < 16; round++) {
    ssize_t n = read(e->err_fd, chunk, sizeof chunk);
    if (n > 0) {
      htrace_edge(e, "err", chunk, (size_t)n, false);
      if (e->errtext.len < (1u << 20))
        edn_buf_append(&e->errtext, chunk, (size_t)n);
      continue;
    }
    if (n == 0)
      e->err_eof = true;
    else if (errno == EINTR)
      continue;
    return;
  }
}

int engine_pump(struct engine *e, int timeout_ms, bool want_write) {
  struct pollfd pf[4];
  int n = 0, iout = -1, ierr = -1, iin = -1, iintr = -1;
  if (session_intr_fd() >= 0) {
    iintr = n;
    pf[n++] = (struct pollfd){session_intr_fd(), POLLIN, 0};
  }
  if (e->out_fd >= 0 && !e->out_eof) {
    iout = n;
    pf[n++] = (struct pollfd){e->out_fd, POLLIN, 0};
  }
  if (e->err_fd >= 0 && !e->err_eof) {
    ierr = n;
    pf[n++] = (struct pollfd){e->err_fd, POLLIN, 0};
  }
  if (want_write && e->in_fd >= 0) {
    iin = n;
    pf[n++] = (struct pollfd){e->in_fd, POLLOUT, 0};
  }
  if (timeout_ms < 0)
    timeout_ms = 0;
  int k = poll(pf, (nfds_t)n, timeout_ms);
  if (k < 0) {
    if (errno == EINTR && session_interrupted()) {
      e->interrupted = true;
      return -EINTR;
    }
    return 0;
  }
  if (iintr >= 0 && pf[iintr].revents) {
    e->interrupted = true;
    return -EINTR;
  }
  if (iout >= 0 && pf[iout].revents)
    read_out(e);
  if (ierr >= 0 && pf[ierr].revents)
    read_err(e);
  return iin >= 0 && pf[iin].revents ? 1 : 0;
}

int engine_write(struct engine *e, const char *buf, size_t len,
                 double deadline) {
  size_t off = 0;
  while (off < len) {
    if (e->in_fd < 0)
      return -EPIPE;
    ssize_t w = write(e->in_fd, buf + off, len - off);
    if (w > 0) {
      off += (size_t)w;
      continue;
    }
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0 && errno != EAGAIN)
      return -errno;
    double left = deadline - engine_now_ms();
    if (left <= 0)
      return -ETIMEDOUT;
    int rc = engine_pump(e, (int)left + 1, true);
    if (rc < 0)
      return rc;
  }
  return 0;
}

int engine_send(struct engine *e, int64_t id, const char *line, size_t len,
                double deadline) {
  struct idcount *c = engine_idcount(e, id, true);
  if (c)
    c->sent++;
  htrace_edge(e, "down", line, len, true);
  int rc = engine_write(e, line, len, deadline);
  if (rc == 0)
    rc = engine_write(e, "\n", 1, deadline + 60000);
  if (rc < 0 && c)
    c->sent--; /* never reached the root */
  return rc;
}

static bool take_reply(struct engine *e, int64_t id, edn_value **out) {
  for (size_t i = 0; i < e->nreplies; i++)
    if (e->replies[i].id == id) {
      *out = e->replies[i].v;
      memmove(&e->replies[i], &e->replies[i + 1],
              (e->nreplies - i - 1) * sizeof *e->replies);
      e->nreplies--;
      return true;
    }
  return false;
}

int engine_await(struct engine *e, int64_t id, double deadline,
                 edn_value **out) {
  for (;;) {
    if (take_reply(e, id, out))
      return 0;
    if (e->out_eof)
      return -EPIPE;
    double left = deadline - engine_now_ms();
    if (left <= 0)
      return -ETIMEDOUT;
    int rc = engine_pump(e, (int)left + 1, false);
    if (rc < 0)
      return rc;
  }
}

edn_value *engine_path_vec(struct engine *e, const struct tree_node *n) {
  edn_value *v = edn_coll(e->arena, EDN_VECTOR);
  if (!v)
    return NULL;
  const struct tree_node *chain[4096];
  size_t k = 0;
  for (const struct tree_node *t = n; t && t->parent && k < 4096; t = t->parent)
    chain[k++] = t;
  while (k--) {
    edn_value *s = edn_string(e->arena, chain[k]->name, strlen(chain[k]->name));
    if (!s || edn_push(e->arena, v, s) < 0)
      return NULL;
  }
  return v;
}

/* "the harness's :fan :inspect request to L1", in e->arena (NULL when out
 * of memory): how evidence names an internal request. */
static const char *describe(struct engine *e, const struct tree_node *to,
                            const edn_value *req) {
  char ops[256] = "";
  size_t n = 0;
  for (int depth = 0; req && req->type == EDN_MAP && depth < 8; depth++) {
    const edn_value *op = edn_map_getk(req, "op");
    if (!op || op->type != EDN_KEYWORD || n >= sizeof ops)
      break;
    int k = snprintf(ops + n, sizeof ops - n, " :%s", op->u.text.ptr);
    n += k > 0 ? (size_t)k : 0;
    req = edn_map_getk(req, "req");
  }
  char *text = NULL;
  int len = asprintf(&text, "the harness's%s request to %s", ops, to->path);
  if (len < 0)
    return NULL;
  edn_value *v = edn_string(e->arena, text, (size_t)len);
  free(text);
  return v ? v->u.text.ptr : NULL;
}

/* The reply comes back without its :id (the internal id is the wire's,
 * and no caller's evidence shows it). */
int engine_request(struct engine *e, const struct tree_node *to, edn_value *req,
                   double deadline, edn_value **out) {
  int64_t id = engine_next_id(e);
  struct idcount *c = engine_idcount(e, id, true);
  if (c)
    c->what = describe(e, to, req);
  edn_value *msg = req;
  if (to->parent) {
    msg = edn_coll(e->arena, EDN_MAP);
    edn_value *path = engine_path_vec(e, to);
    if (!msg || !path || edn_map_putk(e->arena, msg, "op",
                                      edn_keyword(e->arena, "route")) < 0 ||
        edn_map_putk(e->arena, msg, "path", path) < 0 ||
        edn_map_putk(e->arena, msg, "req", req) < 0)
      return -ENOMEM;
  }
  if (edn_map_putk(e->arena, msg, "id", edn_int(e->arena, id)) < 0)
    return -ENOMEM;
  struct edn_buf b = {0};
  if (edn_print(&b, msg) < 0) {
    edn_buf_free(&b);
    return -ENOMEM;
  }
  int rc = engine_send(e, id, b.ptr, b.len, deadline);
  edn_buf_free(&b);
  if (rc < 0)
    return rc;
  rc = engine_await(e, id, deadline, out);
  if (rc == 0)
    drop_id(*out);
  return rc;
}
