/* SPDX-License-Identifier: BSD-3-Clause */
/* Helpers for the release engine's unit tests: checks, real guest-memory backings. */
#ifndef TEST_ENGINE_UTIL_H
#define TEST_ENGINE_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "vhb_test_check.h"



/* A file of guest memory mapped MAP_SHARED, as QEMU's memory backends give it. */
struct test_backing {
	int fd;
	uint8_t *map;
	uint64_t size;
	uint64_t page_size;	/* host page size: 4096 (memfd) or 2 MiB (hugetlbfs) */
	const char *kind;	/* for the log: "memfd 4 KiB", "hugetlbfs 2 MiB" */
};

/* memfd of size bytes, mapped; exits on failure. */
void test_backing_memfd(struct test_backing *b, uint64_t size);

/*
 * Unlinked file of size bytes on a 2 MiB hugetlbfs (env VHB_HUGETLBFS, else
 * /proc/mounts), preallocated. Returns 0, or -1 with the reason in why.
 */
int test_backing_hugetlbfs(struct test_backing *b, uint64_t size, char *why, size_t whylen);

void test_backing_free(struct test_backing *b);

/* hugetlbfs ("hugetlbfs") or memfd (anything else); prints the backing, or why it
 * is skipped and exits TEST_SKIP. */
void test_backing_open(struct test_backing *b, const char *kind, uint64_t size);

/* Bytes of the file that hold memory (fstat st_blocks). */
uint64_t test_backing_allocated(const struct test_backing *b);

/* The pattern word of file page index i (never 0). */
static inline uint64_t
test_pattern(uint64_t i)
{
	return ((i + 1) * 0x9e3779b97f4a7c15ULL) | 1;
}

/* Write / check the pattern at both ends of 4 KiB page i of the file. */
void test_fill_page(struct test_backing *b, uint64_t i);
int test_page_ok(const struct test_backing *b, uint64_t i);

/* xorshift64*, deterministic per seed. */
static inline uint64_t
test_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

#endif /* TEST_ENGINE_UTIL_H */
