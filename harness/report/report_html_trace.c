/* report_html_trace.c — the timeline of a report page: every event of a
 * run's trace directory (the harness's harness-*.ednl, each node's
 * PID.ednl, and a far host's HOST/PID.ednl, all stamped with
 * CLOCK_MONOTONIC :t-us) merged by time, drawn
 * as an SVG strip with a lane per edge and listed in a table. Events that
 * carry no :edge (lifecycle events naming a :node) go in that node's lane.
 * Only the first and last max/2 events are shown; the page says how many
 * were left out, and how many lines could not be read. */
#define _GNU_SOURCE
#include "report_html.h"
#include "read_all.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_TRACE_BYTES ((size_t)64 << 20) /* read no more than this */
#define MAX_LANES 150                        /* lanes drawn in the strip */
#define MAX_MSG_CHARS 300                    /* of a message in the table */
#define STRIP_W 900                          /* px of the time axis */
#define LABEL_W 190
#define LANE_H 16

struct event {
  int64_t t;
  size_t seq;          /* read order: ties keep it */
  size_t lane;
  const edn_value *v;
};

struct lane {
  char *label;         /* "L1 → L2a", or a node name */
  const struct tree_node *node; /* the edge's child in the tree, or NULL */
  size_t order;        /* the node's depth-first index; unknown lanes last */
  size_t events;
};

/* A string → index map (open addressing), for lanes and tree edges. */
struct strmap {
  char **keys;
  size_t *vals;
  size_t cap, len;
};

