/* cli_opt.c — what every subcommand parses the same way: `--opt VALUE` and
 * `--opt=VALUE` (so `run`, `chaos`, `replay` and `shrink` accept the same
 * spellings), and the one shape of a usage error. */
#include <stdio.h>
#include <string.h>

#include "cli_opt.h"

const char *cli_opt_value(int argc, char **argv, int *i, const char *name) {
  size_t len = strlen(name);
  const char *a = argv[*i];
  if (strncmp(a, name, len) != 0)
    return NULL;
  if (a[len] == '=')
    return a + len + 1;
  if (a[len] != '\0')
    return NULL; /* --node-cmdx is another (unknown) option */
  return *i + 1 < argc ? argv[++*i] : "";
}

int cli_usage_error(const char *fmt, const char *arg) {
  fputs("treeproof: fatal: ", stderr);
  fprintf(stderr, fmt, arg);
  fputs("\n(see treeproof --help)\n", stderr);
  return 2;
}

