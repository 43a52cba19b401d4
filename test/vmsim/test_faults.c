/* SPDX-License-Identifier: BSD-3-Clause */
/* Frontend behaviour with backends that misbehave or lack things (every case returns an
 * error in bounded time, never hangs), QEMU's realize failures, Linux probe failures and
 * feature validation, queues the driver never sets up, and the fault-injection primitives. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "vmsim.h"
#include "refback.h"
#include "tst.h"

#define F_V1	(1ULL << 32)
#define F_PF	(1ULL << 30)
#define F_ALL	(F_V1 | F_PF | 0x27)

static struct vms_trace_entry tr[4096];

struct env {
	char path[108];
	struct refback rb;
	struct vms_vm_params p;
	struct vms_vm *vm;
};

static void
env_up(struct env *e, const char *tag, uint64_t features, uint64_t pf)
{
	tst_sock_path(e->path, sizeof(e->path), tag);
	REQUIRE(rb_start(&e->rb, e->path, features, pf) == 0);
	vms_vm_params_init(&e->p);
	e->p.socket_path = e->path;
	e->p.mem_bytes = 32ULL << 20;
	e->p.timeout_ms = 300;
	e->vm = NULL;
}

static void
env_vm(struct env *e)
{
	e->vm = vms_vm_create(&e->p);
	REQUIRE(e->vm != NULL);
}

static void
env_down(struct env *e)
{
	vms_vm_destroy(e->vm);
	rb_stop(&e->rb);
}

static unsigned int
count(struct vms_vm *vm, uint32_t req, uint32_t idx, bool any_idx)
{
	unsigned int n = vms_vm_trace(vm, tr, 4096), i, c = 0;

	for (i = 0; i < n; i++)
		if (!tr[i].from_backend && tr[i].request == req && (any_idx || tr[i].index == idx))
			c++;
	return c;
}

static void
test_realize_failures(void)
{
	struct env e;

	/* config_size > 0 and no PROTOCOL_F_CONFIG: QEMU's realize error, before SET_PROTOCOL. */
	env_up(&e, "nocfg", F_ALL, 0x28);
	env_vm(&e);
	CHECK_EQ(vms_vm_connect(e.vm), -EPROTO);
	CHECK(!vms_vm_connected(e.vm));
	CHECK_EQ(count(e.vm, VMS_REQ_SET_PROTOCOL_FEATURES, 0, true), 0);
	env_down(&e);

	/* No VERSION_1: virtio-pci refuses a legacy-only device. */
	env_up(&e, "nov1", F_PF | 0x27, 0x228);
	env_vm(&e);
	CHECK_EQ(vms_vm_connect(e.vm), -EPROTO);
	env_down(&e);

	/* Protocol features outside QEMU's mask are dropped from SET_PROTOCOL_FEATURES. */
	env_up(&e, "pfmask", F_ALL, 0x228 | (1ULL << 40));
	env_vm(&e);
	CHECK_EQ(vms_vm_connect(e.vm), 0);
	CHECK_EQ(e.rb.neg_pf, 0x228);
	env_down(&e);

	/* Nobody listening: bounded wait, then an error. */
	env_up(&e, "absent", F_ALL, 0x228);
	rb_stop(&e.rb);
	e.p.connect_timeout_ms = 100;
	env_vm(&e);
	CHECK(vms_vm_connect(e.vm) < 0);
	vms_vm_destroy(e.vm);
}

