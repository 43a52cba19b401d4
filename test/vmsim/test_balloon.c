/* SPDX-License-Identifier: BSD-3-Clause */
/* The Linux driver's balloon work end to end against the reference backend: inflate and
 * deflate framing (<= 256 PFNs, one read-only descriptor, descending / ascending), config
 * traffic per step, stats (primed, tag order, refill on request), free page reporting (chain
 * of writable 2/4 MiB aligned blocks), deflate-on-OOM, and that vms_vm_verify() both passes
 * on an honest backend and catches one that corrupts guest memory. Runs with memfd and, when
 * huge pages are available, hugetlbfs. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmsim.h"
#include "refback.h"
#include "tst.h"

#define F_V1	(1ULL << 32)
#define F_PF	(1ULL << 30)
#define F_ALL	(F_V1 | F_PF | 0x27)	/* MTH, STATS, DOOM, REPORTING */

static struct vms_vm *
make_vm(const char *path, enum vms_backing backing, uint64_t mem, int *skip)
{
	struct vms_vm_params p;
	struct vms_vm *vm;

	vms_vm_params_init(&p);
	p.socket_path = path;
	p.mem_bytes = mem;
	p.backing = backing;
	p.vq_size = 128;
	p.free_percent = 40;	/* room left for reporting after the inflate */
	vm = vms_vm_create(&p);
	if (vm == NULL && backing != VMS_BACKING_MEMFD) {
		printf("hugetlbfs backing unavailable (%s): skipping\n", strerror(errno));
		*skip = 1;
	}
	return vm;
}

