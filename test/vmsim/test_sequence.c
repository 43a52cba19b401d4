/* SPDX-License-Identifier: BSD-3-Clause */
/* The vhost-user message sequence against the two set-ups of protocol.md#P-qemu-setups: (a)
 * (REPLY_ACK, BACKEND_REQ, CONFIG; num_vqs 4, vq_size 128) and (b) (MQ, REPLY_ACK,
 * CONFIG, CONFIGURE_MEM_SLOTS; num_vqs 5, vq_size 64), plus protocol.md#P-qemu-seq-start
 * details: flags, payload
 * values, which queues are set up, message totals, stop and resume. */
#include <string.h>

#include "vmsim.h"
#include "refback.h"
#include "tst.h"

#define F_V1	(1ULL << 32)
#define F_PF	(1ULL << 30)

static struct vms_trace_entry tr[4096];

/* Next entry of a request from *pos on; -1 if none. */
static int
find_from(unsigned int n, unsigned int *pos, uint32_t req)
{
	while (*pos < n) {
		if (!tr[*pos].from_backend && !tr[*pos].is_reply && tr[*pos].request == req)
			return (int)(*pos)++;
		(*pos)++;
	}
	return -1;
}

static unsigned int
count(unsigned int n, uint32_t req)
{
	unsigned int i, c = 0;

	for (i = 0; i < n; i++)
		if (!tr[i].from_backend && !tr[i].is_reply && tr[i].request == req)
			c++;
	return c;
}

/* Expect exactly this request at position *pos (strict order). */
static const struct vms_trace_entry *
expect(unsigned int n, unsigned int *pos, uint32_t req, uint32_t flags, int line)
{
	const struct vms_trace_entry *e;

	if (*pos >= n) {
		fprintf(stderr, "line %d: trace ended, expected %s\n", line, vms_request_name(req));
		tst_failures++;
		return &tr[0];
	}
	e = &tr[(*pos)++];
	if (e->request != req || e->flags != flags || e->from_backend) {
		fprintf(stderr, "line %d: trace[%u] is %s flags 0x%x, expected %s flags 0x%x\n",
				line, *pos - 1, vms_request_name(e->request), e->flags,
				vms_request_name(req), flags);
		tst_failures++;
	}
	return e;
}
#define EXPECT(req, fl) expect(n, &pos, (req), (fl), __LINE__)

static void
poll_vm(void *arg)
{
	vms_vm_poll(arg, 1);
}