static void
test_probe(void)
{
	struct env e;

	/* STATS + REPORTING need 4 queues: num_vqs 3 fails the probe; nothing is sent. */
	env_up(&e, "few", F_ALL, 0x228);
	e.p.num_vqs = 3;
	env_vm(&e);
	REQUIRE(vms_vm_connect(e.vm) == 0);
	vms_vm_trace_clear(e.vm);
	CHECK_EQ(vms_vm_start(e.vm), -ENODEV);
	CHECK_EQ(vms_vm_trace(e.vm, tr, 4096), 0);
	env_down(&e);

	/* The reporting ring must hold 32 entries. */
	env_up(&e, "small", F_ALL, 0x228);
	e.p.vq_size = 16;
	env_vm(&e);
	REQUIRE(vms_vm_connect(e.vm) == 0);
	CHECK_EQ(vms_vm_start(e.vm), -ENODEV);
	env_down(&e);

	/* num_vqs 6 with 4 used: queues 4 and 5 get only CALL, ERR, ENABLE, CALL. */
	env_up(&e, "extra", F_ALL, 0x228);
	e.p.num_vqs = 6;
	env_vm(&e);
	REQUIRE(vms_vm_connect(e.vm) == 0);
	REQUIRE(vms_vm_start(e.vm) == 0);
	CHECK_EQ(count(e.vm, VMS_REQ_SET_VRING_CALL, 5, false), 2);
	CHECK_EQ(count(e.vm, VMS_REQ_SET_VRING_ERR, 5, false), 1);
	CHECK_EQ(count(e.vm, VMS_REQ_SET_VRING_ENABLE, 5, false), 1);
	CHECK_EQ(count(e.vm, VMS_REQ_SET_VRING_NUM, 4, false), 0);
	CHECK_EQ(count(e.vm, VMS_REQ_SET_VRING_KICK, 5, false), 0);
	CHECK_EQ(count(e.vm, VMS_REQ_SET_VRING_CALL, 3, false), 3);
	CHECK_EQ(vms_vm_stop(e.vm), 0);
	CHECK_EQ(count(e.vm, VMS_REQ_GET_VRING_BASE, 0, true), 4);
	env_down(&e);
}

static void
test_validate(void)
{
	struct env e;
	struct vms_features f;

	/* The guest poisons, the device lacks PAGE_POISON: Linux clears REPORTING. */
	env_up(&e, "val1", F_ALL, 0x228);
	e.p.page_poison = true;
	env_vm(&e);
	REQUIRE(vms_vm_connect(e.vm) == 0);
	REQUIRE(vms_vm_start(e.vm) == 0);
	vms_vm_features(e.vm, &f);
	CHECK_EQ(f.accepted & 0x3f, 0x07);
	CHECK_EQ(e.rb.neg_features, F_V1 | F_PF | 0x07);
	CHECK_EQ(vms_vm_queue_index(e.vm, VMS_VQ_REPORTING), -1);
	CHECK_EQ(vms_vm_report(e.vm, 4), -ENOTSUP);
	env_down(&e);

	/* The guest poisons and the device has PAGE_POISON: poison_val written before DRIVER_OK
	 * (the SET_CONFIG precedes SET_FEATURES), reporting stays. */
	env_up(&e, "val2", F_ALL | 0x10, 0x228);
	e.p.page_poison = true;
	env_vm(&e);
	REQUIRE(vms_vm_connect(e.vm) == 0);
	vms_vm_trace_clear(e.vm);
	REQUIRE(vms_vm_start(e.vm) == 0);
	{
		unsigned int n = vms_vm_trace(e.vm, tr, 4096);

		CHECK(n > 2 && tr[0].request == VMS_REQ_SET_CONFIG && tr[0].flags == 0x9 &&
				tr[1].request == VMS_REQ_SET_FEATURES);
	}
	CHECK_EQ(e.rb.poison_val, 0xaaaaaaaaU);
	CHECK_EQ(e.rb.neg_features & 0x3f, 0x37);
	CHECK_EQ(vms_vm_queue_index(e.vm, VMS_VQ_REPORTING), 3);
	env_down(&e);

	/* The guest does not poison: PAGE_POISON is declined even if offered. */
	env_up(&e, "val3", F_ALL | 0x10, 0x228);
	env_vm(&e);
	REQUIRE(vms_vm_connect(e.vm) == 0);
	REQUIRE(vms_vm_start(e.vm) == 0);
	CHECK_EQ(e.rb.neg_features & 0x3f, 0x27);
	env_down(&e);

	/* A driver that declines STATS: reporting becomes queue 2. Ring features offered are
	 * accepted as Linux does (EVENT_IDX, INDIRECT_DESC); PACKED is declined. */
	env_up(&e, "val4", F_ALL | (1ULL << 28) | (1ULL << 29) | (1ULL << 34), 0x228);
	e.p.driver_features = VMS_DRIVER_FEATURES_ALL & ~VMS_BIT(VMS_F_STATS_VQ);
	env_vm(&e);
	REQUIRE(vms_vm_connect(e.vm) == 0);
	REQUIRE(vms_vm_start(e.vm) == 0);
	CHECK_EQ(vms_vm_queue_index(e.vm, VMS_VQ_REPORTING), 2);
	CHECK_EQ(e.rb.neg_features, F_V1 | F_PF | (1ULL << 28) | (1ULL << 29) | 0x25);
	env_down(&e);
}

