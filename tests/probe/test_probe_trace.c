/* test_probe_trace.c — the probe's trace directory ops over pipes:
 * :trace-dir makes a private BASE/tp-trace.XXXXXX (BASE: $TMPDIR, else
 * /tmp), :trace-files lists only its regular trace files, :trace-read
 * gives a file back exactly in pieces whose reply lines stay under the
 * wire's 1 MiB even when every byte escapes, :trace-remove removes it;
 * and every op refuses what its naming did not make: a bad or relative
 * path, a directory outside the prefix or of another shape, a symlink, a
 * missing directory, a file name with a '/', a directory holding
 * anything but trace files (left untouched). Every test ends by proving
 * the probe left no process and no fd behind. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "probe_util.h"

/* Each test's probe makes its directories under a base of its own
 * ($TMPDIR, which the probe inherits), never in /tmp itself, where a far
 * suite running beside this one looks for tp-trace.* left behind. */
static int fds0;
static char base[] = "/tmp/test_probe_trace.XXXXXX";
static void setup(void) {
  tree_subreaper();
  cr_assert(mkdtemp(base), "a base for the test");
  setenv("TMPDIR", base, 1);
  fds0 = fd_count();
}
static void teardown(void) {
  cr_expect_eq(rmdir(base), 0, "nothing left under %s", base);
}

TestSuite(probe_trace, .init = setup, .fini = teardown, .timeout = 60.);

static const int W = 10000;
enum { LINE_MAX_BYTES = 1 << 20 };

static edn_value *askf(struct tree *t, const char *fmt, const char *a1, const char *a2) {
  char line[8192];
  snprintf(line, sizeof line, fmt, a1, a2);
  return tree_ask(t, line, W);
}

/* A trace dir made by the probe: its path, malloc'ed. */
static char *make_dir(struct tree *t) {
  edn_value *r = tree_ask(t, "{:id 1 :op :trace-dir}", W);
  const char *d = get_str(r, "dir");
  cr_assert(d, "a :dir in the reply (error %s)", probe_error_type(r));
  return strdup(d);
}

static void put_file(const char *dir, const char *name, const char *text, size_t len) {
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  cr_assert(fd >= 0, "create %s", path);
  cr_assert_eq(write(fd, text, len), (ssize_t)len);
  close(fd);
}

Test(probe_trace, a_dir_is_made_private_under_its_base) {
  struct tree t;
  probe_start(&t, NULL);
  char *d = make_dir(&t), want[64];
  snprintf(want, sizeof want, "%s/tp-trace.", base);
  cr_expect(!strncmp(d, want, strlen(want)) && strlen(d) == strlen(want) + 6,
            "BASE/tp-trace.XXXXXX: %s", d);
  struct stat st;
  cr_assert_eq(lstat(d, &st), 0, "%s exists", d);
  cr_expect(S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700, "a private directory");
  edn_value *r = askf(&t, "{:id 2 :op :trace-remove :dir \"%s\"}", d, NULL);
  cr_expect_eq(get_int(r, "removed"), 0, "empty, removed (error %s)", probe_error_type(r));
  cr_expect_neq(lstat(d, &st), 0, "gone");
  free(d);
  probe_end(&t, fds0);
}

/* Only regular NAME.ednl files are listed; hidden, other names, a
 * symlink and a directory are not. */
