/* probe_util.c — the probe test files' shared steps (probe_util.h). */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "probe_util.h"

static const int W = 10000;

void probe_start(struct tree *t, const char *read_dir) {
  const char *plain[] = {"--probe", NULL};
  const char *with_dir[] = {"--probe", "--read-dir", read_dir, NULL};
  cr_assert_eq(tree_start_args(t, read_dir ? with_dir : plain), 0,
               "watvm --probe starts");
}

void probe_end(struct tree *t, int fds0) {
  int st = tree_close(t, W);
  cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0,
            "the probe exits 0 at EOF (status %d)", st);
  tree_free(t);
  cr_expect_eq(tree_reap_orphans(W), 0, "the probe left no process");
  cr_expect_eq(fd_count(), fds0, "no fd leaked");
}

const char *probe_error_type(const edn_value *r) {
  const edn_value *e = r ? edn_map_getk(r, "error") : NULL;
  const edn_value *t = e ? edn_map_getk(e, "type") : NULL;
  return t && t->type == EDN_KEYWORD ? t->u.text.ptr : "(none)";
}

unsigned long long probe_stat_start(pid_t pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  FILE *f = fopen(path, "re");
  cr_assert(f, "open %s", path);
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  char *p = strrchr(buf, ')');
  cr_assert(p);
  for (int field = 2; field < 22; field++)
    p = strchr(p + 1, ' ');
  return strtoull(p + 1, NULL, 10);
}
