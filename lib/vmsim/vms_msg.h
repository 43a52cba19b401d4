/* SPDX-License-Identifier: BSD-3-Clause */
/* vhost-user message layout (vhost-user.rst) and its encoding, defined here independently of
 * any backend. Host byte order; every field is at the offset the spec gives. */
#ifndef VMS_MSG_H
#define VMS_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "vmsim.h"

/* A message as it travels: 12-byte header then size bytes of payload. */
struct vms_msg {
	uint32_t request;
	uint32_t flags;
	uint32_t size;
	uint8_t payload[VMS_MSG_MAX_PAYLOAD];
} __attribute__((packed));

/* Payload sizes of the fixed-layout requests. */
#define VMS_PL_U64		8
#define VMS_PL_STATE		8	/* u32 index, u32 num */
#define VMS_PL_ADDR		40	/* u32 index, u32 flags, u64 desc, used, avail, log */
#define VMS_PL_REGION		32	/* u64 gpa, size, userspace_addr, mmap_offset */
#define VMS_PL_MEM_HDR		8	/* u32 nregions, u32 padding */
#define VMS_PL_MEM_REG		(8 + VMS_PL_REGION)
#define VMS_PL_CONFIG_HDR	12	/* u32 offset, size, flags */

#define VMS_VRING_IDX_MASK	0xff
#define VMS_VRING_NOFD		0x100

struct vms_msg_region {
	uint64_t gpa, size, uaddr, mmap_offset;
};

void vms_msg_init(struct vms_msg *m, uint32_t request, uint32_t flags);
void vms_msg_u64(struct vms_msg *m, uint32_t request, uint32_t flags, uint64_t v);
void vms_msg_state(struct vms_msg *m, uint32_t request, uint32_t flags, uint32_t idx,
		uint32_t num);
void vms_msg_addr(struct vms_msg *m, uint32_t idx, uint32_t aflags, uint64_t desc,
		uint64_t used, uint64_t avail, uint64_t log);
int vms_msg_mem_table(struct vms_msg *m, uint32_t flags, const struct vms_msg_region *r,
		unsigned int n);
void vms_msg_mem_reg(struct vms_msg *m, uint32_t request, uint32_t flags,
		const struct vms_msg_region *r);
int vms_msg_config(struct vms_msg *m, uint32_t request, uint32_t flags, uint32_t offset,
		uint32_t size, uint32_t cfg_flags, const uint8_t *data);

/* Decoders: -EPROTO unless size matches exactly. */
int vms_msg_get_u64(const struct vms_msg *m, uint64_t *v);
int vms_msg_get_state(const struct vms_msg *m, uint32_t *idx, uint32_t *num);
/* Config: offset/size/flags fields and a pointer to the region bytes. */
int vms_msg_get_config(const struct vms_msg *m, uint32_t *offset, uint32_t *size,
		uint32_t *flags, const uint8_t **data);
/* Region table of SET_MEM_TABLE, for tests' reference backends. */
int vms_msg_get_mem_table(const struct vms_msg *m, struct vms_msg_region *r, unsigned int max,
		unsigned int *n);

/* Raw little-endian config accessors (balloon config is LE even for legacy devices). */
uint32_t vms_le32_get(const uint8_t *p);
void vms_le32_put(uint8_t *p, uint32_t v);
uint16_t vms_le16_get(const uint8_t *p);
void vms_le16_put(uint8_t *p, uint16_t v);
uint64_t vms_le64_get(const uint8_t *p);
void vms_le64_put(uint8_t *p, uint64_t v);

/* Socket I/O. Send: header + size bytes (or len bytes if len != 0, for raw messages) with fds.
 * Recv: a whole message within timeout_ms; received fds go to fds[] (closed if fds is NULL).
 * -EPROTO if size > VMS_MSG_MAX_PAYLOAD, -ECONNRESET on EOF, -ETIMEDOUT. */
int vms_sock_send(int fd, const void *buf, size_t len, const int *fds, unsigned int nfds);
int vms_sock_recv(int fd, struct vms_msg *m, int timeout_ms, int *fds, unsigned int *nfds);
int vms_sock_recv_bytes(int fd, void *buf, size_t len, int timeout_ms, int *fds,
		unsigned int *nfds);

#endif /* VMS_MSG_H */
