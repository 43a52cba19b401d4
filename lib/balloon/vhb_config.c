/* SPDX-License-Identifier: BSD-3-Clause */
/* Config space image, bounds checks and the driver-writable fields. */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "vhb_config.h"

bool
vhb_config_range_ok(uint32_t offset, uint32_t size)
{
	return size > 0 && offset < VHB_CONFIG_SIZE && size <= VHB_CONFIG_SIZE - offset;
}

static void
config_image(const struct vhb_config *cfg, uint8_t img[VHB_CONFIG_SIZE])
{
	vhb_le32_store(img + VHB_CFG_OFF_NUM_PAGES, vhb_config_get(&cfg->num_pages));
	vhb_le32_store(img + VHB_CFG_OFF_ACTUAL, vhb_config_get(&cfg->actual));
	/* FREE_PAGE_HINT is never offered: cmd_id stays 0 (VIRTIO_BALLOON_CMD_ID_STOP). */
	vhb_le32_store(img + VHB_CFG_OFF_CMD_ID, 0);
	vhb_le32_store(img + VHB_CFG_OFF_POISON_VAL, vhb_config_get(&cfg->poison_val));
}

int
vhb_config_read(const struct vhb_config *cfg, uint32_t offset, uint32_t size, uint8_t *out)
{
	uint8_t img[VHB_CONFIG_SIZE];

	if (!vhb_config_range_ok(offset, size))
		return -EINVAL;
	config_image(cfg, img);
	memcpy(out, img + offset, size);
	return 0;
}

int
vhb_config_write(struct vhb_config *cfg, uint32_t offset, uint32_t size, const uint8_t *in,
		 bool poison_negotiated)
{
	uint8_t img[VHB_CONFIG_SIZE];
	uint32_t actual, poison;
	int changed = 0;

	if (!vhb_config_range_ok(offset, size))
		return -EINVAL;
	/* Merge into the current image so a partial write of a field keeps its other bytes. */
	config_image(cfg, img);
	memcpy(img + offset, in, size);

	actual = vhb_le32_load(img + VHB_CFG_OFF_ACTUAL);
	if (actual != vhb_config_get(&cfg->actual)) {
		vhb_config_set(&cfg->actual, actual);
		changed |= VHB_CFG_CHANGED_ACTUAL;
	}
	poison = poison_negotiated ? vhb_le32_load(img + VHB_CFG_OFF_POISON_VAL) : 0;
	if (poison != vhb_config_get(&cfg->poison_val)) {
		vhb_config_set(&cfg->poison_val, poison);
		changed |= VHB_CFG_CHANGED_POISON;
	}
	return changed;
}
