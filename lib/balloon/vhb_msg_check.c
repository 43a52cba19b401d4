/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Checks and answers of vhost-user messages over payload bytes: fixed payload sizes,
 * GET_CONFIG, SET_CONFIG and SET_MEM_TABLE.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "vhb_config.h"
#include "vhb_msg_check.h"

static uint32_t
load32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t
load64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

int
vhb_msg_config_get(const struct vhb_config *cfg, const uint8_t *payload, uint32_t size,
		   uint8_t *reply, uint32_t *reply_size)
{
	uint8_t hdr[VHB_MSG_CONFIG_HDR_SIZE];
	uint8_t bytes[VHB_MSG_CONFIG_MAX_SIZE];
	uint32_t off, len;

	if (size < VHB_MSG_CONFIG_HDR_SIZE)
		return -EINVAL;
	memcpy(hdr, payload, sizeof(hdr));
	off = load32(hdr);
	len = load32(hdr + 4);
	if (len > VHB_MSG_CONFIG_MAX_SIZE || vhb_config_read(cfg, off, len, bytes) != 0)
		return -EINVAL;
	/* reply may be payload: the header was copied out before anything is written. */
	memcpy(reply, hdr, sizeof(hdr));
	memcpy(reply + VHB_MSG_CONFIG_HDR_SIZE, bytes, len);
	*reply_size = VHB_MSG_CONFIG_HDR_SIZE + len;
	return 0;
}

int
vhb_msg_config_set(struct vhb_config *cfg, bool poison_writable, const uint8_t *payload,
		   uint32_t size)
{
	uint32_t off, len;

	if (size < VHB_MSG_CONFIG_HDR_SIZE)
		return -EINVAL;
	off = load32(payload);
	len = load32(payload + 4);
	if (len > VHB_MSG_CONFIG_MAX_SIZE || size - VHB_MSG_CONFIG_HDR_SIZE < len)
		return -EINVAL;
	return vhb_config_write(cfg, off, len, payload + VHB_MSG_CONFIG_HDR_SIZE, poison_writable);
}

/*
 * Payload size of every request whose payload has one size
 * (protocol.md#P-dpdk-no-validation): 0 for none, 8 for a u64 or a vring state, 40 for
 * vring addresses, 16 for a log description. -1: variable (checked by its own handler)
 * or no handler at all.
 */
static int
fixed_size(uint32_t request)
{
	switch (request) {
	case VHB_VU_GET_FEATURES:
	case VHB_VU_SET_OWNER:
	case VHB_VU_RESET_OWNER:
	case VHB_VU_SET_LOG_FD:
	case VHB_VU_GET_PROTOCOL_FEATURES:
	case VHB_VU_GET_QUEUE_NUM:
	case VHB_VU_SET_BACKEND_REQ_FD:
	case VHB_VU_GET_STATUS:
	case VHB_VU_GET_MAX_MEM_SLOTS:
		return 0;
	case VHB_VU_SET_FEATURES:
	case VHB_VU_SET_VRING_NUM:
	case VHB_VU_SET_VRING_BASE:
	case VHB_VU_GET_VRING_BASE:
	case VHB_VU_SET_VRING_KICK:
	case VHB_VU_SET_VRING_CALL:
	case VHB_VU_SET_VRING_ERR:
	case VHB_VU_SET_PROTOCOL_FEATURES:
	case VHB_VU_SET_VRING_ENABLE:
	case VHB_VU_SEND_RARP:
	case VHB_VU_NET_SET_MTU:
	case VHB_VU_SET_VRING_ENDIAN:
	case VHB_VU_SET_STATUS:
		return 8;
	case VHB_VU_SET_LOG_BASE:
		return 16;
	case VHB_VU_SET_VRING_ADDR:
		return 40;
	default:
		return -1;
	}
}

int
vhb_msg_size_check(uint32_t request, uint32_t size, uint32_t *want)
{
	int n = fixed_size(request);

	if (n < 0 || size == (uint32_t)n)
		return 0;
	if (want != NULL)
		*want = (uint32_t)n;
	return -EBADMSG;
}

struct mem_region {
	uint64_t gpa;
	uint64_t size;
	uint64_t uaddr;
	uint64_t mmap_offset;
};

static void
region_load(const uint8_t *payload, uint32_t i, struct mem_region *r)
{
	const uint8_t *p = payload + VHB_MSG_MEM_HDR_SIZE + (size_t)i * VHB_MSG_MEM_REGION_SIZE;

	r->gpa = load64(p);
	r->size = load64(p + 8);
	r->uaddr = load64(p + 16);
	r->mmap_offset = load64(p + 24);
}

static const char *
mem_table_problem(const uint8_t *payload, uint32_t size, const int *fds, uint32_t nfds)
{
	struct mem_region r, o;
	struct stat st;
	uint32_t n, i, j;
	int flags, seals;

	if (size < VHB_MSG_MEM_HDR_SIZE)
		return "payload shorter than its header";
	n = load32(payload);
	if (n == 0 || n > VHB_MSG_MEM_MAX_REGIONS)
		return "region count not in 1..8";
	if (size < VHB_MSG_MEM_HDR_SIZE + n * VHB_MSG_MEM_REGION_SIZE)
		return "payload shorter than its regions";
	if (nfds != n)
		return "not one fd per region";
	for (i = 0; i < n; i++) {
		region_load(payload, i, &r);
		if (r.size == 0)
			return "zero-size region";
		/*
		 * A mapping past the end of its file raises SIGBUS on access, which would
		 * kill every VM of the process the first time a descriptor points there.
		 */
		if (fstat(fds[i], &st) != 0)
			return "region fd unusable";
		if (!S_ISREG(st.st_mode))
			return "region fd is not a regular file (memfd or hugetlbfs file)";
		/* Guest memory is mapped shared and writable: the fd must allow both. */
		flags = fcntl(fds[i], F_GETFL);
		if (flags < 0 || (flags & O_ACCMODE) != O_RDWR)
			return "region fd not open for reading and writing";
		seals = fcntl(fds[i], F_GET_SEALS);
		if (seals > 0 && (seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) != 0)
			return "region fd sealed against writes";
		if ((r.mmap_offset > (uint64_t)st.st_size ||
		     r.size > (uint64_t)st.st_size - r.mmap_offset))
			return "region beyond the end of its file";
		if (r.gpa + r.size < r.gpa || r.uaddr + r.size < r.uaddr ||
		    r.mmap_offset + r.size < r.mmap_offset)
			return "region wraps the address space";
		for (j = 0; j < i; j++) {
			region_load(payload, j, &o);
			if ((r.gpa < o.gpa + o.size && o.gpa < r.gpa + r.size) ||
			    (r.uaddr < o.uaddr + o.size && o.uaddr < r.uaddr + r.size))
				return "overlapping regions";
		}
	}
	return NULL;
}

int
vhb_msg_mem_table_check(const uint8_t *payload, uint32_t size, const int *fds, uint32_t nfds,
			const char **why)
{
	const char *problem = mem_table_problem(payload, size, fds, nfds);

	if (why != NULL)
		*why = problem;
	return problem != NULL ? -EINVAL : 0;
}
