/* SPDX-License-Identifier: BSD-3-Clause */
/* Split ring driver side: layout, descriptor chains and the free list, index wrap at 65536,
 * used-ring validation and VRING_USED_F_NO_NOTIFY. A fake device in the test reads the avail
 * ring and writes the used ring by raw offsets. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vms_msg.h"
#include "vms_ring.h"
#include "tst.h"

struct fake_dev {
	uint16_t last_avail;
	uint16_t used_idx;
};

static uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* Consume every available head; return how many; check chain shape. */
static unsigned int
dev_consume(struct vms_ring *r, struct fake_dev *d, unsigned int expect_descs, uint16_t wflag)
{
	unsigned int n = 0;
	uint16_t aidx = rd16(r->avail + 2);

	while (d->last_avail != aidx) {
		uint16_t head = rd16(r->avail + 4 + 2 * (d->last_avail % r->num));
		uint16_t i = head;
		unsigned int k = 0;

		for (;;) {
			const uint8_t *ds = r->desc + 16 * i;
			uint16_t fl = rd16(ds + 12);

			CHECK((fl & VMS_DESC_F_WRITE) == wflag);
			k++;
			if (!(fl & VMS_DESC_F_NEXT))
				break;
			i = rd16(ds + 14);
			if (k > r->num)
				break;
		}
		CHECK_EQ(k, expect_descs);
		vms_le32_put(r->used + 4 + 8 * (d->used_idx % r->num), head);
		vms_le32_put(r->used + 8 + 8 * (d->used_idx % r->num), 0);
		d->used_idx++;
		vms_le16_put(r->used + 2, d->used_idx);
		d->last_avail++;
		n++;
	}
	return n;
}

static void
test_layout(void)
{
	CHECK_EQ(vms_ring_avail_off(64), 1024);
	/* avail: 4 + 2*64 + 2 = 134 bytes -> 1158, aligned to 64 -> 1216. */
	CHECK_EQ(vms_ring_used_off(64, 64), 1216);
	CHECK_EQ(vms_ring_bytes(64, 64), 1216 + 6 + 8 * 64);
	CHECK_EQ(vms_ring_used_off(256, 4096), 8192);
}

static void
test_wrap(uint16_t num, unsigned int chain)
{
	uint8_t *mem = calloc(1, vms_ring_bytes(num, 64));
	struct vms_ring *r = calloc(1, sizeof(*r));
	struct fake_dev d = { 0, 0 };
	uint64_t addr[4] = { 0x10000, 0x20000, 0x30000, 0x40000 };
	uint32_t len[4] = { 1024, 4096, 4096, 4096 };
	bool wr[4] = { chain > 1, chain > 1, chain > 1, chain > 1 };
	unsigned int i, total = 0;

	REQUIRE(mem != NULL && r != NULL);
	vms_ring_init(r, num, mem, 64);
	/* 70000 round trips: avail->idx and used->idx both wrap past 65535. */
	for (i = 0; i < 70000; i++) {
		uint16_t id;
		uint32_t l;
		int head = vms_ring_add(r, addr, len, wr, chain);

		CHECK(head >= 0 && head < num);
		CHECK_EQ(dev_consume(r, &d, chain, chain > 1 ? VMS_DESC_F_WRITE : 0), 1);
		CHECK_EQ(vms_ring_get_used(r, &id, &l), 1);
		CHECK_EQ(id, head);
		CHECK_EQ(vms_ring_get_used(r, &id, &l), 0);
		CHECK_EQ(r->num_free, num);
		total++;
	}
	CHECK_EQ(r->avail_idx, (uint16_t)70000);
	CHECK_EQ(rd16(r->avail + 2), (uint16_t)70000);
	CHECK_EQ(r->last_used, (uint16_t)70000);
	CHECK_EQ(total, 70000);
	free(mem);
	free(r);
}

