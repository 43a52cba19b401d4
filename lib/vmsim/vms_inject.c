/* SPDX-License-Identifier: BSD-3-Clause */
/* Fault injection for robustness tests: raw descriptors and indexes, hostile PFN arrays, raw
 * vhost-user messages, and a disconnect in the middle of a sequence. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "vms_priv.h"

static struct vms_vq *
inj_vq(struct vms_vm *vm, enum vms_role role)
{
	if (vm == NULL || role >= VMS_VQ_ROLES || vm->role_idx[role] < 0)
		return NULL;
	return &vm->vq[vm->role_idx[role]];
}

int
vms_vq_post_raw(struct vms_vm *vm, enum vms_role role, const struct vms_raw_desc *d,
		unsigned int n, uint16_t head, bool no_kick)
{
	struct vms_vq *q = inj_vq(vm, role);
	unsigned int i;

	if (q == NULL || (n > 0 && d == NULL))
		return -ENOENT;
	for (i = 0; i < n; i++)
		vms_ring_write_desc(&q->ring, d[i].slot, d[i].addr, d[i].len, d[i].flags,
				d[i].next);
	vms_ring_publish(&q->ring, head);
	q->outstanding++;
	return no_kick ? 0 : vms_kick(vm, (int)role);
}

int
vms_vq_set_avail_idx(struct vms_vm *vm, enum vms_role role, uint16_t idx, bool kick)
{
	struct vms_vq *q = inj_vq(vm, role);

	if (q == NULL)
		return -ENOENT;
	vms_ring_set_avail_idx(&q->ring, idx);
	return kick ? vms_kick(vm, (int)role) : 0;
}

int
vms_vq_kick(struct vms_vm *vm, enum vms_role role)
{
	if (inj_vq(vm, role) == NULL)
		return -ENOENT;
	return vms_kick(vm, (int)role);
}

int
vms_vm_queue_quarantine(struct vms_vm *vm, enum vms_role role)
{
	struct vms_vq *q = inj_vq(vm, role);

	if (q == NULL)
		return -ENOENT;
	q->quarantined = true;
	return 0;
}

int
vms_vq_info(const struct vms_vm *vm, enum vms_role role, struct vms_vq_info *info)
{
	const struct vms_vq *q;

	memset(info, 0, sizeof(*info));
	info->index = -1;
	if (vm == NULL || role >= VMS_VQ_ROLES || vm->role_idx[role] < 0)
		return -ENOENT;
	q = &vm->vq[vm->role_idx[role]];
	info->index = vm->role_idx[role];
	info->size = q->ring.num;
	info->desc_gpa = (uint64_t)(q->ring.desc - vm->mem);
	info->avail_gpa = (uint64_t)(q->ring.avail - vm->mem);
	info->used_gpa = (uint64_t)(q->ring.used - vm->mem);
	info->avail_idx = q->ring.avail_idx;
	info->used_idx = vms_ring_used_idx(&q->ring);
	info->used_flags = vms_le16_get(q->ring.used);
	info->last_base = q->last_base;
	return 0;
}

int
vms_vm_scratch(const struct vms_vm *vm, uint64_t *gpa, uint64_t *len)
{
	if (vm == NULL)
		return -EINVAL;
	*gpa = vms_page_gpa(vm, vm->scratch_page);
	*len = VMS_SCRATCH_PAGES * VMS_PAGE_SIZE;
	return 0;
}

int
vms_vm_send_pfns(struct vms_vm *vm, enum vms_role role, const void *buf, uint32_t len,
		bool wait_ack)
{
	struct vms_vq *q = inj_vq(vm, role);
	uint64_t addr;
	bool wr = false;
	int ret;

	if (q == NULL)
		return -ENOENT;
	if (len > VMS_SCRATCH_PAGES * VMS_PAGE_SIZE)
		return -E2BIG;
	memcpy(vms_page_ptr(vm, vm->scratch_page), buf, len);
	addr = vms_page_gpa(vm, vm->scratch_page);
	ret = vms_ring_add(&q->ring, &addr, &len, &wr, 1);
	if (ret < 0)
		return ret;
	q->outstanding++;
	ret = vms_kick(vm, (int)role);
	if (ret < 0 || !wait_ack)
		return ret;
	return vms_wait(vm, (int)role, (int)vm->p.timeout_ms);
}

int
vms_vm_send_raw(struct vms_vm *vm, uint32_t request, uint32_t flags, uint32_t size,
		const void *payload, size_t payload_len, const int *fds, unsigned int nfds,
		void *reply, size_t *reply_len)
{
	uint8_t buf[VMS_MSG_HDR_SIZE + VMS_MSG_MAX_PAYLOAD];
	struct vms_msg m;
	int ret;

	if (vm == NULL || payload_len > VMS_MSG_MAX_PAYLOAD)
		return -EINVAL;
	if (!vm->connected)
		return -ENOTCONN;
	memcpy(buf, &request, 4);
	memcpy(buf + 4, &flags, 4);
	memcpy(buf + 8, &size, 4);
	if (payload_len > 0)
		memcpy(buf + VMS_MSG_HDR_SIZE, payload, payload_len);
	ret = vms_sock_send(vm->sock, buf, VMS_MSG_HDR_SIZE + payload_len, fds, nfds);
	if (ret < 0) {
		vms_conn_lost(vm);
		return ret;
	}
	m.request = request;
	m.flags = flags;
	m.size = size;
	vm->c.msgs_sent++;
	vms_trace_add(vm, &m, nfds, false, false);
	if (reply == NULL)
		return 0;
	ret = vms_sock_recv(vm->sock, &m, (int)vm->p.timeout_ms, NULL, NULL);
	if (ret < 0) {
		if (ret != -ETIMEDOUT)
			vms_conn_lost(vm);
		return ret;
	}
	if (reply_len != NULL) {
		size_t n = VMS_MSG_HDR_SIZE + m.size;

		if (n > *reply_len)
			n = *reply_len;
		memcpy(reply, &m, n);
		*reply_len = VMS_MSG_HDR_SIZE + m.size;
	}
	return 0;
}

void
vms_vm_disconnect_after(struct vms_vm *vm, unsigned int n)
{
	if (vm != NULL)
		vm->disconnect_after = n;
}

int
vms_vm_backend_channel_fd(const struct vms_vm *vm)
{
	return vm == NULL ? -1 : vm->backend_fd;
}
