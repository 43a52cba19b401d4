/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Functional tests of the polling modes: the real backend (poll loop on lcore 1)
 * against vmsim. One scenario per run: argv[1] scenario, argv[2] mode, argv[3]
 * backing (memfd or hugetlbfs).
 *
 * No timing assertions. A lost kick shows as a request never acknowledged: the
 * lcore's longest sleep is set far beyond vmsim's ack timeout, so only a kick (or
 * the re-check after enabling kicks) can get a request served.
 */

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_cycles.h>

#include "func_common.h"

#define RACE_ROUNDS	300
#define RACE_SOLO_ROUNDS	2000
#define RACE_IDLE_VMS	16	/* idle guests beside the racers: a pass takes longer */
#define NO_TIMEOUT_MS	600000	/* the lcore's timeout never rescues a lost kick */
#define ACK_TIMEOUT_MS	20000

static enum vhb_poll_mode g_mode;

static void
set_mode(enum vhb_poll_mode mode, uint32_t idle_us, uint32_t max_sleep_ms)
{
	struct vhb_poll_params p = {
		.mode = mode,
		.idle_us = idle_us,
		.max_sleep_ms = max_sleep_ms,
	};
	struct vhb_poll_params got;

	CHECK(vhb_set_poll_params(&p) == 0, "set poll params");
	CHECK(vhb_lcore_get_poll_params(0, &got) == 0, "get poll params");
	CHECK(got.mode == mode && got.idle_us == idle_us && got.max_sleep_ms == max_sleep_ms,
	      "params read back");
}

static struct vhb_lcore_stats
lstats(void)
{
	struct vhb_lcore_stats st;

	CHECK(vhb_lcore_get_stats(0, &st) == 0, "lcore stats");
	return st;
}

static void
print_lstats(const char *when)
{
	struct vhb_lcore_stats st = lstats();

	printf("  lcore %s: mode %s, sleeps %" PRIu64 ", wake-ups kick %" PRIu64 " control %"
	       PRIu64 " timeout %" PRIu64 ", sleep aborts %" PRIu64 ", awake %" PRIu64
	       " ms, asleep %" PRIu64 " ms\n", when,
	       vhb_poll_mode_name((enum vhb_poll_mode)st.mode), st.sleeps, st.wakeups_kick,
	       st.wakeups_control, st.wakeups_timeout, st.sleep_aborts,
	       st.poll_cycles * 1000 / st.tsc_hz, st.sleep_cycles * 1000 / st.tsc_hz);
}

static struct vhb_device_counters
counters(struct vhb_device *dev)
{
	struct vhb_device_counters c;

	CHECK(vhb_device_get_counters(dev, &c) == 0, "counters");
	return c;
}

static struct vms_vm *
vm_for(const char *name, uint64_t features, const char *backing)
{
	struct vms_vm_params p;
	struct vms_vm *vm;

	func_vm_params(&p, func_socket(name), features);
	p.timeout_ms = ACK_TIMEOUT_MS;
	if (strcmp(backing, "hugetlbfs") == 0) {
		p.backing = VMS_BACKING_HUGETLBFS;
		p.mem_bytes = 64 * MiB;
	}
	vm = func_vm(&p);
	if (vm == NULL)
		printf("SKIP: %s guest memory unavailable: %s\n", backing, strerror(errno));
	else
		printf("guest memory: %s, %" PRIu64 " MiB\n", func_backing_name(vm),
		       p.mem_bytes / MiB);
	return vm;
}

/* Wait (serving the guest) until the lcore sleeps; true at once in poll mode (it never does). */
static bool
wait_asleep(struct vms_vm *vm)
{
	int i;

	if (g_mode == VHB_POLL_BUSY)
		return true;
	for (i = 0; i < 500; i++) {
		if (lstats().sleeping)
			return true;
		CHECK(vms_vm_poll(vm, 10) >= 0, "vm poll");
	}
	return false;
}

static void
spin_ns(uint64_t ns)
{
	uint64_t end = rte_rdtsc() + ns * rte_get_tsc_hz() / 1000000000ULL;

	while (rte_rdtsc() < end)
		;
}

struct racer {
	const char *name;
	struct vhb_device *dev;
	struct vms_vm *vm;
	uint32_t pfn;
	unsigned int stride_ns;	/* spacing pattern of this guest */
	unsigned int max_gap_ns;	/* ... spread over 0 .. this */
	unsigned int rounds;
	bool sweep;		/* alone: move the lcore's idle_us under the requests */
	struct vms_counters v0, v1;
	struct vhb_device_counters c0, c1;
};

