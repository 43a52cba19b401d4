/* SPDX-License-Identifier: BSD-3-Clause */
/* Split virtqueue, driver side. Ring fields are little-endian (VERSION_1). */
#include <errno.h>
#include <string.h>

#include "vmsim.h"
#include "vms_msg.h"
#include "vms_ring.h"

uint64_t
vms_ring_avail_off(uint16_t num)
{
	return 16ULL * num;
}

uint64_t
vms_ring_used_off(uint16_t num, uint64_t align)
{
	uint64_t end = vms_ring_avail_off(num) + 6 + 2ULL * num;

	return (end + align - 1) & ~(align - 1);
}

uint64_t
vms_ring_bytes(uint16_t num, uint64_t align)
{
	return vms_ring_used_off(num, align) + 6 + 8ULL * num;
}

void
vms_ring_init(struct vms_ring *r, uint16_t num, uint8_t *mem, uint64_t align)
{
	unsigned int i;

	memset(r, 0, sizeof(*r));
	r->num = num;
	r->desc = mem;
	r->avail = mem + vms_ring_avail_off(num);
	r->used = mem + vms_ring_used_off(num, align);
	r->num_free = num;
	r->free_head = 0;
	for (i = 0; i + 1 < num; i++)
		r->next_free[i] = i + 1;
}

void
vms_ring_write_desc(struct vms_ring *r, uint16_t slot, uint64_t addr, uint32_t len,
		uint16_t flags, uint16_t next)
{
	uint8_t *d = r->desc + 16ULL * (slot & (r->num - 1));

	vms_le64_put(d, addr);
	vms_le32_put(d + 8, len);
	vms_le16_put(d + 12, flags);
	vms_le16_put(d + 14, next);
}

void
vms_ring_set_avail_idx(struct vms_ring *r, uint16_t idx)
{
	uint16_t le;

	r->avail_idx = idx;
	vms_le16_put((uint8_t *)&le, idx);
	/* Descriptors and the ring slot must be visible before the index (virtio 2.7.13). */
	__atomic_store_n((uint16_t *)(r->avail + 2), le, __ATOMIC_RELEASE);
}

void
vms_ring_publish(struct vms_ring *r, uint16_t head)
{
	vms_le16_put(r->avail + 4 + 2 * (r->avail_idx & (r->num - 1)), head);
	vms_ring_set_avail_idx(r, (uint16_t)(r->avail_idx + 1));
}

int
vms_ring_add(struct vms_ring *r, const uint64_t *addr, const uint32_t *len,
		const bool *writable, unsigned int n)
{
	uint16_t head, i;
	unsigned int k;

	if (n == 0 || n > r->num_free)
		return -ENOSPC;
	head = r->free_head;
	i = head;
	for (k = 0; k < n; k++) {
		uint16_t flags = writable[k] ? VMS_DESC_F_WRITE : 0;
		uint16_t next = r->next_free[i];

		if (k + 1 < n)
			flags |= VMS_DESC_F_NEXT;
		vms_ring_write_desc(r, i, addr[k], len[k], flags, k + 1 < n ? next : 0);
		i = next;
	}
	r->free_head = i;
	r->num_free -= n;
	r->chain_len[head] = (uint16_t)n;
	vms_ring_publish(r, head);
	return head;
}

uint16_t
vms_ring_used_idx(const struct vms_ring *r)
{
	uint16_t le = __atomic_load_n((const uint16_t *)(r->used + 2), __ATOMIC_ACQUIRE);

	return vms_le16_get((const uint8_t *)&le);
}

bool
vms_ring_need_event(uint16_t event_idx, uint16_t new_idx, uint16_t old_idx)
{
	return (uint16_t)(new_idx - event_idx - 1) < (uint16_t)(new_idx - old_idx);
}

bool
vms_ring_kick_prepare(struct vms_ring *r)
{
	uint16_t old = r->kick_old, nw = r->avail_idx;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);	/* Linux virtio_mb(): avail->idx before flags */
	r->kick_old = nw;
	if (r->event_idx) {
		/* avail_event lives after the used ring entries. */
		uint16_t le = __atomic_load_n((const uint16_t *)(r->used + 4 + 8 * r->num),
				__ATOMIC_ACQUIRE);

		return vms_ring_need_event(vms_le16_get((const uint8_t *)&le), nw, old);
	}
	return !vms_ring_no_notify(r);
}

int
vms_ring_add_indirect(struct vms_ring *r, uint8_t *table, uint64_t table_addr,
		const uint64_t *addr, const uint32_t *len, const bool *writable, unsigned int n)
{
	uint16_t head;
	unsigned int k;

	if (n == 0 || r->num_free < 1)
		return -ENOSPC;
	/* alloc_indirect_split(): entries chained by next = i + 1. */
	for (k = 0; k < n; k++) {
		uint8_t *d = table + 16 * k;
		uint16_t flags = writable[k] ? VMS_DESC_F_WRITE : 0;

		if (k + 1 < n)
			flags |= VMS_DESC_F_NEXT;
		vms_le64_put(d, addr[k]);
		vms_le32_put(d + 8, len[k]);
		vms_le16_put(d + 12, flags);
		vms_le16_put(d + 14, k + 1 < n ? (uint16_t)(k + 1) : 0);
	}
	head = r->free_head;
	vms_ring_write_desc(r, head, table_addr, 16 * n, VMS_DESC_F_INDIRECT, 0);
	r->free_head = r->next_free[head];
	r->num_free--;
	r->chain_len[head] = 1;
	vms_ring_publish(r, head);
	return head;
}

bool
vms_ring_no_notify(const struct vms_ring *r)
{
	uint16_t le = __atomic_load_n((const uint16_t *)r->used, __ATOMIC_ACQUIRE);

	return (vms_le16_get((const uint8_t *)&le) & VMS_USED_F_NO_NOTIFY) != 0;
}

int
vms_ring_get_used(struct vms_ring *r, uint16_t *id, uint32_t *len)
{
	const uint8_t *e;
	uint32_t raw_id;
	uint16_t n, i, k;

	if (vms_ring_used_idx(r) == r->last_used)
		return 0;
	e = r->used + 4 + 8 * (r->last_used & (r->num - 1));
	raw_id = vms_le32_get(e);
	*len = vms_le32_get(e + 4);
	r->last_used++;
	if (raw_id >= r->num || r->chain_len[raw_id] == 0) {
		r->bad_used++;
		return -EIO;
	}
	*id = (uint16_t)raw_id;
	/* Give the chain back to the free list head, as Linux's detach_buf_split does. */
	n = r->chain_len[raw_id];
	r->chain_len[raw_id] = 0;
	i = (uint16_t)raw_id;
	for (k = 1; k < n; k++)
		i = r->next_free[i];
	r->next_free[i] = r->free_head;
	r->free_head = (uint16_t)raw_id;
	r->num_free += n;
	if (r->event_idx) {
		uint16_t le;

		/* virtqueue_get_buf_ctx_split(): used_event = last_used_idx, i.e. interrupt me
		 * for the next one. used_event lives after the avail ring entries. */
		vms_le16_put((uint8_t *)&le, r->last_used);
		__atomic_store_n((uint16_t *)(r->avail + 4 + 2 * r->num), le, __ATOMIC_SEQ_CST);
	}
	return 1;
}
