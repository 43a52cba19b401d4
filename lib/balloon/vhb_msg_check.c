/* SPDX-License-Identifier: BSD-3-Clause */
/* Checks and answers of GET_CONFIG, SET_CONFIG and SET_MEM_TABLE over payload bytes. */

#include <errno.h>
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
		if (S_ISREG(st.st_mode) &&
		    (r.mmap_offset > (uint64_t)st.st_size ||
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
