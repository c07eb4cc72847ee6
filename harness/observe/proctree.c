/* proctree.c — the process tree as the kernel shows it in /proc: every
 * process's parent, group, state and start time, a process's open fds and
 * its resident size. The harness never takes a node's word for any of it. */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proctree.h"
#include "read_all.h"

/* Parse /proc/PID/stat. The command name sits in parentheses and may hold
 * spaces and parentheses itself, so fields are counted from the last ')'. */
static int parse_stat(const char *buf, struct proc_info *out) {
  const char *p = strrchr(buf, ')'), *lp = strchr(buf, '(');
  if (!p || !lp || lp > p)
    return -EINVAL;
  size_t len = (size_t)(p - lp - 1);
  if (len >= sizeof out->comm)
    len = sizeof out->comm - 1;
  memcpy(out->comm, lp + 1, len);
  out->comm[len] = '\0';
  /* tokens after ')': [0] state (field 3), [1] ppid, [2] pgrp, ...
   * [19] starttime (field 22) */
  const char *tok[20] = {0};
  size_t ntok = 0;
  for (const char *q = p + 1; *q && ntok < 20;) {
    while (*q == ' ')
      q++;
    if (!*q)
      break;
    tok[ntok++] = q;
    while (*q && *q != ' ')
      q++;
  }
  if (ntok < 3)
    return -EINVAL;
  out->state = tok[0][0];
  out->ppid = (pid_t)strtol(tok[1], NULL, 10);
  out->pgid = (pid_t)strtol(tok[2], NULL, 10);
  out->start = ntok == 20 ? strtoull(tok[19], NULL, 10) : 0;
  out->threads = ntok > 17 ? (int)strtol(tok[17], NULL, 10) : 0;
  return 0;
}

int proctree_read(pid_t pid, struct proc_info *out) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -ENOENT;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0)
    return -ENOENT;
  buf[n] = '\0';
  out->pid = pid;
  return parse_stat(buf, out) < 0 ? -ENOENT : 0;
}

bool proctree_alive(pid_t pid, unsigned long long start) {
  struct proc_info pi;
  if (pid <= 0 || proctree_read(pid, &pi) < 0)
    return false;
  if (start && pi.start != start)
    return false;
  return pi.state != 'Z' && pi.state != 'X';
}

static int cmp_pid(const void *a, const void *b) {
  const struct proc_info *x = a, *y = b;
  return (x->pid > y->pid) - (x->pid < y->pid);
}

static int table_add(struct proc_table *t, const struct proc_info *pi) {
  if (t->n == t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 64;
    struct proc_info *v = realloc(t->v, cap * sizeof *v);
    if (!v)
      return -ENOMEM;
    t->v = v;
    t->cap = cap;
  }
  t->v[t->n++] = *pi;
  return 0;
}

int proctree_scan(struct proc_table *t) {
  DIR *d = opendir("/proc");
  if (!d)
    return -errno;
  t->n = 0;
  struct dirent *de;
  while ((de = readdir(d))) {
    if (!isdigit((unsigned char)de->d_name[0]))
      continue;
    struct proc_info pi;
    if (proctree_read((pid_t)atoi(de->d_name), &pi) < 0)
      continue; /* gone meanwhile */
    if (table_add(t, &pi) < 0) {
      closedir(d);
      return -ENOMEM;
    }
  }
  closedir(d);
  qsort(t->v, t->n, sizeof *t->v, cmp_pid);
  return 0;
}

static bool table_has(const struct proc_table *t, pid_t pid) {
  for (size_t i = 0; i < t->n; i++)
    if (t->v[i].pid == pid)
      return true;
  return false;
}

/* Add every pid in one children file (with `fresh`, only those not in `t`
 * yet). 0, -ENOENT (no such file: the thread or process is gone), or
 * -ENOMEM. */
