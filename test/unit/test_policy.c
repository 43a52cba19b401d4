/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the policy's decisions (vhb_policy_decide(), a pure function) against
 * scenarios, and of the host readers on played /proc files. No EAL.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vhb_test_check.h"

#include "vhb_policy.h"

#define MiB	((uint64_t)1 << 20)
#define GiB	((uint64_t)1 << 30)
#define SEC	1000000000ULL

static struct vhb_policy_params P;

static void
params(void)
{
	vhb_policy_params_default(&P);
	P.mode = VHB_POLICY_ON;
	P.host_low = 1 * GiB;
	P.host_high = 2 * GiB;
	P.hold_s = 10;
}

static struct vhb_policy_host
host(uint64_t avail)
{
	struct vhb_policy_host h = {
		.meminfo_ok = true, .mem_total = 16 * GiB, .mem_available = avail,
	};
	return h;
}

/* A running 1 GiB guest with fresh stats: avail bytes available, update number upd. */
static void
vm(struct vhb_policy_vm *v, const char *name, uint64_t avail, uint64_t upd)
{
	memset(v, 0, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "%s", name);
	v->running = true;
	v->guest_mem = 1 * GiB;
	v->valid = VHB_POLICY_SIG_AVAIL | VHB_POLICY_SIG_SWAP_IN | VHB_POLICY_SIG_MAJFLT;
	v->avail = avail;
	v->stats_updates = upd;
	v->stats_age_ns = 1 * SEC;
}

/* The decision applied: the guest followed, its available memory moved with it. */
static void
apply(struct vhb_policy_vm *v)
{
	int64_t d = (int64_t)v->new_target - (int64_t)v->target;

	v->target = v->new_target;
	v->actual = v->target;
	v->avail = (int64_t)v->avail - d < 0 ? 0 : (uint64_t)((int64_t)v->avail - d);
	v->stats_updates++;
}

static void
test_reclaim_split(void)
{
	struct vhb_policy_host_out out = { .state = VHB_POLICY_HOST_UNKNOWN };
	struct vhb_policy_vm v[2];
	struct vhb_policy_host h = host(512 * MiB);

	params();
	vm(&v[0], "idle", 700 * MiB, 1);
	vm(&v[1], "busy", 200 * MiB, 1);
	vhb_policy_decide(&P, &h, v, 2, 100 * SEC, &out);
	CHECK(out.state == VHB_POLICY_HOST_SHORT, "short: %s", out.reason);
	CHECK(out.need == 1024 * MiB, "need to the middle: %" PRIu64, out.need);
	CHECK(v[0].action == VHB_POLICY_RECLAIM && v[1].action == VHB_POLICY_RECLAIM,
	      "both squeezed: %s / %s", v[0].reason, v[1].reason);
	CHECK(v[0].new_target - v[0].target > v[1].new_target - v[1].target,
	      "idle gives more: %s / %s", v[0].reason, v[1].reason);
	CHECK(v[0].new_target <= P.step && v[1].new_target <= P.step, "one step at most");
	CHECK(v[0].dir_changed && strstr(v[0].reason, "host short") != NULL, "reason: %s",
	      v[0].reason);
	/* Weight: a heavy busy VM gives more than a light one of the same state. */
	vm(&v[0], "light", 300 * MiB, 1);
	vm(&v[1], "heavy", 300 * MiB, 1);
	v[0].cfg.weight = 10;
	v[1].cfg.weight = 100;
	P.step = 512 * MiB;
	P.host_low = 1536 * MiB;
	P.host_high = 1664 * MiB;
	h = host(1450 * MiB);
	vhb_policy_decide(&P, &h, v, 2, 100 * SEC, &out);
	CHECK(v[1].new_target > v[0].new_target, "weight: %s / %s", v[0].reason, v[1].reason);
	printf("  reclaim split by spare and weight, one step at most: ok\n");
}

