/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Functional tests of the balloon device: the real backend (rte_vhost, message
 * hooks, poll loop on lcore 1) against the vmsim frontend (QEMU's generic device +
 * the Linux driver) over a real unix socket. One scenario per run: argv[1].
 */

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_common.h>

#include "func_common.h"

#define ALL_F	VHB_FEATURES_DEFAULT
#define F(b)	(1ULL << (b))

struct raw_reply {
	uint32_t request, flags, size;
	uint8_t payload[280];
} __attribute__((packed));

static struct vhb_device_counters
counters(struct vhb_device *dev)
{
	struct vhb_device_counters c;

	CHECK(vhb_device_get_counters(dev, &c) == 0, "counters");
	return c;
}

static struct vhb_device_info
info_of(struct vhb_device *dev)
{
	struct vhb_device_info i;

	CHECK(vhb_device_get_info(dev, &i) == 0, "info");
	return i;
}

struct counter_wait {
	struct vhb_device *dev;
	size_t off;		/* of a field of struct vhb_device_counters */
	uint64_t want;
};

static bool
counter_reached(void *arg)
{
	struct counter_wait *w = arg;
	struct vhb_device_counters c = counters(w->dev);
	uint64_t v;

	memcpy(&v, (const char *)&c + w->off, sizeof(v));
	return v >= w->want;
}

/*
 * The poll lcore publishes counters (and pages_in_balloon) at the end of its pass,
 * just after the guest may have seen the ack: wait until the counter is in (a
 * generous bound), then look at the rest, which that same publication carries.
 */
#define WAIT_COUNTER(dev, vm, field, value) do { \
	struct counter_wait cw_ = { (dev), offsetof(struct vhb_device_counters, field), (value) }; \
	CHECK(func_poll_until((vm), counter_reached, &cw_, 5000), #field " reaches %" PRIu64, \
	      cw_.want); \
} while (0)

struct balloon_wait {
	struct vhb_device *dev;
	uint64_t pages;
};

static bool
balloon_reached(void *arg)
{
	struct balloon_wait *w = arg;

	return info_of(w->dev).pages_in_balloon == w->pages;
}

/* Inflate to half the guest and back; the host gets the memory back; nothing corrupted. */
static int
scenario_inflate(const char *backing)
{
	struct vms_vm_params p;
	struct vhb_device *dev;
	struct vhb_device_info info;
	struct vhb_device_counters c;
	struct vms_vm *vm;
	int64_t before, after;
	uint64_t expect;
	uint32_t pages;

	dev = func_device("vm0", ALL_F, 0);
	func_vm_params(&p, func_socket("vm0"), ALL_F);
	if (strcmp(backing, "hugetlbfs") == 0) {
		p.backing = VMS_BACKING_HUGETLBFS;
		p.mem_bytes = 128 * MiB;
	}
	vm = func_vm(&p);
	if (vm == NULL) {
		printf("SKIP: %s guest memory unavailable: %s\n", backing, strerror(errno));
		vhb_device_destroy(dev);
		return TEST_SKIP;
	}
	printf("guest memory: %s, %" PRIu64 " MiB\n", func_backing_name(vm), p.mem_bytes / MiB);
	info = info_of(dev);
	CHECK(info.state == VHB_DEV_RUNNING, "state %s", vhb_device_state_name(info.state));
	CHECK(info.guest_mem_bytes == p.mem_bytes, "guest mem %" PRIu64, info.guest_mem_bytes);
	CHECK(info.backing_page_size == vms_vm_backing_page_size(vm), "page size");

	before = vms_vm_allocated_bytes(vm);
	pages = (uint32_t)(p.mem_bytes / 2 / VMS_PAGE_SIZE);
	func_balloon_to(dev, vm, pages);
	after = vms_vm_allocated_bytes(vm);
	expect = func_expected_release(vm);
	info = info_of(dev);
	c = counters(dev);
	printf("  inflated %u pages: file allocation %" PRId64 " -> %" PRId64 " MiB, expected "
	       "release %" PRIu64 " MiB, backend released %" PRIu64 " MiB in %" PRIu64 " calls\n",
	       pages, before / (int64_t)MiB, after / (int64_t)MiB, expect / MiB,
	       c.bytes_release_asked / MiB, c.release_calls);
	CHECK(info.pages_in_balloon == pages, "in balloon %" PRIu64, info.pages_in_balloon);
	CHECK(expect >= p.mem_bytes / 2 - 2 * vms_vm_backing_page_size(vm), "balloon layout");
	CHECK((uint64_t)(before - after) == expect, "host got %" PRId64 " bytes back, want %"
	      PRIu64, before - after, expect);
	CHECK(c.bytes_release_asked == expect, "released counter %" PRIu64, c.bytes_release_asked);
	CHECK(c.inflate_requests >= pages / VMS_PFNS_PER_REQ, "requests %" PRIu64,
	      c.inflate_requests);
	{
		struct vms_counters vc;

		/*
		 * Every request was either seen by polling (the driver was told not to
		 * kick) or kicked awake a sleeping lcore (the auto mode sleeps through a
		 * paced guest's gaps); the driver is told of every ack.
		 */
		vms_vm_counters(vm, &vc);
		CHECK(vc.kicks_suppressed + vc.kicks >= vc.inflate_reqs, "requests %" PRIu64
		      ": %" PRIu64 " kicks, %" PRIu64 " suppressed", vc.inflate_reqs, vc.kicks,
		      vc.kicks_suppressed);
		CHECK(c.guest_notifications >= c.inflate_requests, "notifications %" PRIu64,
		      c.guest_notifications);
		CHECK(vc.interrupts > 0, "driver interrupted");
	}
	func_verify(vm, "after inflate");

	func_balloon_to(dev, vm, 0);
	info = info_of(dev);
	CHECK(info.pages_in_balloon == 0, "deflated: %" PRIu64 " left", info.pages_in_balloon);
	CHECK(counters(dev).pfns_deflated == pages, "deflated pfns");
	func_verify(vm, "after deflate");

	vms_vm_destroy(vm);
	CHECK(vhb_device_destroy(dev) == 0, "destroy");
	return 0;
}

struct stats_wait {
	struct vhb_device *dev;
	uint64_t min_updates;
	uint64_t memfree;
};

static bool
stats_arrived(void *arg)
{
	struct stats_wait *w = arg;
	struct vhb_guest_stats gs;

	vhb_device_get_guest_stats(w->dev, &gs);
	return gs.updates >= w->min_updates && (gs.valid & (1u << 4)) != 0 &&
		gs.val[4] == w->memfree;
}

