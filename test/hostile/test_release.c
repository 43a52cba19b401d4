/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The one rule, made deterministic: an inflate or report request is acknowledged
 * only after its discard syscalls have returned (protocol.md#P-ack-after-release).
 *
 * fallocate/madvise are interposed (release_interpose.c). At every release the
 * poll lcore makes, the observer looks at the guest's side of the rings in guest
 * memory: vmsim keeps one request in flight, so the queue being served must still
 * have exactly one available head that is not in the used ring (used->idx equals
 * the number of requests acked before this one), and every 4 KiB page of the
 * released range must be one the guest has handed over (BALLOON or REPORTING in
 * the guest's own page model). One scenario per run: argv[1] inflate|report,
 * argv[2] memfd|hugetlbfs.
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
#include <rte_lcore.h>

#include "func_common.h"
#include "release_interpose.h"

#define POLL_LCORE	1

struct watch_q {
	volatile uint16_t *avail_idx;
	volatile uint16_t *used_idx;
};

static struct vms_vm *g_vm;
static struct watch_q g_inflate, g_report;
static struct vms_region_info g_reg[8];
static unsigned int g_nreg;
static volatile int g_armed;
static uint64_t g_checked, g_unmapped, g_violations;
static char g_first[256];

/* Count a violation; keep the first one's text for the failure message. */
#define violation(...) do { \
	if (g_violations++ == 0) \
		snprintf(g_first, sizeof(g_first), __VA_ARGS__); \
} while (0)

static uint16_t
pending(const struct watch_q *w)
{
	if (w->avail_idx == NULL)
		return 0;
	return (uint16_t)(*w->avail_idx - *w->used_idx);
}

/* Runs on the poll lcore, inside the library's release call, before the syscall. */
void
release_observe(int fd, uint64_t off, void *addr, uint64_t len)
{
	uint16_t pi, pr;
	uint64_t gpa = UINT64_MAX, p;
	unsigned int r;

	if (!g_armed || rte_lcore_id() != POLL_LCORE)
		return;
	g_checked++;
	pi = pending(&g_inflate);
	pr = pending(&g_report);
	/* One request in flight: its head is available and not yet used. */
	if (pi + pr != 1)
		violation("release while %" PRIu64 " requests are unacknowledged (want 1): the "
			  "request was acked before its pages were released (len %" PRIu64 ")",
			  (uint64_t)(pi + pr), len);
	if (fd < 0) {
		/* madvise on the backend's own mapping: no file offset to place it by. */
		RTE_SET_USED(addr);
		g_unmapped++;
		return;
	}
	/* vmsim's guest memory is one file: the region holding this file offset. */
	for (r = 0; r < g_nreg; r++)
		if (off >= g_reg[r].file_offset && off < g_reg[r].file_offset + g_reg[r].size)
			gpa = g_reg[r].gpa + (off - g_reg[r].file_offset);
	if (gpa == UINT64_MAX) {
		violation("release at file offset %#" PRIx64 " outside guest memory (len %"
			  PRIu64 ")", off, len);
		return;
	}
	for (p = 0; p < len; p += VMS_PAGE_SIZE) {
		enum vms_page_state st = vms_vm_page_state(g_vm, (gpa + p) >> VMS_PAGE_SHIFT);

		if (st == VMS_PAGE_BALLOON && pi == 1)
			continue;
		if (st == VMS_PAGE_REPORTING && pr == 1)
			continue;
		violation("released guest page %#" PRIx64 " in state %" PRIu64
			  " (not handed over by the request in flight)",
			  (gpa + p) >> VMS_PAGE_SHIFT, (uint64_t)st);
		return;
	}
}

static void
watch(struct watch_q *w, enum vms_role role)
{
	struct vms_vq_info qi;

	memset(w, 0, sizeof(*w));
	if (vms_vq_info(g_vm, role, &qi) != 0 || qi.index < 0)
		return;
	w->avail_idx = vms_vm_gpa_ptr(g_vm, qi.avail_gpa + 2);
	w->used_idx = vms_vm_gpa_ptr(g_vm, qi.used_gpa + 2);
	CHECK(w->avail_idx != NULL && w->used_idx != NULL, "ring indexes in guest memory");
}

static struct vhb_device_counters
counters(struct vhb_device *dev)
{
	struct vhb_device_counters c;

	CHECK(vhb_device_get_counters(dev, &c) == 0, "counters");
	return c;
}

static int
run(const char *what, const char *backing)
{
	const uint64_t feat = (1ULL << VHB_F_MUST_TELL_HOST) | (1ULL << VHB_F_STATS_VQ) |
		(1ULL << VHB_F_REPORTING);
	struct vms_vm_params p;
	struct vhb_device *dev;
	struct vhb_device_counters c;
	bool report = strcmp(what, "report") == 0;
	int i, n, reported = 0;

	dev = func_device("rel", feat, 0);
	func_vm_params(&p, func_socket("rel"), feat);
	p.backing = strcmp(backing, "hugetlbfs") == 0 ? VMS_BACKING_HUGETLBFS : VMS_BACKING_MEMFD;
	p.free_percent = report ? 60 : 10;
	p.reuse_reported = true;
	g_vm = func_vm(&p);
	if (g_vm == NULL) {
		printf("SKIP: no %s guest memory: %s\n", backing, strerror(errno));
		vhb_device_destroy(dev);
		return TEST_SKIP;
	}
	printf("release ordering, %s (%s, 64 MiB)\n", what, func_backing_name(g_vm));
	g_nreg = vms_vm_regions(g_vm, g_reg, 8);
	watch(&g_inflate, VMS_VQ_INFLATE);
	watch(&g_report, VMS_VQ_REPORTING);
	CHECK(g_inflate.avail_idx != NULL && g_report.avail_idx != NULL, "queues present");

	__atomic_store_n(&g_armed, 1, __ATOMIC_SEQ_CST);
	if (!report) {
		/* Inflate, give some back, inflate again: complete host pages every way. */
		func_balloon_to(dev, g_vm, 8192);
		func_balloon_to(dev, g_vm, 2048);
		func_balloon_to(dev, g_vm, 12288);
	} else {
		for (i = 0; i < 6; i++) {
			n = vms_vm_report(g_vm, 32);
			CHECK(n >= 0, "report: %d", n);
			reported += n;
			CHECK(vms_vm_churn(g_vm, 512) >= 0, "churn");
		}
		CHECK(reported > 0, "some blocks reported");
	}
	__atomic_store_n(&g_armed, 0, __ATOMIC_SEQ_CST);

	/* The lcore publishes its counters after the pass that acked the last request. */
	for (i = 0; i < 1000; i++) {
		c = counters(dev);
		if (c.release_calls == g_checked)
			break;
		usleep(2000);
	}
	printf("  %" PRIu64 " release syscalls checked at the moment they were made (%" PRIu64
	       " by address), %" PRIu64 " bytes released, %d blocks reported\n", g_checked,
	       g_unmapped, c.bytes_release_asked, reported);
	CHECK(g_violations == 0, "%" PRIu64 " violations; first: %s", g_violations, g_first);
	/* A test that saw nothing proves nothing. */
	CHECK(g_checked > 0 && c.release_calls == g_checked,
	      "every release observed: %" PRIu64 " seen, library counted %" PRIu64, g_checked,
	      c.release_calls);
	CHECK(c.release_errors == 0, "release errors %" PRIu64, c.release_errors);
	func_verify(g_vm, what);
	vms_vm_destroy(g_vm);
	g_vm = NULL;
	CHECK(vhb_device_destroy(dev) == 0, "destroy");
	return 0;
}

int
main(int argc, char **argv)
{
	int rc;

	if (argc < 3) {
		fprintf(stderr, "usage: %s inflate|report memfd|hugetlbfs\n", argv[0]);
		return 2;
	}
	func_start();
	rc = run(argv[1], argv[2]);
	func_stop();
	if (rc == 0)
		printf("PASS release %s %s\n", argv[1], argv[2]);
	return rc;
}