static void
test_bad_backends(void)
{
	struct env e;
	struct vms_counters c;
	int ret;

	/* GET_CONFIG reply of the wrong size: "Received bad msg size". */
	env_up(&e, "cfgsz", F_ALL, 0x228);
	e.rb.bad_get_config_size = true;
	env_vm(&e);
	REQUIRE(vms_vm_connect(e.vm) == 0);
	CHECK_EQ(vms_vm_start(e.vm), -EPROTO);
	env_down(&e);

	/* A backend that never signals the call eventfd: interrupt-mode acks time out... */
	env_up(&e, "nosig", F_ALL, 0x228);
	e.rb.no_signal = true;
	env_vm(&e);
	REQUIRE(vms_vm_connect(e.vm) == 0);
	REQUIRE(vms_vm_start(e.vm) == 0);
	REQUIRE(rb_set_target(&e.rb, 256) == 0);
	ret = vms_vm_wait_target(e.vm, 256, 3000);
	CHECK_EQ(ret, -ETIMEDOUT);
	env_down(&e);
	/* ...while a polling driver sees the used ring and carries on. */
	env_up(&e, "nosigp", F_ALL, 0x228);
	e.rb.no_signal = true;
	e.p.ack_mode = VMS_ACK_POLL;
	env_vm(&e);
	REQUIRE(vms_vm_connect(e.vm) == 0);
	REQUIRE(vms_vm_start(e.vm) == 0);
	REQUIRE(rb_set_target(&e.rb, 512) == 0);
	CHECK_EQ(vms_vm_wait_target(e.vm, 512, 5000), 0);
	CHECK_EQ(e.rb.inflate_pfns, 512);
	env_down(&e);

	/* A wedged backend that stops reading: sends fail with a timeout, they do not block. */
	env_up(&e, "wedge", F_ALL, 0x228);
	env_vm(&e);
	REQUIRE(vms_vm_connect(e.vm) == 0);
	e.rb.stop_reading = true;
	{
		static uint8_t big[4096];
		int k;

		ret = 0;
		for (k = 0; k < 2000 && ret == 0; k++)
			ret = vms_vm_send_raw(e.vm, 0x7777, 1, sizeof(big), big, sizeof(big), NULL, 0,
					NULL, NULL);
		CHECK_EQ(ret, -ETIMEDOUT);
		CHECK(k < 2000);
	}
	e.rb.stop_reading = false;
	env_down(&e);

	/* A backend that keeps the first call fd (QEMU's masked notifier from realize) and
	 * ignores the guest notifier sent at start: the guest never sees an interrupt. */
	env_up(&e, "mask", F_ALL, 0x228);
	e.rb.keep_first_call = true;
	env_vm(&e);
	REQUIRE(vms_vm_connect(e.vm) == 0);
	REQUIRE(vms_vm_start(e.vm) == 0);
	REQUIRE(rb_set_target(&e.rb, 256) == 0);
	CHECK_EQ(vms_vm_wait_target(e.vm, 256, 3000), -ETIMEDOUT);
	vms_vm_counters(e.vm, &c);
	CHECK_EQ(c.interrupts, 0);
	CHECK_EQ(e.rb.inflate_pfns, 256);	/* the device did its part, the guest never knew */
	env_down(&e);

	/* VRING_USED_F_NO_NOTIFY: the driver does not kick; the backend polls anyway. */
	env_up(&e, "nonot", F_ALL, 0x228);
	e.rb.no_notify = true;
	env_vm(&e);
	REQUIRE(vms_vm_connect(e.vm) == 0);
	REQUIRE(vms_vm_start(e.vm) == 0);
	REQUIRE(rb_set_target(&e.rb, 1024) == 0);
	CHECK_EQ(vms_vm_wait_target(e.vm, 1024, 5000), 0);
	vms_vm_counters(e.vm, &c);
	CHECK(c.kicks_suppressed >= 3);
	env_down(&e);

	/* A backend that waits for a CONFIG_CHANGE reply before answering GET_CONFIG: QEMU
	 * reads the reply synchronously and does not serve the backend channel meanwhile, so
	 * this deadlocks (protocol.md#P-qemu-sync). vmsim reproduces it as a timeout instead
	 * of hiding it. */
	env_up(&e, "dead", F_ALL, 0x228);
	e.rb.blocking_config_change = true;
	env_vm(&e);
	REQUIRE(vms_vm_connect(e.vm) == 0);
	CHECK_EQ(vms_vm_start(e.vm), -ETIMEDOUT);
	env_down(&e);

	/* The backend closes the socket in the middle of an inflate: errors, no hang. */
	env_up(&e, "close", F_ALL, 0x228);
	e.rb.close_on_inflate = true;
	env_vm(&e);
	REQUIRE(vms_vm_connect(e.vm) == 0);
	REQUIRE(vms_vm_start(e.vm) == 0);
	REQUIRE(rb_set_target(&e.rb, 256) == 0);
	ret = vms_vm_wait_target(e.vm, 256, 5000);
	CHECK(ret == -ECONNRESET || ret == -EPIPE || ret == -ENOTCONN);
	CHECK(!vms_vm_connected(e.vm));
	CHECK(vms_vm_poll(e.vm, 10) < 0);
	CHECK(vms_vm_stop(e.vm) <= 0);
	CHECK(vms_vm_remap(e.vm, 0) == -ENOTCONN);
	env_down(&e);
}

