/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hostile guests on the data path, one fault class per case: ring faults
 * (loops, long chains, bad indexes, avail jumps, lengths, directions, addresses),
 * PFN requests (outside memory, inside the rings, torn arrays), free page reports
 * (unaligned, overlapping, crossing regions, wrapping), stats buffers of odd
 * sizes, memory-table changes with requests in flight, and a flood from one VM
 * while another is served. For each: the process survives, the offence is counted
 * and logged, a neighbour VM still inflates and deflates correctly, and no guest
 * page outside what the offender handed over changed. argv[1]: the group.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_common.h>

#include "hostile_common.h"

static struct hostile_pair g_nb;	/* the well-behaved neighbour */

struct ring_fault {
	const char *name;
	enum vms_role role;
	uint16_t vq_size;		/* 0: default 64 */
	unsigned int ndesc;		/* descriptors 0..ndesc-1 chained (next = i + 1) */
	uint64_t addr;			/* UINT64_MAX: the scratch area */
	uint32_t len;
	uint16_t flags;			/* flags of every descriptor */
	uint16_t last_next;		/* next of the last descriptor if it has F_NEXT */
	bool last_has_next;
	uint16_t head;
	uint16_t avail_jump;		/* != 0: only move avail->idx by this much */
};

#define SCRATCH	UINT64_MAX
#define W	VMS_DESC_F_WRITE
#define N	VMS_DESC_F_NEXT

static const struct ring_fault ring_faults[] = {
	{ "descriptor loop", VMS_VQ_INFLATE, 0, 2, SCRATCH, 8, 0, 0, true, 0, 0 },
	{ "self loop", VMS_VQ_DEFLATE, 0, 1, SCRATCH, 8, 0, 0, true, 0, 0 },
	{ "chain longer than the limit (100 of 128)", VMS_VQ_REPORTING, 128, 100, SCRATCH,
	  4096, W, 0, false, 0, 0 },
	{ "head index beyond the ring", VMS_VQ_INFLATE, 0, 1, SCRATCH, 8, 0, 0, false, 64, 0 },
	{ "next index beyond the ring", VMS_VQ_INFLATE, 0, 1, SCRATCH, 8, 0, 0x7fff, true, 0,
	  0 },
	{ "avail index jumps by ring size + 1", VMS_VQ_INFLATE, 0, 0, 0, 0, 0, 0, false, 0, 65 },
	{ "avail index jumps by 0x8000", VMS_VQ_STATS, 0, 0, 0, 0, 0, 0, false, 0, 0x8000 },
	{ "zero length", VMS_VQ_INFLATE, 0, 1, SCRATCH, 0, 0, 0, false, 0, 0 },
	{ "zero length stats buffer", VMS_VQ_STATS, 0, 1, SCRATCH, 0, 0, 0, false, 0, 0 },
	{ "huge length (4 GiB - 1)", VMS_VQ_DEFLATE, 0, 1, SCRATCH, 0xffffffffu, 0, 0, false, 0,
	  0 },
	{ "write-only on the inflate queue", VMS_VQ_INFLATE, 0, 1, SCRATCH, 8, W, 0, false, 0,
	  0 },
	{ "write-only stats buffer", VMS_VQ_STATS, 0, 1, SCRATCH, 10, W, 0, false, 0, 0 },
	{ "read-only on the reporting queue", VMS_VQ_REPORTING, 0, 1, SCRATCH, 4096, 0, 0,
	  false, 0, 0 },
	{ "indirect descriptor (not negotiated)", VMS_VQ_INFLATE, 0, 1, SCRATCH, 16,
	  VMS_DESC_F_INDIRECT, 0, false, 0, 0 },
	{ "buffer outside guest memory", VMS_VQ_INFLATE, 0, 1, 1ULL << 40, 1024, 0, 0, false, 0,
	  0 },
	{ "buffer wrapping the address space", VMS_VQ_DEFLATE, 0, 1, 0xfffffffffffff000ULL,
	  0x2000, 0, 0, false, 0, 0 },
	{ "buffer straddling the end of guest memory", VMS_VQ_INFLATE, 0, 1, 16 * MiB - 512,
	  1024, 0, 0, false, 0, 0 },
};

