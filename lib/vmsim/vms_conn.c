/* SPDX-License-Identifier: BSD-3-Clause */
/* The vhost-user main channel as QEMU's vhost-user.c drives it (write, then a synchronous
 * read of the reply with strict checks), and the backend channel as QEMU's backend_read()
 * serves it. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vms_priv.h"

uint64_t
vms_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

bool
vms_has_pf(const struct vms_vm *vm, unsigned int bit)
{
	return (vm->feat.protocol_negotiated & VMS_BIT(bit)) != 0;
}

bool
vms_has_f(const struct vms_vm *vm, unsigned int bit)
{
	return (vm->feat.accepted & VMS_BIT(bit)) != 0;
}

void
vms_trace_add(struct vms_vm *vm, const struct vms_msg *m, unsigned int nfds, bool from_backend,
		bool is_reply)
{
	struct vms_trace_entry *e;

	if (is_reply && !vm->trace.replies)
		return;
	if (vm->trace.e == NULL || vm->trace.n >= VMS_TRACE_MAX) {
		vm->trace.dropped++;
		return;
	}
	e = &vm->trace.e[vm->trace.n++];
	memset(e, 0, sizeof(*e));
	e->request = m->request;
	e->flags = m->flags;
	e->size = m->size;
	e->nfds = (uint8_t)nfds;
	e->from_backend = from_backend;
	e->is_reply = is_reply;
	if (from_backend)
		return;
	switch (m->request) {
	case VMS_REQ_SET_VRING_NUM:
	case VMS_REQ_SET_VRING_BASE:
	case VMS_REQ_GET_VRING_BASE:
	case VMS_REQ_SET_VRING_ENABLE:
	case VMS_REQ_SET_VRING_ADDR:
		if (m->size >= 8) {
			uint32_t idx, num;

			memcpy(&idx, m->payload, 4);
			memcpy(&num, m->payload + 4, 4);
			e->index = idx;
			e->value = num;
		}
		break;
	case VMS_REQ_SET_VRING_KICK:
	case VMS_REQ_SET_VRING_CALL:
	case VMS_REQ_SET_VRING_ERR:
		if (m->size >= 8) {
			memcpy(&e->value, m->payload, 8);
			e->index = (uint32_t)(e->value & VMS_VRING_IDX_MASK);
		}
		break;
	case VMS_REQ_GET_CONFIG:
	case VMS_REQ_SET_CONFIG:
		if (m->size >= 8) {
			uint32_t off, sz;

			memcpy(&off, m->payload, 4);
			memcpy(&sz, m->payload + 4, 4);
			e->value = (uint64_t)off << 32 | sz;
		}
		break;
	case VMS_REQ_SET_MEM_TABLE:
		if (m->size >= 4) {
			uint32_t n;

			memcpy(&n, m->payload, 4);
			e->value = n;
		}
		break;
	default:
		if (m->size == 8)
			memcpy(&e->value, m->payload, 8);
		break;
	}
}

void
vms_conn_lost(struct vms_vm *vm)
{
	if (vm->sock >= 0)
		close(vm->sock);
	vm->sock = -1;
	if (vm->backend_fd >= 0)
		close(vm->backend_fd);
	vm->backend_fd = -1;
	vm->connected = false;
}

int
vms_send(struct vms_vm *vm, struct vms_msg *m, const int *fds, unsigned int nfds)
{
	int ret;

	if (!vm->connected)
		return -ENOTCONN;
	ret = vms_sock_send(vm->sock, m, VMS_MSG_HDR_SIZE + m->size, fds, nfds);
	if (ret < 0) {
		vms_conn_lost(vm);
		return ret == -EPIPE ? -ECONNRESET : ret;
	}
	vm->c.msgs_sent++;
	vms_trace_add(vm, m, nfds, false, false);
	if (vm->disconnect_after > 0 && --vm->disconnect_after == 0) {
		/* Injected fault: the frontend goes away right after this message. */
		vms_conn_lost(vm);
		return -ECONNRESET;
	}
	return 0;
}

int
vms_recv_reply(struct vms_vm *vm, struct vms_msg *m, uint32_t request)
{
	int ret;

	if (!vm->connected)
		return -ENOTCONN;
	ret = vms_sock_recv(vm->sock, m, (int)vm->p.timeout_ms, NULL, NULL);
	if (ret < 0) {
		if (vm->p.log)
			fprintf(stderr, "vmsim: no reply to %s: %s\n", vms_request_name(request),
					strerror(-ret));
		/* QEMU treats a failed read as a broken connection; so do we. */
		vms_conn_lost(vm);
		return ret;
	}
	vm->c.replies++;
	vms_trace_add(vm, m, 0, false, true);
	/* vhost_user_read_header(): flags must be exactly REPLY | VERSION. */
	if (m->flags != (VMS_MSG_REPLY | VMS_MSG_VERSION)) {
		if (vm->p.log)
			fprintf(stderr, "vmsim: reply flags 0x%x instead of 0x5\n", m->flags);
		vm->c.errors++;
		return -EPROTO;
	}
	if (m->request != request) {
		if (vm->p.log)
			fprintf(stderr, "vmsim: expected reply %u received %u\n", request,
					m->request);
		vm->c.errors++;
		return -EPROTO;
	}
	return 0;
}