static void
test_not_squeezed(void)
{
	struct vhb_policy_host_out out = { .state = VHB_POLICY_HOST_UNKNOWN };
	struct vhb_policy_host h = host(256 * MiB);
	struct vhb_policy_vm v[6];

	params();
	vm(&v[0], "stale", 800 * MiB, 3);
	v[0].stats_age_ns = 31 * SEC;
	vm(&v[1], "nostats", 800 * MiB, 0);
	vm(&v[2], "lagging", 800 * MiB, 3);
	v[2].target = 64 * MiB;
	v[2].actual = 32 * MiB;
	vm(&v[3], "stepped", 800 * MiB, 3);
	v[3].st.change_updates = 3;
	v[3].st.seen_updates = 3;
	vm(&v[4], "atmin", 800 * MiB, 3);
	v[4].cfg.min = 1 * GiB;
	vm(&v[5], "off", 0, 0);
	v[5].running = false;
	vhb_policy_decide(&P, &h, v, 6, 100 * SEC, &out);
	CHECK(v[0].action == VHB_POLICY_HOLD && strstr(v[0].reason, "stale"), "%s", v[0].reason);
	CHECK(v[1].action == VHB_POLICY_HOLD && strstr(v[1].reason, "no statistics"), "%s",
	      v[1].reason);
	CHECK(v[2].action == VHB_POLICY_HOLD && strstr(v[2].reason, "waiting for the guest"),
	      "%s", v[2].reason);
	CHECK(v[3].action == VHB_POLICY_HOLD && strstr(v[3].reason, "after the last step"),
	      "%s", v[3].reason);
	CHECK(v[4].action == VHB_POLICY_HOLD && strstr(v[4].reason, "min"), "%s", v[4].reason);
	CHECK(v[5].action == VHB_POLICY_NONE, "%s", v[5].reason);
	for (unsigned int i = 0; i < 6; i++)
		CHECK(v[i].new_target == v[i].target, "%s unchanged", v[i].name);
	printf("  stale, missing, lagging, unsettled, at-min and stopped VMs are not squeezed: ok\n");
}

static void
test_pressure(void)
{
	struct vhb_policy_host_out out = { .state = VHB_POLICY_HOST_UNKNOWN };
	struct vhb_policy_host h = host(256 * MiB);
	struct vhb_policy_vm v;

	params();
	vm(&v, "swapper", 400 * MiB, 1);
	v.target = 512 * MiB;
	v.actual = v.target;
	v.swap_in = 10 * MiB;
	vhb_policy_decide(&P, &h, &v, 1, 100 * SEC, &out);
	CHECK(v.action == VHB_POLICY_RECLAIM, "first update: no delta yet: %s", v.reason);
	apply(&v);
	v.swap_in += 8 * MiB;
	vhb_policy_decide(&P, &h, &v, 1, 101 * SEC, &out);
	CHECK(v.pressure && v.action == VHB_POLICY_DEFLATE, "swap-in: deflate: %s", v.reason);
	CHECK(v.new_target + P.deflate <= v.target || v.new_target == 0, "by the deflate step");
	CHECK(v.dir_changed && strstr(v.reason, "swap-in"), "reason: %s", v.reason);
	apply(&v);
	/* The same update seen again is no new evidence; the host short still does not squeeze. */
	v.stats_updates--;
	v.avail = 400 * MiB;
	vhb_policy_decide(&P, &h, &v, 1, 102 * SEC, &out);
	CHECK(!v.pressure && v.action == VHB_POLICY_HOLD, "held: %s", v.reason);
	v.stats_updates++;
	vhb_policy_decide(&P, &h, &v, 1, 105 * SEC, &out);
	CHECK(v.action == VHB_POLICY_HOLD && strstr(v.reason, "pressure"), "hold: %s", v.reason);
	vhb_policy_decide(&P, &h, &v, 1, 112 * SEC, &out);
	CHECK(v.action == VHB_POLICY_RECLAIM, "after hold_s: %s", v.reason);
	/* Major faults, available below reserve, an OOM kill: each deflates at once. */
	vm(&v, "faulting", 400 * MiB, 1);
	v.target = v.actual = 512 * MiB;
	vhb_policy_decide(&P, &h, &v, 1, 100 * SEC, &out);
	v.stats_updates++;
	v.majflt += P.major_faults;
	h = host(3 * GiB);
	vhb_policy_decide(&P, &h, &v, 1, 101 * SEC, &out);
	CHECK(v.action == VHB_POLICY_DEFLATE && strstr(v.reason, "major"), "%s", v.reason);
	vm(&v, "tight", 10 * MiB, 1);
	v.target = v.actual = 512 * MiB;
	h = host(1536 * MiB);
	vhb_policy_decide(&P, &h, &v, 1, 100 * SEC, &out);
	CHECK(v.action == VHB_POLICY_DEFLATE && strstr(v.reason, "reserve"), "%s", v.reason);
	vm(&v, "oom", 300 * MiB, 1);
	v.valid |= VHB_POLICY_SIG_OOM;
	v.target = v.actual = 512 * MiB;
	vhb_policy_decide(&P, &h, &v, 1, 100 * SEC, &out);
	v.stats_updates++;
	v.oom_kills = 1;
	vhb_policy_decide(&P, &h, &v, 1, 101 * SEC, &out);
	CHECK(v.action == VHB_POLICY_DEFLATE && strstr(v.reason, "OOM"), "%s", v.reason);
	printf("  guest pressure (swap-in, major faults, reserve, OOM) deflates at once, then "
	       "holds: ok\n");
}

