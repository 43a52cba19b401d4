/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hostile frontends on the control path (the vhost-user socket): GET/SET_CONFIG
 * out of range, messages of the wrong size or with missing or extra fds,
 * SET_MEM_TABLE with zero-size, overlapping, wrapping or truncated regions, and a
 * disconnect after every message of the start sequence. For each: the process
 * survives, the device refuses (counted) or the connection closes, no fd is left
 * behind, a fresh frontend on the same socket works, and a neighbour VM is served.
 * argv[1]: the group.
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <rte_common.h>

#include "vhb_gate.h"

#include "hostile_common.h"

#define F_REQ	(VMS_MSG_VERSION | VMS_MSG_NEED_REPLY)

static struct hostile_pair g_nb;

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct cfg_payload {
	uint32_t offset, size, flags;
	uint8_t region[256];
} __attribute__((packed));

struct mem_region {
	uint64_t gpa, size, uaddr, mmap_offset;
};

struct mem_payload {
	uint32_t nregions, padding;
	struct mem_region r[9];
};

struct reply {
	uint32_t request, flags, size;
	uint64_t u64;
	uint8_t rest[300];
} __attribute__((packed));

/* Send with NEED_REPLY; returns the ack's u64 (0 ok, non-zero refused), -errno if closed. */
static int64_t
send_req(struct vms_vm *vm, uint32_t req, uint32_t size, const void *pl, size_t pl_len,
	 const int *fds, unsigned int nfds)
{
	struct reply r;
	size_t rlen = sizeof(r);
	int rc;

	memset(&r, 0, sizeof(r));
	rc = vms_vm_send_raw(vm, req, F_REQ, size, pl, pl_len, fds, nfds, &r, &rlen);
	if (rc < 0)
		return rc;
	if (rlen < 12 + 8)
		return -EPROTO;
	/* GET_CONFIG answered in full is a success; otherwise the u64 ack. */
	if (req == VMS_REQ_GET_CONFIG && r.size != 8)
		return 0;
	return (int64_t)r.u64;
}

static int
group_config(void)
{
	struct {
		const char *name;
		uint32_t req, msg_size, offset, size;
	} cases[] = {
		{ "GET_CONFIG size 300", VMS_REQ_GET_CONFIG, 12 + 256, 0, 300 },
		{ "GET_CONFIG offset 12 size 8", VMS_REQ_GET_CONFIG, 12 + 8, 12, 8 },
		{ "GET_CONFIG offset 0xfffffffc size 8", VMS_REQ_GET_CONFIG, 12 + 8, 0xfffffffcu,
		  8 },
		{ "GET_CONFIG offset 16 size 1", VMS_REQ_GET_CONFIG, 12 + 1, 16, 1 },
		{ "GET_CONFIG message of 4 bytes", VMS_REQ_GET_CONFIG, 4, 0, 16 },
		{ "SET_CONFIG size 300", VMS_REQ_SET_CONFIG, 12 + 256, 0, 300 },
		{ "SET_CONFIG size 4, no data", VMS_REQ_SET_CONFIG, 12, 4, 4 },
		{ "SET_CONFIG offset 0xfffffffc size 8", VMS_REQ_SET_CONFIG, 12 + 8, 0xfffffffcu,
		  8 },
		{ "SET_CONFIG offset 14 size 4", VMS_REQ_SET_CONFIG, 12 + 4, 14, 4 },
	};
	struct hostile_pair hp;
	struct cfg_payload pl;
	unsigned int i;
	int64_t rc;

	printf("GET/SET_CONFIG out of range (memfd 4 KiB guest, 16 MiB)\n");
	hostile_pair_up(&hp, "cfg", 0);
	for (i = 0; i < RTE_DIM(cases); i++) {
		uint64_t e0 = hostile_counters(hp.dev).guest_errors;

		memset(&pl, 0, sizeof(pl));
		pl.offset = cases[i].offset;
		pl.size = cases[i].size;
		rc = send_req(hp.vm, cases[i].req, cases[i].msg_size, &pl,
			      RTE_MIN(cases[i].msg_size, (uint32_t)sizeof(pl)), NULL, 0);
		CHECK(rc > 0, "%s: not refused (%" PRId64 ")", cases[i].name, rc);
		CHECK(hostile_counters(hp.dev).guest_errors == e0 + 1, "%s: counted",
		      cases[i].name);
		printf("  %-40s refused, connection kept\n", cases[i].name);
	}
	/* One log line each (10 a second per device are allowed). */
	CHECK(hostile_log_count("cfg:", "bad GET_CONFIG") == 5 &&
	      hostile_log_count("cfg:", "bad SET_CONFIG") == 4, "log lines %u + %u",
	      hostile_log_count("cfg:", "bad GET_CONFIG"),
	      hostile_log_count("cfg:", "bad SET_CONFIG"));
	/* The connection and the device still work, and the config is untouched. */
	func_balloon_to(hp.dev, hp.vm, 512);
	func_balloon_to(hp.dev, hp.vm, 0);
	/* Without NEED_REPLY a refusal closes the connection (rte_vhost): the process lives. */
	pl.offset = 0;
	pl.size = 300;
	CHECK(vms_vm_send_raw(hp.vm, VMS_REQ_GET_CONFIG, VMS_MSG_VERSION, 12 + 256, &pl, 12 + 256,
			      NULL, 0, NULL, NULL) == 0, "send");
	CHECK(hostile_wait_listening(hp.dev, 5000), "connection closed");
	printf("  without NEED_REPLY: connection closed, device listening\n");
	hostile_neighbour_check(&g_nb, "config");
	hostile_pair_down(&hp);
	return 0;
}

/* A fresh frontend on dev's socket still inflates and deflates. */
static void
fresh_frontend_works(struct hostile_pair *hp, const char *when)
{
	struct vms_vm *vm;

	vms_vm_destroy(hp->vm);
	hp->vm = NULL;
	CHECK(hostile_wait_listening(hp->dev, 5000), "%s: listening", when);
	vm = func_vm(&hp->p);
	CHECK(vm != NULL, "%s: fresh vm", when);
	hp->vm = vm;
	func_balloon_to(hp->dev, vm, 256);
	func_balloon_to(hp->dev, vm, 0);
	func_verify(vm, when);
}

