/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The guest memory map: validation, the file offset and backing page size of each
 * region, alias detection, and the strict guest-address helper.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <rte_vhost.h>

#include "vhb_guest_mem.h"
#include "vhb_log.h"

#define VHB_MIN_PAGE_SHIFT	12
#define VHB_MAX_PAGE_SHIFT	30	/* 1 GiB: the largest x86 huge page */

static int
region_cmp(const void *a, const void *b)
{
	const struct vhb_mem_region *ra = a, *rb = b;

	return ra->gpa < rb->gpa ? -1 : ra->gpa > rb->gpa;
}

static int
ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

static int
region_check(const struct vhb_mem_region *r, uint32_t i)
{
	const uint64_t mask = VHB_PFN_SIZE - 1;

	if (r->size == 0 || ((r->gpa | r->size | r->fd_offset) & mask) != 0 ||
	    r->gpa + r->size < r->gpa || r->fd_offset + r->size < r->fd_offset ||
	    r->hva == NULL || (uintptr_t)r->hva + r->size < (uintptr_t)r->hva ||
	    r->page_shift < VHB_MIN_PAGE_SHIFT || r->page_shift > VHB_MAX_PAGE_SHIFT) {
		VHB_LOG(ERR, mem, "region %u invalid: gpa 0x%" PRIx64 " size 0x%" PRIx64
			" file offset 0x%" PRIx64 " page shift %u", i, r->gpa, r->size,
			r->fd_offset, r->page_shift);
		return -EINVAL;
	}
	return 0;
}

/*
 * Two regions that reach the same memory (the same file range, or the same host
 * addresses) must never be released through either: a page in the balloon under
 * one gpa is in use by the guest under the other.
 */
static int
mark_aliases(struct vhb_guest_mem *gm)
{
	struct stat st[VHB_MAX_MEM_REGIONS];
	uint32_t i, j;

	for (i = 0; i < gm->nregions; i++) {
		if (gm->regions[i].fd >= 0 && fstat(gm->regions[i].fd, &st[i]) != 0) {
			int err = errno;

			VHB_LOG(ERR, mem, "region %u: fstat(fd %d): %s", i, gm->regions[i].fd,
				strerror(err));
			return -err;
		}
	}
	for (i = 0; i < gm->nregions; i++) {
		struct vhb_mem_region *a = &gm->regions[i];

		for (j = i + 1; j < gm->nregions; j++) {
			struct vhb_mem_region *b = &gm->regions[j];
			int same_file = a->fd >= 0 && b->fd >= 0 &&
				st[i].st_dev == st[j].st_dev && st[i].st_ino == st[j].st_ino;

			if ((same_file && ranges_overlap(a->fd_offset, a->size, b->fd_offset,
							 b->size)) ||
			    ranges_overlap((uintptr_t)a->hva, a->size, (uintptr_t)b->hva,
					   b->size)) {
				VHB_LOG(WARNING, mem, "regions %u (gpa 0x%" PRIx64 ") and %u "
					"(gpa 0x%" PRIx64 ") alias the same memory: never released",
					i, a->gpa, j, b->gpa);
				a->no_release = 1;
				b->no_release = 1;
			}
		}
	}
	return 0;
}

int
vhb_guest_mem_init(struct vhb_guest_mem *gm, const struct vhb_mem_region *regions,
		   uint32_t nregions)
{
	uint32_t i;
	int ret;

	if (gm == NULL || (regions == NULL && nregions != 0))
		return -EINVAL;
	gm->nregions = 0;
	if (nregions > VHB_MAX_MEM_REGIONS)
		return -E2BIG;
	for (i = 0; i < nregions; i++) {
		ret = region_check(&regions[i], i);
		if (ret != 0)
			return ret;
	}
	if (nregions != 0)
		memcpy(gm->regions, regions, nregions * sizeof(regions[0]));
	qsort(gm->regions, nregions, sizeof(gm->regions[0]), region_cmp);
	for (i = 1; i < nregions; i++) {
		const struct vhb_mem_region *prev = &gm->regions[i - 1];

		if (prev->gpa + prev->size > gm->regions[i].gpa) {
			VHB_LOG(ERR, mem, "regions at gpa 0x%" PRIx64 " and 0x%" PRIx64 " overlap",
				prev->gpa, gm->regions[i].gpa);
			return -EINVAL;
		}
	}
	gm->nregions = nregions;
	ret = mark_aliases(gm);
	if (ret != 0)
		gm->nregions = 0;
	return ret;
}