static void
test_give_back(void)
{
	struct vhb_policy_host_out out = { .state = VHB_POLICY_HOST_UNKNOWN };
	struct vhb_policy_host h = host(2 * GiB + 40 * MiB);
	struct vhb_policy_vm v[2];

	params();
	vm(&v[0], "idle", 500 * MiB, 5);
	vm(&v[1], "busy", 100 * MiB, 5);
	v[0].target = v[0].actual = 256 * MiB;
	v[1].target = v[1].actual = 256 * MiB;
	vhb_policy_decide(&P, &h, v, 2, 100 * SEC, &out);
	CHECK(out.state == VHB_POLICY_HOST_PLENTY && out.budget == 40 * MiB, "%s", out.reason);
	CHECK(v[1].action == VHB_POLICY_GIVE_BACK && v[1].target - v[1].new_target == 32 * MiB,
	      "busy first, one step: %s", v[1].reason);
	CHECK(v[0].action == VHB_POLICY_GIVE_BACK && v[0].target - v[0].new_target == 8 * MiB,
	      "the rest of the budget: %s", v[0].reason);
	/* Within the watermarks: nothing moves. */
	h = host(1536 * MiB);
	vhb_policy_decide(&P, &h, v, 2, 101 * SEC, &out);
	CHECK(out.state == VHB_POLICY_HOST_OK && v[0].action == VHB_POLICY_HOLD &&
	      v[0].new_target == v[0].target, "hold: %s", v[0].reason);
	/* No give-back within hold_s of a squeeze. */
	v[0].st.reclaim_ns = 95 * SEC;
	h = host(3 * GiB);
	vhb_policy_decide(&P, &h, v, 2, 100 * SEC, &out);
	CHECK(v[0].action == VHB_POLICY_HOLD && strstr(v[0].reason, "squeezed"), "%s",
	      v[0].reason);
	printf("  give back in steps above the high watermark, busiest first, not right after "
	       "a squeeze: ok\n");
}