static void
inject_ring_fault(struct hostile_pair *hp, const struct ring_fault *f)
{
	struct vms_raw_desc d[128];
	struct vms_vq_info qi;
	uint64_t sgpa, slen;
	unsigned int i;

	CHECK(vms_vm_queue_quarantine(hp->vm, f->role) == 0, "quarantine");
	CHECK(vms_vq_info(hp->vm, f->role, &qi) == 0, "vq info");
	if (f->avail_jump != 0) {
		CHECK(vms_vq_set_avail_idx(hp->vm, f->role,
					   (uint16_t)(qi.avail_idx + f->avail_jump), true) == 0,
		      "avail jump");
		return;
	}
	CHECK(vms_vm_scratch(hp->vm, &sgpa, &slen) == 0, "scratch");
	memset(vms_vm_gpa_ptr(hp->vm, sgpa), 0xff, 8);	/* PFNs outside memory if read */
	for (i = 0; i < f->ndesc; i++) {
		bool last = i + 1 == f->ndesc;

		d[i].slot = (uint16_t)i;
		d[i].addr = f->addr == SCRATCH ? sgpa : f->addr;
		d[i].len = f->len;
		d[i].flags = f->flags;
		d[i].next = (uint16_t)(i + 1);
		if (!last)
			d[i].flags |= N;
		else if (f->last_has_next) {
			d[i].flags |= N;
			d[i].next = f->last_next;
		}
	}
	CHECK(vms_vq_post_raw(hp->vm, f->role, d, f->ndesc, f->head, false) == 0, "post raw");
}

static int
group_ring(void)
{
	unsigned int i;

	printf("ring faults: %zu classes (memfd 4 KiB guests, 16 MiB)\n", RTE_DIM(ring_faults));
	for (i = 0; i < RTE_DIM(ring_faults); i++) {
		const struct ring_fault *f = &ring_faults[i];
		struct hostile_pair hp;
		char name[16];
		int64_t before;

		snprintf(name, sizeof(name), "ring%02u", i);
		hostile_pair_up(&hp, name, f->vq_size);
		before = vms_vm_allocated_bytes(hp.vm);
		inject_ring_fault(&hp, f);
		CHECK(hostile_wait_errors(&hp, 1, 5000), "%s: not detected", f->name);
		CHECK(hostile_counters(hp.dev).guest_errors == 1, "%s: counted once", f->name);
		CHECK(hostile_info(hp.dev).state == VHB_DEV_BROKEN, "%s: state %s", f->name,
		      vhb_device_state_name(hostile_info(hp.dev).state));
		CHECK(hostile_log_count(name, "stopped") == 1, "%s: %u log lines", f->name,
		      hostile_log_count(name, "stopped"));
		CHECK(vms_vm_allocated_bytes(hp.vm) == before, "%s: offender memory released",
		      f->name);
		hostile_verify_except(hp.vm, NULL, 0, f->name);
		hostile_neighbour_check(&g_nb, f->name);
		printf("  %-44s stopped the queue, 1 error, 1 log line\n", f->name);
		hostile_pair_down(&hp);
	}
	return 0;
}

