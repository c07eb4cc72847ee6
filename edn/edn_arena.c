/* edn_arena.c — the arena every EDN value lives in: bump allocation from a
 * chain of blocks, freed all at once. Blocks double in size up to 1 MiB; an
 * allocation too big for an ordinary block gets a block of its own, so one
 * large string does not waste the rest of the current block. A reset keeps
 * up to SPARE_MAX bytes of emptied blocks for the next values, so a node
 * serving large requests one after another does not return its memory to
 * the system and fault it back in each time. */
#include <stdlib.h>
#include <string.h>

#include "edn_internal.h"

enum { FIRST_BLOCK = 8192, MAX_BLOCK = 1 << 20, SPARE_MAX = 4 << 20 };

static struct edn_block *block_new(size_t size) {
  struct edn_block *b;
  if (size > SIZE_MAX - sizeof *b)
    return NULL;
  b = malloc(sizeof *b + size);
  if (!b)
    return NULL;
  b->next = NULL;
  b->size = size;
  b->used = 0;
  return b;
}

edn_arena *edn_arena_new(void) {
  edn_arena *a = malloc(sizeof *a);
  if (!a)
    return NULL;
  a->first = block_new(FIRST_BLOCK);
  if (!a->first) {
    free(a);
    return NULL;
  }
  a->cur = a->first;
  a->spare = NULL;
  a->next_size = FIRST_BLOCK * 2;
  return a;
}

/* A spare block of at least n bytes, unlinked from the spares, or NULL. */
static struct edn_block *take_spare(edn_arena *a, size_t n) {
  for (struct edn_block **p = &a->spare; *p; p = &(*p)->next)
    if ((*p)->size >= n) {
      struct edn_block *b = *p;
      *p = b->next;
      b->used = 0;
      return b;
    }
  return NULL;
}

/* The fast path (edn__alloc) found no room in the current block. */
void *edn__alloc_slow(edn_arena *a, size_t n) {
  struct edn_block *b;
  if (n > SIZE_MAX / 2)
    return NULL;
  if ((b = take_spare(a, n))) {
    a->cur = b;
  } else if (n > a->next_size / 4) { /* big: a block of its own, cur unchanged */
    b = block_new(n);
    if (!b)
      return NULL;
  } else {
    b = block_new(a->next_size);
    if (!b)
      return NULL;
    if (a->next_size < MAX_BLOCK)
      a->next_size *= 2;
    a->cur = b;
  }
  b->next = a->first->next; /* the first block stays first for reset */
  a->first->next = b;
  b->used = n;
  return b->data;
}

char *edn__text(edn_arena *a, const char *s, size_t n) {
  char *p = edn__alloc(a, n + 1);
  if (!p)
    return NULL;
  if (n)
    memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

static void free_chain(struct edn_block *b) {
  while (b) {
    struct edn_block *next = b->next;
    free(b);
    b = next;
  }
}

void edn_arena_reset(edn_arena *a) {
  size_t kept = 0;
  struct edn_block *b = a->first->next;
  for (struct edn_block *s = a->spare; s; s = s->next)
    kept += s->size;
  while (b) {
    struct edn_block *next = b->next;
    if (kept + b->size <= SPARE_MAX) {
      kept += b->size;
      b->next = a->spare;
      a->spare = b;
    } else {
      free(b);
    }
    b = next;
  }
  a->first->next = NULL;
  a->first->used = 0;
  a->cur = a->first;
  a->next_size = FIRST_BLOCK * 2;
}

void edn_arena_free(edn_arena *a) {
  if (!a)
    return;
  free_chain(a->first);
  free_chain(a->spare);
  free(a);
}
