/* idmap.h — per-edge id remapping: the id a node put on a request it sent
 * down one edge → who waits for the reply (a request and a slot in it).
 * Open addressing with linear probing; ids are int64 the edge allots. */
#ifndef TREEPROOF_IDMAP_H
#define TREEPROOF_IDMAP_H

#include <stddef.h>
#include <stdint.h>

struct req;

struct idmap_entry {
  int64_t id;
  struct req *req; /* NULL: empty slot */
  int slot;        /* which part of req the reply fills (-1: all of it) */
};

struct idmap {
  struct idmap_entry *e; /* malloc'ed, freed by idmap_free */
  size_t cap, len;       /* cap is 0 or a power of two */
};

/* Remember id → (req, slot). Returns 0 or -1 when out of memory. */
int idmap_put(struct idmap *m, int64_t id, struct req *req, int slot);
/* Find and forget `id`. Returns 1 with *out filled, 0 when unknown. */
int idmap_take(struct idmap *m, int64_t id, struct idmap_entry *out);
/* Take any one entry (to fail them all). Returns 1 or 0 when empty. */
int idmap_pop(struct idmap *m, struct idmap_entry *out);
void idmap_free(struct idmap *m);

#endif
