/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz harness: the guest stats parser (vhb_guest_stats.h) and the config-space
 * accessors (vhb_config.h), with buffers, offsets and sizes chosen by the input.
 *
 * First byte even: the rest is a stats buffer, parsed from an exact-size heap
 * copy (ASan sees any over-read); the result must match a direct reading of the
 * packed {le16 tag, le64 val} entries: entry, unknown and tail counts, one valid
 * bit per known tag present, the last value of a repeated tag.
 * First byte odd: the rest is a program of config reads, writes, range checks
 * and target changes with raw 32-bit offsets and sizes (wrapping sums included),
 * checked against a 16-byte model of the config space: -EINVAL exactly for a
 * range outside [0, 16), reads return the model's bytes, writes change only
 * `actual` and (with PAGE_POISON) `poison_val`, and report what changed.
 */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vhb_config.h"
#include "vhb_guest_stats.h"

#include "fuzz_common.h"

#define MAX_OPS	2048

static void
fuzz_stats(const uint8_t *data, size_t size)
{
	struct vhb_guest_stats_parse_result res;
	struct vhb_guest_stats out;
	uint64_t want_val[VHB_GUEST_STAT_NR];
	uint32_t want_valid = 0, want_unknown = 0, len = (uint32_t)size, n, i, t;
	uint8_t *buf;

	if (size > UINT32_MAX)
		return;
	buf = malloc(size > 0 ? size : 1);
	if (buf == NULL)
		abort();
	memcpy(buf, data, size);
	memset(&out, 0x5a, sizeof(out));	/* the parser must clear stale values */
	vhb_guest_stats_parse(buf, len, &out, &res);

	memset(want_val, 0, sizeof(want_val));
	n = len / VHB_GUEST_STAT_ENTRY_SIZE;
	for (i = 0; i < n; i++) {
		const uint8_t *e = data + (size_t)i * VHB_GUEST_STAT_ENTRY_SIZE;
		uint64_t v = 0;
		int b;

		t = (uint32_t)e[0] | (uint32_t)e[1] << 8;
		for (b = 7; b >= 0; b--)
			v = v << 8 | e[2 + b];
		if (t >= VHB_GUEST_STAT_NR) {
			want_unknown++;
			continue;
		}
		want_val[t] = v;
		want_valid |= 1u << t;
	}
	FZ_CHECK(res.entries == n, "entries %u, want %u", res.entries, n);
	FZ_CHECK(res.unknown == want_unknown, "unknown %u, want %u", res.unknown, want_unknown);
	FZ_CHECK(res.tail_bytes == len % VHB_GUEST_STAT_ENTRY_SIZE, "tail %u", res.tail_bytes);
	FZ_CHECK(out.valid == want_valid, "valid 0x%x, want 0x%x", out.valid, want_valid);
	for (t = 0; t < VHB_GUEST_STAT_NR; t++)
		FZ_CHECK(out.val[t] == want_val[t], "tag %u value", t);
	free(buf);
}

static bool
range_ok(uint32_t off, uint32_t size)
{
	return size > 0 && (uint64_t)off + size <= VHB_CONFIG_SIZE;
}

static void
model_image(const uint32_t m[4], uint8_t img[VHB_CONFIG_SIZE])
{
	int i;

	for (i = 0; i < 4; i++)
		vhb_le32_store(img + 4 * i, m[i]);
}

static void
fuzz_config(struct fz *f)
{
	struct vhb_config cfg;
	uint32_t model[4];	/* num_pages, actual, cmd_id (always 0), poison_val */
	uint8_t img[VHB_CONFIG_SIZE], in[VHB_CONFIG_SIZE];
	unsigned int ops;

	memset(&cfg, 0, sizeof(cfg));
	memset(model, 0, sizeof(model));
	for (ops = 0; ops < MAX_OPS && !fz_done(f); ops++) {
		uint8_t op = fz_u8(f);
		/* Small offsets and sizes mostly; raw 32-bit ones (wrapping sums) sometimes. */
		uint32_t off = (op & 0x10) ? fz_u32(f) : fz_u8(f) % 20;
		uint32_t size = (op & 0x20) ? fz_u32(f) : fz_u8(f) % 20;
		bool ok = range_ok(off, size);
		int rc;

		model_image(model, img);
		switch (op % 4) {
		case 0: {
			/* Exact-size output (at most the config size when valid). */
			uint8_t *out = malloc(ok ? size : 1);

			if (out == NULL)
				abort();
			rc = vhb_config_read(&cfg, off, size, out);
			FZ_CHECK(rc == (ok ? 0 : -EINVAL), "read(%u, %u) = %d", off, size, rc);
			if (ok)
				FZ_CHECK(memcmp(out, img + off, size) == 0, "read(%u, %u) bytes", off,
					 size);
			free(out);
			break;
		}
		case 1: {
			bool poison = (op & 0x40) != 0;
			uint32_t i, actual, pv;
			int want = 0;

			for (i = 0; i < sizeof(in); i++)
				in[i] = fz_u8(f);
			rc = vhb_config_write(&cfg, off, size, in, poison);
			if (!ok) {
				FZ_CHECK(rc == -EINVAL, "write(%u, %u) = %d", off, size, rc);
				break;
			}
			memcpy(img + off, in, size);
			actual = vhb_le32_load(img + VHB_CFG_OFF_ACTUAL);
			pv = poison ? vhb_le32_load(img + VHB_CFG_OFF_POISON_VAL) : 0;
			if (actual != model[1])
				want |= VHB_CFG_CHANGED_ACTUAL;
			if (pv != model[3])
				want |= VHB_CFG_CHANGED_POISON;
			model[1] = actual;
			model[3] = pv;
			FZ_CHECK(rc == want, "write(%u, %u) = %d, want %d", off, size, rc, want);
			break;
		}
		case 2:
			FZ_CHECK(vhb_config_range_ok(off, size) == ok, "range_ok(%u, %u)", off, size);
			break;
		case 3:	/* the control path sets a new target */
			model[0] = fz_u32(f);
			vhb_config_set(&cfg.num_pages, model[0]);
			break;
		}
		FZ_CHECK(vhb_config_get(&cfg.num_pages) == model[0] &&
			 vhb_config_get(&cfg.actual) == model[1] &&
			 vhb_config_get(&cfg.poison_val) == model[3], "fields differ from the model");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f;

	fz_quiet_logs();
	if (size == 0)
		return 0;
	if ((data[0] & 1) == 0) {
		fuzz_stats(data + 1, size - 1);
	} else {
		fz_init(&f, data + 1, size - 1);
		fuzz_config(&f);
	}
	return 0;
}
