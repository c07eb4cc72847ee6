/* report_html_tree.c — the tree picture of a report page: a DOT whose
 * nodes are filled by outcome, rendered by `dot -Tsvg` into SVG text that
 * the page inlines. dot reads and writes memfds (no temporary files, no
 * pipe to keep flowing both ways) and gets a bounded time: a stuck dot is
 * killed and reaped, never waited for. */
#define _GNU_SOURCE
#include "report_html.h"
#include "read_all.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define DOT_TIMEOUT_MS 60000

static void put_dot_string(FILE *out, const char *s) {
  fputc('"', out);
  for (; *s; s++) {
    if (*s == '"' || *s == '\\')
      fputc('\\', out);
    if (*s != '\n')
      fputc(*s, out);
  }
  fputc('"', out);
}

/* The result of the node at `path`: r->nodes is in the tree's depth-first
 * order, so `*k` is the usual place; search only when it is not. */
static const struct node_result *result_of(const struct scenario_result *r,
                                           const char *path, size_t *k) {
  if (*k < r->nnodes && strcmp(r->nodes[*k].path, path) == 0)
    return &r->nodes[(*k)++];
  for (size_t i = 0; i < r->nnodes; i++)
    if (strcmp(r->nodes[i].path, path) == 0)
      return &r->nodes[i];
  return NULL;
}

static void put_tooltip(FILE *out, const struct tree_node *t,
                        const struct node_result *nr) {
  char tip[600];
  int n = snprintf(tip, sizeof tip, "%s: %s", t->path,
                   nr ? report_outcome_name(nr->outcome) : "not run");
  if (nr && nr->pid && n > 0 && (size_t)n < sizeof tip)
    n += snprintf(tip + n, sizeof tip - (size_t)n, ", pid %ld", nr->pid);
  if (nr && nr->crashed && nr->outcome != OUTCOME_CRASHED && n > 0 &&
      (size_t)n < sizeof tip)
    n += snprintf(tip + n, sizeof tip - (size_t)n, ", crashed too");
  if (nr && nr->outcome == OUTCOME_KILLED && n > 0 && (size_t)n < sizeof tip)
    snprintf(tip + n, sizeof tip - (size_t)n, ", signal %d", nr->signal);
  put_dot_string(out, tip);
}

static void put_node(FILE *out, const struct scenario_result *r,
                     const struct tree_node *t, size_t *k) {
  const struct node_result *nr = result_of(r, t->path, k);
  enum node_outcome o = nr ? nr->outcome : OUTCOME_PASSED;
  char *id = NULL;
  size_t idlen = 0;
  FILE *m = open_memstream(&id, &idlen);
  if (m) {
    html_put_node_id(m, "", t->path);
    fclose(m);
  }
  fputs("  ", out);
  put_dot_string(out, t->path);
  fputs(" [label=", out);
  put_dot_string(out, t->name);
  fprintf(out, ", id=\"node-%s\", class=\"node-%s\", fillcolor=\"%s\"",
          id ? id : "", report_outcome_name(o), report_outcome_colour(o));
  if (o == OUTCOME_KILLED || o == OUTCOME_FAILED)
    fputs(", fontcolor=white", out);
  if (t->spawn_step >= 0)
    fputs(", style=\"filled,dashed\"", out);
  if (nr && o != OUTCOME_PASSED)
    fprintf(out, ", href=\"#ev-node-%s\"", id ? id : "");
  fputs(", tooltip=", out);
  put_tooltip(out, t, nr);
  fputs("];\n", out);
  free(id);
  for (size_t i = 0; i < t->nchildren; i++) {
    fputs("  ", out);
    put_dot_string(out, t->path);
    fputs(" -> ", out);
    put_dot_string(out, t->children[i]->path);
    fputs(";\n", out);
  }
  for (size_t i = 0; i < t->nchildren; i++)
    put_node(out, r, t->children[i], k);
}

static void put_dot(FILE *out, const struct scenario_result *r) {
  const struct scenario *s = r->scenario;
  fputs("digraph ", out);
  put_dot_string(out, s->name);
  /* wide trees lie on their side: a page scrolls down better than across */
  bool big = tree_count(s->root) > 40;
  fprintf(out, " {\n  rankdir=%s;\n  bgcolor=transparent;\n%s"
          "  node [shape=box, style=filled, fontname=\"DejaVu Sans\", "
          "fontsize=%d, margin=\"0.15,0.08\"];\n", big ? "LR" : "TB",
          big ? "  nodesep=0.08;\n  ranksep=0.6;\n" : "", big ? 10 : 12);
  size_t k = 0;
  put_node(out, r, s->root, &k);
  fputs("}\n", out);
}