static int add_children_of(struct proc_table *t, pid_t pid, pid_t tid,
                           bool fresh) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)pid, (int)tid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -ENOENT;
  size_t len;
  int err, rc = 0;
  char *text = read_all(fd, 1 << 20, &len, &err); /* "PID PID ... " */
  close(fd);
  if (!text)
    return err == ENOMEM ? -ENOMEM : -ENOENT;
  char *p = text, *end;
  for (long c; rc == 0 && (c = strtol(p, &end, 10)) > 0; p = end) {
    struct proc_info pi;
    if (!(fresh && table_has(t, (pid_t)c)) && proctree_read((pid_t)c, &pi) == 0)
      rc = table_add(t, &pi);
  }
  free(text);
  return rc;
}

/* The children of every thread of t->v[i] (a child belongs to the thread
 * that forked it). */
static int add_children(struct proc_table *t, size_t i, bool fresh) {
  pid_t pid = t->v[i].pid;
  if (t->v[i].state == 'Z')
    return 0; /* its children went to a reaper when it died */
  if (t->v[i].threads <= 1)
    return add_children_of(t, pid, pid, fresh) == -ENOMEM ? -ENOMEM : 0;
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
  DIR *d = opendir(path);
  if (!d)
    return 0; /* gone meanwhile */
  struct dirent *de;
  int rc = 0;
  while (rc != -ENOMEM && (de = readdir(d)))
    if (isdigit((unsigned char)de->d_name[0]))
      rc = add_children_of(t, pid, (pid_t)atoi(de->d_name), fresh);
  closedir(d);
  return rc == -ENOMEM ? rc : 0;
}

/* Everything below t->v[from..]: the table is its own queue, so what
 * each entry adds is walked in turn. */
static int walk_from(struct proc_table *t, size_t from) {
  int rc = 0;
  for (size_t i = from; rc == 0 && i < t->n; i++)
    rc = add_children(t, i, false);
  return rc;
}

/* An orphan moves up to its reaper (`top`, a child subreaper, or one
 * below it) when its parent dies; if that happens while the walk is past
 * the reaper and not yet at the dead parent, the walk misses it. So
 * `top`'s lists are read again until they show nothing new (a reaper
 * below `top` is the node's own choice; a scan of all of /proc has the
 * like race: the orphan read before its move, its dead parent after). */
int proctree_scan_below(struct proc_table *t, pid_t top) {
  struct proc_info pi;
  char path[64];
  t->n = 0;
  if (proctree_read(top, &pi) < 0)
    return -ESRCH;
  snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)top, (int)top);
  if (access(path, R_OK) < 0)
    return proctree_scan(t); /* no children lists in this kernel */
  int rc = table_add(t, &pi);
  rc = rc ? rc : walk_from(t, 0);
  for (int round = 0; rc == 0 && round < 4; round++) {
    size_t n = t->n;
    rc = add_children(t, 0, true);
    if (rc || t->n == n)
      break;
    rc = walk_from(t, n);
  }
  if (rc < 0)
    return rc;
  qsort(t->v, t->n, sizeof *t->v, cmp_pid);
  size_t k = 0; /* one that moved mid-walk may be listed twice */
  for (size_t i = 0; i < t->n; i++)
    if (!k || t->v[i].pid != t->v[k - 1].pid)
      t->v[k++] = t->v[i];
  t->n = k;
  return 0;
}

void proctree_free(struct proc_table *t) {
  free(t->v);
  t->v = NULL;
  t->n = t->cap = 0;
}

const struct proc_info *proctree_find(const struct proc_table *t, pid_t pid) {
  struct proc_info key = {.pid = pid};
  if (!t->n)
    return NULL;
  return bsearch(&key, t->v, t->n, sizeof *t->v, cmp_pid);
}

size_t proctree_nchildren(const struct proc_table *t, pid_t pid) {
  size_t k = 0;
  for (size_t i = 0; i < t->n; i++)
    if (t->v[i].ppid == pid)
      k++;
  return k;
}