/* One request at a time, each waiting for its ack; inflate and deflate of one free page. */
static void *
race_run(void *arg)
{
	struct racer *r = arg;
	int i, rc;

	vms_vm_counters(r->vm, &r->v0);
	r->c0 = counters(r->dev);
	for (i = 0; i < (int)r->rounds; i++) {
		uint32_t le = rte_cpu_to_le_32(r->pfn);
		unsigned int idle_us = 5 + (unsigned int)(i / 16) * 17 % 90;

		if (r->sweep && i % 16 == 0)
			set_mode(g_mode, idle_us, NO_TIMEOUT_MS);
		/*
		 * 0 .. ~100 us after the previous ack: across the lcore's switch to kicks,
		 * which comes idle_us after the lcore's last work.
		 */
		spin_ns((uint64_t)i * r->stride_ns % r->max_gap_ns);
		rc = vms_vm_send_pfns(r->vm, i % 2 == 0 ? VMS_VQ_INFLATE : VMS_VQ_DEFLATE, &le,
				      sizeof(le), true);
		CHECK(rc == 0, "%s round %d (%s): request not served: %d", r->name, i,
		      i % 2 == 0 ? "inflate" : "deflate", rc);
	}
	vms_vm_counters(r->vm, &r->v1);
	/*
	 * The lcore publishes counters at the end of the pass that acked the last
	 * request, after the guest may have seen that ack: give it up to 5 s.
	 */
	for (i = 0; i < 5000; i++) {
		r->c1 = counters(r->dev);
		if (r->c1.deflate_requests - r->c0.deflate_requests >= r->rounds / 2)
			break;
		usleep(1000);
	}
	return NULL;
}

static bool
racer_init(struct racer *r, const char *name, uint64_t f, const char *backing,
	   unsigned int stride_ns)
{
	uint64_t p;

	r->name = name;
	r->stride_ns = stride_ns;
	r->max_gap_ns = 100000;
	r->rounds = RACE_ROUNDS;
	r->sweep = false;
	r->dev = func_device(name, f, 0);
	r->vm = vm_for(name, f, backing);
	if (r->vm == NULL) {
		vhb_device_destroy(r->dev);
		return false;
	}
	/* A page the guest does not use: its content may go (memfd releases it). */
	r->pfn = 0;
	for (p = (64 * MiB >> VMS_PAGE_SHIFT) - 1; p > 0 && r->pfn == 0; p--)
		if (vms_vm_page_state(r->vm, p) == VMS_PAGE_FREE)
			r->pfn = (uint32_t)p;
	CHECK(r->pfn != 0, "a free guest page");
	return true;
}

static void
racer_check(struct racer *r)
{
	uint64_t kicks = r->v1.kicks - r->v0.kicks;
	uint64_t suppressed = r->v1.kicks_suppressed - r->v0.kicks_suppressed;

	printf("  %s: %u requests, %" PRIu64 " kicks, %" PRIu64 " suppressed, all served\n",
	       r->name, r->rounds, kicks, suppressed);
	/* One kick decision per request: nobody kicked twice or re-sent. */
	CHECK(kicks + suppressed == r->rounds, "%s: kick decisions", r->name);
	CHECK(r->c1.inflate_requests - r->c0.inflate_requests == r->rounds / 2,
	      "%s: inflates served", r->name);
	CHECK(r->c1.deflate_requests - r->c0.deflate_requests == r->rounds / 2,
	      "%s: deflates served", r->name);
	CHECK(r->c1.guest_errors == 0, "%s: guest errors", r->name);
	if (g_mode == VHB_POLL_BUSY)
		CHECK(kicks == 0, "%s: poll mode: the driver never kicks", r->name);
	func_verify(r->vm, r->name);
}

static void
racer_fini(struct racer *r)
{
	vms_vm_destroy(r->vm);
	CHECK(vhb_device_destroy(r->dev) == 0, "destroy");
}

/* RACE_IDLE_VMS guests of 16 MiB that send nothing: a pass takes longer. */
static void
idle_guests_up(struct vhb_device **dev, struct vms_vm **vm, uint64_t f)
{
	unsigned int i;

	for (i = 0; i < RACE_IDLE_VMS; i++) {
		struct vms_vm_params p;
		char name[32];

		snprintf(name, sizeof(name), "idle%u", i);
		dev[i] = func_device(name, f, 0);
		func_vm_params(&p, func_socket(name), f);
		p.mem_bytes = 16 * MiB;
		vm[i] = func_vm(&p);
		CHECK(vm[i] != NULL, "idle guest %u", i);
	}
}