static void
test_capture_f(void)
{
	char path[108];
	struct refback rb;
	struct vms_vm_params p;
	struct vms_vm *vm;
	struct vms_features f;
	const struct vms_trace_entry *e;
	unsigned int n, pos = 0, q;
	int ret;

	tst_sock_path(path, sizeof(path), "seqf");
	/* Offered: VERSION_1, MUST_TELL_HOST, STATS_VQ, DEFLATE_ON_OOM, REPORTING; 0x228. */
	REQUIRE(rb_start(&rb, path, F_V1 | F_PF | 0x27, 0x228) == 0);
	vms_vm_params_init(&p);
	p.socket_path = path;
	p.mem_bytes = 64ULL << 20;
	p.num_vqs = 4;
	p.vq_size = 128;
	vm = vms_vm_create(&p);
	REQUIRE(vm != NULL);
	printf("capture F: backing memfd 4 KiB, %llu MiB\n", (unsigned long long)(64));
	REQUIRE(vms_vm_connect(vm) == 0);
	REQUIRE(vms_vm_start(vm) == 0);
	n = vms_vm_trace(vm, tr, 4096);

	/* Start-up. */
	EXPECT(VMS_REQ_GET_FEATURES, 0x1);
	EXPECT(VMS_REQ_GET_PROTOCOL_FEATURES, 0x1);
	e = EXPECT(VMS_REQ_SET_PROTOCOL_FEATURES, 0x1);
	CHECK_EQ(e->value, 0x228);
	e = EXPECT(VMS_REQ_SET_BACKEND_REQ_FD, 0x9);
	CHECK_EQ(e->nfds, 1);
	EXPECT(VMS_REQ_SET_OWNER, 0x1);
	EXPECT(VMS_REQ_GET_FEATURES, 0x1);
	for (q = 0; q < 4; q++) {
		e = EXPECT(VMS_REQ_SET_VRING_CALL, 0x1);
		CHECK_EQ(e->index, q);
		CHECK_EQ(e->nfds, 1);
		e = EXPECT(VMS_REQ_SET_VRING_ERR, 0x1);
		CHECK_EQ(e->index, q);
	}
	/* DRIVER_OK. */
	e = EXPECT(VMS_REQ_SET_FEATURES, 0x1);
	CHECK_EQ(e->value, 0x140000027ULL);
	e = EXPECT(VMS_REQ_SET_MEM_TABLE, 0x9);
	CHECK_EQ(e->value, 1);
	CHECK_EQ(e->nfds, 1);
	for (q = 0; q < 4; q++) {
		e = EXPECT(VMS_REQ_SET_VRING_NUM, 0x1);
		CHECK(e->index == q && e->value == 128);
		e = EXPECT(VMS_REQ_SET_VRING_BASE, 0x1);
		CHECK(e->index == q && e->value == 0);
		e = EXPECT(VMS_REQ_SET_VRING_ADDR, 0x1);
		CHECK_EQ(e->index, q);
		e = EXPECT(VMS_REQ_SET_VRING_KICK, 0x1);
		CHECK(e->index == q && e->nfds == 1);
		e = EXPECT(VMS_REQ_SET_VRING_CALL, 0x1);
		CHECK(e->index == q && e->nfds == 1);
	}
	for (q = 0; q < 4; q++) {
		e = EXPECT(VMS_REQ_SET_VRING_ENABLE, 0x9);
		CHECK(e->index == q && e->value == 1);
	}
	for (q = 0; q < 4; q++) {
		e = EXPECT(VMS_REQ_SET_VRING_CALL, 0x1);
		CHECK_EQ(e->index, q);
	}
	/* The probe's num_pages read: GET_CONFIG offset 0 size 16 (message size 28). */
	e = EXPECT(VMS_REQ_GET_CONFIG, 0x1);
	CHECK_EQ(e->size, 28);
	CHECK_EQ(e->value, 16);
	CHECK_EQ(pos, n);

	vms_vm_features(vm, &f);
	CHECK_EQ(f.accepted, F_V1 | 0x27);
	CHECK_EQ(vms_vm_queue_index(vm, VMS_VQ_INFLATE), 0);
	CHECK_EQ(vms_vm_queue_index(vm, VMS_VQ_DEFLATE), 1);
	CHECK_EQ(vms_vm_queue_index(vm, VMS_VQ_STATS), 2);
	CHECK_EQ(vms_vm_queue_index(vm, VMS_VQ_REPORTING), 3);
	CHECK_EQ(vms_vm_queue_index(vm, VMS_VQ_FREE_PAGE), -1);
	/* The stats buffer was in the ring when the backend enabled the queue (F). */
	CHECK(rb.stats_before_enable);
	/* Kick eventfds arrive already signalled (F). */
	CHECK_EQ(rb.kicks_presignalled, 4);

	/* Two 1 MiB steps: exactly GET_CONFIG, request, ack, SET_CONFIG each. */
	vms_vm_trace_clear(vm);
	REQUIRE(rb_set_target(&rb, 512) == 0);
	ret = vms_vm_wait_target(vm, 512, 5000);
	CHECK_EQ(ret, 0);
	n = vms_vm_trace(vm, tr, 4096);
	pos = 0;
	CHECK(n >= 1 && tr[0].from_backend && tr[0].request == 2 && tr[0].flags == 0x1 &&
			tr[0].size == 0);
	pos = 1;
	for (q = 0; q < 2; q++) {
		EXPECT(VMS_REQ_GET_CONFIG, 0x1);
		e = EXPECT(VMS_REQ_SET_CONFIG, 0x9);
		CHECK_EQ(e->size, 28);
		CHECK_EQ(e->value, 16);
	}
	/* diff reached 0 in the last step: the work is not queued again (no extra read). */
	CHECK_EQ(pos, n);
	CHECK_EQ(rb.actual, 512);
	CHECK_EQ(rb.set_config_num_pages, 512);	/* the cached num_pages echoed */
	CHECK_EQ(rb.inflate_pfns, 512);
	CHECK_EQ(rb.inflate_reqs, 2);
	CHECK_EQ(rb.max_pfns_per_req, 256);
	CHECK(rb.pfns_desc_order > rb.pfns_asc_order);

	/* Backend channel (D.4): CONFIG_CHANGE with NEED_REPLY is answered u64 0 with flags
	 * REPLY|VERSION; an unknown request is answered 1. */
	{
		uint32_t rf = 0;

		CHECK_EQ(rb_backend_msg(&rb, 2, 0x9, poll_vm, vm, &rf), 0);
		CHECK_EQ(rf, 0x5);
		CHECK_EQ(rb_backend_msg(&rb, 77, 0x9, poll_vm, vm, &rf), 1);
		CHECK_EQ(vms_vm_wait_target(vm, 512, 2000), 0);
	}

	/* Shutdown: ENABLE 0 for each queue (0x9), GET_VRING_BASE for each started one. */
	vms_vm_trace_clear(vm);
	CHECK_EQ(vms_vm_stop(vm), 0);
	n = vms_vm_trace(vm, tr, 4096);
	pos = 0;
	for (q = 0; q < 4; q++) {
		e = EXPECT(VMS_REQ_SET_VRING_ENABLE, 0x9);
		CHECK(e->index == q && e->value == 0);
	}
	for (q = 0; q < 4; q++) {
		e = EXPECT(VMS_REQ_GET_VRING_BASE, 0x1);
		CHECK_EQ(e->index, q);
	}
	CHECK_EQ(pos, n);

	/* Resume: the held stats buffer was un-popped (base - 1) and is re-sent. */
	{
		struct vms_vq_info qi;
		uint64_t bufs = rb.stats_bufs;
		unsigned int t;

		CHECK(vms_vq_info(vm, VMS_VQ_STATS, &qi) == 0);
		CHECK_EQ(qi.last_base, 0);
		vms_vm_trace_clear(vm);
		CHECK_EQ(vms_vm_start(vm), 0);
		n = vms_vm_trace(vm, tr, 4096);
		pos = 0;
		EXPECT(VMS_REQ_SET_FEATURES, 0x1);
		CHECK(find_from(n, &pos, VMS_REQ_SET_VRING_BASE) >= 0);
		CHECK_EQ(count(n, VMS_REQ_GET_CONFIG), 0);	/* no re-probe on resume */
		for (t = 0; t < 200 && rb.stats_bufs == bufs; t++)
			vms_vm_poll(vm, 5);
		CHECK_EQ(rb.stats_bufs, bufs + 1);
	}
	vms_vm_destroy(vm);
	rb_stop(&rb);
}

