/* write_all.h — the whole of a buffer written to a file descriptor. */
#ifndef TREEPROOF_WRITE_ALL_H
#define TREEPROOF_WRITE_ALL_H

#include <stddef.h>

/* Write all `n` bytes of `p` to `fd`, going on after EINTR and short
 * writes. 0, or -errno (-EIO when write wrote nothing). */
int write_all(int fd, const void *p, size_t n);

#endif
