/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The split-ring parser over fake guest memory (a malloc'd region registered with
 * vhb_guest_mem_init): valid chains, and every kind of hostile ring the device
 * must refuse.
 */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vhb_guest_mem.h"
#include "vhb_vring.h"
#include "vhb_test_check.h"

#define GPA_BASE	0x100000ULL
#define MEM_SIZE	(1ULL << 20)
#define QSZ		128
/* Ring layout inside the region. */
#define DESC_OFF	0
#define AVAIL_OFF	(QSZ * 16)
#define USED_OFF	8192
#define BUF_OFF		65536

static uint8_t *mem;
static struct vhb_guest_mem gm;
static struct vring_desc *desc;
static struct vring_avail *avail;
static struct vring_used *used;

static void
setup(uint16_t start_idx)
{
	struct vhb_mem_region r = {
		.gpa = GPA_BASE, .size = MEM_SIZE, .fd = -1, .page_shift = 12,
	};

	if (mem == NULL) {
		mem = aligned_alloc(4096, MEM_SIZE);
		CHECK(mem != NULL, "alloc");
	}
	memset(mem, 0, MEM_SIZE);
	r.hva = mem;
	CHECK(vhb_guest_mem_init(&gm, &r, 1) == 0, "guest mem init");
	desc = (struct vring_desc *)(mem + DESC_OFF);
	avail = (struct vring_avail *)(mem + AVAIL_OFF);
	used = (struct vring_used *)(mem + USED_OFF);
	avail->idx = start_idx;
	used->idx = start_idx;
}

static void
set_desc(uint16_t i, uint64_t gpa, uint32_t len, uint16_t flags, uint16_t next)
{
	desc[i].addr = gpa;
	desc[i].len = len;
	desc[i].flags = flags;
	desc[i].next = next;
}

static void
post(uint16_t head)
{
	avail->ring[avail->idx % QSZ] = head;
	avail->idx++;
}

static void
ring_init(struct vhb_vring *vr, uint16_t start)
{
	CHECK(vhb_vring_init(vr, desc, avail, used, QSZ, start, start) == 0, "vring init");
}

static void
test_init_sizes(void)
{
	struct vhb_vring vr;

	setup(0);
	CHECK(vhb_vring_init(&vr, desc, avail, used, 0, 0, 0) == -EINVAL, "size 0");
	CHECK(vhb_vring_init(&vr, desc, avail, used, 3, 0, 0) == -EINVAL, "size 3");
	CHECK(vhb_vring_init(&vr, desc, avail, used, 65536, 0, 0) == -EINVAL, "size 65536");
	CHECK(vhb_vring_init(&vr, NULL, avail, used, 64, 0, 0) == -EINVAL, "NULL desc");
	CHECK(vhb_vring_init(&vr, desc, avail, used, 32768, 0, 0) == 0, "size 32768");
	CHECK(vhb_vring_init(&vr, desc, avail, used, 1, 0, 0) == 0, "size 1");
}

static void
test_single_and_chain(void)
{
	struct vhb_vring vr;
	struct vhb_vring_chain ch;

	setup(0);
	ring_init(&vr, 0);
	CHECK(vhb_vring_pop(&vr, &gm, VHB_VRING_DEV_READS, &ch) == -EAGAIN, "empty ring");
	CHECK(!vhb_vring_publish(&vr), "nothing to publish");

	set_desc(5, GPA_BASE + BUF_OFF, 1024, 0, 0);
	post(5);
	/* A 3-descriptor chain 7 -> 2 -> 9. */
	set_desc(7, GPA_BASE + BUF_OFF + 4096, 100, VRING_DESC_F_NEXT, 2);
	set_desc(2, GPA_BASE + BUF_OFF + 8192, 200, VRING_DESC_F_NEXT, 9);
	set_desc(9, GPA_BASE + BUF_OFF + 12288, 300, 0, 0);
	post(7);
	CHECK(vhb_vring_avail_count(&vr) == 2, "2 available");

	CHECK(vhb_vring_pop(&vr, &gm, VHB_VRING_DEV_READS, &ch) == 0, "pop single");
	CHECK(ch.head == 5 && ch.nseg == 1 && ch.total_len == 1024, "single chain %u %u",
	      ch.head, ch.nseg);
	CHECK(ch.seg[0].ptr == mem + BUF_OFF, "translated pointer");
	CHECK(ch.seg[0].gpa == GPA_BASE + BUF_OFF, "gpa kept");

	CHECK(vhb_vring_pop(&vr, &gm, VHB_VRING_DEV_READS, &ch) == 0, "pop chain");
	CHECK(ch.head == 7 && ch.nseg == 3 && ch.total_len == 600, "chain of 3");
	CHECK(ch.seg[1].ptr == mem + BUF_OFF + 8192 && ch.seg[2].len == 300, "chain segs");
	CHECK(vhb_vring_pop(&vr, &gm, VHB_VRING_DEV_READS, &ch) == -EAGAIN, "drained");

	/* Nothing visible to the driver until publish; then one index store covers both. */
	vhb_vring_push(&vr, 5, 0);
	vhb_vring_push(&vr, 7, 0);
	CHECK(used->idx == 0, "used idx before publish");
	CHECK(vhb_vring_publish(&vr), "publish");
	CHECK(used->idx == 2, "used idx %u", used->idx);
	CHECK(used->ring[0].id == 5 && used->ring[1].id == 7 && used->ring[1].len == 0,
	      "used entries");
	CHECK(!vhb_vring_publish(&vr), "second publish is a no-op");
}