static void
idle_guests_down(struct vhb_device **dev, struct vms_vm **vm)
{
	unsigned int i;

	for (i = 0; i < RACE_IDLE_VMS; i++) {
		vms_vm_destroy(vm[i]);
		CHECK(vhb_device_destroy(dev[i]) == 0, "destroy idle");
	}
}

/*
 * Every request reaches an lcore that sleeps as soon as it is idle (idle_us 0):
 * first two guests, each posting one request at a time at uncorrelated moments,
 * then one guest alone while idle_us moves in steps across the time its requests
 * take to come, so that they land before, during and after the lcore's switch to
 * kicks. Each must be served after the single kick decision the driver made for
 * it: a lost one would wait for the lcore's timeout, set beyond vmsim's ack
 * timeout, and alone no other guest's kick rescues it. (Without the re-check
 * after enabling kicks this scenario fails in adaptive mode.)
 */
static int
scenario_race(const char *backing)
{
	const uint64_t f = (1ULL << VHB_F_MUST_TELL_HOST) | (1ULL << VHB_F_DEFLATE_ON_OOM);
	struct vhb_device *idle_dev[RACE_IDLE_VMS];
	struct vms_vm *idle_vm[RACE_IDLE_VMS];
	struct racer a, b;
	struct vhb_lcore_stats s0, s1;
	pthread_t th;

	set_mode(g_mode, 0, NO_TIMEOUT_MS);
	/*
	 * The window a missing re-check would leave open is the time between the
	 * lcore's last look at a ring and its request for kicks: about one pass.
	 * Idle guests on the same lcore make it wide enough to be hit often.
	 */
	idle_guests_up(idle_dev, idle_vm, f);
	if (!racer_init(&a, "race-a", f, backing, 2000))
		return TEST_SKIP;
	if (!racer_init(&b, "race-b", f, "memfd", 7919)) {
		vms_vm_destroy(a.vm);
		vhb_device_destroy(a.dev);
		return TEST_SKIP;
	}
	s0 = lstats();
	CHECK(pthread_create(&th, NULL, race_run, &b) == 0, "thread");
	race_run(&a);
	CHECK(pthread_join(th, NULL) == 0, "join");
	s1 = lstats();
	print_lstats("after the race");
	racer_check(&a);
	racer_check(&b);
	racer_fini(&b);
	/*
	 * Alone, so that no other guest's kick can rescue a request the lcore missed,
	 * with the lcore's switch moved across the moments the requests come.
	 */
	a.rounds = RACE_SOLO_ROUNDS;
	a.sweep = true;
	race_run(&a);
	set_mode(g_mode, 0, NO_TIMEOUT_MS);
	s1 = lstats();
	print_lstats("after the solo race");
	racer_check(&a);
	racer_fini(&a);
	if (g_mode == VHB_POLL_BUSY) {
		CHECK(s1.sleeps == s0.sleeps, "poll mode never sleeps");
	} else {
		CHECK(s1.sleeps > s0.sleeps, "the lcore slept");
		CHECK(s1.wakeups_kick > s0.wakeups_kick, "kicks woke it");
	}
	CHECK(s1.wakeups_timeout == s0.wakeups_timeout, "no request needed the timeout");
	/*
	 * What auto learned of a sleep's CPU is a few µs here, ms on a loaded machine; a
	 * sleep sampled without the park before it once took the time since boot.
	 */
	if (g_mode == VHB_POLL_AUTO)
		CHECK(s0.auto_sleep_cost_ns < 100000000ULL &&
		      s1.auto_sleep_cost_ns < 100000000ULL, "a plausible sleep cost: %" PRIu64
		      " ns before, %" PRIu64 " ns after", s0.auto_sleep_cost_ns,
		      s1.auto_sleep_cost_ns);
	idle_guests_down(idle_dev, idle_vm);
	return 0;
}

struct polled_wait {
	unsigned int want;
};

static bool
polled_reached(void *arg)
{
	const struct polled_wait *w = arg;

	return lstats().devices_polled == w->want;
}

/*
 * Per-device parking: a guest that keeps the lcore busy (back-to-back requests),
 * 16 idle guests, and a racer posting one request at a time 0-1 ms after its last
 * ack, across its device's 200 us spin time. The idle devices park, and so does the
 * racer's between requests while the busy one is polled (adaptive, auto): its
 * requests come through the re-check when it parks or through a kick the lcore
 * looks at between passes. A lost one waits forever (no timeout rescues it) and
 * fails the test. Afterwards every device has left the polled set (poll mode: none
 * has).
 */
