/* probe.c — the probe's serve loop: lines in, one EDN reply line out per
 * request, in order; a bad line is answered and serving goes on; EOF ends
 * it (closing any death watch left open). The ops themselves are in
 * probe_ops.c, probe_read.c, probe_trace_*.c and probe_watch.c. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "linebuf.h"

#define PROBE_LINE_MAX (1u << 20) /* a request line, as for a node */

typedef int (*probe_op)(edn_arena *, const edn_value *, edn_value *,
                        const struct probe_options *);

static const struct {
  const char *name;
  probe_op fn;
} ops[] = {
  {"ps", probe_op_ps},
  {"fds", probe_op_fds},
  {"signal", probe_op_signal},
  {"read", probe_op_read},
  {"trace-dir", probe_op_trace_dir},
  {"trace-files", probe_op_trace_files},
  {"trace-read", probe_op_trace_read},
  {"trace-remove", probe_op_trace_remove},
  {"watch-start", probe_op_watch_start},
  {"watch-read", probe_op_watch_read},
  {"watch-stop", probe_op_watch_stop},
};

/* A reply map {:id ID} (ID copied, or nil). NULL when out of memory. */
static edn_value *reply_to(edn_arena *a, const edn_value *id) {
  edn_value *m = edn_coll(a, EDN_MAP);
  edn_value *v = id ? edn_copy(a, id) : edn_nil(a);
  if (!m || !v || edn_map_putk(a, m, "id", v) < 0) return NULL;
  return m;
}

/* {:id nil :error {:type :wat/TYPE :message MSG}}, or NULL (no memory). */
static edn_value *fail_nil(edn_arena *a, const char *type, const char *msg) {
  edn_value *m = reply_to(a, NULL);
  return m && probe_error(a, m, type, msg) == 0 ? m : NULL;
}

/* The reply to one request line (kind: a linebuf_next result), in `a`.
 * *skip is set for a blank line, which gets no reply. NULL: no memory. */
static edn_value *answer(edn_arena *a, int kind, const char *line, size_t len,
                         const struct probe_options *o, bool *skip) {
  if (kind == LINEBUF_TOO_LONG)
    return fail_nil(a, "line-too-long", "the request line is over 1 MiB");
  edn_value *req = NULL;
  struct edn_error err;
  int r = edn_read(a, line, len, NULL, &req, &err);
  if (r == EDN_EMPTY) {
    *skip = true;
    return NULL;
  }
  if (r != EDN_OK) {
    char msg[200];
    snprintf(msg, sizeof msg, "at byte %zu: %s", err.offset, err.message);
    return fail_nil(a, "parse-error", msg);
  }
  if (req->type != EDN_MAP) return fail_nil(a, "bad-request", "a request is a map");
  const edn_value *id = edn_map_getk(req, "id");
  if (!id || id->type != EDN_INT)
    return fail_nil(a, "bad-request", "a request needs an integer :id");
  edn_value *reply = reply_to(a, id);
  const edn_value *op = edn_map_getk(req, "op");
  if (!reply) return NULL;
  if (!op || op->type != EDN_KEYWORD)
    return probe_error(a, reply, "bad-request", "a request needs a keyword :op")
             ? NULL : reply;
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
    if (edn_is_keyword(op, ops[i].name))
      return ops[i].fn(a, req, reply, o) == 0 ? reply : NULL;
  char msg[320];
  snprintf(msg, sizeof msg, "unknown op :%.120s (the probe serves :ps :fds "
           ":signal :read :trace-dir :trace-files :trace-read :trace-remove "
           ":watch-start :watch-read :watch-stop)", op->u.text.ptr);
  return probe_error(a, reply, "unknown-op", msg) ? NULL : reply;
}

static int write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return -errno;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* Answer one line into `out`'s buffer and write it. 0 or a negative errno. */
static int serve_line(edn_arena *a, struct edn_buf *buf, int kind,
                      const char *line, size_t len, int out,
                      const struct probe_options *o) {
  bool skip = false;
  edn_arena_reset(a);
  buf->len = 0;
  edn_value *reply = answer(a, kind, line, len, o, &skip);
  if (skip) return 0;
  if (!reply || edn_print(buf, reply) < 0 || edn_buf_append(buf, "\n", 1) < 0)
    return -ENOMEM;
  return write_all(out, buf->ptr, buf->len);
}

int probe_run(int in, int out, const struct probe_options *o, char *why,
              size_t why_len) {
  struct linebuf lb;
  struct edn_buf buf = {0};
  edn_arena *a = edn_arena_new();
  int rc = a ? 0 : -ENOMEM;
  const char *what = "unable to allocate";
  linebuf_init(&lb, PROBE_LINE_MAX);
  while (rc == 0) {
    const char *line;
    size_t len;
    int kind = linebuf_next(&lb, &line, &len);
    if (kind != LINEBUF_NONE) {
      rc = serve_line(a, &buf, kind, line, len, out, o);
      what = rc == -ENOMEM ? "unable to allocate a reply" : "unable to write a reply";
    } else if (lb.eof) {
      break;
    } else {
      long r = linebuf_read(&lb, in);
      if (r < 0 && r != -EINTR) {
        rc = (int)r;
        what = "unable to read requests";
      }
    }
  }
  if (rc < 0) snprintf(why, why_len, "probe: %s: %s", what, strerror(-rc));
  probe_watch_end_all();
  linebuf_free(&lb);
  edn_buf_free(&buf);
  edn_arena_free(a);
  return rc;
}