int
vms_ack(struct vms_vm *vm, const struct vms_msg *sent)
{
	struct vms_msg r;
	int ret;

	/* process_message_reply(): only the request is checked, then u64 != 0 is failure. */
	if ((sent->flags & VMS_MSG_NEED_REPLY) == 0)
		return 0;
	ret = vms_recv_reply(vm, &r, sent->request);
	if (ret < 0)
		return ret;
	if (r.size >= 8) {
		uint64_t v;

		memcpy(&v, r.payload, 8);
		if (v != 0) {
			vm->c.errors++;
			return -EIO;
		}
	}
	return 0;
}

int
vms_get_u64(struct vms_vm *vm, uint32_t request, uint64_t *v)
{
	struct vms_msg m;
	int ret;

	vms_msg_init(&m, request, VMS_MSG_VERSION);
	ret = vms_send(vm, &m, NULL, 0);
	if (ret < 0)
		return ret;
	ret = vms_recv_reply(vm, &m, request);
	if (ret < 0)
		return ret;
	if (vms_msg_get_u64(&m, v) < 0) {
		vm->c.errors++;
		return -EPROTO;	/* "Received bad msg size." */
	}
	return 0;
}

/* vhost_user_write_sync(): NEED_REPLY with REPLY_ACK, else GET_FEATURES as a barrier. */
static int
write_sync(struct vms_vm *vm, struct vms_msg *m, bool wait_reply)
{
	uint64_t dummy;
	int ret;

	if (wait_reply && vms_has_pf(vm, VMS_PF_REPLY_ACK))
		m->flags |= VMS_MSG_NEED_REPLY;
	ret = vms_send(vm, m, NULL, 0);
	if (ret < 0 || !wait_reply)
		return ret;
	if (m->flags & VMS_MSG_NEED_REPLY)
		return vms_ack(vm, m);
	return vms_get_u64(vm, VMS_REQ_GET_FEATURES, &dummy);
}

int
vms_set_u64(struct vms_vm *vm, uint32_t request, uint64_t v, bool wait_reply)
{
	struct vms_msg m;

	vms_msg_u64(&m, request, VMS_MSG_VERSION, v);
	return write_sync(vm, &m, wait_reply);
}

int
vms_set_vring(struct vms_vm *vm, uint32_t request, uint32_t idx, uint32_t num, bool wait_reply)
{
	struct vms_msg m;

	vms_msg_state(&m, request, VMS_MSG_VERSION, idx, num);
	return write_sync(vm, &m, wait_reply);
}

int
vms_set_vring_fd(struct vms_vm *vm, uint32_t request, uint32_t idx, int fd)
{
	struct vms_msg m;
	uint64_t v = idx & VMS_VRING_IDX_MASK;

	if (fd < 0)
		v |= VMS_VRING_NOFD;
	vms_msg_u64(&m, request, VMS_MSG_VERSION, v);
	return vms_send(vm, &m, fd >= 0 ? &fd : NULL, fd >= 0 ? 1 : 0);
}

int
vms_backend_serve(struct vms_vm *vm)
{
	struct vms_msg m;
	int fds[VMS_MSG_MAX_FDS];
	unsigned int nfds = 0, i;
	int ret, res = 0;

	if (vm->backend_fd < 0)
		return 0;
	ret = vms_sock_recv(vm->backend_fd, &m, (int)vm->p.timeout_ms, fds, &nfds);
	for (i = 0; i < nfds; i++)
		close(fds[i]);
	if (ret < 0) {
		/* QEMU closes the backend channel on any read error; the device lives on. */
		if (vm->p.log)
			fprintf(stderr, "vmsim: backend channel closed: %s\n", strerror(-ret));
		close(vm->backend_fd);
		vm->backend_fd = -1;
		return ret == -ECONNRESET ? 0 : ret;
	}
	vm->c.backend_msgs++;
	vms_trace_add(vm, &m, nfds, true, false);
	switch (m.request) {
	case VMS_BREQ_CONFIG_CHANGE_MSG:
		vm->c.config_changes++;
		if (vm->p.config_size == 0) {
			res = -ENOSYS;	/* no config_ops without supports_config */
			break;
		}
		/* virtio_notify_config(): an interrupt only once DRIVER_OK is set. */
		if (vm->started && !vm->probe_failed)
			vm->work_pending = true;
		break;
	default:
		res = -EINVAL;
		vm->c.errors++;
		break;
	}
	if (m.flags & VMS_MSG_NEED_REPLY) {
		uint64_t v = res != 0;

		m.flags = (m.flags & ~VMS_MSG_NEED_REPLY) | VMS_MSG_REPLY;
		memcpy(m.payload, &v, 8);
		m.size = 8;
		ret = vms_sock_send(vm->backend_fd, &m, VMS_MSG_HDR_SIZE + 8, NULL, 0);
		if (ret < 0) {
			close(vm->backend_fd);
			vm->backend_fd = -1;
		}
	}
	return 0;
}