static void
test_fill_and_bad(void)
{
	uint16_t num = 8, id;
	uint8_t *mem = calloc(1, vms_ring_bytes(num, 64));
	struct vms_ring *r = calloc(1, sizeof(*r));
	uint64_t addr[8] = { 0 };
	uint32_t len[8] = { 4, 4, 4, 4, 4, 4, 4, 4 }, l;
	bool wr[8] = { false };
	struct fake_dev d = { 0, 0 };
	int h1, h2;

	REQUIRE(mem != NULL && r != NULL);
	vms_ring_init(r, num, mem, 64);
	h1 = vms_ring_add(r, addr, len, wr, 5);
	CHECK(h1 >= 0);
	CHECK(vms_ring_add(r, addr, len, wr, 4) == -ENOSPC);
	h2 = vms_ring_add(r, addr, len, wr, 3);
	CHECK(h2 >= 0 && r->num_free == 0);
	CHECK(vms_ring_add(r, addr, len, wr, 1) == -ENOSPC);
	/* The device completes only the second chain: 3 descriptors come back. */
	vms_le32_put(r->used + 4, (uint32_t)h2);
	vms_le16_put(r->used + 2, 1);
	CHECK_EQ(vms_ring_get_used(r, &id, &l), 1);
	CHECK_EQ(id, h2);
	CHECK_EQ(r->num_free, 3);
	/* A used id that is not an outstanding head (h2 again; and out of range). */
	vms_le32_put(r->used + 12, (uint32_t)h2);
	vms_le16_put(r->used + 2, 2);
	CHECK_EQ(vms_ring_get_used(r, &id, &l), -EIO);
	vms_le32_put(r->used + 20, 99);
	vms_le16_put(r->used + 2, 3);
	CHECK_EQ(vms_ring_get_used(r, &id, &l), -EIO);
	CHECK_EQ(r->bad_used, 2);
	/* NO_NOTIFY. */
	CHECK(!vms_ring_no_notify(r));
	vms_le16_put(r->used, VMS_USED_F_NO_NOTIFY);
	CHECK(vms_ring_no_notify(r));
	(void)d;
	free(mem);
	free(r);
}

static void
test_event_idx(void)
{
	uint16_t num = 16, id;
	uint8_t *mem = calloc(1, vms_ring_bytes(num, 64));
	struct vms_ring *r = calloc(1, sizeof(*r));
	uint64_t addr[2] = { 0x1000, 0x2000 };
	uint32_t len[2] = { 8, 8 }, l;
	bool wr[2] = { true, true };
	uint8_t table[64];
	int h;

	REQUIRE(mem != NULL && r != NULL);
	/* vring_need_event(): the spec's examples, with wrap. */
	CHECK(vms_ring_need_event(0, 1, 0));
	CHECK(!vms_ring_need_event(0, 2, 1));
	CHECK(vms_ring_need_event(5, 6, 5));
	CHECK(vms_ring_need_event(5, 8, 3));
	CHECK(!vms_ring_need_event(9, 8, 3));
	CHECK(vms_ring_need_event(65535, 0, 65535));
	vms_ring_init(r, num, mem, 64);
	r->event_idx = true;
	/* avail_event 0: kick for the first buffer, not for the second. */
	CHECK(vms_ring_add(r, addr, len, wr, 1) >= 0);
	CHECK(vms_ring_kick_prepare(r));
	CHECK(vms_ring_add(r, addr, len, wr, 1) >= 0);
	CHECK(!vms_ring_kick_prepare(r));
	/* The device moves avail_event to 2: the third buffer is kicked. NO_NOTIFY is ignored. */
	vms_le16_put(r->used + 4 + 8 * num, 2);
	vms_le16_put(r->used, VMS_USED_F_NO_NOTIFY);
	CHECK(vms_ring_add(r, addr, len, wr, 1) >= 0);
	CHECK(vms_ring_kick_prepare(r));
	/* Taking a used entry publishes used_event = last_used. */
	vms_le32_put(r->used + 4, 0);
	vms_le16_put(r->used + 2, 1);
	CHECK_EQ(vms_ring_get_used(r, &id, &l), 1);
	CHECK_EQ(vms_le16_get(r->avail + 4 + 2 * num), 1);
	/* Indirect: one ring descriptor with INDIRECT pointing at a 2-entry table. */
	h = vms_ring_add_indirect(r, table, 0x9000, addr, len, wr, 2);
	CHECK(h >= 0);
	if (h >= 0) {
		const uint8_t *d = r->desc + 16 * h;

		CHECK_EQ(vms_le64_get(d), 0x9000);
		CHECK_EQ(vms_le32_get(d + 8), 32);
		CHECK_EQ(vms_le16_get(d + 12), VMS_DESC_F_INDIRECT);
		CHECK_EQ(vms_le16_get(table + 12), VMS_DESC_F_NEXT | VMS_DESC_F_WRITE);
		CHECK_EQ(vms_le16_get(table + 14), 1);
		CHECK_EQ(vms_le16_get(table + 16 + 12), VMS_DESC_F_WRITE);
		CHECK_EQ(vms_le64_get(table + 16), 0x2000);
	}
	free(mem);
	free(r);
}

int
main(void)
{
	printf("vmsim-ring: no guest memory used (heap rings)\n");
	test_layout();
	test_wrap(64, 1);
	test_wrap(32, 3);
	test_wrap(128, 1);
	test_fill_and_bad();
	test_event_idx();
	return tst_done("vmsim-ring");
}
