/* node_cmd.h — which program the harness launches as the root node:
 * `--node-cmd CMD` split on whitespace (no shell), else the `watvm` beside
 * the treeproof executable, else in the build tree it came from, else
 * `watvm` on PATH (docs/tools.md). */
#ifndef TREEPROOF_NODE_CMD_H
#define TREEPROOF_NODE_CMD_H

#include <stddef.h>

/* A NULL-terminated argv (free with node_cmd_free), its argv[0] an absolute
 * or relative path to an executable file, or NULL with `msg` saying what
 * could not be found. `cmd` may be NULL (then watvm is looked for). */
char **node_cmd_resolve(const char *cmd, char *msg, size_t msgsz);
void node_cmd_free(char **argv);
/* The watvm found as without --node-cmd, as an absolute path (malloc'ed),
 * or NULL when there is none: the probe on far hosts for a node command
 * that is another program. */
char *node_cmd_watvm(void);

#endif