/* PFN requests: dropped or accepted and tracked, never a crash or a neighbour's page. */
static int
group_pfn(void)
{
	struct hostile_pair hp;
	struct vms_vq_info qi;
	struct vms_block allowed[4];
	struct vhb_device_counters c0, c;
	uint32_t pfns[8];
	uint32_t torn[256];
	unsigned int lens[] = { 1, 2, 3, 5, 7, 1023 };
	uint64_t sgpa, slen;
	unsigned int i, na = 0;
	int rc;

	printf("PFN faults (memfd 4 KiB guests, 16 MiB)\n");
	hostile_pair_up(&hp, "pfn", 0);
	c0 = hostile_counters(hp.dev);
	/* Outside memory, the top of the 32-bit space, PFN 0 twice (duplicate). */
	pfns[0] = 0xffffffffu;
	pfns[1] = (uint32_t)((16 * MiB) >> 12);
	pfns[2] = 0x7fffffffu;
	rc = vms_vm_send_pfns(hp.vm, VMS_VQ_INFLATE, pfns, 12, true);
	CHECK(rc == 0, "outside acked: %d", rc);
	c = hostile_counters_quiet(hp.dev);
	CHECK(c.pfns_out_of_range - c0.pfns_out_of_range == 3 && c.guest_errors == 0,
	      "outside dropped: %" PRIu64, c.pfns_out_of_range - c0.pfns_out_of_range);
	/* Torn arrays: any length; only whole PFNs count, the request is acked. */
	for (i = 0; i < RTE_DIM(torn); i++)
		torn[i] = 0x80000000u + i;	/* distinct: the engine drops duplicates first */
	for (i = 0; i < RTE_DIM(lens); i++)
		CHECK(vms_vm_send_pfns(hp.vm, VMS_VQ_INFLATE, torn, lens[i], true) == 0,
		      "torn %u acked", lens[i]);
	c = hostile_counters_quiet(hp.dev);
	CHECK(c.pfns_out_of_range - c0.pfns_out_of_range == 3 + 1 + 1 + 255 &&
	      c.guest_errors == 0, "torn: %" PRIu64 " dropped",
	      c.pfns_out_of_range - c0.pfns_out_of_range);
	/* PFNs of the guest's own rings and stats buffer: inside its memory, so accepted. */
	CHECK(vms_vq_info(hp.vm, VMS_VQ_INFLATE, &qi) == 0, "vq info");
	pfns[0] = (uint32_t)(qi.desc_gpa >> 12);
	pfns[1] = (uint32_t)(qi.used_gpa >> 12);
	allowed[na++] = (struct vms_block){ qi.desc_gpa & ~4095ULL, 4096 };
	allowed[na++] = (struct vms_block){ qi.used_gpa & ~4095ULL, 4096 };
	CHECK(vms_vm_scratch(hp.vm, &sgpa, &slen) == 0, "scratch");
	pfns[2] = (uint32_t)(sgpa >> 12);
	allowed[na++] = (struct vms_block){ sgpa & ~4095ULL, 4096 };
	rc = vms_vm_send_pfns(hp.vm, VMS_VQ_INFLATE, pfns, 12, true);
	c = hostile_counters_quiet(hp.dev);
	printf("  ring/scratch pages inflated: ack %s, %" PRIu64 " accepted, %" PRIu64
	       " bytes released, guest errors %" PRIu64 ", state %s\n", rc == 0 ? "seen" : "lost",
	       c.pfns_inflated - c0.pfns_inflated, c.bytes_release_asked - c0.bytes_release_asked,
	       c.guest_errors, vhb_device_state_name(hostile_info(hp.dev).state));
	/* Whatever the guest did to its own rings, only those pages may differ. */
	hostile_verify_except(hp.vm, allowed, na, "ring pages inflated");
	hostile_neighbour_check(&g_nb, "after ring pages inflated");
	hostile_pair_down(&hp);

	/*
	 * Request size cap: 1024 PFNs (4 KiB) are taken, one more stops the queue.
	 * Scattered PFNs cost a hole punch each: the cap bounds what one request can
	 * take from every other device on the lcore.
	 */
	hostile_pair_up(&hp, "pfncap", 0);
	{
		uint32_t *big = calloc(1025, sizeof(*big));

		CHECK(big != NULL, "alloc");
		for (i = 0; i < 1025; i++)
			big[i] = 0x90000000u + i;
		c0 = hostile_counters(hp.dev);
		CHECK(vms_vm_send_pfns(hp.vm, VMS_VQ_INFLATE, big, 4096, true) == 0, "4 KiB acked");
		c = hostile_counters_quiet(hp.dev);
		CHECK(c.pfns_out_of_range - c0.pfns_out_of_range == 1024 && c.guest_errors == 0,
		      "1024 PFNs taken");
		CHECK(vms_vm_send_pfns(hp.vm, VMS_VQ_INFLATE, big, 4100, false) == 0, "send");
		CHECK(hostile_wait_errors(&hp, 1, 5000), "4 KiB + 4 not refused");
		CHECK(hostile_counters(hp.dev).pfns_out_of_range == c.pfns_out_of_range,
		      "nothing of the oversized request taken");
		CHECK(hostile_log_count("pfncap:", "larger than 4 KiB") == 1, "one log line");
		free(big);
	}
	printf("  request of 1024 PFNs taken, 1025 stop the queue\n");
	hostile_neighbour_check(&g_nb, "after the size cap");
	hostile_pair_down(&hp);
	return 0;
}

