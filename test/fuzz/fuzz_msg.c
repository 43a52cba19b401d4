/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz harness: the vhost-user message checks (vhb_msg_check.h) the rte_vhost
 * hooks run on GET_CONFIG, SET_CONFIG and SET_MEM_TABLE from a hostile frontend.
 *
 * First byte even: a program of up to 256 config messages on one config, each
 * op byte then a 10-bit payload size and that many raw payload bytes (header
 * offset, size, flags included): GET (separate reply buffer, or in place as the
 * hook answers), SET (poison writable or not), a new target. Checked against a
 * model: a GET is accepted exactly when the payload holds the 12-byte header,
 * size <= 256 and [offset, offset + size) is a non-empty range inside the 16
 * bytes; its reply is exactly 12 + size bytes, the request's header then the
 * model's bytes, nothing written past it, the payload untouched; a SET is
 * accepted exactly when also the payload holds the size bytes, writes only
 * actual and (if writable) poison_val (0 otherwise), never num_pages, and
 * reports what changed; a refused message changes nothing.
 * First byte odd: one memory table (region count, fd count, payload length off
 * its regions, each region's gpa/size/uaddr/mmap_offset and fd: a memfd whose
 * size the input picks, a shared memfd, a pipe or a closed fd); it must be
 * accepted exactly when an independent model says it is valid (see
 * model_valid()), with a reason exactly when refused. Payload and fd array are
 * exact-size heap blocks, so ASan sees any read past them.
 */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vhb_config.h"
#include "vhb_msg_check.h"

#include "fuzz_common.h"

#define MAX_OPS		256
#define PAYLOAD_MAX	632	/* rte_vhost 22.11's payload union */
#define CANARY		0xa5
#define FILE_MAX	(UINT64_C(1) << 62)

static bool
cfg_range_ok(uint32_t off, uint32_t len)
{
	return len > 0 && (uint64_t)off + len <= VHB_CONFIG_SIZE;
}

static void
model_image(const uint32_t m[3], uint8_t img[VHB_CONFIG_SIZE])
{
	vhb_le32_store(img + 0, m[0]);
	vhb_le32_store(img + 4, m[1]);
	vhb_le32_store(img + 8, 0);
	vhb_le32_store(img + 12, m[2]);
}

