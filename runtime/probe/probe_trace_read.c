/* probe_trace_read.c — a trace directory read from another host, in
 * pieces that fit a line: :trace-files lists its trace files (regular
 * NAME.ednl, by name, a page at a time), :trace-read gives a piece of one.
 *
 * Every reply must stay a line a reader with the wire's 1 MiB line limit
 * takes. A piece is at most PROBE_CHUNK_MAX bytes (internal.h), whose
 * :text prints within 768 KiB. A page lists at most TRACE_PAGE_MAX names
 * (each of 255 bytes or less, none escaped: probe_trace_file_name), under
 * 160 KiB. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define TRACE_PAGE_MAX 512

struct entry {
  char *name;
  long long size;
};

static int by_name(const void *x, const void *y) {
  return strcmp(((const struct entry *)x)->name, ((const struct entry *)y)->name);
}

/* The trace files of `dfd` after `after` (NULL: from the first), sorted by
 * name, into a malloc'ed *v of *n. 0, or a negative errno. Closes nothing. */
static int list_files(int dfd, const char *after, struct entry **v, size_t *n) {
  DIR *d = probe_trace_dir_stream(dfd);
  *v = NULL;
  *n = 0;
  if (!d)
    return -errno;
  size_t cap = 0;
  int rc = 0;
  for (struct dirent *de; rc == 0 && (de = readdir(d));) {
    struct stat st;
    if (!probe_trace_file_name(de->d_name) || (after && strcmp(de->d_name, after) <= 0) ||
        fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
      continue;
    if (*n == cap) {
      cap = cap ? cap * 2 : 64;
      struct entry *w = realloc(*v, cap * sizeof *w);
      if (!w) { rc = -ENOMEM; break; }
      *v = w;
    }
    (*v)[*n].size = (long long)st.st_size;
    if (!((*v)[*n].name = strdup(de->d_name))) rc = -ENOMEM;
    else (*n)++;
  }
  closedir(d);
  if (rc == 0) qsort(*v, *n, sizeof **v, by_name);
  return rc;
}

/* :files [{:name N :size S} ...] (the first TRACE_PAGE_MAX of v) and
 * :more (whether any were left out). */
static int put_page(edn_arena *a, edn_value *reply, const struct entry *v, size_t n) {
  edn_value *files = edn_coll(a, EDN_VECTOR);
  if (!files) return -ENOMEM;
  for (size_t i = 0; i < n && i < TRACE_PAGE_MAX; i++) {
    edn_value *m = edn_coll(a, EDN_MAP);
    if (!m || edn_map_putk(a, m, "name", edn_string(a, v[i].name, strlen(v[i].name))) < 0 ||
        edn_map_putk(a, m, "size", edn_int(a, v[i].size)) < 0 || edn_push(a, files, m) < 0)
      return -ENOMEM;
  }
  if (edn_map_putk(a, reply, "files", files) < 0 ||
      edn_map_putk(a, reply, "more", edn_bool(a, n > TRACE_PAGE_MAX)) < 0)
    return -ENOMEM;
  return 0;
}

int probe_op_trace_files(edn_arena *a, const edn_value *req, edn_value *reply,
                         const struct probe_options *o) {
  (void)o;
  const edn_value *after = edn_map_getk(req, "after");
  if (after && (after->type != EDN_STRING || strlen(after->u.text.ptr) != after->u.text.len))
    return probe_error(a, reply, "bad-request",
                       ":trace-files takes :dir and optionally :after, the last "
                       "name of the page before");
  const char *path;
  int dfd, rc = probe_trace_dir_open(a, req, reply, &path, &dfd);
  if (rc != 0) return rc < 0 ? rc : 0;
  struct entry *v = NULL;
  size_t n = 0;
  rc = list_files(dfd, after ? after->u.text.ptr : NULL, &v, &n);
  close(dfd);
  if (rc == 0) rc = put_page(a, reply, v, n);
  else if (rc != -ENOMEM) {
    char msg[300];
    snprintf(msg, sizeof msg, "unable to list %.200s: %s", path, strerror(-rc));
    rc = probe_error(a, reply, "io-error", msg);
  }
  for (size_t i = 0; i < n; i++) free(v[i].name);
  free(v);
  return rc;
}

/* :file of req, a trace file's name; NULL when it is none. */
static const char *file_arg(const edn_value *req) {
  const edn_value *f = edn_map_getk(req, "file");
  if (!f || f->type != EDN_STRING || strlen(f->u.text.ptr) != f->u.text.len ||
      !probe_trace_file_name(f->u.text.ptr))
    return NULL;
  return f->u.text.ptr;
}

/* The error for trace file `file` of `path` that could not be read
 * (e: ENOENT gone, EPERM or ELOOP not a regular file, else an I/O error). */
static int file_refused(edn_arena *a, edn_value *reply, const char *file,
                        const char *path, int e) {
  char msg[600];
  bool odd = e == EPERM || e == ELOOP;
  snprintf(msg, sizeof msg, "%s in %.300s: %s", file, path,
           odd ? "not a regular file" : strerror(e));
  return probe_error(a, reply, e == ENOENT ? "no-such-file" : odd ? "refused" : "io-error",
                     msg);
}

int probe_op_trace_read(edn_arena *a, const edn_value *req, edn_value *reply,
                        const struct probe_options *o) {
  (void)o;
  const char *file = file_arg(req), *path;
  long long offset = 0, max = PROBE_CHUNK_MAX;
  if (!file ||
      (edn_map_getk(req, "offset") && probe_int_arg(req, "offset", 0, INT64_MAX, &offset) < 0) ||
      (edn_map_getk(req, "max") && probe_int_arg(req, "max", 4, PROBE_CHUNK_MAX, &max) < 0))
    return probe_error(a, reply, "bad-request",
                       ":trace-read needs :dir and :file (a name :trace-files "
                       "lists); :offset and :max (4 to 131072, the default) are "
                       "optional integers");
  int dfd, rc = probe_trace_dir_open(a, req, reply, &path, &dfd);
  if (rc != 0) return rc < 0 ? rc : 0;
  if (edn_map_putk(a, reply, "file", edn_string(a, file, strlen(file))) < 0) {
    close(dfd);
    return -ENOMEM;
  }
  int fd = openat(dfd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  close(dfd);
  struct stat st;
  int e = fd < 0 ? errno : fstat(fd, &st) < 0 ? errno : S_ISREG(st.st_mode) ? 0 : EPERM;
  if (e == 0) rc = probe_put_chunk(a, reply, fd, file, offset, max, (long long)st.st_size);
  if (fd >= 0) close(fd);
  return e == 0 ? rc : file_refused(a, reply, file, path, e);
}