/* One device with a feature subset: queues compacted as the driver does it. */
static void
feature_case(const char *name, uint64_t offered, uint64_t driver_mask)
{
	struct vms_vm_params p;
	struct vms_features f;
	struct vhb_device *dev;
	struct vms_vm *vm;
	struct vhb_device_info info;
	uint64_t acc;
	int stats_q, rep_q;

	dev = func_device(name, offered, 1);
	func_vm_params(&p, func_socket(name), offered);
	if (driver_mask != 0)
		p.driver_features = driver_mask;
	/* A poisoning Linux guest drops REPORTING unless PAGE_POISON is offered (B.7). */
	if (!(offered & F(VHB_F_PAGE_POISON)))
		p.page_poison = false;
	vm = func_vm(&p);
	CHECK(vm != NULL, "vm");
	vms_vm_features(vm, &f);
	acc = f.accepted;
	CHECK((f.offered & 0xffffff) == offered, "%s: offered %#" PRIx64, name, f.offered);
	CHECK((f.offered & (F(VMS_F_RING_INDIRECT_DESC) | F(VMS_F_RING_EVENT_IDX) |
			    F(VMS_F_RING_PACKED))) == 0, "no ring features offered");
	CHECK((f.offered & F(VMS_F_VERSION_1)) && (f.offered & F(VMS_F_PROTOCOL_FEATURES)),
	      "VERSION_1 and PROTOCOL_FEATURES");
	CHECK((f.protocol_negotiated & (F(VMS_PF_CONFIG) | F(VMS_PF_BACKEND_REQ) |
					F(VMS_PF_REPLY_ACK))) ==
	      (F(VMS_PF_CONFIG) | F(VMS_PF_BACKEND_REQ) | F(VMS_PF_REPLY_ACK)),
	      "protocol features %#" PRIx64, f.protocol_negotiated);
	stats_q = vms_vm_queue_index(vm, VMS_VQ_STATS);
	rep_q = vms_vm_queue_index(vm, VMS_VQ_REPORTING);
	printf("  %-14s offered %#06" PRIx64 " accepted %#06" PRIx64 ": stats q%d, reporting q%d, "
	       "%s\n", name, offered, acc & 0xffffff, stats_q, rep_q, func_backing_name(vm));
	info = info_of(dev);
	CHECK(info.features_negotiated == (acc & 0xffffff), "negotiated %#" PRIx64,
	      info.features_negotiated);

	/* Inflate and deflate 2 MiB through queues 0 and 1. */
	func_balloon_to(dev, vm, 512);
	CHECK(info_of(dev).pages_in_balloon == 512, "inflated");
	func_balloon_to(dev, vm, 0);

	if (acc & F(VHB_F_STATS_VQ)) {
		struct stats_wait w = { dev, 1, 111 * MiB };

		CHECK(vms_vm_set_stat(vm, VMS_STAT_MEMFREE, w.memfree) == 0, "set stat");
		CHECK(func_poll_until(vm, stats_arrived, &w, 5000), "%s: stats on queue %d", name,
		      stats_q);
	}
	if (acc & F(VHB_F_REPORTING)) {
		uint64_t before = counters(dev).report_requests;
		int n = vms_vm_report(vm, 4);

		CHECK(n > 0, "%s: report on queue %d: %d", name, rep_q, n);
		WAIT_COUNTER(dev, vm, report_requests, before + 1);
		CHECK(counters(dev).report_requests == before + 1, "report seen");
	}
	CHECK(counters(dev).guest_errors == 0, "no guest errors");
	if (driver_mask != 0) {
		/*
		 * With a queue left unset rte_vhost never fires new_device, so never
		 * destroy_device either: the first GET_VRING_BASE alone must reset tracking.
		 */
		struct raw_reply rep;
		uint32_t st[2] = { 0, 0 };
		size_t rlen = sizeof(rep);

		func_balloon_to(dev, vm, 512);
		CHECK(vms_vm_send_raw(vm, VMS_REQ_GET_VRING_BASE, VMS_MSG_VERSION, sizeof(st), st,
				      sizeof(st), NULL, 0, &rep, &rlen) == 0, "GET_VRING_BASE");
		CHECK(info_of(dev).pages_in_balloon == 0, "tracking forgotten: %" PRIu64,
		      info_of(dev).pages_in_balloon);
		CHECK(vms_vm_stop(vm) == 0 && vms_vm_start(vm) == 0, "stop/start");
		func_balloon_to(dev, vm, 0);
	}
	func_verify(vm, name);
	vms_vm_destroy(vm);
	CHECK(vhb_device_destroy(dev) == 0, "destroy");
}

static int
scenario_features(void)
{
	printf("feature subsets (memfd 4 KiB guests, 64 MiB)\n");
	feature_case("none", F(VHB_F_MUST_TELL_HOST), 0);
	feature_case("stats", F(VHB_F_STATS_VQ), 0);
	feature_case("reporting", F(VHB_F_REPORTING), 0);
	feature_case("stats-rep", F(VHB_F_STATS_VQ) | F(VHB_F_REPORTING), 0);
	feature_case("all", ALL_F, 0);
	/*
	 * All offered, the driver declines REPORTING: num_vqs=4 but only 3 queues set
	 * up, so rte_vhost's new_device never fires; the device must still serve.
	 */
	feature_case("unset-queue", ALL_F, VMS_DRIVER_FEATURES_ALL & ~F(VMS_F_REPORTING));
	return 0;
}

/* A socket file left by a dead process is replaced; the mode comes from the params. */
static void
socket_file_checks(void)
{
	struct sockaddr_un sa;
	struct vhb_device *dev;
	struct stat st;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", func_socket("stale"));
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0, "stale socket");
	close(fd);
	dev = func_device("stale", ALL_F, 0);
	CHECK(stat(func_socket("stale"), &st) == 0 && S_ISSOCK(st.st_mode), "socket file");
	CHECK((st.st_mode & 0777) == 0600, "socket mode %o", st.st_mode & 0777);
	CHECK(vhb_device_find("stale") == dev && vhb_device_find(func_socket("stale")) == dev,
	      "find by name and path");
	CHECK(vhb_device_create(&(struct vhb_device_params){ .socket_path = func_socket("stale"),
			.socket_gid = -1, .lcore_id = VHB_LCORE_ANY }) == NULL, "duplicate refused");
	CHECK(info_of(dev).state == VHB_DEV_LISTENING, "listening");
	CHECK(vhb_device_destroy(dev) == 0, "destroy");
	CHECK(stat(func_socket("stale"), &st) != 0, "socket removed on destroy");
}

