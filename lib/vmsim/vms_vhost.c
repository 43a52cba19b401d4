/* SPDX-License-Identifier: BSD-3-Clause */
/* QEMU's side of the vhost-user device life cycle (hw/virtio/vhost.c, vhost-user.c,
 * vhost-user-base.c, QEMU 10): realize (vhost_dev_init), vub_start (vhost_dev_start plus the
 * unmask), vub_stop (vhost_dev_stop) and vhost_commit's memory table update. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vms_priv.h"

static void
close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* A backend that stops reading must not block a send forever. */
static void
set_send_timeout(int fd, uint32_t ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int
connect_socket(struct vms_vm *vm)
{
	struct sockaddr_un sa;
	uint64_t deadline = vms_now_ns() + (uint64_t)vm->p.connect_timeout_ms * 1000000ULL;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(vm->socket_path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, vm->socket_path, strlen(vm->socket_path));
	for (;;) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			set_send_timeout(fd, vm->p.timeout_ms);
			return fd;
		}
		close(fd);
		if ((errno != ENOENT && errno != ECONNREFUSED && errno != EAGAIN) ||
				vms_now_ns() >= deadline)
			return -errno;
		/* The daemon may create its socket a moment later. */
		nanosleep(&(struct timespec){ .tv_nsec = 20 * 1000000 }, NULL);
	}
}

/* What the Linux driver ends up accepting from the device's features. */
uint64_t
vms_driver_accept(const struct vms_vm *vm, uint64_t offered)
{
	uint64_t f = offered & vm->p.driver_features & VMS_DRIVER_FEATURES_ALL;
	bool guest_poisons = vm->p.page_poison || vm->p.init_on_free;

	/* virtballoon_validate(). */
	if (!guest_poisons)
		f &= ~VMS_BIT(VMS_F_PAGE_POISON);
	else if (!(f & VMS_BIT(VMS_F_PAGE_POISON)))
		f &= ~VMS_BIT(VMS_F_REPORTING);
	f &= ~VMS_BIT(VMS_F_ACCESS_PLATFORM);
	return f;
}

