/* ids.c — request ids on the root edge: how often each id was sent and
 * answered (an open-addressing table), the ids whose lost replies are
 * expected, and fresh internal ids the scenario's own sends never use. */
#define _GNU_SOURCE
#include <stdlib.h>

#include "internal.h"

static uint64_t id_hash(int64_t id) {
  uint64_t x = (uint64_t)id * 0x9E3779B97F4A7C15ull;
  return x ^ (x >> 29);
}

static int ids_grow(struct engine *e) {
  size_t cap = e->capids ? e->capids * 2 : 256;
  struct idcount *v = calloc(cap, sizeof *v);
  if (!v)
    return -1;
  for (size_t i = 0; i < e->capids; i++) {
    if (!e->ids[i].used)
      continue;
    size_t j = id_hash(e->ids[i].id) & (cap - 1);
    while (v[j].used)
      j = (j + 1) & (cap - 1);
    v[j] = e->ids[i];
  }
  free(e->ids);
  e->ids = v;
  e->capids = cap;
  return 0;
}

struct idcount *engine_idcount(struct engine *e, int64_t id, bool create) {
  if (e->capids) {
    size_t j = id_hash(id) & (e->capids - 1);
    while (e->ids[j].used) {
      if (e->ids[j].id == id)
        return &e->ids[j];
      j = (j + 1) & (e->capids - 1);
    }
  }
  if (!create)
    return NULL;
  if ((e->nids + 1) * 2 > e->capids && ids_grow(e) < 0)
    return NULL;
  size_t j = id_hash(id) & (e->capids - 1);
  while (e->ids[j].used)
    j = (j + 1) & (e->capids - 1);
  e->ids[j].used = true;
  e->ids[j].id = id;
  e->nids++;
  return &e->ids[j];
}

void engine_exempt(struct engine *e, int64_t id) {
  struct idcount *c = engine_idcount(e, id, true);
  if (c)
    c->exempt = true;
}

int64_t engine_next_id(struct engine *e) {
  for (;;) {
    int64_t id = e->next_id--;
    bool taken = false; /* a scenario may use negative ids too */
    for (size_t i = 0; i < e->s->nsteps && !taken; i++) {
      const edn_value *v = e->s->steps[i].send
                               ? edn_map_getk(e->s->steps[i].send, "id")
                               : NULL;
      taken = v && v->type == EDN_INT && v->u.integer == id;
    }
    if (!taken)
      return id;
  }
}

