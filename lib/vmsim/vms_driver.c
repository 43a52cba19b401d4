/* SPDX-License-Identifier: BSD-3-Clause */
/* The Linux virtio_balloon driver (6.1): probe, update_balloon_size_func steps, tell_host,
 * stats refills, free page reporting and the OOM notifier, over the rings in guest memory.
 * Interrupts are the call eventfds (INTx: any of them makes the driver scan every queue). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vms_priv.h"

static struct vms_vq *
role_vq(struct vms_vm *vm, int role)
{
	if (role < 0 || role >= VMS_VQ_ROLES || vm->role_idx[role] < 0)
		return NULL;
	return &vm->vq[vm->role_idx[role]];
}

int
vms_kick(struct vms_vm *vm, int role)
{
	struct vms_vq *q = role_vq(vm, role);
	uint64_t one = 1;

	if (q == NULL)
		return -ENOENT;
	/* virtqueue_kick_prepare(): avail_event with EVENT_IDX, else VRING_USED_F_NO_NOTIFY. */
	if (!vms_ring_kick_prepare(&q->ring)) {
		vm->c.kicks_suppressed++;
		return 0;
	}
	vm->c.kicks++;
	/* Before DRIVER_OK the kick goes to QEMU itself (no host notifier yet). */
	if (q->kick_fd >= 0 && write(q->kick_fd, &one, 8) != 8)
		return -errno;
	return 0;
}

static uint64_t
model_stat(struct vms_vm *vm, uint16_t tag)
{
	struct vms_page_counts pc;

	vms_vm_page_counts(vm, &pc);
	switch (tag) {
	case VMS_STAT_MEMFREE:
		return pc.free * VMS_PAGE_SIZE;
	case VMS_STAT_MEMTOT:
		/* Without DEFLATE_ON_OOM ballooned pages leave MemTotal. */
		return (pc.total - (vms_has_f(vm, VMS_F_DEFLATE_ON_OOM) ? 0 : pc.balloon)) *
			VMS_PAGE_SIZE;
	case VMS_STAT_AVAIL:
		return (pc.free + pc.used / 2) * VMS_PAGE_SIZE;
	case VMS_STAT_CACHES:
		return pc.used / 2 * VMS_PAGE_SIZE;
	default:
		return 0;
	}
}

int
vms_stats_fill(struct vms_vm *vm)
{
	struct vms_vq *q = role_vq(vm, VMS_VQ_STATS);
	uint8_t *buf = vms_page_ptr(vm, vm->stats_page);
	uint64_t addr;
	uint32_t len;
	bool wr = false;
	unsigned int i;
	int ret;

	if (q == NULL || q->quarantined)
		return -ENOENT;
	/* update_balloon_stats(): 10-byte {le16 tag, le64 val} entries, in the kernel's order. */
	for (i = 0; i < vm->nstat_tags; i++) {
		uint16_t tag = vm->stat_tags[i];
		uint64_t v = 0;

		if (tag < VMS_STAT_NR)
			v = (vm->stat_set & (1U << tag)) ? vm->stat_val[tag] : model_stat(vm, tag);
		vms_le16_put(buf + 10 * i, tag);
		vms_le64_put(buf + 10 * i + 2, v);
	}
	addr = vms_page_gpa(vm, vm->stats_page);
	len = 10 * vm->nstat_tags;
	ret = vms_ring_add(&q->ring, &addr, &len, &wr, 1);
	if (ret < 0)
		return ret;
	q->outstanding++;
	vm->c.stats_sent++;
	return vms_kick(vm, VMS_VQ_STATS);
}

int
vms_collect_used(struct vms_vm *vm)
{
	int role, n = 0;

	for (role = 0; role < VMS_VQ_ROLES; role++) {
		struct vms_vq *q = role_vq(vm, role);
		uint16_t id;
		uint32_t len;
		int r;

		if (q == NULL || !q->set_up || q->quarantined || q->broken)
			continue;
		while ((r = vms_ring_get_used(&q->ring, &id, &len)) != 0) {
			if (r < 0) {
				/* Linux: BAD_RING, the queue is dead. */
				if (vm->p.log)
					fprintf(stderr, "vmsim: vq %d: used id is not a head\n",
							vm->role_idx[role]);
				q->broken = true;
				vm->c.errors++;
				break;
			}
			n++;
			if (q->outstanding > 0)
				q->outstanding--;
			if (role == VMS_VQ_STATS) {
				/* stats_request() -> update_balloon_stats_func(): refill. */
				vm->c.stats_used++;
				if (vm->started)
					(void)vms_stats_fill(vm);
			}
		}
	}
	return n;
}

