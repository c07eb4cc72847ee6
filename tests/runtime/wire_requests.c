/* wire_requests.c — the input half of a wire transcript (scripts/wire-fixture):
 * from a tree scenario, the root's spec line then the request lines that
 * exercise every way a node passes a message on — :route to every node
 * (a sample of at most MAX_PATHS in a big tree), :fan, route of fan, fan of
 * fan, errors on the way — with EDN spelled every way the format allows
 * (whitespace, commas, discards, comments, tags, escapes, numbers that
 * print differently), so that a runtime that forwards bytes instead of
 * printing values is held to the same output as one that printed them.
 *
 * usage: wire_requests SCENARIO.yaml OUT.in
 * Links the harness's scenario loader (the spec a scenario's root gets) and
 * the codec; never the runtime. Exit 0, 1 on an error (said on stderr). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edn.h"
#include "scenario.h"

enum { MAX_PATHS = 40 };

/* A body in every spelling the printer would write differently. */
static const char *const RICH =
    "{\"k\\\"ey\" [1 -2 +3 3.5 1e3 -0.0 1.0E-5 ##Inf ##-Inf \\a \\newline "
    "\\u00e9 \\space nil true false :kw :ns/kw ns/sym #{1 2} (1 (2)) "
    "#inst \"2020-01-01T00:00:00Z\" #uuid \"f81d4fae-7dec-11d0-a765-00a0c91e6bf6\" "
    "#my/tag {:a 1} 12345678901234567890 7N 1.50M 0x], :s \"quote\\\" back\\\\ "
    "nl\\n tab\\t \\u00e9 \\u2603 \xc3\xa9 \\u0007\" , #_ :dropped :empty [] , :m {}}";
/* "0x" above would be a bad number: the first use checks it is refused
 * where a node reads it (the root), the rest use RICH_OK. */
static const char *const RICH_OK =
    "{\"k\\\"ey\" [1 -2 +3 3.5 1e3 -0.0 1.0E-5 ##Inf ##-Inf \\a \\newline "
    "\\u00e9 \\space nil true false :kw :ns/kw ns/sym #{1 2} (1 (2)) "
    "#inst \"2020-01-01T00:00:00Z\" #uuid \"f81d4fae-7dec-11d0-a765-00a0c91e6bf6\" "
    "#my/tag {:a 1} 12345678901234567890 7N 1.50M], :s \"quote\\\" back\\\\ "
    "nl\\n tab\\t \\u00e9 \\u2603 \xc3\xa9 \\u0007\" , #_ :dropped :empty [] , :m {}}";

struct out {
  FILE *f;
  long id;
};

static void line(struct out *o, const char *fmt, const char *a, const char *b) {
  fprintf(o->f, "{:id %ld ", o->id++);
  fprintf(o->f, fmt, a, b);
  fputc('\n', o->f);
}

/* ["L2b" "L3c"] for the node at path "L2b/L3c". */
static void path_vector(const struct tree_node *n, char *buf, size_t size) {
  const struct tree_node *chain[64];
  size_t k = 0, used = 0;
  for (; n->parent && k < 64; n = n->parent) chain[k++] = n;
  used += (size_t)snprintf(buf + used, size - used, "[");
  while (k-- > 0 && used < size)
    used += (size_t)snprintf(buf + used, size - used, "%s\"%s\"",
                             used > 1 ? " " : "", chain[k]->name);
  if (used < size) snprintf(buf + used, size - used, "]");
}

/* Every node of the initial tree below the root, depth first. */
static void collect(const struct tree_node *t, const struct tree_node **all,
                    size_t *n, size_t cap) {
  for (size_t i = 0; i < t->nchildren; i++) {
    if (t->children[i]->spawn_step >= 0) continue; /* not started with the tree */
    if (*n < cap) all[(*n)++] = t->children[i];
    collect(t->children[i], all, n, cap);
  }
}

/* `wide`: over 200 nodes, where a rich body in every node's part of a
 * :fan would make a transcript of megabytes: a short one there. */
