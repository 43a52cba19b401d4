/* SPDX-License-Identifier: BSD-3-Clause */
/* The vhost-user message checks: GET/SET_CONFIG answers and the SET_MEM_TABLE check. */

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vhb_config.h"
#include "vhb_msg_check.h"
#include "vhb_test_check.h"

#define PAYLOAD_SIZE	632	/* rte_vhost 22.11's payload union */

static uint32_t
cfg_msg(uint8_t *p, uint32_t off, uint32_t len, const uint8_t *data, uint32_t ndata)
{
	uint32_t flags = 0;

	memcpy(p, &off, 4);
	memcpy(p + 4, &len, 4);
	memcpy(p + 8, &flags, 4);
	if (ndata > 0)
		memcpy(p + VHB_MSG_CONFIG_HDR_SIZE, data, ndata);
	return VHB_MSG_CONFIG_HDR_SIZE + ndata;
}

static void
test_get(void)
{
	struct vhb_config cfg = { .num_pages = 0x100, .actual = 0x80, .poison_val = 0xaa };
	uint8_t p[PAYLOAD_SIZE], want[VHB_CONFIG_SIZE], zero[VHB_CONFIG_SIZE];
	uint32_t size, rsize = 0;

	memset(zero, 0, sizeof(zero));
	CHECK(vhb_config_read(&cfg, 0, 16, want) == 0, "image");
	/* QEMU: offset 0, size 16, a zeroed region; answered in place. */
	memset(p, 0xee, sizeof(p));
	size = cfg_msg(p, 0, 16, zero, 16);
	CHECK(vhb_msg_config_get(&cfg, p, size, p, &rsize) == 0, "QEMU GET_CONFIG");
	CHECK(rsize == 28, "reply size %u (12 + len)", rsize);
	CHECK(memcmp(p + 12, want, 16) == 0, "reply bytes");
	CHECK(p[28] == 0xee, "nothing written past the reply");
	/* Linux byte-wise through QEMU's cache is QEMU's business; a partial read here. */
	size = cfg_msg(p, 12, 4, zero, 4);
	CHECK(vhb_msg_config_get(&cfg, p, size, p, &rsize) == 0 && rsize == 16, "poison_val");
	CHECK(vhb_le32_load(p + 12) == 0xaa, "poison_val bytes");
	/* A GET carries no bytes: the header alone is enough. */
	size = cfg_msg(p, 4, 4, NULL, 0);
	CHECK(vhb_msg_config_get(&cfg, p, size, p, &rsize) == 0 && rsize == 16, "header only");
	CHECK(vhb_le32_load(p + 12) == 0x80, "actual bytes");

	rsize = 7;
	memset(p, 0, sizeof(p));
	CHECK(vhb_msg_config_get(&cfg, p, 11, p, &rsize) == -EINVAL, "short header");
	cfg_msg(p, 0, 17, NULL, 0);
	CHECK(vhb_msg_config_get(&cfg, p, 12, p, &rsize) == -EINVAL, "past the config");
	cfg_msg(p, 0, 257, NULL, 0);
	CHECK(vhb_msg_config_get(&cfg, p, 12, p, &rsize) == -EINVAL, "over 256");
	cfg_msg(p, 0xfffffff0, 0x20, NULL, 0);
	CHECK(vhb_msg_config_get(&cfg, p, 12, p, &rsize) == -EINVAL, "wrapping range");
	cfg_msg(p, 4, 0, NULL, 0);
	CHECK(vhb_msg_config_get(&cfg, p, 12, p, &rsize) == -EINVAL, "empty range");
	CHECK(rsize == 7, "a refused GET sets no reply size");
}