static int
scenario_neighbours(const char *backing)
{
	const uint64_t f = (1ULL << VHB_F_MUST_TELL_HOST) | (1ULL << VHB_F_DEFLATE_ON_OOM);
	struct vhb_device *idle_dev[RACE_IDLE_VMS];
	struct vms_vm *idle_vm[RACE_IDLE_VMS];
	struct polled_wait w = { .want = 0 };
	struct vhb_lcore_stats s0, s1;
	struct racer busy, r;
	pthread_t th;

	set_mode(g_mode, 200, NO_TIMEOUT_MS);
	idle_guests_up(idle_dev, idle_vm, f);
	if (!racer_init(&r, "racer", f, backing, 7919))
		return TEST_SKIP;
	CHECK(racer_init(&busy, "busy", f, "memfd", 1), "busy guest");
	busy.rounds = RACE_SOLO_ROUNDS;
	r.rounds = RACE_SOLO_ROUNDS / 2;
	r.max_gap_ns = 1000000;
	s0 = lstats();
	CHECK(pthread_create(&th, NULL, race_run, &busy) == 0, "thread");
	race_run(&r);
	CHECK(pthread_join(th, NULL) == 0, "join");
	s1 = lstats();
	print_lstats("after the race beside a busy guest");
	printf("  lcore: %u of %u devices polled, %" PRIu64 " parks, %" PRIu64 " back by kick, %"
	       PRIu64 " by timer or control\n", s1.devices_polled, s1.ndevices,
	       s1.parks - s0.parks, s1.unparks_kick - s0.unparks_kick,
	       s1.unparks_other - s0.unparks_other);
	racer_check(&r);
	racer_check(&busy);
	CHECK(s1.wakeups_timeout == s0.wakeups_timeout, "no request needed the timeout");
	if (g_mode == VHB_POLL_BUSY) {
		CHECK(s1.parks == s0.parks && s1.devices_polled == s1.ndevices,
		      "poll mode: every device polled, none parked");
	} else {
		CHECK(s1.parks > s0.parks && s1.unparks_kick > s0.unparks_kick,
		      "devices parked and kicks brought them back");
		CHECK(func_poll_until(r.vm, polled_reached, &w, 15000),
		      "every idle device leaves the polled set (%u polled)",
		      lstats().devices_polled);
	}
	racer_fini(&busy);
	racer_fini(&r);
	idle_guests_down(idle_dev, idle_vm);
	return 0;
}

struct updates_wait {
	struct vhb_device *dev;
	uint64_t want;
};

static uint64_t
stats_updates(struct vhb_device *dev)
{
	struct vhb_guest_stats gs;

	vhb_device_get_guest_stats(dev, &gs);
	return gs.updates;
}

static bool
updates_reached(void *arg)
{
	const struct updates_wait *w = arg;

	return stats_updates(w->dev) >= w->want;
}

static void
want_updates(struct vhb_device *dev, struct vms_vm *vm, uint64_t n, const char *what)
{
	struct updates_wait w = { .dev = dev, .want = n };

	CHECK(func_poll_until(vm, updates_reached, &w, 15000), "%s: %" PRIu64
	      " stats updates, want %" PRIu64, what, stats_updates(dev), n);
}

/*
 * Stats timers while sleeping: the buffer goes back when the interval passes even
 * though no kick and no control action wakes the lcore, and a new interval set
 * while it sleeps re-times the sleep.
 */
static int
scenario_timers(void)
{
	const uint64_t f = (1ULL << VHB_F_STATS_VQ) | (1ULL << VHB_F_MUST_TELL_HOST);
	struct vhb_lcore_stats s0, s1;
	struct vhb_device *dev;
	struct vms_vm *vm;
	uint64_t u;

	set_mode(g_mode, 0, NO_TIMEOUT_MS);
	dev = func_device("timers", f, 3600);
	vm = vm_for("timers", f, "memfd");
	CHECK(vm != NULL, "memfd guest");
	want_updates(dev, vm, 1, "primed buffer");
	CHECK(wait_asleep(vm), "the lcore sleeps");
	s0 = lstats();
	/* Asleep with the timer an hour away: the new interval must wake and re-time it. */
	CHECK(vhb_device_set_stats_interval(dev, 1) == 0, "interval");
	u = stats_updates(dev);
	want_updates(dev, vm, u + 3, "1 s interval");
	s1 = lstats();
	print_lstats("after the timers");
	if (g_mode != VHB_POLL_BUSY) {
		CHECK(s1.wakeups_timeout > s0.wakeups_timeout, "timer wake-ups");
		CHECK(s1.wakeups_control > s0.wakeups_control, "interval change woke the lcore");
	}
	CHECK(counters(dev).guest_errors == 0, "guest errors");
	vms_vm_destroy(vm);
	CHECK(vhb_device_destroy(dev) == 0, "destroy");
	return 0;
}