static uint64_t hash(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

static size_t *strmap_slot(struct strmap *m, const char *key, bool *found) {
  size_t i = hash(key) & (m->cap - 1);
  while (m->keys[i] && strcmp(m->keys[i], key) != 0)
    i = (i + 1) & (m->cap - 1);
  *found = m->keys[i] != NULL;
  return &m->vals[i];
}

/* The value under key, or SIZE_MAX. */
static size_t strmap_get(struct strmap *m, const char *key) {
  bool found = false;
  if (!m->cap)
    return SIZE_MAX;
  size_t *v = strmap_slot(m, key, &found);
  return found ? *v : SIZE_MAX;
}

static int strmap_grow(struct strmap *m) {
  struct strmap g = {calloc(m->cap ? m->cap * 2 : 64, sizeof(char *)),
                     calloc(m->cap ? m->cap * 2 : 64, sizeof(size_t)),
                     m->cap ? m->cap * 2 : 64, m->len};
  if (!g.keys || !g.vals) {
    free(g.keys);
    free(g.vals);
    return -1;
  }
  for (size_t i = 0; i < m->cap; i++)
    if (m->keys[i]) {
      bool found;
      size_t *v = strmap_slot(&g, m->keys[i], &found);
      *v = m->vals[i];
      g.keys[v - g.vals] = m->keys[i];
    }
  free(m->keys);
  free(m->vals);
  *m = g;
  return 0;
}

/* Put key → val (key copied); 0, or -1 when out of memory. */
static int strmap_put(struct strmap *m, const char *key, size_t val) {
  if ((m->len + 1) * 2 > m->cap && strmap_grow(m) < 0)
    return -1;
  bool found;
  size_t *v = strmap_slot(m, key, &found);
  if (!found) {
    char *k = strdup(key);
    if (!k)
      return -1;
    m->keys[v - m->vals] = k;
    m->len++;
  }
  *v = val;
  return 0;
}

static void strmap_free(struct strmap *m) {
  for (size_t i = 0; i < m->cap; i++)
    free(m->keys[i]);
  free(m->keys);
  free(m->vals);
}

struct timeline {
  edn_arena *arena;
  struct event *ev;
  size_t nev, capev;
  struct lane *lanes;
  size_t nlanes;
  struct strmap lane_of;   /* label → lane index */
  struct strmap edge_of;   /* "PARENT\x1fCHILD" names → tree node index */
  const struct tree_node **nodes; /* depth-first */
  size_t nnodes;
  size_t unreadable, bytes_skipped, files;
};

static void index_tree(struct timeline *tl, const struct tree_node *t) {
  char *key = NULL;
  if (asprintf(&key, "%s\x1f%s", t->parent ? t->parent->name : "harness",
               t->name) >= 0 &&
      strmap_get(&tl->edge_of, key) == SIZE_MAX)
    strmap_put(&tl->edge_of, key, tl->nnodes);
  free(key);
  tl->nodes[tl->nnodes++] = t;
  for (size_t i = 0; i < t->nchildren; i++)
    index_tree(tl, t->children[i]);
}

static const char *str_of(const edn_value *v) {
  return v && v->type == EDN_STRING ? v->u.text.ptr : NULL;
}

/* The lane of event v: its :edge, else its :node, else "(other)". */
static size_t lane_for(struct timeline *tl, const edn_value *v) {
  const edn_value *edge = edn_map_getk(v, "edge");
  const char *from = NULL, *to = NULL;
  if (edge && edge->type == EDN_VECTOR && edge->u.seq.len == 2) {
    from = str_of(edge->u.seq.items[0]);
    to = str_of(edge->u.seq.items[1]);
  }
  char *label = NULL, *key = NULL;
  const char *node = str_of(edn_map_getk(v, "node"));
  int n = from && to ? asprintf(&label, "%s → %s", from, to)
                     : asprintf(&label, "%s", node ? node : "(other)");
  if (n < 0)
    return SIZE_MAX;
  size_t lane = strmap_get(&tl->lane_of, label);
  if (lane != SIZE_MAX) {
    free(label);
    return lane;
  }
  struct lane *ls = realloc(tl->lanes, (tl->nlanes + 1) * sizeof *ls);
  if (!ls || strmap_put(&tl->lane_of, label, tl->nlanes) < 0) {
    free(label);
    if (ls)
      tl->lanes = ls;
    return SIZE_MAX;
  }
  tl->lanes = ls;
  size_t node_ix = SIZE_MAX;
  if (from && to && asprintf(&key, "%s\x1f%s", from, to) >= 0)
    node_ix = strmap_get(&tl->edge_of, key);
  free(key);
  ls[tl->nlanes] = (struct lane){label,
                                 node_ix == SIZE_MAX ? NULL : tl->nodes[node_ix],
                                 node_ix, 0};
  return tl->nlanes++;
}

static void add_line(struct timeline *tl, const char *line, size_t len) {
  edn_value *v = NULL;
  struct edn_error err;
  if (len == 0)
    return;
  const edn_value *t;
  if (edn_read(tl->arena, line, len, NULL, &v, &err) != EDN_OK ||
      v->type != EDN_MAP || !(t = edn_map_getk(v, "t-us")) ||
      t->type != EDN_INT) {
    tl->unreadable++;
    return;
  }
  if (tl->nev == tl->capev) {
    size_t cap = tl->capev ? tl->capev * 2 : 1024;
    struct event *e = realloc(tl->ev, cap * sizeof *e);
    if (!e) {
      tl->unreadable++;
      return;
    }
    tl->ev = e;
    tl->capev = cap;
  }
  size_t lane = lane_for(tl, v);
  if (lane == SIZE_MAX) {
    tl->unreadable++;
    return;
  }
  tl->lanes[lane].events++;
  tl->ev[tl->nev] = (struct event){t->u.integer, tl->nev, lane, v};
  tl->nev++;
}

static char *read_file(int dfd, const char *name, size_t budget, size_t *len) {
  int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
  struct stat st;
  char *buf = NULL;
  int err;
  *len = 0;
  if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
      (size_t)st.st_size <= budget)
    buf = read_all(fd, budget, len, &err);
  if (fd >= 0)
    close(fd);
  return buf;
}

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* The *.ednl files of directory `dfd` (closed here) into tl, `*used`
 * counting the bytes read; with `hosts`, the same for each directory in
 * it (DIR/HOST/, a far host's files: one level, no deeper). */
static void read_files(struct timeline *tl, int dfd, size_t *used, bool hosts) {
  DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
  if (!d) {
    if (dfd >= 0)
      close(dfd);
    return;
  }
  for (struct dirent *de; (de = readdir(d));) {
    struct stat sub;
    if (hosts && de->d_name[0] != '.' &&
        fstatat(dfd, de->d_name, &sub, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(sub.st_mode)) {
      read_files(tl, openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
                            O_CLOEXEC), used, false);
      continue;
    }
    if (!ends_with(de->d_name, ".ednl"))
      continue;
    size_t len;
    char *text = read_file(dfd, de->d_name, MAX_TRACE_BYTES - *used, &len);
    if (!text) {
      struct stat st;
      if (fstatat(dfd, de->d_name, &st, 0) == 0)
        tl->bytes_skipped += (size_t)st.st_size;
      continue;
    }
    *used += len;
    tl->files++;
    for (size_t i = 0; i < len;) {
      char *nl = memchr(text + i, '\n', len - i);
      size_t n = nl ? (size_t)(nl - (text + i)) : len - i;
      add_line(tl, text + i, n);
      i += n + 1;
    }
    free(text);
  }
  closedir(d);
}

/* Every trace file of the run: each *.ednl in DIR, and in each far
 * host's DIR/HOST. */
static void read_dir(struct timeline *tl, const char *dir) {
  size_t used = 0;
  read_files(tl, open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), &used, true);
}

