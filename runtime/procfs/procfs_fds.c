/* procfs_fds.c — a process's fd table from /proc/PID/fd (a node's own for
 * :inspect, wire decision 5; any process's for the probe), and this
 * process's resident set size (for :stats). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procfs.h"

struct fd_link {
  int fd;
  char link[512];
};

static int by_fd(const void *x, const void *y) {
  const struct fd_link *a = x, *b = y;
  return (a->fd > b->fd) - (a->fd < b->fd);
}

/* "pipe:[123]" with prefix "pipe:[" → 123, or -1. */
static long long bracket_inode(const char *link, const char *prefix) {
  size_t n = strlen(prefix);
  if (strncmp(link, prefix, n) != 0) return -1;
  char *end;
  long long v = strtoll(link + n, &end, 10);
  return *end == ']' ? v : -1;
}

static edn_value *fd_entry(edn_arena *a, const struct fd_link *f) {
  edn_value *v = edn_coll(a, EDN_VECTOR);
  if (!v) return NULL;
  edn_push(a, v, edn_int(a, f->fd));
  const char *l = f->link;
  long long ino;
  if ((ino = bracket_inode(l, "pipe:[")) >= 0) {
    edn_push(a, v, edn_keyword(a, "pipe"));
    edn_push(a, v, edn_int(a, ino));
  } else if ((ino = bracket_inode(l, "socket:[")) >= 0) {
    edn_push(a, v, edn_keyword(a, "socket"));
    edn_push(a, v, edn_int(a, ino));
  } else if (strncmp(l, "anon_inode:", 11) == 0) {
    const char *s = l + 11;
    size_t n = strlen(s);
    if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
      s++;
      n -= 2;
    }
    edn_push(a, v, edn_keyword(a, "anon"));
    edn_push(a, v, edn_string(a, s, n));
  } else if (l[0] == '/') {
    edn_push(a, v, edn_keyword(a, "file"));
    edn_push(a, v, edn_string(a, l, strlen(l)));
  } else {
    edn_push(a, v, edn_keyword(a, "other"));
    edn_push(a, v, edn_string(a, l, strlen(l)));
  }
  return v;
}

/* Every fd under the listing `d` of directory `dir` ("/proc/PID/fd"), with
 * its link; `self`: the listing is this process's own, leave its fd out. */
static size_t read_links(DIR *d, const char *dir, bool self,
                         struct fd_link **out) {
  size_t n = 0, cap = 0;
  struct fd_link *fl = NULL;
  struct dirent *de;
  while ((de = readdir(d))) {
    if (de->d_name[0] < '0' || de->d_name[0] > '9') continue;
    int fd = atoi(de->d_name);
    if (self && fd == dirfd(d)) continue; /* the listing's own fd */
    if (n == cap) {
      cap = cap ? cap * 2 : 32;
      struct fd_link *p = realloc(fl, cap * sizeof *p);
      if (!p) break;
      fl = p;
    }
    char path[96];
    snprintf(path, sizeof path, "%s/%d", dir, fd);
    ssize_t k = readlink(path, fl[n].link, sizeof fl[n].link - 1);
    if (k < 0) continue; /* closed meanwhile */
    fl[n].link[k] = '\0';
    fl[n].fd = fd;
    n++;
  }
  *out = fl;
  return n;
}

edn_value *procfs_fds(edn_arena *a, pid_t pid, int *err) {
  char dir[64];
  if (pid > 0) snprintf(dir, sizeof dir, "/proc/%d/fd", (int)pid);
  else snprintf(dir, sizeof dir, "/proc/self/fd");
  DIR *d = opendir(dir); /* glibc opens it O_CLOEXEC */
  if (!d) {
    *err = errno == ESRCH ? -ENOENT : -errno;
    return NULL;
  }
  struct fd_link *fl = NULL;
  size_t n = read_links(d, dir, pid <= 0, &fl);
  closedir(d);
  edn_value *v = edn_coll(a, EDN_VECTOR);
  if (v && n) qsort(fl, n, sizeof *fl, by_fd);
  for (size_t i = 0; v && i < n; i++) {
    edn_value *e = fd_entry(a, &fl[i]);
    if (!e || edn_push(a, v, e) < 0) v = NULL;
  }
  free(fl);
  if (!v) *err = -ENOMEM;
  return v;
}

int64_t procfs_rss_kb(void) {
  char buf[4096];
  int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = '\0';
  const char *p = strstr(buf, "VmRSS:");
  return p ? strtoll(p + 6, NULL, 10) : -1;
}
