/* cli_shrink.h — `treeproof shrink`: argv[0] is "shrink". Prints the
 * progress on stderr and the outcome on stdout; returns the exit status
 * (0 a reproducer was written, 1 nothing failed or the failure did not
 * reproduce, 2 bad input or usage, 128+N when interrupted by signal N). */
#ifndef TREEPROOF_CLI_SHRINK_H
#define TREEPROOF_CLI_SHRINK_H

int cli_shrink(int argc, char **argv);

#endif