static void root_requests(struct out *o, bool wide) {
  const char *fan_body = wide ? "[1 -0.0 \\u00e9 7N]" : RICH_OK;
  line(o, ":op :ping%s%s}", "", "");
  line(o, ":op :echo :body %s%s}", RICH_OK, "");
  line(o, ":op :fan :req {:op :ping}%s%s}", "", "");
  line(o, ":op :fan%s%s}", "", "");
  line(o, ":op :fan :req {:op :echo :body %s}%s}", fan_body, "");
  line(o, ":op :fan , :req #_ 1 { :op :fan :req {:op :echo :body [1 2.50 \\x]} }%s%s }", "", "");
  line(o, ":op :fan :req {:id 5 :op :echo :body %s}%s}", "\"inner id\"", "");
  line(o, ":op :fan :req {:op :nope}%s%s}", "", "");
  line(o, ":op :fan :req [1 2]%s%s}", "", "");
  line(o, ":op :route :path [] :req {:op :fan :req {:op :echo :body %s}}%s}", fan_body, "");
  line(o, ":op :route :path [\"no-such\"] :req {:op :ping}%s%s}", "", "");
  line(o, ":op :route :path \"x\" :req {:op :ping}%s%s}", "", "");
  line(o, ":op :route :path [] :req :ping%s%s}", "", "");
  line(o, ":op :echo :body %s%s}", RICH, "");
  fprintf(o->f, "not edn {\n[1 2]\n{:op :ping}\n{:id \"x\" :op :ping}\n\n");
}

static void node_requests(struct out *o, const char *p, bool big) {
  line(o, ":op :route :path %s :req {:op :ping}}", p, "");
  line(o, ":op :route :path %s :req {:op :echo :body %s}}", p, RICH_OK);
  line(o, ":op :route :path %s :req %s}", p, RICH_OK); /* no :op */
  line(o, ":op :route :path %s :req {:id 99 :op :echo :body %s}}", p, RICH_OK);
  line(o, ":op :route , :path %s :req #_ :x { :op :echo , :body \"spaced\" } , :extra 1 }", p, "");
  line(o, ":op :route :path %s :req {:op :fan :req {:op :echo :body [1 \\u00e9 1e3]}}}", p, "");
  line(o, ":op :route :path %s :req {:op :route :path [\"zz\"] :req {:op :ping}}}", p, "");
  line(o, ":op :route :path %s :req {:op :route :path [] :req {:op :echo :body 1.50M}}}", p, "");
  line(o, ":op :route :path %s :req {:op :nope :x #{3 1 2}}}", p, "");
  line(o, ":op :route :path %s :req {:op :sleep :ms 0}} ; a comment to the end", p, "");
  line(o, ":op :route :path %s :req {:op :hold :ms 0}}", p, "");
  line(o, ":op :route :path %s :req {:op :echo}}", p, "");
  if (!big) return;
  /* a body of 72 KiB, more than one read: forwarding must not cut or copy
   * it wrong */
  fprintf(o->f, "{:id %ld :op :route :path %s :req {:op :echo :body \"", o->id++, p);
  for (int i = 0; i < 72 * 1024 / 16; i++) fputs("0123456789abc\\n\\\"", o->f);
  fputs("\"}}\n", o->f);
}

int main(int argc, char **argv) {
  struct scenario_error err;
  if (argc != 3) {
    fprintf(stderr, "usage: wire_requests SCENARIO.yaml OUT.in\n");
    return 1;
  }
  struct scenario *s = scenario_load(argv[1], &err);
  edn_arena *a = edn_arena_new();
  char *spec = s && a ? edn_to_string(scenario_root_spec(a, s)) : NULL;
  struct out o = {.f = spec ? fopen(argv[2], "w") : NULL, .id = 1};
  if (!o.f) {
    fprintf(stderr, "wire_requests: fatal: unable to load %s or write %s\n",
            argv[1], argv[2]);
    return 1;
  }
  fprintf(o.f, "%s\n", spec);
  static const struct tree_node *all[1 << 14];
  size_t n = 0;
  collect(s->root, all, &n, sizeof all / sizeof *all);
  root_requests(&o, n > 200);
  size_t step = n > MAX_PATHS ? (n + MAX_PATHS - 1) / MAX_PATHS : 1;
  for (size_t i = 0; i < n; i += step) {
    char p[1024];
    path_vector(all[i], p, sizeof p);
    node_requests(&o, p, i == 0 && n <= 10); /* the big body in small trees */
  }
  int bad = fclose(o.f) != 0;
  free(spec);
  edn_arena_free(a);
  scenario_free(s);
  return bad;
}