static int
group_msg(void)
{
	struct hostile_pair hp;
	struct mem_payload mp;
	struct cfg_payload pl;
	uint64_t u64;
	unsigned int base_fds, fds_before, i;
	uint32_t state[2];
	int efd, rc;
	int64_t r;

	printf("vhost-user messages of wrong size, with missing or extra fds "
	       "(memfd 4 KiB, 16 MiB)\n");
	hostile_pair_up(&hp, "msg", 0);
	vms_vm_destroy(hp.vm);
	hp.vm = NULL;
	CHECK(hostile_wait_listening(hp.dev, 5000), "listening");
	base_fds = hostile_fd_settled(0, 2000);
	hp.vm = func_vm(&hp.p);
	efd = eventfd(0, EFD_CLOEXEC);
	CHECK(efd >= 0, "eventfd");

	/* Config requests with an fd attached: refused or answered, the fd not kept. */
	for (i = 0; i < 2; i++) {
		memset(&pl, 0, sizeof(pl));
		pl.size = 4;
		fds_before = hostile_fd_count();
		r = send_req(hp.vm, i == 0 ? VMS_REQ_GET_CONFIG : VMS_REQ_SET_CONFIG, 12 + 4, &pl,
			     12 + 4, &efd, 1);
		CHECK(r >= 0, "config with fd: connection lost (%" PRId64 ")", r);
		CHECK(hostile_fd_count() == fds_before, "%s with an fd: the backend kept it "
		      "(%u fds, was %u)", i == 0 ? "GET_CONFIG" : "SET_CONFIG", hostile_fd_count(),
		      fds_before);
	}
	printf("  GET/SET_CONFIG with an fd attached: fd closed by the backend\n");

	/*
	 * Inflight requests (never offered): refused, not served. rte_vhost would allocate
	 * and zero num_queues x queue_size of memory the frontend picks (tens of GiB at
	 * the maximum); the sizes here are small on purpose.
	 */
	{
		struct {
			uint64_t mmap_size, mmap_offset;
			uint16_t num_queues, queue_size;
		} inf = { 0, 0, 2, 64 };	/* 24 bytes with its tail padding, as rte_vhost wants */
		struct reply rep;
		size_t rlen = sizeof(rep);
		uint64_t e0 = hostile_counters(hp.dev).guest_errors;

		CHECK(vms_vm_send_raw(hp.vm, VMS_REQ_GET_INFLIGHT_FD, F_REQ, sizeof(inf), &inf,
				      sizeof(inf), NULL, 0, &rep, &rlen) == 0, "inflight sent");
		CHECK(rlen == 12 + 8 && rep.size == 8 && rep.u64 == 1,
		      "GET_INFLIGHT_FD served (reply size %u, u64 %" PRIu64 ")", rep.size, rep.u64);
		CHECK(hostile_counters(hp.dev).guest_errors == e0 + 1, "inflight counted");
		r = send_req(hp.vm, VMS_REQ_SET_INFLIGHT_FD, sizeof(inf), &inf, sizeof(inf), &efd, 1);
		CHECK(r > 0, "SET_INFLIGHT_FD not refused: %" PRId64, r);
		printf("  GET/SET_INFLIGHT_FD (not negotiated) refused, connection kept\n");
	}
	/* Ring sizes 0, not a power of 2, too big: refused (by rte_vhost), connection kept. */
	for (i = 0; i < 3; i++) {
		static const uint32_t sizes[] = { 0, 48, 65536 };

		state[0] = 0;
		state[1] = sizes[i];
		r = send_req(hp.vm, VMS_REQ_SET_VRING_NUM, 8, state, 8, NULL, 0);
		CHECK(r > 0, "ring size %u not refused (%" PRId64 ")", sizes[i], r);
	}
	/* A kick of a queue index the device has no role for: ignored, connection kept. */
	u64 = 7;
	r = send_req(hp.vm, VMS_REQ_SET_VRING_KICK, 8, &u64, 8, &efd, 1);
	CHECK(r >= 0, "kick of queue 7: connection lost (%" PRId64 ")", r);
	printf("  ring sizes 0, 48, 65536 refused; kick of queue 7 ignored; connection kept\n");
	fresh_frontend_works(&hp, "after bad ring sizes");

	/* Messages rte_vhost refuses by closing the connection. */
	{
		struct {
			const char *name;
			uint32_t req, size;
			unsigned int nfds;
		} closers[] = {
			{ "SET_VRING_KICK without fd or NOFD flag", VMS_REQ_SET_VRING_KICK, 8, 0 },
			{ "SET_MEM_TABLE of 2 regions with 1 fd", VMS_REQ_SET_MEM_TABLE,
			  8 + 2 * 32, 1 },
			{ "header size 0x10000", VMS_REQ_GET_FEATURES, 0x10000, 0 },
			{ "unknown request 99", 99, 0, 0 },
		};

		for (i = 0; i < RTE_DIM(closers); i++) {
			memset(&mp, 0, sizeof(mp));
			mp.nregions = 2;
			mp.r[0].size = mp.r[1].size = 2 * MiB;
			mp.r[1].gpa = 2 * MiB;
			rc = vms_vm_send_raw(hp.vm, closers[i].req, VMS_MSG_VERSION,
					     closers[i].size, &mp,
					     RTE_MIN(closers[i].size, (uint32_t)sizeof(mp)),
					     &efd, closers[i].nfds, NULL, NULL);
			CHECK(rc == 0 || rc == -EPIPE || rc == -ECONNRESET, "send: %d", rc);
			CHECK(hostile_wait_listening(hp.dev, 5000), "%s: connection not closed",
			      closers[i].name);
			printf("  %-40s connection closed\n", closers[i].name);
			fresh_frontend_works(&hp, closers[i].name);
		}
	}
	close(efd);
	vms_vm_destroy(hp.vm);
	hp.vm = NULL;
	CHECK(hostile_wait_listening(hp.dev, 5000), "listening");
	CHECK(hostile_fd_settled(base_fds, 5000) == base_fds, "fds back to %u: %u", base_fds,
	      hostile_fd_count());
	printf("  open fds back to baseline (%u)\n", base_fds);
	hostile_neighbour_check(&g_nb, "messages");
	CHECK(vhb_device_destroy(hp.dev) == 0, "destroy");
	return 0;
}

