/* SPDX-License-Identifier: BSD-3-Clause */
/* Parsing of the guest's stats buffer and the tag names. */

#include <stdint.h>
#include <string.h>

#include "vhb_config.h"
#include "vhb_guest_stats.h"

void
vhb_guest_stats_parse(const uint8_t *buf, uint32_t len, struct vhb_guest_stats *out,
		      struct vhb_guest_stats_parse_result *res)
{
	uint32_t off;

	memset(res, 0, sizeof(*res));
	memset(out->val, 0, sizeof(out->val));
	out->valid = 0;
	for (off = 0; len - off >= VHB_GUEST_STAT_ENTRY_SIZE; off += VHB_GUEST_STAT_ENTRY_SIZE) {
		uint16_t tag = vhb_le16_load(buf + off);
		uint64_t val = vhb_le64_load(buf + off + 2);

		res->entries++;
		if (tag >= VHB_GUEST_STAT_NR) {
			res->unknown++;
			continue;
		}
		out->val[tag] = val;
		out->valid |= 1u << tag;
	}
	res->tail_bytes = len - off;
}

const char *
vhb_guest_stat_name(unsigned int tag)
{
	/* Names as QEMU's QOM guest-stats uses them where it has one. */
	static const char *const names[VHB_GUEST_STAT_NR] = {
		"swap-in", "swap-out", "major-faults", "minor-faults",
		"free-memory", "total-memory", "available-memory", "disk-caches",
		"hugetlb-allocations", "hugetlb-failures", "oom-kills", "alloc-stalls",
		"async-scans", "direct-scans", "async-reclaims", "direct-reclaims",
	};

	return tag < VHB_GUEST_STAT_NR ? names[tag] : "unknown";
}