static void
test_set(void)
{
	struct vhb_config cfg = { .num_pages = 0x100, .actual = 0, .poison_val = 0 };
	uint8_t p[PAYLOAD_SIZE], img[VHB_CONFIG_SIZE];
	uint32_t size;
	int rc;

	/* QEMU writes back its whole cached copy with a new actual and poison_val. */
	vhb_le32_store(img + 0, 999);
	vhb_le32_store(img + 4, 0x100);
	vhb_le32_store(img + 8, 42);
	vhb_le32_store(img + 12, 0xaa);
	size = cfg_msg(p, 0, 16, img, 16);
	rc = vhb_msg_config_set(&cfg, false, p, size);
	CHECK(rc == VHB_CFG_CHANGED_ACTUAL, "rc %d", rc);
	CHECK(cfg.num_pages == 0x100 && cfg.actual == 0x100 && cfg.poison_val == 0,
	      "only actual without PAGE_POISON");
	rc = vhb_msg_config_set(&cfg, true, p, size);
	CHECK(rc == VHB_CFG_CHANGED_POISON && cfg.poison_val == 0xaa, "poison_val writable");
	CHECK(cfg.num_pages == 0x100, "num_pages is the device's");

	/* The bytes must all be in the payload. */
	vhb_le32_store(img + 4, 5);
	size = cfg_msg(p, 0, 16, img, 16);
	CHECK(vhb_msg_config_set(&cfg, true, p, size - 1) == -EINVAL, "bytes past the payload");
	CHECK(vhb_msg_config_set(&cfg, true, p, 11) == -EINVAL, "short header");
	cfg_msg(p, 0, 257, NULL, 0);
	CHECK(vhb_msg_config_set(&cfg, true, p, 12 + 257) == -EINVAL, "over 256");
	cfg_msg(p, 8, 9, NULL, 0);
	CHECK(vhb_msg_config_set(&cfg, true, p, 12 + 9) == -EINVAL, "past the config");
	CHECK(cfg.actual == 0x100 && cfg.poison_val == 0xaa, "refused writes change nothing");
}

struct region {
	uint64_t gpa, size, uaddr, off;
};

static uint32_t
table(uint8_t *p, uint32_t n, const struct region *r, uint32_t nr)
{
	uint32_t i, pad = 0;

	memcpy(p, &n, 4);
	memcpy(p + 4, &pad, 4);
	for (i = 0; i < nr; i++)
		memcpy(p + VHB_MSG_MEM_HDR_SIZE + i * VHB_MSG_MEM_REGION_SIZE, &r[i], 32);
	return VHB_MSG_MEM_HDR_SIZE + nr * VHB_MSG_MEM_REGION_SIZE;
}

#define REFUSED(p, size, fds, nfds, reason) do { \
	const char *why_ = NULL; \
	CHECK(vhb_msg_mem_table_check(p, size, fds, nfds, &why_) == -EINVAL && why_ != NULL && \
	      strcmp(why_, reason) == 0, "want \"%s\", got \"%s\"", reason, \
	      why_ != NULL ? why_ : "(accepted)"); \
} while (0)