static int
group_memtable(void)
{
	struct hostile_pair hp;
	struct mem_payload mp;
	unsigned int i, base_fds;
	int fds[2], mfd;
	int64_t r;

	printf("SET_MEM_TABLE with bad regions (memfd 4 KiB guest, 16 MiB)\n");
	hostile_pair_up(&hp, "mem", 0);
	mfd = memfd_create("hostile-mem", MFD_CLOEXEC);
	CHECK(mfd >= 0 && ftruncate(mfd, 16 * MiB) == 0, "memfd");
	fds[0] = fds[1] = mfd;
	base_fds = hostile_fd_count();
	for (i = 0; i < 7; i++) {
		static const char *const names[] = { "zero-size region", "overlapping regions",
			"no regions", "9 regions", "region wrapping the address space",
			"truncated payload (1 region, 24 bytes)",
			"region past the end of its file (SIGBUS)" };
		uint32_t size, nfds = 1;
		uint64_t e0 = hostile_counters(hp.dev).guest_errors;

		memset(&mp, 0, sizeof(mp));
		mp.nregions = 1;
		mp.r[0] = (struct mem_region){ 0, 16 * MiB, 0x7f0000000000ULL, 0 };
		mp.r[1] = (struct mem_region){ 8 * MiB, 8 * MiB, 0x7f0001000000ULL, 0 };
		switch (i) {
		case 0:
			mp.r[0].size = 0;
			break;
		case 1:
			mp.nregions = 2;
			nfds = 2;
			break;
		case 2:
			mp.nregions = 0;
			nfds = 0;
			break;
		case 3:
			mp.nregions = 9;
			nfds = 0;
			break;
		case 4:
			mp.r[0].gpa = 0xffffffffff000000ULL;
			break;
		case 6:
			mp.r[0].size = 64 * MiB;	/* the file has 16 */
			break;
		default:
			break;
		}
		size = i == 5 ? 8 + 16 : 8 + mp.nregions * 32;
		if (size > sizeof(mp))
			size = sizeof(mp);
		r = send_req(hp.vm, VMS_REQ_SET_MEM_TABLE, size, &mp, size, fds, nfds);
		CHECK(r > 0, "%s: not refused (%" PRId64 ")", names[i], r);
		CHECK(hostile_counters(hp.dev).guest_errors == e0 + 1, "%s: not counted", names[i]);
		CHECK(hostile_fd_count() == base_fds, "%s: fd kept", names[i]);
		/* The old table is still in force: the device serves this guest on. */
		func_balloon_to(hp.dev, hp.vm, (i & 1) ? 0 : 256);
		printf("  %-40s refused, counted, old table kept\n", names[i]);
	}
	close(mfd);
	CHECK(hostile_log_count("mem:", "SET_MEM_TABLE refused") == 7, "log lines: %u",
	      hostile_log_count("mem:", "SET_MEM_TABLE refused"));
	/*
	 * A table rte_vhost maps but the device cannot use (a region size that is not
	 * whole 4 KiB pages): the device stops, counted, until the next usable table.
	 */
	{
		struct vms_region_info reg;
		uint64_t e0 = hostile_counters(hp.dev).guest_errors;
		int vfd;

		CHECK(vms_vm_regions(hp.vm, &reg, 1) == 1, "region");
		vfd = memfd_create("hostile-mem2", MFD_CLOEXEC);
		CHECK(vfd >= 0 && ftruncate(vfd, 16 * MiB) == 0, "memfd");
		memset(&mp, 0, sizeof(mp));
		mp.nregions = 1;
		mp.r[0] = (struct mem_region){ 0, 16 * MiB - 2048, (uintptr_t)reg.hva, 0 };
		r = send_req(hp.vm, VMS_REQ_SET_MEM_TABLE, 8 + 32, &mp, 8 + 32, &vfd, 1);
		close(vfd);
		CHECK(r == 0, "rte_vhost took the table: %" PRId64, r);
		CHECK(hostile_counters(hp.dev).guest_errors == e0 + 1, "unusable table counted");
		CHECK(hostile_info(hp.dev).state == VHB_DEV_BROKEN, "device stopped");
		CHECK(hostile_log_count("mem:", "unusable memory table") == 1, "one log line");
		CHECK(vms_vm_remap(hp.vm, VMS_REMAP_TOGGLE_SPLIT) == 0, "usable table again");
		func_balloon_to(hp.dev, hp.vm, 512);
		CHECK(hostile_info(hp.dev).state == VHB_DEV_RUNNING, "running again");
		printf("  %-40s device stopped, counted, resumed on the next table\n",
		       "region size not whole pages");
	}
	func_verify(hp.vm, "after bad memory tables");
	hostile_neighbour_check(&g_nb, "memory tables");
	hostile_pair_down(&hp);
	return 0;
}

static int
group_disconnect(void)
{
	struct hostile_pair hp;
	struct vms_vm *vm;
	unsigned int n, nmsgs, base_fds;
	int rc;

	printf("disconnect after every message of the start sequence (memfd 4 KiB, 16 MiB)\n");
	hostile_pair_up(&hp, "disc", 0);
	/* The full sequence, counted from the trace of a normal connect + start. */
	{
		struct vms_trace_entry *t = calloc(4096, sizeof(*t));
		unsigned int k, cnt;

		CHECK(t != NULL, "alloc");
		cnt = vms_vm_trace(hp.vm, t, 4096);
		for (k = 0, nmsgs = 0; k < cnt; k++)
			nmsgs += !t[k].from_backend && !t[k].is_reply;
		free(t);
	}
	vms_vm_destroy(hp.vm);
	hp.vm = NULL;
	CHECK(hostile_wait_listening(hp.dev, 5000), "listening");
	base_fds = hostile_fd_settled(0, 2000);
	for (n = 1; n <= nmsgs; n++) {
		vm = vms_vm_create(&hp.p);
		CHECK(vm != NULL, "create");
		vms_vm_disconnect_after(vm, n);
		rc = vms_vm_connect(vm);
		if (rc == 0)
			rc = vms_vm_start(vm);
		vms_vm_destroy(vm);
		CHECK(hostile_wait_listening(hp.dev, 5000), "after %u messages: not listening", n);
		CHECK(hostile_info(hp.dev).nregions == 0 &&
		      hostile_info(hp.dev).pages_in_balloon == 0,
		      "after %u messages: state kept", n);
		CHECK(hostile_fd_settled(base_fds, 5000) == base_fds,
		      "after %u messages: %u fds, baseline %u", n, hostile_fd_count(), base_fds);
	}
	printf("  %u cut points: device back to listening, fds back to %u each time\n", nmsgs,
	       base_fds);
	hp.vm = func_vm(&hp.p);
	CHECK(hp.vm != NULL, "fresh vm");
	func_balloon_to(hp.dev, hp.vm, 512);
	func_verify(hp.vm, "after the cuts");
	hostile_neighbour_check(&g_nb, "disconnects");
	hostile_pair_down(&hp);
	return 0;
}