int
vms_vm_connect(struct vms_vm *vm)
{
	uint64_t pf_offered, pf, accepted;
	unsigned int i;
	int ret, sv[2];

	if (vm == NULL)
		return -EINVAL;
	if (vm->connected)
		return -EISCONN;
	ret = connect_socket(vm);
	if (ret < 0)
		return ret;
	vm->sock = ret;
	vm->connected = true;
	vm->realized = false;
	vm->started = false;
	/* A new connection of a guest that ran before (QEMU after a backend restart): the
	 * driver keeps its rings and balloon; queues resume from the used index, as QEMU syncs
	 * last_avail_idx to the used index when the connection broke. */
	vms_vm_sync_bases(vm);
	vm->probe_failed = false;
	/* What the backend offers is asked again; what the running driver accepted stays
	 * (QEMU keeps vdev->guest_features across a reconnect). */
	accepted = vm->feat.accepted;
	memset(&vm->feat, 0, sizeof(vm->feat));
	vm->feat.accepted = accepted;
	vm->nshadow = 0;

	/* vhost_user_backend_init(). */
	ret = vms_get_u64(vm, VMS_REQ_GET_FEATURES, &vm->features_first);
	if (ret < 0)
		goto err;
	if (vm->features_first & VMS_BIT(VMS_F_PROTOCOL_FEATURES)) {
		ret = vms_get_u64(vm, VMS_REQ_GET_PROTOCOL_FEATURES, &pf_offered);
		if (ret < 0)
			goto err;
		vm->feat.protocol_offered = pf_offered;
		pf = pf_offered & vm->p.protocol_features_mask;
		if (vm->p.config_size > 0) {
			if (!(pf & VMS_BIT(VMS_PF_CONFIG))) {
				if (vm->p.log)
					fprintf(stderr, "vmsim: vhost-user device expecting "
						"VHOST_USER_PROTOCOL_F_CONFIG but the vhost-user "
						"backend does not support it.\n");
				ret = -EPROTO;
				goto err;
			}
		} else {
			pf &= ~VMS_BIT(VMS_PF_CONFIG);
		}
		vm->feat.protocol_negotiated = pf;
		ret = vms_set_u64(vm, VMS_REQ_SET_PROTOCOL_FEATURES, pf, false);
		if (ret < 0)
			goto err;
		if (pf & VMS_BIT(VMS_PF_MQ)) {
			ret = vms_get_u64(vm, VMS_REQ_GET_QUEUE_NUM, &vm->feat.queue_num);
			if (ret < 0)
				goto err;
		}
		if (pf & VMS_BIT(VMS_PF_CONFIGURE_MEM_SLOTS)) {
			ret = vms_get_u64(vm, VMS_REQ_GET_MAX_MEM_SLOTS, &vm->feat.max_mem_slots);
			if (ret < 0)
				goto err;
		}
	} else if (vm->p.config_size > 0) {
		/* Realize succeeds, but without F_CONFIG every config access fails. */
		if (vm->p.log)
			fprintf(stderr, "vmsim: backend lacks VHOST_USER_F_PROTOCOL_FEATURES\n");
	}
	if (vms_has_pf(vm, VMS_PF_BACKEND_REQ)) {
		struct vms_msg m;

		/* vhost_setup_backend_channel(). */
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
			ret = -errno;
			goto err;
		}
		vms_msg_init(&m, VMS_REQ_SET_BACKEND_REQ_FD, VMS_MSG_VERSION);
		if (vms_has_pf(vm, VMS_PF_REPLY_ACK))
			m.flags |= VMS_MSG_NEED_REPLY;
		vm->backend_fd = sv[0];
		set_send_timeout(sv[0], vm->p.timeout_ms);
		ret = vms_send(vm, &m, &sv[1], 1);
		close(sv[1]);
		if (ret == 0)
			ret = vms_ack(vm, &m);
		if (ret < 0)
			goto err;
	}
	{
		struct vms_msg m;

		vms_msg_init(&m, VMS_REQ_SET_OWNER, VMS_MSG_VERSION);
		ret = vms_send(vm, &m, NULL, 0);
		if (ret < 0)
			goto err;
	}
	ret = vms_get_u64(vm, VMS_REQ_GET_FEATURES, &vm->feat.offered);
	if (ret < 0)
		goto err;

	/* num_vqs is a device property; by default what this driver will need. */
	vm->num_vqs = vm->p.num_vqs != 0 ? vm->p.num_vqs :
		vms_queue_count_for(vms_driver_accept(vm, vm->feat.offered));
	if (vm->num_vqs > VMS_MAX_VQS) {
		ret = -EINVAL;
		goto err;
	}
	for (i = 0; i < vm->num_vqs; i++) {
		struct vms_vq *q = &vm->vq[i];

		/* vhost_virtqueue_init(): the masked notifier and the error notifier. */
		if (q->masked_fd < 0)
			q->masked_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (q->err_fd < 0)
			q->err_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (q->masked_fd < 0 || q->err_fd < 0) {
			ret = -errno;
			goto err;
		}
		ret = vms_set_vring_fd(vm, VMS_REQ_SET_VRING_CALL, i, q->masked_fd);
		if (ret < 0)
			goto err;
		ret = vms_set_vring_fd(vm, VMS_REQ_SET_VRING_ERR, i, q->err_fd);
		if (ret < 0)
			goto err;
	}
	/* virtio-pci: a modern-only device needs VERSION_1 ("Device doesn't support modern
	 * mode, and legacy mode is disabled"). */
	if (!(vm->feat.offered & VMS_BIT(VMS_F_VERSION_1))) {
		if (vm->p.log)
			fprintf(stderr, "vmsim: Device doesn't support modern mode, and legacy "
					"mode is disabled\n");
		ret = -EPROTO;
		goto err;
	}
	vm->realized = true;
	return 0;
err:
	vms_conn_lost(vm);
	return ret;
}

/* The memory table as QEMU builds it from the guest's RAM sections. */
static unsigned int
table_regions(const struct vms_vm *vm, struct vms_msg_region *r)
{
	struct vms_region_info ri[VMS_MAX_REGIONS];
	unsigned int n = vms_mem_table(vm, ri), i;

	for (i = 0; i < n; i++) {
		r[i].gpa = ri[i].gpa;
		r[i].size = ri[i].size;
		r[i].uaddr = (uint64_t)(uintptr_t)ri[i].hva;
		r[i].mmap_offset = ri[i].file_offset;
	}
	return n;
}

static int
region_fd(struct vms_vm *vm, bool new_fds)
{
	char path[64];
	int fd;

	if (!new_fds)
		return vm->mem_fd;
	/* A new open file description of the same file, as after a memory re-plug. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", vm->mem_fd);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* Keep the new one so a later send uses it too. */
	close(vm->mem_fd);
	vm->mem_fd = fd;
	return fd;
}