/* Breadth first over parent links; `mark` flags entries already taken. */
long proctree_descendants(const struct proc_table *t, pid_t pid, pid_t **out) {
  *out = NULL;
  if (!t->n)
    return 0;
  pid_t *q = malloc(t->n * sizeof *q);
  if (!q)
    return -1;
  size_t nq = 0;
  for (size_t i = 0; i < t->n; i++)
    if (t->v[i].ppid == pid && t->v[i].pid != pid)
      q[nq++] = t->v[i].pid;
  for (size_t head = 0; head < nq; head++) {
    pid_t p = q[head];
    for (size_t i = 0; i < t->n && nq < t->n; i++)
      if (t->v[i].ppid == p && t->v[i].pid != p)
        q[nq++] = t->v[i].pid;
  }
  *out = q;
  return (long)nq;
}

long proctree_rss_kb(pid_t pid) {
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  FILE *f = fopen(path, "re");
  if (!f)
    return -1;
  long kb = -1;
  while (fgets(line, sizeof line, f))
    if (!strncmp(line, "VmRSS:", 6)) {
      kb = strtol(line + 6, NULL, 10);
      break;
    }
  fclose(f);
  return kb;
}

bool proctree_has_arg(pid_t pid, const char *arg) {
  char path[64], buf[8192];
  snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  ssize_t n = read(fd, buf, sizeof buf - 1); /* an ssh command is short */
  close(fd);
  if (n <= 0)
    return false;
  buf[n] = '\0';
  for (char *p = buf; p < buf + n; p += strlen(p) + 1)
    if (!strcmp(p, arg))
      return true;
  return false;
}

const char *fd_kind_name(enum fd_kind k) {
  static const char *names[] = {"pipe", "socket", "anon", "file", "other"};
  return names[k];
}

static void classify(struct fd_entry *f) {
  unsigned long long ino;
  if (sscanf(f->text, "pipe:[%llu]", &ino) == 1) {
    f->kind = FD_PIPE;
    f->ino = ino;
  } else if (sscanf(f->text, "socket:[%llu]", &ino) == 1) {
    f->kind = FD_SOCKET;
    f->ino = ino;
  } else if (!strncmp(f->text, "anon_inode:", 11)) {
    f->kind = FD_ANON;
  } else if (f->text[0] == '/') {
    f->kind = FD_FILE;
  } else {
    f->kind = FD_OTHER;
  }
}

static int cmp_fd(const void *a, const void *b) {
  const struct fd_entry *x = a, *y = b;
  return (x->fd > y->fd) - (x->fd < y->fd);
}

int proctree_fds(pid_t pid, struct fd_list *l) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
  l->n = 0;
  int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) {
    int err = errno;
    return err == EACCES ? -EACCES : -ENOENT;
  }
  DIR *d = fdopendir(dfd);
  if (!d) {
    int err = -errno;
    close(dfd);
    return err;
  }
  struct dirent *de;
  int rc = 0;
  while ((de = readdir(d))) {
    if (!isdigit((unsigned char)de->d_name[0]))
      continue;
    if (l->n == l->cap) {
      size_t cap = l->cap ? l->cap * 2 : 16;
      struct fd_entry *v = realloc(l->v, cap * sizeof *v);
      if (!v) {
        rc = -ENOMEM;
        break;
      }
      l->v = v;
      l->cap = cap;
    }
    struct fd_entry *f = &l->v[l->n];
    memset(f, 0, sizeof *f);
    f->fd = atoi(de->d_name);
    ssize_t k = readlinkat(dfd, de->d_name, f->text, sizeof f->text - 1);
    if (k < 0)
      continue; /* closed between readdir and readlink */
    f->text[k] = '\0';
    classify(f);
    l->n++;
  }
  closedir(d);
  qsort(l->v, l->n, sizeof *l->v, cmp_fd);
  return rc;
}

int proctree_fd_flags(pid_t pid, int fd) {
  char path[96], line[128];
  snprintf(path, sizeof path, "/proc/%d/fdinfo/%d", (int)pid, fd);
  FILE *f = fopen(path, "re");
  if (!f)
    return -1;
  int flags = -1;
  while (fgets(line, sizeof line, f))
    if (!strncmp(line, "flags:", 6)) {
      flags = (int)strtol(line + 6, NULL, 8);
      break;
    }
  fclose(f);
  return flags;
}

void fd_list_free(struct fd_list *l) {
  free(l->v);
  l->v = NULL;
  l->n = l->cap = 0;
}
