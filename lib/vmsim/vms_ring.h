/* SPDX-License-Identifier: BSD-3-Clause */
/* The driver side of a split virtqueue (virtio 1.x 2.7), as Linux's virtio_ring.c runs it:
 * a descriptor free list, avail ring publishing, used ring consumption with validation. */
#ifndef VMS_RING_H
#define VMS_RING_H

#include <stdbool.h>
#include <stdint.h>

#define VMS_RING_MAX	1024	/* VIRTQUEUE_MAX_SIZE */

struct vms_ring {
	uint16_t num;			/* size, power of two */
	uint8_t *desc;			/* 16 bytes each: le64 addr, le32 len, le16 flags, next */
	uint8_t *avail;			/* le16 flags, idx, ring[num], used_event */
	uint8_t *used;			/* le16 flags, idx, {le32 id, len}[num], avail_event */
	uint16_t free_head;
	uint16_t num_free;
	uint16_t avail_idx;		/* shadow of avail->idx */
	uint16_t last_used;		/* next used entry to consume */
	uint16_t next_free[VMS_RING_MAX];
	uint16_t chain_len[VMS_RING_MAX];	/* descriptors in the chain headed here, 0 = free */
	uint64_t bad_used;		/* used entries that named no outstanding head */
	bool event_idx;			/* VIRTIO_F_RING_EVENT_IDX negotiated */
	uint16_t kick_old;		/* avail idx at the last kick decision */
};

/* Bytes of a contiguous split ring with the used ring aligned to align bytes. */
uint64_t vms_ring_bytes(uint16_t num, uint64_t align);
/* Lay the ring out over mem (zeroed by the caller): desc, then avail, then aligned used. */
void vms_ring_init(struct vms_ring *r, uint16_t num, uint8_t *mem, uint64_t align);
/* Offsets of avail and used from desc. */
uint64_t vms_ring_avail_off(uint16_t num);
uint64_t vms_ring_used_off(uint16_t num, uint64_t align);

/* Add a chain of n buffers (addr, len; writable ones flagged) and publish it in the avail
 * ring. Returns the head or -ENOSPC. */
int vms_ring_add(struct vms_ring *r, const uint64_t *addr, const uint32_t *len,
		const bool *writable, unsigned int n);
/* Take the next used entry. 1 with *id and *len set when one was there, 0 when none, -EIO when the
 * device returned an id that is not an outstanding head (Linux: "id is not a head"). */
int vms_ring_get_used(struct vms_ring *r, uint16_t *id, uint32_t *len);
/* true if the device asked for no kicks (VRING_USED_F_NO_NOTIFY). */
bool vms_ring_no_notify(const struct vms_ring *r);
/* virtqueue_kick_prepare_split(): does the driver kick now? With EVENT_IDX it compares the
 * device's avail_event with what was published since the last decision, otherwise it
 * honours VRING_USED_F_NO_NOTIFY. */
bool vms_ring_kick_prepare(struct vms_ring *r);
/* vring_need_event() of the spec (2.7.10). */
bool vms_ring_need_event(uint16_t event_idx, uint16_t new_idx, uint16_t old_idx);
/* Add a chain of n buffers through an indirect table at table (device address table_addr):
 * one ring descriptor with VIRTQ_DESC_F_INDIRECT. Returns the head or -ENOSPC. */
int vms_ring_add_indirect(struct vms_ring *r, uint8_t *table, uint64_t table_addr,
		const uint64_t *addr, const uint32_t *len, const bool *writable, unsigned int n);
/* Device's used->idx (acquire). */
uint16_t vms_ring_used_idx(const struct vms_ring *r);
/* Raw access for fault injection. */
void vms_ring_write_desc(struct vms_ring *r, uint16_t slot, uint64_t addr, uint32_t len,
		uint16_t flags, uint16_t next);
void vms_ring_publish(struct vms_ring *r, uint16_t head);
void vms_ring_set_avail_idx(struct vms_ring *r, uint16_t idx);

#endif /* VMS_RING_H */