static int
send_mem_table_fds(struct vms_vm *vm, bool new_fds)
{
	struct vms_msg_region r[VMS_MAX_REGIONS];
	int fds[VMS_MAX_REGIONS];
	unsigned int n = table_regions(vm, r), i;
	struct vms_msg m;
	int fd, ret;

	fd = region_fd(vm, new_fds);
	if (fd < 0)
		return fd;
	for (i = 0; i < n; i++)
		fds[i] = fd;
	if (vms_has_pf(vm, VMS_PF_CONFIGURE_MEM_SLOTS)) {
		uint32_t flags = VMS_MSG_VERSION;
		unsigned int j, nshadow = vm->nshadow;

		/* vhost_user_add_remove_regions(): remove what changed, add what is new. */
		if (vms_has_pf(vm, VMS_PF_REPLY_ACK))
			flags |= VMS_MSG_NEED_REPLY;
		for (j = nshadow; j-- > 0;) {
			bool keep = false;

			for (i = 0; i < n; i++)
				if (vm->shadow[j].gpa == r[i].gpa && vm->shadow[j].size == r[i].size &&
						vm->shadow[j].uaddr == r[i].uaddr)
					keep = true;
			if (keep)
				continue;
			vms_msg_mem_reg(&m, VMS_REQ_REM_MEM_REG, flags, &vm->shadow[j]);
			memset(m.payload + 8 + 24, 0, 8);	/* mmap_offset 0 in removals */
			ret = vms_send(vm, &m, NULL, 0);
			if (ret == 0)
				ret = vms_ack(vm, &m);
			if (ret < 0)
				return ret;
			memmove(&vm->shadow[j], &vm->shadow[j + 1],
					(vm->nshadow - j - 1) * sizeof(vm->shadow[0]));
			vm->nshadow--;
		}
		for (i = 0; i < n; i++) {
			bool have = false;

			for (j = 0; j < vm->nshadow; j++)
				if (vm->shadow[j].gpa == r[i].gpa && vm->shadow[j].size == r[i].size &&
						vm->shadow[j].uaddr == r[i].uaddr)
					have = true;
			if (have)
				continue;
			vms_msg_mem_reg(&m, VMS_REQ_ADD_MEM_REG, flags, &r[i]);
			ret = vms_send(vm, &m, &fd, 1);
			if (ret == 0)
				ret = vms_ack(vm, &m);
			if (ret < 0)
				return ret;
			vm->shadow[vm->nshadow++] = r[i];
		}
		return 0;
	}
	ret = vms_msg_mem_table(&m, VMS_MSG_VERSION, r, n);
	if (ret < 0)
		return ret;
	if (vms_has_pf(vm, VMS_PF_REPLY_ACK))
		m.flags |= VMS_MSG_NEED_REPLY;
	ret = vms_send(vm, &m, fds, n);
	if (ret < 0)
		return ret;
	return vms_ack(vm, &m);
}

int
vms_send_mem_table(struct vms_vm *vm)
{
	return send_mem_table_fds(vm, false);
}

/* vhost_user_add_status(). */
static int
add_status(struct vms_vm *vm, uint8_t bits)
{
	uint64_t s;
	int ret;

	ret = vms_get_u64(vm, VMS_REQ_GET_STATUS, &s);
	if (ret < 0)
		return ret;
	vm->status = (uint8_t)s;
	if ((vm->status & bits) == bits)
		return 0;
	return vms_set_u64(vm, VMS_REQ_SET_STATUS, (uint8_t)(vm->status | bits), false);
}