static void
fuzz_config(struct fz *f)
{
	struct vhb_config cfg;
	uint32_t model[3] = { 0, 0, 0 };	/* num_pages, actual, poison_val */
	uint8_t img[VHB_CONFIG_SIZE], inplace[PAYLOAD_MAX], copy[0x400];
	unsigned int ops;

	memset(&cfg, 0, sizeof(cfg));
	for (ops = 0; ops < MAX_OPS && !fz_done(f); ops++) {
		uint8_t op = fz_u8(f);
		uint32_t size = fz_u16(f) & 0x3ff, i, off = 0, len = 0, rsize = 0xdeadbeef;
		uint8_t *payload = malloc(size > 0 ? size : 1);
		uint8_t *reply;
		bool ok;
		int rc;

		if (payload == NULL)
			abort();
		for (i = 0; i < size; i++)
			payload[i] = fz_u8(f);
		if (size >= VHB_MSG_CONFIG_HDR_SIZE) {
			memcpy(&off, payload, 4);
			memcpy(&len, payload + 4, 4);
		}
		memcpy(copy, payload, size);
		model_image(model, img);
		switch (op % 4) {
		case 0:	/* GET into a separate reply of exactly the documented room */
		case 3:	/* GET in place, as the hook answers in rte_vhost's payload */
			ok = size >= VHB_MSG_CONFIG_HDR_SIZE && len <= VHB_MSG_CONFIG_MAX_SIZE &&
			     cfg_range_ok(off, len);
			if (op % 4 == 0 || size > PAYLOAD_MAX) {
				reply = malloc(VHB_MSG_CONFIG_REPLY_MAX);
				if (reply == NULL)
					abort();
				memset(reply, CANARY, VHB_MSG_CONFIG_REPLY_MAX);
				rc = vhb_msg_config_get(&cfg, payload, size, reply, &rsize);
				FZ_CHECK(memcmp(payload, copy, size) == 0, "GET changed its payload");
				for (i = ok ? VHB_MSG_CONFIG_HDR_SIZE + len : 0;
				     i < VHB_MSG_CONFIG_REPLY_MAX; i++)
					FZ_CHECK(reply[i] == CANARY, "GET wrote reply byte %u (len %u)",
						 i, len);
			} else {
				memset(inplace, CANARY, sizeof(inplace));
				memcpy(inplace, payload, size);
				reply = inplace;
				rc = vhb_msg_config_get(&cfg, inplace, size, inplace, &rsize);
				for (i = ok ? VHB_MSG_CONFIG_HDR_SIZE + len : 0; i < PAYLOAD_MAX; i++)
					FZ_CHECK(inplace[i] == (i < size ? copy[i] : CANARY),
						 "in-place GET wrote byte %u (len %u)", i, len);
			}
			FZ_CHECK(rc == (ok ? 0 : -EINVAL), "GET(size %u, off %u, len %u) = %d", size,
				 off, len, rc);
			if (ok) {
				FZ_CHECK(rsize == VHB_MSG_CONFIG_HDR_SIZE + len, "reply size %u, len %u",
					 rsize, len);
				FZ_CHECK(memcmp(reply, copy, VHB_MSG_CONFIG_HDR_SIZE) == 0,
					 "reply header differs from the request's");
				FZ_CHECK(memcmp(reply + VHB_MSG_CONFIG_HDR_SIZE, img + off, len) == 0,
					 "reply bytes (off %u, len %u)", off, len);
			} else {
				FZ_CHECK(rsize == 0xdeadbeef, "refused GET set a reply size");
			}
			if (reply != inplace)
				free(reply);
			break;
		case 1: {
			bool pw = (op & 0x10) != 0;
			uint32_t actual, pv;
			int want = 0;

			ok = size >= VHB_MSG_CONFIG_HDR_SIZE && len <= VHB_MSG_CONFIG_MAX_SIZE &&
			     len <= size - VHB_MSG_CONFIG_HDR_SIZE && cfg_range_ok(off, len);
			rc = vhb_msg_config_set(&cfg, pw, payload, size);
			FZ_CHECK(memcmp(payload, copy, size) == 0, "SET changed its payload");
			if (!ok) {
				FZ_CHECK(rc == -EINVAL, "SET(size %u, off %u, len %u) = %d", size, off,
					 len, rc);
				break;
			}
			for (i = 0; i < len; i++)
				img[off + i] = payload[VHB_MSG_CONFIG_HDR_SIZE + i];
			actual = vhb_le32_load(img + 4);
			pv = pw ? vhb_le32_load(img + 12) : 0;
			if (actual != model[1])
				want |= VHB_CFG_CHANGED_ACTUAL;
			if (pv != model[2])
				want |= VHB_CFG_CHANGED_POISON;
			model[1] = actual;
			model[2] = pv;
			FZ_CHECK(rc == want, "SET(off %u, len %u) = %d, want %d", off, len, rc, want);
			break;
		}
		case 2:	/* the control path sets a new target */
			model[0] = fz_u32(f);
			vhb_config_set(&cfg.num_pages, model[0]);
			break;
		}
		FZ_CHECK(vhb_config_get(&cfg.num_pages) == model[0] &&
			 vhb_config_get(&cfg.actual) == model[1] &&
			 vhb_config_get(&cfg.poison_val) == model[2], "fields differ from the model");
		free(payload);
	}
}

enum fd_kind { FD_MEMFD, FD_SHARED, FD_PIPE, FD_CLOSED };

