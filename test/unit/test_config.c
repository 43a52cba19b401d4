/* SPDX-License-Identifier: BSD-3-Clause */
/* Config space accessors and the feature helpers: offered set, queue roles, names. */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "vhb_config.h"
#include "vhb_features.h"
#include "vhb_test_check.h"

static void
test_config_read(void)
{
	struct vhb_config cfg = { .num_pages = 0x01020304, .actual = 0xa0b0c0d0, .poison_val = 7 };
	uint8_t out[VHB_CONFIG_SIZE];
	static const uint8_t want[VHB_CONFIG_SIZE] = {
		0x04, 0x03, 0x02, 0x01, 0xd0, 0xc0, 0xb0, 0xa0, 0, 0, 0, 0, 7, 0, 0, 0,
	};

	CHECK(vhb_config_read(&cfg, 0, 16, out) == 0, "read all");
	CHECK(memcmp(out, want, 16) == 0, "LE image");
	memset(out, 0xee, sizeof(out));
	CHECK(vhb_config_read(&cfg, 4, 4, out) == 0 && vhb_le32_load(out) == 0xa0b0c0d0,
	      "read actual");
	CHECK(vhb_config_read(&cfg, 13, 1, out) == 0 && out[0] == 0, "read one byte");
	CHECK(vhb_config_read(&cfg, 0, 17, out) == -EINVAL, "too long");
	CHECK(vhb_config_read(&cfg, 16, 1, out) == -EINVAL, "offset at end");
	CHECK(vhb_config_read(&cfg, 8, 0, out) == -EINVAL, "size 0");
	CHECK(vhb_config_read(&cfg, UINT32_MAX, 2, out) == -EINVAL, "offset overflow");
	CHECK(vhb_config_read(&cfg, 2, UINT32_MAX, out) == -EINVAL, "size overflow");
}

static void
test_config_write(void)
{
	struct vhb_config cfg = { .num_pages = 100, .actual = 5, .poison_val = 0 };
	uint8_t img[VHB_CONFIG_SIZE];
	int rc;

	/* QEMU writes its whole cached copy: only actual (and poison) may change. */
	memset(img, 0, sizeof(img));
	vhb_le32_store(img + 0, 999);
	vhb_le32_store(img + 4, 256);
	vhb_le32_store(img + 8, 42);
	vhb_le32_store(img + 12, 0xaaaaaaaa);
	rc = vhb_config_write(&cfg, 0, 16, img, false);
	CHECK(rc == VHB_CFG_CHANGED_ACTUAL, "rc %d", rc);
	CHECK(cfg.num_pages == 100, "num_pages is device-owned");
	CHECK(cfg.actual == 256, "actual taken");
	CHECK(cfg.poison_val == 0, "poison ignored without PAGE_POISON");

	rc = vhb_config_write(&cfg, 0, 16, img, true);
	CHECK(rc == VHB_CFG_CHANGED_POISON && cfg.poison_val == 0xaaaaaaaa, "poison taken");
	CHECK(vhb_config_write(&cfg, 0, 16, img, true) == 0, "no change");

	/* A one-byte write to actual keeps its other bytes. */
	img[0] = 0x02;
	rc = vhb_config_write(&cfg, 5, 1, img, true);
	CHECK(rc == VHB_CFG_CHANGED_ACTUAL && cfg.actual == 0x200, "byte write: actual %#x",
	      cfg.actual);
	CHECK(vhb_config_write(&cfg, 12, 8, img, true) == -EINVAL, "past the end");
	CHECK(vhb_config_write(&cfg, 0, 0, img, true) == -EINVAL, "empty");
	CHECK(cfg.actual == 0x200, "unchanged after refused writes");
}

static void
test_features(void)
{
	enum vhb_vq_role r[VHB_MAX_QUEUES];
	uint64_t f;

	CHECK(vhb_features_offered(0) == VHB_FEATURES_DEFAULT, "default set");
	CHECK(!vhb_has_feature(VHB_FEATURES_DEFAULT, VHB_F_FREE_PAGE_HINT), "no FPH by default");
	CHECK(vhb_features_offered(1ULL << VHB_F_FREE_PAGE_HINT | 1ULL << VHB_F_STATS_VQ) ==
	      1ULL << VHB_F_STATS_VQ, "FPH dropped");
	CHECK(vhb_features_unsupported(1ULL << VHB_F_FREE_PAGE_HINT) != 0, "FPH unsupported");
	CHECK(vhb_features_unsupported(VHB_FEATURES_DEFAULT) == 0, "default supported");
	f = vhb_features_virtio(VHB_FEATURES_DEFAULT);
	CHECK(vhb_has_feature(f, 32) && vhb_has_feature(f, 30), "VERSION_1 + PROTOCOL_FEATURES");
	CHECK(!vhb_has_feature(f, 28) && !vhb_has_feature(f, 29) && !vhb_has_feature(f, 34),
	      "no ring features offered");
	CHECK(vhb_has_feature(0x7, 2) && !vhb_has_feature(0x7, 3) && !vhb_has_feature(~0ULL, 64),
	      "bit helper");

	/* Queue compaction as Linux does it. */
	CHECK(vhb_features_num_vqs(VHB_FEATURES_DEFAULT) == 4, "all: 4 queues");
	CHECK(vhb_queue_roles(0, r) == 2 && r[0] == VHB_VQ_INFLATE && r[1] == VHB_VQ_DEFLATE &&
	      r[2] == VHB_VQ_NONE, "no features");
	CHECK(vhb_queue_roles(1ULL << VHB_F_REPORTING, r) == 3 && r[2] == VHB_VQ_REPORTING,
	      "reporting without stats is queue 2");
	CHECK(vhb_queue_roles(1ULL << VHB_F_STATS_VQ, r) == 3 && r[2] == VHB_VQ_STATS,
	      "stats is queue 2");
	CHECK(vhb_queue_roles(1ULL << VHB_F_STATS_VQ | 1ULL << VHB_F_REPORTING, r) == 4 &&
	      r[2] == VHB_VQ_STATS && r[3] == VHB_VQ_REPORTING, "stats 2, reporting 3");
	CHECK(vhb_queue_roles(1ULL << VHB_F_STATS_VQ | 1ULL << VHB_F_FREE_PAGE_HINT |
			      1ULL << VHB_F_REPORTING, r) == 5 &&
	      r[3] == VHB_VQ_FREE_PAGE_HINT && r[4] == VHB_VQ_REPORTING, "with FPH: reporting 4");
	CHECK(vhb_queue_role(1ULL << VHB_F_REPORTING, 3) == VHB_VQ_NONE, "beyond the roles");
	CHECK(vhb_queue_role(VHB_FEATURES_DEFAULT, 200) == VHB_VQ_NONE, "huge index");
	CHECK(strcmp(vhb_feature_name(VHB_F_REPORTING), "free-page-reporting") == 0 &&
	      strcmp(vhb_feature_name(17), "unknown") == 0 &&
	      strcmp(vhb_queue_role_name(VHB_VQ_STATS), "stats") == 0, "names");
}

int
main(void)
{
	printf("config space and features (no guest memory)\n");
	test_config_read();
	test_config_write();
	test_features();
	printf("config: %d checks passed\n", test_checks);
	return 0;
}