static void
test_bounds_and_host(void)
{
	struct vhb_policy_host_out out = { .state = VHB_POLICY_HOST_UNKNOWN };
	struct vhb_policy_host h = host(1536 * MiB);
	struct vhb_policy_vm v[2];

	params();
	vm(&v[0], "low", 100 * MiB, 1);
	v[0].cfg.min = 768 * MiB;
	v[0].target = v[0].actual = 512 * MiB;
	vm(&v[1], "high", 800 * MiB, 1);
	v[1].cfg.max = 512 * MiB;
	vhb_policy_decide(&P, &h, v, 2, 100 * SEC, &out);
	CHECK(v[0].new_target == 256 * MiB && v[0].action == VHB_POLICY_GIVE_BACK, "%s",
	      v[0].reason);
	CHECK(v[1].new_target == 512 * MiB && v[1].action == VHB_POLICY_RECLAIM, "%s",
	      v[1].reason);
	/* Host unknown: nothing squeezed. */
	h.meminfo_ok = false;
	vm(&v[0], "a", 800 * MiB, 1);
	vhb_policy_decide(&P, &h, v, 1, 100 * SEC, &out);
	CHECK(out.state == VHB_POLICY_HOST_UNKNOWN && v[0].new_target == 0, "%s", out.reason);
	/* PSI over its limit is short even with memory available. */
	h = host(1536 * MiB);
	h.psi_ok = true;
	h.psi_some = 35.0;
	vhb_policy_decide(&P, &h, v, 1, 100 * SEC, &out);
	CHECK(out.state == VHB_POLICY_HOST_SHORT && strstr(out.reason, "PSI") &&
	      v[0].action == VHB_POLICY_RECLAIM, "%s", out.reason);
	/* Hysteresis: a reclaim that started goes on to the middle of the watermarks. */
	P.psi_some = 0;
	vm(&v[0], "a", 800 * MiB, 1);
	h = host(1100 * MiB);
	out.state = VHB_POLICY_HOST_OK;
	vhb_policy_decide(&P, &h, v, 1, 100 * SEC, &out);
	CHECK(out.state == VHB_POLICY_HOST_OK, "above low, not short: %s", out.reason);
	out.state = VHB_POLICY_HOST_SHORT;
	vhb_policy_decide(&P, &h, v, 1, 100 * SEC, &out);
	CHECK(out.state == VHB_POLICY_HOST_SHORT && out.need == 436 * MiB, "still short: %s",
	      out.reason);
	h = host(1536 * MiB);
	vhb_policy_decide(&P, &h, v, 1, 100 * SEC, &out);
	CHECK(out.state == VHB_POLICY_HOST_OK, "middle reached: %s", out.reason);
	/* Default watermarks: 10% and 20% of MemTotal. */
	P.host_low = P.host_high = 0;
	h = host(1 * GiB);
	vhb_policy_decide(&P, &h, v, 0, 100 * SEC, &out);
	CHECK(out.low == 16 * GiB / 10 && out.high == 16 * GiB / 5 &&
	      out.state == VHB_POLICY_HOST_SHORT, "%s", out.reason);
	printf("  min/max bounds, unknown host, PSI, default watermarks: ok\n");
}

/*
 * Closed loop: the host's available memory is a base plus every balloon; guests use working
 * sets. The targets settle, the idle guest gives the most, nobody goes below min, and the
 * direction changes a bounded number of times (no oscillation).
 */