static void
test_capture_e(void)
{
	char path[108];
	struct refback rb;
	struct vms_vm_params p;
	struct vms_vm *vm;
	const struct vms_trace_entry *e;
	unsigned int n, pos = 0, q;

	tst_sock_path(path, sizeof(path), "seqe");
	/* Offered: VERSION_1, STATS_VQ, DEFLATE_ON_OOM, REPORTING; MQ, REPLY_ACK, CONFIG,
	 * CONFIGURE_MEM_SLOTS. */
	REQUIRE(rb_start(&rb, path, F_V1 | F_PF | 0x26, 0x8209) == 0);
	vms_vm_params_init(&p);
	p.socket_path = path;
	p.mem_bytes = 64ULL << 20;
	p.num_vqs = 5;
	vm = vms_vm_create(&p);
	REQUIRE(vm != NULL);
	printf("capture E: backing memfd 4 KiB, 64 MiB\n");
	REQUIRE(vms_vm_connect(vm) == 0);
	REQUIRE(vms_vm_start(vm) == 0);
	n = vms_vm_trace(vm, tr, 4096);
	EXPECT(VMS_REQ_GET_FEATURES, 0x1);
	EXPECT(VMS_REQ_GET_PROTOCOL_FEATURES, 0x1);
	e = EXPECT(VMS_REQ_SET_PROTOCOL_FEATURES, 0x1);
	CHECK_EQ(e->value, 0x8209);
	EXPECT(VMS_REQ_GET_QUEUE_NUM, 0x1);
	EXPECT(VMS_REQ_GET_MAX_MEM_SLOTS, 0x1);
	EXPECT(VMS_REQ_SET_OWNER, 0x1);
	EXPECT(VMS_REQ_GET_FEATURES, 0x1);
	for (q = 0; q < 5; q++) {
		EXPECT(VMS_REQ_SET_VRING_CALL, 0x1);
		EXPECT(VMS_REQ_SET_VRING_ERR, 0x1);
	}
	e = EXPECT(VMS_REQ_SET_FEATURES, 0x1);
	CHECK_EQ(e->value, 0x140000026ULL);
	/* CONFIGURE_MEM_SLOTS: ADD_MEM_REG instead of SET_MEM_TABLE. */
	e = EXPECT(VMS_REQ_ADD_MEM_REG, 0x9);
	CHECK_EQ(e->nfds, 1);
	for (q = 0; q < 4; q++) {
		e = EXPECT(VMS_REQ_SET_VRING_NUM, 0x1);
		CHECK(e->index == q && e->value == 64);
		EXPECT(VMS_REQ_SET_VRING_BASE, 0x1);
		EXPECT(VMS_REQ_SET_VRING_ADDR, 0x1);
		EXPECT(VMS_REQ_SET_VRING_KICK, 0x1);
		EXPECT(VMS_REQ_SET_VRING_CALL, 0x1);
	}
	for (q = 0; q < 5; q++) {
		e = EXPECT(VMS_REQ_SET_VRING_ENABLE, 0x9);
		CHECK(e->index == q && e->value == 1);
	}
	for (q = 0; q < 5; q++)
		EXPECT(VMS_REQ_SET_VRING_CALL, 0x1);
	EXPECT(VMS_REQ_GET_CONFIG, 0x1);
	CHECK_EQ(vms_vm_queue_index(vm, VMS_VQ_REPORTING), 3);
	CHECK_EQ(vms_vm_stop(vm), 0);
	n = vms_vm_trace(vm, tr, 4096);
	/* The totals of the E run. */
	CHECK_EQ(count(n, VMS_REQ_SET_VRING_CALL), 14);
	CHECK_EQ(count(n, VMS_REQ_SET_VRING_ENABLE), 10);
	CHECK_EQ(count(n, VMS_REQ_SET_VRING_ERR), 5);
	CHECK_EQ(count(n, VMS_REQ_SET_VRING_NUM), 4);
	CHECK_EQ(count(n, VMS_REQ_SET_VRING_KICK), 4);
	CHECK_EQ(count(n, VMS_REQ_SET_VRING_BASE), 4);
	CHECK_EQ(count(n, VMS_REQ_SET_VRING_ADDR), 4);
	CHECK_EQ(count(n, VMS_REQ_GET_VRING_BASE), 4);
	CHECK_EQ(count(n, VMS_REQ_GET_FEATURES), 2);
	CHECK_EQ(count(n, VMS_REQ_GET_CONFIG), 1);
	CHECK_EQ(count(n, VMS_REQ_SET_CONFIG), 0);
	vms_vm_destroy(vm);
	rb_stop(&rb);
}