static int by_time(const void *a, const void *b) {
  const struct event *x = a, *y = b;
  if (x->t != y->t)
    return x->t < y->t ? -1 : 1;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int by_order(const void *a, const void *b) {
  const struct lane *x = *(const struct lane *const *)a,
                    *y = *(const struct lane *const *)b;
  if (x->order != y->order)
    return x->order < y->order ? -1 : 1;
  return strcmp(x->label, y->label);
}

/* ---- drawing ------------------------------------------------------------ */

/* The kind of an event: its :dir, :event or :type keyword, or "event". */
static const char *kind_of(const edn_value *v) {
  static const char *const keys[] = {"dir", "event", "type"};
  for (size_t i = 0; i < 3; i++) {
    const edn_value *k = edn_map_getk(v, keys[i]);
    if (k && k->type == EDN_KEYWORD)
      return k->u.text.ptr;
  }
  return "event";
}

static const char *kind_colour(const char *kind) {
  if (strcmp(kind, "down") == 0)
    return "#1e88e5";
  if (strcmp(kind, "up") == 0)
    return "#43a047";
  if (strcmp(kind, "err") == 0)
    return "#d81b60";
  return "#6d4c41";
}

/* An event without :msg: its other entries (not :t-us, :edge, :event). */
static char *rest_of(const edn_value *v) {
  static const char *const skip[] = {"t-us", "edge", "event"};
  char *text = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&text, &len);
  if (!m)
    return NULL;
  fputc('{', m);
  bool first = true;
  for (size_t i = 0; i < v->u.map.len; i++) {
    const edn_value *k = v->u.map.entries[i].key;
    bool skipped = false;
    for (size_t j = 0; j < 3 && k->type == EDN_KEYWORD; j++)
      skipped |= strcmp(k->u.text.ptr, skip[j]) == 0;
    char *ks = skipped ? NULL : edn_to_string(k);
    char *vs = skipped ? NULL : edn_to_string(v->u.map.entries[i].val);
    if (ks && vs)
      fprintf(m, "%s%s %s", first ? "" : " ", ks, vs), first = false;
    free(ks);
    free(vs);
  }
  fputc('}', m);
  fclose(m);
  return text;
}

/* The event's :msg (or its other entries) as compact EDN, cut at `max`. */
static void put_msg(FILE *out, const edn_value *v, size_t max) {
  const edn_value *m = edn_map_getk(v, "msg");
  char *s = m ? edn_to_string(m) : rest_of(v);
  if (!s)
    return;
  size_t len = strlen(s);
  html_put_textn(out, s, len > max ? max : len);
  if (len > max)
    fprintf(out, " … (%zu bytes)", len);
  free(s);
}

static bool shown(size_t i, size_t n, size_t max) {
  return n <= max || i < max / 2 || i >= n - (max - max / 2);
}

static void put_lane_label(FILE *out, const struct lane *l) {
  if (l->node) {
    fputs("<a href=\"#", out);
    html_put_node_id(out, "node-", l->node->path);
    fputs("\">", out);
  }
  html_put_text(out, l->label);
  if (l->node)
    fputs("</a>", out);
}

static void put_strip(FILE *out, struct timeline *tl, struct lane **order,
                      size_t max) {
  size_t drawn = tl->nlanes < MAX_LANES ? tl->nlanes : MAX_LANES;
  int64_t t0 = tl->ev[0].t, t1 = tl->ev[tl->nev - 1].t;
  double span = t1 > t0 ? (double)(t1 - t0) : 1.0;
  size_t *row = calloc(tl->nlanes, sizeof *row);
  if (!row)
    return;
  for (size_t i = 0; i < tl->nlanes; i++)
    row[order[i] - tl->lanes] = i;
  size_t h = drawn * LANE_H + 24;
  fprintf(out, "<svg class=\"strip\" xmlns=\"http://www.w3.org/2000/svg\" "
          "width=\"%d\" height=\"%zu\" font-family=\"DejaVu Sans\" "
          "font-size=\"11\">\n", LABEL_W + STRIP_W + 10, h);
  for (size_t i = 0; i < drawn; i++) {
    fprintf(out, "<rect x=\"%d\" y=\"%zu\" width=\"%d\" height=\"%d\" "
            "fill=\"%s\"/>\n<text x=\"4\" y=\"%zu\">", LABEL_W, i * LANE_H,
            STRIP_W, LANE_H, i % 2 ? "#ffffff" : "#f0f0f0",
            i * LANE_H + LANE_H - 4);
    put_lane_label(out, order[i]);
    fputs("</text>\n", out);
  }
  for (size_t i = 0; i < tl->nev; i++) {
    const struct event *e = &tl->ev[i];
    if (!shown(i, tl->nev, max) || row[e->lane] >= drawn)
      continue;
    const char *kind = kind_of(e->v);
    fprintf(out, "<rect x=\"%.1f\" y=\"%zu\" width=\"3\" height=\"%d\" "
            "fill=\"%s\"><title>%.3f ms %s ", LABEL_W + (e->t - t0) / span *
            (STRIP_W - 3), row[e->lane] * LANE_H + 2, LANE_H - 4,
            kind_colour(kind), (e->t - t0) / 1000.0, kind);
    put_msg(out, e->v, 200);
    fputs("</title></rect>\n", out);
  }
  for (int k = 0; k <= 4; k++)
    fprintf(out, "<text x=\"%.0f\" y=\"%zu\" text-anchor=\"%s\">%.1f ms"
            "</text>\n", LABEL_W + STRIP_W * k / 4.0, h - 6,
            k == 0 ? "start" : k == 4 ? "end" : "middle", span * k / 4000.0);
  fputs("</svg>\n", out);
  if (drawn < tl->nlanes)
    fprintf(out, "<p class=\"note\">%zu more lanes are not drawn (their "
            "events are in the table).</p>\n", tl->nlanes - drawn);
  free(row);
}