static int
scenario_config(void)
{
	struct vms_vm_params p;
	struct vhb_device *dev;
	struct vms_vm *vm;
	struct vms_counters vc;
	struct vms_config cfg;
	struct raw_reply rep;
	uint8_t pl[12 + 16];
	size_t rlen;
	uint32_t v;
	int rc;

	printf("config space over GET/SET_CONFIG (memfd 4 KiB guest, 64 MiB)\n");
	socket_file_checks();
	dev = func_device("cfg", ALL_F, 0);
	func_vm_params(&p, func_socket("cfg"), ALL_F);
	p.page_poison = true;
	vm = func_vm(&p);
	CHECK(vm != NULL, "vm");
	/* The driver wrote poison_val at probe (PAGE_POISON negotiated). */
	CHECK(info_of(dev).poison_val == VMS_POISON_VAL, "poison_val %#x", info_of(dev).poison_val);

	/* Config change reaches the guest: it re-reads num_pages. */
	vms_vm_counters(vm, &vc);
	CHECK(vhb_device_set_target_pages(dev, 300) == 0, "target");
	CHECK(vms_vm_settle(vm, 10000) == 0, "settle");
	vms_vm_config(vm, &cfg);
	CHECK(cfg.num_pages == 300 && cfg.actual == 300, "guest config %u/%u", cfg.num_pages,
	      cfg.actual);
	{
		struct vms_counters vc2;

		vms_vm_counters(vm, &vc2);
		CHECK(vc2.config_changes > vc.config_changes, "config change message received");
	}
	CHECK(counters(dev).config_changes_sent >= 1, "config change counted");

	/* Raw GET_CONFIG: reply keeps size 12 + 16 and carries LE num_pages/actual. */
	memset(pl, 0, sizeof(pl));
	v = 16;
	memcpy(pl + 4, &v, 4);
	rlen = sizeof(rep);
	rc = vms_vm_send_raw(vm, VMS_REQ_GET_CONFIG, VMS_MSG_VERSION, sizeof(pl), pl, sizeof(pl),
			     NULL, 0, &rep, &rlen);
	CHECK(rc == 0, "GET_CONFIG: %d", rc);
	CHECK(rep.request == VMS_REQ_GET_CONFIG && rep.size == 28 && rlen == 40,
	      "reply size %u (%zu bytes)", rep.size, rlen);
	memcpy(&v, rep.payload + 12, 4);
	CHECK(v == 300, "num_pages %u", v);
	memcpy(&v, rep.payload + 12 + 4, 4);
	CHECK(v == 300, "actual %u", v);
	memcpy(&v, rep.payload + 12 + 12, 4);
	CHECK(v == VMS_POISON_VAL, "poison %#x", v);

	/* Raw SET_CONFIG of the whole 16 bytes: only actual (and poison) are taken. */
	memset(pl, 0, sizeof(pl));
	v = 16;
	memcpy(pl + 4, &v, 4);
	v = 77777;
	memcpy(pl + 12, &v, 4);		/* num_pages: device-owned, ignored */
	v = 1234;
	memcpy(pl + 16, &v, 4);		/* actual */
	v = 0;
	memcpy(pl + 24, &v, 4);		/* poison_val */
	rlen = sizeof(rep);
	rc = vms_vm_send_raw(vm, VMS_REQ_SET_CONFIG, VMS_MSG_VERSION | VMS_MSG_NEED_REPLY,
			     sizeof(pl), pl, sizeof(pl), NULL, 0, &rep, &rlen);
	CHECK(rc == 0 && rlen == 20, "SET_CONFIG ack: %d %zu", rc, rlen);
	memcpy(&v, rep.payload, 4);
	CHECK(v == 0, "ack says success");
	CHECK(info_of(dev).actual == 1234 && info_of(dev).num_pages == 300 &&
	      info_of(dev).poison_val == 0, "config after SET_CONFIG");

	/* Out of range SET_CONFIG with NEED_REPLY: refused (ack 1), nothing changes. */
	v = 8;
	memcpy(pl, &v, 4);
	v = 16;
	memcpy(pl + 4, &v, 4);
	rlen = sizeof(rep);
	rc = vms_vm_send_raw(vm, VMS_REQ_SET_CONFIG, VMS_MSG_VERSION | VMS_MSG_NEED_REPLY,
			     sizeof(pl), pl, sizeof(pl), NULL, 0, &rep, &rlen);
	CHECK(rc == 0 && rlen == 20, "bad SET_CONFIG ack: %d", rc);
	memcpy(&v, rep.payload, 4);
	CHECK(v == 1, "ack says failure");
	CHECK(info_of(dev).actual == 1234, "unchanged");
	CHECK(counters(dev).guest_errors == 1, "counted as a guest error");
	CHECK(counters(dev).get_config >= 2 && counters(dev).set_config >= 3, "config counters");

	/* Guest size form: a 48 MiB guest of 64 MiB is a 16 MiB balloon. */
	CHECK(vhb_device_set_guest_size(dev, 48 * MiB) == 0, "guest size");
	CHECK(info_of(dev).num_pages == 4096, "num_pages %u", info_of(dev).num_pages);
	vms_vm_destroy(vm);
	CHECK(vhb_device_destroy(dev) == 0, "destroy");
	return 0;
}

