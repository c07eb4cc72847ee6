/* cli_chaos.h — `treeproof chaos`: argv[0] is "chaos". Prints to out/err;
 * returns the exit status (0 every round held, 1 a round failed, 2 usage
 * or scenario error, 128+N when interrupted by signal N). */
#ifndef TREEPROOF_CLI_CHAOS_H
#define TREEPROOF_CLI_CHAOS_H

#include <stdio.h>

int chaos_cmd(int argc, char **argv, FILE *out, FILE *err);

#endif
