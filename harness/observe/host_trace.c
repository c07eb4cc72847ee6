/* host_trace.c — a far host's trace directory through its probe: made
 * there (:trace-dir), its trace files copied into a local directory piece
 * by piece (:trace-files, :trace-read), and removed there
 * (:trace-remove). Each request is bounded by the host's timeout, as
 * every other question to the probe. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host_internal.h"
#include "write_all.h"

/* ":op :OP :dir "DIR"" plus `more` (already EDN) into out[n], DIR printed
 * as an EDN string. 0, or -ENAMETOOLONG / -ENOMEM. */
static int trace_body(char *out, size_t n, const char *op, const char *dir,
                      const char *more) {
  struct edn_buf b = {0};
  edn_value d = {.type = EDN_STRING, .u.text = {dir, strlen(dir)}};
  if (edn_print(&b, &d) < 0) {
    edn_buf_free(&b);
    return -ENOMEM;
  }
  int k = snprintf(out, n, ":op :%s :dir %.*s%s", op, (int)b.len, b.ptr, more);
  edn_buf_free(&b);
  return k < 0 || (size_t)k >= n ? -ENAMETOOLONG : 0;
}

/* Ask `body` and take the probe's error as -errno. */
static int ask(struct host *h, const char *body, edn_value **r) {
  int rc = ssh_ask(h, body, r);
  return rc < 0 ? rc : probe_reply_error(h, *r);
}

int host_trace_mkdir(struct host *h, char **dir) {
  edn_value *r;
  *dir = NULL;
  if (h->local)
    return -EINVAL;
  int rc = ask(h, ":op :trace-dir", &r);
  if (rc < 0)
    return rc;
  const edn_value *d = edn_map_getk(r, "dir");
  if (!d || d->type != EDN_STRING || d->u.text.ptr[0] != '/') {
    snprintf(h->error, sizeof h->error, "%s: the probe's :trace-dir reply has no :dir",
             h->name);
    return -EPROTO;
  }
  *dir = strndup(d->u.text.ptr, d->u.text.len);
  return *dir ? 0 : -ENOMEM;
}

int host_trace_remove(struct host *h, const char *dir) {
  char body[4400];
  edn_value *r;
  int rc = trace_body(body, sizeof body, "trace-remove", dir, "");
  return rc < 0 ? rc : ask(h, body, &r);
}

/* The name the probe gave is a plain trace file name here too (letters,
 * digits, '.', '_', '-'; not hidden): never a path, nothing to escape. */
static bool plain_name(const char *s, size_t len) {
  if (len == 0 || len >= 256 || s[0] == '.' || strlen(s) != len)
    return false;
  for (size_t i = 0; i < len; i++)
    if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", s[i]))
      return false;
  return true;
}

/* Append far file DIR/NAME to the open local fd, piece by piece. */
static int copy_file(struct host *h, const char *dir, const char *name, int fd) {
  long long off = 0;
  for (;;) {
    char more[400], body[4800];
    edn_value *r;
    snprintf(more, sizeof more, " :file \"%s\" :offset %lld", name, off);
    int rc = trace_body(body, sizeof body, "trace-read", dir, more);
    if (rc < 0 || (rc = ask(h, body, &r)) < 0)
      return rc;
    const edn_value *text = edn_map_getk(r, "text"), *next = edn_map_getk(r, "next"),
                    *eof = edn_map_getk(r, "eof");
    if (!text || text->type != EDN_STRING || !next || next->type != EDN_INT ||
        !eof || eof->type != EDN_BOOL ||
        (!eof->u.boolean && next->u.integer <= off)) {
      snprintf(h->error, sizeof h->error, "%s: the probe's :trace-read reply "
               "for %s has no piece that moves on", h->name, name);
      return -EPROTO;
    }
    if ((rc = write_all(fd, text->u.text.ptr, text->u.text.len)) < 0) {
      snprintf(h->error, sizeof h->error, "unable to write a copy of %s: %s",
               name, strerror(-rc));
      return rc;
    }
    if (eof->u.boolean)
      return 0;
    off = next->u.integer;
  }
}

/* Copy far DIR/NAME to INTO/NAME (appended, as a node appends its own). */
static int fetch_file(struct host *h, const char *dir, const char *name,
                      const char *into) {
  char path[4400];
  snprintf(path, sizeof path, "%s/%s", into, name);
  int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    int e = errno;
    snprintf(h->error, sizeof h->error, "unable to create %.300s: %s", path, strerror(e));
    return -e;
  }
  int rc = copy_file(h, dir, name, fd);
  if (close(fd) < 0 && rc == 0) {
    rc = -errno;
    snprintf(h->error, sizeof h->error, "unable to write %.300s: %s", path, strerror(-rc));
  }
  return rc;
}

/* One page of names (after `after`, "" for the first) into a malloc'ed
 * *names of *n: the reply's arena is reset by the reads that follow. */
static int list_page(struct host *h, const char *dir, const char *after,
                     char ***names, size_t *n, bool *more) {
  char body[4800], tail[400] = "";
  edn_value *r;
  if (after[0])
    snprintf(tail, sizeof tail, " :after \"%s\"", after);
  int rc = trace_body(body, sizeof body, "trace-files", dir, tail);
  if (rc < 0 || (rc = ask(h, body, &r)) < 0)
    return rc;
  const edn_value *files = edn_map_getk(r, "files"), *m = edn_map_getk(r, "more");
  if (!files || files->type != EDN_VECTOR) {
    snprintf(h->error, sizeof h->error, "%s: the probe's :trace-files reply has no :files",
             h->name);
    return -EPROTO;
  }
  *more = m && m->type == EDN_BOOL && m->u.boolean;
  *names = calloc(files->u.seq.len + 1, sizeof **names);
  for (size_t i = 0; *names && i < files->u.seq.len; i++) {
    const edn_value *nm = edn_map_getk(files->u.seq.items[i], "name");
    if (nm && nm->type == EDN_STRING && plain_name(nm->u.text.ptr, nm->u.text.len) &&
        !((*names)[(*n)++] = strdup(nm->u.text.ptr)))
      return -ENOMEM;
  }
  return *names ? 0 : -ENOMEM;
}

static void free_names(char **names, size_t n) {
  for (size_t i = 0; names && i < n; i++)
    free(names[i]);
  free(names);
}

int host_trace_fetch(struct host *h, const char *dir, const char *into,
                     size_t *files) {
  *files = 0;
  if (mkdir(into, 0755) < 0 && errno != EEXIST) {
    int e = errno;
    snprintf(h->error, sizeof h->error, "unable to create %.300s: %s", into, strerror(e));
    return -e;
  }
  char last[256] = "";
  for (bool more = true; more;) {
    char **names = NULL;
    size_t n = 0;
    int rc = list_page(h, dir, last, &names, &n, &more);
    for (size_t i = 0; rc == 0 && i < n; i++)
      if ((rc = fetch_file(h, dir, names[i], into)) == 0)
        (*files)++;
    if (rc == 0 && n)
      snprintf(last, sizeof last, "%s", names[n - 1]);
    free_names(names, n);
    if (rc < 0)
      return rc;
    if (!n)
      break;
  }
  return 0;
}
