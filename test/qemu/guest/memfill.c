/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * memfill: runs inside the qemu suite's test guest (built statically into its initramfs).
 * Fills memory with a pattern that differs in every 8-byte word of every 4 KiB page and
 * checks it, so a page that the host released or mixed up while the guest still used it
 * shows up as a wrong word.
 *
 *   memfill fill FILE MIB SEED   write MIB MiB of pattern to FILE (tmpfs: guest RAM)
 *   memfill verify FILE SEED     check FILE against the pattern; exit 1 on the first bad word
 *   memfill alloc MIB SEED       allocate MIB MiB of anonymous memory, fill it, check it, exit
 *   memfill touch MIB            allocate MIB MiB, write one byte per page, free it
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define PAGE		4096u
#define WORDS		(PAGE / sizeof(uint64_t))

static uint64_t
pattern(uint64_t seed, uint64_t page, uint64_t word)
{
	uint64_t x = (seed + 1) * 0x9e3779b97f4a7c15ull ^ (page * WORDS + word);

	x ^= x >> 31;
	x *= 0xbf58476d1ce4e5b9ull;
	return x ^ (x >> 29);
}

static void
fill(uint64_t *p, size_t pages, uint64_t seed)
{
	size_t i, w;

	for (i = 0; i < pages; i++)
		for (w = 0; w < WORDS; w++)
			p[i * WORDS + w] = pattern(seed, i, w);
}

static int
verify(const uint64_t *p, size_t pages, uint64_t seed)
{
	size_t i, w;

	for (i = 0; i < pages; i++)
		for (w = 0; w < WORDS; w++)
			if (p[i * WORDS + w] != pattern(seed, i, w)) {
				printf("memfill: BAD page %zu word %zu: %#" PRIx64 " want %#" PRIx64
				       "\n", i, w, p[i * WORDS + w], pattern(seed, i, w));
				return 1;
			}
	printf("memfill: %zu pages ok\n", pages);
	return 0;
}

static void *
map_anon(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		printf("memfill: mmap %zu: %s\n", len, strerror(errno));
		exit(2);
	}
	return p;
}

static void *
map_file(const char *path, size_t *len, int create)
{
	struct stat st;
	void *p;
	int fd;

	fd = open(path, create ? O_RDWR | O_CREAT | O_TRUNC : O_RDONLY, 0600);
	if (fd < 0 || (create && ftruncate(fd, (off_t)*len) != 0) || fstat(fd, &st) != 0) {
		printf("memfill: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	*len = (size_t)st.st_size;
	p = mmap(NULL, *len, create ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		printf("memfill: mmap %s: %s\n", path, strerror(errno));
		exit(2);
	}
	close(fd);
	return p;
}

int
main(int argc, char **argv)
{
	size_t len, i;
	uint64_t seed;
	char *p;
	int rc;

	if (argc == 5 && strcmp(argv[1], "fill") == 0) {
		len = strtoull(argv[3], NULL, 0) << 20;
		seed = strtoull(argv[4], NULL, 0);
		p = map_file(argv[2], &len, 1);
		fill((uint64_t *)p, len / PAGE, seed);
		printf("memfill: filled %zu pages\n", len / PAGE);
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "verify") == 0) {
		seed = strtoull(argv[3], NULL, 0);
		p = map_file(argv[2], &len, 0);
		return verify((const uint64_t *)p, len / PAGE, seed);
	}
	if (argc == 4 && strcmp(argv[1], "alloc") == 0) {
		len = strtoull(argv[2], NULL, 0) << 20;
		seed = strtoull(argv[3], NULL, 0);
		p = map_anon(len);
		fill((uint64_t *)p, len / PAGE, seed);
		rc = verify((const uint64_t *)p, len / PAGE, seed);
		munmap(p, len);
		return rc;
	}
	if (argc == 3 && strcmp(argv[1], "touch") == 0) {
		len = strtoull(argv[2], NULL, 0) << 20;
		p = map_anon(len);
		for (i = 0; i < len; i += PAGE)
			p[i] = 1;
		munmap(p, len);
		printf("memfill: touched %zu pages\n", len / PAGE);
		return 0;
	}
	fprintf(stderr, "usage: memfill fill FILE MIB SEED | verify FILE SEED | alloc MIB SEED"
		" | touch MIB\n");
	return 2;
}
