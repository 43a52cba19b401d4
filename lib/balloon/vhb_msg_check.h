/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The checks and answers of the vhost-user messages the device serves itself
 * (GET_CONFIG, SET_CONFIG) or refuses before rte_vhost acts on them
 * (SET_MEM_TABLE), over plain payload bytes: no device, no rte_vhost context,
 * no EAL, so unit tests and fuzz harnesses call them directly.
 *
 * A payload is the message body after the 12-byte vhost-user header, `size` its
 * length as the header gives it (rte_vhost 22.11 bounds it by its payload
 * union); only payload[0, size) is read. Fields are host-endian (vhost-user).
 */
#ifndef VHB_MSG_CHECK_H
#define VHB_MSG_CHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "vhb_config.h"

/* vhost-user requests (frontend to backend), as numbered by the vhost-user spec. */
enum vhb_vu_request {
	VHB_VU_GET_FEATURES = 1,
	VHB_VU_SET_FEATURES = 2,
	VHB_VU_SET_OWNER = 3,
	VHB_VU_RESET_OWNER = 4,
	VHB_VU_SET_MEM_TABLE = 5,
	VHB_VU_SET_LOG_BASE = 6,
	VHB_VU_SET_LOG_FD = 7,
	VHB_VU_SET_VRING_NUM = 8,
	VHB_VU_SET_VRING_ADDR = 9,
	VHB_VU_SET_VRING_BASE = 10,
	VHB_VU_GET_VRING_BASE = 11,
	VHB_VU_SET_VRING_KICK = 12,
	VHB_VU_SET_VRING_CALL = 13,
	VHB_VU_SET_VRING_ERR = 14,
	VHB_VU_GET_PROTOCOL_FEATURES = 15,
	VHB_VU_SET_PROTOCOL_FEATURES = 16,
	VHB_VU_GET_QUEUE_NUM = 17,
	VHB_VU_SET_VRING_ENABLE = 18,
	VHB_VU_SEND_RARP = 19,
	VHB_VU_NET_SET_MTU = 20,
	VHB_VU_SET_BACKEND_REQ_FD = 21,
	VHB_VU_IOTLB_MSG = 22,
	VHB_VU_SET_VRING_ENDIAN = 23,
	VHB_VU_GET_CONFIG = 24,
	VHB_VU_SET_CONFIG = 25,
	VHB_VU_GET_INFLIGHT_FD = 31,
	VHB_VU_SET_INFLIGHT_FD = 32,
	VHB_VU_GET_MAX_MEM_SLOTS = 36,
	VHB_VU_ADD_MEM_REG = 37,
	VHB_VU_REM_MEM_REG = 38,
	VHB_VU_SET_STATUS = 39,
	VHB_VU_GET_STATUS = 40,
};

/*
 * A request whose payload has one fixed size must come with exactly that size:
 * rte_vhost 22.11 reads the fields it expects whatever was sent (past a short
 * payload it reads what an earlier message left). 0 if the size is right or the
 * request has no fixed size, -EBADMSG with *want (may be NULL) set otherwise.
 */
int vhb_msg_size_check(uint32_t request, uint32_t size, uint32_t *want);

/* Config payload: offset, size, flags (u32 each), then the config bytes. */
#define VHB_MSG_CONFIG_HDR_SIZE		12
#define VHB_MSG_CONFIG_MAX_SIZE		256	/* VHOST_USER_MAX_CONFIG_SIZE */
#define VHB_MSG_CONFIG_REPLY_MAX	(VHB_MSG_CONFIG_HDR_SIZE + VHB_MSG_CONFIG_MAX_SIZE)

/* Memory table payload: nregions, padding (u32 each), then gpa, size, uaddr, mmap_offset. */
#define VHB_MSG_MEM_MAX_REGIONS		8	/* VHOST_MEMORY_MAX_NREGIONS */
#define VHB_MSG_MEM_HDR_SIZE		8
#define VHB_MSG_MEM_REGION_SIZE		32

/*
 * GET_CONFIG: the reply payload is the request's 12-byte header followed by the
 * `size` config bytes at `offset`; *reply_size = 12 + size (QEMU rejects any
 * other length, protocol.md#P-qemu-cfg-reply). reply has room for
 * VHB_MSG_CONFIG_REPLY_MAX
 * bytes and may be payload itself (rte_vhost replies in place); nothing past
 * 12 + size is written. 0, or -EINVAL (reply and *reply_size untouched) for a
 * payload shorter than its header, a size over 256 or a range outside the config.
 */
int vhb_msg_config_get(const struct vhb_config *cfg, const uint8_t *payload, uint32_t size,
		       uint8_t *reply, uint32_t *reply_size);

/*
 * SET_CONFIG: write the payload's config bytes through vhb_config_write() (only
 * actual and, if poison_writable, poison_val change). VHB_CFG_CHANGED_* bits, or
 * -EINVAL (cfg untouched) for a payload shorter than its header or its bytes,
 * a size over 256 or a range outside the config.
 */
int vhb_msg_config_set(struct vhb_config *cfg, bool poison_writable, const uint8_t *payload,
		       uint32_t size);

/*
 * SET_MEM_TABLE, before rte_vhost maps it (it takes short payloads, zero-size,
 * wrapping and overlapping regions, protocol.md#P-dpdk-no-validation): 1..8
 * regions, all in the payload,
 * one fd each (fds[0, nfds) read only when nfds is the region count), each
 * region non-empty, its fd a regular file (memfd, hugetlbfs or tmpfs file) open
 * read-write and not sealed against writes (the map is shared and writable),
 * within its file (mmap_offset + size <= st_size: a mapping past the end raises
 * SIGBUS), no
 * wrap of gpa, uaddr or mmap_offset + size, no two regions overlapping in gpa or
 * in uaddr. 0, or -EINVAL with *why (a static string) naming the first problem.
 */
int vhb_msg_mem_table_check(const uint8_t *payload, uint32_t size, const int *fds, uint32_t nfds,
			    const char **why);

#endif /* VHB_MSG_CHECK_H */
