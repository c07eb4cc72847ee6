/* node_cmd.c — resolving the node command before anything launches, so a
 * missing node program is a usage error (exit 2) and not N failed runs.
 *
 * The search order, first hit wins:
 *
 *   1. --node-cmd CMD, split on whitespace (no shell): a first word with a
 *      '/' must be an executable file, a bare name is looked up on PATH.
 *   Without --node-cmd, `watvm`, relative to the directory D of the running
 *   treeproof as /proc/self/exe names it (symlinks resolved):
 *   2. D/watvm — the installed layout: `cmake --install` and the .deb put
 *      bin/treeproof and bin/watvm side by side, so an installed treeproof
 *      finds its own watvm under any prefix, a DESTDIR staging tree or a
 *      `dpkg -x` root; the build tree's bin/ too (CMAKE_RUNTIME_OUTPUT_DIRECTORY);
 *   3. D/../bin/watvm, D/bin/watvm, D/../runtime/watvm — build trees laid
 *      out otherwise;
 *   4. TREEPROOF_BUILD_BIN_DIR/watvm, when the build defines that (none
 *      does today);
 *   5. watvm on PATH (/usr/local/bin:/usr/bin:/bin when PATH is unset).
 *
 * The same watvm, found the same way, is the probe a tree on far hosts is
 * judged with when --node-cmd names another program (node_cmd_watvm).
 *
 * There is deliberately no compiled-in install path (such as
 * CMAKE_INSTALL_FULL_BINDIR) before PATH: rule 2 already covers every
 * installed layout, and a baked-in /usr/bin would name the wrong watvm for
 * a relocated or extracted copy. */
#define _GNU_SOURCE
#include "node_cmd.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void node_cmd_free(char **argv) {
  if (!argv)
    return;
  for (char **a = argv; *a; a++)
    free(*a);
  free(argv);
}

static bool executable(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* `name` searched on PATH, as a new string, or NULL. */
static char *on_path(const char *name) {
  const char *path = getenv("PATH");
  if (!path || !*path)
    path = "/usr/local/bin:/usr/bin:/bin";
  while (*path) {
    const char *colon = strchr(path, ':');
    size_t len = colon ? (size_t)(colon - path) : strlen(path);
    char *full = NULL;
    if (asprintf(&full, "%.*s/%s", (int)(len ? len : 1), len ? path : ".",
                 name) >= 0 && executable(full))
      return full;
    free(full);
    path += len + (colon ? 1 : 0);
  }
  return NULL;
}

static char **split(const char *cmd) {
  size_t cap = strlen(cmd) / 2 + 2, n = 0;
  char **argv = calloc(cap, sizeof *argv);
  if (!argv)
    return NULL;
  const char *ws = " \t\n\r\v\f";
  for (const char *p = cmd + strspn(cmd, ws); *p; p += strspn(p, ws)) {
    size_t len = strcspn(p, ws);
    if (!(argv[n++] = strndup(p, len))) {
      node_cmd_free(argv);
      return NULL;
    }
    p += len;
  }
  return argv;
}

/* watvm beside /proc/self/exe, or in the build tree around it. */
static char *find_watvm(void) {
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash)
      *slash = '\0';
    const char *rel[] = {"watvm", "../bin/watvm", "bin/watvm",
                         "../runtime/watvm", NULL};
    for (size_t i = 0; rel[i]; i++) {
      char *full = NULL;
      if (asprintf(&full, "%s/%s", exe, rel[i]) >= 0 && executable(full))
        return full;
      free(full);
    }
  }
#ifdef TREEPROOF_BUILD_BIN_DIR
  if (executable(TREEPROOF_BUILD_BIN_DIR "/watvm"))
    return strdup(TREEPROOF_BUILD_BIN_DIR "/watvm");
#endif
  return on_path("watvm");
}

char *node_cmd_watvm(void) {
  char *w = find_watvm();
  char *abs = w ? realpath(w, NULL) : NULL;
  free(w);
  return abs;
}

char **node_cmd_resolve(const char *cmd, char *msg, size_t msgsz) {
  if (!cmd) {
    char *w = find_watvm();
    char **argv = calloc(2, sizeof *argv);
    if (!w || !argv) {
      free(w);
      free(argv);
      snprintf(msg, msgsz, "cannot find watvm beside treeproof, in its build "
               "tree or on PATH (give --node-cmd)");
      return NULL;
    }
    argv[0] = w;
    return argv;
  }
  char **argv = split(cmd);
  if (!argv || !argv[0]) {
    node_cmd_free(argv);
    snprintf(msg, msgsz, "--node-cmd: empty command");
    return NULL;
  }
  if (strchr(argv[0], '/')) {
    if (executable(argv[0]))
      return argv;
  } else {
    char *full = on_path(argv[0]);
    if (full) {
      free(argv[0]);
      argv[0] = full;
      return argv;
    }
  }
  snprintf(msg, msgsz, "--node-cmd: '%s' is not an executable file", argv[0]);
  node_cmd_free(argv);
  return NULL;
}
