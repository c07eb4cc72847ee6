/* cli_opt.h — one command-line option that takes a value, read the same
 * way by every subcommand: `--opt VALUE` or `--opt=VALUE`. */
#ifndef TREEPROOF_CLI_OPT_H
#define TREEPROOF_CLI_OPT_H

/* NULL when argv[*i] is not option `name`. Otherwise its value: the text
 * after '=', or argv[*i + 1] (then *i moves past it), or "" when the value
 * is missing (the caller says "needs a value"). */
const char *cli_opt_value(int argc, char **argv, int *i, const char *name);

/* "treeproof: fatal: " + fmt (with arg) + the hint to see --help, on
 * stderr; returns 2, the exit status of a usage error. */
int cli_usage_error(const char *fmt, const char *arg);

#endif
