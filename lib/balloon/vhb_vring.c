/* SPDX-License-Identifier: BSD-3-Clause */
/* Split virtqueue, device side: validated pops, batched used-ring publication. */

#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vhb_vring.h"

int
vhb_vring_init(struct vhb_vring *vr, void *desc, void *avail, void *used, uint32_t size,
	       uint16_t last_avail, uint16_t last_used)
{
	if (desc == NULL || avail == NULL || used == NULL)
		return -EINVAL;
	if (size == 0 || size > VHB_VRING_MAX_SIZE || (size & (size - 1)) != 0)
		return -EINVAL;
	vr->desc = desc;
	vr->avail = avail;
	vr->used = used;
	vr->size = (uint16_t)size;
	vr->last_avail = last_avail;
	vr->last_used = last_used;
	vr->published = last_used;
	vr->error = NULL;
	return 0;
}

int
vhb_vring_avail_count(struct vhb_vring *vr)
{
	uint16_t idx, n;

	/* Acquire: ring entries written before idx are visible once idx is. */
	idx = le16toh(__atomic_load_n(&vr->avail->idx, __ATOMIC_ACQUIRE));
	n = (uint16_t)(idx - vr->last_avail);
	if (n > vr->size) {
		vr->error = "avail index moved by more than the ring size";
		return -EPROTO;
	}
	return n;
}

static int
vring_fail(struct vhb_vring *vr, const char *why)
{
	vr->error = why;
	return -EPROTO;
}

int
vhb_vring_pop(struct vhb_vring *vr, const struct vhb_guest_mem *gm, enum vhb_vring_dir dir,
	      struct vhb_vring_chain *chain)
{
	uint16_t mask = vr->size - 1;
	uint16_t head, idx, flags;
	uint32_t max_chain, len;
	uint64_t addr;
	int n;

	n = vhb_vring_avail_count(vr);
	if (n < 0)
		return n;
	if (n == 0)
		return -EAGAIN;

	/* The slot value is read once; the guest may rewrite it while we look. */
	head = le16toh(__atomic_load_n(&vr->avail->ring[vr->last_avail & mask],
				       __ATOMIC_RELAXED));
	if (head >= vr->size)
		return vring_fail(vr, "head index beyond the ring");

	max_chain = vr->size < VHB_MAX_CHAIN_LEN ? vr->size : VHB_MAX_CHAIN_LEN;
	chain->head = head;
	chain->nseg = 0;
	chain->total_len = 0;
	idx = head;
	for (;;) {
		const volatile struct vring_desc *d = &vr->desc[idx];
		struct vhb_vring_seg *s;

		/* The count is also the loop guard: a cycle exceeds it. */
		if (chain->nseg >= max_chain)
			return vring_fail(vr, "descriptor chain too long or looped");
		addr = le64toh(d->addr);
		len = le32toh(d->len);
		flags = le16toh(d->flags);
		if ((flags & VRING_DESC_F_INDIRECT) != 0)
			return vring_fail(vr, "indirect descriptor (not negotiated)");
		if (((flags & VRING_DESC_F_WRITE) != 0) != (dir == VHB_VRING_DEV_WRITES))
			return vring_fail(vr, "descriptor in the wrong direction");
		if (len == 0)
			return vring_fail(vr, "zero-length descriptor");
		if (addr + len < addr)
			return vring_fail(vr, "descriptor wraps the address space");
		s = &chain->seg[chain->nseg];
		s->gpa = addr;
		s->len = len;
		s->ptr = NULL;
		if (gm != NULL) {
			s->ptr = vhb_guest_mem_ptr(gm, addr, len);
			if (s->ptr == NULL)
				return vring_fail(vr, "buffer outside guest memory");
		}
		chain->nseg++;
		chain->total_len += len;
		if ((flags & VRING_DESC_F_NEXT) == 0)
			break;
		idx = le16toh(d->next);
		if (idx >= vr->size)
			return vring_fail(vr, "next index beyond the ring");
	}
	vr->last_avail++;
	return 0;
}

void
vhb_vring_push(struct vhb_vring *vr, uint16_t head, uint32_t len)
{
	volatile struct vring_used_elem *e = &vr->used->ring[vr->last_used & (vr->size - 1)];

	e->id = htole32(head);
	e->len = htole32(len);
	vr->last_used++;
}

bool
vhb_vring_publish(struct vhb_vring *vr)
{
	if (vr->published == vr->last_used)
		return false;
	/* Release: the used entries are visible before the index that covers them. */
	__atomic_store_n(&vr->used->idx, htole16(vr->last_used), __ATOMIC_RELEASE);
	vr->published = vr->last_used;
	return true;
}

void
vhb_vring_set_no_notify(struct vhb_vring *vr, bool no_notify)
{
	uint16_t f = le16toh(__atomic_load_n(&vr->used->flags, __ATOMIC_RELAXED));

	if (no_notify)
		f |= VRING_USED_F_NO_NOTIFY;
	else
		f &= (uint16_t)~VRING_USED_F_NO_NOTIFY;
	__atomic_store_n(&vr->used->flags, htole16(f), __ATOMIC_RELAXED);
}

bool
vhb_vring_no_interrupt(const struct vhb_vring *vr)
{
	uint16_t f = le16toh(__atomic_load_n(&vr->avail->flags, __ATOMIC_RELAXED));

	return (f & VRING_AVAIL_F_NO_INTERRUPT) != 0;
}
