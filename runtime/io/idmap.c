/* idmap.c — per-edge id → waiting request table (see idmap.h). */
#include <stdlib.h>
#include <string.h>

#include "idmap.h"

static size_t slot_of(int64_t id, size_t cap) {
  uint64_t h = (uint64_t)id * 0x9E3779B97F4A7C15ull;
  return (size_t)(h >> 17) & (cap - 1);
}

static int grow(struct idmap *m) {
  size_t cap = m->cap ? m->cap * 2 : 16;
  struct idmap_entry *e = calloc(cap, sizeof *e);
  if (!e) return -1;
  for (size_t i = 0; i < m->cap; i++) {
    if (!m->e[i].req) continue;
    size_t j = slot_of(m->e[i].id, cap);
    while (e[j].req) j = (j + 1) & (cap - 1);
    e[j] = m->e[i];
  }
  free(m->e);
  m->e = e;
  m->cap = cap;
  return 0;
}

int idmap_put(struct idmap *m, int64_t id, struct req *req, int slot) {
  if ((m->len + 1) * 4 > m->cap * 3 && grow(m) < 0) return -1;
  size_t j = slot_of(id, m->cap);
  while (m->e[j].req && m->e[j].id != id) j = (j + 1) & (m->cap - 1);
  if (!m->e[j].req) m->len++;
  m->e[j] = (struct idmap_entry){.id = id, .req = req, .slot = slot};
  return 0;
}

/* Backward-shift deletion keeps every probe chain unbroken. */
static void remove_at(struct idmap *m, size_t i) {
  size_t mask = m->cap - 1;
  m->e[i].req = NULL;
  m->len--;
  for (size_t j = (i + 1) & mask; m->e[j].req; j = (j + 1) & mask) {
    size_t home = slot_of(m->e[j].id, m->cap);
    /* move e[j] into the hole at i if its home is not in (i, j] */
    if (((j - home) & mask) >= ((j - i) & mask)) {
      m->e[i] = m->e[j];
      m->e[j].req = NULL;
      i = j;
    }
  }
}

int idmap_take(struct idmap *m, int64_t id, struct idmap_entry *out) {
  if (!m->cap) return 0;
  for (size_t j = slot_of(id, m->cap); m->e[j].req; j = (j + 1) & (m->cap - 1)) {
    if (m->e[j].id != id) continue;
    *out = m->e[j];
    remove_at(m, j);
    return 1;
  }
  return 0;
}

int idmap_pop(struct idmap *m, struct idmap_entry *out) {
  for (size_t i = 0; i < m->cap && m->len; i++) {
    if (!m->e[i].req) continue;
    *out = m->e[i];
    remove_at(m, i);
    return 1;
  }
  return 0;
}

void idmap_free(struct idmap *m) {
  free(m->e);
  memset(m, 0, sizeof *m);
}