/* Post one chain of device-writable report ranges; wait for its ack or an error. */
static void
post_report(struct hostile_pair *hp, const struct vms_block *b, unsigned int n)
{
	struct vms_raw_desc d[8];
	struct vms_vq_info qi;
	uint64_t e0 = hostile_counters(hp->dev).guest_errors;
	unsigned int i;
	int waited;

	CHECK(vms_vq_info(hp->vm, VMS_VQ_REPORTING, &qi) == 0, "vq info");
	for (i = 0; i < n; i++)
		d[i] = (struct vms_raw_desc){ .slot = (uint16_t)(10 + i), .addr = b[i].gpa,
			.len = (uint32_t)b[i].len, .flags = (uint16_t)(W | (i + 1 < n ? N : 0)),
			.next = (uint16_t)(11 + i) };
	CHECK(vms_vq_post_raw(hp->vm, VMS_VQ_REPORTING, d, n, 10, false) == 0, "post");
	for (waited = 0; waited < 5000; waited++) {
		struct vms_vq_info now;

		CHECK(vms_vq_info(hp->vm, VMS_VQ_REPORTING, &now) == 0, "vq info");
		if (now.used_idx != qi.used_idx || hostile_counters(hp->dev).guest_errors != e0)
			return;
		usleep(1000);
	}
	CHECK(false, "report neither acked nor refused");
}

static int
group_report(void)
{
	struct hostile_pair hp;
	struct vhb_device_counters c;
	struct vms_block b[4];
	struct vms_region_info reg[4];
	int64_t before;
	unsigned int nreg;

	printf("report faults (memfd 4 KiB guest, 16 MiB in two regions: 8 MiB at 0, 8 MiB at "
	       "4 GiB)\n");
	snprintf(hp.name, sizeof(hp.name), "rep");
	hp.dev = func_device("rep", HOSTILE_F, 0);
	func_vm_params(&hp.p, func_socket("rep"), HOSTILE_F);
	hp.p.mem_bytes = 16 * MiB;
	hp.p.kernel_bytes = 2 * MiB;
	hp.p.split_regions = true;
	hp.p.split_low_bytes = 8 * MiB;
	hp.vm = func_vm(&hp.p);
	CHECK(hp.vm != NULL, "vm");
	nreg = vms_vm_regions(hp.vm, reg, 4);
	CHECK(nreg == 2, "two regions");
	CHECK(vms_vm_queue_quarantine(hp.vm, VMS_VQ_REPORTING) == 0, "quarantine");
	before = vms_vm_allocated_bytes(hp.vm);

	/* Outside memory (the hole below 4 GiB, and far above): nothing to release. */
	b[0] = (struct vms_block){ 2ULL << 30, 2 * MiB };
	b[1] = (struct vms_block){ 1ULL << 40, 4 * MiB };
	post_report(&hp, b, 2);
	/* Crossing the end of region 0 into the hole, and from the hole into region 1. */
	b[0] = (struct vms_block){ reg[0].gpa + reg[0].size - 2 * MiB, 4 * MiB };
	b[1] = (struct vms_block){ reg[1].gpa - 2 * MiB, 4 * MiB };
	post_report(&hp, b, 2);
	c = hostile_counters(hp.dev);
	printf("  outside/crossing: released %" PRIu64 ", skipped %" PRIu64 " bytes, errors %"
	       PRIu64 "\n", c.report_bytes_release_asked, c.report_bytes_skipped, c.guest_errors);
	CHECK(c.guest_errors == 0, "ranges are addresses, not errors");
	/* The one part inside region 0 of the crossing range may go (the guest offered it). */
	CHECK(before - vms_vm_allocated_bytes(hp.vm) <= (int64_t)(4 * MiB),
	      "released %" PRId64 " bytes of 4 MiB inside", before - vms_vm_allocated_bytes(hp.vm));
	/* Unaligned (4 KiB off a 2 MiB boundary) and overlapping ranges. */
	b[0] = (struct vms_block){ 4 * MiB + 4096, 2 * MiB };
	b[1] = (struct vms_block){ 4 * MiB, 2 * MiB };
	b[2] = (struct vms_block){ 4 * MiB, 2 * MiB };
	post_report(&hp, b, 3);
	c = hostile_counters(hp.dev);
	printf("  unaligned/overlapping: released %" PRIu64 ", skipped %" PRIu64 " bytes\n",
	       c.report_bytes_release_asked, c.report_bytes_skipped);
	CHECK(c.guest_errors == 0, "no error");
	/* Wrapping the address space: the ring itself is broken. */
	b[0] = (struct vms_block){ 0xffffffffffe00000ULL, 4 * MiB };
	post_report(&hp, b, 1);
	CHECK(hostile_counters(hp.dev).guest_errors == 1, "wrap refused");
	CHECK(hostile_log_count("rep:", "stopped") == 1, "one log line");
	/* Only the ranges the guest offered inside its memory may have changed. */
	b[0] = (struct vms_block){ reg[0].gpa + reg[0].size - 2 * MiB, 2 * MiB };
	b[1] = (struct vms_block){ 4 * MiB, 2 * MiB + 4096 };
	b[2] = (struct vms_block){ reg[1].gpa, 2 * MiB };
	hostile_verify_except(hp.vm, b, 3, "report faults");
	hostile_neighbour_check(&g_nb, "after report faults");
	hostile_pair_down(&hp);
	return 0;
}

