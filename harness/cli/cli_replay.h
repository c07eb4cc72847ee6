/* cli_replay.h — `treeproof replay`: argv[0] is "replay". Prints to
 * stdout/stderr; returns the exit status (0 the same checks failed as
 * recorded, 1 a different outcome, 2 a bad trace or usage, 128+N when
 * interrupted by signal N). */
#ifndef TREEPROOF_CLI_REPLAY_H
#define TREEPROOF_CLI_REPLAY_H

int cli_replay(int argc, char **argv);

#endif