static int
scenario_stats(void)
{
	struct vms_vm_params p;
	struct vhb_device *dev;
	struct vms_vm *vm;
	struct vhb_guest_stats gs;
	struct stats_wait w;
	uint64_t u;

	printf("guest stats, 1 s interval (memfd 4 KiB guest, 64 MiB)\n");
	dev = func_device("st", ALL_F, 1);
	func_vm_params(&p, func_socket("st"), ALL_F);
	vm = func_vm(&p);
	CHECK(vm != NULL, "vm");
	/* The primed buffer (in the ring before the queue is enabled) arrives by itself. */
	w.dev = dev;
	w.min_updates = 1;
	vms_vm_poll(vm, 50);
	vhb_device_get_guest_stats(dev, &gs);
	CHECK(gs.updates >= 1 && gs.updated_ns != 0, "first stats: %" PRIu64, gs.updates);
	CHECK((gs.valid & 0x3ff) == 0x3ff, "Linux's 10 tags valid: %#x", gs.valid);
	u = gs.updates;
	/* A new value reaches us only through a refresh the device asks for. */
	w.min_updates = u + 1;
	w.memfree = 42 * MiB;
	CHECK(vms_vm_set_stat(vm, VMS_STAT_MEMFREE, w.memfree) == 0, "set stat");
	CHECK(func_poll_until(vm, stats_arrived, &w, 5000), "refreshed stats");
	vhb_device_get_guest_stats(dev, &gs);
	printf("  %" PRIu64 " updates, free-memory %" PRIu64 " MiB\n", gs.updates,
	       gs.val[4] / MiB);
	/* Unknown tags are ignored; known ones in any order still land. */
	{
		static const uint16_t tags[] = { 5, 20, 4, 0xffff, 0 };

		CHECK(vms_vm_set_stat_tags(vm, tags, RTE_DIM(tags)) == 0, "tags");
		w.min_updates = gs.updates + 1;
		w.memfree = 43 * MiB;
		CHECK(vms_vm_set_stat(vm, VMS_STAT_MEMFREE, w.memfree) == 0, "set stat");
		CHECK(func_poll_until(vm, stats_arrived, &w, 5000), "stats with unknown tags");
		vhb_device_get_guest_stats(dev, &gs);
		CHECK(gs.valid == ((1u << 0) | (1u << 4) | (1u << 5)), "valid %#x", gs.valid);
		CHECK(counters(dev).stats_bad_length == 0, "whole entries");
	}
	/* Interval 0: no more requests; the last values stay. */
	CHECK(vhb_device_set_stats_interval(dev, 0) == 0, "interval 0");
	vms_vm_poll(vm, 1200);
	vhb_device_get_guest_stats(dev, &gs);
	u = gs.updates;
	vms_vm_poll(vm, 1200);
	vhb_device_get_guest_stats(dev, &gs);
	CHECK(gs.updates == u && gs.val[4] == 43 * MiB, "stale stats kept");
	CHECK(counters(dev).guest_errors == 0, "no guest errors");
	vms_vm_destroy(vm);
	CHECK(vhb_device_destroy(dev) == 0, "destroy");
	return 0;
}

static int
report_case(bool poison, bool hugetlbfs)
{
	struct vms_vm_params p;
	struct vhb_device *dev;
	struct vms_vm *vm;
	struct vms_block blk[VMS_REPORT_CAPACITY];
	struct vhb_device_counters c;
	int64_t before, after;
	uint64_t sum = 0;
	unsigned int i, nb;
	int n;

	dev = func_device(poison ? "rep-poison" : "rep", ALL_F, 0);
	func_vm_params(&p, func_socket(poison ? "rep-poison" : "rep"), ALL_F);
	p.mem_bytes = 128 * MiB;
	p.free_percent = 50;
	p.page_poison = poison;
	if (hugetlbfs)
		p.backing = VMS_BACKING_HUGETLBFS;
	vm = func_vm(&p);
	if (vm == NULL && hugetlbfs) {
		printf("SKIP: hugetlbfs guest memory unavailable: %s\n", strerror(errno));
		vhb_device_destroy(dev);
		return TEST_SKIP;
	}
	CHECK(vm != NULL, "vm");
	before = vms_vm_allocated_bytes(vm);
	n = vms_vm_report(vm, 8);
	CHECK(n > 0, "report: %d", n);
	after = vms_vm_allocated_bytes(vm);
	nb = vms_vm_last_report(vm, blk, VMS_REPORT_CAPACITY);
	for (i = 0; i < nb; i++)
		sum += blk[i].len;
	c = counters(dev);
	printf("  %s: reported %u blocks, %" PRIu64 " MiB; host allocation %" PRId64 " -> %" PRId64
	       " MiB; skipped for poison %" PRIu64 " (%s)\n", poison ? "poisoning guest" :
	       "plain guest", nb, sum / MiB, before / (int64_t)MiB, after / (int64_t)MiB,
	       c.report_skipped_poison, func_backing_name(vm));
	if (poison) {
		CHECK(after == before, "nothing discarded while poison_val != 0");
		CHECK(c.report_skipped_poison == 1 && c.report_bytes_release_asked == 0, "counted");
	} else {
		CHECK((uint64_t)(before - after) == sum, "host got the reported %" PRIu64 " bytes",
		      sum);
		CHECK(c.report_bytes_release_asked == sum, "report bytes %" PRIu64,
		      c.report_bytes_release_asked);
	}
	func_verify(vm, poison ? "after report (poison)" : "after report");
	vms_vm_destroy(vm);
	CHECK(vhb_device_destroy(dev) == 0, "destroy");
	return 0;
}

static int
scenario_reporting(const char *backing)
{
	if (strcmp(backing, "hugetlbfs") == 0) {
		printf("free page reporting (hugetlbfs 2 MiB guest, 128 MiB)\n");
		return report_case(false, true);
	}
	printf("free page reporting (memfd 4 KiB guests, 128 MiB)\n");
	report_case(false, false);
	return report_case(true, false);
}

struct resident_wait {
	struct vhb_device *dev;
	struct vms_vm *vm;
	int64_t diff;		/* host_resident_bytes - the file's st_blocks * 512, last look */
};

/* host_resident_bytes equals the guest file's allocation (st_blocks * 512) within a host page. */
static bool
resident_matches(void *arg)
{
	struct resident_wait *w = arg;
	struct vhb_device_info in;
	int64_t alloc = vms_vm_allocated_bytes(w->vm);

	CHECK(alloc >= 0 && vhb_device_get_info(w->dev, &in) == 0, "info");
	w->diff = (int64_t)in.host_resident_bytes - alloc;
	return (uint64_t)(w->diff < 0 ? -w->diff : w->diff) <= vms_vm_backing_page_size(w->vm);
}

/*
 * The timer refreshes host_resident_bytes once a second: wait for the figure to catch
 * up with memory the guest faulted in (a generous bound, a broken figure never does).
 */
static void
check_resident(struct vhb_device *dev, struct vms_vm *vm, bool wait, const char *when)
{
	struct resident_wait w = { .dev = dev, .vm = vm };
	bool ok = wait ? func_poll_until(vm, resident_matches, &w, 10000) : resident_matches(&w);

	CHECK(ok, "%s: host_resident_bytes is %" PRId64 " bytes off the file's allocation of %"
	      PRId64, when, w.diff, vms_vm_allocated_bytes(vm));
	printf("  %s: host_resident_bytes = file allocation = %" PRId64 " MiB\n", when,
	       vms_vm_allocated_bytes(vm) / (int64_t)MiB);
}