/* Stats buffers of odd sizes: parsed as whole entries, the rest counted, no error. */
static int
group_stats(void)
{
	static const uint32_t sizes[] = { 1, 9, 11, 4096 };
	struct hostile_pair hp;
	struct vms_vq_info qi;
	struct vms_raw_desc d;
	uint64_t sgpa, slen;
	unsigned int i;
	int waited;

	printf("stats buffers of odd sizes (memfd 4 KiB guest, 16 MiB, stats every 1 s)\n");
	snprintf(hp.name, sizeof(hp.name), "st");
	hp.dev = func_device("st", HOSTILE_F, 1);
	func_vm_params(&hp.p, func_socket("st"), HOSTILE_F);
	hp.p.mem_bytes = 16 * MiB;
	hp.p.kernel_bytes = 2 * MiB;
	hp.vm = func_vm(&hp.p);
	CHECK(hp.vm != NULL, "vm");
	CHECK(vms_vm_queue_quarantine(hp.vm, VMS_VQ_STATS) == 0, "quarantine");
	CHECK(vms_vm_scratch(hp.vm, &sgpa, &slen) == 0 && slen >= 4096, "scratch");
	memset(vms_vm_gpa_ptr(hp.vm, sgpa), 0x5a, 4096);
	for (i = 0; i < RTE_DIM(sizes); i++) {
		uint64_t bad0 = hostile_counters(hp.dev).stats_bad_length;
		uint64_t upd0;

		/* Wait until the device gave back the buffer it holds (its stats request). */
		CHECK(vms_vq_info(hp.vm, VMS_VQ_STATS, &qi) == 0, "info");
		for (waited = 0; waited < 3000 && qi.used_idx != qi.avail_idx; waited += 5) {
			usleep(5000);
			CHECK(vms_vq_info(hp.vm, VMS_VQ_STATS, &qi) == 0, "info");
		}
		CHECK(qi.used_idx == qi.avail_idx, "held stats buffer returned");
		upd0 = hostile_counters(hp.dev).stats_updates;
		d = (struct vms_raw_desc){ .slot = (uint16_t)(20 + i), .addr = sgpa,
					   .len = sizes[i] };
		CHECK(vms_vq_post_raw(hp.vm, VMS_VQ_STATS, &d, 1, d.slot, false) == 0, "post");
		for (waited = 0; waited < 3000 &&
		     hostile_counters(hp.dev).stats_updates == upd0; waited += 5)
			usleep(5000);
		CHECK(hostile_counters(hp.dev).stats_updates == upd0 + 1, "size %u parsed",
		      sizes[i]);
		CHECK(hostile_counters(hp.dev).stats_bad_length == bad0 + 1, "size %u counted",
		      sizes[i]);
	}
	CHECK(hostile_counters(hp.dev).guest_errors == 0, "no errors");
	CHECK(hostile_info(hp.dev).state == VHB_DEV_RUNNING, "still running");
	printf("  sizes 1, 9, 11, 4096: each parsed as whole entries and counted as bad length\n");
	hostile_verify_except(hp.vm, NULL, 0, "stats");
	hostile_neighbour_check(&g_nb, "after stats faults");
	hostile_pair_down(&hp);
	return 0;
}