/* A raw connection to a device's socket (not a vmsim frontend). */
static int
raw_connect(const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = func_socket(name);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	CHECK(fd >= 0 && strlen(path) < sizeof(sa.sun_path), "socket");
	memcpy(sa.sun_path, path, strlen(path) + 1);
	CHECK(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0, "connect %s", path);
	return fd;
}

/* Send a header + payload on a raw connection; read the reply if one is expected. */
static int64_t
raw_request(int fd, uint32_t req, uint32_t flags, uint32_t size, const void *pl)
{
	uint32_t hdr[3] = { req, flags, size };
	struct reply r;
	ssize_t n;

	if (write(fd, hdr, sizeof(hdr)) != (ssize_t)sizeof(hdr) ||
	    (size > 0 && write(fd, pl, size) != (ssize_t)size))
		return -EPIPE;
	if ((flags & VMS_MSG_NEED_REPLY) == 0 && req != VMS_REQ_GET_FEATURES)
		return 0;
	n = read(fd, &r, 12 + 8);
	if (n == 0)
		return -ECONNRESET;
	if (n != 12 + 8)
		return -EPROTO;
	return (int64_t)r.u64;
}

/* GET_CONFIG of offset 0, 8 bytes (num_pages, actual) from the frontend, NEED_REPLY. */
static int
get_config_8(struct vms_vm *vm, struct reply *r)
{
	struct cfg_payload pl;
	size_t rlen = sizeof(*r);

	memset(&pl, 0, sizeof(pl));
	pl.size = 8;
	memset(r, 0, sizeof(*r));
	if (vms_vm_send_raw(vm, VMS_REQ_GET_CONFIG, F_REQ, 12 + 8, &pl, 12 + 8, NULL, 0, r,
			    &rlen) != 0)
		return -EPIPE;
	return rlen == 12 + r->size ? 0 : -EPROTO;
}

/* SET_CONFIG of actual (offset 4) with NEED_REPLY: the ack, -errno if closed. */
static int64_t
set_actual(struct vms_vm *vm, uint32_t pages)
{
	struct cfg_payload pl;

	memset(&pl, 0, sizeof(pl));
	pl.offset = 4;
	pl.size = 4;
	pl.region[0] = (uint8_t)pages;
	pl.region[1] = (uint8_t)(pages >> 8);
	pl.region[2] = (uint8_t)(pages >> 16);
	pl.region[3] = (uint8_t)(pages >> 24);
	return send_req(vm, VMS_REQ_SET_CONFIG, 12 + 4, &pl, 12 + 4, NULL, 0);
}

/*
 * GET_CONFIG and SET_CONFIG the gate handles itself (docs/design.md#the-gate): the
 * settled frontend, alone on the socket, gets what rte_vhost's pre hook would answer,
 * byte for byte, and its SET_CONFIG is applied and acked. A connection that claims the
 * device meanwhile (SET_OWNER) takes it over: the old frontend's GET_CONFIG and
 * SET_CONFIG are then refused as the pre hook refuses them, never handled by the gate,
 * while the claimer is connected and after it left.
 */
static int
group_config_gate(void)
{
	struct hostile_pair hp;
	struct reply r;
	uint32_t v[2];
	uint64_t a0;
	int64_t x;
	int fd;

	printf("GET_CONFIG answered by the gate; a takeover (memfd 4 KiB guest, 16 MiB)\n");
	hostile_pair_up(&hp, "cfggate", 0);
	a0 = vhb_gate_config_answered();
	func_balloon_to(hp.dev, hp.vm, 512);
	CHECK(vhb_gate_config_answered() > a0, "no step's GET_CONFIG answered by the gate");
	printf("  %" PRIu64 " GET_CONFIGs of the balloon steps answered by the gate\n",
	       vhb_gate_config_answered() - a0);
	a0 = vhb_gate_config_answered();
	CHECK(get_config_8(hp.vm, &r) == 0, "GET_CONFIG");
	memcpy(v, r.rest + 4, sizeof(v));
	CHECK(r.request == VMS_REQ_GET_CONFIG && r.flags == (VMS_MSG_VERSION | VMS_MSG_REPLY) &&
	      r.size == 12 + 8 && v[0] == 512 && v[1] == 512, "GET_CONFIG reply: request %u "
	      "flags %#x size %u num_pages %u actual %u", r.request, r.flags, r.size, v[0],
	      v[1]);
	CHECK(vhb_gate_config_answered() == a0 + 1, "not answered by the gate");
	printf("  GET_CONFIG (num_pages, actual) = (%u, %u), answered by the gate\n", v[0], v[1]);
	a0 = vhb_gate_config_answered();
	x = set_actual(hp.vm, 500);
	CHECK(x == 0 && hostile_info(hp.dev).actual == 500, "SET_CONFIG actual 500: ack %" PRId64
	      ", actual %u", x, hostile_info(hp.dev).actual);
	x = set_actual(hp.vm, 512);
	CHECK(x == 0 && hostile_info(hp.dev).actual == 512, "SET_CONFIG actual 512: ack %" PRId64
	      ", actual %u", x, hostile_info(hp.dev).actual);
	CHECK(vhb_gate_config_answered() == a0 + 2, "SET_CONFIG not applied by the gate");
	printf("  SET_CONFIG actual 500, then 512: applied and acked by the gate\n");

	/* Another connection claims the device. */
	fd = raw_connect("cfggate");
	x = raw_request(fd, VMS_REQ_SET_OWNER, F_REQ, 0, NULL);
	CHECK(x == 0, "SET_OWNER acked %" PRId64, x);
	a0 = vhb_gate_config_answered();
	CHECK(get_config_8(hp.vm, &r) == 0 && r.size == 8 && r.u64 != 0,
	      "old frontend's GET_CONFIG after a takeover: size %u ack %" PRIu64, r.size, r.u64);
	printf("  after another connection's SET_OWNER: the old frontend's GET_CONFIG refused\n");
	close(fd);
	CHECK(hostile_wait_listening(hp.dev, 5000), "listening after the claimer left");
	CHECK(get_config_8(hp.vm, &r) == 0 && r.size == 8 && r.u64 != 0,
	      "old frontend's GET_CONFIG after the claimer left: size %u ack %" PRIu64, r.size,
	      r.u64);
	CHECK(vhb_gate_config_answered() == a0, "the gate answered a non-frontend");
	CHECK(hostile_log_count("cfggate:", "not the device's frontend") == 2, "log lines: %u",
	      hostile_log_count("cfggate:", "not the device's frontend"));
	printf("  ... and after the claimer left: refused by the pre hook, not by the gate\n");
	v[1] = hostile_info(hp.dev).actual;
	x = set_actual(hp.vm, 7);
	CHECK(x > 0 && hostile_info(hp.dev).actual == v[1] && vhb_gate_config_answered() == a0,
	      "old frontend's SET_CONFIG: ack %" PRId64 ", actual %u (was %u)", x,
	      hostile_info(hp.dev).actual, v[1]);
	printf("  its SET_CONFIG refused too, actual untouched\n");
	hostile_neighbour_check(&g_nb, "config-gate");
	hostile_pair_down(&hp);
	return 0;
}

