/* SPDX-License-Identifier: BSD-3-Clause */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "perf_mem.h"

#define HUGE_2M			(2ULL << 20)
#define HUGETLBFS_MAGIC_NR	0x958458f6

static int
find_hugetlbfs(const char *opt, char *dir, size_t len)
{
	const char *env = getenv("VHB_HUGETLBFS");
	char line[512], dev[128], mnt[256], type[64];
	struct statfs sfs;
	int found = 0;
	FILE *f;

	if (opt != NULL || (env != NULL && env[0] != '\0')) {
		snprintf(dir, len, "%s", opt != NULL ? opt : env);
		return 0;
	}
	f = fopen("/proc/mounts", "r");
	if (f == NULL)
		return -errno;
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%127s %255s %63s", dev, mnt, type) == 3 &&
		    strcmp(type, "hugetlbfs") == 0 && statfs(mnt, &sfs) == 0 &&
		    (uint64_t)sfs.f_bsize == HUGE_2M) {
			snprintf(dir, len, "%s", mnt);
			found = 1;
		}
	}
	fclose(f);
	return found ? 0 : -ENOENT;
}

int
perf_mem_open(struct perf_mem *m, enum perf_backing backing, uint64_t size,
	      const char *hugetlbfs_dir, char *why, size_t whylen)
{
	char dir[256], path[300];
	struct statfs sfs;
	int err;

	memset(m, 0, sizeof(*m));
	m->backing = backing;
	m->size = size;
	if (backing == PERF_BACKING_MEMFD) {
		m->page_size = 4096;
		m->fd = memfd_create("vhb-perf", MFD_CLOEXEC);
		if (m->fd < 0) {
			err = errno;
			snprintf(why, whylen, "memfd_create: %s", strerror(err));
			return -err;
		}
	} else {
		m->page_size = HUGE_2M;
		if (find_hugetlbfs(hugetlbfs_dir, dir, sizeof(dir)) != 0) {
			snprintf(why, whylen, "no 2 MiB hugetlbfs mount (--hugetlbfs-dir)");
			return -ENOENT;
		}
		if (statfs(dir, &sfs) != 0 || sfs.f_type != HUGETLBFS_MAGIC_NR ||
		    (uint64_t)sfs.f_bsize != HUGE_2M) {
			snprintf(why, whylen, "%s is not a 2 MiB hugetlbfs", dir);
			return -EINVAL;
		}
		snprintf(path, sizeof(path), "%s/vhb-perf-XXXXXX", dir);
		m->fd = mkstemp(path);
		if (m->fd < 0) {
			err = errno;
			snprintf(why, whylen, "mkstemp in %s: %s", dir, strerror(err));
			return -err;
		}
		unlink(path);
	}
	if (ftruncate(m->fd, (off_t)size) != 0) {
		err = errno;
		snprintf(why, whylen, "ftruncate: %s", strerror(err));
		goto fail;
	}
	/* Make sure the hugepages exist before touching them (no SIGBUS later). */
	if (backing == PERF_BACKING_HUGETLBFS && fallocate(m->fd, 0, 0, (off_t)size) != 0) {
		err = errno;
		snprintf(why, whylen, "cannot get %" PRIu64 " MiB of 2 MiB hugepages: %s",
			 size >> 20, strerror(err));
		goto fail;
	}
	m->map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, 0);
	if (m->map == MAP_FAILED) {
		err = errno;
		snprintf(why, whylen, "mmap: %s", strerror(err));
		goto fail;
	}
	return 0;
fail:
	close(m->fd);
	return -err;
}

void
perf_mem_close(struct perf_mem *m)
{
	munmap(m->map, m->size);
	close(m->fd);
}

int
perf_mem_populate(struct perf_mem *m)
{
	uint64_t off;

	/*
	 * Allocate the file's pages, then map every one writable in this process, as
	 * a running guest has them: one fallocate and one MADV_POPULATE_WRITE instead
	 * of a fault per page. Touching each page is the fallback for old kernels.
	 */
	if (fallocate(m->fd, 0, 0, (off_t)m->size) != 0)
		return -errno;
	if (madvise(m->map, m->size, MADV_POPULATE_WRITE) == 0)
		return 0;
	for (off = 0; off < m->size; off += 4096)
		m->map[off] = (uint8_t)(off >> 12) | 1;
	return 0;
}

uint64_t
perf_mem_held(const struct perf_mem *m)
{
	struct stat st;

	if (fstat(m->fd, &st) != 0)
		return UINT64_MAX;
	return (uint64_t)st.st_blocks * 512;
}
