/* probe_trace_dir.c — the probe's trace directories and what may lie in
 * them, by name. :trace-dir makes one: mkdtemp of BASE/tp-trace.XXXXXX,
 * BASE being the real path of $TMPDIR (absolute), else of /tmp. Every
 * other trace op opens its :dir through probe_trace_dir_open, which takes
 * only a path of exactly that shape under this probe's BASE, a real
 * directory (no symlink) owned by this user: the ops that read and remove
 * can touch nothing the probe's naming did not make. */
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

#define TRACE_PREFIX "tp-trace."
#define TRACE_XS 6 /* mkdtemp's XXXXXX */

/* BASE's real path into out[PATH_MAX]: 0, or -1 with errno. */
static int trace_base(char *out) {
  const char *t = getenv("TMPDIR");
  return realpath(t && t[0] == '/' ? t : "/tmp", out) ? 0 : -1;
}

/* mkdtemp's letters, as glibc draws them. */
static bool temp_letter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Whether `path` is BASE/tp-trace.XXXXXX in shape (it may not exist). */
static bool trace_dir_name(const char *path, const char *base) {
  size_t n = strlen(base);
  if (strncmp(path, base, n) != 0 || path[n] != '/') return false;
  const char *leaf = path + n + 1;
  if (strncmp(leaf, TRACE_PREFIX, strlen(TRACE_PREFIX)) != 0) return false;
  leaf += strlen(TRACE_PREFIX);
  for (int i = 0; i < TRACE_XS; i++)
    if (!temp_letter(leaf[i])) return false;
  return leaf[TRACE_XS] == '\0';
}

bool probe_trace_file_name(const char *name) {
  size_t n = strlen(name);
  if (n <= 5 || name[0] == '.' || strcmp(name + n - 5, ".ednl") != 0) return false;
  for (size_t i = 0; i < n; i++)
    if (!temp_letter(name[i]) && name[i] != '.' && name[i] != '_' && name[i] != '-')
      return false;
  return true;
}

DIR *probe_trace_dir_stream(int dfd) {
  int fd = dup(dfd);
  DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
  if (!d) {
    int e = errno;
    if (fd >= 0) close(fd);
    errno = e;
    return NULL;
  }
  rewinddir(d);
  return d;
}

int probe_op_trace_dir(edn_arena *a, const edn_value *req, edn_value *reply,
                       const struct probe_options *o) {
  (void)req;
  (void)o;
  char base[PATH_MAX], dir[PATH_MAX + 32], msg[PATH_MAX + 128];
  if (trace_base(base) < 0) {
    snprintf(msg, sizeof msg, "unable to resolve the temporary directory: %s",
             strerror(errno));
    return probe_error(a, reply, "io-error", msg);
  }
  snprintf(dir, sizeof dir, "%s/" TRACE_PREFIX "XXXXXX", base);
  if (!mkdtemp(dir)) { /* 0700: only this user's nodes trace there */
    snprintf(msg, sizeof msg, "unable to make %s: %s", dir, strerror(errno));
    return probe_error(a, reply, "io-error", msg);
  }
  return edn_map_putk(a, reply, "dir", edn_string(a, dir, strlen(dir)));
}

/* The error for `path`, which failed to open or check as a trace dir. */
static int dir_refused(edn_arena *a, edn_value *reply, const char *path, int e) {
  char msg[PATH_MAX + 160];
  if (e == ENOENT) {
    snprintf(msg, sizeof msg, "%s: no such trace directory", path);
    return probe_error(a, reply, "no-such-dir", msg);
  }
  if (e == EPERM) {
    snprintf(msg, sizeof msg, "%s: not a trace directory this probe makes "
             "(BASE/" TRACE_PREFIX "XXXXXX, a directory of its own user)", path);
    return probe_error(a, reply, "refused", msg);
  }
  snprintf(msg, sizeof msg, "%s: %s", path, strerror(e));
  return probe_error(a, reply, "io-error", msg);
}

/* Open `path` as one of this probe's trace dirs: its fd, or -1 with errno
 * (EPERM: not one). */
static int open_checked(const char *path) {
  char base[PATH_MAX];
  if (trace_base(base) < 0) return -1;
  if (!trace_dir_name(path, base)) {
    errno = EPERM;
    return -1;
  }
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ELOOP || errno == ENOTDIR) errno = EPERM; /* a symlink, a file */
    return -1;
  }
  struct stat st;
  int e = fstat(fd, &st) < 0 ? errno : st.st_uid != geteuid() ? EPERM : 0;
  if (e) {
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

int probe_trace_dir_open(edn_arena *a, const edn_value *req, edn_value *reply,
                         const char **path, int *dfd) {
  const edn_value *d = edn_map_getk(req, "dir");
  *dfd = -1;
  if (!d || d->type != EDN_STRING || d->u.text.ptr[0] != '/' ||
      strlen(d->u.text.ptr) != d->u.text.len || d->u.text.len >= PATH_MAX) {
    int rc = probe_error(a, reply, "bad-request",
                         "a trace op needs :dir, the absolute path :trace-dir gave");
    return rc < 0 ? rc : 1;
  }
  *path = d->u.text.ptr;
  if (edn_map_putk(a, reply, "dir", edn_string(a, d->u.text.ptr, d->u.text.len)) < 0)
    return -ENOMEM;
  *dfd = open_checked(*path);
  if (*dfd >= 0) return 0;
  int rc = dir_refused(a, reply, *path, errno);
  return rc < 0 ? rc : 1;
}