/*
 * Messages refused before rte_vhost applies them: fixed-size requests of the wrong
 * size (rte_vhost 22.11 would read past what was sent), memory tables whose fds
 * cannot be mapped shared and writable, memory-slot requests (never offered). Each
 * gets a non-zero ack (never 0) or its connection closed, one log line and a count;
 * the device serves on. Connections that never claimed the device (SET_OWNER) may
 * ask questions but change nothing, and never disturb its frontend.
 */
static int
group_refused(void)
{
	static const struct {
		const char *name;
		uint32_t req, size;
	} sizes[] = {
		{ "SET_VRING_BASE with 0 bytes", VMS_REQ_SET_VRING_BASE, 0 },
		{ "SET_VRING_ADDR with 8 bytes", VMS_REQ_SET_VRING_ADDR, 8 },
		{ "SET_VRING_ENABLE with 2 bytes", VMS_REQ_SET_VRING_ENABLE, 2 },
		{ "SET_VRING_NUM with 16 bytes", VMS_REQ_SET_VRING_NUM, 16 },
		{ "GET_VRING_BASE with 4 bytes", VMS_REQ_GET_VRING_BASE, 4 },
		{ "SET_FEATURES with 4 bytes", VMS_REQ_SET_FEATURES, 4 },
		{ "SET_PROTOCOL_FEATURES with 0 bytes", VMS_REQ_SET_PROTOCOL_FEATURES, 0 },
		{ "SET_VRING_KICK with 1 byte", VMS_REQ_SET_VRING_KICK, 1 },
	};
	static const char *const fd_kinds[] = { "a pipe", "an eventfd", "/dev/null",
		"a read-only memfd", "a write-sealed memfd" };
	struct vms_region_info reg;
	struct hostile_pair hp;
	struct mem_payload mp;
	uint8_t zero[64];
	unsigned int i, base_fds, nlog;
	uint64_t e0;
	int64_t r;
	int fd, pfd[2], ev;
	char path[64];

	printf("messages refused before rte_vhost applies them (memfd 4 KiB guest, 16 MiB)\n");
	hostile_pair_up(&hp, "refuse", 0);
	memset(zero, 0, sizeof(zero));
	base_fds = hostile_fd_count();
	for (i = 0; i < RTE_DIM(sizes); i++) {
		e0 = hostile_counters(hp.dev).guest_errors;
		r = send_req(hp.vm, sizes[i].req, sizes[i].size, zero, sizes[i].size, NULL, 0);
		CHECK(r > 0, "%s: acked %" PRId64 " (want a non-zero ack)", sizes[i].name, r);
		CHECK(hostile_counters(hp.dev).guest_errors == e0 + 1, "%s: not counted",
		      sizes[i].name);
		func_balloon_to(hp.dev, hp.vm, (i & 1) ? 0 : 256);
		printf("  %-40s non-zero ack, counted, device serves on\n", sizes[i].name);
	}
	nlog = hostile_log_count("refuse:", "bytes, the request has");
	CHECK(nlog == RTE_DIM(sizes), "log lines: %u", nlog);
	/* Without NEED_REPLY the refusal closes the connection. */
	CHECK(vms_vm_send_raw(hp.vm, VMS_REQ_SET_VRING_BASE, VMS_MSG_VERSION, 0, NULL, 0, NULL, 0,
			      NULL, NULL) == 0, "send");
	CHECK(hostile_wait_listening(hp.dev, 5000), "short SET_VRING_BASE without REPLY_ACK: "
	      "connection not closed");
	printf("  %-40s connection closed\n", "SET_VRING_BASE with 0 bytes, no ack asked");
	fresh_frontend_works(&hp, "after wrong sizes");

	/* Memory tables on fds that cannot be mapped shared and writable. */
	usleep(1100 * 1000);	/* a fresh log window: 10 refusal lines a second per device */
	CHECK(vms_vm_regions(hp.vm, &reg, 1) == 1, "region");
	CHECK(pipe(pfd) == 0, "pipe");
	ev = eventfd(0, EFD_CLOEXEC);
	CHECK(ev >= 0, "eventfd");
	for (i = 0; i < RTE_DIM(fd_kinds); i++) {
		int mfd = -1;

		switch (i) {
		case 0:
			fd = pfd[0];
			break;
		case 1:
			fd = ev;
			break;
		case 2:
			fd = open("/dev/null", O_RDWR | O_CLOEXEC);
			break;
		case 3:
			mfd = memfd_create("hostile-ro", MFD_CLOEXEC);
			CHECK(mfd >= 0 && ftruncate(mfd, 16 * MiB) == 0, "memfd");
			snprintf(path, sizeof(path), "/proc/self/fd/%d", mfd);
			fd = open(path, O_RDONLY | O_CLOEXEC);
			break;
		default:
			fd = memfd_create("hostile-sealed", MFD_CLOEXEC | MFD_ALLOW_SEALING);
			CHECK(fd >= 0 && ftruncate(fd, 16 * MiB) == 0 &&
			      fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE) == 0, "sealed memfd");
			break;
		}
		CHECK(fd >= 0, "%s", fd_kinds[i]);
		memset(&mp, 0, sizeof(mp));
		mp.nregions = 1;
		mp.r[0] = (struct mem_region){ 0, 16 * MiB, (uintptr_t)reg.hva, 0 };
		e0 = hostile_counters(hp.dev).guest_errors;
		r = send_req(hp.vm, VMS_REQ_SET_MEM_TABLE, 8 + 32, &mp, 8 + 32, &fd, 1);
		CHECK(r > 0, "table on %s: acked %" PRId64, fd_kinds[i], r);
		CHECK(hostile_counters(hp.dev).guest_errors == e0 + 1, "%s: not counted",
		      fd_kinds[i]);
		if (fd != pfd[0] && fd != ev)
			close(fd);
		if (mfd >= 0)
			close(mfd);
		/* The old table is still in force. */
		func_balloon_to(hp.dev, hp.vm, (i & 1) ? 0 : 256);
		printf("  table on %-31s non-zero ack, counted, old table kept\n", fd_kinds[i]);
	}
	CHECK(hostile_log_count("refuse:", "SET_MEM_TABLE refused") == RTE_DIM(fd_kinds),
	      "log lines");
	/* ADD_MEM_REG / REM_MEM_REG (CONFIGURE_MEM_SLOTS never offered). */
	for (i = 0; i < 2; i++) {
		struct { uint64_t pad; struct mem_region r; } one = { 0, { 0, 2 * MiB, 0, 0 } };

		e0 = hostile_counters(hp.dev).guest_errors;
		r = send_req(hp.vm, i == 0 ? 37 : 38, sizeof(one), &one, sizeof(one), &ev, 1);
		CHECK(r > 0, "%s: acked %" PRId64, i == 0 ? "ADD_MEM_REG" : "REM_MEM_REG", r);
		CHECK(hostile_counters(hp.dev).guest_errors == e0 + 1, "memory slot: not counted");
	}
	printf("  %-40s non-zero ack, counted\n", "ADD_MEM_REG, REM_MEM_REG");
	close(ev);
	close(pfd[0]);
	close(pfd[1]);
	CHECK(hostile_fd_settled(base_fds, 2000) == base_fds, "fds kept: %u, was %u",
	      hostile_fd_count(), base_fds);

	/*
	 * Connections that are not the frontend: a probe's GET_FEATURES is answered; a
	 * table or a ring message without SET_OWNER is refused; the frontend never notices.
	 */
	e0 = hostile_counters(hp.dev).guest_errors;
	usleep(1100 * 1000);	/* a fresh log window */
	for (i = 0; i < 20; i++) {
		fd = raw_connect("refuse");
		r = raw_request(fd, VMS_REQ_GET_FEATURES, VMS_MSG_VERSION, 0, NULL);
		CHECK(r > 0, "probe %u: GET_FEATURES answered %" PRId64, i, r);
		if (i % 2 == 1) {
			uint32_t state[2] = { 0, 64 };

			r = raw_request(fd, VMS_REQ_SET_VRING_NUM, F_REQ, 8, state);
			CHECK(r > 0, "probe %u: SET_VRING_NUM before SET_OWNER acked %" PRId64, i,
			      r);
		}
		close(fd);
		CHECK(hostile_info(hp.dev).state == VHB_DEV_RUNNING, "probe %u: frontend "
		      "disturbed", i);
	}
	func_balloon_to(hp.dev, hp.vm, 512);
	func_balloon_to(hp.dev, hp.vm, 0);
	func_verify(hp.vm, "after probes");
	CHECK(hostile_counters(hp.dev).guest_errors == e0, "probes counted as guest errors");
	CHECK(hostile_log_count("refuse:", "not the device's frontend") == 10, "log lines: %u",
	      hostile_log_count("refuse:", "not the device's frontend"));
	printf("  20 probes (10 also sent a ring message): answered or refused; the frontend "
	       "kept the device\n");
	hostile_pair_down(&hp);
	return 0;
}