static uint32_t
blksize_shift(uint64_t blksize)
{
	uint32_t shift = 0;

	if (blksize == 0 || (blksize & (blksize - 1)) != 0)
		return 0;
	while ((1ULL << shift) != blksize)
		shift++;
	return shift;
}

int
vhb_guest_mem_from_vhost(struct vhb_guest_mem *gm, const struct rte_vhost_memory *mem)
{
	struct vhb_mem_region regions[VHB_MAX_MEM_REGIONS];
	uint32_t i;

	if (gm == NULL || mem == NULL)
		return -EINVAL;
	gm->nregions = 0;
	if (mem->nregions > VHB_MAX_MEM_REGIONS)
		return -E2BIG;
	memset(regions, 0, sizeof(regions));
	for (i = 0; i < mem->nregions; i++) {
		const struct rte_vhost_mem_region *vr = &mem->regions[i];
		uint64_t map = (uintptr_t)vr->mmap_addr;
		struct stat st;

		/* rte_vhost maps each region from file offset 0: host_user_addr = map + offset. */
		if (vr->host_user_addr < map || vr->host_user_addr - map > vr->mmap_size ||
		    vr->size > vr->mmap_size - (vr->host_user_addr - map)) {
			VHB_LOG(ERR, mem, "region %u: host address outside its mapping", i);
			return -EINVAL;
		}
		regions[i].gpa = vr->guest_phys_addr;
		regions[i].size = vr->size;
		regions[i].hva = (uint8_t *)(uintptr_t)vr->host_user_addr;
		regions[i].fd_offset = vr->host_user_addr - map;
		regions[i].fd = vr->fd >= 0 ? vr->fd : -1;
		regions[i].page_shift = VHB_PFN_SHIFT;
		if (regions[i].fd >= 0) {
			if (fstat(regions[i].fd, &st) != 0) {
				int err = errno;

				VHB_LOG(ERR, mem, "region %u: fstat(fd %d): %s", i, vr->fd,
					strerror(err));
				return -err;
			}
			/* The same page size rte_vhost aligned its mmap to (get_blk_size). */
			regions[i].page_shift = blksize_shift((uint64_t)st.st_blksize);
		}
	}
	return vhb_guest_mem_init(gm, regions, mem->nregions);
}

int
vhb_guest_mem_region_of(const struct vhb_guest_mem *gm, uint64_t gpa)
{
	uint32_t lo = 0, hi = gm->nregions;

	/* Regions are sorted and disjoint: binary search for the last one starting <= gpa. */
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (gm->regions[mid].gpa <= gpa)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return -1;
	lo--;
	if (gpa - gm->regions[lo].gpa >= gm->regions[lo].size)
		return -1;
	return (int)lo;
}

void *
vhb_guest_mem_ptr(const struct vhb_guest_mem *gm, uint64_t gpa, uint64_t len)
{
	const struct vhb_mem_region *r;
	int i;

	if (gm == NULL || len == 0 || gpa + len < gpa)
		return NULL;
	i = vhb_guest_mem_region_of(gm, gpa);
	if (i < 0)
		return NULL;
	r = &gm->regions[i];
	if (len > r->size - (gpa - r->gpa))
		return NULL;
	return r->hva + (gpa - r->gpa);
}