static void
test_converge(void)
{
	static const uint64_t ws[3] = { 700 * MiB, 150 * MiB, 400 * MiB };
	struct vhb_policy_host_out out = { .state = VHB_POLICY_HOST_UNKNOWN };
	struct vhb_policy_host h;
	struct vhb_policy_vm v[3];
	unsigned int t, i, changes = 0, last_change = 0, flips = 0;

	params();
	P.hold_s = 3;
	for (i = 0; i < 3; i++)
		vm(&v[i], i == 0 ? "busy" : i == 1 ? "idle" : "mid", 1 * GiB - ws[i], 1);
	for (t = 0; t < 200; t++) {
		uint64_t base = t < 100 ? 700 * MiB : 2500 * MiB, balloons = 0;

		for (i = 0; i < 3; i++)
			balloons += v[i].actual;
		h = host(base + balloons);
		for (i = 0; i < 3; i++)
			v[i].avail = 1 * GiB - v[i].target > ws[i] ? 1 * GiB - v[i].target - ws[i] :
				0;
		vhb_policy_decide(&P, &h, v, 3, (uint64_t)t * SEC, &out);
		for (i = 0; i < 3; i++) {
			CHECK(1 * GiB - v[i].new_target >= v[i].min, "%s above min", v[i].name);
			if (v[i].dir_changed)
				flips++;
			if (v[i].new_target != v[i].target) {
				changes++;
				last_change = t;
			}
			apply(&v[i]);
		}
		if (t == 99) {
			CHECK(out.state != VHB_POLICY_HOST_SHORT, "reclaimed enough: %s",
			      out.reason);
			CHECK(v[1].target > v[2].target && v[2].target > v[0].target,
			      "idle %" PRIu64 " > mid %" PRIu64 " > busy %" PRIu64 " MiB",
			      v[1].target >> 20, v[2].target >> 20, v[0].target >> 20);
			for (i = 0; i < 3; i++)
				CHECK(v[i].action == VHB_POLICY_HOLD, "settled under pressure: %s",
				      v[i].reason);
		}
	}
	for (i = 0; i < 3; i++)
		CHECK(v[i].target == 0, "%s got everything back", v[i].name);
	CHECK(last_change < 190, "settled (last change at %u)", last_change);
	CHECK(flips <= 6, "direction changed %u times", flips);
	printf("  closed loop: settles, idle gives most, all back after relief (%u changes, %u "
	       "direction changes): ok\n", changes, flips);
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	CHECK(f != NULL, "%s", path);
	fputs(text, f);
	fclose(f);
}

static void
test_host_read(void)
{
	char dir[] = "/tmp/vhb-policy-unit.XXXXXX", mi[64], psi[64];
	struct vhb_policy_host h;

	CHECK(mkdtemp(dir) != NULL, "mkdtemp");
	snprintf(mi, sizeof(mi), "%s/meminfo", dir);
	snprintf(psi, sizeof(psi), "%s/psi", dir);
	write_file(mi, "MemTotal:       16384000 kB\nMemFree:  100 kB\n"
		"MemAvailable:    2048000 kB\nBuffers: 1 kB\n");
	write_file(psi, "some avg10=12.50 avg60=3.00 avg300=1.00 total=123\n"
		"full avg10=2.25 avg60=0.00 avg300=0.00 total=45\n");
	CHECK(vhb_policy_read_host(mi, psi, &h) == 0 && h.meminfo_ok && h.psi_ok, "read");
	CHECK(h.mem_total == 16384000ULL * 1024 && h.mem_available == 2048000ULL * 1024,
	      "meminfo values");
	CHECK(h.psi_some == 12.5 && h.psi_full == 2.25, "psi %f %f", h.psi_some, h.psi_full);
	unlink(psi);
	CHECK(vhb_policy_read_host(mi, psi, &h) == 0 && h.meminfo_ok && !h.psi_ok,
	      "no PSI is not an error");
	write_file(mi, "MemTotal: 100 kB\n");
	CHECK(vhb_policy_read_host(mi, NULL, &h) < 0 && !h.meminfo_ok, "no MemAvailable");
	write_file(mi, "MemTotal: junk\nMemAvailable: 5 kB\n");
	CHECK(vhb_policy_read_host(mi, NULL, &h) < 0, "junk");
	unlink(mi);
	CHECK(vhb_policy_read_host(mi, NULL, &h) < 0, "missing meminfo");
	rmdir(dir);
	printf("  host readers on played /proc files: ok\n");
}

int
main(void)
{
	enum vhb_policy_mode m;

	printf("policy decisions (pure, no EAL; no guest memory involved)\n");
	CHECK(vhb_policy_mode_parse("advisory", &m) == 0 && m == VHB_POLICY_ADVISORY, "mode");
	CHECK(vhb_policy_mode_parse("maybe", &m) == -EINVAL, "bad mode");
	test_reclaim_split();
	test_not_squeezed();
	test_pressure();
	test_give_back();
	test_bounds_and_host();
	test_converge();
	test_host_read();
	printf("policy: %d checks passed\n", test_checks);
	return 0;
}
