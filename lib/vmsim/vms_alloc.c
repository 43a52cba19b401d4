/* SPDX-License-Identifier: BSD-3-Clause */
/* The guest allocator model: which pages balloon_page_alloc() hands the driver, what the guest
 * writes into a page on its way into and out of the balloon, and which free blocks the page
 * reporting cycle finds. */
#include <string.h>

#include "vms_priv.h"

static bool
takeable(const struct vms_vm *vm, uint64_t page)
{
	/* A used page is one the guest can reclaim (page cache); free pages are free. */
	return vm->state[page] == VMS_PAGE_FREE || vm->state[page] == VMS_PAGE_USED;
}

static unsigned int
pick_linear(struct vms_vm *vm, uint64_t *pages, unsigned int n, bool down)
{
	uint64_t span = vm->npages - vm->kernel_pages, scanned = 0;
	unsigned int got = 0;

	if (vm->cursor < vm->kernel_pages || vm->cursor >= vm->npages)
		vm->cursor = down ? vm->npages - 1 : vm->kernel_pages;
	while (got < n && scanned < span) {
		uint64_t pg = vm->cursor;

		if (takeable(vm, pg))
			pages[got++] = pg;
		if (down)
			vm->cursor = pg == vm->kernel_pages ? vm->npages - 1 : pg - 1;
		else
			vm->cursor = pg + 1 == vm->npages ? vm->kernel_pages : pg + 1;
		scanned++;
	}
	return got;
}

static bool
already(const uint64_t *pages, unsigned int got, uint64_t pg)
{
	unsigned int i;

	for (i = 0; i < got; i++)
		if (pages[i] == pg)
			return true;
	return false;
}

static unsigned int
pick_random(struct vms_vm *vm, uint64_t *pages, unsigned int n)
{
	uint64_t span = vm->npages - vm->kernel_pages;
	unsigned int got = 0, tries = 0;

	while (got < n && tries < 64 * n) {
		uint64_t pg = vm->kernel_pages + vms_rand(vm) % span;

		tries++;
		if (takeable(vm, pg) && !already(pages, got, pg))
			pages[got++] = pg;
	}
	/* Nearly full balloon: finish with a scan so "out of puff" means really nothing left. */
	if (got < n) {
		uint64_t pg;

		for (pg = vm->kernel_pages; pg < vm->npages && got < n; pg++)
			if (takeable(vm, pg) && !already(pages, got, pg))
				pages[got++] = pg;
	}
	return got;
}

static unsigned int
pick_fragmented(struct vms_vm *vm, uint64_t *pages, unsigned int n)
{
	uint64_t span = vm->npages - vm->kernel_pages;
	unsigned int got = 0, runs = 0;

	/* Buddy allocator after churn: short descending runs from random 2 MiB frames. */
	while (got < n && runs < 4096) {
		uint64_t frame = (vm->kernel_pages + vms_rand(vm) % span) & ~511ULL;
		unsigned int run = 1 + (unsigned int)(vms_rand(vm) % 48);
		uint64_t pg = frame + 511 - vms_rand(vm) % 512;

		runs++;
		while (run-- > 0 && got < n && pg >= vm->kernel_pages && pg < vm->npages) {
			if (takeable(vm, pg) && !already(pages, got, pg))
				pages[got++] = pg;
			if (pg == 0)
				break;
			pg--;
		}
	}
	if (got < n) {
		uint64_t pg;

		for (pg = vm->npages; pg-- > vm->kernel_pages && got < n;)
			if (takeable(vm, pg) && !already(pages, got, pg))
				pages[got++] = pg;
	}
	return got;
}

unsigned int
vms_alloc_pick(struct vms_vm *vm, uint64_t *pages, unsigned int n)
{
	switch (vm->p.pattern) {
	case VMS_PATTERN_REVERSE:
		return pick_linear(vm, pages, n, false);
	case VMS_PATTERN_RANDOM:
		return pick_random(vm, pages, n);
	case VMS_PATTERN_FRAGMENTED:
		return pick_fragmented(vm, pages, n);
	case VMS_PATTERN_SEQUENTIAL:
	default:
		return pick_linear(vm, pages, n, true);
	}
}

void
vms_page_to_balloon(struct vms_vm *vm, uint64_t page)
{
	/* A used page is freed first (poisoned if the guest poisons), then allocated
	 * (zeroed with init_on_alloc). Either way the guest touches it before sending it. */
	if (vm->state[page] == VMS_PAGE_USED && (vm->p.page_poison || vm->p.init_on_free))
		vms_page_poison(vm, page);
	if (vm->p.init_on_alloc)
		memset(vms_page_ptr(vm, page), 0, VMS_PAGE_SIZE);
	vm->state[page] = VMS_PAGE_BALLOON;
}

void
vms_page_from_balloon(struct vms_vm *vm, uint64_t page)
{
	/* Linux reuses a deflated page at once: it is allocated and filled with new data. */
	vm->gen[page]++;
	if (vm->gen[page] == VMS_GEN_NONE)
		vm->gen[page] = 0;
	if (vm->p.init_on_alloc)
		memset(vms_page_ptr(vm, page), 0, VMS_PAGE_SIZE);
	vms_page_write_pattern(vm, page);
	vm->state[page] = VMS_PAGE_USED;
}

static bool
block_free(const struct vms_vm *vm, uint64_t first, uint64_t npg)
{
	uint64_t i;

	if (first + npg > vm->npages)
		return false;
	for (i = 0; i < npg; i++)
		if (vm->state[first + i] != VMS_PAGE_FREE)
			return false;
	return true;
}

unsigned int
vms_alloc_report_blocks(struct vms_vm *vm, struct vms_block *out, unsigned int n)
{
	static const unsigned int orders[2] = { 10, 9 };	/* 4 MiB, then 2 MiB (x86-64) */
	unsigned int got = 0, o;

	for (o = 0; o < 2 && got < n; o++) {
		uint64_t npg = 1ULL << orders[o];
		uint64_t pg;

		/* Natural alignment is in gpa; the gpa layout keeps 4 MiB alignment per part. */
		for (pg = 0; pg + npg <= vm->npages && got < n; pg += npg) {
			uint64_t i;

			if ((vms_page_gpa(vm, pg) & ((npg << VMS_PAGE_SHIFT) - 1)) != 0)
				continue;
			if (vm->split && pg < (vm->low_bytes >> VMS_PAGE_SHIFT) &&
					pg + npg > (vm->low_bytes >> VMS_PAGE_SHIFT))
				continue;
			if (!block_free(vm, pg, npg))
				continue;
			for (i = 0; i < npg; i++)
				vm->state[pg + i] = VMS_PAGE_REPORTING;
			out[got].gpa = vms_page_gpa(vm, pg);
			out[got].len = npg << VMS_PAGE_SHIFT;
			got++;
		}
	}
	return got;
}
