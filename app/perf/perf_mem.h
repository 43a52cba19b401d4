/* SPDX-License-Identifier: BSD-3-Clause */
/* Guest memory for the benchmark: a memfd or hugetlbfs file mapped MAP_SHARED. */
#ifndef PERF_MEM_H
#define PERF_MEM_H

#include <stddef.h>
#include <stdint.h>

#include "perf_options.h"

struct perf_mem {
	int fd;
	uint8_t *map;
	uint64_t size;
	uint64_t page_size;
	enum perf_backing backing;
};

/* 0, or -errno with the reason in why. */
int perf_mem_open(struct perf_mem *m, enum perf_backing backing, uint64_t size,
		  const char *hugetlbfs_dir, char *why, size_t whylen);
void perf_mem_close(struct perf_mem *m);

/* Allocate every page and map it writable here (like a running guest). 0 or -errno. */
int perf_mem_populate(struct perf_mem *m);

/* Bytes the file holds (st_blocks). */
uint64_t perf_mem_held(const struct perf_mem *m);

#endif /* PERF_MEM_H */
