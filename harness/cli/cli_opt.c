/* cli_opt.c — `--opt VALUE` and `--opt=VALUE` for every subcommand, so
 * `run`, `chaos`, `replay` and `shrink` accept the same spellings. */
#include "cli_opt.h"

#include <string.h>

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
