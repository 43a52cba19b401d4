/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The release syscall: the one place that hands guest memory back to the host
 * kernel. Callers pass only whole host pages that they know nobody uses.
 */
#ifndef VHB_RELEASE_H
#define VHB_RELEASE_H

#include <stdint.h>

/*
 * Release [file_off, file_off + len) of fd, mapped at addr, synchronously:
 * fallocate(PUNCH_HOLE | KEEP_SIZE) on fd; madvise(MADV_REMOVE) on addr when fd is
 * -1, when *madvise_only is set, or when the file system lacks hole punching (then
 * *madvise_only is set so later calls skip the failing fallocate). MADV_DONTNEED
 * is never used: it frees nothing on shared mappings.
 * Adds the syscalls made to *calls. Returns 0 or -errno.
 */
int vhb_release(int fd, uint64_t file_off, uint8_t *addr, uint64_t len, uint8_t *madvise_only,
		uint64_t *calls);

#endif /* VHB_RELEASE_H */