/* Drain or wait: serve the backend channel, take interrupts, scan used rings. Returns 0 when
 * the condition holds (role >= 0: nothing outstanding on it; role < 0: balloon work is due),
 * -ETIMEDOUT, or a connection error. */
int
vms_wait(struct vms_vm *vm, int role, int timeout_ms)
{
	uint64_t deadline = vms_now_ns() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000000ULL;
	bool poll_mode = vm->p.ack_mode == VMS_ACK_POLL;

	for (;;) {
		struct pollfd pf[VMS_MAX_VQS + 2];
		int qmap[VMS_MAX_VQS + 2];
		unsigned int n = 0, i;
		bool irq = false;
		uint64_t now;
		int wait_ms, pr;

		if (poll_mode)
			vms_collect_used(vm);
		if (role >= 0) {
			struct vms_vq *q = role_vq(vm, role);

			if (q == NULL)
				return -ENOENT;
			if (q->broken)
				return -EIO;
			if (q->outstanding == 0)
				return 0;
		} else if (vm->work_pending && vms_now_ns() >= vm->work_not_before_ns) {
			return 0;
		}
		if (!vm->connected)
			return -ECONNRESET;
		now = vms_now_ns();
		wait_ms = now >= deadline ? 0 : (int)((deadline - now + 999999) / 1000000);
		if (poll_mode && wait_ms > 1)
			wait_ms = 1;
		if (vm->backend_fd >= 0) {
			pf[n] = (struct pollfd){ .fd = vm->backend_fd, .events = POLLIN };
			qmap[n++] = -1;
		}
		pf[n] = (struct pollfd){ .fd = vm->sock, .events = POLLIN };
		qmap[n++] = -2;
		for (i = 0; i < vm->num_vqs; i++) {
			if (vm->vq[i].call_fd < 0)
				continue;
			pf[n] = (struct pollfd){ .fd = vm->vq[i].call_fd, .events = POLLIN };
			qmap[n++] = (int)i;
		}
		pr = poll(pf, n, wait_ms);
		if (pr < 0 && errno != EINTR)
			return -errno;
		for (i = 0; pr > 0 && i < n; i++) {
			if (pf[i].revents == 0)
				continue;
			if (qmap[i] == -1) {
				(void)vms_backend_serve(vm);
			} else if (qmap[i] == -2) {
				char c;
				ssize_t r = recv(vm->sock, &c, 1, MSG_PEEK | MSG_DONTWAIT);

				if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
					vms_conn_lost(vm);
					return -ECONNRESET;
				}
				if (r > 0) {
					struct vms_msg m;

					/* A message nobody asked for: drop it, count it. */
					vm->c.errors++;
					if (vms_sock_recv(vm->sock, &m, (int)vm->p.timeout_ms,
							NULL, NULL) < 0) {
						vms_conn_lost(vm);
						return -ECONNRESET;
					}
				}
			} else {
				uint64_t v;

				if (read(pf[i].fd, &v, 8) == 8) {
					vm->c.interrupts++;
					irq = true;
				}
			}
		}
		if (irq)
			vms_collect_used(vm);
		if (vms_now_ns() >= deadline) {
			if (poll_mode)
				vms_collect_used(vm);
			if (role >= 0) {
				struct vms_vq *q = role_vq(vm, role);

				if (q != NULL && q->outstanding == 0 && !q->broken)
					return 0;
			} else if (vm->work_pending && vms_now_ns() >= vm->work_not_before_ns) {
				return 0;
			}
			return -ETIMEDOUT;
		}
	}
}

/* tell_host(): one read-only descriptor with the PFN array, kick, wait for the ack. */
static int
tell_host(struct vms_vm *vm, int role, const uint32_t *pfns, unsigned int n)
{
	struct vms_vq *q = role_vq(vm, role);
	uint8_t *buf = vms_page_ptr(vm, vm->pfnbuf_page);
	uint64_t addr = vms_page_gpa(vm, vm->pfnbuf_page);
	uint32_t len = 4 * n;
	bool wr = false;
	unsigned int i;
	int ret;

	if (q == NULL || q->quarantined)
		return -ENOENT;
	if (q->broken)
		return -EIO;
	for (i = 0; i < n; i++)
		vms_le32_put(buf + 4 * i, pfns[i]);
	ret = vms_ring_add(&q->ring, &addr, &len, &wr, 1);
	if (ret < 0)
		return ret;
	q->outstanding++;
	ret = vms_kick(vm, role);
	if (ret < 0)
		return ret;
	return vms_wait(vm, role, (int)vm->p.timeout_ms);
}

