/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef RELEASE_INTERPOSE_H
#define RELEASE_INTERPOSE_H

#include <stdint.h>

/*
 * Called before every hole punch (fd >= 0: file offset off) or MADV_REMOVE /
 * MADV_DONTNEED (addr) in this process, from whatever thread makes it.
 */
void release_observe(int fd, uint64_t off, void *addr, uint64_t len);

#endif /* RELEASE_INTERPOSE_H */
