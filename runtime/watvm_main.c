/* watvm_main.c — the watvm executable: arguments in, node_run (or, with
 * --probe, probe_run) out.
 *   watvm [--spec EDN | --spec-file PATH | --spec-stdin]
 *   watvm --probe [--read-dir DIR]
 *   watvm --help
 * Exit: 0 graceful end, 64 usage or bad spec, 70 panic, 71 system failure. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node.h"
#include "probe.h"

static int die(int code, const char *what, const char *detail) {
  fprintf(stderr, "watvm: fatal: %s%s%s\n", what, detail ? ": " : "",
          detail ? detail : "");
  return code;
}

static char *read_file(const char *path, size_t *len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap);
  for (ssize_t r = 1; buf && r > 0;) {
    if (n == cap) {
      char *p = realloc(buf, cap *= 2);
      if (!p) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = p;
    }
    r = read(fd, buf + n, cap - n);
    if (r < 0 && errno == EINTR) r = 1;
    else if (r < 0) {
      free(buf);
      buf = NULL;
    } else n += (size_t)r;
  }
  close(fd);
  *len = n;
  return buf;
}

static const char usage[] =
    "usage: watvm [--spec EDN | --spec-file PATH | --spec-stdin]\n"
    "       watvm --probe [--read-dir DIR]\n"
    "       watvm --help";

/* watvm --probe [--read-dir DIR]: answer questions about this host. */
static int probe_main(int argc, char **argv) {
  struct probe_options po = {0};
  if (argc == 4 && strcmp(argv[2], "--read-dir") == 0) po.read_dir = argv[3];
  else if (argc != 2) return die(64, usage, NULL);
  char why[512] = "";
  if (probe_run(0, 1, &po, why, sizeof why) < 0) return die(71, why, NULL);
  return 0;
}

int main(int argc, char **argv) {
  struct node_options o = {0};
  char *file_text = NULL;
  if (argc == 2 && strcmp(argv[1], "--help") == 0) {
    printf("%s\n", usage);
    return 0;
  }
  if (argc >= 2 && strcmp(argv[1], "--probe") == 0) return probe_main(argc, argv);
  for (int i = 1; i < argc; i++) {
    bool has_arg = i + 1 < argc;
    if (o.spec || o.spec_stdin) return die(64, usage, "give one spec only");
    if (strcmp(argv[i], "--spec") == 0 && has_arg) {
      o.spec = argv[++i];
      o.spec_len = strlen(o.spec);
    } else if (strcmp(argv[i], "--spec-file") == 0 && has_arg) {
      if (!(file_text = read_file(argv[++i], &o.spec_len)))
        return die(64, "unable to read spec file", strerror(errno));
      o.spec = file_text;
    } else if (strcmp(argv[i], "--spec-stdin") == 0) {
      o.spec_stdin = true;
    } else {
      return die(64, usage, NULL);
    }
  }
  char why[512] = "";
  o.exit_at_end = true;
  int code = node_run(&o, why, sizeof why);
  free(file_text);
  if (code == NODE_EXIT_USAGE || code == NODE_EXIT_SYSTEM) die(code, why, NULL);
  return code;
}