static int
fill_balloon(struct vms_vm *vm, uint64_t want)
{
	uint64_t pages[VMS_PFNS_PER_REQ];
	uint32_t pfns[VMS_PFNS_PER_REQ];
	unsigned int num = want < VMS_PFNS_PER_REQ ? (unsigned int)want : VMS_PFNS_PER_REQ;
	unsigned int got, i;
	int ret;

	got = vms_alloc_pick(vm, pages, num);
	if (got < num) {
		/* "Out of puff! Can't get N pages": msleep(200) and send what we have. */
		vm->c.out_of_puff++;
		vm->work_not_before_ns = vms_now_ns() + (uint64_t)vm->p.oom_retry_ms * 1000000ULL;
	}
	for (i = 0; i < got; i++) {
		vms_page_to_balloon(vm, pages[i]);
		vm->balloon[vm->nballoon++] = pages[i];
		pfns[i] = (uint32_t)vms_page_pfn(vm, pages[i]);
	}
	vm->num_pages += got;
	if (got == 0)
		return 0;
	vm->c.inflate_reqs++;
	vm->c.pfns_inflated += got;
	ret = tell_host(vm, VMS_VQ_INFLATE, pfns, got);
	if (ret < 0)
		return ret;
	vm->c.inflate_acks++;
	return (int)got;
}

static int
leak_balloon(struct vms_vm *vm, uint64_t want)
{
	uint64_t pages[VMS_PFNS_PER_REQ];
	uint32_t pfns[VMS_PFNS_PER_REQ];
	unsigned int num = want < VMS_PFNS_PER_REQ ? (unsigned int)want : VMS_PFNS_PER_REQ;
	unsigned int i;
	int ret;

	if (num > vm->nballoon)
		num = (unsigned int)vm->nballoon;
	/* balloon_page_dequeue(): most recently inflated first. */
	for (i = 0; i < num; i++) {
		pages[i] = vm->balloon[--vm->nballoon];
		pfns[i] = (uint32_t)vms_page_pfn(vm, pages[i]);
	}
	vm->num_pages -= num;
	if (num == 0)
		return 0;
	vm->c.deflate_reqs++;
	vm->c.pfns_deflated += num;
	/* Linux tells the host before it releases the pages, whatever was negotiated. */
	ret = tell_host(vm, VMS_VQ_DEFLATE, pfns, num);
	if (ret < 0) {
		/* No ack: the pages stay in the balloon as far as the model knows. */
		for (i = num; i-- > 0;)
			vm->balloon[vm->nballoon++] = pages[i];
		vm->num_pages += num;
		return ret;
	}
	vm->c.deflate_acks++;
	for (i = 0; i < num; i++)
		vms_page_from_balloon(vm, pages[i]);
	return (int)num;
}

/* update_balloon_size_func(). */
static int
work_step(struct vms_vm *vm)
{
	uint32_t np;
	int64_t diff;
	int ret;

	ret = vms_cfg_read32(vm, VMS_CFG_NUM_PAGES, &np);
	if (ret < 0)
		return ret;
	if (np != vm->last_num_pages)
		vm->c.target_changes++;
	vm->last_num_pages = np;
	diff = (int64_t)np - (int64_t)vm->num_pages;
	if (diff == 0)
		return 0;
	vm->c.steps++;
	if (diff > 0) {
		ret = fill_balloon(vm, (uint64_t)diff);
		if (ret < 0)
			return ret;
		diff -= ret;
	} else {
		ret = leak_balloon(vm, (uint64_t)-diff);
		if (ret < 0)
			return ret;
		diff += ret;
	}
	ret = vms_cfg_write32(vm, VMS_CFG_ACTUAL, vm->num_pages);
	if (ret < 0)
		return ret;
	if (diff != 0)
		vm->work_pending = true;
	if (vm->p.log)
		fprintf(stderr, "vmsim: step num_pages %u actual %u\n", np, vm->num_pages);
	return 1;
}

