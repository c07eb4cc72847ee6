/* cli_merge.h — `treeproof merge --junit OUT JUNIT...` (argv[0] is
 * "merge"). Prints to stdout/stderr; returns the exit status. */
#ifndef TREEPROOF_CLI_MERGE_H
#define TREEPROOF_CLI_MERGE_H

int cli_merge(int argc, char **argv);

#endif