static void
test_injection(void)
{
	struct env e;
	uint8_t reply[64];
	size_t rlen = sizeof(reply);
	uint64_t feat;
	uint32_t hostile[4];
	struct vms_vq_info qi;
	uint64_t sgpa, slen;
	struct vms_raw_desc d[2];

	/* Disconnect after the 3rd message of the start sequence. */
	env_up(&e, "dca", F_ALL, 0x228);
	env_vm(&e);
	REQUIRE(vms_vm_connect(e.vm) == 0);
	vms_vm_disconnect_after(e.vm, 3);
	CHECK_EQ(vms_vm_start(e.vm), -ECONNRESET);
	CHECK(!vms_vm_connected(e.vm));
	env_down(&e);

	env_up(&e, "raw", F_ALL, 0x228);
	env_vm(&e);
	REQUIRE(vms_vm_connect(e.vm) == 0);
	REQUIRE(vms_vm_start(e.vm) == 0);
	/* A raw GET_FEATURES with its reply. */
	CHECK_EQ(vms_vm_send_raw(e.vm, VMS_REQ_GET_FEATURES, 1, 0, NULL, 0, NULL, 0, reply,
			&rlen), 0);
	CHECK_EQ(rlen, 20);
	memcpy(&feat, reply + 12, 8);
	CHECK_EQ(feat, F_ALL);
	/* Hostile PFN arrays: outside guest memory, inside the rings, odd length. */
	CHECK_EQ(vms_vq_info(e.vm, VMS_VQ_INFLATE, &qi), 0);
	hostile[0] = 0xfffff;
	hostile[1] = (uint32_t)(qi.desc_gpa >> 12);
	hostile[2] = 1U << 31;
	hostile[3] = 7;
	CHECK_EQ(vms_vm_send_pfns(e.vm, VMS_VQ_INFLATE, hostile, 16, true), 0);
	CHECK_EQ(e.rb.bad_pfns, 2);
	CHECK_EQ(vms_vm_send_pfns(e.vm, VMS_VQ_DEFLATE, hostile, 7, true), 0);
	/* A raw two-descriptor chain built by the test; its head is not the driver's, so the
	 * queue is quarantined first. */
	CHECK_EQ(vms_vm_scratch(e.vm, &sgpa, &slen), 0);
	CHECK(slen >= 8192);
	d[0] = (struct vms_raw_desc){ .slot = 10, .addr = sgpa, .len = 8,
		.flags = VMS_DESC_F_NEXT, .next = 11 };
	d[1] = (struct vms_raw_desc){ .slot = 11, .addr = sgpa + 4096, .len = 8 };
	CHECK_EQ(vms_vm_queue_quarantine(e.vm, VMS_VQ_DEFLATE), 0);
	CHECK_EQ(vms_vq_post_raw(e.vm, VMS_VQ_DEFLATE, d, 2, 10, false), 0);
	{
		unsigned int t;

		for (t = 0; t < 200; t++) {
			vms_vm_poll(e.vm, 5);
			if (vms_vq_info(e.vm, VMS_VQ_DEFLATE, &qi) == 0 && qi.used_idx == 2)
				break;
		}
		CHECK_EQ(qi.used_idx, 2);
	}
	/* avail->idx far ahead of what was published. */
	CHECK_EQ(vms_vq_set_avail_idx(e.vm, VMS_VQ_DEFLATE, 1000, true), 0);
	CHECK_EQ(vms_vq_info(e.vm, VMS_VQ_DEFLATE, &qi), 0);
	CHECK_EQ(qi.avail_idx, 1000);
	env_down(&e);
}