int
vms_driver_probe(struct vms_vm *vm)
{
	uint64_t f = vm->feat.accepted;
	unsigned int need = vms_queue_count_for(f), r;
	int ret;

	for (r = 0; r < VMS_VQ_ROLES; r++)
		vm->role_idx[r] = -1;
	/* vp_find_vqs(): index >= num_queues fails the probe. */
	if (need > vm->num_vqs)
		return -ENODEV;
	/* The reporting ring must hold PAGE_REPORTING_CAPACITY entries (-ENOSPC). */
	if ((f & VMS_BIT(VMS_F_REPORTING)) && vm->p.vq_size < VMS_REPORT_CAPACITY)
		return -ENODEV;
	for (r = 0; r < VMS_VQ_ROLES; r++) {
		int idx = vms_queue_index_for(f, (enum vms_role)r);
		struct vms_vq *q;
		uint8_t *mem;

		if (idx < 0)
			continue;
		vm->role_idx[r] = idx;
		q = &vm->vq[idx];
		q->role = (int)r;
		q->set_up = true;
		q->outstanding = 0;
		q->last_base = 0;
		mem = vms_page_ptr(vm, vm->ring_page0 + r * vm->ring_pages);
		memset(mem, 0, vm->ring_pages * VMS_PAGE_SIZE);
		vms_ring_init(&q->ring, vm->p.vq_size, mem, 64);
		q->ring.event_idx = (f & VMS_BIT(VMS_F_RING_EVENT_IDX)) != 0;
	}
	/* init_vqs(): prime the stats queue with one buffer and kick. */
	if (f & VMS_BIT(VMS_F_STATS_VQ)) {
		ret = vms_stats_fill(vm);
		if (ret < 0)
			return ret;
	}
	/* PAGE_POISON: tell the device the poison value before DRIVER_OK. */
	if (f & VMS_BIT(VMS_F_PAGE_POISON)) {
		vm->poison_val = vm->p.init_on_free ? 0 : VMS_POISON_VAL;
		ret = vms_cfg_write32(vm, VMS_CFG_POISON_VAL, vm->poison_val);
		if (ret < 0)
			return ret;
	}
	return 0;
}

int
vms_vm_start(struct vms_vm *vm)
{
	uint32_t np;
	int ret;

	if (vm == NULL)
		return -EINVAL;
	if (!vm->connected || !vm->realized)
		return -ENOTCONN;
	if (vm->started)
		return -EALREADY;
	if (vm->probe_failed)
		return -ENODEV;
	if (vm->probed) {
		/* Resume after vms_vm_stop() or a reconnect: vhost_dev_start only. Requests in
		 * flight are served again from the base; the balloon work picks up where it was
		 * (Linux's tell_host would still be waiting for its ack). */
		ret = vms_vhost_start(vm);
		if (ret == 0 && vm->num_pages != vm->last_num_pages)
			vm->work_pending = true;
		return ret;
	}
	/* Feature negotiation happens inside QEMU; the backend sees the result only in
	 * SET_FEATURES at DRIVER_OK. */
	vm->feat.accepted = vms_driver_accept(vm, vm->feat.offered);
	ret = vms_driver_probe(vm);
	if (ret < 0) {
		if (ret == -ENODEV)
			vm->probe_failed = true;
		return ret;
	}
	vm->probed = true;
	ret = vms_vhost_start(vm);
	if (ret < 0)
		return ret;
	/* virtballoon_probe(): if (towards_target(vb)) virtballoon_changed(vdev). */
	ret = vms_cfg_read32(vm, VMS_CFG_NUM_PAGES, &np);
	if (ret < 0)
		return ret;
	vm->last_num_pages = np;
	if ((int64_t)np - (int64_t)vm->num_pages != 0)
		vm->work_pending = true;
	return 0;
}

int
vms_vm_config_changed(struct vms_vm *vm)
{
	if (vm == NULL)
		return -EINVAL;
	if (!vm->started)
		return -EAGAIN;
	vm->work_pending = true;
	if (vms_has_f(vm, VMS_F_FREE_PAGE_HINT))
		vm->fph_pending = true;
	return 0;
}