/* Wait until fd's peer closed it (EOF, reset, or a write refused); ms waited, -1 on timeout. */
static int
wait_cut(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint64_t t0 = now_ms();
	char c[64];
	ssize_t n;

	while ((int)(now_ms() - t0) < timeout_ms) {
		if (poll(&p, 1, 100) <= 0)
			continue;
		n = recv(fd, c, sizeof(c), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			return (int)(now_ms() - t0);
	}
	return -1;
}

/* hostile_pair_up() without the VM: the device and the VM's parameters. */
static void
pair_device(struct hostile_pair *hp, const char *name)
{
	int fd;

	snprintf(hp->name, sizeof(hp->name), "%s", name);
	hp->dev = func_device(hp->name, HOSTILE_F, 0);
	snprintf(hp->path, sizeof(hp->path), "%s", func_socket(hp->name));
	func_vm_params(&hp->p, hp->path, HOSTILE_F);
	hp->p.mem_bytes = 16 * MiB;
	hp->p.kernel_bytes = 2 * MiB;
	hp->p.free_percent = 30;
	hp->vm = NULL;
	/*
	 * rte_vhost 22.11 starts watching a new socket only when its thread next wakes
	 * (up to a second later): a probe answered means the socket is served.
	 */
	fd = raw_connect(name);
	CHECK(raw_request(fd, VMS_REQ_GET_FEATURES, VMS_MSG_VERSION, 0, NULL) > 0, "probe %s",
	      name);
	close(fd);
}

/* Claim dev's device over a raw connection (SET_OWNER); returns the fd. */
static int
raw_claim(const char *name, struct vhb_device *dev)
{
	int fd = raw_connect(name), i;

	CHECK(raw_request(fd, VMS_REQ_SET_OWNER, VMS_MSG_VERSION, 0, NULL) == 0, "SET_OWNER");
	for (i = 0; i < 2500 && hostile_info(dev).state == VHB_DEV_LISTENING; i++)
		usleep(2000);
	CHECK(hostile_info(dev).state != VHB_DEV_LISTENING, "%s: not claimed", name);
	return fd;
}

/*
 * A frontend that sends a header and withholds the payload. rte_vhost 22.11 alone
 * would block its one vhost-events thread on it (protocol.md#P-dpdk-one-thread);
 * the gate reads it instead (protocol.md#P-gate): another VM starts and moves its
 * balloon meanwhile, and the withheld message is cut after about a second: one log
 * line, one guest error, the device back to listening.
 */
static int
group_stall(void)
{
	uint32_t hdr[3] = { VMS_REQ_SET_VRING_NUM, VMS_MSG_VERSION, 8 };
	struct hostile_pair late;
	struct vhb_device *dev;
	uint64_t e0, t0;
	int fd, ms;

	printf("a frontend withholds a payload: cut by the gate, every other control path "
	       "served (memfd 4 KiB, 16 MiB)\n");
	dev = func_device("stall", HOSTILE_F, 0);
	fd = raw_claim("stall", dev);
	e0 = hostile_counters(dev).guest_errors;
	/* The other device is served before the stall (pair_device()). */
	pair_device(&late, "late");
	CHECK(write(fd, hdr, sizeof(hdr)) == (ssize_t)sizeof(hdr), "header");
	t0 = now_ms();
	/* During the stall: a new frontend on another socket starts and is served. */
	late.vm = func_vm(&late.p);
	CHECK(late.vm != NULL, "late vm: %s", strerror(errno));
	func_balloon_to(late.dev, late.vm, 512);
	func_balloon_to(late.dev, late.vm, 0);
	func_verify(late.vm, "during the stall");
	printf("  another VM started and moved its balloon %u ms into the stall (%s)\n",
	       (unsigned int)(now_ms() - t0), func_backing_name(late.vm));
	ms = wait_cut(fd, 30000);
	CHECK(ms >= 0, "the stalling connection was not closed");
	printf("  stalling connection closed %u ms after its header\n",
	       (unsigned int)(now_ms() - t0));
	close(fd);
	CHECK(hostile_wait_listening(dev, 5000), "stalled device not back to listening");
	CHECK(hostile_counters(dev).guest_errors == e0 + 1, "stall not counted");
	CHECK(hostile_log_count("stall:", "closed by the gate") == 1, "log lines: %u",
	      hostile_log_count("stall:", "closed by the gate"));
	hostile_neighbour_check(&g_nb, "after the stall");
	hostile_pair_down(&late);
	printf("  cut, counted once, logged once, device back to listening\n");

	/* More fds with one message than rte_vhost takes (8): closed at the gate, none kept. */
	{
		union {
			char buf[CMSG_SPACE(sizeof(int) * 9)];
			struct cmsghdr align;
		} ctl;
		uint32_t msg[5] = { VMS_REQ_SET_VRING_CALL, VMS_MSG_VERSION, 8, 0, 0 };
		struct iovec iov = { .iov_base = msg, .iov_len = sizeof(msg) };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
				     .msg_controllen = sizeof(ctl.buf) };
		struct cmsghdr *c;
		unsigned int base_fds, k;
		int efd[9];

		CHECK(hostile_wait_listening(dev, 5000), "listening");
		base_fds = hostile_fd_settled(0, 2000);
		fd = raw_claim("stall", dev);
		e0 = hostile_counters(dev).guest_errors;
		for (k = 0; k < 9; k++) {
			efd[k] = eventfd(0, EFD_CLOEXEC);
			CHECK(efd[k] >= 0, "eventfd");
		}
		memset(&ctl, 0, sizeof(ctl));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * 9);
		memcpy(CMSG_DATA(c), efd, sizeof(efd));
		CHECK(sendmsg(fd, &mh, MSG_NOSIGNAL) == (ssize_t)sizeof(msg), "sendmsg");
		CHECK(wait_cut(fd, 30000) >= 0, "9 fds: connection not closed");
		close(fd);
		for (k = 0; k < 9; k++)
			close(efd[k]);
		CHECK(hostile_wait_listening(dev, 5000), "9 fds: not back to listening");
		CHECK(hostile_counters(dev).guest_errors == e0 + 1, "9 fds: not counted");
		CHECK(hostile_log_count("stall:", "more than 8 fds") == 1, "9 fds: log lines %u",
		      hostile_log_count("stall:", "more than 8 fds"));
		CHECK(hostile_fd_settled(base_fds, 5000) == base_fds, "9 fds: %u fds, was %u",
		      hostile_fd_count(), base_fds);
		printf("  a message with 9 fds: closed, counted, logged, no fd kept\n");
	}
	CHECK(vhb_device_destroy(dev) == 0, "destroy");
	return 0;
}

