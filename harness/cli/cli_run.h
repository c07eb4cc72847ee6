/* cli_run.h — `treeproof run | check | graph` (argv[1] names which; argv
 * is main's). Prints to stdout/stderr; returns the exit status. */
#ifndef TREEPROOF_CLI_RUN_H
#define TREEPROOF_CLI_RUN_H

int cli_run(int argc, char **argv);

#endif