int
vms_vm_poll(struct vms_vm *vm, int timeout_ms)
{
	uint64_t deadline;
	int steps = 0, ret;

	if (vm == NULL)
		return -EINVAL;
	deadline = vms_now_ns() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000000ULL;
	for (;;) {
		uint64_t now;
		int wait_ms;

		if (!vm->connected)
			return -ECONNRESET;
		ret = vms_wait(vm, -1, 0);
		if (ret < 0 && ret != -ETIMEDOUT)
			return ret;
		if (vm->fph_pending && vm->started) {
			uint32_t cmd;

			/* virtio_balloon_queue_free_page_work() reads the command id. */
			vm->fph_pending = false;
			ret = vms_cfg_read32(vm, VMS_CFG_FREE_PAGE_HINT_CMD_ID, &cmd);
			if (ret < 0)
				return ret;
		}
		now = vms_now_ns();
		if (vm->started && vm->work_pending && now >= vm->work_not_before_ns) {
			vm->work_pending = false;
			ret = work_step(vm);
			if (ret < 0)
				return ret;
			steps += ret;
			/* Back to the caller after each step that did something, so that it sees
			 * every intermediate state (a target change, a settled balloon). */
			if (ret > 0 || timeout_ms <= 0 || vms_now_ns() >= deadline)
				return steps;
			continue;
		}
		if (timeout_ms <= 0 || now >= deadline)
			return steps;
		wait_ms = (int)((deadline - now + 999999) / 1000000);
		ret = vms_wait(vm, -1, wait_ms);
		if (ret < 0 && ret != -ETIMEDOUT)
			return ret;
	}
}

static bool
settled(const struct vms_vm *vm)
{
	return vm->started && !vm->work_pending && vm->num_pages == vm->last_num_pages;
}

/*
 * Poll until the balloon work is done (and, with target != NULL, the last num_pages the
 * driver read is *target: a config change may still be on its way) or the timeout.
 */
static int
poll_until_settled(struct vms_vm *vm, const uint32_t *target, int timeout_ms)
{
	uint64_t deadline;
	int ret;

	if (vm == NULL)
		return -EINVAL;
	deadline = vms_now_ns() + (uint64_t)timeout_ms * 1000000ULL;
	for (;;) {
		uint64_t now = vms_now_ns();
		int slice;

		ret = vms_vm_poll(vm, 0);
		if (ret < 0)
			return ret;
		if (ret == 0 && settled(vm) && (target == NULL || vm->last_num_pages == *target))
			return 0;
		if (now >= deadline)
			return -ETIMEDOUT;
		slice = (int)((deadline - now) / 1000000);
		if (slice > 20)
			slice = 20;
		if (ret == 0) {
			ret = vms_vm_poll(vm, slice > 0 ? slice : 1);
			if (ret < 0)
				return ret;
		}
	}
}

int
vms_vm_settle(struct vms_vm *vm, int timeout_ms)
{
	return poll_until_settled(vm, NULL, timeout_ms);
}

int
vms_vm_wait_target(struct vms_vm *vm, uint32_t target, int timeout_ms)
{
	return poll_until_settled(vm, &target, timeout_ms);
}

int
vms_vm_report(struct vms_vm *vm, unsigned int nblocks)
{
	struct vms_vq *q;
	struct vms_block b[VMS_REPORT_CAPACITY];
	uint64_t addr[VMS_REPORT_CAPACITY];
	uint32_t len[VMS_REPORT_CAPACITY];
	bool wr[VMS_REPORT_CAPACITY];
	unsigned int n, i;
	int ret;

	if (vm == NULL)
		return -EINVAL;
	if (!vm->started)
		return -EAGAIN;
	if (!vms_has_f(vm, VMS_F_REPORTING))
		return -ENOTSUP;
	q = role_vq(vm, VMS_VQ_REPORTING);
	if (q == NULL || q->quarantined)
		return -ENOENT;
	if (q->broken)
		return -EIO;
	if (nblocks > VMS_REPORT_CAPACITY)
		nblocks = VMS_REPORT_CAPACITY;
	n = vms_alloc_report_blocks(vm, b, nblocks);
	if (n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		addr[i] = b[i].gpa;
		len[i] = (uint32_t)b[i].len;
		wr[i] = true;	/* virtqueue_add_inbuf() */
	}
	/* virtqueue_use_indirect(): an indirect table for more than one buffer. */
	if (vms_has_f(vm, VMS_F_RING_INDIRECT_DESC) && n > 1)
		ret = vms_ring_add_indirect(&q->ring, vms_page_ptr(vm, vm->indirect_page),
				vms_page_gpa(vm, vm->indirect_page), addr, len, wr, n);
	else
		ret = vms_ring_add(&q->ring, addr, len, wr, n);
	if (ret < 0)
		goto out_free;
	q->outstanding++;
	vm->c.reports++;
	memcpy(vm->report, b, n * sizeof(b[0]));
	vm->nreport = n;
	ret = vms_kick(vm, VMS_VQ_REPORTING);
	if (ret == 0)
		ret = vms_wait(vm, VMS_VQ_REPORTING, (int)vm->p.timeout_ms);
	if (ret < 0)
		return ret;	/* pages stay REPORTING: the guest never got them back */
	vm->c.report_acks++;
out_free:
	for (i = 0; i < n; i++) {
		uint64_t pg = (uint64_t)vms_pfn_page(vm, b[i].gpa >> VMS_PAGE_SHIFT);
		uint64_t k;

		vm->c.report_bytes += ret < 0 ? 0 : b[i].len;
		for (k = 0; k < (b[i].len >> VMS_PAGE_SHIFT); k++) {
			vm->state[pg + k] = VMS_PAGE_FREE;
			/* page_reporting_drain(): back to the buddy allocator, reusable at once. */
			if (ret >= 0 && vm->p.reuse_reported)
				vms_page_from_balloon(vm, pg + k);
		}
	}
	return ret < 0 ? ret : (int)n;
}