#define NSTALL	16

struct staller {
	struct vhb_device *dev;
	char name[16];
	int fd;
	unsigned int mode;	/* 0 header only, 1 half a payload, 2 never reads replies */
	uint64_t e0;
	uint64_t t_stall, t_cut;	/* ms; t_cut 0 while open */
	uint64_t sent;		/* mode 2: requests sent */
};

static struct staller g_st[NSTALL];

/* Keeps the stalls going (mode 2 floods requests it never reads replies of) until cut. */
static void *
stall_thread(void *arg)
{
	uint32_t hdr[3] = { VMS_REQ_GET_FEATURES, VMS_MSG_VERSION, 0 };
	struct pollfd p[NSTALL];
	unsigned int i, open;
	uint64_t t0 = now_ms();
	char c[64];
	ssize_t n;

	RTE_SET_USED(arg);
	for (;;) {
		open = 0;
		for (i = 0; i < NSTALL; i++) {
			p[i].fd = g_st[i].t_cut == 0 ? g_st[i].fd : -1;
			p[i].events = g_st[i].mode == 2 ? POLLOUT : POLLIN;
			p[i].revents = 0;
			open += g_st[i].t_cut == 0;
		}
		if (open == 0 || now_ms() - t0 > 60000)
			return NULL;
		if (poll(p, NSTALL, 100) <= 0)
			continue;
		for (i = 0; i < NSTALL; i++) {
			if (p[i].revents == 0)
				continue;
			if (g_st[i].mode == 2 && (p[i].revents & POLLOUT) != 0) {
				n = send(g_st[i].fd, hdr, sizeof(hdr), MSG_DONTWAIT | MSG_NOSIGNAL);
				if (n == (ssize_t)sizeof(hdr)) {
					g_st[i].sent++;
					continue;
				}
				if (n < 0 && (errno == EAGAIN || errno == EINTR))
					continue;
			} else if ((p[i].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
				n = recv(g_st[i].fd, c, sizeof(c), MSG_DONTWAIT);
				if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR)))
					continue;
			}
			__atomic_store_n(&g_st[i].t_cut, now_ms(), __ATOMIC_RELEASE);
		}
	}
}