/*
 * What the host really got back, and what the VM costs it now. Guest RAM is one file
 * split into two regions (QEMU's PCI hole): the file must count once.
 */
static int
scenario_regained(const char *backing)
{
	bool huge = strcmp(backing, "hugetlbfs") == 0;
	struct vhb_device_counters c0, c;
	struct vms_block blk[VMS_REPORT_CAPACITY];
	struct vms_vm_params p;
	struct vhb_device *dev;
	struct vms_vm *vm;
	uint64_t expect, sum = 0, mem = huge ? 128 * MiB : 64 * MiB;
	unsigned int i, nb;
	int n;

	/* 1. A populated guest is ballooned: asked and regained grow by the same amount. */
	dev = func_device("rg", ALL_F, 0);
	func_vm_params(&p, func_socket("rg"), ALL_F);
	p.mem_bytes = mem;
	p.split_regions = true;
	if (huge)
		p.backing = VMS_BACKING_HUGETLBFS;
	vm = func_vm(&p);
	if (vm == NULL) {
		printf("SKIP: %s guest memory unavailable: %s\n", backing, strerror(errno));
		vhb_device_destroy(dev);
		return TEST_SKIP;
	}
	printf("guest memory: %s, %" PRIu64 " MiB in 2 regions of one file\n",
	       func_backing_name(vm), mem / MiB);
	CHECK(info_of(dev).nregions == 2, "two regions");
	check_resident(dev, vm, true, "populated guest");
	c0 = counters(dev);
	func_balloon_to(dev, vm, (uint32_t)(mem / 4 / VMS_PAGE_SIZE));
	expect = func_expected_release(vm);
	WAIT_COUNTER(dev, vm, bytes_release_asked, c0.bytes_release_asked + expect);
	c = counters(dev);
	printf("  populated guest ballooned: asked %" PRIu64 " MiB, regained %" PRIu64 " MiB,"
	       " expected %" PRIu64 " MiB\n", (c.bytes_release_asked - c0.bytes_release_asked) /
	       MiB, (c.bytes_regained - c0.bytes_regained) / MiB, expect / MiB);
	CHECK(expect > 0 && c.bytes_release_asked - c0.bytes_release_asked == expect &&
	      c.bytes_regained - c0.bytes_regained == expect &&
	      c.inflate_bytes_release_asked - c0.inflate_bytes_release_asked == expect &&
	      c.inflate_bytes_regained - c0.inflate_bytes_regained == expect,
	      "populated: asked and regained both grow by %" PRIu64, expect);
	CHECK(info_of(dev).bytes_regained == c.bytes_regained &&
	      info_of(dev).bytes_release_asked == c.bytes_release_asked, "info = counters");
	/* Refreshed by the release itself: no waiting. */
	check_resident(dev, vm, false, "after inflate");
	/* Deflated pages are written again (allocated) with no release: the timer sees it. */
	func_balloon_to(dev, vm, 0);
	check_resident(dev, vm, true, "after deflate");
	func_verify(vm, "populated case");
	vms_vm_destroy(vm);
	CHECK(vhb_device_destroy(dev) == 0, "destroy");

	/*
	 * 2. A guest whose free pages were already reported (holes on the host) is
	 * ballooned: asked grows, regained does not. The top half of the guest is free
	 * (vmsim's most), the balloon takes pages from the top down, and the guest does
	 * not zero pages it hands the balloon (no init_on_alloc, which would fault them
	 * back in first and make them worth releasing again).
	 */
	dev = func_device("rg2", ALL_F, 0);
	func_vm_params(&p, func_socket("rg2"), ALL_F);
	p.mem_bytes = mem;
	p.split_regions = true;
	p.free_percent = 50;
	p.init_on_alloc = false;
	if (huge)
		p.backing = VMS_BACKING_HUGETLBFS;
	vm = func_vm(&p);
	CHECK(vm != NULL, "vm");
	c0 = counters(dev);
	n = vms_vm_report(vm, VMS_REPORT_CAPACITY);
	CHECK(n > 0, "report: %d", n);
	nb = vms_vm_last_report(vm, blk, VMS_REPORT_CAPACITY);
	for (i = 0; i < nb; i++)
		sum += blk[i].len;
	WAIT_COUNTER(dev, vm, report_bytes_release_asked, c0.report_bytes_release_asked + sum);
	c = counters(dev);
	CHECK(sum >= mem / 4 && c.report_bytes_release_asked - c0.report_bytes_release_asked == sum &&
	      c.report_bytes_regained - c0.report_bytes_regained == sum,
	      "first report of %" PRIu64 " MiB: all regained", sum / MiB);
	check_resident(dev, vm, false, "after the report");
	/* The same free blocks reported again: asked again, nothing to regain. */
	c0 = c;
	CHECK(vms_vm_report(vm, VMS_REPORT_CAPACITY) == n, "report again");
	WAIT_COUNTER(dev, vm, report_bytes_release_asked, c0.report_bytes_release_asked + sum);
	c = counters(dev);
	CHECK(c.report_bytes_release_asked - c0.report_bytes_release_asked == sum &&
	      c.report_bytes_regained == c0.report_bytes_regained,
	      "report of holes: asked %" PRIu64 " MiB, regained %" PRIu64 " bytes",
	      (c.report_bytes_release_asked - c0.report_bytes_release_asked) / MiB,
	      c.report_bytes_regained - c0.report_bytes_regained);
	c0 = c;
	func_balloon_to(dev, vm, (uint32_t)(sum / 2 / VMS_PAGE_SIZE));
	expect = func_expected_release(vm);
	WAIT_COUNTER(dev, vm, bytes_release_asked, c0.bytes_release_asked + expect);
	c = counters(dev);
	printf("  reported guest ballooned: asked %" PRIu64 " MiB, regained %" PRIu64 " bytes\n",
	       (c.bytes_release_asked - c0.bytes_release_asked) / MiB,
	       c.bytes_regained - c0.bytes_regained);
	CHECK(expect > 0 && c.inflate_bytes_release_asked - c0.inflate_bytes_release_asked == expect &&
	      c.bytes_release_asked - c0.bytes_release_asked == expect,
	      "reported: asked grows by %" PRIu64, expect);
	CHECK(c.bytes_regained == c0.bytes_regained && c.inflate_bytes_regained ==
	      c0.inflate_bytes_regained, "reported: regained does not grow (%" PRIu64 " bytes)",
	      c.bytes_regained - c0.bytes_regained);
	check_resident(dev, vm, false, "after ballooning holes");
	func_balloon_to(dev, vm, 0);
	func_verify(vm, "reported case");
	vms_vm_destroy(vm);
	CHECK(vhb_device_destroy(dev) == 0, "destroy");
	return 0;
}