static void
test_wrap(void)
{
	struct vhb_vring vr;
	struct vhb_vring_chain ch;
	uint16_t i;

	setup(65534);
	ring_init(&vr, 65534);
	for (i = 0; i < 4; i++) {
		set_desc(i, GPA_BASE + BUF_OFF + i * 4096u, 4, 0, 0);
		post(i);
	}
	CHECK(avail->idx == 2, "avail idx wrapped");
	for (i = 0; i < 4; i++) {
		CHECK(vhb_vring_pop(&vr, &gm, VHB_VRING_DEV_READS, &ch) == 0, "pop %u", i);
		CHECK(ch.head == i, "head %u", ch.head);
		vhb_vring_push(&vr, ch.head, 0);
	}
	CHECK(vhb_vring_publish(&vr) && used->idx == 2, "used idx wrapped to %u", used->idx);
	CHECK(used->ring[65534 % QSZ].id == 0 && used->ring[1].id == 3, "used slots wrap");
}

/* One hostile ring: the pop must fail with -EPROTO and an error text. */
static void
expect_proto(struct vhb_vring *vr, const struct vhb_guest_mem *g, enum vhb_vring_dir dir,
	     const char *what)
{
	struct vhb_vring_chain ch;
	int rc = vhb_vring_pop(vr, g, dir, &ch);

	CHECK(rc == -EPROTO, "%s: rc %d", what, rc);
	CHECK(vr->error != NULL, "%s: no error text", what);
	printf("  refused (%s): %s\n", what, vr->error);
}

