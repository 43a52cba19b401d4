/* SPDX-License-Identifier: BSD-3-Clause */
/* The pure parts: Linux's queue index compaction for every feature subset (checked against a
 * table written out by hand from B.1), and the guest page model (layout, patterns, each
 * allocation pattern, balloon transitions, report block choice, verify catching a zeroed or
 * punched page, the PCI-hole pfn mapping). No backend needed. */
#include <fcntl.h>
#include <string.h>

#include "vms_priv.h"
#include "tst.h"

static void
test_compaction(void)
{
	/* B.1 examples, literally. */
	CHECK_EQ(vms_queue_index_for(0x22, VMS_VQ_REPORTING), 3);	/* STATS+REPORTING */
	CHECK_EQ(vms_queue_index_for(0x20, VMS_VQ_REPORTING), 2);	/* REPORTING only */
	CHECK_EQ(vms_queue_index_for(0x3f, VMS_VQ_STATS), 2);
	CHECK_EQ(vms_queue_index_for(0x3f, VMS_VQ_FREE_PAGE), 3);
	CHECK_EQ(vms_queue_index_for(0x3f, VMS_VQ_REPORTING), 4);
	/* Every subset of the six balloon bits: inflate 0, deflate 1, then the present ones in
	 * the order stats, free page, reporting, with no holes; count matches. */
	for (uint64_t f = 0; f < 64; f++) {
		int expect = 2, r;
		static const int roles[3] = { VMS_VQ_STATS, VMS_VQ_FREE_PAGE, VMS_VQ_REPORTING };
		static const uint64_t bits[3] = { 1 << 1, 1 << 3, 1 << 5 };

		CHECK_EQ(vms_queue_index_for(f, VMS_VQ_INFLATE), 0);
		CHECK_EQ(vms_queue_index_for(f, VMS_VQ_DEFLATE), 1);
		for (r = 0; r < 3; r++) {
			if (f & bits[r])
				CHECK_EQ(vms_queue_index_for(f, roles[r]), expect++);
			else
				CHECK_EQ(vms_queue_index_for(f, roles[r]), -1);
		}
		CHECK_EQ(vms_queue_count_for(f), expect);
		/* Bits that create no queue change nothing. */
		CHECK_EQ(vms_queue_count_for(f | 0x15 | (1ULL << 32)), expect);
	}
}

static struct vms_vm *
model_vm(enum vms_pattern pat, bool split)
{
	struct vms_vm_params p;
	struct vms_vm *vm;

	vms_vm_params_init(&p);
	p.socket_path = "/nonexistent";
	p.mem_bytes = 32ULL << 20;
	p.pattern = pat;
	p.split_regions = split;
	p.free_percent = 25;
	p.seed = 42;
	vm = vms_vm_create(&p);
	REQUIRE(vm != NULL);
	return vm;
}

static void
test_layout_and_verify(void)
{
	struct vms_vm *vm = model_vm(VMS_PATTERN_SEQUENTIAL, false);
	struct vms_page_counts pc;
	struct vms_verify_report vr;
	uint64_t pg, used_pg = 0;
	uint8_t *p;

	vms_vm_page_counts(vm, &pc);
	CHECK_EQ(pc.total, 8192);
	CHECK_EQ(pc.kernel, 1024);
	CHECK_EQ(pc.free, 2048);	/* 25 % of 7168, in whole 4 MiB blocks */
	CHECK_EQ(pc.used, 8192 - 1024 - 2048);
	CHECK_EQ(vms_vm_verify(vm, &vr), 0);
	CHECK_EQ(vr.pages_checked, pc.used + pc.kernel - (vm->scratch_page + VMS_SCRATCH_PAGES -
			vm->ring_page0));
	/* Zero one USED page: found, with its pfn. */
	for (pg = vm->kernel_pages; pg < vm->npages; pg++)
		if (vm->state[pg] == VMS_PAGE_USED) {
			used_pg = pg;
			break;
		}
	p = vms_vm_gpa_ptr(vm, used_pg << 12);
	REQUIRE(p != NULL);
	memset(p + 4000, 0, 96);
	CHECK_EQ(vms_vm_verify(vm, &vr), 1);
	CHECK_EQ(vr.bad_pfns[0], used_pg);
	CHECK(vr.bad_state[0] == VMS_PAGE_USED);
	vms_page_write_pattern(vm, used_pg);
	CHECK_EQ(vms_vm_verify(vm, NULL), 0);
	/* Punch a hole under a patterned kernel page (what a wrong release would do). */
	CHECK(fallocate(vm->mem_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4096, 4096) == 0);
	CHECK_EQ(vms_vm_verify(vm, &vr), 1);
	CHECK_EQ(vr.bad_pfns[0], 1);
	CHECK(vr.bad_state[0] == VMS_PAGE_KERNEL);
	vms_vm_destroy(vm);
}