static int
scenario_oom(void)
{
	struct vms_vm_params p;
	struct vhb_device *dev;
	struct vms_vm *vm;
	struct vms_config cfg;
	int n;

	printf("deflate on OOM (memfd 4 KiB guest, 64 MiB)\n");
	dev = func_device("oom", ALL_F, 0);
	func_vm_params(&p, func_socket("oom"), ALL_F);
	vm = func_vm(&p);
	CHECK(vm != NULL, "vm");
	func_balloon_to(dev, vm, 2048);
	n = vms_vm_oom(vm);
	CHECK(n == VMS_OOM_NR_PAGES, "oom leaked %d", n);
	vms_vm_poll(vm, 0);
	vms_vm_config(vm, &cfg);
	CHECK(info_of(dev).pages_in_balloon == 2048 - VMS_OOM_NR_PAGES, "in balloon %" PRIu64,
	      info_of(dev).pages_in_balloon);
	CHECK(info_of(dev).actual == 2048 - VMS_OOM_NR_PAGES, "actual %u", info_of(dev).actual);
	func_verify(vm, "after OOM deflate");
	vms_vm_destroy(vm);
	CHECK(vhb_device_destroy(dev) == 0, "destroy");
	return 0;
}

/* Driver stop and start; memory table change while inflating; disconnect and a new frontend. */
static int
scenario_lifecycle(void)
{
	struct vms_vm_params p;
	struct vhb_device *dev;
	struct vms_vm *vm;
	struct stats_wait w;
	int64_t before;
	int i, rc;

	printf("stop/start, memory table change, reconnect (memfd 4 KiB guests, 64 MiB)\n");
	dev = func_device("life", ALL_F, 1);
	func_vm_params(&p, func_socket("life"), ALL_F);
	vm = func_vm(&p);
	CHECK(vm != NULL, "vm");
	func_balloon_to(dev, vm, 1024);

	/* Stop: the guest may reset; the backend forgets its tracking. */
	CHECK(vms_vm_stop(vm) == 0, "stop");
	CHECK(info_of(dev).state == VHB_DEV_CONNECTED, "stopped: %s",
	      vhb_device_state_name(info_of(dev).state));
	CHECK(info_of(dev).pages_in_balloon == 0, "tracking reset on stop");
	CHECK(vms_vm_start(vm) == 0, "start again");
	CHECK(info_of(dev).state == VHB_DEV_RUNNING, "running again");
	/* The stats buffer the device held went back at stop and is read again. */
	w.dev = dev;
	w.min_updates = 1;
	w.memfree = 7 * MiB;
	vms_vm_set_stat(vm, VMS_STAT_MEMFREE, w.memfree);
	CHECK(func_poll_until(vm, stats_arrived, &w, 5000), "stats after restart");
	func_balloon_to(dev, vm, 2048);
	CHECK(info_of(dev).pages_in_balloon == 1024, "tracked since the restart: %" PRIu64,
	      info_of(dev).pages_in_balloon);
	func_verify(vm, "after restart");

	/* Memory table changes (new fds, reordered) in the middle of inflating. */
	before = vms_vm_allocated_bytes(vm);
	CHECK(vhb_device_set_target_pages(dev, 6144) == 0, "target");
	for (i = 0; i < 4; i++) {
		vms_vm_poll(vm, 0);
		rc = vms_vm_remap(vm, i % 2 == 0 ? VMS_REMAP_NEW_FDS : VMS_REMAP_REVERSE |
				  VMS_REMAP_NEW_FDS);
		CHECK(rc == 0, "remap %d: %d", i, rc);
	}
	CHECK(vms_vm_settle(vm, 20000) == 0, "settle after remaps");
	/* The 1024 pages from before the stop were forgotten (safe); the rest is tracked. */
	CHECK(info_of(dev).actual == 6144 && info_of(dev).pages_in_balloon == 6144 - 1024,
	      "balloon %" PRIu64, info_of(dev).pages_in_balloon);
	printf("  after 4 memory table changes: allocation %" PRId64 " -> %" PRId64 " MiB\n",
	       before / (int64_t)MiB, vms_vm_allocated_bytes(vm) / (int64_t)MiB);
	CHECK((uint64_t)(before - vms_vm_allocated_bytes(vm)) == (6144 - 2048) * VMS_PAGE_SIZE,
	      "released the new pages");
	func_verify(vm, "after memory table changes");

	/* A new region layout (one region split in two): the map is rebuilt, serving goes on. */
	before = vms_vm_allocated_bytes(vm);
	CHECK(vhb_device_set_target_pages(dev, 8192) == 0, "target");
	vms_vm_poll(vm, 0);
	CHECK(vms_vm_remap(vm, VMS_REMAP_TOGGLE_SPLIT) == 0, "split remap");
	CHECK(vms_vm_settle(vm, 20000) == 0, "settle after split");
	CHECK(info_of(dev).nregions == 2 && info_of(dev).actual == 8192, "regions %u actual %u",
	      info_of(dev).nregions, info_of(dev).actual);
	CHECK((uint64_t)(before - vms_vm_allocated_bytes(vm)) >= (8192 - 6144) * VMS_PAGE_SIZE -
	      VMS_PFNS_PER_REQ * VMS_PAGE_SIZE, "released after the split");
	func_verify(vm, "after region split");
	func_balloon_to(dev, vm, 0);
	func_verify(vm, "deflated after split");

	/*
	 * A frontend that stops only one queue: rte_vhost tears the device down on the
	 * first GET_VRING_BASE, and the backend must forget its tracking right then.
	 */
	{
		struct raw_reply rep;
		uint32_t st[2] = { 0, 0 };
		size_t rlen = sizeof(rep);

		func_balloon_to(dev, vm, 1024);
		CHECK(info_of(dev).pages_in_balloon == 1024, "tracked");
		CHECK(vms_vm_send_raw(vm, VMS_REQ_GET_VRING_BASE, VMS_MSG_VERSION, sizeof(st), st,
				      sizeof(st), NULL, 0, &rep, &rlen) == 0, "GET_VRING_BASE");
		CHECK(rep.size == 8, "reply size %u", rep.size);
		CHECK(info_of(dev).pages_in_balloon == 0 && info_of(dev).state == VHB_DEV_CONNECTED,
		      "forgotten at the first GET_VRING_BASE: %" PRIu64 " %s",
		      info_of(dev).pages_in_balloon, vhb_device_state_name(info_of(dev).state));
		CHECK(vms_vm_stop(vm) == 0 && vms_vm_start(vm) == 0, "stop/start");
		func_balloon_to(dev, vm, 0);
		func_verify(vm, "after a one-queue stop");
	}

	/* Disconnect (QEMU exits), then a new frontend on the same socket. */
	vms_vm_destroy(vm);
	for (i = 0; i < 200 && info_of(dev).state != VHB_DEV_LISTENING; i++)
		usleep(5000);
	CHECK(info_of(dev).state == VHB_DEV_LISTENING, "listening after disconnect");
	CHECK(info_of(dev).pages_in_balloon == 0 && info_of(dev).nregions == 0, "forgotten");
	vm = func_vm(&p);
	CHECK(vm != NULL, "second vm");
	func_balloon_to(dev, vm, 4096);
	CHECK((uint64_t)(vms_vm_allocated_bytes(vm)) + func_expected_release(vm) ==
	      p.mem_bytes, "second guest's memory released");
	func_verify(vm, "second frontend");
	vms_vm_destroy(vm);
	CHECK(vhb_device_destroy(dev) == 0, "destroy");
	return 0;
}

