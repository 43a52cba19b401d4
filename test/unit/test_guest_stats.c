/* SPDX-License-Identifier: BSD-3-Clause */
/* Parsing of the guest's stats buffer: order, unknown tags, torn tails. */

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "vhb_guest_stats.h"
#include "vhb_test_check.h"

static uint32_t
put(uint8_t *b, uint32_t off, uint16_t tag, uint64_t val)
{
	unsigned int i;

	b[off] = (uint8_t)tag;
	b[off + 1] = (uint8_t)(tag >> 8);
	for (i = 0; i < 8; i++)
		b[off + 2 + i] = (uint8_t)(val >> (8 * i));
	return off + 10;
}

int
main(void)
{
	/* Linux 6.1's order: 0,1,2,3,8,9,4,5,6,7. */
	static const uint16_t order[] = { 0, 1, 2, 3, 8, 9, 4, 5, 6, 7 };
	struct vhb_guest_stats_parse_result res;
	struct vhb_guest_stats gs;
	uint8_t b[256];
	uint32_t off = 0;
	unsigned int i;

	printf("guest stats parser (no guest memory)\n");
	for (i = 0; i < 10; i++)
		off = put(b, off, order[i], 1000ULL * order[i] + 0x100000000ULL);
	memset(&gs, 0xff, sizeof(gs));
	vhb_guest_stats_parse(b, off, &gs, &res);
	CHECK(res.entries == 10 && res.unknown == 0 && res.tail_bytes == 0, "10 entries");
	CHECK(gs.valid == 0x3ff, "valid %#x", gs.valid);
	CHECK(gs.val[8] == 8000 + 0x100000000ULL && gs.val[4] == 4000 + 0x100000000ULL,
	      "values by tag, 64-bit LE");
	CHECK(gs.val[12] == 0, "absent tags cleared");

	/* Unknown tags are ignored, tags 10..15 known, a torn tail is counted. */
	off = 0;
	off = put(b, off, 16, 5);
	off = put(b, off, 0xffff, 6);
	off = put(b, off, 15, 77);
	off = put(b, off, 5, 1ULL << 40);
	b[off++] = 4;
	b[off++] = 0;
	b[off++] = 9;
	vhb_guest_stats_parse(b, off, &gs, &res);
	CHECK(res.entries == 4 && res.unknown == 2 && res.tail_bytes == 3, "entries %u unknown %u "
	      "tail %u", res.entries, res.unknown, res.tail_bytes);
	CHECK(gs.valid == ((1u << 15) | (1u << 5)), "valid %#x", gs.valid);
	CHECK(gs.val[15] == 77 && gs.val[5] == 1ULL << 40 && gs.val[4] == 0, "tail ignored");

	/* Repeated tag: the last value wins. */
	off = put(b, 0, 3, 1);
	off = put(b, off, 3, 2);
	vhb_guest_stats_parse(b, off, &gs, &res);
	CHECK(gs.val[3] == 2 && gs.valid == 1u << 3, "last value wins");

	vhb_guest_stats_parse(b, 0, &gs, &res);
	CHECK(res.entries == 0 && gs.valid == 0, "empty buffer");
	vhb_guest_stats_parse(b, 9, &gs, &res);
	CHECK(res.entries == 0 && res.tail_bytes == 9, "short buffer");

	CHECK(strcmp(vhb_guest_stat_name(0), "swap-in") == 0 &&
	      strcmp(vhb_guest_stat_name(4), "free-memory") == 0 &&
	      strcmp(vhb_guest_stat_name(16), "unknown") == 0, "names");
	printf("guest-stats: %d checks passed\n", test_checks);
	return 0;
}
