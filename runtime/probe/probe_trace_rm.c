/* probe_trace_rm.c — :trace-remove: a trace directory :trace-dir made,
 * with its trace files, gone. Never a general rm: the directory must pass
 * probe_trace_dir_open (this probe's naming, its own user, no symlink),
 * only regular trace files (NAME.ednl, not followed) are unlinked, nothing
 * is recursed into, and a directory holding anything else is left as it
 * is (nothing unlinked) with an error saying so. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

static bool is_trace_file(int dfd, const char *name) {
  struct stat st;
  return probe_trace_file_name(name) &&
         fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

/* One pass over `dfd`: with `unlink`, unlink its trace files and count
 * them; without, count what is no trace file. A negative errno when it
 * cannot be read. */
static long pass(int dfd, bool unlink) {
  DIR *d = probe_trace_dir_stream(dfd);
  if (!d)
    return -errno;
  long n = 0;
  for (struct dirent *de; (de = readdir(d));) {
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
    bool trace = is_trace_file(dfd, de->d_name);
    if (unlink ? trace && unlinkat(dfd, de->d_name, 0) == 0 : !trace) n++;
  }
  closedir(d);
  return n;
}

/* Unlink the trace files of `dfd`, only when it holds nothing else: how
 * many, -ENOTEMPTY (something else is there: nothing unlinked), or a
 * negative errno. */
static long unlink_files(int dfd) {
  long others = pass(dfd, false);
  if (others != 0) return others < 0 ? others : -ENOTEMPTY;
  return pass(dfd, true);
}

int probe_op_trace_remove(edn_arena *a, const edn_value *req, edn_value *reply,
                          const struct probe_options *o) {
  (void)o;
  const char *path;
  int dfd, rc = probe_trace_dir_open(a, req, reply, &path, &dfd);
  if (rc != 0) return rc < 0 ? rc : 0;
  long n = unlink_files(dfd);
  close(dfd);
  char msg[400];
  if (n >= 0 && rmdir(path) == 0)
    return edn_map_putk(a, reply, "removed", edn_int(a, n));
  int e = n < 0 ? (int)-n : errno;
  snprintf(msg, sizeof msg, "%.200s: %s", path,
           e == ENOTEMPTY || e == EEXIST
             ? "holds something besides trace files: left in place"
             : strerror(e));
  return probe_error(a, reply, e == ENOTEMPTY || e == EEXIST ? "refused" : "io-error", msg);
}