/* 32 devices on one lcore, and one hostile guest among them. */
static int
scenario_many(void)
{
	enum { NDEV = 32 };
	struct vhb_device *dev[NDEV];
	struct vms_vm *vm[NDEV];
	struct vms_vm_params p;
	struct vhb_lcore_stats ls;
	struct vms_raw_desc d;
	char name[16];
	int i, k;

	printf("%d devices on lcore 1 (memfd 4 KiB guests, 16 MiB each)\n", NDEV);
	for (i = 0; i < NDEV; i++) {
		snprintf(name, sizeof(name), "m%02d", i);
		dev[i] = func_device(name, ALL_F, 1);
		func_vm_params(&p, func_socket(name), ALL_F);
		p.mem_bytes = 16 * MiB;
		p.kernel_bytes = 2 * MiB;
		vm[i] = func_vm(&p);
		CHECK(vm[i] != NULL, "vm %d", i);
	}
	CHECK(vhb_lcore_get_stats(0, &ls) == 0 && ls.ndevices == NDEV, "lcore has %u devices",
	      ls.ndevices);
	CHECK(vhb_lcore_get_stats(1, &ls) == -ENOENT, "one lcore");
	for (i = 0; i < NDEV; i++)
		CHECK(vhb_device_set_target_pages(dev[i], 1024 + 256 * (i % 4)) == 0, "target");
	/* Drive every guest in turn until all have settled. */
	for (k = 0; k < 2000; k++) {
		int busy = 0;

		for (i = 0; i < NDEV; i++) {
			struct vms_config cfg;

			vms_vm_poll(vm[i], 0);
			vms_vm_config(vm[i], &cfg);
			busy += cfg.actual != 1024u + 256u * (i % 4);
		}
		if (busy == 0)
			break;
	}
	for (i = 0; i < NDEV; i++) {
		struct balloon_wait bw = { dev[i], 1024u + 256u * (i % 4) };

		CHECK(vms_vm_settle(vm[i], 10000) == 0, "settle %d", i);
		func_poll_until(vm[i], balloon_reached, &bw, 5000);
		CHECK(info_of(dev[i]).pages_in_balloon == 1024u + 256u * (i % 4), "balloon %d", i);
	}

	/* Guest 0 posts a descriptor chain with an out-of-ring next index. */
	d.slot = 0;
	d.addr = 0;
	d.len = 4;
	d.flags = VMS_DESC_F_NEXT;
	d.next = 0x7fff;
	CHECK(vms_vm_queue_quarantine(vm[0], VMS_VQ_INFLATE) == 0, "quarantine");
	CHECK(vms_vq_post_raw(vm[0], VMS_VQ_INFLATE, &d, 1, 0, false) == 0, "post raw");
	for (k = 0; k < 500 && counters(dev[0]).guest_errors == 0; k++)
		usleep(2000);
	CHECK(counters(dev[0]).guest_errors == 1, "violation counted");
	CHECK(info_of(dev[0]).state == VHB_DEV_BROKEN, "device 0 broken: %s",
	      vhb_device_state_name(info_of(dev[0]).state));
	/* Everyone else keeps being served. */
	for (i = 1; i < NDEV; i++)
		CHECK(vhb_device_set_target_pages(dev[i], 512) == 0, "target");
	for (i = 1; i < NDEV; i++) {
		struct balloon_wait bw = { dev[i], 512 };

		CHECK(vms_vm_settle(vm[i], 10000) == 0, "settle %d", i);
		func_poll_until(vm[i], balloon_reached, &bw, 5000);
		CHECK(info_of(dev[i]).pages_in_balloon == 512, "balloon %d", i);
		snprintf(name, sizeof(name), "m%02d", i);
		func_verify(vm[i], name);
	}
	CHECK(vhb_lcore_get_stats(0, &ls) == 0 && ls.passes > 0 && ls.busy_passes > 0,
	      "lcore counters");
	printf("  lcore 1: %" PRIu64 " passes, %" PRIu64 " busy\n", ls.passes, ls.busy_passes);
	for (i = 0; i < NDEV; i++) {
		vms_vm_destroy(vm[i]);
		CHECK(vhb_device_destroy(dev[i]) == 0, "destroy %d", i);
	}
	CHECK(vhb_lcore_get_stats(0, &ls) == 0 && ls.ndevices == 0, "lcore empty");
	return 0;
}

static bool
has_errors(void *arg)
{
	struct vhb_device_counters c = counters(((struct stats_wait *)arg)->dev);

	return c.guest_errors >= ((struct stats_wait *)arg)->min_updates;
}