Test(probe_trace, files_lists_only_regular_trace_files) {
  struct tree t;
  probe_start(&t, NULL);
  char *d = make_dir(&t), p[PATH_MAX];
  put_file(d, "12.ednl", "{:a 1}\n", 7);
  put_file(d, "7.ednl", "", 0);
  put_file(d, ".h.ednl", "x", 1);
  put_file(d, "notes.txt", "x", 1);
  snprintf(p, sizeof p, "%s/9.ednl", d);
  cr_assert_eq(symlink("/etc/passwd", p), 0);
  snprintf(p, sizeof p, "%s/d.ednl", d);
  cr_assert_eq(mkdir(p, 0700), 0);
  edn_value *r = askf(&t, "{:id 2 :op :trace-files :dir \"%s\"}", d, NULL);
  const edn_value *files = r ? edn_map_getk(r, "files") : NULL;
  cr_assert(files && files->type == EDN_VECTOR, "a :files vector (error %s)", probe_error_type(r));
  cr_assert_eq(files->u.seq.len, 2, "two trace files");
  cr_expect_str_eq(get_str(files->u.seq.items[0], "name"), "12.ednl", "sorted by name");
  cr_expect_eq(get_int(files->u.seq.items[0], "size"), 7);
  cr_expect_str_eq(get_str(files->u.seq.items[1], "name"), "7.ednl");
  r = askf(&t, "{:id 3 :op :trace-files :dir \"%s\" :after \"12.ednl\"}", d, NULL);
  files = r ? edn_map_getk(r, "files") : NULL;
  cr_expect(files && files->u.seq.len == 1, "the page after 12.ednl holds 7.ednl");
  r = askf(&t, "{:id 4 :op :trace-read :dir \"%s\" :file \"9.ednl\"}", d, NULL);
  cr_expect_str_eq(probe_error_type(r), "wat/refused", "a symlink is not read");
  r = askf(&t, "{:id 5 :op :trace-remove :dir \"%s\"}", d, NULL);
  cr_expect_str_eq(probe_error_type(r), "wat/refused", "a dir holding other things stays");
  cr_expect_eq(access(p, F_OK), 0, "untouched: d.ednl is still there");
  snprintf(p, sizeof p, "%s/12.ednl", d);
  cr_expect_eq(access(p, F_OK), 0, "untouched: 12.ednl is still there");
  const char *other[] = {"9.ednl", ".h.ednl", "notes.txt"};
  for (size_t i = 0; i < 3; i++) {
    snprintf(p, sizeof p, "%s/%s", d, other[i]);
    unlink(p);
  }
  snprintf(p, sizeof p, "%s/d.ednl", d);
  rmdir(p);
  r = askf(&t, "{:id 6 :op :trace-remove :dir \"%s\"}", d, NULL);
  cr_expect_eq(get_int(r, "removed"), 2, "both trace files removed (error %s)", probe_error_type(r));
  cr_expect_neq(access(d, F_OK), 0, "the dir is gone");
  free(d);
  probe_end(&t, fds0);
}

/* A file larger than a piece, every byte of it one that prints as
 * \uXXXX, comes back byte for byte, each reply line under 1 MiB. */
Test(probe_trace, read_gives_a_file_back_in_pieces_that_fit_a_line) {
  struct tree t;
  probe_start(&t, NULL);
  char *d = make_dir(&t);
  size_t n = 300 * 1024;
  char *text = malloc(n), *got = malloc(n);
  cr_assert(text && got);
  for (size_t i = 0; i < n; i++)
    text[i] = i % 97 == 96 ? '\n' : (char)(1 + i % 8); /* controls: 6 bytes each */
  put_file(d, "5.ednl", text, n);
  long long off = 0;
  int pieces = 0;
  for (bool eof = false; !eof && pieces < 100; pieces++) {
    char line[512];
    snprintf(line, sizeof line, "{:id %d :op :trace-read :dir \"%s\" :file \"5.ednl\" "
             ":offset %lld}", 10 + pieces, d, off);
    cr_assert_eq(tree_send(&t, line, W), 0);
    char *raw = tree_line(&t, W);
    cr_assert(raw, "a reply to piece %d", pieces);
    cr_expect_lt(strlen(raw), (size_t)LINE_MAX_BYTES, "the reply fits a line");
    edn_value *r = NULL;
    struct edn_error err;
    edn_arena *a = edn_arena_new();
    cr_assert_eq(edn_read(a, raw, strlen(raw), NULL, &r, &err), EDN_OK);
    const edn_value *tx = edn_map_getk(r, "text");
    cr_assert(tx && tx->type == EDN_STRING, "a :text (error %s)", probe_error_type(r));
    cr_assert_leq(off + (long long)tx->u.text.len, (long long)n);
    memcpy(got + off, tx->u.text.ptr, tx->u.text.len);
    cr_expect_eq(get_int(r, "next"), off + (long long)tx->u.text.len);
    off = get_int(r, "next");
    eof = edn_map_getk(r, "eof")->u.boolean;
    edn_arena_free(a);
    free(raw);
  }
  cr_expect_gt(pieces, 2, "more than one piece (%d)", pieces);
  cr_expect_eq(off, (long long)n, "the whole file");
  cr_expect_eq(memcmp(got, text, n), 0, "byte for byte");
  edn_value *r = askf(&t, "{:id 2 :op :trace-read :dir \"%s\" :file \"5.ednl\" "
                      ":max 1000000}", d, NULL);
  cr_expect_str_eq(probe_error_type(r), "wat/bad-request", "a piece over 128 KiB is refused");
  r = askf(&t, "{:id 3 :op :trace-remove :dir \"%s\"}", d, NULL);
  cr_expect_eq(get_int(r, "removed"), 1);
  free(text);
  free(got);
  free(d);
  probe_end(&t, fds0);
}