static void
run_balloon(enum vms_backing backing, int *skip)
{
	char path[108];
	struct refback rb;
	struct vms_vm *vm;
	struct vms_counters c0, c1;
	struct vms_page_counts pc;
	struct vms_verify_report vr;
	struct vms_block blk[32];
	int64_t before, after;
	unsigned int i, nb;
	uint64_t *pfns;
	int ret;

	tst_sock_path(path, sizeof(path), "bal");
	REQUIRE(rb_start(&rb, path, F_ALL, 0x228) == 0);
	rb.punch = true;
	vm = make_vm(path, backing, 64ULL << 20, skip);
	if (vm == NULL) {
		rb_stop(&rb);
		return;
	}
	printf("balloon: backing %s, page %llu\n",
			backing == VMS_BACKING_MEMFD ? "memfd 4 KiB" : "hugetlbfs",
			(unsigned long long)vms_vm_backing_page_size(vm));
	REQUIRE(vms_vm_connect(vm) == 0);
	REQUIRE(vms_vm_start(vm) == 0);
	CHECK_EQ(vms_vm_verify(vm, NULL), 0);

	/* Inflate 16 MiB: 16 steps of 256 PFNs. */
	vms_vm_counters(vm, &c0);
	before = vms_vm_allocated_bytes(vm);
	REQUIRE(rb_set_target(&rb, 4096) == 0);
	CHECK_EQ(vms_vm_wait_target(vm, 4096, 10000), 0);
	vms_vm_counters(vm, &c1);
	CHECK_EQ(c1.inflate_reqs - c0.inflate_reqs, 16);
	CHECK_EQ(c1.inflate_acks - c0.inflate_acks, 16);
	CHECK_EQ(c1.config_reads - c0.config_reads, 16);
	CHECK_EQ(c1.config_writes - c0.config_writes, 16);
	CHECK_EQ(c1.config_changes - c0.config_changes, 1);
	CHECK_EQ(rb.inflate_pfns, 4096);
	CHECK_EQ(rb.max_pfns_per_req, 256);
	CHECK_EQ(rb.last_desc_flags[0] & 3, 0);	/* one read-only descriptor, no NEXT */
	CHECK(rb.pfns_desc_order > 4000);
	CHECK_EQ(rb.actual, 4096);
	CHECK_EQ(rb.bad_pfns, 0);
	vms_vm_page_counts(vm, &pc);
	CHECK_EQ(pc.balloon, 4096);
	pfns = calloc(8192, sizeof(*pfns));
	REQUIRE(pfns != NULL);
	CHECK_EQ(vms_vm_balloon_pfns(vm, pfns, 8192), 4096);
	for (i = 0; i < 4096; i++)
		CHECK(vms_vm_page_state(vm, pfns[i]) == VMS_PAGE_BALLOON);
	/* The backend punched 16 MiB: the file lost allocated blocks. */
	after = vms_vm_allocated_bytes(vm);
	if (backing == VMS_BACKING_MEMFD)
		CHECK(before - after >= (int64_t)(16ULL << 20) - (1 << 20));
	CHECK_EQ(vms_vm_verify(vm, &vr), 0);
	CHECK(vr.pages_checked > 10000);

	/* Deflate half: ascending PFNs, the most recently inflated first. */
	rb.pfns_asc_order = 0;
	REQUIRE(rb_set_target(&rb, 2048) == 0);
	CHECK_EQ(vms_vm_wait_target(vm, 2048, 10000), 0);
	CHECK_EQ(rb.deflate_pfns, 2048);
	CHECK(rb.pfns_asc_order > 2000);
	CHECK_EQ(rb.actual, 2048);
	CHECK_EQ(vms_vm_balloon_pfns(vm, pfns, 8192), 2048);
	/* Deflated pages are used again with new data, and intact. */
	CHECK_EQ(vms_vm_verify(vm, NULL), 0);

	/* Stats: primed at probe, Linux 6.1 tag order, refilled when the device asks. */
	CHECK(rb.stats_bufs >= 1);
	CHECK_EQ(rb.nstats, 10);
	{
		static const uint16_t order[10] = { 0, 1, 2, 3, 8, 9, 4, 5, 6, 7 };

		for (i = 0; i < 10 && i < rb.nstats; i++)
			CHECK_EQ(rb.stats_tags[i], order[i]);
	}
	CHECK(vms_vm_set_stat(vm, VMS_STAT_MEMFREE, 123456789ULL) == 0);
	vms_vm_counters(vm, &c0);
	REQUIRE(rb_request_stats(&rb) == 0);
	for (i = 0; i < 400 && rb.stats_bufs < 2; i++)
		vms_vm_poll(vm, 5);
	vms_vm_counters(vm, &c1);
	CHECK_EQ(rb.stats_bufs, 2);
	CHECK_EQ(c1.stats_used - c0.stats_used, 1);
	CHECK_EQ(rb.stats_tags[6], VMS_STAT_MEMFREE);
	CHECK_EQ(rb.stats_vals[6], 123456789ULL);

	/* Free page reporting: one chain of writable, naturally aligned 2/4 MiB blocks. */
	ret = vms_vm_report(vm, 32);
	CHECK(ret > 0);
	nb = vms_vm_last_report(vm, blk, 32);
	CHECK_EQ((int)nb, ret);
	CHECK_EQ(rb.report_reqs, 1);
	CHECK_EQ(rb.report_max_entries, nb);
	CHECK(rb.last_desc_flags[3] & 2);
	for (i = 0; i < nb; i++) {
		CHECK(blk[i].len == (2ULL << 20) || blk[i].len == (4ULL << 20));
		CHECK_EQ(blk[i].gpa & (blk[i].len - 1), 0);
		CHECK(vms_vm_page_state(vm, blk[i].gpa >> 12) == VMS_PAGE_FREE);
	}
	vms_vm_page_counts(vm, &pc);
	CHECK_EQ(pc.reporting, 0);
	CHECK_EQ(vms_vm_verify(vm, NULL), 0);

	/* Deflate on OOM: 256 pages leave, actual follows, no re-inflate until a change. */
	ret = vms_vm_oom(vm);
	CHECK_EQ(ret, 256);
	CHECK_EQ(rb.actual, 2048 - 256);
	vms_vm_poll(vm, 50);
	CHECK_EQ(rb.actual, 2048 - 256);
	CHECK_EQ(vms_vm_verify(vm, NULL), 0);

	/* Everything back. */
	REQUIRE(rb_set_target(&rb, 0) == 0);
	CHECK_EQ(vms_vm_wait_target(vm, 0, 10000), 0);
	vms_vm_page_counts(vm, &pc);
	CHECK_EQ(pc.balloon, 0);
	CHECK_EQ(rb.in_balloon, 0);
	CHECK_EQ(vms_vm_verify(vm, NULL), 0);
	CHECK_EQ(vms_vm_stop(vm), 0);
	free(pfns);
	vms_vm_destroy(vm);
	rb_stop(&rb);
}

/* A backend that zeroes a page after acking its deflate (while handling the next request):
 * the guest reused the page at once, so verify must see the corruption. */
