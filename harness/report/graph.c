/* graph.c — `treeproof graph`: the tree of a scenario as Graphviz DOT, and
 * its SVG rendering through the `dot` program (spawned as libuv does it:
 * an exec failure comes back through a close-on-exec pipe). */
#define _GNU_SOURCE
#include "graph.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void put_id(FILE *out, const char *s) {
  fputc('"', out);
  for (; *s; s++) {
    if (*s == '"' || *s == '\\')
      fputc('\\', out);
    fputc(*s, out);
  }
  fputc('"', out);
}

static void collect(const struct tree_node *n, const char **names, size_t *k) {
  names[(*k)++] = n->name;
  for (size_t i = 0; i < n->nchildren; i++)
    collect(n->children[i], names, k);
}

static int cmp(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool names_unique(const struct tree_node *root) {
  size_t n = tree_count(root), k = 0;
  const char **names = malloc(n * sizeof *names);
  if (!names)
    return false;
  collect(root, names, &k);
  qsort(names, n, sizeof *names, cmp);
  bool unique = true;
  for (size_t i = 1; i < n && unique; i++)
    unique = strcmp(names[i - 1], names[i]) != 0;
  free(names);
  return unique;
}

static void put_node(FILE *out, const struct tree_node *n, bool by_name) {
  fputs("  ", out);
  put_id(out, by_name ? n->name : n->path);
  fputs(" [label=", out);
  put_id(out, n->name);
  if (n->spawn_step >= 0)
    fputs(", style=dashed", out);
  fputs("];\n", out);
  for (size_t i = 0; i < n->nchildren; i++) {
    const struct tree_node *c = n->children[i];
    fputs("  ", out);
    put_id(out, by_name ? n->name : n->path);
    fputs(" -> ", out);
    put_id(out, by_name ? c->name : c->path);
    fputs(";\n", out);
  }
  for (size_t i = 0; i < n->nchildren; i++)
    put_node(out, n->children[i], by_name);
}

int graph_dot(FILE *out, const struct scenario *s) {
  fputs("digraph ", out);
  put_id(out, s->name);
  fputs(" {\n  node [shape=box];\n", out);
  put_node(out, s->root, names_unique(s->root));
  fputs("}\n", out);
  fflush(out);
  return ferror(out) ? -1 : 0;
}

/* After fork: wire the DOT pipe to stdin and exec dot; report errno. */
static void exec_dot(int in, int errfd, const char *file) {
  signal(SIGPIPE, SIG_DFL);
  if (dup2(in, 0) < 0)
    goto fail;
  char *argv[] = {"dot", "-Tsvg", "-o", (char *)file, NULL};
  execvp("dot", argv);
fail:;
  int e = errno;
  while (write(errfd, &e, sizeof e) < 0 && errno == EINTR) {
  }
  _exit(127);
}

int graph_svg(const struct scenario *s, const char *file, char *msg,
              size_t msgsz) {
  char *text = NULL;
  size_t len = 0;
  FILE *mem = open_memstream(&text, &len);
  if (!mem || graph_dot(mem, s) < 0 || fclose(mem) != 0) {
    snprintf(msg, msgsz, "out of memory");
    free(text);
    return -1;
  }
  int in[2] = {-1, -1}, err[2] = {-1, -1}, rc = -1, e = 0;
  if (pipe2(in, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
    snprintf(msg, msgsz, "pipe: %s", strerror(errno));
    goto out;
  }
  pid_t pid = fork();
  if (pid < 0) {
    snprintf(msg, msgsz, "fork: %s", strerror(errno));
    goto out;
  }
  if (pid == 0)
    exec_dot(in[0], err[1], file);
  close(err[1]);
  err[1] = -1;
  ssize_t n;
  while ((n = read(err[0], &e, sizeof e)) < 0 && errno == EINTR) {
  }
  close(in[0]);
  in[0] = -1;
  for (size_t off = 0; n == 0 && off < len;) {
    ssize_t w = write(in[1], text + off, len - off);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0)
      break;
    off += (size_t)w;
  }
  close(in[1]);
  in[1] = -1;
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (n > 0)
    snprintf(msg, msgsz, "cannot run dot: %s (install graphviz)", strerror(e));
  else if (WIFSIGNALED(status))
    snprintf(msg, msgsz, "dot was killed by signal %d", WTERMSIG(status));
  else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    snprintf(msg, msgsz, "dot failed (exit %d)", WEXITSTATUS(status));
  else
    rc = 0;
out:
  for (int i = 0; i < 2; i++) {
    if (in[i] >= 0)
      close(in[i]);
    if (err[i] >= 0)
      close(err[i]);
  }
  free(text);
  return rc;
}
