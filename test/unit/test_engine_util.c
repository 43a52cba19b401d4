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

#include "test_engine_util.h"

#define HUGE_2M		(2ULL << 20)
#define HUGETLBFS_MAGIC_NR	0x958458f6

void
test_backing_memfd(struct test_backing *b, uint64_t size)
{
	b->fd = memfd_create("vhb-test", MFD_CLOEXEC);
	CHECK(b->fd >= 0, "memfd_create: %s", strerror(errno));
	CHECK(ftruncate(b->fd, (off_t)size) == 0, "ftruncate: %s", strerror(errno));
	b->map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, b->fd, 0);
	CHECK(b->map != MAP_FAILED, "mmap: %s", strerror(errno));
	b->size = size;
	b->page_size = 4096;
	b->kind = "memfd 4 KiB";
}

static int
find_hugetlbfs(char *dir, size_t len)
{
	const char *env = getenv("VHB_HUGETLBFS");
	char line[512], dev[128], mnt[256], type[64];
	struct statfs sfs;
	FILE *f;
	int found = 0;

	if (env != NULL && env[0] != '\0') {
		snprintf(dir, len, "%s", env);
		return 0;
	}
	f = fopen("/proc/mounts", "r");
	if (f == NULL)
		return -1;
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%127s %255s %63s", dev, mnt, type) != 3 ||
		    strcmp(type, "hugetlbfs") != 0)
			continue;
		if (statfs(mnt, &sfs) == 0 && (uint64_t)sfs.f_bsize == HUGE_2M) {
			snprintf(dir, len, "%s", mnt);
			found = 1;
		}
	}
	fclose(f);
	return found ? 0 : -1;
}

int
test_backing_hugetlbfs(struct test_backing *b, uint64_t size, char *why, size_t whylen)
{
	char dir[256], path[300];
	struct statfs sfs;

	if (find_hugetlbfs(dir, sizeof(dir)) != 0) {
		snprintf(why, whylen,
			 "no 2 MiB hugetlbfs mount in /proc/mounts (set VHB_HUGETLBFS)");
		return -1;
	}
	if (statfs(dir, &sfs) != 0 || sfs.f_type != HUGETLBFS_MAGIC_NR ||
	    (uint64_t)sfs.f_bsize != HUGE_2M) {
		snprintf(why, whylen, "%s is not a 2 MiB hugetlbfs", dir);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/vhb-test-XXXXXX", dir);
	b->fd = mkstemp(path);
	if (b->fd < 0) {
		snprintf(why, whylen, "mkstemp in %s: %s", dir, strerror(errno));
		return -1;
	}
	unlink(path);
	if (ftruncate(b->fd, (off_t)size) != 0 || fallocate(b->fd, 0, 0, (off_t)size) != 0) {
		snprintf(why, whylen, "cannot get %" PRIu64 " MiB of 2 MiB hugepages in %s: %s",
			 size >> 20, dir, strerror(errno));
		close(b->fd);
		return -1;
	}
	b->map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, b->fd, 0);
	if (b->map == MAP_FAILED) {
		snprintf(why, whylen, "mmap hugetlbfs: %s", strerror(errno));
		close(b->fd);
		return -1;
	}
	b->size = size;
	b->page_size = HUGE_2M;
	b->kind = "hugetlbfs 2 MiB";
	return 0;
}

void
test_backing_free(struct test_backing *b)
{
	munmap(b->map, b->size);
	close(b->fd);
}

uint64_t
test_backing_allocated(const struct test_backing *b)
{
	struct stat st;

	CHECK(fstat(b->fd, &st) == 0, "fstat: %s", strerror(errno));
	return (uint64_t)st.st_blocks * 512;
}

void
test_fill_page(struct test_backing *b, uint64_t i)
{
	uint64_t *p = (uint64_t *)(void *)(b->map + i * 4096);

	p[0] = test_pattern(i);
	p[511] = ~test_pattern(i);
}

int
test_page_ok(const struct test_backing *b, uint64_t i)
{
	const uint64_t *p = (const uint64_t *)(const void *)(b->map + i * 4096);

	return p[0] == test_pattern(i) && p[511] == ~test_pattern(i);
}

void
test_backing_open(struct test_backing *b, const char *kind, uint64_t size)
{
	char why[512];

	if (strcmp(kind, "hugetlbfs") == 0) {
		if (test_backing_hugetlbfs(b, size, why, sizeof(why)) != 0) {
			printf("backing: hugetlbfs 2 MiB unavailable, skipped: %s\n", why);
			exit(TEST_SKIP);
		}
	} else {
		test_backing_memfd(b, size);
	}
	printf("backing: %s, %" PRIu64 " MiB\n", b->kind, size >> 20);
}