/* Region 1 of the two-region table r on each kind of fd that must be refused. */
static void
unmappable_fds(uint8_t *p, struct region *r)
{
	int good = memfd_create("msg-check-good", MFD_CLOEXEC | MFD_ALLOW_SEALING), pfd[2], fds[2];
	int ro, ev, null, sealed;
	char path[64];
	uint32_t size;

	CHECK(good >= 0 && ftruncate(good, 8 << 20) == 0 && pipe(pfd) == 0, "fds");
	snprintf(path, sizeof(path), "/proc/self/fd/%d", good);
	ro = open(path, O_RDONLY | O_CLOEXEC);
	ev = eventfd(0, EFD_CLOEXEC);
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	sealed = memfd_create("msg-check-sealed", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	CHECK(ro >= 0 && ev >= 0 && null >= 0 && sealed >= 0 &&
	      ftruncate(sealed, 8 << 20) == 0 && fcntl(sealed, F_ADD_SEALS, F_SEAL_WRITE) == 0,
	      "unmappable fds");
	r[0] = (struct region){ .gpa = 0, .size = 4 << 20, .uaddr = 1ULL << 30, .off = 0 };
	r[1] = (struct region){ .gpa = 4 << 20, .size = 4 << 20, .uaddr = 2ULL << 30, .off = 0 };
	size = table(p, 2, r, 2);
	fds[0] = good;
	fds[1] = good;
	CHECK(vhb_msg_mem_table_check(p, size, fds, 2, NULL) == 0, "read-write memfd");
	fds[1] = pfd[0];
	REFUSED(p, size, fds, 2, "region fd is not a regular file (memfd or hugetlbfs file)");
	fds[1] = ev;
	REFUSED(p, size, fds, 2, "region fd is not a regular file (memfd or hugetlbfs file)");
	fds[1] = null;
	REFUSED(p, size, fds, 2, "region fd is not a regular file (memfd or hugetlbfs file)");
	fds[1] = ro;
	REFUSED(p, size, fds, 2, "region fd not open for reading and writing");
	fds[1] = sealed;
	REFUSED(p, size, fds, 2, "region fd sealed against writes");
	close(sealed);
	close(null);
	close(ev);
	close(ro);
	close(pfd[0]);
	close(pfd[1]);
	close(good);
}

/* Every fixed-size request with the wrong size, and the right one. */
static void
test_sizes(void)
{
	static const struct { uint32_t req, size; } fixed[] = {
		{ VHB_VU_GET_FEATURES, 0 }, { VHB_VU_SET_FEATURES, 8 }, { VHB_VU_SET_OWNER, 0 },
		{ VHB_VU_RESET_OWNER, 0 }, { VHB_VU_SET_LOG_BASE, 16 }, { VHB_VU_SET_LOG_FD, 0 },
		{ VHB_VU_SET_VRING_NUM, 8 }, { VHB_VU_SET_VRING_ADDR, 40 },
		{ VHB_VU_SET_VRING_BASE, 8 }, { VHB_VU_GET_VRING_BASE, 8 },
		{ VHB_VU_SET_VRING_KICK, 8 }, { VHB_VU_SET_VRING_CALL, 8 },
		{ VHB_VU_SET_VRING_ERR, 8 }, { VHB_VU_GET_PROTOCOL_FEATURES, 0 },
		{ VHB_VU_SET_PROTOCOL_FEATURES, 8 }, { VHB_VU_GET_QUEUE_NUM, 0 },
		{ VHB_VU_SET_VRING_ENABLE, 8 }, { VHB_VU_SET_BACKEND_REQ_FD, 0 },
		{ VHB_VU_SET_STATUS, 8 }, { VHB_VU_GET_STATUS, 0 },
		{ VHB_VU_GET_MAX_MEM_SLOTS, 0 },
	};
	uint32_t i, d, want;

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		CHECK(vhb_msg_size_check(fixed[i].req, fixed[i].size, NULL) == 0, "request %u",
		      fixed[i].req);
		for (d = 1; d <= 8; d++) {
			want = 0;
			CHECK(vhb_msg_size_check(fixed[i].req, fixed[i].size + d, &want) ==
			      -EBADMSG && want == fixed[i].size, "request %u, +%u", fixed[i].req, d);
			if (fixed[i].size >= d)
				CHECK(vhb_msg_size_check(fixed[i].req, fixed[i].size - d, NULL) ==
				      -EBADMSG, "request %u, -%u", fixed[i].req, d);
		}
	}
	/* Variable payloads are left to their own checks; unknown requests to rte_vhost. */
	CHECK(vhb_msg_size_check(VHB_VU_SET_MEM_TABLE, 7, NULL) == 0 &&
	      vhb_msg_size_check(VHB_VU_GET_CONFIG, 3, NULL) == 0 &&
	      vhb_msg_size_check(VHB_VU_SET_CONFIG, 300, NULL) == 0 &&
	      vhb_msg_size_check(1000, 5, NULL) == 0, "variable sizes");
}