static void
test_patterns(void)
{
	static const enum vms_pattern pats[4] = { VMS_PATTERN_SEQUENTIAL, VMS_PATTERN_REVERSE,
		VMS_PATTERN_RANDOM, VMS_PATTERN_FRAGMENTED };
	unsigned int k;

	for (k = 0; k < 4; k++) {
		struct vms_vm *vm = model_vm(pats[k], false);
		uint64_t pages[256], total = 0;
		unsigned int got, i, desc = 0, asc = 0;
		uint32_t gen_before;

		got = vms_alloc_pick(vm, pages, 256);
		CHECK_EQ(got, 256);
		for (i = 0; i < got; i++) {
			unsigned int j;

			CHECK(pages[i] >= vm->kernel_pages && pages[i] < vm->npages);
			CHECK(vm->state[pages[i]] == VMS_PAGE_FREE ||
					vm->state[pages[i]] == VMS_PAGE_USED);
			for (j = 0; j < i; j++)
				CHECK(pages[j] != pages[i]);
			if (i > 0 && pages[i] + 1 == pages[i - 1])
				desc++;
			if (i > 0 && pages[i] == pages[i - 1] + 1)
				asc++;
		}
		if (pats[k] == VMS_PATTERN_SEQUENTIAL)
			CHECK_EQ(desc, 255);
		if (pats[k] == VMS_PATTERN_REVERSE)
			CHECK_EQ(asc, 255);
		if (pats[k] == VMS_PATTERN_RANDOM)
			CHECK(desc < 32 && asc < 32);
		if (pats[k] == VMS_PATTERN_FRAGMENTED)
			CHECK(desc > 100 && desc < 255);
		/* Into the balloon and back: a new generation, intact, and zeroed on the way in
		 * (init_on_alloc). */
		gen_before = vm->gen[pages[0]];
		vms_page_to_balloon(vm, pages[0]);
		CHECK(vm->state[pages[0]] == VMS_PAGE_BALLOON);
		CHECK(((uint8_t *)vms_page_ptr(vm, pages[0]))[0] == 0);
		vms_page_from_balloon(vm, pages[0]);
		CHECK(vm->state[pages[0]] == VMS_PAGE_USED);
		CHECK_EQ(vm->gen[pages[0]], gen_before + 1);
		CHECK(vms_page_check_pattern(vm, pages[0]));
		CHECK_EQ(vms_vm_verify(vm, NULL), 0);
		/* Exhaustion: only non-kernel pages can be taken. */
		while ((got = vms_alloc_pick(vm, pages, 256)) > 0) {
			for (i = 0; i < got; i++)
				vms_page_to_balloon(vm, pages[i]);
			total += got;
			if (total > vm->npages)
				break;
		}
		CHECK_EQ(total, vm->npages - vm->kernel_pages);
		CHECK_EQ(vms_vm_verify(vm, NULL), 0);
		vms_vm_destroy(vm);
	}
}

static void
test_report_blocks(void)
{
	struct vms_vm *vm = model_vm(VMS_PATTERN_SEQUENTIAL, false);
	struct vms_block b[32];
	unsigned int n, i;

	/* 2048 free pages at the top = two 4 MiB blocks. */
	n = vms_alloc_report_blocks(vm, b, 32);
	CHECK_EQ(n, 2);
	for (i = 0; i < n; i++) {
		CHECK_EQ(b[i].len, 4ULL << 20);
		CHECK_EQ(b[i].gpa & ((4ULL << 20) - 1), 0);
		CHECK(vms_vm_page_state(vm, b[i].gpa >> 12) == VMS_PAGE_REPORTING);
	}
	CHECK_EQ(vms_alloc_report_blocks(vm, b, 32), 0);
	vms_vm_destroy(vm);

	/* Fragmented free memory: few or no whole blocks. */
	vm = model_vm(VMS_PATTERN_FRAGMENTED, false);
	n = vms_alloc_report_blocks(vm, b, 32);
	CHECK_EQ(n, 0);
	vms_vm_destroy(vm);
}

static void
test_split(void)
{
	struct vms_vm *vm = model_vm(VMS_PATTERN_SEQUENTIAL, true);
	struct vms_region_info ri[2];
	uint64_t low = vm->low_bytes >> 12;

	CHECK_EQ(vms_vm_regions(vm, ri, 2), 2);
	CHECK(ri[0].gpa == 0 && ri[0].size == (16ULL << 20) && ri[0].file_offset == 0);
	CHECK(ri[1].gpa == (4ULL << 30) && ri[1].file_offset == (16ULL << 20));
	CHECK_EQ(vms_page_pfn(vm, low - 1), low - 1);
	CHECK_EQ(vms_page_pfn(vm, low), (4ULL << 30) >> 12);
	CHECK_EQ(vms_pfn_page(vm, (4ULL << 30) >> 12), (int64_t)low);
	CHECK_EQ(vms_pfn_page(vm, low), -1);	/* the hole */
	CHECK(vms_vm_page_state(vm, low) == VMS_PAGE_INVALID);
	CHECK(vms_vm_gpa_ptr(vm, (4ULL << 30) + 4096) == (uint8_t *)vm->mem + (16ULL << 20) + 4096);
	CHECK_EQ(vms_vm_verify(vm, NULL), 0);
	vms_vm_destroy(vm);
}

int
main(void)
{
	printf("vmsim-model: backing memfd 4 KiB, 32 MiB (no backend)\n");
	test_compaction();
	test_layout_and_verify();
	test_patterns();
	test_report_blocks();
	test_split();
	return tst_done("vmsim-model");
}
