/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The guest memory map of one device: each region's guest-physical range, where it
 * is mapped here, which file backs it and at what offset, and the backing page size.
 * Every guest address the device touches goes through vhb_guest_mem_ptr(), which
 * refuses any range that is not wholly inside one region.
 */
#ifndef VHB_GUEST_MEM_H
#define VHB_GUEST_MEM_H

#include <stdint.h>

#include "vhb_limits.h"

struct rte_vhost_memory;

struct vhb_mem_region {
	uint64_t gpa;		/* first guest-physical address */
	uint64_t size;		/* bytes, > 0 */
	uint8_t *hva;		/* host address of gpa */
	uint64_t fd_offset;	/* file offset of gpa in fd */
	int fd;			/* backing file (memfd, hugetlbfs); -1: release by madvise */
	uint32_t page_shift;	/* log2 of the backing host page size (12, 21, 30) */
	uint8_t no_release;	/* set when another region aliases the same file range */
};

struct vhb_guest_mem {
	uint32_t nregions;
	struct vhb_mem_region regions[VHB_MAX_MEM_REGIONS];	/* sorted by gpa, disjoint */
};

/*
 * Build a map from a plain region list (tests, the frontend). Sorts by gpa and
 * validates: non-zero sizes, no gpa wrap or overlap, 4 KiB-aligned gpa/size.
 * Returns 0 or -EINVAL / -E2BIG.
 */
int vhb_guest_mem_init(struct vhb_guest_mem *gm, const struct vhb_mem_region *regions,
		       uint32_t nregions);

/*
 * Build a map from rte_vhost's table. The file offset of a region is
 * host_user_addr - mmap_addr (rte_vhost maps from file offset 0); the page size
 * is fstat(fd).st_blksize.
 */
int vhb_guest_mem_from_vhost(struct vhb_guest_mem *gm, const struct rte_vhost_memory *mem);

/* Index of the region holding gpa, or -1. */
int vhb_guest_mem_region_of(const struct vhb_guest_mem *gm, uint64_t gpa);

/* Host pointer for [gpa, gpa + len) if len > 0 and the whole range is in one region, else NULL. */
void *vhb_guest_mem_ptr(const struct vhb_guest_mem *gm, uint64_t gpa, uint64_t len);

#endif /* VHB_GUEST_MEM_H */