struct region {
	uint64_t gpa, size, uaddr, off;
	enum fd_kind kind;
	int fd;
	uint64_t fsize;	/* of the memfd it names */
};

static int memfds[VHB_MSG_MEM_MAX_REGIONS];
static uint64_t memfd_size[VHB_MSG_MEM_MAX_REGIONS];
static int pipe_fd = -1;

static void
fds_init(void)
{
	int p[2], i;

	if (pipe_fd >= 0)
		return;
	for (i = 0; i < VHB_MSG_MEM_MAX_REGIONS; i++) {
		memfds[i] = memfd_create("vhb-fuzz-msg", MFD_CLOEXEC);
		if (memfds[i] < 0)
			abort();
	}
	if (pipe(p) != 0)
		abort();
	close(p[1]);
	pipe_fd = p[0];
}

__extension__ typedef unsigned __int128 u128;

static bool
disjoint(uint64_t a, uint64_t as, uint64_t b, uint64_t bs)
{
	return (u128)a + as <= b || (u128)b + bs <= a;
}

/*
 * Valid: 1..8 regions, all in the payload, one fd each; every region non-empty,
 * its fd an open regular file (a memfd here; a pipe is refused), inside it, gpa, uaddr and
 * mmap_offset + size below 2^64; no two regions share a gpa or a uaddr.
 */
static bool
model_valid(uint32_t nreg, uint32_t size, uint32_t nfds, const struct region *r)
{
	uint32_t i, j;

	if (size < VHB_MSG_MEM_HDR_SIZE || nreg < 1 || nreg > VHB_MSG_MEM_MAX_REGIONS ||
	    (uint64_t)size < VHB_MSG_MEM_HDR_SIZE + (uint64_t)nreg * VHB_MSG_MEM_REGION_SIZE ||
	    nfds != nreg)
		return false;
	for (i = 0; i < nreg; i++) {
		if (r[i].size == 0 || r[i].kind == FD_CLOSED || r[i].kind == FD_PIPE)
			return false;
		if ((u128)r[i].off + r[i].size > r[i].fsize)
			return false;
		if ((u128)r[i].gpa + r[i].size > UINT64_MAX ||
		    (u128)r[i].uaddr + r[i].size > UINT64_MAX ||
		    (u128)r[i].off + r[i].size > UINT64_MAX)
			return false;
		for (j = 0; j < nreg; j++)
			if (j != i && (!disjoint(r[i].gpa, r[i].size, r[j].gpa, r[j].size) ||
				       !disjoint(r[i].uaddr, r[i].size, r[j].uaddr, r[j].size)))
				return false;
	}
	return true;
}

static void
put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));
}