static void
test_mem_table(void)
{
	const uint64_t G = UINT64_C(1) << 30, UA = UINT64_C(0x7f0000000000);
	uint8_t p[PAYLOAD_SIZE];
	struct region r[VHB_MSG_MEM_MAX_REGIONS + 1];
	int fd = memfd_create("test-msg-check", MFD_CLOEXEC), fd2, fds[9], i;
	const char *why = "unset";
	uint32_t size;

	CHECK(fd >= 0 && ftruncate(fd, (off_t)(4 * G)) == 0, "memfd");
	printf("guest-memory backing: memfd 4 KiB (sparse, never touched)\n");
	fd2 = dup(fd);
	CHECK(fd2 >= 0, "fds");

	/* QEMU, PCI hole: 3 GiB below 4 GiB, 1 GiB above, one 4 GiB file. */
	r[0] = (struct region){ .gpa = 0, .size = 3 * G, .uaddr = UA, .off = 0 };
	r[1] = (struct region){ .gpa = 4 * G, .size = G, .uaddr = UA + 3 * G, .off = 3 * G };
	fds[0] = fd;
	fds[1] = fd2;
	size = table(p, 2, r, 2);
	CHECK(vhb_msg_mem_table_check(p, size, fds, 2, &why) == 0 && why == NULL, "two regions");
	CHECK(vhb_msg_mem_table_check(p, size + 100, fds, 2, NULL) == 0, "longer payload");
	size = table(p, 1, r, 1);
	CHECK(vhb_msg_mem_table_check(p, size, fds, 1, &why) == 0, "one region");

	/* Past the end of the file by a page (the SIGBUS), offset past it, exactly at it. */
	r[1].size = G + 4096;
	size = table(p, 2, r, 2);
	REFUSED(p, size, fds, 2, "region beyond the end of its file");
	r[1].size = 1;
	r[1].off = 4 * G + 1;
	size = table(p, 2, r, 2);
	REFUSED(p, size, fds, 2, "region beyond the end of its file");
	r[1].off = 4 * G - 1;
	size = table(p, 2, r, 2);
	CHECK(vhb_msg_mem_table_check(p, size, fds, 2, NULL) == 0, "last byte of the file");
	/* Fds that cannot be mapped shared and writable: each refused, whatever the table. */
	unmappable_fds(p, r);
	r[0] = (struct region){ .gpa = 0, .size = 3 * G, .uaddr = UA, .off = 0 };
	r[1] = (struct region){ .gpa = 4 * G, .size = G, .uaddr = UA + 3 * G, .off = 3 * G };

	/* Counts, lengths, fds. */
	size = table(p, 0, r, 0);
	REFUSED(p, size, fds, 0, "region count not in 1..8");
	size = table(p, 9, r, 0) + 9 * VHB_MSG_MEM_REGION_SIZE;
	REFUSED(p, size, fds, 9, "region count not in 1..8");
	REFUSED(p, 7, fds, 2, "payload shorter than its header");
	size = table(p, 2, r, 2);
	REFUSED(p, size - 1, fds, 2, "payload shorter than its regions");
	REFUSED(p, size, fds, 1, "not one fd per region");
	REFUSED(p, size, fds, 3, "not one fd per region");
	fds[1] = -1;
	REFUSED(p, size, fds, 2, "region fd unusable");
	fds[1] = fd2;

	/* Zero size, gpa and uaddr wraps, overlaps in gpa or in uaddr. */
	r[1].size = 0;
	size = table(p, 2, r, 2);
	REFUSED(p, size, fds, 2, "zero-size region");
	r[1].size = 4096;
	r[1].gpa = UINT64_MAX - 4095;
	r[1].off = 0;
	size = table(p, 2, r, 2);
	REFUSED(p, size, fds, 2, "region wraps the address space");
	r[1].gpa = 4 * G;
	r[1].uaddr = UINT64_MAX - 2047;
	size = table(p, 2, r, 2);
	REFUSED(p, size, fds, 2, "region wraps the address space");
	r[1].uaddr = UA + 3 * G;
	r[1].gpa = 3 * G - 4096;
	size = table(p, 2, r, 2);
	REFUSED(p, size, fds, 2, "overlapping regions");
	r[1].gpa = 3 * G;
	size = table(p, 2, r, 2);
	CHECK(vhb_msg_mem_table_check(p, size, fds, 2, NULL) == 0, "adjacent in gpa");
	r[1].uaddr = UA + 3 * G - 1;
	size = table(p, 2, r, 2);
	REFUSED(p, size, fds, 2, "overlapping regions");

	/* Eight regions: the most. */
	for (i = 0; i < VHB_MSG_MEM_MAX_REGIONS; i++) {
		r[i] = (struct region){ .gpa = (uint64_t)i * G, .size = 1 << 20,
			.uaddr = UA + (uint64_t)i * G, .off = (uint64_t)i << 20 };
		fds[i] = fd;
	}
	size = table(p, 8, r, 8);
	CHECK(vhb_msg_mem_table_check(p, size, fds, 8, NULL) == 0, "eight regions");
	close(fd2);
	close(fd);
}

int
main(void)
{
	test_get();
	test_set();
	test_mem_table();
	test_sizes();
	printf("msg-check: %d checks passed\n", test_checks);
	return 0;
}