/* Memory-table changes while a request is in flight and while ballooning. */
static int
group_remap(void)
{
	static const unsigned int flags[] = { VMS_REMAP_NEW_FDS, VMS_REMAP_TOGGLE_SPLIT,
		VMS_REMAP_REVERSE | VMS_REMAP_NEW_FDS, VMS_REMAP_TOGGLE_SPLIT };
	struct hostile_pair hp;
	struct vms_vq_info qi, now;
	struct vms_config cfg;
	uint32_t pfns[64];
	unsigned int n = 0, i, remaps = 0;
	uint64_t pfn, total;
	int k, waited;

	printf("memory table changes with requests in flight (memfd 4 KiB guest, 16 MiB)\n");
	hostile_pair_up(&hp, "remap", 0);
	total = hp.p.mem_bytes >> 12;
	/* FREE guest pages may go: inflate them raw and change the table before the ack. */
	for (pfn = total - 1; pfn > 0 && n < RTE_DIM(pfns); pfn--)
		if (vms_vm_page_state(hp.vm, pfn) == VMS_PAGE_FREE)
			pfns[n++] = (uint32_t)pfn;
	CHECK(n == RTE_DIM(pfns), "free pages");
	for (i = 0; i < RTE_DIM(flags); i++) {
		CHECK(vms_vq_info(hp.vm, VMS_VQ_INFLATE, &qi) == 0, "info");
		CHECK(vms_vm_send_pfns(hp.vm, VMS_VQ_INFLATE, pfns + 16 * i, 64, false) == 0,
		      "send");
		CHECK(vms_vm_remap(hp.vm, flags[i]) == 0, "remap %u", flags[i]);
		remaps++;
		for (waited = 0; waited < 5000; waited++) {
			CHECK(vms_vq_info(hp.vm, VMS_VQ_INFLATE, &now) == 0, "info");
			if (now.used_idx != qi.used_idx)
				break;
			usleep(1000);
		}
		CHECK(now.used_idx == (uint16_t)(qi.used_idx + 1), "request %u acked", i);
	}
	/* Balloon in Linux's steps with a table change between every step. */
	CHECK(vhb_device_set_target_pages(hp.dev, 1024) == 0, "target");
	for (k = 0; k < 400; k++) {
		vms_vm_config(hp.vm, &cfg);
		if (cfg.num_pages == 1024 && cfg.actual == 1024)
			break;
		CHECK(vms_vm_poll(hp.vm, 20) >= 0, "poll");
		CHECK(vms_vm_remap(hp.vm, flags[k % RTE_DIM(flags)]) == 0, "remap");
		remaps++;
	}
	CHECK(vms_vm_settle(hp.vm, 10000) == 0, "settled");
	CHECK(hostile_counters(hp.dev).guest_errors == 0, "no errors");
	CHECK(hostile_info(hp.dev).state == VHB_DEV_RUNNING, "running");
	func_balloon_to(hp.dev, hp.vm, 0);
	func_verify(hp.vm, "after remaps");
	printf("  %u memory tables sent, %u of them with an inflate in flight\n", remaps,
	       (unsigned int)RTE_DIM(flags));
	hostile_neighbour_check(&g_nb, "after remaps");
	hostile_pair_down(&hp);
	return 0;
}