static void
test_remap(void)
{
	struct env e;
	struct vms_region_info ri[4];
	unsigned int n;

	env_up(&e, "remap", F_ALL, 0x228);
	env_vm(&e);
	REQUIRE(vms_vm_connect(e.vm) == 0);
	REQUIRE(vms_vm_start(e.vm) == 0);
	CHECK_EQ(vms_vm_remap(e.vm, VMS_REMAP_TOGGLE_SPLIT | VMS_REMAP_NEW_FDS), 0);
	CHECK_EQ(e.rb.nreg, 2);
	n = vms_vm_regions(e.vm, ri, 4);
	CHECK(n == 2 && ri[1].gpa == ri[1].file_offset && ri[0].size == ri[1].gpa);
	REQUIRE(rb_set_target(&e.rb, 2048) == 0);
	CHECK_EQ(vms_vm_wait_target(e.vm, 2048, 5000), 0);
	CHECK_EQ(e.rb.bad_pfns, 0);
	CHECK_EQ(vms_vm_remap(e.vm, VMS_REMAP_REVERSE), 0);
	CHECK_EQ(e.rb.nreg, 2);
	CHECK_EQ(vms_vm_remap(e.vm, VMS_REMAP_TOGGLE_SPLIT), 0);
	CHECK_EQ(e.rb.nreg, 1);
	REQUIRE(rb_set_target(&e.rb, 0) == 0);
	CHECK_EQ(vms_vm_wait_target(e.vm, 0, 5000), 0);
	CHECK_EQ(vms_vm_verify(e.vm, NULL), 0);
	env_down(&e);

	/* A guest with a PCI-hole split: PFNs above 4 GiB, two regions on one file. */
	env_up(&e, "split", F_ALL, 0x228);
	e.p.split_regions = true;
	env_vm(&e);
	REQUIRE(vms_vm_connect(e.vm) == 0);
	REQUIRE(vms_vm_start(e.vm) == 0);
	CHECK_EQ(e.rb.nreg, 2);
	n = vms_vm_regions(e.vm, ri, 4);
	CHECK(n == 2 && ri[1].gpa == (4ULL << 30) && ri[1].file_offset == ri[0].size);
	CHECK_EQ(vms_vm_remap(e.vm, VMS_REMAP_TOGGLE_SPLIT), -EINVAL);
	REQUIRE(rb_set_target(&e.rb, 1024) == 0);
	CHECK_EQ(vms_vm_wait_target(e.vm, 1024, 5000), 0);
	CHECK(e.rb.first_pfn_last_inflate >= (uint32_t)((4ULL << 30) >> 12));
	CHECK_EQ(e.rb.bad_pfns, 0);
	CHECK_EQ(vms_vm_verify(e.vm, NULL), 0);
	env_down(&e);
}