/* After fork: dot reads fd `in`, writes `svg`, complains into `err`. */
static void exec_dot(int in, int svg, int err) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  signal(SIGPIPE, SIG_DFL);
  if (dup2(in, 0) < 0 || dup2(svg, 1) < 0 || dup2(err, 2) < 0)
    _exit(127);
  char *argv[] = {"dot", "-Tsvg", NULL};
  execvp("dot", argv);
  dprintf(2, "cannot run dot: %s (install graphviz: scripts/setup)",
          strerror(errno));
  _exit(127);
}

/* Wait for pid up to DOT_TIMEOUT_MS (through a pidfd when there is one);
 * then kill it. Always reaps. Returns the wait status, or -1 on timeout. */
static int wait_bounded(pid_t pid) {
  int status = 0, pfd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (pfd >= 0) {
    struct pollfd p = {pfd, POLLIN, 0};
    int n;
    while ((n = poll(&p, 1, DOT_TIMEOUT_MS)) < 0 && errno == EINTR) {
    }
    close(pfd);
    if (n == 0)
      kill(pid, SIGKILL);
  }
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return pfd >= 0 && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL
             ? -1 : status;
}

/* The whole of memfd `fd` as a malloc'ed NUL-terminated string. */
static char *slurp(int fd, size_t *len) {
  int err;
  if (lseek(fd, 0, SEEK_SET) < 0)
    return NULL;
  return read_all(fd, SIZE_MAX - 1, len, &err);
}

/* Run dot on `dot`; the SVG text (malloc'ed) or NULL with msg. */
static char *render(const char *dot, size_t len, char *msg, size_t msgsz) {
  int in = memfd_create("tree.dot", MFD_CLOEXEC);
  int svg = memfd_create("tree.svg", MFD_CLOEXEC);
  int err = memfd_create("dot.err", MFD_CLOEXEC);
  char *out = NULL;
  size_t n = 0;
  if (in < 0 || svg < 0 || err < 0 || write(in, dot, len) != (ssize_t)len ||
      lseek(in, 0, SEEK_SET) < 0) {
    snprintf(msg, msgsz, "memfd: %s", strerror(errno));
    goto fail;
  }
  pid_t pid = fork();
  if (pid < 0) {
    snprintf(msg, msgsz, "fork: %s", strerror(errno));
    goto fail;
  }
  if (pid == 0)
    exec_dot(in, svg, err);
  int status = wait_bounded(pid);
  if (status == 0) {
    out = slurp(svg, &n);
    if (!out)
      snprintf(msg, msgsz, "out of memory");
  } else if (status < 0) {
    snprintf(msg, msgsz, "dot took over %d s and was killed",
             DOT_TIMEOUT_MS / 1000);
  } else {
    char *why = slurp(err, &n);
    snprintf(msg, msgsz, "%s", why && *why ? why : "dot failed");
    char *nl = strchr(msg, '\n');
    if (nl)
      *nl = '\0';
    free(why);
  }
fail:
  if (in >= 0)
    close(in);
  if (svg >= 0)
    close(svg);
  if (err >= 0)
    close(err);
  return out;
}

int html_tree_svg(FILE *out, const struct scenario_result *r, size_t max_nodes,
                  char *msg, size_t msgsz) {
  size_t n = tree_count(r->scenario->root);
  if (n > max_nodes) {
    snprintf(msg, msgsz, "%zu nodes: over the %zu a picture can show", n,
             max_nodes);
    return -1;
  }
  char *dot = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&dot, &len);
  if (!m) {
    snprintf(msg, msgsz, "out of memory");
    return -1;
  }
  put_dot(m, r);
  if (fclose(m) != 0) {
    free(dot);
    snprintf(msg, msgsz, "out of memory");
    return -1;
  }
  char *svg = render(dot, len, msg, msgsz);
  free(dot);
  if (!svg)
    return -1;
  /* inline: from <svg on, without the XML prolog and DOCTYPE */
  const char *start = strstr(svg, "<svg");
  fputs(start ? start : svg, out);
  free(svg);
  return 0;
}