static void
run_corrupting_backend(void)
{
	char path[108];
	struct refback rb;
	struct vms_vm *vm;
	struct vms_verify_report vr;
	int skip = 0;
	int64_t bad;

	tst_sock_path(path, sizeof(path), "cor");
	REQUIRE(rb_start(&rb, path, F_ALL, 0x228) == 0);
	vm = make_vm(path, VMS_BACKING_MEMFD, 32ULL << 20, &skip);
	REQUIRE(vm != NULL);
	printf("corrupting backend: backing memfd 4 KiB\n");
	REQUIRE(vms_vm_connect(vm) == 0);
	REQUIRE(vms_vm_start(vm) == 0);
	REQUIRE(rb_set_target(&rb, 1024) == 0);
	CHECK_EQ(vms_vm_wait_target(vm, 1024, 10000), 0);
	CHECK_EQ(vms_vm_verify(vm, NULL), 0);
	rb.corrupt_on_deflate = true;
	REQUIRE(rb_set_target(&rb, 0) == 0);
	CHECK_EQ(vms_vm_wait_target(vm, 0, 10000), 0);
	bad = vms_vm_verify(vm, &vr);
	CHECK_EQ(bad, 3);	/* one page of each deflate request but the last */
	CHECK_EQ(vr.nbad, 3);
	CHECK(vr.bad_state[0] == VMS_PAGE_USED);
	vms_vm_destroy(vm);
	rb_stop(&rb);
}

/* Free page reporting with a busy guest that reuses reported pages right after the ack: an
 * honest backend (discard, then ack) leaves them intact; one that discards after the ack
 * corrupts exactly the reused pages, and verify says so. Also vms_vm_churn(). */
static void
run_report_reuse(bool late)
{
	char path[108];
	struct refback rb;
	struct vms_vm_params p;
	struct vms_vm *vm;
	struct vms_block blk[32];
	struct vms_page_counts pc0, pc1;
	unsigned int n1, i;
	uint64_t bytes1 = 0;
	int64_t bad;

	tst_sock_path(path, sizeof(path), late ? "rlate" : "rok");
	REQUIRE(rb_start(&rb, path, F_ALL, 0x228) == 0);
	rb.punch_reports = true;
	rb.late_report_discard = late;
	vms_vm_params_init(&p);
	p.socket_path = path;
	p.mem_bytes = 64ULL << 20;
	p.free_percent = 40;
	p.reuse_reported = true;
	vm = vms_vm_create(&p);
	REQUIRE(vm != NULL);
	printf("report reuse (%s backend): backing memfd 4 KiB, 64 MiB\n", late ? "late" : "honest");
	REQUIRE(vms_vm_connect(vm) == 0);
	REQUIRE(vms_vm_start(vm) == 0);
	CHECK(vms_vm_report(vm, 2) == 2);
	n1 = vms_vm_last_report(vm, blk, 32);
	for (i = 0; i < n1; i++) {
		bytes1 += blk[i].len;
		CHECK(vms_vm_page_state(vm, blk[i].gpa >> 12) == VMS_PAGE_USED);
	}
	CHECK_EQ(vms_vm_verify(vm, NULL), 0);
	CHECK(vms_vm_report(vm, 2) > 0);	/* the late backend discards report 1 now */
	bad = vms_vm_verify(vm, NULL);
	if (late)
		CHECK_EQ(bad, (int64_t)(bytes1 >> 12));
	else
		CHECK_EQ(bad, 0);
	/* Churn moves pages both ways and keeps memory intact. */
	vms_vm_page_counts(vm, &pc0);
	if (!late) {
		CHECK_EQ(vms_vm_churn(vm, 100), 100);
		vms_vm_page_counts(vm, &pc1);
		CHECK_EQ(pc1.used, pc0.used);
		CHECK_EQ(pc1.free, pc0.free);
		CHECK_EQ(vms_vm_verify(vm, NULL), 0);
	}
	vms_vm_destroy(vm);
	rb_stop(&rb);
}

int
main(int argc, char **argv)
{
	int skip = 0;

	if (argc > 1 && strcmp(argv[1], "hugetlbfs") == 0) {
		run_balloon(VMS_BACKING_HUGETLBFS, &skip);
		if (skip)
			return 77;
		return tst_done("vmsim-balloon-hugetlbfs");
	}
	run_balloon(VMS_BACKING_MEMFD, &skip);
	run_corrupting_backend();
	run_report_reuse(false);
	run_report_reuse(true);
	return tst_done("vmsim-balloon");
}