static void
test_ring_features(void)
{
	struct env e;
	struct vms_counters c;
	struct vms_block blk[32];
	int n;

	/* EVENT_IDX with a backend that keeps avail_event current: a kick per request, and
	 * interrupts gated by used_event still arrive. INDIRECT_DESC: a report of several
	 * blocks travels as one descriptor pointing at a table. */
	env_up(&e, "evidx", F_ALL | (1ULL << 28) | (1ULL << 29), 0x228);
	e.p.free_percent = 40;
	env_vm(&e);
	REQUIRE(vms_vm_connect(e.vm) == 0);
	REQUIRE(vms_vm_start(e.vm) == 0);
	REQUIRE(rb_set_target(&e.rb, 1024) == 0);
	CHECK_EQ(vms_vm_wait_target(e.vm, 1024, 5000), 0);
	vms_vm_counters(e.vm, &c);
	CHECK(c.kicks >= 4);
	CHECK_EQ(c.kicks_suppressed, 0);
	CHECK(e.rb.signals >= 4);
	n = vms_vm_report(e.vm, 4);
	CHECK(n > 1);
	CHECK_EQ(e.rb.indirect_chains, 1);
	CHECK_EQ((int)e.rb.report_max_entries, n);
	CHECK_EQ((int)vms_vm_last_report(e.vm, blk, 32), n);
	CHECK_EQ(vms_vm_verify(e.vm, NULL), 0);
	env_down(&e);

	/* EVENT_IDX with a backend that never writes avail_event: Linux kicks once and then
	 * stays quiet; a polling backend still sees every request. */
	env_up(&e, "evq", F_ALL | (1ULL << 29), 0x228);
	e.rb.no_avail_event = true;
	env_vm(&e);
	REQUIRE(vms_vm_connect(e.vm) == 0);
	REQUIRE(vms_vm_start(e.vm) == 0);
	REQUIRE(rb_set_target(&e.rb, 1024) == 0);
	CHECK_EQ(vms_vm_wait_target(e.vm, 1024, 5000), 0);
	vms_vm_counters(e.vm, &c);
	CHECK(c.kicks_suppressed >= 3);
	CHECK_EQ(e.rb.inflate_pfns, 1024);
	env_down(&e);
}