int
vms_vm_oom(struct vms_vm *vm)
{
	int n, ret;

	if (vm == NULL)
		return -EINVAL;
	if (!vm->started)
		return -EAGAIN;
	if (!vms_has_f(vm, VMS_F_DEFLATE_ON_OOM))
		return -ENOTSUP;
	/* virtio_balloon_oom_notify(): leak, then update_balloon_size(). */
	n = leak_balloon(vm, VMS_OOM_NR_PAGES);
	if (n < 0)
		return n;
	vm->c.oom_leaks += (uint64_t)n;
	ret = vms_cfg_write32(vm, VMS_CFG_ACTUAL, vm->num_pages);
	return ret < 0 ? ret : n;
}

int64_t
vms_vm_churn(struct vms_vm *vm, uint64_t npages)
{
	uint64_t pg, freed = 0, got = 0, span;

	if (vm == NULL)
		return -EINVAL;
	span = vm->npages - vm->kernel_pages;
	/* Allocate first (so the pages freed below are not taken straight back), lowest free
	 * pages first: those are the ones reports handed back most recently in this model. */
	for (pg = vm->kernel_pages; pg < vm->npages && got < npages; pg++) {
		if (vm->state[pg] != VMS_PAGE_FREE)
			continue;
		vms_page_from_balloon(vm, pg);
		got++;
	}
	while (freed < npages && span > 0) {
		uint64_t tries;

		for (tries = 0; tries < 64; tries++) {
			pg = vm->kernel_pages + vms_rand(vm) % span;
			if (vm->state[pg] == VMS_PAGE_USED)
				break;
		}
		if (tries == 64)
			break;
		if (vm->p.page_poison || vm->p.init_on_free)
			vms_page_poison(vm, pg);
		vm->state[pg] = VMS_PAGE_FREE;
		freed++;
	}
	return (int64_t)got;
}

int
vms_vm_reboot(struct vms_vm *vm)
{
	unsigned int i;
	int ret;

	if (vm == NULL)
		return -EINVAL;
	if (!vm->started)
		return -EAGAIN;
	/* remove_common(): "There might be pages left in the balloon: free them." */
	while (vm->num_pages > 0 && vm->nballoon > 0) {
		ret = leak_balloon(vm, vm->num_pages);
		if (ret < 0)
			return ret;
	}
	ret = vms_cfg_write32(vm, VMS_CFG_ACTUAL, vm->num_pages);
	if (ret < 0)
		return ret;
	/* virtio_reset_device(): QEMU's set_status(0) stops vhost. */
	ret = vms_vm_stop(vm);
	if (ret < 0)
		return ret;
	/* A reset device starts its queues from 0; the new driver builds new rings. */
	for (i = 0; i < VMS_MAX_VQS; i++) {
		struct vms_vq *q = &vm->vq[i];

		q->role = -1;
		q->set_up = false;
		q->quarantined = false;
		q->broken = false;
		q->outstanding = 0;
		q->last_base = 0;
	}
	for (i = 0; i < VMS_VQ_ROLES; i++)
		vm->role_idx[i] = -1;
	vm->probed = false;
	vm->work_pending = false;
	vm->fph_pending = false;
	vm->work_not_before_ns = 0;
	return vms_vm_start(vm);
}