static void
test_hostile(void)
{
	struct vhb_vring vr;
	struct vhb_vring_chain ch;
	uint16_t i;

	setup(0);
	ring_init(&vr, 0);
	set_desc(0, GPA_BASE + BUF_OFF, 16, VRING_DESC_F_WRITE, 0);
	post(0);
	expect_proto(&vr, &gm, VHB_VRING_DEV_READS, "device-writable buffer on a read queue");

	setup(0);
	ring_init(&vr, 0);
	set_desc(0, GPA_BASE + BUF_OFF, 16, 0, 0);
	post(0);
	expect_proto(&vr, NULL, VHB_VRING_DEV_WRITES, "read-only buffer on a write queue");

	setup(0);
	ring_init(&vr, 0);
	set_desc(0, GPA_BASE + BUF_OFF, 16, VRING_DESC_F_INDIRECT, 0);
	post(0);
	expect_proto(&vr, &gm, VHB_VRING_DEV_READS, "indirect");

	setup(0);
	ring_init(&vr, 0);
	post(QSZ);
	expect_proto(&vr, &gm, VHB_VRING_DEV_READS, "head >= size");

	setup(0);
	ring_init(&vr, 0);
	set_desc(0, GPA_BASE + BUF_OFF, 16, VRING_DESC_F_NEXT, 500);
	post(0);
	expect_proto(&vr, &gm, VHB_VRING_DEV_READS, "next >= size");

	setup(0);
	ring_init(&vr, 0);
	set_desc(0, GPA_BASE + BUF_OFF, 16, VRING_DESC_F_NEXT, 1);
	set_desc(1, GPA_BASE + BUF_OFF, 16, VRING_DESC_F_NEXT, 0);
	post(0);
	expect_proto(&vr, &gm, VHB_VRING_DEV_READS, "loop");

	setup(0);
	ring_init(&vr, 0);
	for (i = 0; i <= VHB_MAX_CHAIN_LEN; i++)
		set_desc(i, GPA_BASE + BUF_OFF, 4, VRING_DESC_F_NEXT, (uint16_t)(i + 1));
	set_desc(VHB_MAX_CHAIN_LEN, GPA_BASE + BUF_OFF, 4, 0, 0);
	post(0);
	expect_proto(&vr, &gm, VHB_VRING_DEV_READS, "chain longer than the limit");

	/* A chain exactly at the limit is fine. */
	setup(0);
	ring_init(&vr, 0);
	for (i = 0; i < VHB_MAX_CHAIN_LEN - 1; i++)
		set_desc(i, GPA_BASE + BUF_OFF, 4, VRING_DESC_F_NEXT, (uint16_t)(i + 1));
	set_desc(VHB_MAX_CHAIN_LEN - 1, GPA_BASE + BUF_OFF, 4, 0, 0);
	post(0);
	CHECK(vhb_vring_pop(&vr, &gm, VHB_VRING_DEV_READS, &ch) == 0 &&
	      ch.nseg == VHB_MAX_CHAIN_LEN, "chain at the limit");

	setup(0);
	ring_init(&vr, 0);
	set_desc(0, GPA_BASE + MEM_SIZE - 8, 16, 0, 0);
	post(0);
	expect_proto(&vr, &gm, VHB_VRING_DEV_READS, "buffer crossing the region end");

	setup(0);
	ring_init(&vr, 0);
	set_desc(0, 0x1000, 16, 0, 0);
	post(0);
	expect_proto(&vr, &gm, VHB_VRING_DEV_READS, "buffer outside guest memory");

	setup(0);
	ring_init(&vr, 0);
	set_desc(0, UINT64_MAX - 4, 16, VRING_DESC_F_WRITE, 0);
	post(0);
	expect_proto(&vr, NULL, VHB_VRING_DEV_WRITES, "address wrap");

	setup(0);
	ring_init(&vr, 0);
	set_desc(0, GPA_BASE + BUF_OFF, 0, 0, 0);
	post(0);
	expect_proto(&vr, &gm, VHB_VRING_DEV_READS, "zero length");

	setup(0);
	ring_init(&vr, 0);
	avail->idx = QSZ + 1;
	CHECK(vhb_vring_avail_count(&vr) == -EPROTO, "avail jump");
	expect_proto(&vr, &gm, VHB_VRING_DEV_READS, "avail index jump");

	/* Exactly a full ring is legal. */
	setup(0);
	ring_init(&vr, 0);
	avail->idx = QSZ;
	CHECK(vhb_vring_avail_count(&vr) == QSZ, "full ring");
}

static void
test_untranslated(void)
{
	struct vhb_vring vr;
	struct vhb_vring_chain ch;

	/* Reporting hands addresses on without dereferencing: outside memory is not a ring error. */
	setup(0);
	ring_init(&vr, 0);
	set_desc(3, 0x40000000ULL, 4u << 20, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 4);
	set_desc(4, 0x200000ULL, 2u << 20, VRING_DESC_F_WRITE, 0);
	post(3);
	CHECK(vhb_vring_pop(&vr, NULL, VHB_VRING_DEV_WRITES, &ch) == 0, "writable chain");
	CHECK(ch.nseg == 2 && ch.seg[0].ptr == NULL && ch.seg[0].gpa == 0x40000000ULL &&
	      ch.seg[1].len == (2u << 20), "ranges kept");
}

static void
test_flags(void)
{
	struct vhb_vring vr;

	setup(0);
	ring_init(&vr, 0);
	vhb_vring_set_no_notify(&vr, true);
	CHECK(used->flags == VRING_USED_F_NO_NOTIFY, "no notify set");
	vhb_vring_set_no_notify(&vr, false);
	CHECK(used->flags == 0, "no notify cleared");
	CHECK(!vhb_vring_no_interrupt(&vr), "interrupts wanted");
	avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
	CHECK(vhb_vring_no_interrupt(&vr), "no interrupt");
}

int
main(void)
{
	printf("vring parser over fake guest memory (malloc, 1 region of 1 MiB)\n");
	test_init_sizes();
	test_single_and_chain();
	test_wrap();
	test_hostile();
	test_untranslated();
	test_flags();
	free(mem);
	printf("vring: %d checks passed\n", test_checks);
	return 0;
}