static void
test_reconnect(void)
{
	struct env e;
	unsigned int n, i;
	int base0 = -1, base2 = -1;
	uint64_t neg0;

	/* A clean reconnect: realize again, then resume from the used indexes. */
	env_up(&e, "recon", F_ALL, 0x228);
	env_vm(&e);
	REQUIRE(vms_vm_connect(e.vm) == 0);
	REQUIRE(vms_vm_start(e.vm) == 0);
	REQUIRE(rb_set_target(&e.rb, 512) == 0);
	CHECK_EQ(vms_vm_wait_target(e.vm, 512, 5000), 0);
	neg0 = e.rb.neg_features;
	CHECK(neg0 & (1ULL << 1));	/* STATS_VQ, accepted by the driver */
	vms_vm_disconnect(e.vm);
	CHECK(!vms_vm_connected(e.vm));
	vms_vm_trace_clear(e.vm);
	REQUIRE(vms_vm_connect(e.vm) == 0);
	REQUIRE(vms_vm_start(e.vm) == 0);
	n = vms_vm_trace(e.vm, tr, 4096);
	for (i = 0; i < n; i++) {
		if (tr[i].request != VMS_REQ_SET_VRING_BASE)
			continue;
		if (tr[i].index == 0)
			base0 = (int)tr[i].value;
		if (tr[i].index == 2)
			base2 = (int)tr[i].value;
	}
	CHECK_EQ(base0, 2);	/* two inflate requests were used */
	CHECK_EQ(base2, 0);	/* the held stats buffer is offered again */
	CHECK_EQ(e.rb.neg_features, neg0);	/* the running driver keeps its features */
	CHECK_EQ(count(e.vm, VMS_REQ_GET_CONFIG, 0, true), 0);	/* no re-probe */
	REQUIRE(rb_set_target(&e.rb, 1024) == 0);
	CHECK_EQ(vms_vm_wait_target(e.vm, 1024, 5000), 0);
	CHECK_EQ(e.rb.inflate_pfns, 1024);
	CHECK_EQ(vms_vm_verify(e.vm, NULL), 0);
	env_down(&e);

	/* The backend drops the connection with an inflate in flight; after the reconnect the
	 * request is served again from the base and the balloon reaches the target. */
	env_up(&e, "recon2", F_ALL, 0x228);
	e.rb.close_on_inflate = true;
	env_vm(&e);
	REQUIRE(vms_vm_connect(e.vm) == 0);
	REQUIRE(vms_vm_start(e.vm) == 0);
	REQUIRE(rb_set_target(&e.rb, 512) == 0);
	CHECK(vms_vm_wait_target(e.vm, 512, 5000) < 0);
	e.rb.close_on_inflate = false;
	REQUIRE(vms_vm_connect(e.vm) == 0);
	REQUIRE(vms_vm_start(e.vm) == 0);
	CHECK_EQ(vms_vm_wait_target(e.vm, 512, 5000), 0);
	CHECK_EQ(e.rb.actual, 512);
	CHECK_EQ(e.rb.inflate_pfns, 512);
	CHECK_EQ(vms_vm_verify(e.vm, NULL), 0);
	env_down(&e);
}

static void
test_reboot(void)
{
	struct env e;
	unsigned int n, i, reads = 0;
	int first_enable0 = -1, last_setcfg = -1, bases_nonzero = 0;

	env_up(&e, "reboot", F_ALL, 0x228);
	env_vm(&e);
	REQUIRE(vms_vm_connect(e.vm) == 0);
	REQUIRE(vms_vm_start(e.vm) == 0);
	REQUIRE(rb_set_target(&e.rb, 1024) == 0);
	CHECK_EQ(vms_vm_wait_target(e.vm, 1024, 5000), 0);
	vms_vm_trace_clear(e.vm);
	CHECK_EQ(vms_vm_reboot(e.vm), 0);
	/* Everything deflated and acked before the reset; actual 0 written once. */
	CHECK_EQ(e.rb.deflate_pfns, 1024);
	CHECK_EQ(e.rb.in_balloon, 0);
	n = vms_vm_trace(e.vm, tr, 4096);
	for (i = 0; i < n; i++) {
		if (tr[i].request == VMS_REQ_SET_CONFIG && first_enable0 < 0)
			last_setcfg = (int)i;
		if (tr[i].request == VMS_REQ_SET_VRING_ENABLE && tr[i].value == 0 && first_enable0 < 0)
			first_enable0 = (int)i;
		if (tr[i].request == VMS_REQ_SET_VRING_BASE && tr[i].value != 0)
			bases_nonzero++;
		if (tr[i].request == VMS_REQ_GET_CONFIG && first_enable0 < 0)
			reads++;
	}
	CHECK(last_setcfg >= 0 && first_enable0 > last_setcfg);
	CHECK_EQ(reads, 0);		/* remove_common() does not read num_pages */
	CHECK_EQ(bases_nonzero, 0);	/* fresh rings */
	CHECK_EQ(count(e.vm, VMS_REQ_GET_VRING_BASE, 0, true), 4);
	/* The new driver reads num_pages (still 1024) and inflates again. */
	CHECK_EQ(vms_vm_wait_target(e.vm, 1024, 5000), 0);
	CHECK_EQ(e.rb.inflate_pfns, 2048);
	CHECK_EQ(vms_vm_verify(e.vm, NULL), 0);
	env_down(&e);
}