/*
 * 16 frontends, one per device, claim their devices and stall mid-message: a header
 * without its payload, half a payload, or requests whose replies they never read.
 * Meanwhile another VM starts, inflates 64 MiB, deflates, reconnects and moves its
 * balloon again. Every stalled connection is cut (about a second each), counted and
 * logged once, and its device is back to listening.
 */
static int
group_stall_many(void)
{
	uint32_t vnum[3] = { VMS_REQ_SET_VRING_NUM, VMS_MSG_VERSION, 8 };
	uint32_t vaddr[3 + 5] = { VMS_REQ_SET_VRING_ADDR, VMS_MSG_VERSION, 40 };
	struct hostile_pair vm;
	uint64_t t0, worst = 0;
	unsigned int i, cut[3] = { 0 };
	pthread_t th;

	printf("%u frontends stall mid-message (header only, half a payload, replies never "
	       "read) while another VM starts, inflates 64 MiB, deflates and reconnects\n",
	       NSTALL);
	/*
	 * All devices first, the other VM's last and served before the stalls
	 * (pair_device()): rte_vhost picks new sockets up at its next wake-up.
	 */
	for (i = 0; i < NSTALL; i++) {
		snprintf(g_st[i].name, sizeof(g_st[i].name), "st%02u", i);
		g_st[i].dev = func_device(g_st[i].name, HOSTILE_F, 0);
	}
	pair_device(&vm, "busy");
	vm.p.mem_bytes = 128 * MiB;
	vm.p.free_percent = 80;
	vm.p.timeout_ms = 30000;
	for (i = 0; i < NSTALL; i++) {
		struct staller *s = &g_st[i];

		s->fd = raw_claim(s->name, s->dev);
		s->mode = i % 3;
		s->e0 = hostile_counters(s->dev).guest_errors;
	}
	for (i = 0; i < NSTALL; i++) {
		struct staller *s = &g_st[i];

		if (s->mode == 0)
			CHECK(write(s->fd, vnum, sizeof(vnum)) == (ssize_t)sizeof(vnum), "header");
		else if (s->mode == 1)
			CHECK(write(s->fd, vaddr, sizeof(vaddr)) == (ssize_t)sizeof(vaddr),
			      "half a payload");
		s->t_stall = now_ms();
	}
	CHECK(pthread_create(&th, NULL, stall_thread, NULL) == 0, "thread");
	t0 = now_ms();

	/* The other VM: the whole control path, with every stall in place when it starts. */
	vm.vm = func_vm(&vm.p);
	CHECK(vm.vm != NULL, "vm: %s", strerror(errno));
	printf("  VM started %u ms after the stalls began (%s)\n", (unsigned int)(now_ms() - t0),
	       func_backing_name(vm.vm));
	func_balloon_to(vm.dev, vm.vm, (uint32_t)(64 * MiB / 4096));
	printf("  inflated 64 MiB by %u ms\n", (unsigned int)(now_ms() - t0));
	func_balloon_to(vm.dev, vm.vm, 0);
	func_verify(vm.vm, "after the deflate");
	vms_vm_destroy(vm.vm);
	CHECK(hostile_wait_listening(vm.dev, 30000), "VM not gone");
	vm.vm = func_vm(&vm.p);
	CHECK(vm.vm != NULL, "reconnect: %s", strerror(errno));
	func_balloon_to(vm.dev, vm.vm, 1024);
	func_balloon_to(vm.dev, vm.vm, 0);
	func_verify(vm.vm, "after the reconnect");
	printf("  deflated, reconnected, moved its balloon again by %u ms\n",
	       (unsigned int)(now_ms() - t0));

	CHECK(pthread_join(th, NULL) == 0, "join");
	for (i = 0; i < NSTALL; i++) {
		struct staller *s = &g_st[i];
		uint64_t t = __atomic_load_n(&s->t_cut, __ATOMIC_ACQUIRE);

		CHECK(t != 0, "%s (mode %u): never cut", s->name, s->mode);
		worst = RTE_MAX(worst, t - s->t_stall);
		cut[s->mode]++;
		close(s->fd);
		CHECK(hostile_wait_listening(s->dev, 10000), "%s: not back to listening",
		      s->name);
		CHECK(hostile_counters(s->dev).guest_errors == s->e0 + 1, "%s: %" PRIu64
		      " guest errors counted, want 1", s->name,
		      hostile_counters(s->dev).guest_errors - s->e0);
		CHECK(hostile_log_count(s->name, "closed by the gate") == 1, "%s: %u log lines",
		      s->name, hostile_log_count(s->name, "closed by the gate"));
		if (s->mode == 2)
			CHECK(s->sent > 0, "%s: nothing sent", s->name);
	}
	printf("  all %u cut (%u header only, %u half a payload, %u unread replies), slowest "
	       "%" PRIu64 " ms after its stall began; counted and logged once each\n", NSTALL,
	       cut[0], cut[1], cut[2], worst);
	/* A stalled device serves its next frontend. */
	{
		struct vms_vm_params p;
		struct vms_vm *v;

		func_vm_params(&p, func_socket(g_st[0].name), HOSTILE_F);
		p.mem_bytes = 16 * MiB;
		p.kernel_bytes = 2 * MiB;
		p.free_percent = 30;
		v = func_vm(&p);
		CHECK(v != NULL, "fresh vm on %s", g_st[0].name);
		func_balloon_to(g_st[0].dev, v, 256);
		func_balloon_to(g_st[0].dev, v, 0);
		vms_vm_destroy(v);
	}
	hostile_neighbour_check(&g_nb, "after the stalls");
	hostile_pair_down(&vm);
	for (i = 0; i < NSTALL; i++) {
		CHECK(hostile_wait_listening(g_st[i].dev, 10000), "%s: listening", g_st[i].name);
		CHECK(vhb_device_destroy(g_st[i].dev) == 0, "destroy %s", g_st[i].name);
	}
	return 0;
}

static const struct hostile_group groups[] = {
	{ "config", group_config },
	{ "config-gate", group_config_gate },
	{ "refused", group_refused },
	{ "msg", group_msg },
	{ "memtable", group_memtable },
	{ "disconnect", group_disconnect },
	{ "stall", group_stall },
	{ "stall-many", group_stall_many },
};

int
main(int argc, char **argv)
{
	return hostile_main(argc, argv, groups, RTE_DIM(groups), &g_nb);
}
