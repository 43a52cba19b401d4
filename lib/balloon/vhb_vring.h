/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Split virtqueue, device side, for an untrusted driver. The ring lives in guest
 * memory: every index and descriptor is read once into local variables and
 * validated before use; buffers are translated with vhb_guest_mem_ptr().
 * One owner (the device's poll lcore) calls everything but vhb_vring_init().
 *
 * Ordering: acquire-load of avail->idx before reading ring entries, release-store
 * of used->idx after writing used entries; no full fences (the notification path
 * in rte_vhost has its own).
 */
#ifndef VHB_VRING_H
#define VHB_VRING_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/virtio_ring.h>

#include "vhb_guest_mem.h"
#include "vhb_limits.h"

/* Ring sizes above this are refused (virtio: Queue Size <= 32768, power of 2). */
#define VHB_VRING_MAX_SIZE	32768

struct vhb_vring {
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t size;
	uint16_t last_avail;	/* next avail slot to take */
	uint16_t last_used;	/* next used slot to fill (shadow of used->idx) */
	uint16_t published;	/* last value stored to used->idx */
	const char *error;	/* what the driver did wrong, for the log */
};

/* Which way buffers of a queue must go (from the device's point of view). */
enum vhb_vring_dir {
	VHB_VRING_DEV_READS = 0,	/* driver-written, device-readable (no WRITE flag) */
	VHB_VRING_DEV_WRITES,		/* device-writable (WRITE flag) */
};

struct vhb_vring_seg {
	uint64_t gpa;
	uint32_t len;
	void *ptr;		/* host address, NULL unless translated */
};

struct vhb_vring_chain {
	uint16_t head;
	uint16_t nseg;
	uint64_t total_len;
	struct vhb_vring_seg seg[VHB_MAX_CHAIN_LEN];
};

/*
 * Attach to a ring already mapped here (rte_vhost translated the addresses).
 * size must be a power of 2 in 1..32768. Returns 0 or -EINVAL.
 */
int vhb_vring_init(struct vhb_vring *vr, void *desc, void *avail, void *used, uint32_t size,
		   uint16_t last_avail, uint16_t last_used);

/*
 * Heads the driver has made available and the device has not taken. -EPROTO
 * (vr->error set) if avail->idx moved more than the ring size: the driver is broken.
 */
int vhb_vring_avail_count(struct vhb_vring *vr);

/*
 * Take the next available chain. Each descriptor must go in direction dir, have a
 * non-zero length, no INDIRECT flag (never offered), an index < size, and the
 * chain at most min(size, VHB_MAX_CHAIN_LEN) long. With gm != NULL each buffer is
 * translated and must lie wholly inside one guest memory region.
 * Returns 0 (chain filled, slot consumed), -EAGAIN (nothing available) or -EPROTO
 * (vr->error set; the ring must not be used again).
 */
int vhb_vring_pop(struct vhb_vring *vr, const struct vhb_guest_mem *gm, enum vhb_vring_dir dir,
		  struct vhb_vring_chain *chain);

/* Put a used element (head, written bytes); visible to the driver after publish. */
void vhb_vring_push(struct vhb_vring *vr, uint16_t head, uint32_t len);

/* Release-store used->idx if anything was pushed since the last call; true if so. */
bool vhb_vring_publish(struct vhb_vring *vr);

/* Tell the driver not to kick (we poll), or to kick again. */
void vhb_vring_set_no_notify(struct vhb_vring *vr, bool no_notify);

/* Has the driver asked not to be interrupted (VRING_AVAIL_F_NO_INTERRUPT)? */
bool vhb_vring_no_interrupt(const struct vhb_vring *vr);

#endif /* VHB_VRING_H */
