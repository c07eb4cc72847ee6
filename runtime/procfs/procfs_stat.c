/* procfs_stat.c — one process's /proc/PID/stat line, and the pids /proc
 * lists. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procfs.h"

/* Read a small /proc file whole into buf (NUL-terminated). Returns its
 * length or a negative errno. */
static ssize_t read_small(const char *path, char *buf, size_t cap) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  size_t n = 0;
  while (n < cap - 1) {
    ssize_t r = read(fd, buf + n, cap - 1 - n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      int e = errno;
      close(fd);
      return -e;
    }
    if (r == 0) break;
    n += (size_t)r;
  }
  close(fd);
  buf[n] = '\0';
  return (ssize_t)n;
}

/* The fields after "PID (COMM) ": state is field 3, ppid 4, pgrp 5,
 * starttime 22 and rss 24 (in pages), so rss is the 22nd of `rest`. */
static int parse_rest(const char *rest, struct procfs_stat *st) {
  char *end;
  const char *p = rest;
  for (int field = 3; field <= 24; field++) {
    while (*p == ' ') p++;
    if (!*p) return -EINVAL;
    if (field == 3) st->state = *p;
    else if (field == 4) st->ppid = (pid_t)strtol(p, &end, 10);
    else if (field == 5) st->pgid = (pid_t)strtol(p, &end, 10);
    else if (field == 22) st->start = strtoull(p, &end, 10);
    else if (field == 24)
      st->rss_kb = strtoll(p, &end, 10) * (sysconf(_SC_PAGESIZE) / 1024);
    while (*p && *p != ' ') p++;
  }
  return 0;
}

int procfs_stat(pid_t pid, struct procfs_stat *st) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  ssize_t n = read_small(path, buf, sizeof buf);
  if (n < 0) return n == -ESRCH ? -ENOENT : (int)n;
  /* comm may hold spaces and parentheses: it ends at the last ')'. */
  char *open_paren = strchr(buf, '('), *close_paren = strrchr(buf, ')');
  if (!open_paren || !close_paren || close_paren < open_paren) return -EINVAL;
  memset(st, 0, sizeof *st);
  st->pid = (pid_t)strtol(buf, NULL, 10);
  size_t len = (size_t)(close_paren - open_paren - 1);
  if (len >= sizeof st->comm) len = sizeof st->comm - 1;
  memcpy(st->comm, open_paren + 1, len);
  st->comm[len] = '\0';
  return parse_rest(close_paren + 1, st);
}

pid_t *procfs_pids(size_t *n) {
  DIR *d = opendir("/proc");
  if (!d) return NULL;
  size_t cap = 256;
  pid_t *v = malloc(cap * sizeof *v);
  *n = 0;
  struct dirent *de;
  while (v && (de = readdir(d))) {
    if (!isdigit((unsigned char)de->d_name[0])) continue;
    if (*n == cap) {
      pid_t *p = realloc(v, (cap *= 2) * sizeof *v);
      if (!p) {
        free(v);
        v = NULL;
        errno = ENOMEM;
        break;
      }
      v = p;
    }
    v[(*n)++] = (pid_t)atoi(de->d_name);
  }
  closedir(d);
  return v;
}
