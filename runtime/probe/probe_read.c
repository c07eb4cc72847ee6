/* probe_read.c — the probe's :read: a piece of a text file (a trace file,
 * say) on the probe's host, for a harness on another host to collect.
 *
 * Safe by construction: only with `--read-dir DIR`; only a regular file
 * whose real path (symlinks and ".." resolved) lies under DIR's real path;
 * opened O_NOFOLLOW | O_NONBLOCK (no fifo or device can block it); at most
 * PROBE_CHUNK_MAX bytes per reply (so even a piece that escapes byte by
 * byte prints within the wire's 1 MiB line), valid UTF-8 (a sequence cut
 * by the chunk's end is left for the next :read), so the reply is an EDN
 * string.
 * The chunking (probe_put_chunk) is :trace-read's too. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

/* The real path of `path` when it lies under the real path of `dir`, in
 * out[PATH_MAX]; -1 (errno) otherwise. */
static int resolve_under(const char *dir, const char *path, char *out) {
  char root[PATH_MAX];
  if (!realpath(dir, root) || !realpath(path, out)) return -1;
  size_t n = strlen(root);
  bool top = n == 1; /* "/" */
  if (!top && (strncmp(out, root, n) != 0 || out[n] != '/')) {
    errno = EPERM;
    return -1;
  }
  return 0;
}

/* The length of buf[0..n) cut to whole UTF-8 sequences: n when it is all
 * valid; less when only the last sequence is cut short and `more` (the
 * file goes on); -1 when it is not text (or the chunk starts inside a
 * sequence: an offset that is not a :next). n >= 4 when `more`, so the
 * first sequence is always whole. */
static long utf8_prefix(const char *buf, size_t n, bool more) {
  size_t i = 0;
  while (i < n) {
    uint32_t cp;
    size_t k = edn_utf8_decode((const unsigned char *)buf + i, n - i, &cp);
    if (k == 0) return more && i > 0 && n - i < 4 ? (long)i : -1;
    i += k;
  }
  return (long)n;
}

static int refuse(edn_arena *a, edn_value *reply, const char *type,
                  const char *what, const char *path, int e) {
  char msg[PATH_MAX + 128];
  snprintf(msg, sizeof msg, "%s: %s%s%s", path, what, e ? ": " : "",
           e ? strerror(e) : "");
  return probe_error(a, reply, type, msg);
}

int probe_put_chunk(edn_arena *a, edn_value *reply, int fd, const char *path,
                     long long offset, long long max, long long size) {
  char *buf = malloc((size_t)max);
  if (!buf) return -ENOMEM;
  ssize_t got = offset < size ? pread(fd, buf, (size_t)max, offset) : 0;
  if (got < 0) {
    int e = errno;
    free(buf);
    return refuse(a, reply, "io-error", "unable to read", path, e);
  }
  bool more = offset + got < size;
  long keep = utf8_prefix(buf, (size_t)got, more);
  int rc = 0;
  if (keep < 0)
    rc = refuse(a, reply, "not-text", "not UTF-8 text", path, 0);
  else if (edn_map_putk(a, reply, "size", edn_int(a, size)) < 0 ||
           edn_map_putk(a, reply, "offset", edn_int(a, offset)) < 0 ||
           edn_map_putk(a, reply, "text", edn_string(a, buf, (size_t)keep)) < 0 ||
           edn_map_putk(a, reply, "next", edn_int(a, offset + keep)) < 0 ||
           edn_map_putk(a, reply, "eof", edn_bool(a, offset + keep >= size)) < 0)
    rc = -ENOMEM;
  free(buf);
  return rc;
}

int probe_op_read(edn_arena *a, const edn_value *req, edn_value *reply,
                  const struct probe_options *o) {
  const edn_value *p = edn_map_getk(req, "path");
  long long offset = 0, max = PROBE_CHUNK_MAX;
  if (!p || p->type != EDN_STRING || p->u.text.ptr[0] != '/' ||
      strlen(p->u.text.ptr) != p->u.text.len ||
      (edn_map_getk(req, "offset") &&
       probe_int_arg(req, "offset", 0, INT64_MAX, &offset) < 0) ||
      (edn_map_getk(req, "max") && probe_int_arg(req, "max", 4, PROBE_CHUNK_MAX, &max) < 0))
    return probe_error(a, reply, "bad-request",
                       ":read needs :path, an absolute path; :offset and :max "
                       "(4 to 131072, the default) are optional integers");
  const char *path = p->u.text.ptr;
  if (edn_map_putk(a, reply, "path", edn_string(a, path, p->u.text.len)) < 0)
    return -ENOMEM;
  if (!o || !o->read_dir)
    return refuse(a, reply, "refused", "the probe was started without --read-dir",
                  path, 0);
  char real[PATH_MAX];
  if (resolve_under(o->read_dir, path, real) < 0)
    return errno == EPERM
             ? refuse(a, reply, "refused", "not under the probe's --read-dir", path, 0)
             : refuse(a, reply, "io-error", "unable to resolve", path, errno);
  int fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  struct stat st;
  if (fd < 0) return refuse(a, reply, "io-error", "unable to open", path, errno);
  int rc;
  if (fstat(fd, &st) < 0) rc = refuse(a, reply, "io-error", "unable to stat", path, errno);
  else if (!S_ISREG(st.st_mode)) rc = refuse(a, reply, "refused", "not a regular file", path, 0);
  else rc = probe_put_chunk(a, reply, fd, path, offset, max, (long long)st.st_size);
  close(fd);
  return rc;
}
