/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The release syscalls, interposed. The balloon library is linked statically into
 * this test, so these definitions are the ones it calls. On the poll lcore each
 * call first reports to release_observe() (test_release.c), then does the real
 * syscall. Deliberately no <fcntl.h>: glibc redirects fallocate to fallocate64
 * under _FILE_OFFSET_BITS=64, and both names are defined here.
 */

#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/falloc.h>
#include <linux/mman.h>

#include "release_interpose.h"

int fallocate(int fd, int mode, long off, long len);
int fallocate64(int fd, int mode, long off, long len);
int madvise(void *addr, size_t len, int advice);

int
fallocate(int fd, int mode, long off, long len)
{
	if ((mode & FALLOC_FL_PUNCH_HOLE) != 0)
		release_observe(fd, (uint64_t)off, NULL, (uint64_t)len);
	return (int)syscall(SYS_fallocate, fd, mode, off, len);
}

int
fallocate64(int fd, int mode, long off, long len)
{
	return fallocate(fd, mode, off, len);
}

int
madvise(void *addr, size_t len, int advice)
{
	if (advice == MADV_REMOVE || advice == MADV_DONTNEED)
		release_observe(-1, 0, addr, len);
	return (int)syscall(SYS_madvise, addr, len, advice);
}
