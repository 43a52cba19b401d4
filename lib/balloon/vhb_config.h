/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The balloon's config space (virtio_balloon_config, always little-endian):
 * num_pages @0 (device-written target), actual @4 (driver-written),
 * free_page_hint_cmd_id @8 (not offered: reads 0), poison_val @12 (driver-written,
 * meaningful only with PAGE_POISON).
 *
 * Fields are atomics: the vhost-events thread serves GET/SET_CONFIG, control
 * threads set the target, the poll lcore reads poison_val.
 */
#ifndef VHB_CONFIG_H
#define VHB_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "vhb_limits.h"

#define VHB_CFG_OFF_NUM_PAGES	0
#define VHB_CFG_OFF_ACTUAL	4
#define VHB_CFG_OFF_CMD_ID	8
#define VHB_CFG_OFF_POISON_VAL	12

struct vhb_config {
	uint32_t num_pages;
	uint32_t actual;
	uint32_t poison_val;
};

/* SET_CONFIG outcome bits. */
#define VHB_CFG_CHANGED_ACTUAL	(1u << 0)
#define VHB_CFG_CHANGED_POISON	(1u << 1)

static inline void
vhb_le32_store(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline uint32_t
vhb_le32_load(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
		(uint32_t)p[3] << 24;
}

static inline uint16_t
vhb_le16_load(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint64_t
vhb_le64_load(const uint8_t *p)
{
	return (uint64_t)vhb_le32_load(p) | (uint64_t)vhb_le32_load(p + 4) << 32;
}

/* Is [offset, offset + size) a non-empty range inside the config space? */
bool vhb_config_range_ok(uint32_t offset, uint32_t size);

/* Copy bytes [offset, offset + size) of the LE image into out. 0 or -EINVAL. */
int vhb_config_read(const struct vhb_config *cfg, uint32_t offset, uint32_t size, uint8_t *out);

/*
 * A driver write of bytes [offset, offset + size): only actual and (with
 * PAGE_POISON) poison_val are driver-writable; the other bytes are ignored, since
 * QEMU writes back its whole cached copy. Without PAGE_POISON poison_val is 0.
 * Returns VHB_CFG_CHANGED_* bits, or -EINVAL for a bad range.
 */
int vhb_config_write(struct vhb_config *cfg, uint32_t offset, uint32_t size, const uint8_t *in,
		     bool poison_negotiated);

static inline uint32_t
vhb_config_get(const uint32_t *field)
{
	return __atomic_load_n(field, __ATOMIC_RELAXED);
}

static inline void
vhb_config_set(uint32_t *field, uint32_t v)
{
	__atomic_store_n(field, v, __ATOMIC_RELAXED);
}

#endif /* VHB_CONFIG_H */