static void put_table(FILE *out, struct timeline *tl, size_t max) {
  int64_t t0 = tl->ev[0].t;
  fputs("<table class=\"timeline\">\n<tr><th>ms</th><th>lane</th>"
        "<th>kind</th><th>message</th></tr>\n", out);
  for (size_t i = 0; i < tl->nev; i++) {
    if (!shown(i, tl->nev, max)) {
      if (i == max / 2)
        fprintf(out, "<tr><td colspan=\"4\" class=\"note\">… %zu events "
                "left out …</td></tr>\n", tl->nev - max);
      continue;
    }
    const struct event *e = &tl->ev[i];
    const char *kind = kind_of(e->v);
    fprintf(out, "<tr><td class=\"t\">%.3f</td><td class=\"lane\">",
            (e->t - t0) / 1000.0);
    put_lane_label(out, &tl->lanes[e->lane]);
    fputs("</td><td class=\"dir-", out);
    html_put_text(out, kind);
    fputs("\">", out);
    html_put_text(out, kind);
    fputs("</td><td><code>", out);
    put_msg(out, e->v, MAX_MSG_CHARS);
    fputs("</code></td></tr>\n", out);
  }
  fputs("</table>\n", out);
}

static void put_timeline(FILE *out, struct timeline *tl, size_t max) {
  fprintf(out, "<p>%zu events from %zu trace file(s), %zu lane(s)", tl->nev,
          tl->files, tl->nlanes);
  if (tl->nev > max)
    fprintf(out, "; showing the first %zu and the last %zu, <b>%zu left "
            "out</b>", max / 2, max - max / 2, tl->nev - max);
  if (tl->unreadable)
    fprintf(out, "; %zu unreadable line(s) skipped", tl->unreadable);
  if (tl->bytes_skipped)
    fprintf(out, "; %zu bytes of trace not read (over %zu MiB)",
            tl->bytes_skipped, MAX_TRACE_BYTES >> 20);
  fputs(".</p>\n", out);
  if (!tl->nev)
    return;
  struct lane **order = malloc(tl->nlanes * sizeof *order);
  if (!order)
    return;
  for (size_t i = 0; i < tl->nlanes; i++)
    order[i] = &tl->lanes[i];
  qsort(order, tl->nlanes, sizeof *order, by_order);
  put_strip(out, tl, order, max);
  free(order);
  put_table(out, tl, max);
}

void html_timeline(FILE *out, const struct scenario_result *r,
                   const char *trace_dir, size_t max_events) {
  struct timeline tl = {0};
  fputs("<h2 id=\"timeline\">Timeline</h2>\n<p class=\"note\">Trace: ", out);
  html_put_text(out, trace_dir);
  fputs(" — <span class=\"dir-down\">down</span> (a request to the child), "
        "<span class=\"dir-up\">up</span> (a reply), <span class=\"dir-err\">"
        "err</span> (the child's stderr), other events in brown.</p>\n", out);
  if (max_events < 2)
    max_events = 2;
  tl.arena = edn_arena_new();
  if (r->scenario) {
    tl.nodes = calloc(tree_count(r->scenario->root), sizeof *tl.nodes);
    if (tl.nodes)
      index_tree(&tl, r->scenario->root);
  }
  if (tl.arena) {
    read_dir(&tl, trace_dir);
    qsort(tl.ev, tl.nev, sizeof *tl.ev, by_time);
    put_timeline(out, &tl, max_events);
  }
  for (size_t i = 0; i < tl.nlanes; i++)
    free(tl.lanes[i].label);
  free(tl.lanes);
  free(tl.ev);
  free(tl.nodes);
  strmap_free(&tl.lane_of);
  strmap_free(&tl.edge_of);
  edn_arena_free(tl.arena);
}