static void
test_config_sizes_and_puff(void)
{
	struct env e;
	struct vms_counters c;
	struct vms_page_counts pc;
	unsigned int n, i, gets = 0;

	/* config_size 8 (no poison_val): GET/SET_CONFIG carry 8 bytes; the poison_val write
	 * is dropped by QEMU (out of range), so no SET_CONFIG before DRIVER_OK. */
	env_up(&e, "cfg8", F_ALL | 0x10, 0x228);
	e.p.config_size = 8;
	e.p.page_poison = true;
	env_vm(&e);
	REQUIRE(vms_vm_connect(e.vm) == 0);
	vms_vm_trace_clear(e.vm);
	REQUIRE(vms_vm_start(e.vm) == 0);
	n = vms_vm_trace(e.vm, tr, 4096);
	CHECK(n > 0 && tr[0].request == VMS_REQ_SET_FEATURES);
	for (i = 0; i < n; i++)
		if (tr[i].request == VMS_REQ_GET_CONFIG) {
			gets++;
			CHECK_EQ(tr[i].size, 20);
		}
	CHECK_EQ(gets, 1);
	REQUIRE(rb_set_target(&e.rb, 256) == 0);
	CHECK_EQ(vms_vm_wait_target(e.vm, 256, 3000), 0);
	CHECK_EQ(e.rb.actual, 256);
	env_down(&e);

	/* config_size 0: QEMU does not negotiate F_CONFIG and sends no GET_CONFIG; the guest
	 * reads all ones. */
	env_up(&e, "cfg0", F_ALL, 0x228);
	e.p.config_size = 0;
	env_vm(&e);
	REQUIRE(vms_vm_connect(e.vm) == 0);
	CHECK_EQ(e.rb.neg_pf, 0x28);
	env_down(&e);

	/* A target larger than the guest: Linux runs out of puff, retries, never settles, and
	 * the memory it kept is intact. */
	env_up(&e, "puff", F_ALL, 0x228);
	e.p.mem_bytes = 16ULL << 20;
	e.p.oom_retry_ms = 20;
	env_vm(&e);
	REQUIRE(vms_vm_connect(e.vm) == 0);
	REQUIRE(vms_vm_start(e.vm) == 0);
	REQUIRE(rb_set_target(&e.rb, 8192) == 0);
	CHECK_EQ(vms_vm_wait_target(e.vm, 8192, 1500), -ETIMEDOUT);
	vms_vm_counters(e.vm, &c);
	vms_vm_page_counts(e.vm, &pc);
	CHECK(c.out_of_puff >= 2);
	CHECK_EQ(pc.balloon, pc.total - pc.kernel);
	CHECK_EQ(e.rb.actual, pc.balloon);
	CHECK_EQ(vms_vm_verify(e.vm, NULL), 0);
	env_down(&e);
}

int
main(void)
{
	printf("vmsim-faults: backing memfd 4 KiB, 32 MiB guests\n");
	test_realize_failures();
	test_probe();
	test_validate();
	test_bad_backends();
	test_injection();
	test_remap();
	test_config_sizes_and_puff();
	test_ring_features();
	test_reconnect();
	test_reboot();
	return tst_done("vmsim-faults");
}