/* One VM floods its inflate queue; the other VMs on the lcore are still served. */
static int
group_flood(void)
{
	enum { NOTHERS = 3 };
	struct hostile_pair hp, others[NOTHERS];
	struct vms_raw_desc d[64];
	struct vms_vq_info qi;
	uint64_t sgpa, slen, req0;
	uint32_t *buf;
	unsigned int i, j, settled = 0, rounds = 0;
	char name[16];

	printf("flood: one VM keeps its inflate ring full, %d others balloon (memfd 4 KiB, "
	       "16 MiB each)\n", NOTHERS);
	hostile_pair_up(&hp, "flood", 0);
	for (i = 0; i < NOTHERS; i++) {
		snprintf(name, sizeof(name), "fair%u", i);
		hostile_pair_up(&others[i], name, 0);
	}
	CHECK(vms_vm_queue_quarantine(hp.vm, VMS_VQ_INFLATE) == 0, "quarantine");
	CHECK(vms_vm_scratch(hp.vm, &sgpa, &slen) == 0 && slen >= 1024, "scratch");
	/* 256 PFNs per request, all in the guest's top free frame: real work, then duplicates. */
	buf = vms_vm_gpa_ptr(hp.vm, sgpa);
	for (i = 0; i < 256; i++)
		buf[i] = (uint32_t)((hp.p.mem_bytes >> 12) - 1 - i);
	for (i = 0; i < 64; i++)
		d[i] = (struct vms_raw_desc){ .slot = (uint16_t)i, .addr = sgpa, .len = 1024 };
	req0 = hostile_counters(hp.dev).inflate_requests;
	for (i = 0; i < NOTHERS; i++)
		CHECK(vhb_device_set_target_pages(others[i].dev, 2048) == 0, "target");
	while (settled < NOTHERS && rounds < 20000) {
		/*
		 * Refill the whole ring as soon as the device has taken it, and kick once:
		 * a parked device (docs/device.md#polling-modes) serves only drivers that do.
		 */
		CHECK(vms_vq_info(hp.vm, VMS_VQ_INFLATE, &qi) == 0, "info");
		if (qi.used_idx == qi.avail_idx)
			for (i = 0; i < 64; i++)
				CHECK(vms_vq_post_raw(hp.vm, VMS_VQ_INFLATE, &d[i], 1, (uint16_t)i,
						      i != 63) == 0, "flood post");
		settled = 0;
		for (j = 0; j < NOTHERS; j++) {
			struct vms_config cfg;

			vms_vm_poll(others[j].vm, 0);
			vms_vm_config(others[j].vm, &cfg);
			settled += cfg.num_pages == 2048 && cfg.actual == 2048;
		}
		rounds++;
	}
	CHECK(settled == NOTHERS, "the others got their balloon while flooded");
	printf("  flood: %" PRIu64 " inflate requests served from the flooder while %d others "
	       "inflated 8 MiB each\n", hostile_counters(hp.dev).inflate_requests - req0,
	       NOTHERS);
	CHECK(hostile_counters(hp.dev).inflate_requests - req0 >= 64, "the flooder was served");
	for (j = 0; j < NOTHERS; j++) {
		CHECK(hostile_info(others[j].dev).pages_in_balloon == 2048, "other %u balloon", j);
		func_verify(others[j].vm, "other VM");
		hostile_pair_down(&others[j]);
	}
	/* The flooder gave only its top 256 pages (some were USED: its own doing). */
	{
		struct vms_block top = { hp.p.mem_bytes - 1 * MiB, 1 * MiB };

		hostile_verify_except(hp.vm, &top, 1, "flooder");
	}
	hostile_neighbour_check(&g_nb, "after the flood");
	hostile_pair_down(&hp);
	return 0;
}

static const struct hostile_group groups[] = {
	{ "ring", group_ring },
	{ "pfn", group_pfn },
	{ "report", group_report },
	{ "stats", group_stats },
	{ "remap", group_remap },
	{ "flood", group_flood },
};

int
main(int argc, char **argv)
{
	return hostile_main(argc, argv, groups, RTE_DIM(groups), &g_nb);
}