/* Ring addresses in SET_VRING_ADDR are the frontend's virtual addresses (QEMU's HVAs). */
static uint64_t
ring_hva(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

int
vms_vhost_start(struct vms_vm *vm)
{
	unsigned int i;
	uint64_t features;
	int ret;

	/* vhost_dev_enable_notifiers(): host notifiers are created signalled; and
	 * set_guest_notifiers(): one guest notifier per queue. */
	for (i = 0; i < vm->num_vqs; i++) {
		struct vms_vq *q = &vm->vq[i];

		close_fd(&q->kick_fd);
		close_fd(&q->call_fd);
		q->kick_fd = eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK);
		q->call_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (q->kick_fd < 0 || q->call_fd < 0)
			return -errno;
	}
	features = vm->feat.accepted;
	if (vm->features_first & VMS_BIT(VMS_F_PROTOCOL_FEATURES))
		features |= VMS_BIT(VMS_F_PROTOCOL_FEATURES);	/* dev->backend_features */
	vm->feat.sent = features;
	ret = vms_set_u64(vm, VMS_REQ_SET_FEATURES, features, false);
	if (ret < 0)
		return ret;
	if (vms_has_pf(vm, VMS_PF_STATUS)) {
		ret = add_status(vm, VMS_S_FEATURES_OK);
		if (ret < 0)
			return ret;
	}
	ret = vms_send_mem_table(vm);
	if (ret < 0)
		return ret;
	for (i = 0; i < vm->num_vqs; i++) {
		struct vms_vq *q = &vm->vq[i];
		struct vms_msg m;

		/* vhost_virtqueue_start() skips queues whose desc address is 0. */
		if (!q->set_up)
			continue;
		ret = vms_set_vring(vm, VMS_REQ_SET_VRING_NUM, i, q->ring.num, false);
		if (ret < 0)
			return ret;
		ret = vms_set_vring(vm, VMS_REQ_SET_VRING_BASE, i, q->last_base, false);
		if (ret < 0)
			return ret;
		vms_msg_addr(&m, i, 0, ring_hva(q->ring.desc), ring_hva(q->ring.used),
				ring_hva(q->ring.avail),
				(uint64_t)(q->ring.used - vm->mem) /* used ring gpa: low memory */);
		ret = vms_send(vm, &m, NULL, 0);
		if (ret < 0)
			return ret;
		ret = vms_set_vring_fd(vm, VMS_REQ_SET_VRING_KICK, i, q->kick_fd);
		if (ret < 0)
			return ret;
		ret = vms_set_vring_fd(vm, VMS_REQ_SET_VRING_CALL, i, q->call_fd);
		if (ret < 0)
			return ret;
		q->started = true;
	}
	if (vm->feat.sent & VMS_BIT(VMS_F_PROTOCOL_FEATURES)) {
		for (i = 0; i < vm->num_vqs; i++) {
			ret = vms_set_vring(vm, VMS_REQ_SET_VRING_ENABLE, i, 1, true);
			if (ret < 0)
				return ret;
		}
	}
	if (vms_has_pf(vm, VMS_PF_STATUS)) {
		ret = add_status(vm, VMS_S_ACKNOWLEDGE | VMS_S_DRIVER | VMS_S_DRIVER_OK);
		if (ret < 0)
			return ret;
	}
	/* vub_start(): "just unmask everything here". */
	for (i = 0; i < vm->num_vqs; i++) {
		ret = vms_set_vring_fd(vm, VMS_REQ_SET_VRING_CALL, i, vm->vq[i].call_fd);
		if (ret < 0)
			return ret;
	}
	vm->started = true;
	return 0;
}

void
vms_vm_sync_bases(struct vms_vm *vm)
{
	unsigned int i;

	for (i = 0; i < VMS_MAX_VQS; i++) {
		struct vms_vq *q = &vm->vq[i];

		if (!q->started)
			continue;
		q->last_base = vms_ring_used_idx(&q->ring);
		q->started = false;
	}
}

int
vms_vm_stop(struct vms_vm *vm)
{
	unsigned int i;
	int ret = 0, r;

	if (vm == NULL)
		return -EINVAL;
	if (!vm->started)
		return -EALREADY;
	vm->started = false;
	if (vm->feat.sent & VMS_BIT(VMS_F_PROTOCOL_FEATURES)) {
		for (i = 0; i < vm->num_vqs && vm->connected; i++) {
			r = vms_set_vring(vm, VMS_REQ_SET_VRING_ENABLE, i, 0, true);
			if (r < 0 && ret == 0)
				ret = r;
		}
	}
	for (i = 0; i < vm->num_vqs; i++) {
		struct vms_vq *q = &vm->vq[i];
		struct vms_msg m;
		uint32_t idx, num;

		if (!q->started)
			continue;
		q->started = false;
		if (!vm->connected)
			continue;
		vms_msg_state(&m, VMS_REQ_GET_VRING_BASE, VMS_MSG_VERSION, i, 0);
		r = vms_send(vm, &m, NULL, 0);
		if (r == 0)
			r = vms_recv_reply(vm, &m, VMS_REQ_GET_VRING_BASE);
		if (r == 0 && vms_msg_get_state(&m, &idx, &num) < 0)
			r = -EPROTO;
		if (r < 0) {
			/* Broken connection: QEMU syncs last_avail to the used idx. */
			q->last_base = vms_ring_used_idx(&q->ring);
			if (ret == 0)
				ret = r;
			continue;
		}
		q->last_base = (uint16_t)num;
	}
	if (vm->connected && vms_has_pf(vm, VMS_PF_STATUS)) {
		r = vms_set_u64(vm, VMS_REQ_SET_STATUS, 0, false);
		if (r < 0 && ret == 0)
			ret = r;
	}
	for (i = 0; i < vm->num_vqs; i++) {
		close_fd(&vm->vq[i].kick_fd);
		close_fd(&vm->vq[i].call_fd);
	}
	return ret;
}

int
vms_vm_remap(struct vms_vm *vm, unsigned int flags)
{
	if (vm == NULL)
		return -EINVAL;
	if (flags & VMS_REMAP_TOGGLE_SPLIT) {
		if (vm->split)
			return -EINVAL;
		vm->table_split = !vm->table_split;
	}
	if (flags & VMS_REMAP_REVERSE)
		vm->table_reverse = !vm->table_reverse;
	if (!vm->connected)
		return -ENOTCONN;
	return send_mem_table_fds(vm, (flags & VMS_REMAP_NEW_FDS) != 0);
}
