/* read_all.h — the whole of a file descriptor in memory, with a bound. */
#ifndef TREEPROOF_READ_ALL_H
#define TREEPROOF_READ_ALL_H

#include <stddef.h>

/* Read `fd` from where it stands to end of file into a malloc'ed buffer,
 * NUL-terminated (the NUL is not counted in *len). Returns it, or NULL with
 * *err set: EFBIG when there are more than `max` bytes, ENOMEM, or read's
 * errno. Does not close `fd`. */
char *read_all(int fd, size_t max, size_t *len, int *err);

#endif