static void
test_status_and_no_reply_ack(void)
{
	char path[108];
	struct refback rb;
	struct vms_vm_params p;
	struct vms_vm *vm;
	unsigned int n, pos = 0, q;

	tst_sock_path(path, sizeof(path), "seqs");
	/* BACKEND_REQ, CONFIG, STATUS; no REPLY_ACK: the GET_FEATURES barrier after ENABLE. */
	REQUIRE(rb_start(&rb, path, F_V1 | F_PF | 0x2, (1 << 5) | (1 << 9) | (1 << 16)) == 0);
	vms_vm_params_init(&p);
	p.socket_path = path;
	p.mem_bytes = 32ULL << 20;
	vm = vms_vm_create(&p);
	REQUIRE(vm != NULL);
	printf("status/no-reply-ack: backing memfd 4 KiB, 32 MiB\n");
	REQUIRE(vms_vm_connect(vm) == 0);
	REQUIRE(vms_vm_start(vm) == 0);
	n = vms_vm_trace(vm, tr, 4096);
	CHECK(find_from(n, &pos, VMS_REQ_SET_BACKEND_REQ_FD) >= 0);
	CHECK_EQ(tr[pos - 1].flags, 0x1);
	CHECK(find_from(n, &pos, VMS_REQ_SET_FEATURES) >= 0);
	/* vhost_user_add_status(FEATURES_OK). */
	EXPECT(VMS_REQ_GET_STATUS, 0x1);
	CHECK(EXPECT(VMS_REQ_SET_STATUS, 0x1)->value == 0x8);
	EXPECT(VMS_REQ_SET_MEM_TABLE, 0x1);
	CHECK(find_from(n, &pos, VMS_REQ_SET_VRING_ENABLE) >= 0);
	EXPECT(VMS_REQ_GET_FEATURES, 0x1);
	for (q = 1; q < 3; q++) {
		EXPECT(VMS_REQ_SET_VRING_ENABLE, 0x1);
		EXPECT(VMS_REQ_GET_FEATURES, 0x1);
	}
	EXPECT(VMS_REQ_GET_STATUS, 0x1);
	CHECK(EXPECT(VMS_REQ_SET_STATUS, 0x1)->value == 0x7);
	CHECK_EQ(vms_vm_stop(vm), 0);
	n = vms_vm_trace(vm, tr, 4096);
	CHECK(tr[n - 1].request == VMS_REQ_SET_STATUS && tr[n - 1].value == 0);
	vms_vm_destroy(vm);
	rb_stop(&rb);
}

int
main(void)
{
	test_capture_f();
	test_capture_e();
	test_status_and_no_reply_ack();
	return tst_done("vmsim-sequence");
}