static void
fuzz_mem_table(struct fz *f)
{
	uint8_t full[VHB_MSG_MEM_HDR_SIZE + VHB_MSG_MEM_MAX_REGIONS * VHB_MSG_MEM_REGION_SIZE + 128];
	struct region r[VHB_MSG_MEM_MAX_REGIONS];
	uint8_t b0 = fz_u8(f), b1 = fz_u8(f), b2 = fz_u8(f);
	uint32_t nreg = (b0 & 0x10) ? fz_u32(f) : (uint32_t)(b0 & 0x0f);
	uint32_t nlay = nreg < VHB_MSG_MEM_MAX_REGIONS ? nreg : VHB_MSG_MEM_MAX_REGIONS;
	uint32_t nfds = (b1 & 0x80) ? (uint32_t)(b1 & 0x0f) : (nreg <= 15 ? nreg : 0);
	int32_t base = VHB_MSG_MEM_HDR_SIZE + (int32_t)nlay * VHB_MSG_MEM_REGION_SIZE, sz;
	uint32_t size, i;
	const char *why = "unset";
	uint8_t *payload;
	int *fds, rc;
	bool valid;

	fds_init();
	sz = (b2 & 0x80) ? base - (b2 & 0x7f) : base + (b2 & 0x7f);
	size = sz < 0 ? 0 : (uint32_t)sz;
	memset(full, 0, sizeof(full));
	memcpy(full, &nreg, 4);
	for (i = 0; i < nlay; i++) {
		uint8_t m = fz_u8(f), fs;
		uint8_t *p = full + VHB_MSG_MEM_HDR_SIZE + i * VHB_MSG_MEM_REGION_SIZE;
		u128 want;

		r[i].gpa = (m & 1) ? fz_u64(f) : (uint64_t)fz_u16(f) << 20;
		r[i].size = (m & 2) ? fz_u64(f) : (uint64_t)fz_u16(f) << 16;
		r[i].uaddr = (m & 4) ? fz_u64(f) : UINT64_C(0x7f0000000000) +
			((uint64_t)fz_u16(f) << 20);
		r[i].off = (m & 8) ? fz_u64(f) : (uint64_t)fz_u16(f) << 16;
		r[i].kind = (enum fd_kind)((m >> 4) & 3);
		if (r[i].kind == FD_SHARED && i == 0)
			r[i].kind = FD_MEMFD;
		fs = fz_u8(f);
		switch (r[i].kind) {
		case FD_MEMFD:
			/* The file ends at the region's end moved by -64..63 pages, or anywhere. */
			if (fs & 0x80) {
				want = fz_u64(f);
			} else {
				int64_t d = (int64_t)(int8_t)(uint8_t)(fs << 1) / 2 * 4096;

				want = (u128)r[i].off + r[i].size;
				want = d < 0 ? (want < (u128)-d ? 0 : want - (u128)-d) : want + (u128)d;
			}
			if (want > FILE_MAX)
				want = FILE_MAX;
			if (memfd_size[i] != (uint64_t)want) {
				if (ftruncate(memfds[i], (off_t)want) != 0)
					abort();
				memfd_size[i] = (uint64_t)want;
			}
			r[i].fd = memfds[i];
			r[i].fsize = memfd_size[i];
			break;
		case FD_SHARED:	/* the previous region's file (a RAMBlock split in two) */
			r[i].fd = r[i - 1].fd;
			r[i].fsize = r[i - 1].fsize;
			if (r[i - 1].kind == FD_PIPE || r[i - 1].kind == FD_CLOSED)
				r[i].kind = r[i - 1].kind;
			break;
		case FD_PIPE:
			r[i].fd = pipe_fd;
			r[i].fsize = 0;
			break;
		case FD_CLOSED:
			r[i].fd = -1;
			r[i].fsize = 0;
			break;
		}
		put64(p, r[i].gpa);
		put64(p + 8, r[i].size);
		put64(p + 16, r[i].uaddr);
		put64(p + 24, r[i].off);
	}
	payload = malloc(size > 0 ? size : 1);
	fds = malloc(nfds > 0 ? nfds * sizeof(*fds) : 1);
	if (payload == NULL || fds == NULL)
		abort();
	memcpy(payload, full, size);
	for (i = 0; i < nfds; i++)
		fds[i] = i < nlay ? r[i].fd : -1;
	valid = model_valid(nreg, size, nfds, r);
	rc = vhb_msg_mem_table_check(payload, size, fds, nfds, &why);
	FZ_CHECK(rc == (valid ? 0 : -EINVAL), "table of %u regions (%u laid out), %u bytes, %u fds: "
		 "rc %d, model %s (%s)", nreg, nlay, size, nfds, rc, valid ? "valid" : "invalid",
		 why != NULL ? why : "no reason");
	FZ_CHECK(valid ? why == NULL : (why != NULL && why[0] != '\0'), "reason and verdict");
	free(fds);
	free(payload);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f;

	fz_quiet_logs();
	if (size == 0)
		return 0;
	fz_init(&f, data + 1, size - 1);
	if ((data[0] & 1) == 0)
		fuzz_config(&f);
	else
		fuzz_mem_table(&f);
	return 0;
}
