/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Guest memory statistics: the stats queue buffer is packed 10-byte LE entries
 * {u16 tag; u64 val}. Tags 0..15 are known; unknown tags are ignored (virtio spec);
 * tags come in any order and not all are present.
 */
#ifndef VHB_GUEST_STATS_H
#define VHB_GUEST_STATS_H

#include <stdint.h>

#include "vhost_balloon.h"

#define VHB_GUEST_STAT_ENTRY_SIZE	10

/* Largest stats buffer we read; longer buffers are parsed up to here (16 tags fit 6x). */
#define VHB_GUEST_STATS_MAX_BYTES	1000

struct vhb_guest_stats_parse_result {
	uint32_t entries;	/* whole entries read */
	uint32_t unknown;	/* entries with a tag >= VHB_GUEST_STAT_NR */
	uint32_t tail_bytes;	/* trailing bytes that do not form an entry (ignored) */
};

/*
 * Parse len bytes into out: val[] and valid (bit per tag present) describe only
 * this buffer; updates and updated_ns are left to the caller.
 */
void vhb_guest_stats_parse(const uint8_t *buf, uint32_t len, struct vhb_guest_stats *out,
			   struct vhb_guest_stats_parse_result *res);

#endif /* VHB_GUEST_STATS_H */