/* A hostile guest: bad PFNs are dropped (not errors); ring violations stop that queue only. */
static int
scenario_hostile(void)
{
	static const uint32_t outside[3] = { 0xfffffff0u, 0x100000u, 0x80000000u };
	struct vms_vm_params p;
	struct vhb_device *dev, *other;
	struct vms_vm *vm, *vm2;
	struct vhb_device_counters c;
	struct vms_vq_info qi;
	struct vms_raw_desc d;
	struct stats_wait w;
	uint8_t buf[10];
	int64_t before;
	int rc;

	printf("hostile guest (memfd 4 KiB guests, 64 MiB)\n");
	dev = func_device("bad", ALL_F, 0);
	other = func_device("good", ALL_F, 0);
	func_vm_params(&p, func_socket("bad"), ALL_F);
	p.page_poison = false;
	vm = func_vm(&p);
	CHECK(vm != NULL, "vm");
	func_vm_params(&p, func_socket("good"), ALL_F);
	vm2 = func_vm(&p);
	CHECK(vm2 != NULL, "vm2");
	before = vms_vm_allocated_bytes(vm);

	/* PFNs outside guest memory: dropped and counted, the request still acked. */
	rc = vms_vm_send_pfns(vm, VMS_VQ_INFLATE, outside, sizeof(outside), true);
	CHECK(rc == 0, "outside PFNs acked: %d", rc);
	WAIT_COUNTER(dev, vm, pfns_out_of_range, 3);
	c = counters(dev);
	CHECK(c.pfns_out_of_range == 3 && c.guest_errors == 0, "out of range %" PRIu64,
	      c.pfns_out_of_range);
	/* A PFN array that is not whole PFNs: the tail is ignored. */
	memcpy(buf, outside, 8);
	buf[8] = 1;
	buf[9] = 2;
	CHECK(vms_vm_send_pfns(vm, VMS_VQ_INFLATE, buf, sizeof(buf), true) == 0, "torn acked");
	WAIT_COUNTER(dev, vm, pfns_out_of_range, 5);
	CHECK(counters(dev).pfns_out_of_range == 5, "two more dropped");
	/* Deflating pages that were never inflated: counted, nothing happens. */
	CHECK(vms_vm_send_pfns(vm, VMS_VQ_DEFLATE, outside + 1, 4, true) == 0, "deflate acked");
	CHECK(vms_vm_allocated_bytes(vm) == before, "nothing released");

	/* avail->idx jumps by more than the ring: the deflate queue stops, nothing else. */
	CHECK(vms_vm_queue_quarantine(vm, VMS_VQ_DEFLATE) == 0, "quarantine");
	CHECK(vms_vq_info(vm, VMS_VQ_DEFLATE, &qi) == 0, "vq info");
	CHECK(vms_vq_set_avail_idx(vm, VMS_VQ_DEFLATE, (uint16_t)(qi.avail_idx + 1000), true) == 0,
	      "avail jump");
	w.dev = dev;
	w.min_updates = 1;
	CHECK(func_poll_until(vm, has_errors, &w, 5000), "violation seen");
	CHECK(info_of(dev).state == VHB_DEV_BROKEN, "broken: %s",
	      vhb_device_state_name(info_of(dev).state));

	/* A read-only buffer on the reporting queue (the device writes there). */
	CHECK(vms_vm_queue_quarantine(vm, VMS_VQ_REPORTING) == 0, "quarantine");
	CHECK(vms_vm_scratch(vm, &d.addr, &qi.desc_gpa) == 0, "scratch");
	d.slot = 0;
	d.len = 4096;
	d.flags = 0;
	d.next = 0;
	CHECK(vms_vq_post_raw(vm, VMS_VQ_REPORTING, &d, 1, 0, false) == 0, "post");
	w.min_updates = 2;
	CHECK(func_poll_until(vm, has_errors, &w, 5000), "second violation seen");

	/* The inflate queue of this guest and the other guest are still served. */
	func_balloon_to(dev, vm, 1024);
	CHECK(info_of(dev).pages_in_balloon == 1024, "inflate still served");
	CHECK((uint64_t)(before - vms_vm_allocated_bytes(vm)) == 1024 * VMS_PAGE_SIZE,
	      "released exactly the ballooned pages");
	func_balloon_to(other, vm2, 2048);
	CHECK(counters(other).guest_errors == 0, "other guest clean");
	/* An inflate request far larger than Linux ever sends (2 x 64 KiB): the queue stops. */
	{
		struct vms_raw_desc big[2];
		uint64_t sgpa, slen;

		CHECK(vms_vm_scratch(vm, &sgpa, &slen) == 0 && slen >= 65536, "scratch");
		memset(vms_vm_gpa_ptr(vm, sgpa), 0xff, 65536);	/* PFNs outside memory */
		big[0] = (struct vms_raw_desc){ .slot = 10, .addr = sgpa, .len = 65536,
						.flags = VMS_DESC_F_NEXT, .next = 11 };
		big[1] = (struct vms_raw_desc){ .slot = 11, .addr = sgpa, .len = 65536 };
		CHECK(vms_vm_queue_quarantine(vm, VMS_VQ_INFLATE) == 0, "quarantine");
		CHECK(vms_vq_post_raw(vm, VMS_VQ_INFLATE, big, 2, 10, false) == 0, "post big");
		w.min_updates = 3;
		CHECK(func_poll_until(vm, has_errors, &w, 5000), "oversized request refused");
		CHECK(counters(dev).pfns_out_of_range == 6, "no PFN of it taken");
	}
	func_balloon_to(other, vm2, 1024);
	func_verify(vm, "hostile guest");
	func_verify(vm2, "neighbour");
	vms_vm_destroy(vm);
	vms_vm_destroy(vm2);
	CHECK(vhb_device_destroy(dev) == 0 && vhb_device_destroy(other) == 0, "destroy");
	return 0;
}

int
main(int argc, char **argv)
{
	const char *s = argc > 1 ? argv[1] : "";
	int rc = 2;

	func_start();
	if (strcmp(s, "inflate") == 0)
		rc = scenario_inflate(argc > 2 ? argv[2] : "memfd");
	else if (strcmp(s, "features") == 0)
		rc = scenario_features();
	else if (strcmp(s, "config") == 0)
		rc = scenario_config();
	else if (strcmp(s, "stats") == 0)
		rc = scenario_stats();
	else if (strcmp(s, "reporting") == 0)
		rc = scenario_reporting(argc > 2 ? argv[2] : "memfd");
	else if (strcmp(s, "regained") == 0)
		rc = scenario_regained(argc > 2 ? argv[2] : "memfd");
	else if (strcmp(s, "oom") == 0)
		rc = scenario_oom();
	else if (strcmp(s, "lifecycle") == 0)
		rc = scenario_lifecycle();
	else if (strcmp(s, "hostile") == 0)
		rc = scenario_hostile();
	else if (strcmp(s, "many") == 0)
		rc = scenario_many();
	else
		fprintf(stderr, "unknown scenario '%s'\n", s);
	func_stop();
	if (rc == 0)
		printf("PASS %s\n", s);
	return rc;
}
