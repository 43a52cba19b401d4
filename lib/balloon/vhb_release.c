/* SPDX-License-Identifier: BSD-3-Clause */

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>

#include "vhb_release.h"

int
vhb_release(int fd, uint64_t file_off, uint8_t *addr, uint64_t len, uint8_t *madvise_only,
	    uint64_t *calls)
{
	if (fd >= 0 && *madvise_only == 0) {
		(*calls)++;
		if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)file_off,
			      (off_t)len) == 0)
			return 0;
		if (errno != EOPNOTSUPP && errno != ENOSYS)
			return -errno;
		*madvise_only = 1;
	}
	(*calls)++;
	if (madvise(addr, len, MADV_REMOVE) != 0)
		return -errno;
	return 0;
}