static void
round_trip(struct vhb_device *dev, struct vms_vm *vm, uint32_t pages, const char *when)
{
	func_balloon_to(dev, vm, pages);
	func_verify(vm, when);
	func_balloon_to(dev, vm, 0);
	printf("  %s: %u pages in and out\n", when, pages);
}

/*
 * Control actions reach a sleeping lcore: a target change, a second device added
 * and removed, a new memory table (quiesce), a driver stop/start (GET_VRING_BASE)
 * and a mode change.
 */
static int
scenario_control(const char *backing)
{
	const uint64_t f = VHB_FEATURES_DEFAULT;
	struct vhb_device *dev, *dev2;
	struct vms_vm *vm, *vm2;
	uint32_t pages = 2048;
	uint64_t n;

	set_mode(g_mode, 0, NO_TIMEOUT_MS);
	dev = func_device("ctl", f, 0);
	vm = vm_for("ctl", f, backing);
	if (vm == NULL) {
		vhb_device_destroy(dev);
		return TEST_SKIP;
	}
	CHECK(wait_asleep(vm), "asleep before the target change");
	round_trip(dev, vm, pages, "target change");

	CHECK(wait_asleep(vm), "asleep before the new device");
	dev2 = func_device("ctl2", f, 0);
	vm2 = vm_for("ctl2", f, "memfd");
	CHECK(vm2 != NULL, "second guest");
	round_trip(dev2, vm2, pages, "second device");
	CHECK(wait_asleep(vm), "asleep before the removal");
	vms_vm_destroy(vm2);
	CHECK(vhb_device_destroy(dev2) == 0, "destroy second");
	round_trip(dev, vm, pages, "after the removal");

	CHECK(wait_asleep(vm), "asleep before SET_MEM_TABLE");
	CHECK(vms_vm_remap(vm, VMS_REMAP_NEW_FDS) == 0, "remap");
	round_trip(dev, vm, pages, "after SET_MEM_TABLE");

	CHECK(wait_asleep(vm), "asleep before the stop");
	CHECK(vms_vm_stop(vm) == 0, "stop");
	CHECK(vms_vm_start(vm) == 0, "start");
	round_trip(dev, vm, pages, "after stop/start");

	/* Mode changes under a device that has work. */
	set_mode(VHB_POLL_BUSY, 0, NO_TIMEOUT_MS);
	round_trip(dev, vm, pages, "switched to poll");
	set_mode(VHB_POLL_INTERRUPT, 0, NO_TIMEOUT_MS);
	round_trip(dev, vm, pages, "switched to interrupt");
	set_mode(g_mode, 0, NO_TIMEOUT_MS);

	n = lstats().wakeups_timeout;
	print_lstats("after the control actions");
	CHECK(n == 0, "nothing needed the timeout");
	CHECK(counters(dev).guest_errors == 0, "guest errors");
	func_verify(vm, "at the end");
	vms_vm_destroy(vm);
	CHECK(vhb_device_destroy(dev) == 0, "destroy");
	return 0;
}

int
main(int argc, char **argv)
{
	const char *s = argc > 1 ? argv[1] : "";
	const char *backing = argc > 3 ? argv[3] : "memfd";
	int rc = 1;

	if (argc < 3 || vhb_poll_mode_parse(argv[2], &g_mode) != 0) {
		fprintf(stderr, "usage: %s race|neighbours|timers|control "
			"poll|adaptive|interrupt|auto "
			"[memfd|hugetlbfs]\n", argv[0]);
		return 1;
	}
	func_start();
	printf("scenario %s, mode %s\n", s, vhb_poll_mode_name(g_mode));
	if (strcmp(s, "race") == 0)
		rc = scenario_race(backing);
	else if (strcmp(s, "neighbours") == 0)
		rc = scenario_neighbours(backing);
	else if (strcmp(s, "timers") == 0)
		rc = scenario_timers();
	else if (strcmp(s, "control") == 0)
		rc = scenario_control(backing);
	else
		fprintf(stderr, "unknown scenario %s\n", s);
	func_stop();
	if (rc == 0)
		printf("PASS\n");
	return rc;
}