/* Bad requests and paths the probe's naming never makes. */
Test(probe_trace, refuses_what_is_not_its_own) {
  char real[64], link[64];
  snprintf(real, sizeof real, "%s/real", base);
  snprintf(link, sizeof link, "%s/tp-trace.Zz9Zz9", base);
  cr_assert_eq(mkdir(real, 0700), 0);
  cr_assert_eq(symlink(real, link), 0, "a symlink of the right shape");
  struct tree t;
  probe_start(&t, NULL);
  static const struct { const char *leaf, *type, *why; } cases[] = {
    {"", "wat/refused", "the base itself"},
    {"/../../etc", "wat/refused", "outside the prefix"},
    {"/tp-trace.abc", "wat/refused", "not mkdtemp's shape"},
    {"/tp-trace.abcdef/..", "wat/refused", "a '..'"},
    {"/x/tp-trace.abcdef", "wat/refused", "below another directory"},
    {"/tp-trace.Zz9Zz9", "wat/refused", "a symlink"},
    {"/tp-trace.NoSuch", "wat/no-such-dir", "a missing directory"},
  };
  const char *ops[] = {"trace-files", "trace-remove"};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    for (size_t k = 0; k < 2; k++) {
      char dir[128];
      snprintf(dir, sizeof dir, "%s%s", base, cases[i].leaf);
      edn_value *r = askf(&t, "{:id 1 :op :%s :dir \"%s\"}", ops[k], dir);
      cr_expect_str_eq(probe_error_type(r), cases[i].type, ":%s of %s (%s)", ops[k], dir,
                       cases[i].why);
    }
  for (size_t k = 0; k < 2; k++) {
    edn_value *r = askf(&t, "{:id 1 :op :%s :dir \"%s\"}", ops[k], "/etc");
    cr_expect_str_eq(probe_error_type(r), "wat/refused", ":%s of /etc", ops[k]);
    r = askf(&t, "{:id 1 :op :%s :dir \"%s\"}", ops[k], "tmp/tp-trace.abcdef");
    cr_expect_str_eq(probe_error_type(r), "wat/bad-request", ":%s of a relative path", ops[k]);
  }
  cr_expect_eq(access(real, F_OK), 0, "the symlink's target is untouched");
  edn_value *r = tree_ask(&t, "{:id 2 :op :trace-remove}", W);
  cr_expect_str_eq(probe_error_type(r), "wat/bad-request", "no :dir");
  r = tree_ask(&t, "{:id 3 :op :trace-remove :dir 42}", W);
  cr_expect_str_eq(probe_error_type(r), "wat/bad-request", "a :dir that is no string");
  char *d = make_dir(&t);
  const char *bad_files[] = {"../x.ednl", "x.txt", ".x.ednl", "a/b.ednl"};
  for (size_t i = 0; i < 4; i++) {
    r = askf(&t, "{:id 4 :op :trace-read :dir \"%s\" :file \"%s\"}", d, bad_files[i]);
    cr_expect_str_eq(probe_error_type(r), "wat/bad-request", ":file %s", bad_files[i]);
  }
  r = askf(&t, "{:id 5 :op :trace-read :dir \"%s\" :file \"%s\"}", d, "1.ednl");
  cr_expect_str_eq(probe_error_type(r), "wat/no-such-file", "a file that is not there");
  r = askf(&t, "{:id 6 :op :trace-remove :dir \"%s\"}", d, NULL);
  cr_expect_eq(get_int(r, "removed"), 0);
  r = askf(&t, "{:id 7 :op :trace-remove :dir \"%s\"}", d, NULL);
  cr_expect_str_eq(probe_error_type(r), "wat/no-such-dir", "removed once only");
  probe_end(&t, fds0);
  free(d);
  unlink(link);
  rmdir(real);
}

/* $TMPDIR is the base: one under /tmp is then outside this probe's
 * prefix. (Without TMPDIR it is /tmp: the far suite, conformance/hosts.c,
 * sees its test hosts' directories there.) */
Test(probe_trace, tmpdir_is_the_base) {
  struct tree t;
  probe_start(&t, NULL);
  char *d = make_dir(&t);
  cr_expect(!strncmp(d, base, strlen(base)) && d[strlen(base)] == '/', "%s under %s", d, base);
  edn_value *r = tree_ask(&t, "{:id 2 :op :trace-files :dir \"/tmp/tp-trace.abcdef\"}", W);
  cr_expect_str_eq(probe_error_type(r), "wat/refused", "/tmp is not this probe's base");
  r = askf(&t, "{:id 3 :op :trace-remove :dir \"%s\"}", d, NULL);
  cr_expect_eq(get_int(r, "removed"), 0, "(error %s)", probe_error_type(r));
  probe_end(&t, fds0);
  free(d);
}
